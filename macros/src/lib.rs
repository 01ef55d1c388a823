//! Implementation detail of [sasskit](https://docs.rs/sasskit): the `kernels!` macro, which turns
//! the manifest that `sasskit-build` wrote for a `.cu` file into typed launch wrappers.
//!
//! Use it through `sasskit::kernels!`; this crate's API follows sasskit's version exactly.

mod expand;
mod input;
mod manifest_file;
mod names;
mod wrapper;

use proc_macro::TokenStream;

/// Embeds the fat binary of a `.cu` file compiled by `sasskit-build` and generates a module
/// with a `Module` type that loads it (refusing PTX JIT fallback) and one typed, documented
/// `unsafe` method per `extern "C" __global__` kernel.
///
/// `kernels!(saxpy)` reads `$OUT_DIR/sasskit/saxpy.toml`; `kernels!(pub saxpy)` makes the
/// generated module public.
#[proc_macro]
pub fn kernels(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as input::KernelsInput);
    expand::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
