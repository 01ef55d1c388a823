//! Typed kernel arguments: what the generated launch wrappers accept for pointer parameters.
//!
//! A generated wrapper bounds a kernel parameter `const float* x` by [`DeviceBuffer<f32>`] and
//! `float* y` by [`DeviceBufferMut<f32>`], so a buffer of the wrong element type, or an
//! immutable buffer where the kernel writes, is a compile error that names the parameter's C
//! type.
//!
//! A null pointer is [`Null`] (`&sasskit::Null`), or `None` of an `Option` of a buffer: candle,
//! for one, passes `info = nullptr` for contiguous tensors. `const void*` and `void*`
//! parameters take a buffer of any element type, [`AnyDeviceBuffer`] and
//! [`AnyDeviceBufferMut`].
//!
//! The same traits give the device address of a buffer to the wrappers of host functions in
//! static libraries (`host_functions!`), with cudarc's guard that records the buffer's use on
//! the stream once the function has queued its work.

use cudarc::driver::sys::CUdeviceptr;
use cudarc::driver::{
    CudaSlice, CudaStream, CudaView, CudaViewMut, DevicePtr, DevicePtrMut, LaunchArgs,
    PushKernelArg, SyncOnDrop,
};

/// A null device pointer, for any pointer parameter: `&sasskit::Null` where the kernel takes a
/// `const T*`, `&mut sasskit::Null` where it takes a `T*`.
///
/// The kernel receives `nullptr`; whether it accepts one is part of its contract, as in C.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Null;

/// The device address a null pointer argument points the driver at: the driver copies the
/// parameter's 8 bytes from here.
static NULL_DEVICE_POINTER: u64 = 0;

fn push_null(args: &mut LaunchArgs<'_>) {
    args.arg(&NULL_DEVICE_POINTER);
}

/// A null device address for a host function, with a guard that does nothing.
fn null_address<'a>() -> (CUdeviceptr, SyncOnDrop<'a>) {
    (0, SyncOnDrop::Sync(None))
}

/// A device buffer of any element type that a kernel may read: the Rust side of a
/// `const void*` parameter.
///
/// Implemented for every [`CudaSlice<T>`] and [`CudaView<T>`] (and references to them),
/// [`Null`] and `Option`s of them.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a device buffer",
    label = "the kernel parameter is a `const void*`: pass a `CudaSlice<T>` or a `CudaView<T>` of any `T`",
    note = "copy host data to the device first, e.g. with `stream.clone_htod(&data)`"
)]
pub trait AnyDeviceBuffer {
    /// Appends the buffer's device pointer to a kernel launch.
    fn push_any<'a>(&'a self, args: &mut LaunchArgs<'a>);

    /// The buffer's device address for a call on `stream`, and the guard that records the read
    /// when dropped (after the call). Null is address 0.
    fn any_device_address<'a>(&'a self, stream: &'a CudaStream) -> (CUdeviceptr, SyncOnDrop<'a>);
}

/// A device buffer of any element type that a kernel may write: the Rust side of a `void*`
/// parameter.
///
/// Implemented for every [`CudaSlice<T>`] and [`CudaViewMut<T>`] (and mutable references to
/// them), [`Null`] and `Option`s of them.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a mutable device buffer",
    label = "the kernel parameter is a `void*` that the kernel may write: pass a `&mut CudaSlice<T>` or a `&mut CudaViewMut<T>` of any `T`",
    note = "a kernel that only reads the buffer should declare the parameter `const void*`"
)]
pub trait AnyDeviceBufferMut {
    /// Appends the buffer's device pointer to a kernel launch, for writing.
    fn push_any_mut<'a>(&'a mut self, args: &mut LaunchArgs<'a>);

    /// The buffer's device address for a call on `stream` that writes it, and the guard that
    /// records the write when dropped (after the call). Null is address 0.
    fn any_device_address_mut<'a>(
        &'a mut self,
        stream: &'a CudaStream,
    ) -> (CUdeviceptr, SyncOnDrop<'a>);
}

/// A device buffer of `T` that a kernel may read: the Rust side of a `const T*` parameter.
///
/// Implemented for [`CudaSlice<T>`] and [`CudaView<T>`], and for references to them.
/// (cudarc launches a [`CudaViewMut`] only by mutable reference; pass `view.as_view()` where
/// the kernel only reads.)
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a device buffer of `{T}`",
    label = "the kernel parameter is a `const {T}*`: pass a `CudaSlice<{T}>` or a `CudaView<{T}>`",
    note = "copy host data to the device first, e.g. with `stream.clone_htod(&data)`"
)]
pub trait DeviceBuffer<T> {
    /// Appends the buffer's device pointer to a kernel launch.
    fn push_arg<'a>(&'a self, args: &mut LaunchArgs<'a>);

