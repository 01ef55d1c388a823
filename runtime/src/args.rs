//! Typed kernel arguments: what the generated launch wrappers accept for pointer parameters.
//!
//! A generated wrapper bounds a kernel parameter `const float* x` by [`DeviceBuffer<f32>`] and
//! `float* y` by [`DeviceBufferMut<f32>`], so a buffer of the wrong element type, or an
//! immutable buffer where the kernel writes, is a compile error that names the parameter's C
//! type.

use cudarc::driver::{CudaSlice, CudaView, CudaViewMut, LaunchArgs, PushKernelArg};

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
}

impl<T> DeviceBuffer<T> for CudaSlice<T> {
    fn push_arg<'a>(&'a self, args: &mut LaunchArgs<'a>) {
        args.arg(self);
    }
}

impl<T> DeviceBuffer<T> for CudaView<'_, T> {
    fn push_arg<'a>(&'a self, args: &mut LaunchArgs<'a>) {
        args.arg(self);
    }
}

impl<T, B: DeviceBuffer<T> + ?Sized> DeviceBuffer<T> for &B {
    fn push_arg<'a>(&'a self, args: &mut LaunchArgs<'a>) {
        (**self).push_arg(args);
    }
}

impl<T, B: DeviceBuffer<T> + ?Sized> DeviceBuffer<T> for &mut B {
    fn push_arg<'a>(&'a self, args: &mut LaunchArgs<'a>) {
        (**self).push_arg(args);
    }
}

impl<T> DeviceBufferMut<T> for CudaSlice<T> {
    fn push_arg_mut<'a>(&'a mut self, args: &mut LaunchArgs<'a>) {
        args.arg(self);
    }
}

impl<T> DeviceBufferMut<T> for CudaViewMut<'_, T> {
    fn push_arg_mut<'a>(&'a mut self, args: &mut LaunchArgs<'a>) {
        args.arg(self);
    }
}

impl<T, B: DeviceBufferMut<T> + ?Sized> DeviceBufferMut<T> for &mut B {
    fn push_arg_mut<'a>(&'a mut self, args: &mut LaunchArgs<'a>) {
        (**self).push_arg_mut(args);
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
    }
}
