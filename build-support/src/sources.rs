//! Where each module's fat binary comes from: the crate's prebuilt folder when it is current,
//! nvcc otherwise, or, in a metadata-only build without nvcc, nowhere.

use std::path::Path;

use sasskit_core::manifest::Manifest;

use crate::cargo_output::CargoOutput;
use crate::compile::{Compiled, Job};
use crate::crosscheck::Reading;
use crate::error::{Error, ErrorKind};
use crate::prebuilt::{Folder, Found, Lookup, METADATA_ONLY_ENV, Mode, REFRESH_HINT};
use crate::shared::Registry;
use crate::toolkit::Nvcc;

/// Where one module's fat binary comes from.
#[derive(Debug)]
pub(crate) enum Decision {
    /// The crate's prebuilt folder, current.
    Prebuilt(Box<Found>),
    /// nvcc, with why the prebuilt one was not used when there is a prebuilt folder.
    Build(Option<(String, Option<Box<Manifest>>)>),
    /// Nowhere: a metadata-only build without nvcc.
    Unavailable {
        stale: Option<Box<Manifest>>,
        reason: String,
    },
}

/// `SASSKIT_PREBUILD=check`: every module is current, and was built by the nvcc found (if any).
pub(crate) fn check_current(
    jobs: &[Job],
    decisions: &[Decision],
    folder: Option<&Folder>,
    nvcc: Option<&Nvcc>,
) -> Result<(), Error> {
    let mut stale = Vec::new();
    for (job, decision) in jobs.iter().zip(decisions) {
        match decision {
            Decision::Build(Some((reason, _))) => {
                stale.push(format!("module `{}`: {reason}", job.module));
            }
            Decision::Prebuilt(found) => {
                if let Some(nvcc) = nvcc.filter(|nvcc| nvcc.version != found.nvcc_version()) {
                    stale.push(format!(
                        "module `{}`: prebuilt by nvcc {}, and the nvcc here is {}",
                        job.module,
                        found.nvcc_version(),
                        nvcc.version
                    ));
                }
            }
            Decision::Build(None) | Decision::Unavailable { .. } => {}
        }
    }
    if stale.is_empty() {
        return Ok(());
    }
    let folder = folder.map_or_else(String::new, Folder::display);
    Err(Error::new(ErrorKind::Prebuilt(format!(
        "the prebuilt folder `{folder}` is stale:\n  {}\n{REFRESH_HINT}",
        stale.join("\n  ")
    ))))
}

/// A decision and the outputs got out of step: a sasskit bug.
fn unreachable_prebuilt() -> Result<Compiled, Error> {
    Err(Error::internal("a module was neither prebuilt nor built"))
}

/// What the folder (if any) offers each job, under `mode`: a refresh builds everything.
pub(crate) fn decide(
    jobs: &[Job],
    settings: &[Vec<String>],
    folder: Option<&Folder>,
    mode: Mode,
) -> Vec<Decision> {
    jobs.iter()
        .zip(settings)
        .map(|(job, settings)| match (folder, mode) {
            (Some(folder), Mode::Use | Mode::Check) => match folder.lookup(job, settings) {
                Lookup::Current(found) => Decision::Prebuilt(found),
                Lookup::Stale { reason, manifest } => Decision::Build(Some((reason, manifest))),
                Lookup::Missing => Decision::Build(Some((
                    "the folder has no fat binary for it".to_owned(),
                    None,
                ))),
            },
            _ => Decision::Build(None),
        })
        .collect()
}

/// One warning per module that nvcc builds although the crate has a prebuilt folder.
pub(crate) fn warn_stale(
    cargo_output: CargoOutput,
    jobs: &[Job],
    decisions: &[Decision],
    folder: Option<&Folder>,
) {
    let Some(folder) = folder else {
        return;
    };
    for (job, decision) in jobs.iter().zip(decisions) {
        if let Decision::Build(Some((reason, _))) = decision {
            cargo_output.warning(&format!(
                "the prebuilt fat binary of module `{}` in `{}` is stale ({reason}): building it \
                 with nvcc; {REFRESH_HINT}",
                job.module,
                folder.display()
            ));
        }
    }
}

/// The output of one job: installed from the folder, an unavailable placeholder, or the next of
/// the modules nvcc built (in job order).
pub(crate) fn output(
    job: &Job,
    decision: Decision,
    built: &mut impl Iterator<Item = Compiled>,
    folder: Option<&Folder>,
    shared: &Registry,
    reading: Reading,
    out_dir: &Path,
) -> Result<Compiled, Error> {
    match (decision, folder) {
        (Decision::Prebuilt(found), Some(folder)) => {
            folder.install(job, *found, shared, reading, out_dir)
        }
        (Decision::Unavailable { stale, reason }, _) => Folder::unavailable(
            folder,
            job,
            stale.map(|manifest| *manifest),
            reason,
            out_dir,
        ),
        (Decision::Build(_), _) => built.next().map_or_else(unreachable_prebuilt, Ok),
        (Decision::Prebuilt(_), None) => unreachable_prebuilt(),
    }
}

/// With no nvcc: in a metadata-only build, every module that needs one is marked
/// unavailable; otherwise the build fails, naming what made the prebuilt folder stale.
pub(crate) fn without_nvcc(
    cargo_output: CargoOutput,
    jobs: &[Job],
    decisions: &mut [Decision],
    folder: Option<&Folder>,
    missing: Error,
) -> Result<(), Error> {
    let metadata_only = crate::prebuilt::metadata_only()?;
    let why = missing.to_string();
    for (job, decision) in jobs.iter().zip(decisions.iter_mut()) {
        let Decision::Build(stale) = decision else {
            continue;
        };
        let stale = stale.take();
        if metadata_only {
            let prebuilt = match (&stale, folder) {
                (Some((reason, _)), Some(folder)) => {
                    format!(
                        "the prebuilt one in `{}` is stale: {reason}",
                        folder.display()
                    )
                }
                _ => "the crate ships no prebuilt one".to_owned(),
            };
            let reason = format!(
                "this was a metadata-only build (docs.rs or {METADATA_ONLY_ENV}=1) with no \
                 fat binary for module `{}`: no nvcc ({why}), and {prebuilt}",
                job.module
            );
            cargo_output.warning(&reason);
            *decision = Decision::Unavailable {
                stale: stale.and_then(|(_, manifest)| manifest),
                reason,
            };
            continue;
        }
        let (Some((reason, _)), Some(folder)) = (stale, folder) else {
            return Err(missing);
        };
        return Err(Error::new(ErrorKind::Prebuilt(format!(
            "the prebuilt fat binary of module `{}` in `{}` is stale: {reason}; and there is \
             no nvcc to build it ({why}). Either {REFRESH_HINT}, or install the CUDA \
             toolkit here",
            job.module,
            folder.display()
        ))));
    }
    Ok(())
}
