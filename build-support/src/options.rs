//! What a [`Build`](crate::Build) was told, as its setters wrote it and before anything is
//! resolved: the builder's state, kept apart from the builder so that the rest of the crate
//! reads it without depending on the public face in `lib.rs`.
//!
//! [`Settings::resolve`](crate::settings::Settings::resolve) turns it into the one value the
//! build runs on; each field's doc names its setter.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::cache::CacheMode;
use crate::cargo_output::CargoOutput;

/// The builder's settings, unresolved.
#[derive(Debug, Clone, Default)]
pub(crate) struct Options {
    /// `file`, `files`, `file_with_archs`.
    pub(crate) files: Vec<PathBuf>,
    /// `include`, `includes`.
    pub(crate) includes: Vec<PathBuf>,
    /// `define`.
    pub(crate) defines: Vec<(String, Option<String>)>,
    /// `flag`, `flags`.
    pub(crate) flags: Vec<OsString>,
    /// `archs`.
    pub(crate) archs: Option<String>,
    /// `file_with_archs`.
    pub(crate) file_archs: Vec<(PathBuf, String)>,
    /// `shared_header`.
    pub(crate) shared_headers: Vec<PathBuf>,
    /// `cache_dir`.
    pub(crate) cache_dir: Option<PathBuf>,
    /// `cache_mode`.
    pub(crate) cache_mode: Option<CacheMode>,
    /// `nvcc_launcher`.
    pub(crate) launcher: Option<PathBuf>,
    /// `nvcc`.
    pub(crate) nvcc: Option<PathBuf>,
    /// `out_dir`.
    pub(crate) out_dir: Option<PathBuf>,
    /// `manifest_dir`.
    pub(crate) manifest_dir: Option<PathBuf>,
    /// `require_typed_kernels`.
    pub(crate) require_typed: Option<bool>,
    /// `single_front_end`.
    pub(crate) single_front_end: Option<bool>,
    /// `ccbin(false)`.
    pub(crate) no_ccbin: bool,
    /// `prebuilt`.
    pub(crate) prebuilt: Option<PathBuf>,
    /// `cargo_metadata`, `emit_rerun_if_env_changed`, `cargo_warnings`.
    pub(crate) cargo_output: CargoOutput,
    /// `compress_mode`.
    pub(crate) compress_mode: Option<crate::compress_mode::CompressMode>,
    /// `debug`.
    pub(crate) debug: Option<bool>,
    /// `kernel_families`.
    pub(crate) kernel_families: Option<bool>,
    /// `kernel_family`.
    pub(crate) declared_families: Vec<(String, String)>,
    /// `env`, `env_remove`: variables as this build reads them, in place of the process's.
    pub(crate) env: Vec<(OsString, Option<OsString>)>,
}
