//! The few raw driver calls cudarc does not wrap: finding libcuda without panicking, naming
//! errors, the driver's CUDA version and a JIT load that captures the driver's log.

use std::ffi::c_void;
use std::mem::MaybeUninit;
use std::sync::OnceLock;

use cudarc::driver::sys::{self, CUjit_option};
use cudarc::driver::{DriverError, result};

/// Whether the CUDA driver library (`libcuda.so.1`, `nvcuda.dll`) can be opened.
///
/// cudarc panics on its first driver call when the library is missing; call this before
/// `CudaContext::new` to skip GPU work cleanly. Every sasskit entry point asks it first and
/// returns [`LoadError::NoDriver`](crate::LoadError::NoDriver). The answer is cached.
pub fn driver_present() -> bool {
    static PRESENT: OnceLock<bool> = OnceLock::new();
    // SAFETY: opening a shared library runs its initialisers; libcuda's are the driver's own and
    // are run by any CUDA program. cudarc keeps its own handle, this one is dropped again.
    *PRESENT.get_or_init(|| unsafe { sys::is_culib_present() })
}

/// `CUDA_ERROR_NO_BINARY_FOR_GPU (no kernel image is available …)`; only the name when the
/// driver cannot be asked for the description.
pub(crate) fn describe(error: DriverError) -> String {
    let name = format!("{:?}", error.0);
    if !driver_present() {
        return name;
    }
    match error.error_string() {
        Ok(text) => format!("{name} ({})", text.to_string_lossy()),
        Err(_) => name,
    }
}

/// The CUDA version the driver supports, `(13, 0)`, or `None` if it cannot be read.
pub(crate) fn cuda_version() -> Option<(u32, u32)> {
    if !driver_present() {
        return None;
    }
    let mut version = 0;
    // SAFETY: the out-pointer is valid for the call; the library is present (checked above).
    let code = unsafe { sys::cuDriverGetVersion(&raw mut version) };
    code.result().ok()?;
    let version = u32::try_from(version).ok()?;
    Some((version / 1000, version % 1000 / 10))
}

/// What a logged JIT load produced.
#[derive(Debug)]
pub(crate) struct JitAttempt {
    pub(crate) result: Result<(), DriverError>,
    pub(crate) info_log: String,
    pub(crate) error_log: String,
}

/// Bytes for each of the driver's two log buffers; ptxas's verbose output for a module of a few
/// dozen kernels fits easily, and the driver truncates rather than overflows.
const LOG_SIZE: usize = 64 * 1024;

/// Loads `image` with `cuModuleLoadDataEx` and the JIT logs switched on, then unloads it again.
///
/// cudarc can only wrap modules it loads itself (`cuModuleLoadData`, which takes no log
/// options), so the JIT path compiles once here for the log and loads again through cudarc,
/// which the driver serves from its JIT cache. The caller must have made the context current.
pub(crate) fn jit_load_logged(image: &[u8]) -> JitAttempt {
    let mut info = vec![0u8; LOG_SIZE];
    let mut error = vec![0u8; LOG_SIZE];
    let mut options = [
        CUjit_option::CU_JIT_INFO_LOG_BUFFER,
        CUjit_option::CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES,
        CUjit_option::CU_JIT_ERROR_LOG_BUFFER,
        CUjit_option::CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
        CUjit_option::CU_JIT_LOG_VERBOSE,
    ];
    // The driver takes scalar option values cast to pointers.
    let mut values: [*mut c_void; 5] = [
        info.as_mut_ptr().cast(),
        std::ptr::without_provenance_mut(LOG_SIZE),
        error.as_mut_ptr().cast(),
        std::ptr::without_provenance_mut(LOG_SIZE),
        std::ptr::without_provenance_mut(1),
    ];
    let mut module = MaybeUninit::uninit();
    // SAFETY: `image` is a complete fat binary that outlives the call; both log buffers are
    // LOG_SIZE bytes and outlive the call; the option and value arrays have the same length.
    let code = unsafe {
        sys::cuModuleLoadDataEx(
            module.as_mut_ptr(),
            image.as_ptr().cast(),
            options.len() as u32,
            options.as_mut_ptr(),
            values.as_mut_ptr(),
        )
    };
    let result = code.result();
    if result.is_ok() {
        // SAFETY: the load succeeded, so the handle is initialised, and nothing else holds it.
        // An unload failure only leaks the module until the context is destroyed.
        let unloaded = unsafe { result::module::unload(module.assume_init()) };
        if let Err(error) = unloaded {
            log::debug!("sasskit: unloading the logged JIT module failed: {error:?}");
        }
    }
    JitAttempt {
        result,
        info_log: log_text(&info),
        error_log: log_text(&error),
    }
}

/// The NUL-terminated text the driver wrote into a log buffer.
fn log_text(buffer: &[u8]) -> String {
    let end = buffer
        .iter()
        .position(|&byte| byte == 0)
        .unwrap_or(buffer.len());
    String::from_utf8_lossy(&buffer[..end]).trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_text_stops_at_the_terminator() {
        assert_eq!(log_text(b"ptxas info : ok\n\0garbage"), "ptxas info : ok");
        assert_eq!(log_text(b"\0"), "");
        assert_eq!(log_text(b"no terminator"), "no terminator");
    }
}
