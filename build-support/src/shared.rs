//! Shared headers: Rust types for the structs, unions and enums that host and device share.
//!
//! Each header given to `Build::shared_header` goes through bindgen (the `bindgen` feature),
//! which writes `#[repr(C)]` Rust types whose layout clang computed for the host; the build
//! records each type's size and alignment in `<module>.types.toml` so that
//! `sasskit::shared_types!` can assert them at compile time, and later compares the size of every
//! kernel parameter of such a type with the size nvcc compiled (see [`crate::crosscheck`]).
//! A probe of `static_assert`s, compiled by nvcc with the build's flags, holds the device to
//! every size, alignment and field offset clang computed.

#[cfg(feature = "bindgen")]
mod generate;
#[cfg(feature = "bindgen")]
mod layout;
mod prebuilt;
#[cfg(feature = "bindgen")]
mod probe;
mod registry;

use std::path::{Path, PathBuf};

pub(crate) use self::prebuilt::Bindings;
#[cfg(feature = "bindgen")]
pub(crate) use self::registry::Probe;
pub(crate) use self::registry::Registry;
#[cfg(test)]
pub(crate) use self::registry::test_registry;

/// Marks the messages of the layout probes' assertions in nvcc's output.
pub(crate) const PROBE_MARKER: &str = "sasskit layout:";
use crate::cargo_output::CargoOutput;
use crate::error::Error;

/// The clang arguments bindgen parses every shared header with, besides the build's `-I` and
/// `-D` options: C++ as nvcc compiles it, with CUDA's function qualifiers and `__align__` made
/// plain, and `SASSKIT_BINDGEN` to guard anything clang must not see.
#[cfg_attr(not(feature = "bindgen"), allow(dead_code))]
pub(crate) const CLANG_ARGS: &[&str] = &[
    "-x",
    "c++",
    "-std=c++17",
    "-DSASSKIT_BINDGEN=1",
    // bindgen parses the header as the main file, where `#pragma once` draws a warning.
    "-Wno-pragma-once-outside-header",
    "-D__host__=",
    "-D__device__=",
    "-D__forceinline__=inline",
    "-D__align__(n)=__attribute__((aligned(n)))",
];

/// One shared header to generate types from.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    /// The header, absolute or relative to the working directory.
    pub(crate) path: PathBuf,
    /// Its module name: the file stem as a Rust identifier.
    pub(crate) module: String,
}

/// Generates the Rust types of every header into `out_dir`, from the crate's prebuilt bindings
/// where current; `defines_and_includes` are the build's `-I`/`-D` options.
pub(crate) fn generate_all(
    headers: &[Header],
    defines_and_includes: &[String],
    out_dir: &Path,
    prebuilt: Option<&Bindings>,
    cargo_output: CargoOutput,
) -> Result<Registry, Error> {
    let mut registry = Registry::default();
    if headers.is_empty() {
        return Ok(registry);
    }
    #[cfg(feature = "bindgen")]
    {
        for header in headers {
            let generated = generate::generate(header, defines_and_includes, out_dir, prebuilt)?;
            for warning in &generated.warnings {
                cargo_output.warning(warning);
            }
            registry.add(generated.types, generated.aliases);
            registry.add_probe(generated.probe);
        }
        Ok(registry)
    }
    #[cfg(not(feature = "bindgen"))]
    {
        // `Build` refuses shared headers without the feature before it gets here.
        let _ = (
            defines_and_includes,
            out_dir,
            prebuilt,
            cargo_output,
            &mut registry,
        );
        Err(feature_missing(&headers[0].path))
    }
}

/// The error for `Build::shared_header` without the `bindgen` feature.
pub(crate) fn feature_missing(header: &Path) -> Error {
    Error::config(format!(
        "`Build::shared_header(\"{}\")` needs the `bindgen` feature of sasskit-build, which \
         generates the header's Rust types: `sasskit-build = {{ version = \"{}\", features = \
         [\"bindgen\"] }}` in [build-dependencies] (bindgen needs libclang: Debian/Ubuntu \
         `apt install libclang-dev`)",
        header.display(),
        env!("CARGO_PKG_VERSION")
    ))
}