    /// The buffer's device address for a call on `stream`, and the guard that records the read
    /// when dropped (after the call). Null is address 0.
    fn device_address<'a>(&'a self, stream: &'a CudaStream) -> (CUdeviceptr, SyncOnDrop<'a>);
}

/// A device buffer of `T` that a kernel may write: the Rust side of a `T*` parameter.
///
/// Implemented for [`CudaSlice<T>`] and [`CudaViewMut<T>`], and for mutable references to them.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a mutable device buffer of `{T}`",
    label = "the kernel parameter is a `{T}*` that the kernel may write: pass a `&mut CudaSlice<{T}>` or a `&mut CudaViewMut<{T}>`",
    note = "a kernel that only reads the buffer should declare the parameter `const`"
)]
pub trait DeviceBufferMut<T> {
    /// Appends the buffer's device pointer to a kernel launch, for writing.
    fn push_arg_mut<'a>(&'a mut self, args: &mut LaunchArgs<'a>);

    /// The buffer's device address for a call on `stream` that writes it, and the guard that
    /// records the write when dropped (after the call). Null is address 0.
    fn device_address_mut<'a>(
        &'a mut self,
        stream: &'a CudaStream,
    ) -> (CUdeviceptr, SyncOnDrop<'a>);
}

impl<T> DeviceBuffer<T> for CudaSlice<T> {
    fn push_arg<'a>(&'a self, args: &mut LaunchArgs<'a>) {
        args.arg(self);
    }

    fn device_address<'a>(&'a self, stream: &'a CudaStream) -> (CUdeviceptr, SyncOnDrop<'a>) {
        self.device_ptr(stream)
    }
}

impl<T> DeviceBuffer<T> for CudaView<'_, T> {
    fn push_arg<'a>(&'a self, args: &mut LaunchArgs<'a>) {
        args.arg(self);
    }

    fn device_address<'a>(&'a self, stream: &'a CudaStream) -> (CUdeviceptr, SyncOnDrop<'a>) {
        self.device_ptr(stream)
    }
}

impl<T, B: DeviceBuffer<T> + ?Sized> DeviceBuffer<T> for &B {
    fn push_arg<'a>(&'a self, args: &mut LaunchArgs<'a>) {
        (**self).push_arg(args);
    }

    fn device_address<'a>(&'a self, stream: &'a CudaStream) -> (CUdeviceptr, SyncOnDrop<'a>) {
        (**self).device_address(stream)
    }
}

impl<T, B: DeviceBuffer<T> + ?Sized> DeviceBuffer<T> for &mut B {
    fn push_arg<'a>(&'a self, args: &mut LaunchArgs<'a>) {
        (**self).push_arg(args);
    }

    fn device_address<'a>(&'a self, stream: &'a CudaStream) -> (CUdeviceptr, SyncOnDrop<'a>) {
        (**self).device_address(stream)
    }
}

impl<T> DeviceBufferMut<T> for CudaSlice<T> {
    fn push_arg_mut<'a>(&'a mut self, args: &mut LaunchArgs<'a>) {
        args.arg(self);
    }

    fn device_address_mut<'a>(
        &'a mut self,
        stream: &'a CudaStream,
    ) -> (CUdeviceptr, SyncOnDrop<'a>) {
        self.device_ptr_mut(stream)
    }
}

impl<T> DeviceBufferMut<T> for CudaViewMut<'_, T> {
    fn push_arg_mut<'a>(&'a mut self, args: &mut LaunchArgs<'a>) {
        args.arg(self);
    }

    fn device_address_mut<'a>(
        &'a mut self,
        stream: &'a CudaStream,
    ) -> (CUdeviceptr, SyncOnDrop<'a>) {
        self.device_ptr_mut(stream)
    }
}

impl<T, B: DeviceBufferMut<T> + ?Sized> DeviceBufferMut<T> for &mut B {
    fn push_arg_mut<'a>(&'a mut self, args: &mut LaunchArgs<'a>) {
        (**self).push_arg_mut(args);
    }

    fn device_address_mut<'a>(
        &'a mut self,
        stream: &'a CudaStream,
    ) -> (CUdeviceptr, SyncOnDrop<'a>) {
        (**self).device_address_mut(stream)
    }
}

impl<T> DeviceBuffer<T> for Null {
    fn push_arg<'a>(&'a self, args: &mut LaunchArgs<'a>) {
        push_null(args);
    }

    fn device_address<'a>(&'a self, _: &'a CudaStream) -> (CUdeviceptr, SyncOnDrop<'a>) {
        null_address()
    }
}

