//! The macro's input: `[visibility] module_name`.

use syn::parse::{Parse, ParseStream};

/// `kernels!(pub saxpy)`.
pub(crate) struct KernelsInput {
    pub(crate) visibility: syn::Visibility,
    pub(crate) module: syn::Ident,
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
        let _: Option<syn::Token![;]> = input.parse()?;
        if !input.is_empty() {
            return Err(input.error("unexpected tokens after the module name"));
        }
        Ok(KernelsInput { visibility, module })
    }
}
