//! One typed, documented launch method per kernel.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use sasskit_core::kernel::{KernelSignature, ParamType, Scalar, ValueType};

use crate::names::{ident, param_ident};
use crate::type_paths::TypePaths;

/// The method that launches `kernel`, whose `CudaFunction` is in the field `field`; shared
/// types are named through `types`.
pub(crate) fn wrapper(kernel: &KernelSignature, field: &str, types: &TypePaths) -> TokenStream {
    let private = quote!(::sasskit::__private);
    let method = ident(&kernel.name);
    let field = format_ident!("{}", field);
    let doc = doc(kernel);
    let mut params = Vec::new();
    let mut pushes = Vec::new();
    for param in &kernel.params {
        let name = param_ident(&param.name);
        match &param.ty {
            ParamType::Value(value) => {
                let ty = value_type(value, types);
                params.push(quote!(#name: #ty));
                pushes
                    .push(quote!(#private::cudarc::driver::PushKernelArg::arg(&mut args, &#name);));
            }
            ParamType::ConstPtr(value) => {
                let ty = value_type(value, types);
                params.push(quote!(#name: &impl #private::DeviceBuffer<#ty>));
                pushes.push(quote!(#private::DeviceBuffer::<#ty>::push_arg(#name, &mut args);));
            }
            ParamType::MutPtr(value) => {
                let ty = value_type(value, types);
                params.push(quote!(#name: &mut impl #private::DeviceBufferMut<#ty>));
                pushes.push(
                    quote!(#private::DeviceBufferMut::<#ty>::push_arg_mut(#name, &mut args);),
                );
            }
        }
    }
    quote! {
        #[doc = #doc]
        #[allow(clippy::too_many_arguments)]
        pub unsafe fn #method(
            &self,
            stream: &#private::cudarc::driver::CudaStream,
            config: #private::cudarc::driver::LaunchConfig,
            #(#params),*
        ) -> ::core::result::Result<(), #private::cudarc::driver::DriverError> {
            let mut args = stream.launch_builder(&self.#field);
            #(#pushes)*
            // SAFETY: the caller upholds the kernel's contract (see `# Safety`); the argument
            // types match the kernel's parameters, checked when the wrapper was generated.
            unsafe { args.launch(config) }.map(|_| ())
        }
    }
}

fn value_type(value: &ValueType, types: &TypePaths) -> TokenStream {
    match value {
        ValueType::Scalar(scalar) => scalar_type(*scalar),
        ValueType::Shared(name) => types.path(name),
    }
}

fn scalar_type(scalar: Scalar) -> TokenStream {
    let private = quote!(::sasskit::__private);
    match scalar {
        Scalar::F16 => quote!(#private::half::f16),
        Scalar::Bf16 => quote!(#private::half::bf16),
        other => {
            let name = format_ident!("{}", other.rust_name());
            quote!(#name)
        }
    }
}

fn doc(kernel: &KernelSignature) -> String {
    let lines = [
        format!(" Launches the kernel `{}` ({}:{}):", kernel.name, kernel.file, kernel.line),
        String::new(),
        " ```c".to_owned(),
        format!(" {}", kernel.c_declaration()),
        " ```".to_owned(),
        String::new(),
        " The arguments follow the C parameters in order; pointers are device buffers: `const T*` takes".to_owned(),
        " `&impl DeviceBuffer<T>` (a `CudaSlice<T>` or a view), `T*` takes `&mut impl DeviceBufferMut<T>`.".to_owned(),
        " Structs, unions and enums of shared headers are the types `sasskit::shared_types!` generated.".to_owned(),
        String::new(),
        " # Safety".to_owned(),
        String::new(),
        " The kernel runs unchecked device code: `config` and the arguments must satisfy its contract".to_owned(),
        " (grid and block sizes, buffer lengths it indexes, values it assumes), as for any cudarc launch.".to_owned(),
    ];
    lines.join("\n")
}
