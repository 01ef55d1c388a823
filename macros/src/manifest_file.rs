//! Finding and reading the manifest that the build script wrote.

use std::path::{Path, PathBuf};

use proc_macro2::Span;
use sasskit_core::manifest::Manifest;

/// A manifest and the paths of the files the macro embeds.
pub(crate) struct Located {
    pub(crate) manifest: Manifest,
    pub(crate) manifest_path: PathBuf,
    pub(crate) fatbin_path: PathBuf,
}

/// Reads `$OUT_DIR/sasskit/<module>.toml`.
pub(crate) fn locate(module: &str, span: Span) -> syn::Result<Located> {
    #[allow(clippy::disallowed_methods)] // Cargo sets OUT_DIR for crates with a build script.
    let out_dir = std::env::var_os("OUT_DIR").ok_or_else(|| {
        syn::Error::new(
            span,
            "`sasskit::kernels!` needs the outputs of `sasskit-build`, but this crate has no \
             build script (OUT_DIR is not set); add a build.rs that calls \
             `sasskit_build::Build::new().file(\"kernels/<module>.cu\").compile()`",
        )
    })?;
    locate_in(&Path::new(&out_dir).join("sasskit"), module, span)
}

pub(crate) fn locate_in(dir: &Path, module: &str, span: Span) -> syn::Result<Located> {
    let manifest_path = dir.join(format!("{module}.toml"));
    let text = std::fs::read_to_string(&manifest_path).map_err(|_| {
        let known = known_modules(dir);
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

fn known_modules(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let path = entry.path();
            if path.extension()? != "toml" {
                return None;
            }
            Some(path.file_stem()?.to_string_lossy().into_owned())
        })
        .collect();
    names.sort();
    names
}
