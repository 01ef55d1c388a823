//! Static libraries of host-launched kernels: the start-up check that refuses to run any of a
//! library's host functions on a device it has no SASS for, and what each call checks.
//!
//! The driver never sees such a library's fat binaries as modules: the CUDA runtime linked into
//! the program registers them when their host code first runs and launches from them. So the
//! decision is made before any call, from the targets the build recorded (every object of the
//! library holds an image for each), with the image selection of a module load and the same
//! errors and report line; no driver call is needed to decide, only to read the device.
//!
//! An optional library (`StaticLibrary::optional`, built for some GPUs only) passes the check
//! on a device it has no code for: the check records it as unavailable there, with the reason,
//! and its functions refuse to run there with [`LaunchError::Unavailable`].

use std::ffi::{CStr, c_char};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cudarc::driver::{CudaContext, CudaStream};
use sasskit_core::{ImageMatch, Target, select_target};

use crate::build_info::BuildFacts;
use crate::device::DeviceInfo;
use crate::driver;
use crate::error::LoadError;
use crate::every_device::{device_count, open_device};
use crate::launch::LaunchError;
use crate::policy::LoadPolicy;
use crate::report::LoadReport;

/// A static library linked into the program, as `host_functions!` describes it from the build
/// manifest.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedLibrary {
    /// The library name (`moe` for `libmoe.a`).
    pub name: &'static str,
    /// The targets every object of the library holds an image for: `sm_90`, `compute_90`.
    pub targets: &'static [Target],
    /// Whether the program runs without the library on devices it has no code for
    /// (`StaticLibrary::optional`).
    pub optional: bool,
    /// What the build recorded: nvcc, the library's build key, the cache.
    pub build: BuildFacts,
}

/// A library checked for one or more devices: its host functions may run on those it is
/// available on.
#[derive(Debug, Clone)]
pub struct CheckedLibrary {
    name: &'static str,
    reports: Vec<LoadReport>,
    unavailable: Vec<LibraryUnavailable>,
}

/// A device an optional library has no code for, as its start-up check found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryUnavailable {
    /// The library name.
    pub library: &'static str,
    /// The device.
    pub device: DeviceInfo,
    /// Why the library cannot run there: the error a required library would have got
    /// ([`LoadError::NoCompatibleImage`] or [`LoadError::JitRefused`]).
    pub reason: LoadError,
}

impl std::fmt::Display for LibraryUnavailable {
    /// `sasskit: optional static library moe is unavailable on device 0 "…" (cc 8.9): …`, the
    /// report line of a device the library was checked for and has no code for.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "sasskit: optional static library {} is unavailable on {}: {}; its functions return \
             `LaunchError::Unavailable` there",
            self.library, self.device, self.reason
        )
    }
}

/// Checks that `library` can run on the device of `ctx` without a JIT (unless `policy` or
/// [`ALLOW_JIT_ENV`](crate::ALLOW_JIT_ENV) allows one), as [`load`](crate::load) decides for a
/// module: [`LoadError::NoCompatibleImage`] or [`LoadError::JitRefused`] otherwise, naming the
/// target to add. Logs the report line at `info` level.
pub fn check_library(
    ctx: &Arc<CudaContext>,
    library: &EmbeddedLibrary,
    policy: LoadPolicy,
) -> Result<CheckedLibrary, LoadError> {
    let started = Instant::now();
    if !driver::driver_present() {
        return Err(LoadError::NoDriver);
    }
    let device = DeviceInfo::query(ctx)?;
    let decided = decide(
        library,
        &device,
        policy.with_env_override(),
        started.elapsed(),
    );
    CheckedLibrary::settle(library, vec![(device, decided)], false)
}

/// Checks `library` for every device the driver sees; one [`LoadError::EveryDevice`] listing
/// every device it cannot run on, as
/// [`load_on_every_device`](crate::load_on_every_device) reports modules.
pub fn check_library_on_every_device(
    library: &EmbeddedLibrary,
    policy: LoadPolicy,
) -> Result<CheckedLibrary, LoadError> {
    let count = device_count()?;
    let policy = policy.with_env_override();
    let mut decisions = Vec::with_capacity(count);
    let mut failures = Vec::new();
    for index in 0..count {
        let started = Instant::now();
        match open_device(index) {
            Ok((_, device)) => {
                let decided = decide(library, &device, policy, started.elapsed());
                decisions.push((device, decided));
            }
            Err(error) => failures.push((index, error)),
        }
    }
    if !failures.is_empty() {
        return Err(LoadError::EveryDevice(failures));
    }
    CheckedLibrary::settle(library, decisions, true)
}

