//! Why a module could not be loaded, worded so that the message alone says what to change.

use std::error::Error;
use std::fmt;

use cudarc::driver::DriverError;
use cudarc::driver::sys::CUresult;
use sasskit_core::FatbinError;

use crate::device::DeviceInfo;
use crate::policy::ALLOW_JIT_ENV;
use crate::{Target, driver};

/// Why a module could not be loaded or a kernel not found.
///
/// Every message names the device (index, name and compute capability), the images the module
/// embeds, what is missing and the build setting or environment that fixes it. `Display` is
/// complete on its own; [`source`](Error::source) gives the underlying error, where there is
/// one, to programs that inspect it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoadError {
    /// No working CUDA driver library (`libcuda.so.1`, `nvcuda.dll`): it is not installed, not
    /// on the library path, or the one found is a stub for linking (as in a container started
    /// without the driver, or with the toolkit's `lib64/stubs` on the library path).
    NoDriver,
    /// The driver is installed but sees no device.
    NoDevice,
    /// A driver call failed.
    Driver {
        /// What was being done, naming the module, the device and the driver function.
        context: String,
        /// The driver's error code.
        error: DriverError,
    },
    /// The embedded fat binary cannot be parsed.
    CorruptFatbin {
        /// The module name.
        module: String,
        /// What the parser found.
        error: FatbinError,
    },
    /// Neither SASS nor PTX of the module runs on the device. The driver was not called.
    NoCompatibleImage {
        /// The module name.
        module: String,
        /// The device.
        device: DeviceInfo,
        /// The images the module embeds, `sass sm_100`, `ptx compute_100 (zstd)`.
        embedded: Vec<String>,
        /// The target that would run on the device: SASS for its exact compute capability.
        required: Target,
        /// Whether `module` names a static library (its start-up check) rather than a module.
        static_library: bool,
    },
    /// Only PTX runs on the device, and the policy forbids the JIT. The driver was not called.
    JitRefused {
        /// The module name.
        module: String,
        /// The device.
        device: DeviceInfo,
        /// The PTX the driver would have compiled.
        ptx: Target,
        /// The images the module embeds.
        embedded: Vec<String>,
        /// The target that would run on the device without a JIT.
        required: Target,
        /// Whether `module` names a static library (its start-up check) rather than a module.
        static_library: bool,
    },
    /// The driver cannot compile the module's PTX because a newer toolkit built it
    /// (`CUDA_ERROR_UNSUPPORTED_PTX_VERSION`).
    PtxTooNew {
        /// The module name.
        module: String,
        /// The device.
        device: DeviceInfo,
        /// The PTX that was to be compiled.
        ptx: Target,
        /// Its PTX ISA version, `(major, minor)`; the load report names the nvcc that wrote it.
        ptx_isa: (u16, u16),
        /// The CUDA version the driver supports, `(major, minor)`, when it could be read.
        driver_cuda: Option<(u32, u32)>,
        /// The driver's JIT error log, when it wrote one.
        log: Option<String>,
    },
    /// A kernel name that the loaded module does not define.
    NoSuchKernel {
        /// The module name.
        module: String,
        /// The name asked for.
        kernel: String,
        /// The kernels the build manifest lists (empty without a manifest).
        known: Vec<String>,
    },
    /// The kernel is in the module, but not in the image loaded on this device: the source
    /// defines it for other architectures only (`#if __CUDA_ARCH__ >= …`). The driver was not
    /// asked.
    KernelNotInImage {
        /// The module name.
        module: String,
        /// The kernel.
        kernel: String,
        /// The device (boxed, to keep the error small enough to return by value).
        device: Box<DeviceInfo>,
        /// The image loaded on the device.
        loaded: Target,
        /// The targets whose images define the kernel.
        targets: Vec<String>,
    },
    /// The module has no fat binary: the crate was built metadata-only (docs.rs, or
    /// `SASSKIT_METADATA_ONLY=1`) with no nvcc and no current prebuilt fat binary. The wrappers
    /// exist; nothing can run. Decided before any driver call.
    NotBuilt {
        /// The module name.
        module: String,
        /// What the build said.
        reason: String,
    },
    /// [`load_on_every_device`](crate::load_on_every_device) failed on some devices: each
    /// device index with its error, in device order.
    EveryDevice(Vec<(usize, LoadError)>),
}

