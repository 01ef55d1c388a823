//! The macros' inputs: `[visibility] module_name`, and for `kernels!` where the shared types are.

use syn::parse::{Parse, ParseStream};

/// `kernels!(pub saxpy)`, or `kernels!(pub echo, shared = crate::gpu::shared)`.
pub(crate) struct KernelsInput {
    pub(crate) visibility: syn::Visibility,
    pub(crate) module: syn::Ident,
    /// `header_module = path`: where `shared_types!(header_module)` put the types of a shared
    /// header, for headers whose types are not at `super::header_module`.
    pub(crate) shared: Vec<(syn::Ident, syn::Path)>,
}

/// `shared_types!(pub params)`, or `shared_types!(pub params as params_types)`.
pub(crate) struct SharedTypesInput {
    pub(crate) visibility: syn::Visibility,
    /// The header's module name, which names its `.types.toml`.
    pub(crate) module: syn::Ident,
    /// The name of the generated Rust module, when it is not `module`.
    pub(crate) rename: Option<syn::Ident>,
}

impl SharedTypesInput {
    /// The name of the generated Rust module.
    pub(crate) fn rust_module(&self) -> &syn::Ident {
        self.rename.as_ref().unwrap_or(&self.module)
    }
}

impl Parse for KernelsInput {
    fn parse(input: ParseStream<'_>) -> syn::Result<KernelsInput> {
        let visibility = input.parse()?;
        let module = input.parse().map_err(|error| {
            syn::Error::new(
                error.span(),
                "expected the module name of a `.cu` file compiled by sasskit-build, e.g. \
                 `sasskit::kernels!(saxpy)` for `saxpy.cu`",
            )
        })?;
        let mut shared = Vec::new();
        while input.peek(syn::Token![,]) {
            let _: syn::Token![,] = input.parse()?;
            if input.is_empty() {
                break;
            }
            let header: syn::Ident = input.parse().map_err(|error| {
                syn::Error::new(
                    error.span(),
                    "expected `header = path`: where `sasskit::shared_types!(header)` put the \
                     types of a shared header, e.g. `params = crate::gpu::params`",
                )
            })?;
            let _: syn::Token![=] = input.parse()?;
            let path: syn::Path = input.parse()?;
            shared.push((header, path));
        }
        let _: Option<syn::Token![;]> = input.parse()?;
        if !input.is_empty() {
            return Err(input.error(
                "unexpected tokens after the module name; expected `, header = path` or nothing",
            ));
        }
        Ok(KernelsInput {
            visibility,
            module,
            shared,
        })
    }
}

impl Parse for SharedTypesInput {
    fn parse(input: ParseStream<'_>) -> syn::Result<SharedTypesInput> {
        let visibility = input.parse()?;
        let module = input.parse().map_err(|error| {
            syn::Error::new(
                error.span(),
                "expected the module name of a shared header given to sasskit-build, e.g. \
                 `sasskit::shared_types!(params)` for `Build::shared_header(\"kernels/params.h\")`",
            )
        })?;
        let rename = if input.peek(syn::Token![as]) {
            let _: syn::Token![as] = input.parse()?;
            Some(input.parse()?)
        } else {
            None
        };
        let _: Option<syn::Token![;]> = input.parse()?;
        if !input.is_empty() {
            return Err(input.error(
                "unexpected tokens after the module name; expected `as other_name` or nothing",
            ));
        }
        Ok(SharedTypesInput {
            visibility,
            module,
            rename,
        })
    }
}
