//! A shared header's bindings shipped in the crate's prebuilt folder, so that a build whose
//! header is unchanged needs no libclang: `<folder>/<module>.bindings.rs` is the Rust code
//! bindgen generated, and `<folder>/<module>.bindings.toml` the [`PrebuiltInputs`] it was
//! generated from (the clang arguments, with the crate's include folders relative to it, and the
//! SHA-256 of the header and of every crate header it includes).
//!
//! The code is read back like bindgen's own output (its types and layouts parsed, the device
//! probe written from them, the layout tests kept), so a stale or edited file cannot pass for
//! current: it fails those checks, or the recorded inputs, first.

use std::path::{Path, PathBuf};

use sasskit_core::kernel::LongSize;
use sasskit_core::manifest::{MAX_MANIFEST_SIZE, PrebuiltInputs};

use crate::error::{Error, ErrorKind};
use crate::fs;
use crate::prebuilt_folder::{Folder, Mode, REFRESH_HINT, relative};

/// The largest prebuilt bindings file a build reads.
const MAX_BINDINGS_FILE: u64 = 64 << 20;

/// The bindgen release the bindings come from, as sasskit-build requires it (major and minor:
/// the code of releases that semver calls compatible reads the same).
const BINDGEN: &str = "0.72";

/// The crate's prebuilt folder as the shared headers use it.
#[derive(Debug, Clone)]
pub(crate) struct Bindings {
    folder: Folder,
    mode: Mode,
    /// What the bindings depend on besides the files: the clang arguments.
    settings: Vec<String>,
    /// The crate's own folders, and the folders that are not its own, for the recorded inputs.
    owned: Vec<PathBuf>,
    excluded: Vec<PathBuf>,
}

/// What the folder offers one header.
#[cfg_attr(not(feature = "bindgen"), allow(dead_code))]
pub(crate) enum Lookup {
    /// The bindings and the files they were generated from (absolute), current.
    Current { rust: String, inputs: Vec<PathBuf> },
    /// Bindgen must run: why (`None` when the folder is not used for this build).
    Generate(Option<String>),
}

#[cfg_attr(not(feature = "bindgen"), allow(dead_code))]
impl Bindings {
    /// The folder under `mode`, for headers parsed with the build's `defines_and_includes`
    /// (`-I`/`-D`) for a target whose `long` is `long` bytes; `owned` and `excluded` as
    /// [`Folder::record_inputs`] takes them.
    pub(crate) fn new(
        folder: Folder,
        mode: Mode,
        defines_and_includes: &[String],
        long: LongSize,
        owned: Vec<PathBuf>,
        excluded: Vec<PathBuf>,
    ) -> Bindings {
        let root = folder.crate_root().to_owned();
        // The target's C type widths decide the layouts bindgen computes.
        let pointer = crate::env::cargo("CARGO_CFG_TARGET_POINTER_WIDTH")
            .and_then(|width| width.into_string().ok())
            .unwrap_or_else(|| (usize::BITS).to_string());
        let mut settings = vec![
            format!("bindgen={BINDGEN}"),
            format!("long={}", long.0),
            format!("pointer_bits={pointer}"),
        ];
        settings.extend(super::CLANG_ARGS.iter().map(|arg| format!("clang={arg}")));
        for arg in defines_and_includes {
            let arg = match arg.strip_prefix("-I") {
                Some(dir) => {
                    let dir = root.join(dir);
                    let relative =
                        relative(&dir, &root).unwrap_or_else(|| dir.display().to_string());
                    format!("-I{relative}")
                }
                None => arg.clone(),
            };
            settings.push(format!("clang={arg}"));
        }
        Bindings {
            folder,
            mode,
            settings,
            owned,
            excluded,
        }
    }

    /// The header as the crate names it, for messages: `kernels/shape.h`.
    fn display(&self, header: &Path) -> String {
        relative(header, self.folder.crate_root()).unwrap_or_else(|| header.display().to_string())
    }

    fn rust_path(&self, module: &str) -> PathBuf {
        self.folder.dir.join(format!("{module}.bindings.rs"))
    }

    fn inputs_path(&self, module: &str) -> PathBuf {
        self.folder.dir.join(format!("{module}.bindings.toml"))
    }