/// [`LoadError::EveryDevice`]'s message: what failed, then each device's error on a line.
fn fmt_every_device(f: &mut fmt::Formatter<'_>, failures: &[(usize, LoadError)]) -> fmt::Result {
    let library = failures.iter().any(|(_, error)| {
        matches!(
            error,
            LoadError::NoCompatibleImage {
                static_library: true,
                ..
            } | LoadError::JitRefused {
                static_library: true,
                ..
            }
        )
    });
    let what = if library {
        "the static library cannot run"
    } else {
        "the module cannot be loaded"
    };
    write!(
        f,
        "{what} on every device: {} of them failed",
        failures.len()
    )?;
    for (_, error) in failures {
        write!(f, "\n  {error}")?;
    }
    Ok(())
}

/// [`LoadError::NoSuchKernel`]'s message.
fn fmt_no_such_kernel(
    f: &mut fmt::Formatter<'_>,
    module: &str,
    kernel: &str,
    known: &[String],
) -> fmt::Result {
    write!(f, "module `{module}` has no kernel `{kernel}`")?;
    if known.is_empty() {
        f.write_str(" (it has no build manifest that lists its kernels)")?;
    } else {
        write!(f, ": its build manifest lists {}", List(known))?;
    }
    f.write_str(
        "; check the name, and declare the kernel `extern \"C\"` so that its symbol is not \
         mangled",
    )
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::NoDriver => {
                match driver::absence() {
                    Some(why) => write!(f, "{why}; ")?,
                    None => f.write_str(
                        "no working CUDA driver library (libcuda.so.1 on Linux, nvcuda.dll on \
                         Windows); ",
                    )?,
                }
                f.write_str(
                    "install the NVIDIA driver, or add the folder that holds the real \
                     libcuda.so.1 to LD_LIBRARY_PATH, ahead of any folder of stubs",
                )
            }
            LoadError::NoDevice => f.write_str(
                "the CUDA driver sees no GPU; check `nvidia-smi`, and that CUDA_VISIBLE_DEVICES \
                 does not hide every device",
            ),
            LoadError::Driver { context, error } => {
                write!(f, "{context} failed: {}", driver::describe(*error))?;
                if let Some(hint) = driver_hint(error.0) {
                    write!(f, "; {hint}")?;
                }
                Ok(())
            }
            LoadError::CorruptFatbin { module, error } => {
                write!(
                    f,
                    "the fat binary embedded for module `{module}` is unusable: {error}"
                )
            }
            LoadError::NoCompatibleImage {
                module,
                device,
                embedded,
                required,
                static_library,
            } => write!(
                f,
                "{} `{module}` has no image that runs on {device}: it embeds {}; {}",
                unit(*static_library),
                List(embedded),
                Fix(*required)
            ),
            LoadError::JitRefused {
                module,
                device,
                ptx,
                embedded,
                required,
                static_library,
            } => write!(
                f,
                "{} `{module}` has no SASS for {device}, only PTX ({ptx}) that the driver \
                 would JIT-compile at load, slowly and into code that was never tested; it embeds \
                 {}; {}, or allow the JIT with `LoadPolicy::AllowJit` or {ALLOW_JIT_ENV}=1",
                unit(*static_library),
                List(embedded),
                Fix(*required)
            ),
            LoadError::PtxTooNew { .. } => self.fmt_ptx_too_new(f),
            LoadError::NotBuilt { module, reason } => write!(
                f,
                "module `{module}` was not built, so it cannot be loaded: {reason}; build the \
                 crate with nvcc installed, or refresh its prebuilt folder \
                 (`cargo sasskit prebuild`)"
            ),
            LoadError::KernelNotInImage {
                module,
                kernel,
                device,
                loaded,
                targets,
            } => write!(
                f,
                "kernel `{kernel}` of module `{module}` is not in the {loaded} image loaded on \
                 {device}: the source defines it only for {} (it is guarded by \
                 `#if __CUDA_ARCH__`); run it on a device those targets serve, or check \
                 `has_kernel` and take another path on this one",
                targets.join(", ")
            ),
            LoadError::NoSuchKernel {
                module,
                kernel,
                known,
            } => fmt_no_such_kernel(f, module, kernel, known),
            LoadError::EveryDevice(failures) => fmt_every_device(f, failures),
        }
    }
}