/// Decides whether `library` runs on `device` under `policy`, without calling the driver, as
/// [`check`](crate::check) does for a module: the report line, or the error a module with these
/// images would get. For an optional library the error is the reason it is unavailable there;
/// [`check_library`] records it instead of failing.
///
/// ```
/// use sasskit::{Arch, BuildFacts, ComputeCapability, DeviceInfo, EmbeddedLibrary, LoadPolicy, Target};
///
/// const BLACKWELL: &[Target] = &[Target::Sass(Arch::plain(100)), Target::Sass(Arch::plain(121))];
/// let blackwell_only = EmbeddedLibrary {
///     name: "moe",
///     targets: BLACKWELL,
///     optional: false,
///     build: BuildFacts::UNKNOWN,
/// };
/// let h100 = DeviceInfo {
///     index: 0,
///     name: "NVIDIA H100 80GB HBM3".into(),
///     compute_capability: ComputeCapability::new(9, 0),
/// };
/// let error = sasskit::check_library_for(&blackwell_only, &h100, LoadPolicy::SassOnly).unwrap_err();
/// assert!(error.to_string().contains("add sm_90 to SASSKIT_ARCHS"));
/// ```
pub fn check_library_for(
    library: &EmbeddedLibrary,
    device: &DeviceInfo,
    policy: LoadPolicy,
) -> Result<LoadReport, LoadError> {
    decide(library, device, policy, Duration::ZERO)
}

/// [`check_library_for`], with the time spent before the decision for the report.
fn decide(
    library: &EmbeddedLibrary,
    device: &DeviceInfo,
    policy: LoadPolicy,
    setup_time: Duration,
) -> Result<LoadReport, LoadError> {
    let targets: Vec<Option<Target>> = library.targets.iter().copied().map(Some).collect();
    let embedded: Vec<String> = targets.iter().flatten().map(|t| label(*t)).collect();
    let cc = device.compute_capability;
    let required = cc.exact_target();
    let chosen = select_target(&targets, cc)
        .and_then(|choice| Some((choice, targets.get(choice.index).copied().flatten()?)));
    let Some((choice, chosen)) = chosen else {
        return Err(LoadError::NoCompatibleImage {
            module: library.name.to_owned(),
            device: device.clone(),
            embedded,
            required,
            static_library: true,
        });
    };
    if choice.image_match == ImageMatch::Jit && policy == LoadPolicy::SassOnly {
        return Err(LoadError::JitRefused {
            module: library.name.to_owned(),
            device: device.clone(),
            ptx: chosen,
            embedded,
            required,
            static_library: true,
        });
    }
    Ok(LoadReport {
        module: library.name,
        device: device.clone(),
        chosen,
        image_match: choice.image_match,
        embedded: Arc::from(embedded),
        build: library.build,
        load_time: Duration::ZERO,
        setup_time,
        jit_log: None,
        static_library: true,
    })
}

/// `sass sm_90`, `ptx compute_90`: as a module's embedded images read.
fn label(target: Target) -> String {
    let kind = if target.is_ptx() { "ptx" } else { "sass" };
    format!("{kind} {target}")
}

