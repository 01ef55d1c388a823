//! The facts about a device that decide which image it runs and that every message names.

use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use cudarc::driver::CudaContext;

use crate::ComputeCapability;
use crate::error::LoadError;

/// A device as the load decision and its messages see it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeviceInfo {
    /// The device ordinal, as passed to `CudaContext::new`.
    pub index: usize,
    /// The name the driver reports, `NVIDIA H100 80GB HBM3` (shared, not copied, by every
    /// load on the device).
    pub name: Arc<str>,
    /// The compute capability.
    pub compute_capability: ComputeCapability,
}

impl DeviceInfo {
    /// The device of `ctx`, asked of the driver once per device and process: a device's name
    /// and compute capability do not change while the process runs.
    pub(crate) fn query(ctx: &Arc<CudaContext>) -> Result<DeviceInfo, LoadError> {
        static KNOWN: OnceLock<Mutex<Vec<DeviceInfo>>> = OnceLock::new();
        let known = KNOWN.get_or_init(Mutex::default);
        let index = ctx.ordinal();
        let cached = known
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|device| device.index == index)
            .cloned();
        if let Some(device) = cached {
            return Ok(device);
        }
        let device = DeviceInfo::ask_driver(ctx)?;
        known
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(device.clone());
        Ok(device)
    }

    fn ask_driver(ctx: &Arc<CudaContext>) -> Result<DeviceInfo, LoadError> {
        let index = ctx.ordinal();
        let name = ctx.name().map_err(|error| LoadError::Driver {
            context: format!("reading the name of device {index} (cuDeviceGetName)"),
            error,
        })?;
        let (major, minor) = ctx.compute_capability().map_err(|error| LoadError::Driver {
            context: format!(
                "reading the compute capability of device {index} {name:?} (cuDeviceGetAttribute)"
            ),
            error,
        })?;
        // The driver never reports a negative capability; 0 would only make the selection fail
        // with a message naming it.
        let compute_capability = ComputeCapability::new(
            u32::try_from(major).unwrap_or_default(),
            u32::try_from(minor).unwrap_or_default(),
        );
        Ok(DeviceInfo {
            index,
            name: name.into(),
            compute_capability,
        })
    }
}

impl fmt::Display for DeviceInfo {
    /// `device 0 "NVIDIA H100 80GB HBM3" (cc 9.0)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "device {} {:?} (cc {})",
            self.index, self.name, self.compute_capability
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_index_name_and_capability() {
        let device = DeviceInfo {
            index: 1,
            name: "NVIDIA GB10".into(),
            compute_capability: ComputeCapability::new(12, 1),
        };
        assert_eq!(device.to_string(), r#"device 1 "NVIDIA GB10" (cc 12.1)"#);
    }
}
