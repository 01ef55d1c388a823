//! Every environment variable the build reads, through two accessors.
//!
//! Variables that change the output are read with [`tracked`], which tells cargo to rerun the
//! build script when they change. Variables that cargo itself sets for build scripts (`OUT_DIR`,
//! `TARGET`, …) are read with [`cargo`]: cargo already reruns when they change.

use std::ffi::OsString;

/// Reads a variable that affects the build and records it for `cargo:rerun-if-env-changed`.
#[allow(clippy::disallowed_methods)] // The one place that may read the environment.
pub(crate) fn tracked(name: &str) -> Option<OsString> {
    crate::cargo_output::rerun_if_env_changed(name);
    std::env::var_os(name).filter(|value| !value.is_empty())
}

/// Reads a variable that cargo sets for build scripts.
#[allow(clippy::disallowed_methods)] // Cargo-owned variables need no rerun line.
pub(crate) fn cargo(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

/// An on/off variable such as `SASSKIT_REQUIRE_TYPED_KERNELS`, [`tracked`]: `1` or `0`, off when
/// unset.
pub(crate) fn switch(name: &str) -> Result<bool, crate::error::Error> {
    match tracked(name) {
        None => Ok(false),
        Some(value) if value == "1" => Ok(true),
        Some(value) if value == "0" || value.is_empty() => Ok(false),
        Some(value) => Err(crate::error::Error::config(format!(
            "`{name}={}` is not `1` or `0`",
            value.to_string_lossy()
        ))),
    }
}
