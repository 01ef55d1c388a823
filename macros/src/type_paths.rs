//! Where the generated code finds the Rust types of shared headers.

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote};
use sasskit_core::manifest::Manifest;
use sasskit_core::shared::SharedType;

use crate::input::KernelsInput;

/// The path of each shared type a module's kernels take.
pub(crate) struct TypePaths {
    /// (type, path of its header's module).
    types: Vec<(SharedType, TokenStream)>,
}

impl TypePaths {
    /// Resolves every shared type in the manifest: `super::<header module>`, unless the input
    /// names another path for that header module.
    pub(crate) fn new(input: &KernelsInput, manifest: &Manifest) -> syn::Result<TypePaths> {
        let headers: Vec<&str> = manifest.types.iter().map(|ty| ty.module.as_str()).collect();
        for (header, path) in &input.shared {
            if !headers.contains(&header.to_string().as_str()) {
                let used = if headers.is_empty() {
                    "none".to_owned()
                } else {
                    let mut used: Vec<String> = headers.iter().map(|h| format!("`{h}`")).collect();
                    used.dedup();
                    used.join(", ")
                };
                return Err(syn::Error::new(
                    path.segments
                        .first()
                        .map_or(header.span(), |first| first.ident.span()),
                    format!(
                        "no kernel of `{}` takes a type of the shared header `{header}`; the \
                         shared headers its kernels use: {used}",
                        manifest.module.name
                    ),
                ));
            }
        }
        let mut types = Vec::new();
        for ty in &manifest.types {
            let module = format_ident!("{}", ty.module);
            let module_path = input
                .shared
                .iter()
                .find(|(header, _)| *header == ty.module)
                .map_or_else(
                    || quote!(super::#module),
                    |(_, path)| path.to_token_stream(),
                );
            types.push((ty.clone(), module_path));
        }
        for kernel in &manifest.kernels {
            for param in &kernel.params {
                if let Some(name) = param.ty.shared_type()
                    && !types.iter().any(|(ty, _)| ty.name == name)
                {
                    return Err(syn::Error::new(
                        input.module.span(),
                        format!(
                            "the manifest of `{}` has no layout for `{name}`, which the kernel \
                             `{}` takes; rebuild the crate",
                            manifest.module.name, kernel.name
                        ),
                    ));
                }
            }
        }
        Ok(TypePaths { types })
    }

    /// The path of the shared type `name`, as seen from inside the generated module.
    pub(crate) fn path(&self, name: &str) -> TokenStream {
        let ident = format_ident!("{}", name);
        // `new` checked every kernel parameter; were one missing, the bare name would be a
        // clear compile error rather than a panic.
        self.types
            .iter()
            .find(|(ty, _)| ty.name == name)
            .map_or_else(|| quote!(#ident), |(_, module)| quote!(#module::#ident))
    }

    /// Compile-time checks that every shared type the wrappers name has the layout the build
    /// checked against the compiled kernels.
    pub(crate) fn layout_assertions(&self) -> TokenStream {
        let checks = self.types.iter().map(|(ty, module)| {
            let ident = format_ident!("{}", ty.name);
            let size = usize::try_from(ty.size).unwrap_or(usize::MAX);
            let align = usize::try_from(ty.align).unwrap_or(usize::MAX);
            let message = format!(
                "`{}` is not the type the kernels were compiled for: they take the `{}` of `{}` \
                 ({size} bytes, align {align}); point `kernels!` at the module \
                 `sasskit::shared_types!({})` generated, with `{} = path::to::it`",
                quote!(#module::#ident).to_string().replace(' ', ""),
                ty.name,
                ty.header,
                ty.module,
                ty.module
            );
            quote! {
                const _: () = ::core::assert!(
                    ::core::mem::size_of::<#module::#ident>() == #size
                        && ::core::mem::align_of::<#module::#ident>() == #align,
                    #message
                );
            }
        });
        quote!(#(#checks)*)
    }
}
