//! The library as a whole: checks on its name and its files' targets, and what its manifest
//! says of all objects together (key, cache status, images).

use sasskit_core::manifest::{CacheStatus, ImageInfo};

use super::object::Built;
use crate::error::Error;
use crate::job::Job;

/// A library name becomes `lib<name>.a`, a `-l` option and a Rust module: a C identifier.
pub(super) fn check_name(name: &str) -> Result<(), Error> {
    if sasskit_core::kernel::is_c_identifier(name) {
        return Ok(());
    }
    Err(Error::config(format!(
        "`{name}` cannot name a static library: it becomes `lib{name}.a` and the Rust module of \
         `sasskit::host_functions!({name})`; use letters, digits and `_`, not starting with a digit"
    )))
}

/// The runtime decides for the library as a whole, so every object has the same targets.
pub(super) fn check_one_target_list(jobs: &[Job]) -> Result<(), Error> {
    let Some(first) = jobs.first() else {
        return Ok(());
    };
    match jobs.iter().find(|job| job.targets != first.targets) {
        None => Ok(()),
        Some(other) => Err(Error::config(format!(
            "the files of a static library must share one target list, but `{}` has [{}] and \
             `{}` has [{}]: the library is checked as a whole when the program starts; drop the \
             per-file targets (`file_with_archs`, `[package.metadata.sasskit.files]`), or build \
             the file into a library of its own",
            first.source.display(),
            first.targets,
            other.source.display(),
            other.targets
        ))),
    }
}

/// The library's key: a hash of its objects' keys, in file order.
pub(super) fn library_key(objects: &[Built]) -> String {
    let keys: Vec<&str> = objects
        .iter()
        .map(|built| built.info.build_key.as_str())
        .collect();
    crate::key::combine(&keys)
}

/// `hit` when every object came from the cache, `miss` when any was compiled with a cache, else
/// `off`.
pub(super) fn library_cache(objects: &[Built]) -> CacheStatus {
    let statuses = || objects.iter().map(|built| built.info.cache);
    if statuses().all(|status| status == CacheStatus::Hit) {
        CacheStatus::Hit
    } else if statuses().any(|status| status == CacheStatus::Miss) {
        CacheStatus::Miss
    } else {
        CacheStatus::Off
    }
}

/// One entry per kind and target over all objects, in first-seen order, with the sizes summed.
pub(super) fn library_images(objects: &[Built]) -> Vec<ImageInfo> {
    let mut images: Vec<ImageInfo> = Vec::new();
    for image in objects.iter().flat_map(|built| &built.info.images) {
        match images
            .iter_mut()
            .find(|seen| seen.kind == image.kind && seen.arch == image.arch)
        {
            Some(seen) => seen.size += image.size,
            None => images.push(image.clone()),
        }
    }
    images
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use sasskit_core::TargetList;

    use super::*;

    fn job(source: &str, targets: &str) -> Job {
        Job {
            source: PathBuf::from(source),
            module: String::new(),
            targets: TargetList::parse(targets).unwrap(),
            families: sasskit_core::family::FamilySettings::default(),
        }
    }

    #[test]
    fn files_with_their_own_targets_are_refused_in_one_clean_sentence() {
        let jobs = [
            job("/crate/a.cu", "sm_90"),
            job("/crate/b.cu", "sm_90,sm_100"),
        ];
        let message = check_one_target_list(&jobs).unwrap_err().to_string();
        assert_eq!(
            message,
            "the files of a static library must share one target list, but `/crate/a.cu` has \
             [sm_90] and `/crate/b.cu` has [sm_90,sm_100]: the library is checked as a whole \
             when the program starts; drop the per-file targets (`file_with_archs`, \
             `[package.metadata.sasskit.files]`), or build the file into a library of its own"
        );
        assert!(!message.contains("  "), "{message}");
    }

    #[test]
    fn a_library_name_must_be_a_c_identifier() {
        assert!(check_name("moe_v2").is_ok());
        assert!(check_name("2moe").is_err());
    }
}
