//! One `extern "C"` declaration with the exact C types, and one typed wrapper, per host
//! function of a static library.
//!
//! The wrapper's parameters follow the C ones in order: `cudaStream_t` takes `&CudaStream`,
//! `const T*`/`T*` take device buffers of `T` (`&impl DeviceBuffer<T>`, `&mut impl
//! DeviceBufferMut<T>`; `void` pointees any buffer), pointers the build script marked with
//! `StaticLibrary::host_pointer` stay raw pointers, values pass as they are. A function without
//! a stream parameter takes the context to run on first.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use sasskit_core::kernel::{ParamType, ValueType};
use sasskit_core::library::{HostFunction, HostParamType};

use crate::names::ident;
use crate::wrapper::scalar_type;

/// The name of the context parameter of functions that take no stream.
const CONTEXT_PARAM: &str = "cuda_context";

/// The declaration in the `ffi` module.
pub(crate) fn declaration(function: &HostFunction) -> TokenStream {
    let name = ident(&function.name);
    let doc = format!(
        " `{}` ({}:{}).",
        function.c_declaration(),
        function.file,
        function.line
    );
    let params = function.params.iter().map(|param| {
        let arg = ident(&param.name);
        let ty = declared_type(param);
        quote!(#arg: #ty)
    });
    let returns = return_type(function);
    quote! {
        #[doc = #doc]
        pub fn #name(#(#params),*) #returns;
    }
}

/// The typed method of the generated `Library`.
pub(crate) fn wrapper(function: &HostFunction) -> TokenStream {
    let private = quote!(::sasskit::__private);
    let method = ident(&function.name);
    let name = &function.name;
    let stream_param = function
        .params
        .iter()
        .find(|param| param.ty == HostParamType::Stream)
        .map(|param| ident(&param.name));
    let mut params = Vec::new();
    let mut prelude = Vec::new();
    let mut call_args = Vec::new();
    let context = format_ident!("{}", CONTEXT_PARAM);
    let (stream, enter) = if let Some(stream) = &stream_param {
        (
            quote!(#stream),
            quote!(self.checked.enter(#name, #stream)?;),
        )
    } else {
        params.push(quote!(#context: &::std::sync::Arc<#private::cudarc::driver::CudaContext>));
        (
            quote!(&__sasskit_stream),
            quote! {
                let __sasskit_stream = #context.default_stream();
                self.checked.enter(#name, &__sasskit_stream)?;
            },
        )
    };
    for param in &function.params {
        let arg = ident(&param.name);
        let guard = format_ident!("__sasskit_guard_{}", param.name);
        let (ty, value) = match &param.ty {
            // The handle converted to the declared C type (`cudaStream_t` or `void*`).
            HostParamType::Stream => (
                quote!(&#private::cudarc::driver::CudaStream),
                quote!(#arg.cu_stream() as _),
            ),
            HostParamType::Host(_) => (c_type(&param.ty), quote!(#arg)),
            HostParamType::Device(ParamType::Value(value)) => (value_type(value), quote!(#arg)),
            HostParamType::Device(ParamType::ConstPtr(ValueType::Void)) => {
                prelude.push(quote! {
                    let (#arg, #guard) = #private::AnyDeviceBuffer::any_device_address(#arg, #stream);
                });
                (
                    quote!(&impl #private::AnyDeviceBuffer),
                    quote!(#arg as usize as *const ::core::ffi::c_void),
                )
            }
            HostParamType::Device(ParamType::MutPtr(ValueType::Void)) => {
                prelude.push(quote! {
                    let (#arg, #guard) = #private::AnyDeviceBufferMut::any_device_address_mut(#arg, #stream);
                });
                (
                    quote!(&mut impl #private::AnyDeviceBufferMut),
                    quote!(#arg as usize as *mut ::core::ffi::c_void),
                )
            }
            HostParamType::Device(ParamType::ConstPtr(value)) => {
                let element = value_type(value);
                prelude.push(quote! {
                    let (#arg, #guard) = #private::DeviceBuffer::<#element>::device_address(#arg, #stream);
                });
                (
                    quote!(&impl #private::DeviceBuffer<#element>),
                    quote!(#arg as usize as *const #element),
                )
            }
            HostParamType::Device(ParamType::MutPtr(value)) => {
                let element = value_type(value);
                prelude.push(quote! {
                    let (#arg, #guard) = #private::DeviceBufferMut::<#element>::device_address_mut(#arg, #stream);
                });
                (
                    quote!(&mut impl #private::DeviceBufferMut<#element>),
                    quote!(#arg as usize as *mut #element),
                )
            }
        };
        params.push(quote!(#arg: #ty));
        call_args.push(value);
    }
    let returns = if let Some(ParamType::Value(value)) = &function.returns {
        value_type(value)
    } else {
        quote!(())
    };
    let doc = doc(function, stream_param.is_none());
    quote! {
        #[doc = #doc]
        #[allow(non_snake_case, clippy::too_many_arguments, clippy::used_underscore_binding)]
        pub unsafe fn #method(
            &self,
            #(#params),*
        ) -> ::core::result::Result<#returns, #private::LaunchError> {
            #enter
            #(#prelude)*
            // SAFETY: the caller upholds the function's contract (see `# Safety`); the argument
            // types are the C parameters' (the declaration in `ffi`), and device pointers are
            // the buffers' addresses, whose guards record the use on the stream when dropped
            // after the call.
            let returned = unsafe { ffi::#method(#(#call_args),*) };
            // SAFETY: the CUDA runtime linked with the library; no arguments.
            let status = unsafe { ffi::cudaGetLastError() };
            self.checked.finish(#name, status, ffi::cudaGetErrorName)?;
            ::core::result::Result::Ok(returned)
        }
    }
}

/// The Rust type the declaration in `ffi` gives `param`: its C type exactly, also for a stream
/// passed as `void*` (marked with `StaticLibrary::stream_parameter`), so that callers who cast
/// `ffi`'s functions to their own `unsafe extern "C" fn` types keep the C signature.
fn declared_type(param: &sasskit_core::library::HostParam) -> TokenStream {
    if param.ty == HostParamType::Stream && param.c_type.contains('*') {
        return quote!(*mut ::core::ffi::c_void);
    }
    c_type(&param.ty)
}

/// The Rust type of the C parameter, exactly: what the declaration in `ffi` takes.
fn c_type(ty: &HostParamType) -> TokenStream {
    let private = quote!(::sasskit::__private);
    match ty {
        HostParamType::Stream => quote!(#private::cudarc::driver::sys::CUstream),
        HostParamType::Device(ty) | HostParamType::Host(ty) => match ty {
            ParamType::Value(value) => value_type(value),
            ParamType::ConstPtr(value) => {
                let value = value_type(value);
                quote!(*const #value)
            }
            ParamType::MutPtr(value) => {
                let value = value_type(value);
                quote!(*mut #value)
            }
        },
    }
}

fn value_type(value: &ValueType) -> TokenStream {
    match value {
        ValueType::Scalar(scalar) => scalar_type(*scalar),
        ValueType::Vector(vector) => {
            let name = format_ident!("{}", vector.rust_name());
            quote!(::sasskit::__private::vector::#name)
        }
        ValueType::Void => quote!(::core::ffi::c_void),
        // The build leaves functions with shared types untyped; this is never reached.
        ValueType::Shared(name) => {
            let message = format!("sasskit: shared type `{name}` in a host function");
            quote!(::core::compile_error!(#message))
        }
    }
}

fn return_type(function: &HostFunction) -> TokenStream {
    match &function.returns {
        Some(ParamType::Value(value)) => {
            let ty = value_type(value);
            quote!(-> #ty)
        }
        _ => TokenStream::new(),
    }
}

fn doc(function: &HostFunction, takes_context: bool) -> String {
    let mut lines = vec![
        format!(
            " Calls the host function `{}` ({}:{}) of the static library:",
            function.name, function.file, function.line
        ),
        String::new(),
        " ```c".to_owned(),
        format!(" {}", function.c_declaration()),
        " ```".to_owned(),
        String::new(),
        " The arguments follow the C parameters: `cudaStream_t` is a `&CudaStream`; `const T*` takes".to_owned(),
        " `&impl DeviceBuffer<T>`, `T*` `&mut impl DeviceBufferMut<T>` (`void` pointees: a buffer of any".to_owned(),
        " element type; `&sasskit::Null` or `None` is a null pointer); pointers the build script marked".to_owned(),
        " with `StaticLibrary::host_pointer` are raw host pointers. It fails without calling anything".to_owned(),
        " on a device the library was not checked for, and returns the CUDA runtime's error if the".to_owned(),
        " function left one (`cudaGetLastError`).".to_owned(),
    ];
    if takes_context {
        lines.push(String::new());
        lines.push(format!(
            " The function takes no stream: `{CONTEXT_PARAM}` is the context whose device it runs on."
        ));
    }
    lines.extend([
        String::new(),
        " # Safety".to_owned(),
        String::new(),
        " The function runs unchecked host and device code: the arguments must satisfy its contract".to_owned(),
        " (buffer lengths, sizes, pointers it dereferences), as for any FFI call.".to_owned(),
    ]);
    lines.join("\n")
}
