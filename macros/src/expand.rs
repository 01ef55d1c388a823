//! `kernels!(module)` → a module with the embedded fat binary, a `Module` type and its wrappers.

use std::collections::HashMap;
use std::fmt::Write as _;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use sasskit_core::kernel::KernelSignature;
use sasskit_core::manifest::{Manifest, Origin};

use crate::facts;
use crate::families::{self, Families, Family};
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
    let typed_kernels: Vec<_> = manifest
        .kernels
        .iter()
        .filter(|kernel| kernel.untyped.is_none())
        .collect();
    let families = families::detect(&typed_kernels, &manifest.families)
        .map_err(|message| syn::Error::new(input.module.span(), message))?;
    let cells = cells(&typed_kernels, &families.families);
    let fields: Vec<TokenStream> = cells
        .fields
        .iter()
        .map(|(field, _)| field.clone())
        .collect();
    let field_inits: Vec<TokenStream> = cells.fields.iter().map(|(_, init)| init.clone()).collect();
    let kernel_names: Vec<&str> = typed_kernels
        .iter()
        .map(|kernel| kernel.name.as_str())
        .collect();
    let kernel_cells: Vec<&TokenStream> = typed_kernels
        .iter()
        .map(|kernel| &cells.of_kernel[kernel.name.as_str()])
        .collect();
    let methods = methods(&typed_kernels, &cells, &families, manifest, &types);
    let family_traits = families::trait_items(&families.families, name);
    let module_doc = module_doc(manifest, &families);
    let private = quote!(::sasskit::__private);
    let build_facts = build_facts(manifest, input.module.span())?;
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

            #family_traits

            /// The module loaded on one device, with a typed method per kernel. Each kernel is
            /// looked up the first time its method runs, as the driver loads kernels lazily.
            #[derive(Debug)]
            pub struct Module {
                loaded: #private::LoadedModule,
                #(#fields,)*
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
                        #(#field_inits,)*
                    })
                }

                /// Looks up now every typed kernel that the loaded image defines, for programs
                /// that want all lookups done before work starts (kernels that the source
                /// defines for other architectures only are skipped).
                pub fn resolve_all(&self) -> ::core::result::Result<(), #private::LaunchError> {
                    #(
                        if self.loaded.has_kernel(#kernel_names) {
                            #private::resolve(&self.loaded, #kernel_cells, #kernel_names)?;
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

/// The `BuildFacts` constant: what the runtime reports and decides with, in core's types, so
/// that it parses nothing at load time.
fn build_facts(manifest: &Manifest, span: Span) -> syn::Result<TokenStream> {
    let private = quote!(::sasskit::__private);
    let nvcc = &manifest.toolkit.version;
    let key = &manifest.module.build_key;
    let cache = facts::cache(manifest.module.cache);
    let every_target = &manifest.module.targets;
    let kernels = manifest
        .kernels
        .iter()
        .map(|kernel| {
            let name = &kernel.name;
            let partial = !kernel.targets.is_empty()
                && !every_target
                    .iter()
                    .all(|target| kernel.targets.contains(target));
            let only_in: &[String] = if partial { &kernel.targets } else { &[] };
            let only_in = facts::targets(only_in, span)?;
            Ok(quote!(#private::KernelFacts { name: #name, only_in: #only_in }))
        })
        .collect::<syn::Result<Vec<_>>>()?;
    let front_end = match &manifest.module.front_end {
        None => quote!(::core::option::Option::None),
        Some(arch) => {
            let target = facts::target(arch, span)?;
            quote!(::core::option::Option::Some(#target))
        }
    };
    let origin = facts::origin(manifest.module.origin);
    let unavailable = manifest.module.unavailable.as_ref().map_or_else(
        || quote!(::core::option::Option::None),
        |reason| quote!(::core::option::Option::Some(#reason)),
    );
    Ok(quote! {
        #private::BuildFacts {
            nvcc_version: #nvcc,
            build_key: #key,
            cache: #cache,
            kernels: &[#(#kernels),*],
            front_end: #front_end,
            origin: #origin,
            unavailable: #unavailable,
        }
    })
}

/// The launch methods: one per typed kernel, then one per family.
fn methods(
    kernels: &[&KernelSignature],
    cells: &Cells<'_>,
    families: &Families<'_>,
    manifest: &Manifest,
    types: &TypePaths,
) -> Vec<TokenStream> {
    let per_kernel = kernels.iter().map(|kernel| {
        wrapper(
            kernel,
            &cells.of_kernel[kernel.name.as_str()],
            &manifest.module.targets,
            types,
        )
    });
    let per_family = families
        .families
        .iter()
        .map(|family| families::generic_method(family, types));
    per_kernel.chain(per_family).collect()
}

/// Where each kernel's `CudaFunction` is kept: its own field, or its place in its family's
/// table.
struct Cells<'k> {
    /// Each field of `Module` that holds functions, with its initial value.
    fields: Vec<(TokenStream, TokenStream)>,
    /// The expression (`&self.fn_saxpy`, `&self.family_affine[2]`) for each kernel.
    of_kernel: HashMap<&'k str, TokenStream>,
}

fn cells<'k>(kernels: &[&'k KernelSignature], families: &[Family<'k>]) -> Cells<'k> {
    let private = quote!(::sasskit::__private);
    let function = quote!(#private::cudarc::driver::CudaFunction);
    let mut cells = Cells {
        fields: Vec::new(),
        of_kernel: HashMap::new(),
    };
    for family in families {
        let field = families::family_field(family);
        let count = family.members.len();
        cells.fields.push((
            quote!(#field: [#private::OnceLock<#function>; #count]),
            quote!(#field: [const { #private::OnceLock::new() }; #count]),
        ));
        for (index, member) in family.members.iter().enumerate() {
            cells
                .of_kernel
                .insert(member.kernel.name.as_str(), quote!(&self.#field[#index]));
        }
    }
    for kernel in kernels {
        if cells.of_kernel.contains_key(kernel.name.as_str()) {
            continue;
        }
        let field = format_ident!("fn_{}", kernel.name);
        cells.fields.push((
            quote!(#field: #private::OnceLock<#function>),
            quote!(#field: #private::OnceLock::new()),
        ));
        cells
            .of_kernel
            .insert(kernel.name.as_str(), quote!(&self.#field));
    }
    cells
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

fn module_doc(manifest: &Manifest, families: &Families<'_>) -> String {
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
    doc.push_str(&families_doc(families));
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

/// The module documentation's part on families: each family's method and types, and the
/// kernels left out of families, with the reason.
fn families_doc(families: &Families<'_>) -> String {
    let mut doc = String::new();
    if !families.families.is_empty() {
        doc.push_str(
            "\n\n Kernel families (one generic method each, besides the per-type methods):\n\n",
        );
        let lines: Vec<String> = families
            .families
            .iter()
            .map(|family| {
                let types: Vec<String> = family
                    .members
                    .iter()
                    .map(|member| {
                        let names: Vec<&str> =
                            member.types.iter().map(|ty| ty.rust_name()).collect();
                        if names.len() == 1 {
                            names[0].to_owned()
                        } else {
                            format!("({})", names.join(", "))
                        }
                    })
                    .collect();
                format!(
                    " * `{}` (`{}`): {}",
                    family.name,
                    family.pattern,
                    types.join(", ")
                )
            })
            .collect();
        doc.push_str(&lines.join("\n"));
    }
    if !families.left_out.is_empty() {
        doc.push_str("\n\n Kernels left out of families (they keep their own methods):\n\n");
        let lines: Vec<String> = families
            .left_out
            .iter()
            .map(|left| {
                format!(
                    " * `{}` (`{}`): {}",
                    left.kernels.join("`, `"),
                    left.pattern,
                    left.reason
                )
            })
            .collect();
        doc.push_str(&lines.join("\n"));
    }
    doc
}
