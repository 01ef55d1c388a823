//! `kernels!(module)` → a module with the embedded fat binary, a `Module` type and its wrappers.

use std::fmt::Write as _;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use sasskit_core::manifest::{Manifest, Origin};

use crate::input::KernelsInput;
use crate::manifest_file::{Located, locate};
use crate::names::{RESERVED_METHODS, ident};
use crate::type_paths::TypePaths;
use crate::wrapper::wrapper;

pub(crate) fn expand(input: &KernelsInput) -> syn::Result<TokenStream> {
    let located = locate(&input.module.to_string(), input.module.span())?;
    generate(input, &located)
}

/// The whole expansion, separate from file lookup so that tests can feed it a manifest.
pub(crate) fn generate(input: &KernelsInput, located: &Located) -> syn::Result<TokenStream> {
    let manifest = &located.manifest;
    check_names(input, manifest)?;
    let types = TypePaths::new(input, manifest)?;
    let layout_assertions = types.layout_assertions();
    let module = &input.module;
    let visibility = &input.visibility;
    let name = &manifest.module.name;
    let fatbin_path = located.fatbin_path.display().to_string();
    let manifest_path = located.manifest_path.display().to_string();
    let module_doc = module_doc(manifest);
    let typed_kernels: Vec<_> = manifest
        .kernels
        .iter()
        .filter(|kernel| kernel.untyped.is_none())
        .collect();
    let fields: Vec<_> = typed_kernels
        .iter()
        .map(|kernel| format_ident!("{}", field_name(&kernel.name)))
        .collect();
    let kernel_names: Vec<&str> = typed_kernels
        .iter()
        .map(|kernel| kernel.name.as_str())
        .collect();
    let methods: Vec<TokenStream> = typed_kernels
        .iter()
        .map(|kernel| {
            wrapper(
                kernel,
                &field_name(&kernel.name),
                &manifest.module.targets,
                &types,
            )
        })
        .collect();
    let private = quote!(::sasskit::__private);
    let build_facts = build_facts(manifest);
    Ok(quote! {
        #[doc = #module_doc]
        #visibility mod #module {
            static FATBIN: &#private::Aligned<[u8]> = &#private::Aligned(*::core::include_bytes!(#fatbin_path));

            // Tracks the manifest, so that a rebuild of the kernels re-expands the macro; it is
            // not kept in the program, which reads the facts below.
            const _: &str = ::core::include_str!(#manifest_path);

            /// The embedded fat binary and what the build recorded about it.
            pub static EMBEDDED: #private::EmbeddedModule = #private::EmbeddedModule {
                name: #name,
                fatbin: &FATBIN.0,
                build: #build_facts,
            };

            #layout_assertions

            /// The module loaded on one device, with a typed method per kernel. Each kernel is
            /// looked up the first time its method runs, as the driver loads kernels lazily.
            #[derive(Debug)]
            pub struct Module {
                loaded: #private::LoadedModule,
                #(#fields: #private::OnceLock<#private::cudarc::driver::CudaFunction>,)*
            }

            impl Module {
                /// Loads the module on `ctx`'s device: the SASS image the driver would run there,
                /// and nothing it could JIT-compile. Fails if the fat binary has no SASS for this
                /// device.
                pub fn load(ctx: &::std::sync::Arc<#private::cudarc::driver::CudaContext>) -> ::core::result::Result<Module, #private::LoadError> {
                    Module::load_with(ctx, #private::LoadPolicy::SassOnly)
                }

                /// Loads the module under an explicit policy (`LoadPolicy::AllowJit` accepts PTX).
                pub fn load_with(
                    ctx: &::std::sync::Arc<#private::cudarc::driver::CudaContext>,
                    policy: #private::LoadPolicy,
                ) -> ::core::result::Result<Module, #private::LoadError> {
                    Module::from_loaded(#private::load(ctx, &EMBEDDED, policy)?)
                }

                /// Wraps a module loaded by `sasskit::load` or `sasskit::load_on_every_device`.
                /// Looks no kernel up: each is found when its method first runs.
                pub fn from_loaded(loaded: #private::LoadedModule) -> ::core::result::Result<Module, #private::LoadError> {
                    ::core::result::Result::Ok(Module {
                        loaded,
                        #(#fields: #private::OnceLock::new(),)*
                    })
                }

                /// Looks up now every typed kernel that the loaded image defines, for programs
                /// that want all lookups done before work starts (kernels that the source
                /// defines for other architectures only are skipped).
                pub fn resolve_all(&self) -> ::core::result::Result<(), #private::LaunchError> {
                    #(
                        if self.loaded.has_kernel(#kernel_names) {
                            #private::resolve(&self.loaded, &self.#fields, #kernel_names)?;
                        }
                    )*
                    ::core::result::Result::Ok(())
                }

                /// What was loaded, from which image, and how long it took.
                pub fn report(&self) -> &#private::LoadReport {
                    self.loaded.report()
                }

                /// The loaded module.
                pub fn loaded(&self) -> &#private::LoadedModule {
                    &self.loaded
                }

                #(#methods)*
            }
        }
    })
}

