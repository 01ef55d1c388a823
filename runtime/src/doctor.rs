//! `doctor`: will these modules run here, and natively? One report for every module and every
//! visible GPU, before any work starts; the decision is `sasskit_core::doctor`'s, on the images
//! each module embeds, the device, the driver's CUDA version and the nvcc that built it.

use std::fmt;

use cudarc::driver::CudaContext;
use sasskit_core::doctor::{self, Finding, ModuleLoading, Release, Severity};
use sasskit_core::{FatBinary, Image, ImageKind};

use crate::device::DeviceInfo;
use crate::driver;
use crate::embedded::EmbeddedModule;
use crate::error::LoadError;
use crate::every_device::device_count;

/// The variable the driver reads for lazy or eager module loading.
pub const MODULE_LOADING_ENV: &str = "CUDA_MODULE_LOADING";

/// What `doctor` knows of this machine: the driver, its GPUs and the module loading mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// The driver's CUDA version, or why there is none to ask (no driver, no device): then the
    /// report holds the static part only.
    pub driver: Result<Option<Release>, String>,
    /// Every visible GPU, in device order; empty without a driver.
    pub devices: Vec<DeviceInfo>,
    /// Lazy or eager, from [`MODULE_LOADING_ENV`].
    pub module_loading: ModuleLoading,
}

impl Host {
    /// Asks the driver (when there is one) for its version and every device's name and compute
    /// capability, and reads [`MODULE_LOADING_ENV`]. Never panics without a driver.
    pub fn probe() -> Host {
        let module_loading = ModuleLoading::from_env(module_loading_env().as_deref());
        match devices() {
            Ok(devices) => Host {
                driver: Ok(driver::cuda_version().map(|(major, minor)| Release::new(major, minor))),
                devices,
                module_loading,
            },
            Err(error) => Host {
                driver: Err(error.to_string()),
                devices: Vec::new(),
                module_loading,
            },
        }
    }
}

/// One module (or one container of a binary) as `doctor` sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// Its name: the module, or the container's origin.
    pub name: String,
    /// Its images, or why they cannot be read.
    pub images: Result<Vec<Image>, String>,
    /// The nvcc release that built it, when recorded.
    pub nvcc: Option<Release>,
}

impl Subject {
    /// The subject of an embedded module: its images, and the nvcc its build recorded.
    pub fn of(module: &EmbeddedModule) -> Subject {
        let images = match module.build.unavailable {
            Some(reason) => Err(format!("not built: {reason}")),
            None => FatBinary::parse(module.fatbin)
                .map(|fatbin| fatbin.images().to_vec())
                .map_err(|error| error.to_string()),
        };
        Subject {
            name: module.name.to_owned(),
            images,
            nvcc: Release::parse(module.build.nvcc_version),
        }
    }
}

/// The `doctor` report: every module on every GPU, and the verdict.
///
/// Its `Display` is one screen: the driver line, one line per module (images, nvcc), one block
/// per GPU (how each module loads there), then the verdict line: `ok: every module loads SASS on
/// every GPU`, `slow: …JIT…` or `fails: …`. [`DoctorReport::severity`] is the same verdict
/// for code, with exit codes for scripts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoctorReport {
    host: Host,
    subjects: Vec<Subject>,
    findings: Vec<Finding>,
    severity: Severity,
    verdict: String,
}

/// Checks every module in `modules` on every visible GPU: which image each would load, whether
/// the driver can read its PTX, lazy or eager loading. Loads nothing; without a driver, the
/// report says so and holds what the modules embed.
///
/// ```no_run
/// # static SCALE: sasskit::EmbeddedModule = sasskit::EmbeddedModule {
/// #     name: "scale",
/// #     fatbin: include_bytes!("../tests/fixtures/scale_sm90.fatbin"),
/// #     build: sasskit::BuildFacts::UNKNOWN,
/// # };
/// let report = sasskit::doctor(&[&SCALE]); // `&saxpy::EMBEDDED` for `kernels!(saxpy)`
/// println!("{report}");
/// if report.severity() != sasskit::Severity::Ok {
///     eprintln!("{}", report.verdict());
/// }
/// ```
pub fn doctor(modules: &[&EmbeddedModule]) -> DoctorReport {
    let subjects = modules.iter().map(|module| Subject::of(module)).collect();
    DoctorReport::new(Host::probe(), subjects)
}

impl DoctorReport {
    /// The report of `subjects` on `host`: the pure decision, for tools that read modules
    /// elsewhere (`cargo sasskit doctor` reads them from a binary) and for tests.
    pub fn new(host: Host, subjects: Vec<Subject>) -> DoctorReport {
        let driver = host.driver.clone().ok().flatten();
        let mut findings = Vec::new();
        for device in &host.devices {
            for subject in &subjects {
                if let Ok(images) = &subject.images {
                    findings.push(Finding {
                        module: subject.name.clone(),
                        device: format!(
                            "device {} (cc {})",
                            device.index, device.compute_capability
                        ),
                        outcome: doctor::diagnose(
                            images,
                            device.compute_capability,
                            driver,
                            subject.nvcc,
                        ),
                    });
                }
            }
        }
        let (severity, verdict) = verdict(&host, &subjects, &findings);
        DoctorReport {
            host,
            subjects,
            findings,
            severity,
            verdict,
        }
    }

