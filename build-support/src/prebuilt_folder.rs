//! The crate's prebuilt folder as every kind of output uses it: where it is, what
//! `SASSKIT_PREBUILD` asks of it, and the source key of an output (its settings and the SHA-256
//! of the crate files it was built from), compared without nvcc and recorded on refresh. The
//! modules' fat binaries (`prebuilt`), a static library (`library::prebuilt`) and a shared
//! header's bindings (`shared::prebuilt`) build on it; it depends on none of them.

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use sasskit_core::manifest::{PrebuiltInput, PrebuiltInputs};
use sha2::{Digest, Sha256};

use crate::config::Metadata;
use crate::error::Error;
use crate::{env, fs};

/// `refresh` or `check` (optionally `=<package>,…`): rewrite the crate's prebuilt folder, or fail
/// when it is stale; `off`: ignore it and build with nvcc.
pub const PREBUILD_ENV: &str = "SASSKIT_PREBUILD";

/// How to make a stale folder current again.
pub(crate) const REFRESH_HINT: &str = "refresh the folder on a machine with nvcc: `cargo sasskit \
     prebuild` (`cargo install cargo-sasskit`), or `SASSKIT_PREBUILD=refresh cargo build`";

/// Set to `1` for a metadata-only build (`DOCS_RS` implies it): with no nvcc and no current
/// prebuilt fat binary, the build still succeeds and the wrappers are generated, but loading the
/// module is an error.
pub const METADATA_ONLY_ENV: &str = "SASSKIT_METADATA_ONLY";

/// Whether this is a metadata-only build: `DOCS_RS` is set, or `SASSKIT_METADATA_ONLY=1`.
pub(crate) fn metadata_only() -> Result<bool, Error> {
    if env::tracked("DOCS_RS").is_some() {
        return Ok(true);
    }
    env::switch(METADATA_ONLY_ENV)
}

/// Whether nvcc may run at all: not on docs.rs, whose builds have no toolkit and should not
/// spend minutes on one.
pub(crate) fn nvcc_allowed() -> bool {
    env::cargo("DOCS_RS").is_none()
}

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

/// The crate's prebuilt folder.
#[derive(Debug, Clone)]
pub(crate) struct Folder {
    /// The folder, absolute.
    pub(crate) dir: PathBuf,
    /// The crate's folder (with `Cargo.toml`), which recorded paths are relative to.
    crate_root: PathBuf,
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
}

/// crates.io refuses `.crate` files larger than this.
const CRATES_IO_LIMIT: u64 = 10 * 1024 * 1024;

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
