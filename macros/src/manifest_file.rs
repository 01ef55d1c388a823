//! Finding and reading the manifest that the build script wrote.

use std::path::{Path, PathBuf};

use proc_macro2::Span;
use sasskit_core::manifest::Manifest;
use sasskit_core::out_dir;
use sasskit_core::shared::SharedTypes;

/// A manifest and the paths of the files the macro embeds.
pub(crate) struct Located {
    pub(crate) manifest: Manifest,
    pub(crate) manifest_path: PathBuf,
    pub(crate) fatbin_path: PathBuf,
}

/// The shared types of one header and the path of their Rust source.
pub(crate) struct LocatedTypes {
    pub(crate) types: SharedTypes,
    pub(crate) rust_path: PathBuf,
}

/// `$OUT_DIR/sasskit`, where the build script wrote its outputs.
fn outputs_dir(what: &str, span: Span) -> syn::Result<PathBuf> {
    #[allow(clippy::disallowed_methods)] // Cargo sets OUT_DIR for crates with a build script.
    let out_dir = std::env::var_os("OUT_DIR").ok_or_else(|| {
        syn::Error::new(
            span,
            format!(
                "`sasskit::{what}!` needs the outputs of `sasskit-build`, but this crate has no \
                 build script (OUT_DIR is not set); add a build.rs that calls \
                 `sasskit_build::Build::new().file(\"kernels/<module>.cu\").compile()`"
            ),
        )
    })?;
    Ok(out_dir::folder(Path::new(&out_dir)))
}

/// Reads `$OUT_DIR/sasskit/<module>.toml`.
pub(crate) fn locate(module: &str, span: Span) -> syn::Result<Located> {
    locate_in(&outputs_dir("kernels", span)?, module, span)
}

/// Reads `$OUT_DIR/sasskit/<module>.types.toml`.
pub(crate) fn locate_types(module: &str, span: Span) -> syn::Result<LocatedTypes> {
    locate_types_in(&outputs_dir("shared_types", span)?, module, span)
}

pub(crate) fn locate_types_in(dir: &Path, module: &str, span: Span) -> syn::Result<LocatedTypes> {
    let manifest_path = dir.join(out_dir::types_manifest_file(module));
    let text = std::fs::read_to_string(&manifest_path).map_err(|_| {
        let known = known_files(dir, out_dir::TYPES_MANIFEST_SUFFIX);
        let hint = if known.is_empty() {
            "the build script declared no shared headers".to_owned()
        } else {
            format!("the build script declared: {}", known.join(", "))
        };
        syn::Error::new(
            span,
            format!(
                "no shared header `{module}`: {hint}; the name is the header's stem, add \
                 `.shared_header(\"kernels/{module}.h\")` to the build script's \
                 `sasskit_build::Build` (with sasskit-build's `bindgen` feature)"
            ),
        )
    })?;
    let types = SharedTypes::from_toml(&text).map_err(|error| {
        syn::Error::new(
            span,
            format!("{error} (`{}`); rebuild the crate", manifest_path.display()),
        )
    })?;
    let rust_path = dir.join(&types.rust);
    Ok(LocatedTypes { types, rust_path })
}

pub(crate) fn locate_in(dir: &Path, module: &str, span: Span) -> syn::Result<Located> {
    let manifest_path = dir.join(out_dir::manifest_file(module));
    let text = std::fs::read_to_string(&manifest_path).map_err(|_| {
        let known = known_files(dir, out_dir::MANIFEST_SUFFIX);
        let hint = if known.is_empty() {
            "the build script compiled no `.cu` files".to_owned()
        } else {
            format!("the build script compiled: {}", known.join(", "))
        };
        syn::Error::new(
            span,
            format!(
                "no CUDA module `{module}`: {hint}; the module name is the `.cu` file's stem, \
                 add `{module}.cu` to the build script's `sasskit_build::Build`"
            ),
        )
    })?;
    let manifest = Manifest::from_toml(&text).map_err(|error| {
        syn::Error::new(
            span,
            format!("{error} (`{}`); rebuild the crate", manifest_path.display()),
        )
    })?;
    let fatbin_path = dir.join(&manifest.module.fatbin);
    Ok(Located {
        manifest,
        manifest_path,
        fatbin_path,
    })
}

/// The stems of the files in `dir` whose names end in `suffix` (`.toml` leaves out
/// `.types.toml`).
fn known_files(dir: &Path, suffix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let stem = name.strip_suffix(suffix)?;
            (!stem.contains('.')).then(|| stem.to_owned())
        })
        .collect();
    names.sort();
    names
}