impl<T> DeviceBufferMut<T> for Null {
    fn push_arg_mut<'a>(&'a mut self, args: &mut LaunchArgs<'a>) {
        push_null(args);
    }

    fn device_address_mut<'a>(&'a mut self, _: &'a CudaStream) -> (CUdeviceptr, SyncOnDrop<'a>) {
        null_address()
    }
}

impl<T, B: DeviceBuffer<T>> DeviceBuffer<T> for Option<B> {
    fn push_arg<'a>(&'a self, args: &mut LaunchArgs<'a>) {
        match self {
            Some(buffer) => buffer.push_arg(args),
            None => push_null(args),
        }
    }

    fn device_address<'a>(&'a self, stream: &'a CudaStream) -> (CUdeviceptr, SyncOnDrop<'a>) {
        match self {
            Some(buffer) => buffer.device_address(stream),
            None => null_address(),
        }
    }
}

impl<T, B: DeviceBufferMut<T>> DeviceBufferMut<T> for Option<B> {
    fn push_arg_mut<'a>(&'a mut self, args: &mut LaunchArgs<'a>) {
        match self {
            Some(buffer) => buffer.push_arg_mut(args),
            None => push_null(args),
        }
    }

    fn device_address_mut<'a>(
        &'a mut self,
        stream: &'a CudaStream,
    ) -> (CUdeviceptr, SyncOnDrop<'a>) {
        match self {
            Some(buffer) => buffer.device_address_mut(stream),
            None => null_address(),
        }
    }
}

impl<T> AnyDeviceBuffer for CudaSlice<T> {
    fn push_any<'a>(&'a self, args: &mut LaunchArgs<'a>) {
        args.arg(self);
    }

    fn any_device_address<'a>(&'a self, stream: &'a CudaStream) -> (CUdeviceptr, SyncOnDrop<'a>) {
        self.device_ptr(stream)
    }
}

impl<T> AnyDeviceBuffer for CudaView<'_, T> {
    fn push_any<'a>(&'a self, args: &mut LaunchArgs<'a>) {
        args.arg(self);
    }

    fn any_device_address<'a>(&'a self, stream: &'a CudaStream) -> (CUdeviceptr, SyncOnDrop<'a>) {
        self.device_ptr(stream)
    }
}

impl AnyDeviceBuffer for Null {
    fn push_any<'a>(&'a self, args: &mut LaunchArgs<'a>) {
        push_null(args);
    }

    fn any_device_address<'a>(&'a self, _: &'a CudaStream) -> (CUdeviceptr, SyncOnDrop<'a>) {
        null_address()
    }
}

impl<B: AnyDeviceBuffer> AnyDeviceBuffer for Option<B> {
    fn push_any<'a>(&'a self, args: &mut LaunchArgs<'a>) {
        match self {
            Some(buffer) => buffer.push_any(args),
            None => push_null(args),
        }
    }

    fn any_device_address<'a>(&'a self, stream: &'a CudaStream) -> (CUdeviceptr, SyncOnDrop<'a>) {
        match self {
            Some(buffer) => buffer.any_device_address(stream),
            None => null_address(),
        }
    }
}

impl<B: AnyDeviceBuffer + ?Sized> AnyDeviceBuffer for &B {
    fn push_any<'a>(&'a self, args: &mut LaunchArgs<'a>) {
        (**self).push_any(args);
    }

    fn any_device_address<'a>(&'a self, stream: &'a CudaStream) -> (CUdeviceptr, SyncOnDrop<'a>) {
        (**self).any_device_address(stream)
    }
}

impl<B: AnyDeviceBuffer + ?Sized> AnyDeviceBuffer for &mut B {
    fn push_any<'a>(&'a self, args: &mut LaunchArgs<'a>) {
        (**self).push_any(args);
    }

    fn any_device_address<'a>(&'a self, stream: &'a CudaStream) -> (CUdeviceptr, SyncOnDrop<'a>) {
        (**self).any_device_address(stream)
    }
}

impl<T> AnyDeviceBufferMut for CudaSlice<T> {
    fn push_any_mut<'a>(&'a mut self, args: &mut LaunchArgs<'a>) {
        args.arg(self);
    }

    fn any_device_address_mut<'a>(
        &'a mut self,
        stream: &'a CudaStream,
    ) -> (CUdeviceptr, SyncOnDrop<'a>) {
        self.device_ptr_mut(stream)
    }
}

impl<T> AnyDeviceBufferMut for CudaViewMut<'_, T> {
    fn push_any_mut<'a>(&'a mut self, args: &mut LaunchArgs<'a>) {
        args.arg(self);
    }

    fn any_device_address_mut<'a>(
        &'a mut self,
        stream: &'a CudaStream,
    ) -> (CUdeviceptr, SyncOnDrop<'a>) {
        self.device_ptr_mut(stream)
    }
}

