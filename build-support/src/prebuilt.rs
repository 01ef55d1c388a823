//! A crate's prebuilt fat binaries: built once by the crate's author, shipped in the crate, and
//! used by every build whose inputs are still the ones they were built from, with no nvcc.
//!
//! The folder (`Build::prebuilt`, or `prebuilt = "…"` in `[package.metadata.sasskit]`) holds,
//! per module, `<module>.fatbin` (compressed, `--compress-mode=size`) and `<module>.toml`: the
//! manifest with the module's [`PrebuiltInputs`]: the build settings and the SHA-256 of the
//! `.cu` file and of every header it includes from the crate, with paths relative to the crate.
//! Toolkit and system headers are not recorded: the nvcc release in the manifest stands for the
//! toolkit's.
//!
//! | `SASSKIT_PREBUILD` | what the build does |
//! | --- | --- |
//! | unset | current prebuilt → used, no nvcc; stale → built with nvcc and a warning, or without nvcc an error naming the first changed input |
//! | `refresh` | builds every module with nvcc and rewrites the folder, printing the sizes |
//! | `check` | fails unless every module is current (and built by the nvcc found, if any) |
//! | `off` | ignores the folder: nvcc builds every module, as if there were none |
//!
//! `refresh=<package>,…` and `check=<package>,…` apply to the named packages only (others use
//! their folders as usual), which `cargo sasskit prebuild` passes so that dependencies with
//! prebuilt folders of their own are never rewritten.

use std::path::{Path, PathBuf};

use sasskit_core::manifest::{MAX_MANIFEST_SIZE, Manifest, Origin};
use sasskit_core::out_dir;

use crate::error::{Error, ErrorKind};
use crate::job::{Compiled, Job};
use crate::prebuilt_folder::{Folder, REFRESH_HINT, relative};
use crate::shared::Registry;
use crate::{crosscheck, fs, verify};

/// What the folder offers one module.
#[derive(Debug)]
pub(crate) enum Lookup {
    /// Built from exactly the crate's current inputs and settings.
    Current(Box<Found>),
    /// There, but built from something else: the first difference, for messages.
    Stale {
        reason: String,
        /// The stale manifest, when it could be read: its signatures still serve a
        /// metadata-only build.
        manifest: Option<Box<Manifest>>,
    },
    /// Not there at all.
    Missing,
}

/// A current prebuilt module.
#[derive(Debug)]
pub(crate) struct Found {
    manifest: Manifest,
    fatbin: Vec<u8>,
    /// The recorded inputs, absolute, for cargo's rerun lines.
    inputs: Vec<PathBuf>,
}

impl Found {
    /// The nvcc release that built it.
    pub(crate) fn nvcc_version(&self) -> &str {
        &self.manifest.toolkit.version
    }
}

