//! Checked loading on one device: decide, hand the driver exactly the planned bytes, report.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cudarc::driver::sys::CUresult;
use cudarc::driver::{CudaContext, CudaFunction, CudaModule, DriverError};
use cudarc::nvrtc::Ptx;

use crate::build_info::BuildFacts;
use crate::device::DeviceInfo;
use crate::embedded::EmbeddedModule;
use crate::error::LoadError;
use crate::plan::{Plan, check};
use crate::policy::LoadPolicy;
use crate::report::LoadReport;
use crate::{ImageMatch, Target, driver};

/// A module loaded on one device, with the report of how.
#[derive(Debug)]
pub struct LoadedModule {
    ctx: Arc<CudaContext>,
    module: Arc<CudaModule>,
    report: LoadReport,
    chosen: Target,
    build: BuildFacts,
}

/// Loads `module` on the device of `ctx`, refusing to let the driver JIT-compile PTX unless
/// `policy` (or the [`ALLOW_JIT_ENV`](crate::ALLOW_JIT_ENV) override) allows it.
///
/// The decision is [`check`]'s: SASS for the device is handed to the driver alone (the chosen
/// image's cubin, or a container of only its entry when it is stored compressed), so no JIT can
/// happen; a module with only PTX for the device is refused ([`LoadError::JitRefused`]); a
/// module with nothing for it fails with [`LoadError::NoCompatibleImage`] before the driver is
/// asked. A JIT that the policy allows and that fails because a newer toolkit built the PTX is
/// [`LoadError::PtxTooNew`].
///
/// On success the [`LoadReport`] is logged at `info` level, or at `warn` after a JIT.
///
/// A JIT load compiles the PTX once through `cuModuleLoadDataEx` with the driver's logs on (for
/// [`LoadReport::jit_log`] and the error messages), unloads it, and loads it again through
/// cudarc, which the driver normally serves from its JIT cache; with `CUDA_CACHE_DISABLE=1` the
/// PTX is compiled twice. SASS loads go straight to the driver once.
///
/// The bytes reach the driver through cudarc's `load_module`, the only way to get a
/// [`CudaModule`] cudarc can launch from. It takes an owned `Vec<u8>`, so the chosen image is
/// copied once (an uncompressed cubin straight out of the embedded fat binary; nothing else is
/// copied or built for it). The system allocator aligns the copy to 16 bytes on Linux and
/// Windows; the driver has accepted cubins and fat binaries at any alignment in our
/// measurements, and a misaligned buffer (possible with a custom global allocator) is logged at
/// `debug` level.
pub fn load(
    ctx: &Arc<CudaContext>,
    module: &EmbeddedModule,
    policy: LoadPolicy,
) -> Result<LoadedModule, LoadError> {
    let started = Instant::now();
    // A module that was never built fails the same everywhere: before any driver call.
    if let Some(reason) = module.build.unavailable {
        return Err(LoadError::NotBuilt {
            module: module.name.to_owned(),
            reason: reason.to_owned(),
        });
    }
    if !driver::driver_present() {
        return Err(LoadError::NoDriver);
    }
    let policy = policy.with_env_override();
    let device = DeviceInfo::query(ctx)?;
    let plan = check(module, &device, policy)?;
    load_plan(ctx, plan, started.elapsed())
}

impl LoadedModule {
    /// The loaded cudarc module.
    pub fn module(&self) -> &Arc<CudaModule> {
        &self.module
    }

    /// The context the module is loaded in.
    pub fn context(&self) -> &Arc<CudaContext> {
        &self.ctx
    }

    /// How the module was loaded.
    pub fn report(&self) -> &LoadReport {
        &self.report
    }

    /// The image the driver runs: `sm_90` SASS, or `compute_90` PTX after a JIT.
    pub fn chosen(&self) -> Target {
        self.chosen
    }

    /// Whether the loaded image defines the kernel `name`, as far as the build recorded: a
    /// kernel that the source guards with `#if __CUDA_ARCH__` may be in some images only.
    /// Without build facts (a hand-made module) every kernel counts as present.
    pub fn has_kernel(&self, name: &str) -> bool {
        self.build
            .targets_of(name)
            .is_none_or(|targets| targets.contains(&self.chosen))
    }

