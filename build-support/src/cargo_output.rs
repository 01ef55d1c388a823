//! What the build tells cargo: rerun triggers and warnings, collected while the build runs and
//! printed once at its end under the [`Build`](crate::Build)'s settings, as `cc::Build`'s
//! `cargo_metadata`, `cargo_warnings` and `emit_rerun_if_env_changed` do.
//!
//! Collecting rather than printing at once lets a build turn each kind of line off, wherever in
//! the build it arises (the nvcc lookup, the config, bindgen's callbacks).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

/// Which lines a build prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CargoOutput {
    /// `cargo:rerun-if-changed` for sources, headers, `Cargo.toml` and the nvcc that was used.
    pub(crate) metadata: bool,
    /// `cargo:rerun-if-env-changed` for every variable read.
    pub(crate) env_changed: bool,
    /// `cargo:warning` for kernels without wrappers and nvcc's warnings.
    pub(crate) warnings: bool,
}

impl Default for CargoOutput {
    fn default() -> CargoOutput {
        CargoOutput {
            metadata: true,
            env_changed: true,
            warnings: true,
        }
    }
}

/// Rerun triggers recorded since the last [`CargoOutput::flush`].
#[derive(Debug, Default)]
struct Pending {
    files: Vec<PathBuf>,
    vars: Vec<String>,
}

static PENDING: Mutex<Pending> = Mutex::new(Pending {
    files: Vec::new(),
    vars: Vec::new(),
});

fn pending() -> std::sync::MutexGuard<'static, Pending> {
    PENDING.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Records that the build's outputs depend on `path`.
pub(crate) fn rerun_if_changed(path: &Path) {
    let mut pending = pending();
    if !pending.files.iter().any(|seen| seen == path) {
        pending.files.push(path.to_owned());
    }
}

/// Records that the build read the environment variable `name`.
pub(crate) fn rerun_if_env_changed(name: &str) {
    let mut pending = pending();
    if !pending.vars.iter().any(|seen| seen == name) {
        pending.vars.push(name.to_owned());
    }
}

impl CargoOutput {
    /// Prints what was recorded, as far as the settings allow, and forgets it.
    pub(crate) fn flush(self) {
        let Pending { files, vars } = std::mem::take(&mut *pending());
        if self.metadata {
            for file in files {
                println!("cargo:rerun-if-changed={}", file.display());
            }
        }
        if self.env_changed {
            for var in vars {
                println!("cargo:rerun-if-env-changed={var}");
            }
        }
    }

    /// Prints one warning for cargo to show, if warnings are on.
    pub(crate) fn warning(self, text: &str) {
        if self.warnings {
            // One `cargo:warning` per line: cargo shows a line break as the end of the message.
            for line in text.lines() {
                println!("cargo:warning={line}");
            }
        }
    }
}
