//! Loading one module on every device, deciding for all of them before loading on any.

use std::sync::Arc;
use std::time::Instant;

use cudarc::driver::CudaContext;
use cudarc::driver::sys::CUresult;

use crate::device::DeviceInfo;
use crate::driver;
use crate::embedded::EmbeddedModule;
use crate::error::LoadError;
use crate::load::{LoadedModule, load_plan};
use crate::plan::check;
use crate::policy::LoadPolicy;

/// Loads `module` on every device the driver sees, in device order.
///
/// Every device is checked first (its compute capability read and the image selected, as
/// [`check`] does), without loading anything. If any device has no usable image, the result
/// is one [`LoadError::EveryDevice`] that lists every failing device, so a cluster node with a
/// mix of GPUs reports all of its gaps at once. Only then is the module loaded on each device;
/// load failures are collected the same way.
///
/// The [`ALLOW_JIT_ENV`](crate::ALLOW_JIT_ENV) override is read once for all devices. A
/// corrupt fat binary fails at once with its own error, since it fails the same
/// way everywhere.
pub fn load_on_every_device(
    module: &EmbeddedModule,
    policy: LoadPolicy,
) -> Result<Vec<LoadedModule>, LoadError> {
    // A module that was never built fails the same everywhere: before any driver call.
    if let Some(reason) = module.build.unavailable {
        return Err(LoadError::NotBuilt {
            module: module.name.to_owned(),
            reason: reason.to_owned(),
        });
    }
    let count = device_count()?;
    let policy = policy.with_env_override();

    let mut checked = Vec::with_capacity(count);
    let mut failures = Vec::new();
    for index in 0..count {
        let started = Instant::now();
        let decided =
            open_device(index).and_then(|(ctx, device)| Ok((ctx, check(module, &device, policy)?)));
        match decided {
            Ok((ctx, plan)) => checked.push((index, ctx, plan, started.elapsed())),
            Err(error @ LoadError::CorruptFatbin { .. }) => {
                return Err(error);
            }
            Err(error) => failures.push((index, error)),
        }
    }
    if !failures.is_empty() {
        return Err(LoadError::EveryDevice(failures));
    }

    let mut loaded = Vec::with_capacity(count);
    for (index, ctx, plan, spent) in checked {
        match load_plan(&ctx, plan, spent) {
            Ok(module) => loaded.push(module),
            Err(error) => failures.push((index, error)),
        }
    }
    if failures.is_empty() {
        Ok(loaded)
    } else {
        Err(LoadError::EveryDevice(failures))
    }
}

/// The primary context of device `index` and what the device is: what every per-device loop
/// starts with.
pub(crate) fn open_device(index: usize) -> Result<(Arc<CudaContext>, DeviceInfo), LoadError> {
    let ctx = CudaContext::new(index).map_err(|error| LoadError::Driver {
        context: format!(
            "creating the primary context of device {index} (cuDevicePrimaryCtxRetain)"
        ),
        error,
    })?;
    let device = DeviceInfo::query(&ctx)?;
    Ok((ctx, device))
}

/// How many devices the driver sees: [`LoadError::NoDriver`] without a working driver,
/// [`LoadError::NoDevice`] for none.
pub(crate) fn device_count() -> Result<usize, LoadError> {
    if !driver::driver_present() {
        return Err(LoadError::NoDriver);
    }
    let count = CudaContext::device_count().map_err(|error| match error.0 {
        CUresult::CUDA_ERROR_NO_DEVICE => LoadError::NoDevice,
        _ => LoadError::Driver {
            context: "counting the devices (cuInit, cuDeviceGetCount)".to_owned(),
            error,
        },
    })?;
    match usize::try_from(count).unwrap_or_default() {
        0 => Err(LoadError::NoDevice),
        count => Ok(count),
    }
}
