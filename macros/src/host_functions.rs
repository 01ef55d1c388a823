//! `host_functions!(library)` → a module with the library's `extern "C"` declarations, what the
//! build recorded about it, and a `Library` type whose methods check the device and call them.

use std::path::{Path, PathBuf};

use proc_macro2::{Span, TokenStream};
use quote::quote;
use sasskit_core::library::LibraryManifest;
use sasskit_core::out_dir;

use crate::facts;
use crate::host_wrapper::{declaration, wrapper};
use crate::input::KernelsInput;

/// Methods of the generated `Library` that a host function may not shadow.
const RESERVED: &[&str] = &[
    "check",
    "check_with",
    "check_every_device",
    "checked",
    "reports",
    "is_available",
    "is_available_on",
];

/// A library manifest and its path.
pub(crate) struct LocatedLibrary {
    pub(crate) manifest: LibraryManifest,
    pub(crate) manifest_path: PathBuf,
}

pub(crate) fn expand(input: &KernelsInput) -> syn::Result<TokenStream> {
    let span = input.module.span();
    if let Some((header, _)) = input.shared.first() {
        return Err(syn::Error::new(
            header.span(),
            "`host_functions!` takes only the library name; host functions do not take shared \
             types yet",
        ));
    }
    #[allow(clippy::disallowed_methods)] // Cargo sets OUT_DIR for crates with a build script.
    let out_dir = std::env::var_os("OUT_DIR").ok_or_else(|| {
        syn::Error::new(
            span,
            "`sasskit::host_functions!` needs the outputs of `sasskit-build`, but this crate has \
             no build script (OUT_DIR is not set); add a build.rs that calls \
             `sasskit_build::Build::new().file(\"kernels/<file>.cu\").static_library(\"<name>\").compile()`",
        )
    })?;
    let located = locate(
        &out_dir::folder(Path::new(&out_dir)),
        &input.module.to_string(),
        span,
    )?;
    generate(input, &located)
}

pub(crate) fn locate(dir: &Path, library: &str, span: Span) -> syn::Result<LocatedLibrary> {
    let manifest_path = dir.join(out_dir::library_manifest_file(library));
    let text = std::fs::read_to_string(&manifest_path).map_err(|_| {
        syn::Error::new(
            span,
            format!(
                "no static library `{library}`: the build script built none by that name; add \
                 `.static_library(\"{library}\").compile()` to its `sasskit_build::Build`"
            ),
        )
    })?;
    let manifest = LibraryManifest::from_toml(&text).map_err(|error| {
        syn::Error::new(
            span,
            format!("{error} (`{}`); rebuild the crate", manifest_path.display()),
        )
    })?;
    Ok(LocatedLibrary {
        manifest,
        manifest_path,
    })
}

/// The whole expansion, separate from file lookup so that tests can feed it a manifest.
pub(crate) fn generate(input: &KernelsInput, located: &LocatedLibrary) -> syn::Result<TokenStream> {
    let manifest = &located.manifest;
    let module = &input.module;
    if *module != manifest.library.name {
        return Err(syn::Error::new(
            module.span(),
            format!(
                "the manifest names the library `{}`; rebuild the crate",
                manifest.library.name
            ),
        ));
    }
    let typed: Vec<_> = manifest
        .functions
        .iter()
        .filter(|function| function.untyped.is_none())
        .collect();
    if let Some(function) = typed
        .iter()
        .find(|function| RESERVED.contains(&function.name.as_str()))
    {
        return Err(syn::Error::new(
            module.span(),
            format!(
                "the host function `{}` ({}:{}) has the name of a method of the generated \
                 `Library` ({}); rename the function",
                function.name,
                function.file,
                function.line,
                RESERVED.join(", ")
            ),
        ));
    }
    let private = quote!(::sasskit::__private);
    let visibility = &input.visibility;
    let name = &manifest.library.name;
    let manifest_path = located.manifest_path.display().to_string();
    let targets = facts::targets(&manifest.library.targets, input.module.span())?;
    let nvcc = &manifest.toolkit.version;
    let key = &manifest.library.build_key;
    let cache = facts::cache(manifest.library.cache);
    let origin = facts::origin(manifest.library.origin);
    let optional = manifest.library.optional;
    let declarations = typed.iter().map(|function| declaration(function));
    let names: Vec<&str> = typed
        .iter()
        .map(|function| function.name.as_str())
        .collect();
    let idents: Vec<syn::Ident> = typed
        .iter()
        .map(|function| crate::names::ident(&function.name))
        .collect();
    let library_type = library_type(typed.iter().map(|function| wrapper(function)));
    let doc = module_doc(manifest);
    Ok(quote! {
        #[doc = #doc]
        #visibility mod #module {
            // Tracks the manifest, so that a rebuild of the library re-expands the macro.
            const _: &str = ::core::include_str!(#manifest_path);

            /// The library's `extern "C"` functions with their exact C types, linked from the
            /// static library the build script built; the methods of [`Library`] call them
            /// after checking the device.
            #[allow(non_snake_case, clippy::missing_safety_doc)]
            pub mod ffi {
                unsafe extern "C" {
                    #(#declarations)*
                }

                /// Every declared function with its address. Taking the addresses links every
                /// object of the library into the program (the linker takes only the objects a
                /// program refers to), for checking the whole library in the binary with
                /// `cargo xtask verify`.
                pub fn addresses() -> ::std::vec::Vec<(&'static str, usize)> {
                    ::std::vec![#((#names, #idents as usize)),*]
                }

                unsafe extern "C" {
                    /// The CUDA runtime's last error, cleared (linked with the library).
                    pub fn cudaGetLastError() -> i32;
                    /// The name of a CUDA runtime error code.
                    pub fn cudaGetErrorName(error: i32) -> *const ::core::ffi::c_char;
                }
            }

            /// The names of the declared functions, in file and source order.
            pub const FUNCTIONS: &[&str] = &[#(#names),*];

            /// What the build recorded about the library: its targets, nvcc and build key.
            pub static LIBRARY: #private::EmbeddedLibrary = #private::EmbeddedLibrary {
                name: #name,
                targets: #targets,
                optional: #optional,
                build: #private::BuildFacts {
                    nvcc_version: #nvcc,
                    build_key: #key,
                    cache: #cache,
                    kernels: &[],
                    front_end: ::core::option::Option::None,
                    origin: #origin,
                    unavailable: ::core::option::Option::None,
                },
            };

            #library_type
        }
    })
}

