//! What a [`Build`] compiles and how: one job per `.cu` file with its targets, the shared
//! headers, and the flags every nvcc run gets; separate from the public builder in `lib.rs`.

use std::path::{Path, PathBuf};

use sasskit_core::family::{DeclaredFamily, FamilySettings};
use sasskit_core::kernel::LongSize;

use crate::compile::{Job, module_name};
use crate::config::{self, Origin, Targets};
use crate::error::Error;
use crate::{Build, cargo_output, env, prebuilt, shared};

impl Build {
    pub(crate) fn jobs(
        &self,
        manifest_dir: Option<&Path>,
        targets: &Targets,
        metadata: &config::Metadata,
    ) -> Result<Vec<Job>, Error> {
        if self.files.is_empty() {
            return Err(Error::config(
                "no `.cu` files to compile: add them with `Build::file`",
            ));
        }
        let resolve = |file: &Path| match manifest_dir {
            Some(dir) if file.is_relative() => dir.join(file),
            _ => file.to_owned(),
        };
        let mut per_file: Vec<(PathBuf, Targets)> = config::metadata_file_archs(metadata)?;
        for (file, list) in &self.file_archs {
            let origin = Origin::BuilderFile(file.display().to_string());
            let own = config::parse(list, &origin)?;
            config::check_not_empty(&own)?;
            // The builder wins over the metadata: it goes first.
            per_file.insert(0, (resolve(file), own));
        }
        let families = self.family_settings()?;
        let mut jobs: Vec<Job> = Vec::new();
        for file in &self.files {
            let source = resolve(file);
            cargo_output::rerun_if_changed(&source);
            if !source.is_file() {
                return Err(Error::config(format!(
                    "the CUDA source `{}` does not exist",
                    source.display()
                )));
            }
            let module = module_name(&source);
            if let Some(other) = jobs.iter().find(|job| job.module == module) {
                return Err(Error::config(format!(
                    "`{}` and `{}` would both be the module `{module}`: rename one of them",
                    other.source.display(),
                    source.display()
                )));
            }
            let own = per_file.iter().find(|(path, _)| same_file(path, &source));
            let targets = own.map_or(&targets.list, |(_, own)| &own.list).clone();
            jobs.push(Job {
                source,
                module,
                targets,
                families: families.clone(),
            });
        }
        Ok(jobs)
    }

    /// `Build::kernel_families` and `Build::kernel_family`, checked, as every manifest records
    /// them.
    fn family_settings(&self) -> Result<FamilySettings, Error> {
        let mut declared = Vec::with_capacity(self.declared_families.len());
        for (name, pattern) in &self.declared_families {
            let family = DeclaredFamily::new(name, pattern)
                .map_err(|error| Error::config(format!("`Build::kernel_family`: {error}")))?;
            if declared
                .iter()
                .any(|other: &DeclaredFamily| other.name == family.name)
            {
                return Err(Error::config(format!(
                    "`Build::kernel_family` declares the family `{name}` twice; give each \
                     pattern its own name"
                )));
            }
            declared.push(family);
        }
        Ok(FamilySettings {
            detect: self.kernel_families.unwrap_or(true),
            declared,
        })
    }

    pub(crate) fn headers(
        &self,
        manifest_dir: Option<&Path>,
    ) -> Result<Vec<shared::Header>, Error> {
        let mut headers: Vec<shared::Header> = Vec::new();
        if let (false, Some(first)) = (cfg!(feature = "bindgen"), self.shared_headers.first()) {
            return Err(shared::feature_missing(first));
        }
        for path in &self.shared_headers {
            let path = match manifest_dir {
                Some(dir) if path.is_relative() => dir.join(path),
                _ => path.clone(),
            };
            let module = module_name(&path);
            if let Some(other) = headers.iter().find(|header| header.module == module) {
                return Err(Error::config(format!(
                    "the shared headers `{}` and `{}` would both be the module `{module}`: \
                     rename one of them",
                    other.path.display(),
                    path.display()
                )));
            }
            headers.push(shared::Header { path, module });
        }
        Ok(headers)
    }

    /// The user's flags as text, after refusing target options and non-UTF-8 flags.
    pub(crate) fn check_flags(&self) -> Result<Vec<String>, Error> {
        const TARGET_FLAGS: &[&str] = &[
            "-arch",
            "--gpu-architecture",
            "-gencode",
            "--generate-code",
            "-code",
            "--gpu-code",
        ];
        let mut flags = Vec::with_capacity(self.flags.len());
        for flag in &self.flags {
            let Some(flag) = flag.to_str() else {
                return Err(Error::config(format!(
                    "the nvcc flag `{}` is not valid UTF-8; nvcc flags must be text",
                    flag.display()
                )));
            };
            if TARGET_FLAGS.iter().any(|target_flag| {
                flag == *target_flag || flag.starts_with(&format!("{target_flag}="))
            }) {
                return Err(Error::config(format!(
                    "the nvcc flag `{flag}` would change the targets behind sasskit's back: set them \
                     with `Build::archs`, `SASSKIT_ARCHS` or `archs` in [package.metadata.sasskit]"
                )));
            }
            flags.push(flag.to_owned());
        }
        Ok(flags)
    }

