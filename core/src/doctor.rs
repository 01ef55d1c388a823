//! Will a module run on a device, and natively: the pure verdict behind `cargo sasskit doctor`
//! and `sasskit::doctor`, from the module's images, the device's compute capability, the
//! driver's CUDA version and the nvcc release that built the module.
//!
//! The rules, in order:
//!
//! * the image is the one [`select_image`] picks: compatible SASS wins over PTX;
//! * **SASS** loads whatever nvcc built it: measured, nvcc 13.5 SASS for `sm_90` loads on a CUDA
//!   13.0 driver. A newer nvcc is noted, never a failure;
//! * **PTX** is JIT-compiled, which is slow (seconds for a real module), and fails with
//!   `CUDA_ERROR_UNSUPPORTED_PTX_VERSION` when the toolkit that wrote it is newer than the
//!   driver's CUDA version (measured: nvcc 13.5 PTX on a CUDA 13.0 driver). The toolkit is the
//!   nvcc release the build recorded, else the oldest release that writes the image's PTX ISA
//!   version ([`Release::writing_ptx_isa`]); releases compare by major and minor;
//! * **nothing** fits: `CUDA_ERROR_NO_BINARY_FOR_GPU`, a failure.

use std::fmt;

use crate::arch::{ComputeCapability, Target};
use crate::fatbin::Image;
use crate::select::{ImageMatch, select_image};

/// A CUDA release, `13.0`: of a driver (`cuDriverGetVersion`) or of the nvcc that built a module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Release {
    /// `13` of 13.0.
    pub major: u32,
    /// `0` of 13.0.
    pub minor: u32,
}

impl Release {
    /// `13.0`.
    pub const fn new(major: u32, minor: u32) -> Release {
        Release { major, minor }
    }

    /// A version as nvcc or a manifest writes it, `13.0.88` or `13.0`; `None` for anything else
    /// (`unknown`).
    pub fn parse(text: &str) -> Option<Release> {
        let mut parts = text.trim().split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        Some(Release { major, minor })
    }

    /// The release of `cuDriverGetVersion`'s answer: `13000` is 13.0, `12090` is 12.9.
    pub fn from_driver_version(version: u32) -> Release {
        Release {
            major: version / 1000,
            minor: version % 1000 / 10,
        }
    }

    /// The oldest CUDA release whose nvcc writes PTX ISA `isa` (`(major, minor)`, as a PTX
    /// image's entry header records it), and so the oldest driver that reads it: ISA 7.x is CUDA
    /// 11.x, 8.0 to 8.5 are 12.0 to 12.5, 8.6, 8.7 and 8.8 are 12.7, 12.8 and 12.9, and 9.x is
    /// 13.x. `None` for ISA versions outside that table.
    pub fn writing_ptx_isa(isa: (u16, u16)) -> Option<Release> {
        let (major, minor) = (u32::from(isa.0), u32::from(isa.1));
        match (major, minor) {
            (7, minor) if minor <= 8 => Some(Release::new(11, minor)),
            (8, minor) if minor <= 5 => Some(Release::new(12, minor)),
            (8, 6..=8) => Some(Release::new(12, minor + 1)),
            (9, minor) => Some(Release::new(13, minor)),
            _ => None,
        }
    }
}

impl fmt::Display for Release {
    /// `13.0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// How the driver will load one module on one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Native code: no JIT.
    Sass {
        /// The SASS image, `sm_90`.
        target: Target,
        /// Exact or compatible.
        image_match: ImageMatch,
        /// The nvcc release, when it is newer than the driver's CUDA version (which is fine for
        /// SASS, and worth knowing).
        newer_nvcc: Option<Release>,
    },
    /// Only PTX fits: the driver JIT-compiles it at load, which is slow.
    Jit {
        /// The PTX image, `compute_90`.
        ptx: Target,
        /// The release the PTX needs, when known.
        needs: Option<Release>,
        /// The SASS target that would run there without a JIT.
        required: Target,
    },
    /// Only PTX fits, and the driver is older than the toolkit that wrote it:
    /// `CUDA_ERROR_UNSUPPORTED_PTX_VERSION`.
    PtxTooNew {
        /// The PTX image.
        ptx: Target,
        /// The release the PTX needs.
        needs: Release,
        /// The driver's CUDA version.
        driver: Release,
        /// The SASS target that would run there without the PTX.
        required: Target,
    },
    /// No image runs on the device: `CUDA_ERROR_NO_BINARY_FOR_GPU`.
    NoImage {
        /// The SASS target that would run there natively.
        required: Target,
    },
}

/// How bad an outcome is; also the exit code of `cargo sasskit doctor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Native code everywhere (exit code 0).
    Ok,
    /// A PTX JIT at load (exit code 1).
    Slow,
    /// The load fails (exit code 2).
    Fails,
}

impl Severity {
    /// `0` ok, `1` slow, `2` fails: for scripts.
    pub fn exit_code(self) -> u8 {
        match self {
            Severity::Ok => 0,
            Severity::Slow => 1,
            Severity::Fails => 2,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Ok => "ok",
            Severity::Slow => "slow",
            Severity::Fails => "fails",
        })
    }
}

