//! Implementation detail of [sasskit](https://docs.rs/sasskit): the `kernels!` macro, which turns
//! the manifest that `sasskit-build` wrote for a `.cu` file into typed launch wrappers, and
//! `shared_types!`, which includes the Rust types generated from a shared C header.
//!
//! Use it through `sasskit::kernels!`; this crate's API follows sasskit's version exactly.

mod expand;
mod families;
mod host_functions;
mod host_wrapper;
mod input;
mod manifest_file;
mod names;
mod shared_types;
mod type_paths;
mod wrapper;

use proc_macro::TokenStream;

/// Embeds the fat binary of a `.cu` file compiled by `sasskit-build` and generates a module
/// with a `Module` type that loads it (refusing PTX JIT fallback) and one typed, documented
/// `unsafe` method per `extern "C" __global__` kernel.
///
/// `kernels!(saxpy)` reads `$OUT_DIR/sasskit/saxpy.toml`; `kernels!(pub saxpy)` makes the
/// generated module public. Kernels that take types of a shared header `params.h` refer to
/// them as `super::params::Name`, where `shared_types!(params)` next to `kernels!` puts them;
/// `kernels!(saxpy, params = crate::gpu::params)` says where they are instead.
///
/// Kernels whose names differ only in element-type tokens (`affine_f32`, `affine_bf16`;
/// `cast_f32_bf16`, `cast_u8_f16`) also get one generic method per family
/// (`module.affine::<T>(…)`, `module.cast::<T1, T2>(…)`) whose types are bound by a sealed trait
/// (`affine::AffineTypes`) implemented for the types the module has kernels for only; the
/// rules for members, names, collisions and partial families are in the `families` module's
/// documentation and the README, and `sasskit_build::Build::kernel_families` /
/// `kernel_family` change them.
#[proc_macro]
pub fn kernels(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as input::KernelsInput);
    expand::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Includes the Rust types `sasskit-build` generated with bindgen from a shared C header
/// (`Build::shared_header("kernels/params.h")`) as a module, implements cudarc's `DeviceRepr`
/// and `ValidAsZeroBits` for each, and asserts at compile time that each has the size and
/// alignment clang computed.
///
/// `shared_types!(params)` reads `$OUT_DIR/sasskit/params.types.toml`; `shared_types!(pub
/// params)` makes the module public; `shared_types!(params as gpu_params)` names the module
/// `gpu_params` (for a header whose stem is also a `.cu` module's), which `kernels!` then needs
/// told: `kernels!(echo, params = super::gpu_params)`.
#[proc_macro]
pub fn shared_types(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as input::SharedTypesInput);
    shared_types::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Declares the `extern "C"` host functions of a static library built by `sasskit-build`
/// (`Build::static_library`) and generates a module with a `Library` type that checks the
/// devices (SASS for every one, as a module load does) and one typed, documented `unsafe`
/// method per function.
///
/// `host_functions!(moe)` reads `$OUT_DIR/sasskit/moe.library.toml`; `host_functions!(pub moe)`
/// makes the module public. The raw declarations, with the exact C types, are in `moe::ffi`.
#[proc_macro]
pub fn host_functions(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as input::KernelsInput);
    host_functions::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