    /// The kernel called `name`: its `extern "C"` name, as in the `.cu` source.
    ///
    /// A kernel that the build recorded for other architectures only is
    /// [`LoadError::KernelNotInImage`], decided without asking the driver.
    pub fn function(&self, name: &str) -> Result<CudaFunction, LoadError> {
        let no_such_kernel = || LoadError::NoSuchKernel {
            module: self.report.module.to_owned(),
            kernel: name.to_owned(),
            known: self.build.kernel_names(),
        };
        if !self.has_kernel(name) {
            return Err(LoadError::KernelNotInImage {
                module: self.report.module.to_owned(),
                kernel: name.to_owned(),
                device: Box::new(self.report.device.clone()),
                loaded: self.chosen,
                targets: self
                    .build
                    .targets_of(name)
                    .unwrap_or_default()
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
            });
        }
        // cudarc turns the name into a C string and panics on an interior NUL.
        if name.contains('\0') {
            return Err(no_such_kernel());
        }
        self.ctx
            .bind_to_thread()
            .map_err(|error| LoadError::Driver {
                context: format!(
                    "making the context of {} current (cuCtxSetCurrent)",
                    self.report.device
                ),
                error,
            })?;
        self.module
            .load_function(name)
            .map_err(|error| match error.0 {
                CUresult::CUDA_ERROR_NOT_FOUND => no_such_kernel(),
                _ => LoadError::Driver {
                    context: format!(
                        "looking up kernel `{name}` of module `{}` on {} (cuModuleGetFunction)",
                        self.report.module, self.report.device
                    ),
                    error,
                },
            })
    }
}

/// Hands the planned bytes to the driver. `spent` is the time already spent on the load
/// (device queries, parsing, selection), for the report.
pub(crate) fn load_plan(
    ctx: &Arc<CudaContext>,
    plan: Plan,
    spent: Duration,
) -> Result<LoadedModule, LoadError> {
    let started = Instant::now();
    let jit_log = if plan.is_jit() {
        // The logged JIT load is a raw driver call: it needs the context current. (cudarc's
        // `load_module` below makes it current by itself.)
        ctx.bind_to_thread().map_err(|error| LoadError::Driver {
            context: format!(
                "making the context of {} current (cuCtxSetCurrent)",
                plan.device
            ),
            error,
        })?;
        let attempt = driver::jit_load_logged(plan.image());
        if let Err(error) = attempt.result {
            return Err(load_error(&plan, error, Some(attempt.error_log)));
        }
        Some(attempt.info_log)
    } else {
        None
    };
    // cudarc loads only from an owned `Vec`: the one copy of a load.
    let image = plan.image().to_vec();
    if image.as_ptr().align_offset(8) != 0 {
        log::debug!(
            "sasskit: the fat binary of module `{}` is handed to the driver at the misaligned \
             address {:p}",
            plan.module,
            image.as_ptr()
        );
    }
    let loaded = ctx
        .load_module(Ptx::from_binary(image))
        .map_err(|error| load_error(&plan, error, None))?;
    let Plan {
        module,
        device,
        chosen,
        image_match,
        embedded,
        build,
        ..
    } = plan;
    let report = LoadReport {
        module,
        device,
        chosen,
        image_match,
        embedded,
        build,
        load_time: started.elapsed(),
        setup_time: spent,
        jit_log,
        static_library: false,
    };
    if image_match == ImageMatch::Jit {
        log::warn!("{report}");
        if let Some(log) = report.jit_log.as_deref().filter(|log| !log.is_empty()) {
            log::debug!("sasskit: JIT log of module `{module}`:\n{log}");
        }
    } else {
        log::info!("{report}");
    }
    Ok(LoadedModule {
        ctx: ctx.clone(),
        module: loaded,
        report,
        chosen,
        build,
    })
}

/// The error for a failed `cuModuleLoadData(Ex)` of `plan`.
fn load_error(plan: &Plan, error: DriverError, log: Option<String>) -> LoadError {
    if plan.is_jit() && error.0 == CUresult::CUDA_ERROR_UNSUPPORTED_PTX_VERSION {
        return LoadError::PtxTooNew {
            module: plan.module.to_owned(),
            device: plan.device.clone(),
            ptx: plan.chosen,
            ptx_isa: plan.chosen_version,
            driver_cuda: driver::cuda_version(),
            log: log.filter(|log| !log.is_empty()),
        };
    }
    let (verb, function) = if log.is_some() {
        ("JIT-compiling", "cuModuleLoadDataEx")
    } else {
        ("loading", "cuModuleLoadData")
    };
    let said = log
        .as_deref()
        .and_then(|log| log.lines().find(|line| !line.trim().is_empty()))
        .map(|line| format!("; the driver said: {}", line.trim()))
        .unwrap_or_default();
    let context = format!(
        "{verb} module `{}` ({}) on {} ({function}{said})",
        plan.module,
        plan.chosen_label(),
        plan.device
    );
    LoadError::Driver { context, error }
}