impl AnyDeviceBufferMut for Null {
    fn push_any_mut<'a>(&'a mut self, args: &mut LaunchArgs<'a>) {
        push_null(args);
    }

    fn any_device_address_mut<'a>(
        &'a mut self,
        _: &'a CudaStream,
    ) -> (CUdeviceptr, SyncOnDrop<'a>) {
        null_address()
    }
}

impl<B: AnyDeviceBufferMut> AnyDeviceBufferMut for Option<B> {
    fn push_any_mut<'a>(&'a mut self, args: &mut LaunchArgs<'a>) {
        match self {
            Some(buffer) => buffer.push_any_mut(args),
            None => push_null(args),
        }
    }

    fn any_device_address_mut<'a>(
        &'a mut self,
        stream: &'a CudaStream,
    ) -> (CUdeviceptr, SyncOnDrop<'a>) {
        match self {
            Some(buffer) => buffer.any_device_address_mut(stream),
            None => null_address(),
        }
    }
}

impl<B: AnyDeviceBufferMut + ?Sized> AnyDeviceBufferMut for &mut B {
    fn push_any_mut<'a>(&'a mut self, args: &mut LaunchArgs<'a>) {
        (**self).push_any_mut(args);
    }

    fn any_device_address_mut<'a>(
        &'a mut self,
        stream: &'a CudaStream,
    ) -> (CUdeviceptr, SyncOnDrop<'a>) {
        (**self).any_device_address_mut(stream)
    }
}

#[cfg(test)]
mod tests {
    use cudarc::driver::{CudaFunction, CudaStream};

    use super::*;

    /// The shape of a generated wrapper's body; it must compile, it is never run.
    fn generated_wrapper_body(
        stream: &CudaStream,
        function: &CudaFunction,
        n: i32,
        x: &impl DeviceBuffer<f32>,
        y: &mut impl DeviceBufferMut<f32>,
    ) {
        let mut args = stream.launch_builder(function);
        args.arg(&n);
        DeviceBuffer::<f32>::push_arg(x, &mut args);
        DeviceBufferMut::<f32>::push_arg_mut(y, &mut args);
    }

    /// Calls as user code writes them; must compile, never run.
    fn user_calls(
        stream: &CudaStream,
        function: &CudaFunction,
        slice: &CudaSlice<f32>,
        view: &CudaView<'_, f32>,
        slice_mut: &mut CudaSlice<f32>,
        view_mut: &mut CudaViewMut<'_, f32>,
    ) {
        generated_wrapper_body(stream, function, 1, slice, view_mut);
        generated_wrapper_body(stream, function, 1, view, slice_mut);
    }

    #[test]
    fn generated_wrappers_compile_against_the_traits() {
        let _ = user_calls;
    }

    fn reads<B: DeviceBuffer<f32> + ?Sized>() {}
    fn writes<B: DeviceBufferMut<f32> + ?Sized>() {}

    /// Compile-time checks: the buffers cudarc can launch implement the traits for their own
    /// element type.
    #[test]
    fn buffers_implement_the_traits() {
        reads::<CudaSlice<f32>>();
        reads::<CudaView<'static, f32>>();
        reads::<&CudaSlice<f32>>();
        reads::<&mut CudaSlice<f32>>();
        writes::<CudaSlice<f32>>();
        writes::<CudaViewMut<'static, f32>>();
        writes::<&mut CudaViewMut<'static, f32>>();
        reads::<Null>();
        writes::<Null>();
        reads::<Option<&CudaSlice<f32>>>();
        writes::<Option<&mut CudaSlice<f32>>>();
    }

    fn reads_any<B: AnyDeviceBuffer + ?Sized>() {}
    fn writes_any<B: AnyDeviceBufferMut + ?Sized>() {}

    /// `void*` parameters take buffers of every element type.
    #[test]
    fn buffers_of_any_type_implement_the_untyped_traits() {
        reads_any::<CudaSlice<u8>>();
        reads_any::<CudaSlice<f32>>();
        reads_any::<&CudaView<'static, u16>>();
        reads_any::<Null>();
        reads_any::<Option<CudaSlice<i64>>>();
        writes_any::<CudaSlice<u8>>();
        writes_any::<&mut CudaViewMut<'static, f64>>();
        writes_any::<Null>();
    }

    /// A null argument is 8 zero bytes that live as long as any launch.
    #[test]
    fn null_points_at_a_zero_device_address() {
        let null: &'static u64 = &NULL_DEVICE_POINTER;
        assert_eq!(*null, 0);
        assert_eq!(std::mem::size_of_val(null), 8);
    }
}
