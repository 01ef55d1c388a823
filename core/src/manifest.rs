//! The build manifest: what the build script hands to the macro and the runtime.
//!
//! For every `.cu` file, `sasskit-build` writes `OUT_DIR/sasskit/<module>.fatbin` and, next to
//! it, `OUT_DIR/sasskit/<module>.toml`, a [`Manifest`] in TOML. The macro reads the manifest to
//! generate the typed wrappers and embeds both files; the runtime reads the embedded manifest to
//! say in its load report which toolkit built the module and under which build key.
//!
//! ```toml
//! format = 2
//!
//! [module]
//! name = "saxpy"
//! source = "/home/me/crate/kernels/saxpy.cu"
//! fatbin = "saxpy.fatbin"
//! targets = ["sm_90", "sm_100", "sm_121"]
//! build_key = "5f0c…"
//! cache = "miss"
//! origin = "built"      # or "prebuilt" (the crate's prebuilt folder), "unavailable"
//!
//! [toolkit]
//! nvcc = "/usr/local/cuda/bin/nvcc"
//! version = "13.0.88"
//! flags = ["-O3"]
//!
//! [[images]]
//! kind = "sass"
//! arch = "sm_90"
//! compression = "none"
//! size = 5184
//!
//! [[kernels]]
//! name = "saxpy"
//! file = "/home/me/crate/kernels/saxpy.cu"
//! line = 3
//! params = [{ name = "n", c_type = "int", ty = "i32" }, …]
//! targets = ["sm_90", "sm_100", "sm_121"]   # the images that define it (`#if __CUDA_ARCH__`)
//!
//! [[kernels]]          # a kernel with a parameter Rust cannot pass: shipped, not wrapped
//! name = "by_reference"
//! file = "/home/me/crate/kernels/saxpy.cu"
//! line = 9
//! params = []
//! targets = ["sm_90", "sm_100", "sm_121"]
//! untyped = "parameter `r` has the type `int&`, references cannot be kernel parameters"
//!
//! [prebuilt]           # only in a crate's prebuilt folder: what the fat binary was built from
//! source_key = "9a1e…" # over the settings and every input below
//! settings = ["targets=sm_90,sm_100,sm_121", "flag=-O3"]
//! inputs = [{ path = "kernels/saxpy.cu", sha256 = "…" }, …]   # relative to the crate
//!
//! [[types]]            # only when a kernel takes a type of a shared header
//! name = "Params"
//! kind = "struct"
//! module = "params"
//! header = "/home/me/crate/kernels/params.h"
//! size = 24
//! align = 8
//!
//! [families]           # only when the `Build` changed the defaults (detection on, none declared)
//! detect = true
//! declared = [{ name = "select", pattern = "where_{}_{}" }]
//! ```

use serde::{Deserialize, Serialize};

use crate::family::FamilySettings;
use crate::handoff::{self, Versioned};
pub use crate::handoff::{MAX_MANIFEST_SIZE, ManifestError};
use crate::kernel::KernelSignature;
pub use crate::provenance::{CacheStatus, Origin};
use crate::shared::SharedType;

/// The manifest format this version writes and reads.
pub const FORMAT: u32 = 3;

/// Everything known about one compiled `.cu` file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The manifest format, [`FORMAT`].
    pub format: u32,
    /// The compiled module.
    pub module: ModuleInfo,
    /// The nvcc that compiled it.
    pub toolkit: ToolkitInfo,
    /// The images of the fat binary, as the parser read them after the build.
    #[serde(default)]
    pub images: Vec<ImageInfo>,
    /// Every `extern "C" __global__` kernel, in source order.
    #[serde(default)]
    pub kernels: Vec<KernelSignature>,
    /// The shared-header types the kernels take, by value or through pointers, with the layout
    /// the build checked against the compiled code.
    #[serde(default)]
    pub types: Vec<SharedType>,
    /// In a crate's prebuilt folder: the inputs the fat binary was built from, so that a build
    /// without nvcc can tell whether it is still the crate's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prebuilt: Option<PrebuiltInputs>,
    /// How the macro groups the kernels into families (`Build::kernel_families`,
    /// `Build::kernel_family`).
    #[serde(default, skip_serializing_if = "FamilySettings::is_default")]
    pub families: FamilySettings,
}

/// What a prebuilt fat binary was built from: the build settings and the bytes of every file of
/// the crate it read, so that a build can check, without nvcc, that it is still current.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrebuiltInputs {
    /// A hash over `settings` and `inputs`, in order.
    pub source_key: String,
    /// The settings that decide the fat binary besides the files: targets, flags, defines,
    /// include folders (relative to the crate), as `name=value` lines.
    pub settings: Vec<String>,
    /// The `.cu` file and every header it includes from the crate (not the toolkit's, which the
    /// nvcc release stands for), in the order the preprocessor first read them.
    pub inputs: Vec<PrebuiltInput>,
}

/// One file a prebuilt fat binary was built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrebuiltInput {
    /// The path relative to the crate's folder (the one with `Cargo.toml`), with `/`.
    pub path: String,
    /// The SHA-256 of its bytes, in hex.
    pub sha256: String,
}

