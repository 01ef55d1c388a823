//! What generated launch wrappers return, and how they find their kernel on first use.

use std::error::Error;
use std::fmt;
use std::sync::OnceLock;

use cudarc::driver::{CudaFunction, DriverError};

use crate::error::LoadError;
use crate::load::LoadedModule;

/// Why a generated wrapper could not launch its kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LaunchError {
    /// The kernel could not be looked up: it is not in the image loaded on this device
    /// ([`LoadError::KernelNotInImage`]), or the driver failed to find it.
    Lookup(LoadError),
    /// The driver refused the launch (`cuLaunchKernel`).
    Driver {
        /// The module name.
        module: String,
        /// The kernel.
        kernel: String,
        /// The driver's error code.
        error: DriverError,
    },
    /// A host function of a static library was called with a stream of a device that the
    /// library was not checked for (`Library::check` on that device's context, or
    /// `Library::check_every_device`). Nothing was called.
    UncheckedDevice {
        /// The library name.
        library: String,
        /// The host function.
        function: String,
        /// The stream's device.
        device: usize,
        /// The devices the library was checked for.
        checked: Vec<usize>,
    },
    /// The context of the stream a static library's host function was called with could not
    /// be made current on the calling thread (`cuCtxSetCurrent`). Nothing was called.
    Context {
        /// The library name.
        library: String,
        /// The host function.
        function: String,
        /// The driver's error code.
        error: DriverError,
    },
    /// A host function of an optional static library was called with a stream of a device the
    /// library has no code for (`StaticLibrary::optional`; `Library::is_available` says so
    /// before a call). Nothing was called.
    Unavailable {
        /// The library name.
        library: String,
        /// The host function.
        function: String,
        /// The stream's device.
        device: usize,
        /// Why the library cannot run there: the start-up check's finding.
        reason: String,
    },
    /// A host function of a static library returned with the CUDA runtime reporting an error
    /// (`cudaGetLastError`), such as a launch it could not make.
    Runtime {
        /// The library name.
        library: String,
        /// The host function.
        function: String,
        /// The runtime's error code (`cudaError_t`).
        code: i32,
        /// Its name, `cudaErrorInvalidConfiguration`.
        name: String,
    },
}

/// The CUDA runtime's errors of a graph capture that waited on work from outside it:
/// `cudaErrorStreamCaptureInvalidated` (901), `cudaErrorStreamCaptureIsolation` (905) and
/// `cudaErrorCapturedEvent` (907). A capturing stream made to wait on an event recorded before
/// the capture began (as cudarc's event tracking does, measured on an H100) fails with the
/// first and ends its capture with the second.
const CAPTURE_BROKEN_BY_OUTSIDE_WORK: [i32; 3] = [901, 905, 907];

impl fmt::Display for LaunchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LaunchError::Lookup(error) => error.fmt(f),
            LaunchError::Driver {
                module,
                kernel,
                error,
            } => write!(
                f,
                "launching kernel `{kernel}` of module `{module}` failed: {}; check the launch \
                 configuration (grid, block and shared memory sizes) against the kernel and \
                 the device",
                crate::driver::describe(*error)
            ),
            LaunchError::UncheckedDevice {
                library,
                function,
                device,
                checked,
            } => write!(
                f,
                "`{function}` of static library `{library}` was called with a stream of device \
                 {device}, for which the library was not checked (checked: {checked:?}); check \
                 it first with `{library}::Library::check(&ctx)` for that device's context, or \
                 with `{library}::Library::check_every_device()`"
            ),
            LaunchError::Context {
                library,
                function,
                error,
            } => write!(
                f,
                "`{function}` of static library `{library}` was not called: making its stream's \
                 context current on this thread (cuCtxSetCurrent) failed: {}",
                crate::driver::describe(*error)
            ),
            LaunchError::Unavailable {
                library,
                function,
                device,
                reason,
            } => write!(
                f,
                "`{function}` of the optional static library `{library}` is unavailable on device \
                 {device} ({reason}); ask `Library::is_available_on({device})` before calling, and \
                 take another path there, or build the library for that device"
            ),
            LaunchError::Runtime {
                library,
                function,
                code,
                name,
            } if CAPTURE_BROKEN_BY_OUTSIDE_WORK.contains(code) => write!(
                f,
                "`{function}` of static library `{library}` left the CUDA runtime error {name} \
                 ({code}): its stream is capturing a CUDA graph, and the capture depends on work \
                 from outside it; with cudarc's event tracking on (the default once a context \
                 has several streams) the buffers make the stream wait on their earlier uses, so \
                 turn it off before capturing (`unsafe {{ ctx.disable_event_tracking() }}`, and \
                 order the streams yourself)"
            ),
            LaunchError::Runtime {
                library,
                function,
                code,
                name,
            } => write!(
                f,
                "`{function}` of static library `{library}` left the CUDA runtime error {name} \
                 ({code}); check its arguments and launch sizes against the function's contract"
            ),
        }
    }
}

impl Error for LaunchError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            LaunchError::Lookup(error) => Some(error),
            LaunchError::Driver { error, .. } | LaunchError::Context { error, .. } => Some(error),
            LaunchError::UncheckedDevice { .. }
            | LaunchError::Unavailable { .. }
            | LaunchError::Runtime { .. } => None,
        }
    }
}

impl From<LoadError> for LaunchError {
    fn from(error: LoadError) -> LaunchError {
        LaunchError::Lookup(error)
    }
}

/// The kernel `name` of `loaded`, looked up the first time a wrapper needs it and kept in
/// `cell`: the driver loads kernels lazily, and looking all of them up at load time would make
/// every kernel load whether the program uses it or not.
///
/// Two threads that race on the first call both look the kernel up; one result is kept.
pub fn resolve<'a>(
    loaded: &LoadedModule,
    cell: &'a OnceLock<CudaFunction>,
    name: &str,
) -> Result<&'a CudaFunction, LaunchError> {
    if let Some(function) = cell.get() {
        return Ok(function);
    }
    let function = loaded.function(name)?;
    Ok(cell.get_or_init(|| function))
}

/// The launch result of a wrapper, with the kernel named in the error.
pub fn launched(
    loaded: &LoadedModule,
    kernel: &str,
    result: Result<(), DriverError>,
) -> Result<(), LaunchError> {
    result.map_err(|error| LaunchError::Driver {
        module: loaded.report().module.to_owned(),
        kernel: kernel.to_owned(),
        error,
    })
}

#[cfg(test)]
mod tests {
    use cudarc::driver::sys::CUresult;

    use super::*;

    #[test]
    fn launch_failures_name_the_kernel_and_the_fix() {
        let error = LaunchError::Driver {
            module: "affine".into(),
            kernel: "affine_f32".into(),
            error: DriverError(CUresult::CUDA_ERROR_INVALID_VALUE),
        };
        let message = error.to_string();
        assert!(
            message.starts_with(
                "launching kernel `affine_f32` of module `affine` failed: CUDA_ERROR_INVALID_VALUE"
            ),
            "{message}"
        );
        assert!(message.contains("launch configuration"), "{message}");
        assert!(error.source().is_some());
    }

    #[test]
    fn lookup_failures_read_as_the_load_error() {
        let error = LaunchError::from(LoadError::NoDriver);
        assert_eq!(error.to_string(), LoadError::NoDriver.to_string());
    }
}
