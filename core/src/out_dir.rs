//! Where `sasskit-build` writes its outputs and the macros read them: the one definition every
//! crate uses.
//!
//! ```text
//! $OUT_DIR/sasskit/
//! ├── saxpy.fatbin        the fat binary of kernels/saxpy.cu   (sasskit::kernels!(saxpy))
//! ├── saxpy.toml          its manifest
//! ├── saxpy.warnings      nvcc's warnings when it compiled it, replayed when it is reused
//! ├── params.types.rs     Rust twins of kernels/params.h       (sasskit::shared_types!(params))
//! ├── params.types.toml   their layouts
//! ├── moe.library.toml    the manifest of the static library libmoe.a (sasskit::host_functions!(moe))
//! ├── libmoe.a            the archive cargo links
//! └── moe/                its objects, one per .cu file: scale.o
//! ```

use std::path::{Path, PathBuf};

/// The folder under `OUT_DIR` (or under `Build::out_dir`) that holds every output.
pub const FOLDER: &str = "sasskit";

/// The suffix of a module's manifest.
pub const MANIFEST_SUFFIX: &str = ".toml";

/// The suffix of a shared header's layout manifest.
pub const TYPES_MANIFEST_SUFFIX: &str = ".types.toml";

/// `<root>/sasskit`: where the outputs of a build rooted at `root` (normally `OUT_DIR`) go.
pub fn folder(root: &Path) -> PathBuf {
    root.join(FOLDER)
}

/// The suffix of a static library's manifest.
pub const LIBRARY_MANIFEST_SUFFIX: &str = ".library.toml";

/// `moe.library.toml`.
pub fn library_manifest_file(library: &str) -> String {
    format!("{library}{LIBRARY_MANIFEST_SUFFIX}")
}

/// `libmoe.a`: the archive's name as the linker looks for `-lmoe` (also on Windows targets
/// that use GNU tools; MSVC's `moe.lib` is not supported yet).
pub fn archive_file(library: &str) -> String {
    format!("lib{library}.a")
}

/// `moe/scale.o`: the object of one `.cu` file of a static library, relative to the output
/// folder.
pub fn object_file(library: &str, module: &str) -> String {
    format!("{library}/{module}.o")
}

/// `saxpy.fatbin`.
pub fn fatbin_file(module: &str) -> String {
    format!("{module}.fatbin")
}

/// `saxpy.warnings`: nvcc's warnings from compiling the module, shown again when a later build
/// reuses its fat binary; absent when there were none.
pub fn warnings_file(module: &str) -> String {
    format!("{module}.warnings")
}

/// `saxpy.toml`.
pub fn manifest_file(module: &str) -> String {
    format!("{module}{MANIFEST_SUFFIX}")
}

/// `params.types.rs`.
pub fn types_rust_file(header_module: &str) -> String {
    format!("{header_module}.types.rs")
}

/// `params.types.toml`.
pub fn types_manifest_file(header_module: &str) -> String {
    format!("{header_module}{TYPES_MANIFEST_SUFFIX}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_documented_layout() {
        assert_eq!(folder(Path::new("/out")), Path::new("/out/sasskit"));
        assert_eq!(fatbin_file("saxpy"), "saxpy.fatbin");
        assert_eq!(manifest_file("saxpy"), "saxpy.toml");
        assert_eq!(types_rust_file("params"), "params.types.rs");
        assert_eq!(types_manifest_file("params"), "params.types.toml");
        assert!(types_manifest_file("params").ends_with(MANIFEST_SUFFIX));
        assert_eq!(library_manifest_file("moe"), "moe.library.toml");
        assert_eq!(archive_file("moe"), "libmoe.a");
        assert_eq!(object_file("moe", "scale"), "moe/scale.o");
    }
}
