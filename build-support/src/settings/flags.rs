//! The flags of every nvcc run and the key a prebuilt output records: the user's flags checked,
//! `-I` and `-D`, line information, and the compression of prebuilt outputs.

use std::ffi::OsString;

use crate::error::Error;
use crate::job::Job;
use crate::{config, env, prebuilt_folder};

use super::Settings;

/// The user's flags as text, after refusing target options and non-UTF-8 flags.
pub(super) fn check(user: &[OsString]) -> Result<Vec<String>, Error> {
    const TARGET_FLAGS: &[&str] = &[
        "-arch",
        "--gpu-architecture",
        "-gencode",
        "--generate-code",
        "-code",
        "--gpu-code",
    ];
    let mut flags = Vec::with_capacity(user.len());
    for flag in user {
        let Some(flag) = flag.to_str() else {
            return Err(Error::config(format!(
                "the nvcc flag `{}` is not valid UTF-8; nvcc flags must be text",
                flag.display()
            )));
        };
        if TARGET_FLAGS
            .iter()
            .any(|target_flag| flag == *target_flag || flag.starts_with(&format!("{target_flag}=")))
        {
            return Err(Error::config(format!(
                "the nvcc flag `{flag}` would change the targets behind sasskit's back: set them \
                 with `Build::archs`, `SASSKIT_ARCHS` or `archs` in [package.metadata.sasskit]"
            )));
        }
        flags.push(flag.to_owned());
    }
    Ok(flags)
}

impl Settings {
    /// `-I` and `-D` options, which bindgen's clang gets too.
    pub(crate) fn include_and_define_flags(&self) -> Vec<String> {
        let mut flags = Vec::new();
        for dir in &self.includes {
            flags.push(format!("-I{}", dir.display()));
        }
        for (name, value) in &self.defines {
            flags.push(match value {
                Some(value) => format!("-D{name}={value}"),
                None => format!("-D{name}"),
            });
        }
        flags
    }

    /// Every nvcc run's flags besides targets and the host compiler: `-I`, `-D`, `-lineinfo`
    /// when [`Build::debug`](crate::Build::debug) or the profile asks for debug information,
    /// then the user's flags. A build for the prebuilt folder (`for_prebuilt`) ignores the
    /// profile and compresses as much as nvcc can (`--compress-mode=size`): it ships in the
    /// crate.
    pub(crate) fn nvcc_flags(&self, for_prebuilt: bool) -> Vec<String> {
        let mut flags = self.include_and_define_flags();
        let line_info = self
            .line_info
            .unwrap_or_else(|| !for_prebuilt && profile_wants_debug_info());
        if line_info
            && !self
                .user_flags
                .iter()
                .any(|flag| flag == "-lineinfo" || flag == "-G")
        {
            flags.push("-lineinfo".to_owned());
        }
        flags.extend(self.user_flags.iter().cloned());
        if for_prebuilt {
            flags.push("--compress-mode=size".to_owned());
        }
        flags
    }

    /// What a prebuilt output of `job` must have been built with, besides its files: the
    /// targets, include folders (relative to the crate), defines, line information when
    /// [`Build::debug`](crate::Build::debug) asks for it, the user's flags, the width of C's
    /// `long` and the single front end. The profile is not among them: prebuilt outputs are the
    /// same for every profile.
    pub(crate) fn prebuilt_key(&self, job: &Job) -> Vec<String> {
        let manifest_dir = self.manifest_dir.as_deref();
        let mut key = vec![format!("targets={}", config::names(&job.targets).join(","))];
        for dir in &self.includes {
            let relative = manifest_dir
                .and_then(|root| prebuilt_folder::relative(&root.join(dir), root))
                .unwrap_or_else(|| dir.display().to_string());
            key.push(format!("include={relative}"));
        }
        for (name, value) in &self.defines {
            key.push(match value {
                Some(value) => format!("define={name}={value}"),
                None => format!("define={name}"),
            });
        }
        if self.line_info == Some(true) {
            key.push("line_info=true".to_owned());
        }
        key.extend(self.user_flags.iter().map(|flag| format!("flag={flag}")));
        key.push(format!("long={}", self.reading.long.0));
        if self.single_front_end {
            key.push("single_front_end=true".to_owned());
        }
        key
    }
}

/// Whether cargo's profile asks for debug information: `DEBUG` is `true`, `1`, `2`, `full`,
/// `limited` or `line-tables-only` (cargo's spellings of `debug = …`), not `false`, `0` or
/// `none`. Outside a build script, no.
fn profile_wants_debug_info() -> bool {
    env::cargo("DEBUG")
        .is_some_and(|value| !matches!(value.to_str(), Some("false" | "0" | "none" | "")))
}
