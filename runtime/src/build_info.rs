//! What the embedded build manifest says about how a module was built.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use sasskit_core::manifest::Manifest;

use crate::embedded::EmbeddedModule;
use crate::error::LoadError;

/// Shown for facts an empty manifest cannot tell.
pub(crate) const UNKNOWN: &str = "unknown";

/// Parsed manifests by the address and length of their embedded text.
type ByManifest = HashMap<(usize, usize), Arc<BuildInfo>>;

/// The parts of the manifest the runtime reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BuildInfo {
    pub(crate) nvcc_version: String,
    pub(crate) build_key: String,
    pub(crate) cache: String,
    /// The `extern "C"` kernels, for the message about a kernel that is not there.
    pub(crate) kernels: Vec<String>,
    /// The kernels that only some targets' images define (`#if __CUDA_ARCH__`), with those
    /// targets; every other kernel is in every image.
    pub(crate) partial: Vec<(String, Vec<String>)>,
}

impl BuildInfo {
    /// The targets whose image defines `kernel`, when not every image does.
    pub(crate) fn targets_of(&self, kernel: &str) -> Option<&[String]> {
        self.partial
            .iter()
            .find(|(name, _)| name == kernel)
            .map(|(_, targets)| targets.as_slice())
    }

    /// How many kernels the image built for `target` does not define.
    pub(crate) fn absent_from(&self, target: &str) -> usize {
        self.partial
            .iter()
            .filter(|(_, targets)| !targets.iter().any(|t| t == target))
            .count()
    }
}

impl BuildInfo {
    /// [`BuildInfo::read`], once per module and process: an embedded manifest is `'static`, so
    /// its address identifies it for the life of the process, and later loads of the same
    /// module (on other devices, or again) skip the TOML parse.
    pub(crate) fn read_cached(module: &EmbeddedModule) -> Result<Arc<BuildInfo>, LoadError> {
        static CACHE: OnceLock<Mutex<ByManifest>> = OnceLock::new();
        let key = (module.manifest.as_ptr() as usize, module.manifest.len());
        let cache = CACHE.get_or_init(Mutex::default);
        if let Some(hit) = cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return Ok(Arc::clone(hit));
        }
        let info = Arc::new(BuildInfo::read(module)?);
        cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, Arc::clone(&info));
        Ok(info)
    }

    /// Reads the manifest of `module`; an empty one gives `unknown` everywhere.
    pub(crate) fn read(module: &EmbeddedModule) -> Result<BuildInfo, LoadError> {
        if module.manifest.trim().is_empty() {
            return Ok(BuildInfo {
                nvcc_version: UNKNOWN.to_owned(),
                build_key: UNKNOWN.to_owned(),
                cache: UNKNOWN.to_owned(),
                kernels: Vec::new(),
                partial: Vec::new(),
            });
        }
        let manifest =
            Manifest::from_toml(module.manifest).map_err(|error| LoadError::BadManifest {
                module: module.name.to_owned(),
                error,
            })?;
        let every_target = &manifest.module.targets;
        let partial = manifest
            .kernels
            .iter()
            .filter(|kernel| {
                !kernel.targets.is_empty()
                    && !every_target
                        .iter()
                        .all(|target| kernel.targets.contains(target))
            })
            .map(|kernel| (kernel.name.clone(), kernel.targets.clone()))
            .collect();
        Ok(BuildInfo {
            nvcc_version: manifest.toolkit.version,
            build_key: manifest.module.build_key,
            cache: manifest.module.cache.to_string(),
            kernels: manifest
                .kernels
                .into_iter()
                .map(|kernel| kernel.name)
                .collect(),
            partial,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"
format = 2

[module]
name = "scale"
source = "/src/scale.cu"
fatbin = "scale.fatbin"
targets = ["sm_90", "sm_100"]
build_key = "5f0c12ab9d"
cache = "hit"

[toolkit]
nvcc = "/usr/local/cuda/bin/nvcc"
version = "13.0.88"

[[kernels]]
name = "scale"
file = "/src/scale.cu"
line = 1
params = []
targets = ["sm_90", "sm_100"]

[[kernels]]
name = "tcgen05_only"
file = "/src/scale.cu"
line = 9
params = []
targets = ["sm_100"]
"#;

    fn module(manifest: &'static str) -> EmbeddedModule {
        EmbeddedModule {
            name: "scale",
            fatbin: &[],
            manifest,
        }
    }

    #[test]
    fn reads_toolkit_key_cache_and_kernels() {
        let info = BuildInfo::read(&module(MANIFEST)).unwrap();
        assert_eq!(info.nvcc_version, "13.0.88");
        assert_eq!(info.build_key, "5f0c12ab9d");
        assert_eq!(info.cache, "hit");
        assert_eq!(info.kernels, ["scale", "tcgen05_only"]);
        assert_eq!(info.targets_of("scale"), None);
        assert_eq!(
            info.targets_of("tcgen05_only"),
            Some(&["sm_100".to_owned()][..])
        );
        assert_eq!(info.absent_from("sm_90"), 1);
        assert_eq!(info.absent_from("sm_100"), 0);
    }

    #[test]
    fn empty_manifest_is_unknown() {
        let info = BuildInfo::read(&module("")).unwrap();
        assert_eq!(info.nvcc_version, UNKNOWN);
        assert_eq!(info.build_key, UNKNOWN);
        assert!(info.kernels.is_empty());
    }

    #[test]
    fn bad_manifest_names_the_module() {
        let error = BuildInfo::read(&module("format = 2\n[module]\n")).unwrap_err();
        assert!(matches!(&error, LoadError::BadManifest { module, .. } if module == "scale"));
        let message = error.to_string();
        assert!(
            message.starts_with("the build manifest embedded for module `scale`"),
            "{message}"
        );
    }
}
