//! Implementation detail of [sasskit](https://docs.rs/sasskit): the `kernels!` macro, which turns
//! the manifest that `sasskit-build` wrote for a `.cu` file into typed launch wrappers, and
//! `shared_types!`, which includes the Rust types generated from a shared C header.
//!
//! Use it through `sasskit::kernels!`; this crate's API follows sasskit's version exactly.

mod expand;
mod facts;
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
/// # Kernel families
///
/// Kernels whose names differ only in element-type tokens (`affine_f32`, `affine_bf16`;
/// `cast_f32_bf16`, `cast_u8_f16`) also get one generic method per family
/// (`module.affine::<T>(…)`, `module.cast::<T1, T2>(…)`), bound by a sealed trait of the
/// module (`affine::AffineTypes`) that generic code names; `sasskit_build::Build`'s
/// `kernel_families` and `kernel_family` settings, recorded in the manifest, change the rules:
///
/// * **Members.** The automatic rule splits each typed kernel's name at `_` and reads every
///   part that is an element-type token (`f16`, `bf16`, `f32`, `f64`, `f8_e4m3`/`fp8_e4m3`,
///   `f8_e5m2`/`fp8_e5m2`, `i8` … `i64`, `u8` … `u64`) as a type; the rest is the pattern
///   (`cast_f32_bf16` → `cast_{}_{}` with `(f32, bf16)`). Kernels with the same pattern are
///   one group; a group of one kernel is no family.
/// * **Signature.** Every member must have the same parameters, except that where the name has
///   a type, the parameters may have it too: the family's signature is the one that fits the
///   most members, and a parameter whose type is the member's `k`-th type in every member is
///   generic. Each type of the name must be the type of some parameter, so that the arguments
///   tell the compiler the type parameters.
/// * **Partial families.** A member whose parameters differ beyond that keeps its own method
///   and is left out of the family (and out of its trait, so the generic method refuses its
///   types at compile time); so is a second kernel with the same types (`ucopy_f8_e4m3` and
///   `ucopy_fp8_e4m3`). A group where fewer than two kernels fit is no family. The module's
///   documentation lists what was left out and why.
/// * **Names.** The method is the pattern without its types, `_` runs made one and trimmed
///   (`cast_{}_{}` → `cast`, `where_{}_{}` → `r#where`); its trait is that name in camel case
///   with `Types` (`CastTypes`). Type parameters are `T` for one type, `T1`, `T2`, … for more,
///   in the order of the name. A family whose name is taken (a method of `Module`, a kernel's
///   method, another family's name) or that has no name (`{}_2d`) is left out and listed;
///   `Build::kernel_family` names it.
/// * **Declared families** (`Build::kernel_family(name, pattern)`) are matched first, with `{}`
///   anywhere in the name (`saxpy{}` takes `saxpyf32`); one member is enough. For them a taken
///   name or a type the parameters do not have is a compile error naming the fix.
///   `Build::kernel_families(false)` turns the automatic rule off.
///
/// Each family's trait is sealed and implemented for the types (tuples of types for more than
/// one) of its members only, so `module.affine::<i8>(…)` without an `affine_i8` kernel is a
/// compile error that lists the types that exist. The module keeps one table per family, a
/// `OnceLock` per member that the per-type methods share, indexed by a constant of the trait:
/// no name is formatted or hashed at launch.
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