/// The outcome of loading a module of `images`, built by nvcc `nvcc` (when known), on a device of
/// capability `cc` whose driver supports CUDA `driver` (when known). See the module docs for the
/// rules.
pub fn diagnose(
    images: &[Image],
    cc: ComputeCapability,
    driver: Option<Release>,
    nvcc: Option<Release>,
) -> Outcome {
    let Some(choice) = select_image(images, cc) else {
        return Outcome::NoImage {
            required: cc.exact_target(),
        };
    };
    let image = &images[choice.index];
    let Some(target) = image.target() else {
        // The selection only picks SASS and PTX, which always have a target.
        return Outcome::NoImage {
            required: cc.exact_target(),
        };
    };
    if choice.image_match != ImageMatch::Jit {
        return Outcome::Sass {
            target,
            image_match: choice.image_match,
            newer_nvcc: nvcc.filter(|nvcc| driver.is_some_and(|driver| nvcc > &driver)),
        };
    }
    let needs = nvcc.or_else(|| Release::writing_ptx_isa(image.version));
    match (needs, driver) {
        (Some(needs), Some(driver)) if needs > driver => Outcome::PtxTooNew {
            ptx: target,
            needs,
            driver,
            required: cc.exact_target(),
        },
        _ => Outcome::Jit {
            ptx: target,
            needs,
            required: cc.exact_target(),
        },
    }
}

impl Outcome {
    /// The SASS target that would make the load native, when it is not.
    pub fn missing(&self) -> Option<Target> {
        match self {
            Outcome::Sass { .. } => None,
            Outcome::Jit { required, .. }
            | Outcome::PtxTooNew { required, .. }
            | Outcome::NoImage { required } => Some(*required),
        }
    }

    /// Ok, slow or fails.
    pub fn severity(&self) -> Severity {
        match self {
            Outcome::Sass { .. } => Severity::Ok,
            Outcome::Jit { .. } => Severity::Slow,
            Outcome::PtxTooNew { .. } | Outcome::NoImage { .. } => Severity::Fails,
        }
    }
}

impl fmt::Display for Outcome {
    /// `sass sm_90 (exact)`, `JIT of ptx compute_80 (slow)`, `fails: …`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Sass {
                target,
                image_match,
                newer_nvcc,
            } => {
                write!(f, "sass {target} ({image_match})")?;
                if let Some(nvcc) = newer_nvcc {
                    write!(
                        f,
                        "; built by nvcc {nvcc}, newer than the driver, which SASS allows"
                    )?;
                }
                Ok(())
            }
            Outcome::Jit { ptx, needs, .. } => {
                write!(f, "JIT of ptx {ptx} at every load")?;
                if let Some(needs) = needs {
                    write!(f, " (PTX of CUDA {needs})")?;
                }
                Ok(())
            }
            Outcome::PtxTooNew {
                ptx, needs, driver, ..
            } => write!(
                f,
                "fails: ptx {ptx} is from CUDA {needs}, newer than the driver's CUDA {driver} \
                 (CUDA_ERROR_UNSUPPORTED_PTX_VERSION)"
            ),
            Outcome::NoImage { required } => write!(
                f,
                "fails: no image runs here, {required} needed (CUDA_ERROR_NO_BINARY_FOR_GPU)"
            ),
        }
    }
}

/// How the driver loads a module's kernels, from `CUDA_MODULE_LOADING`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModuleLoading {
    /// Kernels are loaded on first use (the default since CUDA 12.2). Image selection, and a
    /// JIT, still happen when the module loads.
    Lazy,
    /// Every kernel is loaded with its module (`CUDA_MODULE_LOADING=EAGER`).
    Eager,
}

impl ModuleLoading {
    /// The mode for a `CUDA_MODULE_LOADING` value: `EAGER` (any case) is eager, anything else or
    /// nothing is the driver's default, lazy.
    pub fn from_env(value: Option<&str>) -> ModuleLoading {
        match value {
            Some(value) if value.trim().eq_ignore_ascii_case("eager") => ModuleLoading::Eager,
            _ => ModuleLoading::Lazy,
        }
    }
}

impl fmt::Display for ModuleLoading {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ModuleLoading::Lazy => "lazy",
            ModuleLoading::Eager => "eager",
        })
    }
}

/// One module on one device, for the [`verdict`] line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The module (or library object, or container) name.
    pub module: String,
    /// The device, `device 0 (cc 9.0)`.
    pub device: String,
    /// How it loads there.
    pub outcome: Outcome,
}

/// The worst severity of `findings` and the line that says it: `ok: every module loads SASS on
/// every GPU`, `slow: …JIT…` or `fails: …`, naming each module and device at that severity.
pub fn verdict(findings: &[Finding]) -> (Severity, String) {
    let worst = findings
        .iter()
        .map(|finding| finding.outcome.severity())
        .max()
        .unwrap_or(Severity::Ok);
    let at_worst: Vec<&Finding> = findings
        .iter()
        .filter(|finding| finding.outcome.severity() == worst)
        .collect();
    let named: Vec<String> = at_worst
        .iter()
        .map(|finding| format!("`{}` on {}", finding.module, finding.device))
        .collect();
    let mut missing: Vec<String> = Vec::new();
    for target in at_worst
        .iter()
        .filter_map(|finding| finding.outcome.missing())
    {
        let target = target.to_string();
        if !missing.contains(&target) {
            missing.push(target);
        }
    }
    let fix = format!(
        "add {} to SASSKIT_ARCHS, to `[package.metadata.sasskit] archs` or to the build.rs \
         target list, and rebuild",
        missing.join(", ")
    );
    let line = match worst {
        Severity::Ok => "ok: every module loads SASS on every GPU".to_owned(),
        Severity::Slow => format!("slow: PTX JIT at load for {}; {fix}", named.join(", ")),
        Severity::Fails => format!("fails: {} cannot load; {fix}", named.join(", ")),
    };
    (worst, line)
}

#[cfg(test)]
mod tests;