    /// `-I`, `-D`, `-lineinfo` when [`Build::debug`] or (when `from_profile`) the profile asks
    /// for debug information, then the user's flags.
    pub(crate) fn nvcc_flags(&self, user: Vec<String>, from_profile: bool) -> Vec<String> {
        let mut flags = self.include_and_define_flags();
        let line_info = self
            .debug
            .unwrap_or_else(|| from_profile && profile_wants_debug_info());
        if line_info && !user.iter().any(|flag| flag == "-lineinfo" || flag == "-G") {
            flags.push("-lineinfo".to_owned());
        }
        flags.extend(user);
        flags
    }

    /// What a prebuilt fat binary of `job` must have been built with, besides its files: the
    /// targets, include folders (relative to the crate), defines, line information when
    /// [`Build::debug`] asks for it, the user's flags, the width of C's `long` and the single
    /// front end. The profile is not among them: prebuilt fat binaries are the same for every
    /// profile.
    pub(crate) fn prebuilt_settings(
        &self,
        job: &Job,
        user_flags: &[String],
        long: LongSize,
        single_front_end: bool,
        manifest_dir: Option<&Path>,
    ) -> Vec<String> {
        let mut settings = vec![format!("targets={}", config::names(&job.targets).join(","))];
        for dir in &self.includes {
            let relative = manifest_dir
                .and_then(|root| prebuilt::folder::relative(&root.join(dir), root))
                .unwrap_or_else(|| dir.display().to_string());
            settings.push(format!("include={relative}"));
        }
        for (name, value) in &self.defines {
            settings.push(match value {
                Some(value) => format!("define={name}={value}"),
                None => format!("define={name}"),
            });
        }
        if self.debug == Some(true) {
            settings.push("line_info=true".to_owned());
        }
        settings.extend(user_flags.iter().map(|flag| format!("flag={flag}")));
        settings.push(format!("long={}", long.0));
        if single_front_end {
            settings.push("single_front_end=true".to_owned());
        }
        settings
    }

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
}

/// Whether cargo's profile asks for debug information: `DEBUG` is `true`, `1`, `2`, `full`,
/// `limited` or `line-tables-only` (cargo's spellings of `debug = …`), not `false`, `0` or
/// `none`. Outside a build script, no.
pub(crate) fn profile_wants_debug_info() -> bool {
    env::cargo("DEBUG")
        .is_some_and(|value| !matches!(value.to_str(), Some("false" | "0" | "none" | "")))
}

/// The largest image the build decompresses: `SASSKIT_MAX_IMAGE_SIZE` in bytes, else
/// [`DEFAULT_MAX_IMAGE_SIZE`](sasskit_core::fatbin::DEFAULT_MAX_IMAGE_SIZE).
pub(crate) fn max_image_size() -> Result<u64, Error> {
    let Some(value) = env::tracked(crate::MAX_IMAGE_SIZE_ENV) else {
        return Ok(sasskit_core::fatbin::DEFAULT_MAX_IMAGE_SIZE);
    };
    value
        .to_str()
        .and_then(|text| text.trim().parse::<u64>().ok())
        .ok_or_else(|| {
            Error::config(format!(
                "`{}={}` is not a number of bytes (the default is {}, 1 GiB)",
                crate::MAX_IMAGE_SIZE_ENV,
                value.to_string_lossy(),
                sasskit_core::fatbin::DEFAULT_MAX_IMAGE_SIZE
            ))
        })
}

/// The width of C's `long` on the target being built, which nvcc gives device code too.
pub(crate) fn long_size() -> LongSize {
    let os = env::cargo("CARGO_CFG_TARGET_OS").and_then(|os| os.into_string().ok());
    os.as_deref()
        .map_or(LongSize::LP64, LongSize::for_target_os)
}

/// Whether two paths name the same file, also when one goes through `..` or a symlink.
fn same_file(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_settings_default_to_detection_and_keep_the_declared_order() {
        assert_eq!(
            Build::new().family_settings().unwrap(),
            FamilySettings::default()
        );
        let settings = Build::new()
            .kernel_families(false)
            .kernel_family("select", "where_{}_{}")
            .kernel_family("saxpy", "saxpy{}")
            .family_settings()
            .unwrap();
        assert!(!settings.detect);
        let declared: Vec<String> = settings
            .declared
            .iter()
            .map(|family| format!("{}={}", family.name, family.pattern))
            .collect();
        assert_eq!(declared, ["select=where_{}_{}", "saxpy=saxpy{}"]);
    }

    #[test]
    fn bad_declared_families_fail_naming_the_setting() {
        let error = Build::new()
            .kernel_family("affine", "affine")
            .family_settings()
            .unwrap_err()
            .to_string();
        assert!(error.contains("`Build::kernel_family`"), "{error}");
        assert!(error.contains("has no `{}`"), "{error}");
        let error = Build::new()
            .kernel_family("a", "a_{}")
            .kernel_family("a", "b_{}")
            .family_settings()
            .unwrap_err()
            .to_string();
        assert!(error.contains("declares the family `a` twice"), "{error}");
    }
}