/// The `Library` type: made only by the checks, with one method per host function.
fn library_type(wrappers: impl Iterator<Item = TokenStream>) -> TokenStream {
    let private = quote!(::sasskit::__private);
    quote! {
    /// The library checked for one or more devices: its methods call the host functions
    /// on those devices only.
    #[derive(Debug, Clone)]
    pub struct Library {
        checked: #private::CheckedLibrary,
    }

    impl Library {
        /// Checks that the library has SASS for `ctx`'s device (no PTX JIT), as a module
        /// load does, without calling any of its functions. An optional library passes on a
        /// device it has no code for and is unavailable there ([`Library::is_available`]).
        pub fn check(ctx: &::std::sync::Arc<#private::cudarc::driver::CudaContext>) -> ::core::result::Result<Library, #private::LoadError> {
            Library::check_with(ctx, #private::LoadPolicy::SassOnly)
        }

        /// [`Library::check`] under an explicit policy (`LoadPolicy::AllowJit` accepts PTX).
        pub fn check_with(
            ctx: &::std::sync::Arc<#private::cudarc::driver::CudaContext>,
            policy: #private::LoadPolicy,
        ) -> ::core::result::Result<Library, #private::LoadError> {
            ::core::result::Result::Ok(Library {
                checked: #private::check_library(ctx, &LIBRARY, policy)?,
            })
        }

        /// Checks every device the driver sees, failing for all of them at once if any
        /// lacks SASS; an optional library passes, unavailable on those devices.
        pub fn check_every_device() -> ::core::result::Result<Library, #private::LoadError> {
            ::core::result::Result::Ok(Library {
                checked: #private::check_library_on_every_device(&LIBRARY, #private::LoadPolicy::SassOnly)?,
            })
        }

        /// The check's result.
        pub fn checked(&self) -> &#private::CheckedLibrary {
            &self.checked
        }

        /// Whether the library's functions can run on every checked device. Always `true` for
        /// a library that is not optional (its check refuses such devices); for an optional one,
        /// `false` when a checked device has no code in it, and the program takes another path.
        pub fn is_available(&self) -> bool {
            self.checked.is_available()
        }

        /// Whether the library's functions can run on device `ordinal`: checked, and available
        /// there.
        pub fn is_available_on(&self, ordinal: usize) -> bool {
            self.checked.is_available_on(ordinal)
        }

        /// One report line per checked device.
        pub fn reports(&self) -> &[#private::LoadReport] {
            self.checked.reports()
        }

        #(#wrappers)*
    }
    }
}

fn module_doc(manifest: &LibraryManifest) -> String {
    let typed: Vec<String> = manifest
        .functions
        .iter()
        .filter(|function| function.untyped.is_none())
        .map(|function| format!("`{}`", function.name))
        .collect();
    let mut doc = format!(
        " Declarations and checked wrappers for the {}static library `lib{}.a`.\n\n Built by nvcc \
         {} for {}; functions: {}.",
        if manifest.library.optional {
            "optional "
        } else {
            ""
        },
        manifest.library.name,
        manifest.toolkit.version,
        manifest.library.targets.join(", "),
        if typed.is_empty() {
            "none".to_owned()
        } else {
            typed.join(", ")
        }
    );
    let untyped: Vec<String> = manifest
        .functions
        .iter()
        .filter_map(|function| {
            let why = function.untyped.as_deref()?;
            Some(format!(
                " * `{}` ({}:{}): {why}",
                function.name, function.file, function.line
            ))
        })
        .collect();
    if !untyped.is_empty() {
        doc.push_str("\n\n Functions without a declaration:\n\n");
        doc.push_str(&untyped.join("\n"));
    }
    doc
}

#[cfg(test)]
mod tests;
