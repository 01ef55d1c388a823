//! The few raw driver calls cudarc does not wrap: finding a working libcuda without panicking,
//! naming errors, the driver's CUDA version and a JIT load that captures the driver's log.
//!
//! The driver library is opened here, with `libloading`, rather than through cudarc: cudarc's
//! own check exists only under its `dynamic-loading` feature, and a program may link the library
//! instead (`dynamic-linking`, as candle does), where sasskit must compile and behave the same.

use std::ffi::{c_int, c_void};
use std::fmt;
use std::mem::MaybeUninit;
use std::sync::OnceLock;

use cudarc::driver::sys::{self, CUjit_option};
use cudarc::driver::{DriverError, result};
use libloading::Library;

/// The names the driver library is opened by, in order. cudarc tries each of them too when it
/// opens the library at run time, so a library found here is one cudarc finds.
#[cfg(windows)]
const DRIVER_LIBRARIES: &[&str] = &["nvcuda.dll"];
#[cfg(not(windows))]
const DRIVER_LIBRARIES: &[&str] = &["libcuda.so.1", "libcuda.so"];

/// `CUDA_ERROR_STUB_LIBRARY` of `cuda.h`: what every function of a stub libcuda (the CUDA
/// toolkit's `lib64/stubs/libcuda.so`, meant for linking only) returns.
const CUDA_ERROR_STUB_LIBRARY: c_int = 34;

/// Whether a working CUDA driver library (`libcuda.so.1`, `nvcuda.dll`) can be opened.
///
/// It is opened by name, as the dynamic loader finds it (`LD_LIBRARY_PATH`, then the system's
/// folders), and asked for its version (`cuDriverGetVersion`, which needs no `cuInit`). A stub
/// library (every call returns `CUDA_ERROR_STUB_LIBRARY`, as the toolkit's `stubs/libcuda.so`
/// does), or one that has no such function, counts as no driver.
///
/// Without a driver, cudarc panics on its first call when it opens the library at run time (its
/// `dynamic-loading` mode, the default), and returns the stub's error from every call when the
/// program links a stub. Call this before `CudaContext::new` to skip GPU work cleanly. Every
/// sasskit entry point asks it first and returns [`LoadError::NoDriver`](crate::LoadError::NoDriver),
/// whichever way cudarc gets to the library. The answer is cached, and logged once at `debug`
/// level.
pub fn driver_present() -> bool {
    matches!(probed(), Probe::Present { .. })
}

/// Why there is no working driver, for [`LoadError::NoDriver`](crate::LoadError::NoDriver)'s
/// message; `None` when there is one.
pub(crate) fn absence() -> Option<String> {
    match probed() {
        Probe::Present { .. } => None,
        absent => Some(absent.to_string()),
    }
}

/// The driver library probe of this process, run once.
fn probed() -> &'static Probe {
    static PROBE: OnceLock<Probe> = OnceLock::new();
    PROBE.get_or_init(|| {
        let probe = probe(DRIVER_LIBRARIES);
        log::debug!("sasskit: {probe}");
        probe
    })
}

/// What opening the driver library found.
#[derive(Debug)]
enum Probe {
    /// None of the names could be opened.
    Missing {
        /// The names tried.
        tried: &'static [&'static str],
    },
    /// A library opened under `name` but is not a working driver.
    NotADriver {
        /// The name it opened under.
        name: &'static str,
        /// Why it is not one.
        why: String,
    },
    /// The driver.
    Present {
        /// The name it opened under.
        name: &'static str,
        /// `cuDriverGetVersion`'s answer (`13000` for CUDA 13.0), when it gave one.
        version: Option<c_int>,
        /// Kept open for the life of the process, so that later probes and cudarc's own
        /// opening find it loaded.
        _library: Library,
    },
}

/// `CUresult cuDriverGetVersion(int*)`, read as a plain int so that no value can be UB.
type DriverGetVersion = unsafe extern "C" fn(*mut c_int) -> c_int;

/// Opens the first of `names` that the dynamic loader finds and asks it for its version.
fn probe(names: &'static [&'static str]) -> Probe {
    for &name in names {
        // SAFETY: opening a shared library runs its initialisers; libcuda's are the driver's own
        // and run in any CUDA program, and cudarc opens the same names.
        let Ok(library) = (unsafe { Library::new(name) }) else {
            continue;
        };
        // SAFETY: `CUresult cuDriverGetVersion(int*)` in every version of cuda.h; CUresult is a
        // C enum, returned as an int. Read as a plain int, an unexpected value cannot be UB.
        let get_version = match unsafe { library.get::<DriverGetVersion>("cuDriverGetVersion") } {
            Ok(symbol) => *symbol,
            Err(error) => {
                return Probe::NotADriver {
                    name,
                    why: format!("it has no cuDriverGetVersion ({error})"),
                };
            }
        };
        let mut version: c_int = 0;
        // SAFETY: the out-pointer is valid for the call, and `library` is still open.
        let code = unsafe { get_version(&raw mut version) };
        return match code {
            CUDA_ERROR_STUB_LIBRARY => Probe::NotADriver {
                name,
                why: "it is a stub (its calls return CUDA_ERROR_STUB_LIBRARY), like the CUDA \
                      toolkit's stubs/libcuda.so: made for linking, not the driver"
                    .to_owned(),
            },
            // Any other failure is the driver's to report, through cudarc's calls.
            code => Probe::Present {
                name,
                version: (code == 0).then_some(version),
                _library: library,
            },
        };
    }
    Probe::Missing { tried: names }
}

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Probe::Missing { tried } => write!(
                f,
                "no CUDA driver: the dynamic loader found none of {}",
                tried.join(", ")
            ),
            Probe::NotADriver { name, why } => {
                write!(f, "no CUDA driver: {name} was found, but {why}")
            }
            Probe::Present {
                name,
                version: Some(version),
                ..
            } => write!(
                f,
                "CUDA driver {name}, CUDA {}.{}",
                version / 1000,
                version % 1000 / 10
            ),
            Probe::Present { name, .. } => {
                write!(f, "CUDA driver {name} (its CUDA version is unknown)")
            }
        }
    }
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
    let Probe::Present {
        version: Some(version),
        ..
    } = probed()
    else {
        return None;
    };
    let version = u32::try_from(*version).ok()?;
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
    fn a_library_that_is_not_there_is_no_driver() {
        let probe = probe(&["libsasskit-no-such-library.so.1", "sasskit-no-such.dll"]);
        assert!(matches!(probe, Probe::Missing { .. }), "{probe:?}");
        assert_eq!(
            probe.to_string(),
            "no CUDA driver: the dynamic loader found none of libsasskit-no-such-library.so.1, \
             sasskit-no-such.dll"
        );
    }

    #[test]
    fn probes_agree_with_the_answer_cached_for_the_process() {
        let fresh = probe(DRIVER_LIBRARIES);
        assert_eq!(
            matches!(fresh, Probe::Present { .. }),
            driver_present(),
            "{fresh}"
        );
        assert_eq!(absence().is_none(), driver_present());
    }

    #[test]
    fn log_text_stops_at_the_terminator() {
        assert_eq!(log_text(b"ptxas info : ok\n\0garbage"), "ptxas info : ok");
        assert_eq!(log_text(b"\0"), "");
        assert_eq!(log_text(b"no terminator"), "no terminator");
    }
}