impl Folder {
    /// What the folder holds for `job`, built with `settings`.
    pub(crate) fn lookup(&self, job: &Job, settings: &[String]) -> Lookup {
        let manifest_path = self.dir.join(out_dir::manifest_file(&job.module));
        let stale = |reason: String, manifest: Option<Manifest>| Lookup::Stale {
            reason,
            manifest: manifest.map(Box::new),
        };
        // Checked before reading: a corrupt or crafted manifest never reaches the TOML parser.
        let text = match fs::read_at_most(&manifest_path, MAX_MANIFEST_SIZE as u64) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(_) => return Lookup::Missing,
            },
            Err(error) if error.kind() == std::io::ErrorKind::FileTooLarge => {
                crate::cargo_output::rerun_if_changed(&manifest_path);
                return stale(
                    format!(
                        "its manifest `{}` cannot be read: {error}",
                        manifest_path.display()
                    ),
                    None,
                );
            }
            Err(_) => return Lookup::Missing,
        };
        crate::cargo_output::rerun_if_changed(&manifest_path);
        let manifest = match Manifest::from_toml(&text) {
            Ok(manifest) => manifest,
            Err(error) => {
                return stale(
                    format!(
                        "its manifest `{}` cannot be read: {error}",
                        manifest_path.display()
                    ),
                    None,
                );
            }
        };
        let Some(recorded) = manifest.prebuilt.clone() else {
            return stale(
                format!(
                    "its manifest `{}` records no inputs",
                    manifest_path.display()
                ),
                None,
            );
        };
        let inputs = match self.current_inputs(&recorded, settings) {
            Ok(inputs) => inputs,
            Err(reason) => return stale(reason, Some(manifest)),
        };
        let fatbin_path = self.dir.join(&manifest.module.fatbin);
        crate::cargo_output::rerun_if_changed(&fatbin_path);
        match fs::read_at_most(&fatbin_path, fs::MAX_FATBIN_FILE) {
            Ok(fatbin) => Lookup::Current(Box::new(Found {
                manifest,
                fatbin,
                inputs,
            })),
            Err(error) => stale(
                format!(
                    "its fat binary `{}` cannot be read: {error}",
                    fatbin_path.display()
                ),
                None,
            ),
        }
    }

    /// Verifies a current prebuilt module like any fat binary (parser, every target, kernels
    /// against the cubins) and installs it as this build's output.
    pub(crate) fn install(
        &self,
        job: &Job,
        found: Found,
        shared: &Registry,
        reading: crosscheck::Reading,
        out: &Path,
    ) -> Result<Compiled, Error> {
        let Found {
            mut manifest,
            fatbin,
            inputs,
        } = found;
        let what = format!(
            "the prebuilt `{}/{}`",
            self.display(),
            manifest.module.fatbin
        );
        let parsed = verify::verify(&fatbin, &job.targets, &what)
            .map_err(|error| Error::new(ErrorKind::Verify(format!("{error}; {REFRESH_HINT}"))))?;
        crosscheck::check(&parsed, &manifest.kernels, shared, reading, &what)?;
        self.rebase(&mut manifest);
        manifest.module.source = job.source.display().to_string();
        manifest.module.origin = Origin::Prebuilt;
        manifest.module.fatbin = out_dir::fatbin_file(&job.module);
        manifest.families = job.families.clone();
        let fatbin_path = out.join(out_dir::fatbin_file(&job.module));
        let manifest_path = out.join(out_dir::manifest_file(&job.module));
        fs::write_atomic(&fatbin_path, &fatbin)?;
        fs::write_atomic(&manifest_path, manifest.to_toml().as_bytes())?;
        Ok(Compiled {
            manifest,
            fatbin_path,
            manifest_path,
            inputs,
            warnings: Vec::new(),
        })
    }

    /// Writes the output of a metadata-only build for a module that has no fat binary: an
    /// empty one, and a manifest that says why, with the stale prebuilt manifest's kernels when
    /// there is one, so that the wrappers are still generated and documented.
    pub(crate) fn unavailable(
        folder: Option<&Folder>,
        job: &Job,
        stale: Option<Manifest>,
        reason: String,
        out: &Path,
    ) -> Result<Compiled, Error> {
        let mut manifest = stale.unwrap_or_else(|| empty_manifest(job));
        if let Some(folder) = folder {
            folder.rebase(&mut manifest);
        }
        manifest.module.source = job.source.display().to_string();
        manifest.module.origin = Origin::Unavailable;
        manifest.module.unavailable = Some(reason);
        manifest.module.fatbin = out_dir::fatbin_file(&job.module);
        manifest.images.clear();
        manifest.prebuilt = None;
        manifest.families = job.families.clone();
        let fatbin_path = out.join(out_dir::fatbin_file(&job.module));
        let manifest_path = out.join(out_dir::manifest_file(&job.module));
        fs::write_atomic(&fatbin_path, &[])?;
        fs::write_atomic(&manifest_path, manifest.to_toml().as_bytes())?;
        Ok(Compiled {
            manifest,
            fatbin_path,
            manifest_path,
            inputs: vec![job.source.clone()],
            warnings: Vec::new(),
        })
    }

    /// Writes `compiled` (built by nvcc with `--compress-mode=size`) into the folder, with its
    /// inputs: the files it read that belong to the crate (under the crate's folder, the
    /// source's folder or an include folder of the build, not under `excluded`). Returns the
    /// size of the fat binary.
    pub(crate) fn write(
        &self,
        compiled: &Compiled,
        settings: &[String],
        owned: &[PathBuf],
        excluded: &[PathBuf],
    ) -> Result<u64, Error> {
        fs::create_dir_all(&self.dir)?;
        let recorded = self.record_inputs(&compiled.inputs, settings, owned, excluded)?;
        let mut manifest = compiled.manifest.clone();
        self.make_relative(&mut manifest);
        manifest.module.origin = Origin::Prebuilt;
        manifest.module.cache = sasskit_core::manifest::CacheStatus::Off;
        "nvcc".clone_into(&mut manifest.toolkit.nvcc);
        manifest.prebuilt = Some(recorded);
        let bytes = fs::read(&compiled.fatbin_path)?;
        fs::write_atomic(&self.dir.join(&manifest.module.fatbin), &bytes)?;
        fs::write_atomic(
            &self.dir.join(out_dir::manifest_file(&manifest.module.name)),
            manifest.to_toml().as_bytes(),
        )?;
        Ok(bytes.len() as u64)
    }

    /// Paths of the crate as recorded in the folder: relative to the crate's folder.
    fn make_relative(&self, manifest: &mut Manifest) {
        let root = self.crate_root();
        let relative = |path: &str| relative(Path::new(path), root).unwrap_or_else(|| path.into());
        manifest.module.source = relative(&manifest.module.source);
        for kernel in &mut manifest.kernels {
            kernel.file = relative(&kernel.file);
        }
        for ty in &mut manifest.types {
            ty.header = relative(&ty.header);
        }
    }

    /// Recorded paths made absolute again, under this build's crate folder.
    fn rebase(&self, manifest: &mut Manifest) {
        let root = self.crate_root();
        let absolute = |path: &str| {
            if Path::new(path).is_absolute() {
                path.to_owned()
            } else {
                root.join(path).display().to_string()
            }
        };
        for kernel in &mut manifest.kernels {
            kernel.file = absolute(&kernel.file);
        }
        for ty in &mut manifest.types {
            ty.header = absolute(&ty.header);
        }
    }
}

/// The manifest of a module with no kernels known: a metadata-only build with no prebuilt
/// manifest to take signatures from.
fn empty_manifest(job: &Job) -> Manifest {
    Manifest {
        format: sasskit_core::manifest::FORMAT,
        module: sasskit_core::manifest::ModuleInfo {
            name: job.module.clone(),
            source: job.source.display().to_string(),
            fatbin: out_dir::fatbin_file(&job.module),
            targets: crate::config::names(&job.targets),
            build_key: "unknown".to_owned(),
            cache: sasskit_core::manifest::CacheStatus::Off,
            front_end: None,
            origin: Origin::Unavailable,
            unavailable: None,
        },
        toolkit: sasskit_core::manifest::ToolkitInfo {
            nvcc: "none".to_owned(),
            version: "unknown".to_owned(),
            flags: Vec::new(),
        },
        images: Vec::new(),
        kernels: Vec::new(),
        types: Vec::new(),
        prebuilt: None,
        families: job.families.clone(),
    }
}
