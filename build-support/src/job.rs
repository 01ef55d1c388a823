//! One `.cu` file as the build sees it: the job (source, module name, targets, families) and
//! what building it produced, wherever the fat binary came from.

use std::path::{Path, PathBuf};

use sasskit_core::TargetList;
use sasskit_core::family::FamilySettings;
use sasskit_core::manifest::Manifest;

/// One file to compile.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub(crate) source: PathBuf,
    pub(crate) module: String,
    pub(crate) targets: TargetList,
    /// How `kernels!` groups the kernels into families; recorded in the manifest.
    pub(crate) families: FamilySettings,
}

/// A module's output: its manifest and fat binary in the output folder, from nvcc, the
/// prebuilt folder or (a metadata-only build) nowhere.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub(crate) manifest: Manifest,
    pub(crate) fatbin_path: PathBuf,
    pub(crate) manifest_path: PathBuf,
    /// The source and every header it includes.
    pub(crate) inputs: Vec<PathBuf>,
    /// Warnings for the user (kernels that get no wrapper, nvcc warnings).
    pub(crate) warnings: Vec<String>,
}

/// The module name for a source file: its stem as a Rust identifier (`saxpy-v2.cu` → `saxpy_v2`).
pub(crate) fn module_name(source: &Path) -> String {
    let stem = source
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_are_identifiers() {
        assert_eq!(module_name(Path::new("kernels/saxpy.cu")), "saxpy");
        assert_eq!(module_name(Path::new("Tiled-MatMul.cu")), "tiled_matmul");
        assert_eq!(module_name(Path::new("3d.cu")), "_3d");
    }
}