    /// The current bindings of the header of module `module`, or why bindgen must run; an
    /// error under `SASSKIT_PREBUILD=check` when they are not current.
    pub(crate) fn lookup(&self, module: &str, header: &Path) -> Result<Lookup, Error> {
        if matches!(self.mode, Mode::Refresh | Mode::Off) {
            return Ok(Lookup::Generate(None));
        }
        let found = self.read(module);
        match (found, self.mode) {
            (Ok((rust, inputs)), _) => Ok(Lookup::Current { rust, inputs }),
            (Err(reason), Mode::Check) => Err(Error::new(ErrorKind::Prebuilt(format!(
                "the prebuilt bindings of the shared header `{}` in `{}` are stale: \
                 {reason}\n{REFRESH_HINT}",
                self.display(header),
                self.folder.display()
            )))),
            (Err(reason), _) => Ok(Lookup::Generate(Some(reason))),
        }
    }

    fn read(&self, module: &str) -> Result<(String, Vec<PathBuf>), String> {
        let inputs_path = self.inputs_path(module);
        crate::cargo_output::rerun_if_changed(&inputs_path);
        let text = match fs::read_at_most(&inputs_path, MAX_MANIFEST_SIZE as u64) {
            Ok(bytes) => String::from_utf8(bytes).map_err(|error| error.to_string()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err("the folder has no bindings for it".to_owned());
            }
            Err(error) => Err(error.to_string()),
        };
        let recorded: PrebuiltInputs = text
            .and_then(|text| toml::from_str(&text).map_err(|error| error.to_string()))
            .map_err(|error| format!("`{}` cannot be read: {error}", inputs_path.display()))?;
        let inputs = self.folder.current_inputs(&recorded, &self.settings)?;
        let rust_path = self.rust_path(module);
        crate::cargo_output::rerun_if_changed(&rust_path);
        let rust = fs::read_at_most(&rust_path, MAX_BINDINGS_FILE)
            .map_err(|error| error.to_string())
            .and_then(|bytes| String::from_utf8(bytes).map_err(|error| error.to_string()))
            .map_err(|error| format!("`{}` cannot be read: {error}", rust_path.display()))?;
        Ok((rust, inputs))
    }

    /// Whether a refresh writes what bindgen generates.
    pub(crate) fn refreshing(&self) -> bool {
        self.mode == Mode::Refresh
    }

    /// Writes the bindings bindgen generated for module `module` from the files `read`.
    pub(crate) fn write(&self, module: &str, rust: &str, read: &[PathBuf]) -> Result<(), Error> {
        fs::create_dir_all(&self.folder.dir)?;
        let recorded =
            self.folder
                .record_inputs(read, &self.settings, &self.owned, &self.excluded)?;
        let text = toml::to_string(&recorded).map_err(|error| {
            Error::internal(format!("the prebuilt bindings' inputs as TOML: {error}"))
        })?;
        fs::write_atomic(&self.rust_path(module), rust.as_bytes())?;
        fs::write_atomic(&self.inputs_path(module), text.as_bytes())
    }

    /// The warning for bindings that were there but stale.
    pub(crate) fn stale_warning(&self, header: &Path, reason: &str) -> String {
        format!(
            "the prebuilt bindings of the shared header `{}` in `{}` are stale ({reason}): \
             running bindgen; {REFRESH_HINT}",
            self.display(header),
            self.folder.display()
        )
    }

    /// The error for stale bindings and no libclang to generate them.
    pub(crate) fn stale_without_libclang(
        &self,
        header: &Path,
        reason: &str,
        missing: &Error,
    ) -> Error {
        Error::new(ErrorKind::Prebuilt(format!(
            "the prebuilt bindings of the shared header `{}` in `{}` are stale: {reason}; and \
             bindgen cannot run ({missing}). Either {REFRESH_HINT}, or install libclang here",
            self.display(header),
            self.folder.display()
        )))
    }
}

#[cfg(test)]
mod tests {
    /// The release recorded with the bindings is the one the workspace requires.
    #[test]
    fn the_recorded_bindgen_release_is_the_required_one() {
        let manifest = include_str!("../../../Cargo.toml");
        let line = manifest
            .lines()
            .find(|line| line.starts_with("bindgen = "))
            .expect("the workspace requires bindgen");
        assert!(
            line.contains(&format!("version = \"{}\"", super::BINDGEN)),
            "{line}"
        );
    }
}
