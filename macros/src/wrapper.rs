//! One typed, documented launch method per kernel.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};
use sasskit_core::kernel::{KernelSignature, ParamType, Scalar, ValueType};

use crate::names::{ident, param_ident};
use crate::type_paths::TypePaths;

/// The method that launches `kernel`, whose `CudaFunction` is looked up on first use and kept
/// in `cell` (an expression of type `&OnceLock<CudaFunction>`, `&self.fn_saxpy`);
/// `every_target` are the module's targets; shared types are named through `types`.
pub(crate) fn wrapper(
    kernel: &KernelSignature,
    cell: &TokenStream,
    every_target: &[String],
    types: &TypePaths,
) -> TokenStream {
    let private = quote!(::sasskit::__private);
    let method = ident(&kernel.name);
    let name = &kernel.name;
    let doc = doc(kernel, every_target);
    let mut params = Vec::new();
    let mut pushes = Vec::new();
    for param in &kernel.params {
        let arg = param_ident(&param.name);
        if param.ty == ParamType::Value(ValueType::Void) {
            let message = format!(
                "sasskit: kernel `{name}` takes `void` by value; rebuild the crate with the \
                 same sasskit-build version"
            );
            return quote!(::core::compile_error!(#message););
        }
        let element = value_type(param.ty.value_type(), types);
        let (ty, push) = argument(&arg, &param.ty, &element);
        params.push(quote!(#arg: #ty));
        pushes.push(push);
    }
    quote! {
        #[doc = #doc]
        #[allow(clippy::too_many_arguments)]
        pub unsafe fn #method(
            &self,
            stream: &#private::cudarc::driver::CudaStream,
            config: #private::cudarc::driver::LaunchConfig,
            #(#params),*
        ) -> ::core::result::Result<(), #private::LaunchError> {
            let function = #private::resolve(&self.loaded, #cell, #name)?;
            let mut args = stream.launch_builder(function);
            #(#pushes)*
            // SAFETY: the caller upholds the kernel's contract (see `# Safety`); the argument
            // types match the kernel's parameters, checked when the wrapper was generated.
            let launched = unsafe { args.launch(config) }.map(|_| ());
            #private::launched(&self.loaded, #name, launched)
        }
    }
}

/// The Rust type of the argument `arg` for a parameter passed as `ty`, whose element type is
/// `element` (not used for `void` pointers), and the statement that pushes it onto `args`.
pub(crate) fn argument(
    arg: &Ident,
    ty: &ParamType,
    element: &TokenStream,
) -> (TokenStream, TokenStream) {
    let private = quote!(::sasskit::__private);
    match ty {
        ParamType::Value(_) => (
            quote!(#element),
            quote!(#private::cudarc::driver::PushKernelArg::arg(&mut args, &#arg);),
        ),
        ParamType::ConstPtr(ValueType::Void) => (
            quote!(&impl #private::AnyDeviceBuffer),
            quote!(#private::AnyDeviceBuffer::push_any(#arg, &mut args);),
        ),
        ParamType::MutPtr(ValueType::Void) => (
            quote!(&mut impl #private::AnyDeviceBufferMut),
            quote!(#private::AnyDeviceBufferMut::push_any_mut(#arg, &mut args);),
        ),
        ParamType::ConstPtr(_) => (
            quote!(&impl #private::DeviceBuffer<#element>),
            quote!(#private::DeviceBuffer::<#element>::push_arg(#arg, &mut args);),
        ),
        ParamType::MutPtr(_) => (
            quote!(&mut impl #private::DeviceBufferMut<#element>),
            quote!(#private::DeviceBufferMut::<#element>::push_arg_mut(#arg, &mut args);),
        ),
    }
}

pub(crate) fn value_type(value: &ValueType, types: &TypePaths) -> TokenStream {
    match value {
        ValueType::Scalar(scalar) => scalar_type(*scalar),
        ValueType::Vector(vector) => {
            let private = quote!(::sasskit::__private);
            let name = format_ident!("{}", vector.rust_name());
            quote!(#private::vector::#name)
        }
        ValueType::Shared(name) => types.path(name),
        // Only behind pointers, which `wrapper` maps before asking for the pointee.
        ValueType::Void => quote!(::core::ffi::c_void),
    }
}

pub(crate) fn scalar_type(scalar: Scalar) -> TokenStream {
    let private = quote!(::sasskit::__private);
    match scalar {
        Scalar::F16 => quote!(#private::half::f16),
        Scalar::Bf16 => quote!(#private::half::bf16),
        Scalar::F8E4M3 => quote!(#private::float8::F8E4M3),
        Scalar::F8E5M2 => quote!(#private::float8::F8E5M2),
        Scalar::CLong => quote!(::core::ffi::c_long),
        Scalar::CULong => quote!(::core::ffi::c_ulong),
        other => {
            let name = format_ident!("{}", other.rust_name());
            quote!(#name)
        }
    }
}

pub(crate) fn doc(kernel: &KernelSignature, every_target: &[String]) -> String {
    let mut lines = vec![
        format!(" Launches the kernel `{}` ({}:{}):", kernel.name, kernel.file, kernel.line),
        String::new(),
        " ```c".to_owned(),
        format!(" {}", kernel.c_declaration()),
        " ```".to_owned(),
        String::new(),
        " The arguments follow the C parameters in order; pointers are device buffers: `const T*` takes".to_owned(),
        " `&impl DeviceBuffer<T>` (a `CudaSlice<T>` or a view), `T*` takes `&mut impl DeviceBufferMut<T>`,".to_owned(),
        " `const void*`/`void*` a buffer of any element type; `&sasskit::Null` or `None` passes a null pointer.".to_owned(),
        " Structs, unions and enums of shared headers are the types `sasskit::shared_types!` generated.".to_owned(),
    ];
    let partial = !kernel.targets.is_empty()
        && !every_target
            .iter()
            .all(|target| kernel.targets.contains(target));
    if partial {
        lines.extend([
            String::new(),
            format!(
                " Only the images for {} define this kernel (the source guards it with `#if __CUDA_ARCH__`);",
                kernel.targets.join(", ")
            ),
            " on a device that loaded another image this returns `LaunchError::Lookup(LoadError::KernelNotInImage)`.".to_owned(),
        ]);
    }
    lines.extend([
        String::new(),
        " # Safety".to_owned(),
        String::new(),
        " The kernel runs unchecked device code: `config` and the arguments must satisfy its contract".to_owned(),
        " (grid and block sizes, buffer lengths it indexes, values it assumes), as for any cudarc launch.".to_owned(),
    ]);
    lines.join("\n")
}
