//! What a build compiles: one job per `.cu` file with its targets and kernel families, and the
//! shared headers, from the builder's files and the crate's metadata.

use std::path::{Path, PathBuf};

use sasskit_core::family::{DeclaredFamily, FamilySettings};

use crate::config::{self, Origin, Targets};
use crate::error::Error;
use crate::job::{Job, module_name};
use crate::options::Options;
use crate::{cargo_output, shared};

/// One job per file of `options`, in the order they were added: its own targets (the builder's
/// per-file list, else the metadata's, else `targets`) and the kernel families.
pub(super) fn jobs(
    options: &Options,
    manifest_dir: Option<&Path>,
    targets: &Targets,
    metadata: &config::Metadata,
) -> Result<Vec<Job>, Error> {
    if options.files.is_empty() {
        return Err(Error::config(
            "no `.cu` files to compile: add them with `Build::file`",
        ));
    }
    let resolve = |file: &Path| match manifest_dir {
        Some(dir) if file.is_relative() => dir.join(file),
        _ => file.to_owned(),
    };
    let mut per_file: Vec<(PathBuf, Targets)> = config::metadata_file_archs(metadata)?;
    for (file, list) in &options.file_archs {
        let origin = Origin::BuilderFile(file.display().to_string());
        let own = config::parse(list, &origin)?;
        config::check_not_empty(&own)?;
        // The builder wins over the metadata: it goes first.
        per_file.insert(0, (resolve(file), own));
    }
    let families = family_settings(&options.declared_families, options.kernel_families)?;
    let mut jobs: Vec<Job> = Vec::new();
    for file in &options.files {
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

/// `Build::kernel_families` and `Build::kernel_family`, checked, as every manifest records them.
fn family_settings(
    declared_families: &[(String, String)],
    detect: Option<bool>,
) -> Result<FamilySettings, Error> {
    let mut declared = Vec::with_capacity(declared_families.len());
    for (name, pattern) in declared_families {
        let family = DeclaredFamily::new(name, pattern)
            .map_err(|error| Error::config(format!("`Build::kernel_family`: {error}")))?;
        if declared
            .iter()
            .any(|other: &DeclaredFamily| other.name == family.name)
        {
            return Err(Error::config(format!(
                "`Build::kernel_family` declares the family `{name}` twice; give each pattern \
                 its own name"
            )));
        }
        declared.push(family);
    }
    Ok(FamilySettings {
        detect: detect.unwrap_or(true),
        declared,
    })
}

/// The shared headers, each with its module name; relative paths from the crate root.
pub(super) fn headers(
    shared_headers: &[PathBuf],
    manifest_dir: Option<&Path>,
) -> Result<Vec<shared::Header>, Error> {
    let mut headers: Vec<shared::Header> = Vec::new();
    if let (false, Some(first)) = (cfg!(feature = "bindgen"), shared_headers.first()) {
        return Err(shared::feature_missing(first));
    }
    for path in shared_headers {
        let path = match manifest_dir {
            Some(dir) if path.is_relative() => dir.join(path),
            _ => path.clone(),
        };
        let module = module_name(&path);
        if let Some(other) = headers.iter().find(|header| header.module == module) {
            return Err(Error::config(format!(
                "the shared headers `{}` and `{}` would both be the module `{module}`: rename \
                 one of them",
                other.path.display(),
                path.display()
            )));
        }
        headers.push(shared::Header { path, module });
    }
    Ok(headers)
}

/// Whether two paths name the same file, also when one goes through `..` or a symlink.
fn same_file(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(name, pattern)| ((*name).to_owned(), (*pattern).to_owned()))
            .collect()
    }

    #[test]
    fn family_settings_default_to_detection_and_keep_the_declared_order() {
        assert_eq!(
            family_settings(&[], None).unwrap(),
            FamilySettings::default()
        );
        let settings = family_settings(
            &declared(&[("select", "where_{}_{}"), ("saxpy", "saxpy{}")]),
            Some(false),
        )
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
        let error = family_settings(&declared(&[("affine", "affine")]), None)
            .unwrap_err()
            .to_string();
        assert!(error.contains("`Build::kernel_family`"), "{error}");
        assert!(error.contains("has no `{}`"), "{error}");
        let error = family_settings(&declared(&[("a", "a_{}"), ("a", "b_{}")]), None)
            .unwrap_err()
            .to_string();
        assert!(error.contains("declares the family `a` twice"), "{error}");
    }
}
