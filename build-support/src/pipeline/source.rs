//! The pipeline's second stage: where each module's fat binary comes from. The crate's prebuilt
//! folder when it is current, nvcc otherwise, or, in a metadata-only build without nvcc,
//! nowhere; and whether nvcc is needed at all.

use crate::error::{Error, ErrorKind};
use crate::prebuilt::Lookup;
use crate::prebuilt_folder::{Folder, METADATA_ONLY_ENV, Mode, REFRESH_HINT};
use crate::settings::{self, Settings};
use crate::toolkit::Nvcc;

use super::record::{Record, Source, Stale};

/// One record per job: what the folder (if any) offers it, under the build's mode (a refresh
/// builds everything).
pub(super) fn decide(settings: &Settings) -> Vec<Record> {
    settings
        .jobs
        .iter()
        .map(|job| {
            let source = match (&settings.folder, settings.mode) {
                (Some(folder), Mode::Use | Mode::Check) => {
                    match folder.lookup(job, &settings.prebuilt_key(job)) {
                        Lookup::Current(found) => Source::Prebuilt(found),
                        Lookup::Stale { reason, manifest } => Source::Nvcc {
                            stale: Some(Stale { reason, manifest }),
                        },
                        Lookup::Missing => Source::Nvcc {
                            stale: Some(Stale {
                                reason: "the folder has no fat binary for it".to_owned(),
                                manifest: None,
                            }),
                        },
                    }
                }
                _ => Source::Nvcc { stale: None },
            };
            Record {
                job: job.clone(),
                source,
            }
        })
        .collect()
}

/// nvcc, when some module needs it (and nvcc may run); without one, what [`without_nvcc`]
/// decides. A check (`SASSKIT_PREBUILD=check`) first fails on anything stale.
pub(super) fn nvcc_if_needed(
    settings: &Settings,
    records: &mut [Record],
) -> Result<Option<Nvcc>, Error> {
    if settings.mode == Mode::Check {
        check_current(settings, records, settings.find_nvcc().ok().as_ref())?;
    }
    if !records.iter().any(Record::needs_nvcc) {
        return Ok(None);
    }
    let missing = match settings::nvcc_forbidden() {
        Some(forbidden) => forbidden,
        None => match settings.find_nvcc() {
            Ok(nvcc) => return Ok(Some(nvcc)),
            Err(error) if error.is_toolkit() => error,
            Err(error) => return Err(error),
        },
    };
    without_nvcc(settings, records, missing)?;
    Ok(None)
}

/// `SASSKIT_PREBUILD=check`: every module is current, and was built by the nvcc found (if any).
fn check_current(
    settings: &Settings,
    records: &[Record],
    nvcc: Option<&Nvcc>,
) -> Result<(), Error> {
    let mut stale = Vec::new();
    for record in records {
        let module = &record.job.module;
        match &record.source {
            Source::Nvcc {
                stale: Some(Stale { reason, .. }),
            } => {
                stale.push(format!("module `{module}`: {reason}"));
            }
            Source::Prebuilt(found) => {
                if let Some(nvcc) = nvcc.filter(|nvcc| nvcc.version != found.nvcc_version()) {
                    stale.push(format!(
                        "module `{module}`: prebuilt by nvcc {}, and the nvcc here is {}",
                        found.nvcc_version(),
                        nvcc.version
                    ));
                }
            }
            Source::Nvcc { stale: None } | Source::Unavailable { .. } => {}
        }
    }
    if stale.is_empty() {
        return Ok(());
    }
    let folder = settings
        .folder
        .as_ref()
        .map_or_else(String::new, Folder::display);
    Err(Error::new(ErrorKind::Prebuilt(format!(
        "the prebuilt folder `{folder}` is stale:\n  {}\n{REFRESH_HINT}",
        stale.join("\n  ")
    ))))
}

/// One warning per module that nvcc builds although the crate has a prebuilt folder.
pub(super) fn warn_stale(settings: &Settings, records: &[Record]) {
    let Some(folder) = &settings.folder else {
        return;
    };
    for record in records {
        if let Source::Nvcc {
            stale: Some(Stale { reason, .. }),
        } = &record.source
        {
            settings.cargo_output.warning(&format!(
                "the prebuilt fat binary of module `{}` in `{}` is stale ({reason}): building it \
                 with nvcc; {REFRESH_HINT}",
                record.job.module,
                folder.display()
            ));
        }
    }
}

/// With no nvcc: in a metadata-only build, every module that needs one is marked
/// unavailable; otherwise the build fails, naming what made the prebuilt folder stale.
fn without_nvcc(settings: &Settings, records: &mut [Record], missing: Error) -> Result<(), Error> {
    let metadata_only = crate::prebuilt_folder::metadata_only()?;
    let why = missing.to_string();
    let folder = settings.folder.as_ref();
    for record in records.iter_mut() {
        let Source::Nvcc { stale } = &mut record.source else {
            continue;
        };
        let stale = stale.take();
        let module = &record.job.module;
        if metadata_only {
            let prebuilt = match (&stale, folder) {
                (Some(Stale { reason, .. }), Some(folder)) => {
                    format!(
                        "the prebuilt one in `{}` is stale: {reason}",
                        folder.display()
                    )
                }
                _ => "the crate ships no prebuilt one".to_owned(),
            };
            let reason = format!(
                "this was a metadata-only build (docs.rs or {METADATA_ONLY_ENV}=1) with no \
                 fat binary for module `{module}`: no nvcc ({why}), and {prebuilt}",
            );
            settings.cargo_output.warning(&reason);
            record.source = Source::Unavailable {
                stale: stale.and_then(|stale| stale.manifest),
                reason,
            };
            continue;
        }
        let (Some(Stale { reason, .. }), Some(folder)) = (stale, folder) else {
            return Err(missing);
        };
        return Err(Error::new(ErrorKind::Prebuilt(format!(
            "the prebuilt fat binary of module `{module}` in `{}` is stale: {reason}; and there \
             is no nvcc to build it ({why}). Either {REFRESH_HINT}, or install the CUDA toolkit \
             here",
            folder.display()
        ))));
    }
    Ok(())
}
