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
