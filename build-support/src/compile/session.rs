//! What every nvcc run of one build shares: the build's [`Settings`] and what nvcc itself
//! brings (the compiler found, the host compiler, nvcc's environment, the build key's roots).

use std::path::PathBuf;

use sasskit_core::{Arch, Target};

use crate::error::Error;
use crate::job::Job;
use crate::settings::Settings;
use crate::toolkit::{self, Nvcc};
use crate::{cargo_output, key};

/// The nvcc side of a build, over its settings.
#[derive(Debug)]
pub(crate) struct Session<'s> {
    /// Everything the build resolved: jobs, flags, cache, launcher, outputs.
    pub(crate) settings: &'s Settings,
    pub(crate) nvcc: Nvcc,
    /// Every nvcc run's flags besides targets and the host compiler
    /// ([`Settings::nvcc_flags`]).
    pub(crate) flags: Vec<String>,
    /// The host compiler nvcc should use, if the `cc` crate found one.
    pub(crate) ccbin: Option<PathBuf>,
    /// The host compiler's `--version` line, part of the build key.
    pub(crate) host_compiler: String,
    /// nvcc's own environment variables that are set, `NAME=value`, for the build key.
    pub(crate) nvcc_environment: Vec<String>,
    /// The folders the build key names paths relative to.
    pub(crate) roots: key::Roots,
}

impl<'s> Session<'s> {
    /// The session that builds `jobs` with `nvcc`: their targets checked against what nvcc can
    /// build, the host compiler found, and the shared headers' layouts checked on the device
    /// for every architecture the jobs target. `for_prebuilt` builds for the crate's prebuilt
    /// folder ([`Settings::nvcc_flags`]).
    pub(crate) fn new(
        settings: &'s Settings,
        nvcc: Nvcc,
        jobs: &[&Job],
        for_prebuilt: bool,
    ) -> Result<Session<'s>, Error> {
        cargo_output::rerun_if_changed(nvcc.tool.path());
        for job in jobs {
            nvcc.check_targets(&job.targets)?;
        }
        let ccbin = settings.pass_ccbin.then(toolkit::host_compiler).flatten();
        let session = Session {
            host_compiler: toolkit::host_compiler_version(ccbin.as_deref()),
            roots: key::Roots::new(
                settings.manifest_dir.as_deref(),
                nvcc.tool.path(),
                &settings.out_dir,
            ),
            flags: {
                let mut flags = settings.nvcc_flags(for_prebuilt);
                if !for_prebuilt {
                    flags.extend(
                        settings
                            .compression
                            .nvcc_flags(&nvcc.version, &settings.user_flags)?,
                    );
                }
                flags
            },
            nvcc_environment: toolkit::nvcc_environment(),
            settings,
            nvcc,
            ccbin,
        };
        let mut archs: Vec<Arch> = Vec::new();
        for arch in jobs
            .iter()
            .flat_map(|job| job.targets.iter().map(Target::arch))
        {
            if !archs.contains(&arch) {
                archs.push(arch);
            }
        }
        session.check_device_layouts(&archs)?;
        Ok(session)
    }

    /// `-ccbin` (when the build passes one) and the flags, the start of every nvcc command line.
    pub(crate) fn base_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(ccbin) = &self.ccbin {
            args.push("-ccbin".to_owned());
            args.push(ccbin.display().to_string());
        }
        args.extend(self.flags.iter().cloned());
        args
    }
}