impl CheckedLibrary {
    /// The decisions for each device, made into the check's result: every device's report, or
    /// for an optional library the devices it has no code for as unavailable; else the refusal
    /// (`every_device`: all of them, as [`LoadError::EveryDevice`]). Logs one line per device
    /// at `info` level.
    pub(crate) fn settle(
        library: &EmbeddedLibrary,
        decisions: Vec<(DeviceInfo, Result<LoadReport, LoadError>)>,
        every_device: bool,
    ) -> Result<CheckedLibrary, LoadError> {
        let mut checked = CheckedLibrary {
            name: library.name,
            reports: Vec::new(),
            unavailable: Vec::new(),
        };
        let mut failures = Vec::new();
        for (device, decided) in decisions {
            match decided {
                Ok(report) => checked.reports.push(report),
                Err(
                    reason @ (LoadError::NoCompatibleImage { .. } | LoadError::JitRefused { .. }),
                ) if library.optional => checked.unavailable.push(LibraryUnavailable {
                    library: library.name,
                    device,
                    reason,
                }),
                Err(error) => failures.push((device.index, error)),
            }
        }
        if !every_device && let Some((_, error)) = failures.pop() {
            return Err(error);
        }
        if !failures.is_empty() {
            return Err(LoadError::EveryDevice(failures));
        }
        for report in &checked.reports {
            log::info!("{report}");
        }
        for unavailable in &checked.unavailable {
            log::info!("{unavailable}");
        }
        Ok(checked)
    }

    /// The library name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// One report per checked device it is available on: the image its kernels run from.
    pub fn reports(&self) -> &[LoadReport] {
        &self.reports
    }

    /// The checked devices an optional library has no code for; always empty for a library
    /// that is not optional.
    pub fn unavailable(&self) -> &[LibraryUnavailable] {
        &self.unavailable
    }

    /// Whether the library was checked for device `index` (available there or not).
    pub fn is_checked(&self, index: usize) -> bool {
        self.reports
            .iter()
            .any(|report| report.device.index == index)
            || self.unavailable_on(index).is_some()
    }

    /// Whether the library's functions can run on every checked device: `false` when an
    /// optional library has no code for one of them.
    pub fn is_available(&self) -> bool {
        self.unavailable.is_empty()
    }

    /// Whether the library's functions can run on device `index`: checked, and available there.
    pub fn is_available_on(&self, index: usize) -> bool {
        self.reports
            .iter()
            .any(|report| report.device.index == index)
    }

    fn unavailable_on(&self, index: usize) -> Option<&LibraryUnavailable> {
        self.unavailable
            .iter()
            .find(|unavailable| unavailable.device.index == index)
    }

    /// Whether `function` may run on device `index`: the decision of [`CheckedLibrary::enter`]
    /// before it binds the context.
    pub(crate) fn admit(&self, function: &str, index: usize) -> Result<(), LaunchError> {
        if let Some(unavailable) = self.unavailable_on(index) {
            return Err(LaunchError::Unavailable {
                library: self.name.to_owned(),
                function: function.to_owned(),
                device: index,
                reason: unavailable.reason.to_string(),
            });
        }
        if !self.is_available_on(index) {
            let mut checked: Vec<usize> = self.reports.iter().map(|r| r.device.index).collect();
            checked.extend(self.unavailable.iter().map(|u| u.device.index));
            return Err(LaunchError::UncheckedDevice {
                library: self.name.to_owned(),
                function: function.to_owned(),
                device: index,
                checked,
            });
        }
        Ok(())
    }

    /// Before a host function runs on `stream`: its device must have been checked, and the
    /// library available there; its context is made current on this thread, where the CUDA
    /// runtime looks for it.
    pub fn enter(&self, function: &str, stream: &CudaStream) -> Result<(), LaunchError> {
        let ctx = stream.context();
        self.admit(function, ctx.ordinal())?;
        ctx.bind_to_thread().map_err(|error| LaunchError::Context {
            library: self.name.to_owned(),
            function: function.to_owned(),
            error,
        })
    }

    /// After a host function returned: the CUDA runtime's last error (`cudaGetLastError`, which
    /// also clears it) as a [`LaunchError::Runtime`]; `error_name` is `cudaGetErrorName`.
    pub fn finish(
        &self,
        function: &str,
        status: i32,
        error_name: unsafe extern "C" fn(i32) -> *const c_char,
    ) -> Result<(), LaunchError> {
        if status == 0 {
            return Ok(());
        }
        // SAFETY: cudaGetErrorName returns a static, NUL-terminated string for every code
        // (`unrecognized error code` for unknown ones), never null.
        let name = unsafe { CStr::from_ptr(error_name(status)) }
            .to_string_lossy()
            .into_owned();
        Err(LaunchError::Runtime {
            library: self.name.to_owned(),
            function: function.to_owned(),
            code: status,
            name,
        })
    }
}

#[cfg(test)]
mod tests;
