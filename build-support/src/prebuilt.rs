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

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use sasskit_core::manifest::{MAX_MANIFEST_SIZE, Manifest, Origin, PrebuiltInput, PrebuiltInputs};
use sasskit_core::out_dir;
use sha2::{Digest, Sha256};

use crate::compile::{Compiled, Job};
use crate::config::Metadata;
use crate::error::{Error, ErrorKind};
use crate::shared::Registry;
use crate::{crosscheck, env, fs, verify};

/// `refresh` or `check` (optionally `=<package>,…`): rewrite the crate's prebuilt folder, or fail
/// when it is stale; `off`: ignore it and build with nvcc.
pub const PREBUILD_ENV: &str = "SASSKIT_PREBUILD";

/// Set to `1` for a metadata-only build (`DOCS_RS` implies it): with no nvcc and no current
/// prebuilt fat binary, the build still succeeds and the wrappers are generated, but loading the
/// module is an error.
pub const METADATA_ONLY_ENV: &str = "SASSKIT_METADATA_ONLY";

/// How to make a stale folder current again.
pub(crate) const REFRESH_HINT: &str = "refresh the folder on a machine with nvcc: `cargo sasskit \
     prebuild` (`cargo install cargo-sasskit`), or `SASSKIT_PREBUILD=refresh cargo build`";

/// crates.io refuses `.crate` files larger than this.
const CRATES_IO_LIMIT: u64 = 10 * 1024 * 1024;

/// What the build does with the prebuilt folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Use what is current; build what is not.
    Use,
    /// Build everything with nvcc and rewrite the folder.
    Refresh,
    /// Fail unless everything is current.
    Check,
    /// Ignore the folder: build everything with nvcc, write nothing to it.
    Off,
}

impl Mode {
    /// The mode `SASSKIT_PREBUILD` asks of the package `package`.
    pub(crate) fn from_env(package: Option<&str>) -> Result<Mode, Error> {
        match env::tracked(PREBUILD_ENV) {
            None => Ok(Mode::Use),
            Some(value) => Mode::parse(&value.to_string_lossy(), package),
        }
    }

    /// `refresh`, `check`, or either `=<package>,…`, for the package `package`: a mode that
    /// names other packages leaves this one in [`Mode::Use`].
    fn parse(text: &str, package: Option<&str>) -> Result<Mode, Error> {
        let (mode, packages) = match text.split_once('=') {
            Some((mode, packages)) => (mode, Some(packages)),
            None => (text, None),
        };
        let mode = match mode {
            "refresh" => Mode::Refresh,
            "check" => Mode::Check,
            "off" => Mode::Off,
            _ => {
                return Err(Error::config(format!(
                    "`{PREBUILD_ENV}={text}` is not `refresh`, `check` or `off` (optionally \
                     `=<package>,…`)"
                )));
            }
        };
        let applies = packages
            .is_none_or(|packages| packages.split(',').any(|name| Some(name.trim()) == package));
        Ok(if applies { mode } else { Mode::Use })
    }
}

/// Whether this is a metadata-only build: `DOCS_RS` is set, or `SASSKIT_METADATA_ONLY=1`.
pub(crate) fn metadata_only() -> Result<bool, Error> {
    if env::tracked("DOCS_RS").is_some() {
        return Ok(true);
    }
    crate::plan::switch_from_env(METADATA_ONLY_ENV)
}

/// Whether nvcc may run at all: not on docs.rs, whose builds have no toolkit and should not
/// spend minutes on one.
pub(crate) fn nvcc_allowed() -> bool {
    env::cargo("DOCS_RS").is_none()
}