    /// Ok, slow (a PTX JIT somewhere) or fails (some module cannot load somewhere).
    pub fn severity(&self) -> Severity {
        self.severity
    }

    /// The verdict line.
    pub fn verdict(&self) -> &str {
        &self.verdict
    }

    /// Every module on every device.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }
}

/// The verdict over the findings, with unreadable modules failing, and the static verdict when
/// no GPU could be asked.
fn verdict(host: &Host, subjects: &[Subject], findings: &[Finding]) -> (Severity, String) {
    let unreadable: Vec<String> = subjects
        .iter()
        .filter_map(|subject| {
            let error = subject.images.as_ref().err()?;
            Some(format!("`{}` ({error})", subject.name))
        })
        .collect();
    if !unreadable.is_empty() {
        return (
            Severity::Fails,
            format!("fails: cannot read {}", unreadable.join(", ")),
        );
    }
    if host.driver.is_err() {
        let ptx_only: Vec<String> = subjects
            .iter()
            .filter(|subject| {
                subject.images.as_ref().is_ok_and(|images| {
                    !images
                        .iter()
                        .any(|image| image.target().is_some_and(|target| !target.is_ptx()))
                })
            })
            .map(|subject| format!("`{}`", subject.name))
            .collect();
        if !ptx_only.is_empty() {
            return (
                Severity::Slow,
                format!(
                    "slow: {} no SASS, only PTX: a JIT on every GPU (no driver here, no GPU \
                     checked)",
                    if ptx_only.len() == 1 {
                        format!("{} holds", ptx_only[0])
                    } else {
                        format!("{} hold", ptx_only.join(", "))
                    }
                ),
            );
        }
        return (
            Severity::Ok,
            "static only: no driver here, no GPU checked; every module holds SASS (the images \
             above), run doctor on the GPU machine for the verdict"
                .to_owned(),
        );
    }
    doctor::verdict(findings)
}

impl fmt::Display for DoctorReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host.driver {
            Ok(Some(release)) => write!(f, "driver: CUDA {release}")?,
            Ok(None) => f.write_str("driver: CUDA version unknown")?,
            Err(why) => write!(f, "driver: none ({why})")?,
        }
        writeln!(
            f,
            "; module loading {} ({MODULE_LOADING_ENV}); {} GPU{}",
            self.host.module_loading,
            self.host.devices.len(),
            if self.host.devices.len() == 1 {
                ""
            } else {
                "s"
            }
        )?;
        f.write_str("modules:\n")?;
        for subject in &self.subjects {
            write!(f, "  {}: ", subject.name)?;
            match &subject.images {
                Ok(images) => {
                    let shown: Vec<String> = images.iter().map(ToString::to_string).collect();
                    write!(f, "{}", shown.join(", "))?;
                    match subject.nvcc {
                        Some(nvcc) => write!(f, "; nvcc {nvcc}")?,
                        None => f.write_str("; nvcc unknown")?,
                    }
                    let ptx = images.iter().find(|image| image.kind == ImageKind::Ptx);
                    if let Some(ptx) = ptx {
                        write!(f, "; PTX ISA {}.{}", ptx.version.0, ptx.version.1)?;
                    }
                    f.write_str("\n")?;
                }
                Err(error) => writeln!(f, "unreadable: {error}")?,
            }
        }
        for device in &self.host.devices {
            writeln!(f, "{device}:")?;
            let label = format!("device {} (cc {})", device.index, device.compute_capability);
            for finding in self
                .findings
                .iter()
                .filter(|finding| finding.device == label)
            {
                writeln!(f, "  {}: {}", finding.module, finding.outcome)?;
            }
        }
        f.write_str(&self.verdict)
    }
}

/// Every visible device, asked of the driver.
fn devices() -> Result<Vec<DeviceInfo>, LoadError> {
    (0..device_count()?)
        .map(|index| {
            let ctx = CudaContext::new(index).map_err(|error| LoadError::Driver {
                context: format!(
                    "creating the primary context of device {index} (cuDevicePrimaryCtxRetain)"
                ),
                error,
            })?;
            DeviceInfo::query(&ctx)
        })
        .collect()
}

/// Reads [`MODULE_LOADING_ENV`].
// The workspace bans direct env reads so that build scripts track what they read; this is the
// driver's run-time setting, which no build depends on.
#[allow(clippy::disallowed_methods)]
fn module_loading_env() -> Option<String> {
    std::env::var(MODULE_LOADING_ENV).ok()
}

#[cfg(test)]
mod tests;
