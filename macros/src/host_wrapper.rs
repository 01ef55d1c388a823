//! One `extern "C"` declaration with the exact C types, and one typed wrapper, per host
//! function of a static library.
//!
//! The wrapper's parameters follow the C ones in order: `cudaStream_t`, and the `void*` and
//! integer parameters the build script marked with `StaticLibrary::stream_parameter`, take
//! `&CudaStream` (its handle passed as the C type); `const T*`/`T*` take device buffers of `T`
//! (`&impl DeviceBuffer<T>`, `&mut impl DeviceBufferMut<T>`; `void` pointees any buffer), and a
//! `T*` marked with `StaticLibrary::read_only` a shared one; pointers marked with
//! `StaticLibrary::host_pointer` stay raw pointers; values pass as they are. A function without
//! a stream parameter takes the context to run on first.
//!
//! The declaration in `ffi` has the exact C types, marks or not (`int64_t stream` is `i64`,
//! `void* stream` is `*mut c_void`), so that it coerces to the `unsafe extern "C" fn` types a
//! hand-written binding would declare; only the wrapper converts.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use sasskit_core::kernel::{ParamType, ValueType};
use sasskit_core::library::{HostFunction, HostParam, HostParamType};

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
        .find(|param| param.ty.is_stream())
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
        let (ty, value) = argument(param, &stream, &mut prelude);
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

/// The wrapper's type for `param` and the expression that converts it to the C argument;
/// buffers' address conversions go to `prelude`, recorded on `stream`.
fn argument(
    param: &HostParam,
    stream: &TokenStream,
    prelude: &mut Vec<TokenStream>,
) -> (TokenStream, TokenStream) {
    let private = quote!(::sasskit::__private);
    let arg = ident(&param.name);
    let guard = format_ident!("__sasskit_guard_{}", param.name);
    match &param.ty {
        // `as _`: the declared type, `CUstream` or (see `declared_type`) `*mut c_void`.
        HostParamType::Stream(None) => (
            quote!(&#private::cudarc::driver::CudaStream),
            quote!(#arg.cu_stream() as _),
        ),
        // The handle as the C API declares it: a pointer, or the pointer's bits as an
        // integer.
        HostParamType::Stream(Some(ty)) => {
            let c = c_type(&param.ty);
            let value = if matches!(ty, ParamType::Value(_)) {
                quote!(#arg.cu_stream() as usize as #c)
            } else {
                quote!(#arg.cu_stream() as #c)
            };
            (quote!(&#private::cudarc::driver::CudaStream), value)
        }
        HostParamType::Host(_) => (c_type(&param.ty), quote!(#arg)),
        HostParamType::ReadOnly(ParamType::MutPtr(ValueType::Void)) => {
            prelude.push(quote! {
                let (#arg, #guard) = #private::AnyDeviceBuffer::any_device_address(#arg, #stream);
            });
            (
                quote!(&impl #private::AnyDeviceBuffer),
                quote!(#arg as usize as *mut ::core::ffi::c_void),
            )
        }
        HostParamType::ReadOnly(ty) => {
            let element = value_type(ty.value_type());
            prelude.push(quote! {
                let (#arg, #guard) = #private::DeviceBuffer::<#element>::device_address(#arg, #stream);
            });
            (
                quote!(&impl #private::DeviceBuffer<#element>),
                quote!(#arg as usize as *mut #element),
            )
        }
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
    }
}

/// The Rust type the declaration in `ffi` gives `param`: its C type exactly. A stream the
/// manifest records as a handle but whose C type is a pointer (a manifest written before marked
/// streams recorded their C type) is declared `*mut c_void`, as it is in C.
fn declared_type(param: &HostParam) -> TokenStream {
    if param.ty == HostParamType::Stream(None) && param.c_type.contains('*') {
        return quote!(*mut ::core::ffi::c_void);
    }
    c_type(&param.ty)
}

/// The Rust type of the C parameter, exactly: what the declaration in `ffi` takes.
fn c_type(ty: &HostParamType) -> TokenStream {
    let private = quote!(::sasskit::__private);
    match ty {
        HostParamType::Stream(None) => quote!(#private::cudarc::driver::sys::CUstream),
        HostParamType::Stream(Some(ty))
        | HostParamType::Device(ty)
        | HostParamType::Host(ty)
        | HostParamType::ReadOnly(ty) => match ty {
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
        " The arguments follow the C parameters: a stream (`cudaStream_t`, or a `void*` or integer the".to_owned(),
        " build script marked with `StaticLibrary::stream_parameter`) is a `&CudaStream`, on which the".to_owned(),
        " buffers' use is recorded; `const T*` takes `&impl DeviceBuffer<T>`, `T*` `&mut impl".to_owned(),
        " DeviceBufferMut<T>` (`void` pointees: a buffer of any element type; `&sasskit::Null` or `None`".to_owned(),
        " is a null pointer); pointers the build script marked with `StaticLibrary::host_pointer` are".to_owned(),
        " raw host pointers. It fails without calling anything on a device the library was not".to_owned(),
        " checked for, or is unavailable on (an optional library), and returns the CUDA runtime's".to_owned(),
        " error if the function left one (`cudaGetLastError`).".to_owned(),
    ];
    let read_only: Vec<String> = function
        .params
        .iter()
        .filter(|param| matches!(param.ty, HostParamType::ReadOnly(_)))
        .map(|param| format!("`{}`", param.name))
        .collect();
    if !read_only.is_empty() {
        lines.push(String::new());
        lines.push(
            " Read-only by the build script's promise (`StaticLibrary::read_only`), though C declares them"
                .to_owned(),
        );
        lines.push(format!(
            " mutable: {}; they take shared buffers.",
            read_only.join(", ")
        ));
    }
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