/// The `BuildFacts` constant: what the runtime reports and decides with, so that it parses
/// nothing at load time.
fn build_facts(manifest: &Manifest) -> TokenStream {
    let private = quote!(::sasskit::__private);
    let nvcc = &manifest.toolkit.version;
    let key = &manifest.module.build_key;
    let cache = manifest.module.cache.to_string();
    let every_target = &manifest.module.targets;
    let kernels = manifest.kernels.iter().map(|kernel| {
        let name = &kernel.name;
        let partial = !kernel.targets.is_empty()
            && !every_target
                .iter()
                .all(|target| kernel.targets.contains(target));
        let only_in: &[String] = if partial { &kernel.targets } else { &[] };
        quote!(#private::KernelFacts { name: #name, only_in: &[#(#only_in),*] })
    });
    let front_end = manifest.module.front_end.as_ref().map_or_else(
        || quote!(::core::option::Option::None),
        |arch| quote!(::core::option::Option::Some(#arch)),
    );
    let origin = manifest.module.origin.to_string();
    let unavailable = manifest.module.unavailable.as_ref().map_or_else(
        || quote!(::core::option::Option::None),
        |reason| quote!(::core::option::Option::Some(#reason)),
    );
    quote! {
        #private::BuildFacts {
            nvcc_version: #nvcc,
            build_key: #key,
            cache: #cache,
            kernels: &[#(#kernels),*],
            front_end: #front_end,
            origin: #origin,
            unavailable: #unavailable,
        }
    }
}

fn field_name(kernel: &str) -> String {
    format!("fn_{kernel}")
}

fn check_names(input: &KernelsInput, manifest: &Manifest) -> syn::Result<()> {
    if input.module != manifest.module.name {
        return Err(syn::Error::new(
            input.module.span(),
            format!(
                "the manifest names the module `{}`; rebuild the crate",
                manifest.module.name
            ),
        ));
    }
    for kernel in manifest
        .kernels
        .iter()
        .filter(|kernel| kernel.untyped.is_none())
    {
        if RESERVED_METHODS.contains(&kernel.name.as_str()) {
            return Err(syn::Error::new(
                input.module.span(),
                format!(
                    "the kernel `{}` ({}:{}) has the name of a method of the generated `Module` ({}); \
                     rename the kernel",
                    kernel.name,
                    kernel.file,
                    kernel.line,
                    RESERVED_METHODS.join(", ")
                ),
            ));
        }
        let _ = ident(&kernel.name);
    }
    Ok(())
}

fn module_doc(manifest: &Manifest) -> String {
    let kernels: Vec<String> = manifest
        .kernels
        .iter()
        .filter(|kernel| kernel.untyped.is_none())
        .map(|kernel| format!("`{}`", kernel.name))
        .collect();
    let built = match manifest.module.origin {
        Origin::Built => "Built by nvcc",
        Origin::Prebuilt => "Prebuilt (shipped in the crate) by nvcc",
        Origin::Unavailable => "Not built in this build; declared for nvcc",
    };
    let mut doc = format!(
        " Typed launch wrappers for the kernels of `{}`.\n\n {built} {} for {}; kernels: {}.",
        manifest.module.source,
        manifest.toolkit.version,
        manifest.module.targets.join(", "),
        if kernels.is_empty() {
            "none".to_owned()
        } else {
            kernels.join(", ")
        }
    );
    if let Some(reason) = &manifest.module.unavailable {
        let _ = write!(
            doc,
            "\n\n This build has no fat binary for the module ({reason}): the wrappers are \
             here, and loading it returns `LoadError::NotBuilt`."
        );
    }
    let untyped: Vec<String> = manifest
        .kernels
        .iter()
        .filter_map(|kernel| {
            let why = kernel.untyped.as_deref()?;
            Some(format!(
                " * `{}` ({}:{}): {why}",
                kernel.name, kernel.file, kernel.line
            ))
        })
        .collect();
    if !untyped.is_empty() {
        doc.push_str(
            "\n\n Kernels in the module without a typed method (look them up by name with \
             `Module::loaded().function(\"…\")`):\n\n",
        );
        doc.push_str(&untyped.join("\n"));
    }
    doc
}

#[cfg(test)]
mod tests;