/// The crate's prebuilt folder.
#[derive(Debug, Clone)]
pub(crate) struct Folder {
    /// The folder, absolute.
    pub(crate) dir: PathBuf,
    /// The crate's folder (with `Cargo.toml`), which recorded paths are relative to.
    crate_root: PathBuf,
}

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
    /// The folder the builder names (relative to the crate), else `prebuilt` in the metadata.
    pub(crate) fn configured(
        builder: Option<&Path>,
        metadata: &Metadata,
        manifest_dir: Option<&Path>,
    ) -> Result<Option<Folder>, Error> {
        let configured = match builder {
            Some(dir) => Some(dir.to_owned()),
            None => metadata.prebuilt_dir()?,
        };
        let Some(dir) = configured else {
            return Ok(None);
        };
        let Some(crate_root) = manifest_dir else {
            return Err(Error::config(
                "a prebuilt folder needs the crate's folder: build from a build script \
                 (`CARGO_MANIFEST_DIR`) or set `Build::manifest_dir`",
            ));
        };
        Ok(Some(Folder {
            dir: crate_root.join(dir),
            crate_root: crate_root.to_owned(),
        }))
    }

    /// The crate's folder, which recorded paths are relative to.
    pub(crate) fn crate_root(&self) -> &Path {
        &self.crate_root
    }

    /// The folder as the crate names it, for messages: `kernels/prebuilt`.
    pub(crate) fn display(&self) -> String {
        relative(&self.dir, &self.crate_root).unwrap_or_else(|| self.dir.display().to_string())
    }

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

    /// The recorded inputs, absolute, when `settings` and every recorded file are still what
    /// they were; else the first difference, for people.
    pub(crate) fn current_inputs(
        &self,
        recorded: &PrebuiltInputs,
        settings: &[String],
    ) -> Result<Vec<PathBuf>, String> {
        if let Some(reason) = settings_change(&recorded.settings, settings) {
            return Err(reason);
        }
        let mut inputs = Vec::with_capacity(recorded.inputs.len());
        for input in &recorded.inputs {
            let path = self.crate_root.join(&input.path);
            crate::cargo_output::rerun_if_changed(&path);
            match std::fs::read(&path) {
                Ok(bytes) if sha256(&bytes) == input.sha256 => inputs.push(path),
                Ok(_) => return Err(format!("`{}` changed since it was prebuilt", input.path)),
                Err(_) => {
                    return Err(format!("`{}`, one of its inputs, is missing", input.path));
                }
            }
        }
        Ok(inputs)
    }

    /// The inputs to record for an output built with `settings` from the files `read`: those
    /// that belong to the crate (under the crate's folder, the source's folder or an include
    /// folder of the build, not under `excluded`), relative to the crate, with their SHA-256.
    pub(crate) fn record_inputs(
        &self,
        read: &[PathBuf],
        settings: &[String],
        owned: &[PathBuf],
        excluded: &[PathBuf],
    ) -> Result<PrebuiltInputs, Error> {
        let mut inputs: Vec<PrebuiltInput> = Vec::new();
        for path in read {
            let Ok(path) = path.canonicalize() else {
                continue;
            };
            let path = &path;
            let belongs = owned.iter().any(|root| path.starts_with(root))
                && !excluded.iter().any(|root| path.starts_with(root));
            if !belongs {
                continue;
            }
            let Some(relative) = relative(path, &self.crate_root) else {
                continue;
            };
            if inputs.iter().any(|input| input.path == relative) {
                continue;
            }
            let bytes = fs::read(path)?;
            inputs.push(PrebuiltInput {
                path: relative,
                sha256: sha256(&bytes),
            });
        }
        Ok(PrebuiltInputs {
            source_key: source_key(settings, &inputs),
            settings: settings.to_vec(),
            inputs,
        })
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
        let root = &self.crate_root;
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
        let root = &self.crate_root;
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

/// The size lines a refresh prints: one per module, the total, and a warning when the folder
/// alone would take a `.crate` past crates.io's limit.
pub(crate) fn size_report(folder: &Folder, sizes: &[(String, u64)]) -> Vec<String> {
    let total: u64 = sizes.iter().map(|(_, size)| size).sum();
    let mut lines = Vec::new();
    let mut line = format!("prebuilt `{}` refreshed:", folder.display());
    for (module, size) in sizes {
        let _ = write!(line, " {module} {}", Size(*size));
        line.push(',');
    }
    let _ = write!(line, " total {}", Size(total));
    lines.push(line);
    if total > CRATES_IO_LIMIT {
        lines.push(format!(
            "the prebuilt fat binaries take {}, more than the {} crates.io accepts for a whole \
             `.crate` (they are compressed already): build fewer targets \
             (`[package.metadata.sasskit] archs`), or split the kernels over several crates",
            Size(total),
            Size(CRATES_IO_LIMIT)
        ));
    }
    lines
}

/// `12.3 KiB`, `4.20 MiB`.
struct Size(u64);

impl std::fmt::Display for Size {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        #[allow(clippy::cast_precision_loss)] // Sizes for people, not arithmetic.
        let bytes = self.0 as f64;
        if bytes < 1024.0 * 1024.0 {
            write!(f, "{:.1} KiB", bytes / 1024.0)
        } else {
            write!(f, "{:.2} MiB", bytes / (1024.0 * 1024.0))
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

/// The first setting that differs, said for people.
fn settings_change(recorded: &[String], current: &[String]) -> Option<String> {
    if recorded == current {
        return None;
    }
    let first = recorded
        .iter()
        .zip(current)
        .find(|(was, now)| was != now)
        .map(|(was, now)| format!("the build setting `{was}` is now `{now}`"));
    Some(first.unwrap_or_else(|| {
        format!(
            "the build settings changed: prebuilt with [{}], now [{}]",
            recorded.join(", "),
            current.join(", ")
        )
    }))
}

/// A hash over the settings and the inputs, in order.
fn source_key(settings: &[String], inputs: &[PrebuiltInput]) -> String {
    let mut hasher = Sha256::new();
    for setting in settings {
        hasher.update(b"setting\0");
        hasher.update(setting.as_bytes());
        hasher.update(b"\0");
    }
    for input in inputs {
        hasher.update(b"input\0");
        hasher.update(input.path.as_bytes());
        hasher.update(b"\0");
        hasher.update(input.sha256.as_bytes());
        hasher.update(b"\0");
    }
    hex(&hasher.finalize())
}

fn sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(text, "{byte:02x}");
    }
    text
}

/// `path` relative to `base`, with `/` and `..` where needed (both are resolved first, so
/// `crate/../kernels/a.cu` from `crate` is `../kernels/a.cu`); `None` when one does not exist
/// or they share no root.
pub(crate) fn relative(path: &Path, base: &Path) -> Option<String> {
    let path = path.canonicalize().ok()?;
    let base = base.canonicalize().ok()?;
    let path: Vec<Component<'_>> = path.components().collect();
    let base: Vec<Component<'_>> = base.components().collect();
    let common = path.iter().zip(&base).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return None;
    }
    let mut parts: Vec<String> = vec!["..".to_owned(); base.len() - common];
    for component in &path[common..] {
        parts.push(component.as_os_str().to_str()?.to_owned());
    }
    Some(if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_relative_to_the_crate_also_outside_it() {
        let root = std::env::temp_dir().join(format!("sasskit-relative-{}", std::process::id()));
        std::fs::create_dir_all(root.join("crate/src")).unwrap();
        std::fs::create_dir_all(root.join("kernels")).unwrap();
        std::fs::write(root.join("kernels/a.cu"), "").unwrap();
        std::fs::write(root.join("crate/src/b.cuh"), "").unwrap();
        let crate_dir = root.join("crate");
        assert_eq!(
            relative(&crate_dir.join("../kernels/a.cu"), &crate_dir).as_deref(),
            Some("../kernels/a.cu")
        );
        assert_eq!(
            relative(&crate_dir.join("src/b.cuh"), &crate_dir).as_deref(),
            Some("src/b.cuh")
        );
        assert_eq!(relative(&crate_dir.join("missing.cu"), &crate_dir), None);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn the_first_changed_setting_is_named() {
        let was = ["targets=sm_90,sm_100".to_owned(), "flag=-O3".to_owned()];
        let now = ["targets=sm_90,sm_100".to_owned(), "flag=-O2".to_owned()];
        assert_eq!(settings_change(&was, &was), None);
        assert_eq!(
            settings_change(&was, &now).as_deref(),
            Some("the build setting `flag=-O3` is now `flag=-O2`")
        );
        assert!(
            settings_change(&was, &was[..1])
                .unwrap()
                .starts_with("the build settings changed: prebuilt with [")
        );
    }

    #[test]
    fn the_source_key_covers_settings_paths_and_bytes() {
        let input = |path: &str, sha: &str| PrebuiltInput {
            path: path.into(),
            sha256: sha.into(),
        };
        let settings = ["targets=sm_90".to_owned()];
        let base = source_key(&settings, &[input("a.cu", "01")]);
        assert_eq!(base, source_key(&settings, &[input("a.cu", "01")]));
        assert_ne!(base, source_key(&settings, &[input("a.cu", "02")]));
        assert_ne!(base, source_key(&settings, &[input("b.cu", "01")]));
        assert_ne!(base, source_key(&[], &[input("a.cu", "01")]));
    }

    #[test]
    fn the_mode_applies_to_the_packages_it_names() {
        assert_eq!(Mode::parse("refresh", Some("a")).unwrap(), Mode::Refresh);
        assert_eq!(Mode::parse("check", None).unwrap(), Mode::Check);
        assert_eq!(
            Mode::parse("refresh=a,b", Some("b")).unwrap(),
            Mode::Refresh
        );
        assert_eq!(Mode::parse("check=a,b", Some("c")).unwrap(), Mode::Use);
        let error = Mode::parse("rebuild", Some("a")).unwrap_err().to_string();
        assert!(
            error.contains("is not `refresh`, `check` or `off`"),
            "{error}"
        );
        assert_eq!(Mode::parse("off", Some("a")).unwrap(), Mode::Off);
    }

    #[test]
    fn sizes_are_reported_and_the_crates_io_limit_warned_about() {
        let folder = Folder {
            dir: PathBuf::from("/nonexistent/crate/prebuilt"),
            crate_root: PathBuf::from("/nonexistent/crate"),
        };
        let small = size_report(&folder, &[("a".into(), 2048), ("b".into(), 1024)]);
        assert_eq!(small.len(), 1);
        assert!(
            small[0].ends_with("a 2.0 KiB, b 1.0 KiB, total 3.0 KiB"),
            "{small:?}"
        );
        let large = size_report(&folder, &[("a".into(), 11 * 1024 * 1024)]);
        assert_eq!(large.len(), 2);
        assert!(
            large[1].contains("11.00 MiB, more than the 10.00 MiB"),
            "{large:?}"
        );
    }
}