/// The module part of a [`Manifest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleInfo {
    /// The module name: the file stem of the source, as a Rust identifier.
    pub name: String,
    /// The `.cu` source, absolute.
    pub source: String,
    /// The fat binary's file name, relative to the manifest.
    pub fatbin: String,
    /// The requested targets (`sm_90`, `compute_90`, …), in build order.
    pub targets: Vec<String>,
    /// A hash of everything that determines the fat binary's contents.
    pub build_key: String,
    /// Whether the fat binary came from the build cache.
    pub cache: CacheStatus,
    /// The virtual architecture (`compute_90`) that one front end compiled every plain SASS
    /// image from (the fast mode for development builds, `Build::single_front_end`):
    /// `__CUDA_ARCH__` had its value in every image. `None` for a normal build, where each
    /// image had its own front end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub front_end: Option<String>,
    /// Where the fat binary came from: built by nvcc, the crate's prebuilt folder, or nowhere
    /// (a metadata-only build).
    #[serde(default)]
    pub origin: Origin,
    /// Why there is no fat binary, when `origin` is `unavailable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
}

/// The toolkit part of a [`Manifest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolkitInfo {
    /// The nvcc executable.
    pub nvcc: String,
    /// Its version, `13.0.88`.
    pub version: String,
    /// The flags passed besides the `-gencode` options.
    #[serde(default)]
    pub flags: Vec<String>,
}

/// One image of the built fat binary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageInfo {
    /// `sass`, `ptx`, `lto-ir` or `kind-0x…`.
    pub kind: String,
    /// `sm_90a` for SASS, `compute_90` for PTX.
    pub arch: String,
    /// `none`, `lz4` or `zstd`.
    pub compression: String,
    /// Bytes the entry takes in the container.
    pub size: u64,
}

impl ImageInfo {
    /// Describes a parsed image.
    pub fn from_image(image: &crate::Image) -> ImageInfo {
        let arch = match image.target() {
            Some(target) => target.to_string(),
            None => image.arch.to_string(),
        };
        ImageInfo {
            kind: image.kind.to_string(),
            arch,
            compression: image.compression.to_string(),
            size: image.entry_size() as u64,
        }
    }
}

impl Versioned for Manifest {
    const WHAT: &'static str = "build manifest";
    const FORMAT: u32 = FORMAT;
    fn format(&self) -> u32 {
        self.format
    }
}

impl Manifest {
    /// Reads a manifest from its TOML text.
    pub fn from_toml(text: &str) -> Result<Manifest, ManifestError> {
        handoff::read(text)
    }

    /// Writes the manifest as TOML.
    pub fn to_toml(&self) -> String {
        handoff::write(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::{Param, ParamType, Scalar};

    fn sample() -> Manifest {
        Manifest {
            format: FORMAT,
            module: ModuleInfo {
                name: "saxpy".into(),
                source: "/src/saxpy.cu".into(),
                fatbin: "saxpy.fatbin".into(),
                targets: vec!["sm_90".into(), "sm_100".into()],
                build_key: "abc".into(),
                cache: CacheStatus::Miss,
                front_end: None,
                origin: Origin::Built,
                unavailable: None,
            },
            toolkit: ToolkitInfo {
                nvcc: "/usr/local/cuda/bin/nvcc".into(),
                version: "13.0.88".into(),
                flags: vec!["-O3".into()],
            },
            images: vec![ImageInfo {
                kind: "sass".into(),
                arch: "sm_90".into(),
                compression: "none".into(),
                size: 100,
            }],
            kernels: vec![KernelSignature {
                name: "saxpy".into(),
                file: "/src/saxpy.cu".into(),
                line: 3,
                params: vec![Param {
                    name: "x".into(),
                    c_type: "const float*".into(),
                    ty: ParamType::ConstPtr(Scalar::F32.into()),
                }],
                targets: vec!["sm_90".into(), "sm_100".into()],
                untyped: None,
            }],
            types: Vec::new(),
            prebuilt: None,
            families: FamilySettings::default(),
        }
    }

    #[test]
    fn round_trips_through_toml() {
        let manifest = sample();
        let text = manifest.to_toml();
        assert!(text.contains("ty = \"*const f32\""), "{text}");
        assert_eq!(Manifest::from_toml(&text), Ok(manifest));
    }

    #[test]
    fn a_prebuilt_manifest_round_trips_with_its_inputs() {
        let mut manifest = sample();
        manifest.module.origin = Origin::Prebuilt;
        manifest.prebuilt = Some(PrebuiltInputs {
            source_key: "9a1e".into(),
            settings: vec!["targets=sm_90,sm_100".into()],
            inputs: vec![PrebuiltInput {
                path: "kernels/saxpy.cu".into(),
                sha256: "00ff".into(),
            }],
        });
        let text = manifest.to_toml();
        assert!(text.contains("origin = \"prebuilt\""), "{text}");
        assert_eq!(Manifest::from_toml(&text), Ok(manifest));
    }

    #[test]
    fn family_settings_round_trip_and_are_left_out_by_default() {
        use crate::family::DeclaredFamily;
        assert!(!sample().to_toml().contains("[families]"));
        let mut manifest = sample();
        manifest.families.detect = false;
        manifest.families.declared = vec![DeclaredFamily::new("select", "where_{}_{}").unwrap()];
        let text = manifest.to_toml();
        assert!(text.contains("pattern = \"where_{}_{}\""), "{text}");
        assert_eq!(Manifest::from_toml(&text), Ok(manifest));
    }

    #[test]
    fn refuses_another_format() {
        let mut manifest = sample();
        manifest.format = 99;
        let error = Manifest::from_toml(&manifest.to_toml()).unwrap_err();
        assert!(
            error.to_string().contains("must be the same version"),
            "{error}"
        );
    }

    #[test]
    fn refuses_unknown_parameter_types() {
        let text = sample()
            .to_toml()
            .replace("*const f32", "*const *const f32");
        assert!(Manifest::from_toml(&text).is_err());
    }
}
