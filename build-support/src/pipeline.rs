//! A build of fat binaries, as one pipeline that carries one [`Record`] per module through its
//! stages:
//!
//! 1. plan: [`Settings::resolve`] gives the jobs, one per `.cu` file with its targets;
//! 2. source ([`source`]): per module, the crate's prebuilt folder when it is current, else
//!    nvcc, else (a metadata-only build without nvcc) nowhere; nvcc found when some module
//!    needs it;
//! 3. produce ([`schedule`]): every module's fat binary, in parallel: nvcc's prepared,
//!    compiled per target, merged, verified and cross-checked (`compile`); a prebuilt one
//!    verified and installed;
//! 4. outputs: a refresh writes the prebuilt folder; every module's rerun lines and warnings,
//!    and the [`Output`].
//!
//! Each stage takes the records the stage before it gave, so a module's job, source and output
//! never travel in separate lists.

mod record;
mod schedule;
mod source;

use std::path::{Path, PathBuf};

use sasskit_core::family::FamilySettings;
use sasskit_core::kernel::KernelSignature;
use sasskit_core::manifest::{Manifest, Origin};

use crate::cargo_output;
use crate::compile::Session;
use crate::error::Error;
use crate::job::Job;
use crate::prebuilt_folder::{self, Folder, Mode};
use crate::settings::Settings;

use self::schedule::Produced;

/// What a successful build produced.
#[derive(Debug, Clone)]
pub struct Output {
    modules: Vec<Module>,
}

/// One compiled `.cu` file.
#[derive(Debug, Clone)]
pub struct Module {
    manifest: Manifest,
    fatbin: PathBuf,
    manifest_path: PathBuf,
    warnings: Vec<String>,
}

/// Runs the build that `settings` describe.
pub(crate) fn run(settings: &Settings) -> Result<Output, Error> {
    let mut records = source::decide(settings);
    let nvcc = source::nvcc_if_needed(settings, &mut records)?;
    source::warn_stale(settings, &records);
    let for_prebuilt = settings.mode == Mode::Refresh;
    let session = match nvcc {
        Some(nvcc) => {
            let jobs: Vec<&Job> = records
                .iter()
                .filter(|record| record.needs_nvcc())
                .map(|record| &record.job)
                .collect();
            Some(Session::new(settings, nvcc, &jobs, for_prebuilt)?)
        }
        None => None,
    };
    let produced = schedule::produce_all(settings, session.as_ref(), records)?;
    if let (true, Some(folder)) = (for_prebuilt, &settings.folder) {
        refresh(settings, folder, &produced)?;
    }
    let mut modules = Vec::with_capacity(produced.len());
    for Produced { compiled, .. } in produced {
        for input in &compiled.inputs {
            cargo_output::rerun_if_changed(input);
        }
        for warning in &compiled.warnings {
            settings.cargo_output.warning(warning);
        }
        modules.push(Module {
            manifest: compiled.manifest,
            fatbin: compiled.fatbin_path,
            manifest_path: compiled.manifest_path,
            warnings: compiled.warnings,
        });
    }
    if let Some(job) = settings.jobs.first() {
        for warning in unmatched_families(&job.families, &modules) {
            settings.cargo_output.warning(&warning);
        }
    }
    Ok(Output { modules })
}

/// Rewrites the prebuilt folder from what nvcc just built, and prints the sizes.
fn refresh(settings: &Settings, folder: &Folder, produced: &[Produced]) -> Result<(), Error> {
    let built: Vec<&Produced> = produced
        .iter()
        .filter(|produced| produced.compiled.manifest.module.origin == Origin::Built)
        .collect();
    let nvcc = built
        .first()
        .map(|produced| produced.compiled.manifest.toolkit.nvcc.clone());
    let toolkit = nvcc
        .as_deref()
        .and_then(|nvcc| Path::new(nvcc).parent()?.parent());
    let (owned, excluded) = settings.crate_files(toolkit);
    let mut sizes = Vec::new();
    for Produced { job, compiled } in built {
        let size = folder.write(compiled, &settings.prebuilt_key(job), &owned, &excluded)?;
        sizes.push((job.module.clone(), size));
    }
    for line in prebuilt_folder::size_report(folder, &sizes) {
        settings.cargo_output.warning(&line);
    }
    Ok(())
}

/// A warning for each family declared with `Build::kernel_family` whose pattern matches no
/// kernel of any module: a typo, or a kernel that was renamed.
fn unmatched_families(settings: &FamilySettings, modules: &[Module]) -> Vec<String> {
    // A metadata-only build may not know a module's kernels: no warning then.
    if modules
        .iter()
        .any(|module| module.manifest.module.origin == Origin::Unavailable)
    {
        return Vec::new();
    }
    settings
        .declared
        .iter()
        .filter(|family| {
            !modules.iter().any(|module| {
                module
                    .manifest
                    .kernels
                    .iter()
                    .any(|kernel| family.pattern.match_name(&kernel.name).is_some())
            })
        })
        .map(|family| {
            format!(
                "the kernel family `{}` (`Build::kernel_family`) matches no kernel: no kernel \
                 name fits `{}`, where each `{{}}` stands for an element type such as `f32`",
                family.name, family.pattern
            )
        })
        .collect()
}

impl Output {
    /// The compiled modules, in the order the files were added.
    pub fn modules(&self) -> &[Module] {
        &self.modules
    }
}

impl Module {
    /// The module name, which `sasskit::kernels!` takes.
    pub fn name(&self) -> &str {
        &self.manifest.module.name
    }

    /// The fat binary.
    pub fn fatbin(&self) -> &Path {
        &self.fatbin
    }

    /// The manifest file.
    pub fn manifest_path(&self) -> &Path {
        &self.manifest_path
    }

    /// The manifest's contents.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The `extern "C"` kernels found in the source; those without a typed wrapper have
    /// [`KernelSignature::untyped`] set.
    pub fn kernels(&self) -> &[KernelSignature] {
        &self.manifest.kernels
    }

    /// The warnings the build printed for this file (`cargo:warning`): kernels without a typed
    /// wrapper and why, nvcc's own warnings.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}