impl LoadError {
    /// The message of [`LoadError::PtxTooNew`]; nothing for other variants.
    fn fmt_ptx_too_new(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let LoadError::PtxTooNew {
            module,
            device,
            ptx,
            ptx_isa,
            driver_cuda,
            log,
        } = self
        else {
            return Ok(());
        };
        write!(
            f,
            "the toolkit that built the PTX of module `{module}` ({ptx}, PTX ISA {}.{}) is newer \
             than the driver of {device}",
            ptx_isa.0, ptx_isa.1
        )?;
        if let Some((major, minor)) = driver_cuda {
            write!(f, ", which supports CUDA {major}.{minor}")?;
        }
        write!(
            f,
            "; build SASS for this GPU ({}) or update the driver",
            Fix(device.compute_capability.exact_target())
        )?;
        let said = log
            .as_deref()
            .and_then(|log| log.lines().find(|line| !line.trim().is_empty()));
        if let Some(line) = said {
            write!(f, "; the driver said: {}", line.trim())?;
        }
        Ok(())
    }
}

impl Error for LoadError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            LoadError::Driver { error, .. } => Some(error),
            LoadError::CorruptFatbin { error, .. } => Some(error),
            LoadError::EveryDevice(failures) => failures
                .first()
                .map(|(_, error)| error as &(dyn Error + 'static)),
            _ => None,
        }
    }
}

/// What to do about a driver error the load can run into.
fn driver_hint(code: CUresult) -> Option<&'static str> {
    Some(match code {
        CUresult::CUDA_ERROR_NO_BINARY_FOR_GPU => {
            "the driver found no image for this device although sasskit's selection found one; \
             please report this as a sasskit bug, with this message"
        }
        CUresult::CUDA_ERROR_JIT_COMPILATION_DISABLED => {
            "CUDA_DISABLE_PTX_JIT is set, which forbids the JIT this load was allowed to do; \
             unset it, or build SASS for this GPU"
        }
        CUresult::CUDA_ERROR_JIT_COMPILER_NOT_FOUND => {
            "the driver's PTX JIT compiler (libnvidia-ptxjitcompiler) is not installed; install \
             it with the driver, or build SASS for this GPU"
        }
        CUresult::CUDA_ERROR_INVALID_PTX => {
            "the driver could not compile the PTX; build SASS for this GPU instead"
        }
        CUresult::CUDA_ERROR_STUB_LIBRARY => {
            "the libcuda in use is a stub library (like the CUDA toolkit's stubs/libcuda.so), \
             which stands in for the driver at link time only; install the NVIDIA driver, or put \
             the folder of the real libcuda.so.1 on LD_LIBRARY_PATH ahead of the stubs"
        }
        CUresult::CUDA_ERROR_INVALID_IMAGE => {
            "the driver rejected the image; rebuild the crate, and report a sasskit bug if it \
             persists"
        }
        _ => return None,
    })
}

/// `[a, b, c]`, or `no images` for an empty list.
/// What a [`LoadError`] names: a module (`kernels!`) or a static library (`host_functions!`).
fn unit(static_library: bool) -> &'static str {
    if static_library {
        "static library"
    } else {
        "module"
    }
}

struct List<'a>(&'a [String]);

impl fmt::Display for List<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("no images");
        }
        write!(f, "[{}]", self.0.join(", "))
    }
}

/// The build setting that adds a missing target.
struct Fix(Target);

impl fmt::Display for Fix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "add {} to SASSKIT_ARCHS or to archs = [...] in [package.metadata.sasskit] (or to \
             `Build::archs` in build.rs, which overrides both) and rebuild",
            self.0
        )
    }
}

#[cfg(test)]
mod tests;
