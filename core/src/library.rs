//! The static-library manifest: what `sasskit-build`'s static-library mode hands to
//! `sasskit::host_functions!`.
//!
//! A static library is built from `.cu` files whose kernels are launched by C++ host code
//! (`kernel<<<…>>>` inside `extern "C"` host functions). Next to `lib<name>.a`, the build
//! writes `OUT_DIR/sasskit/<name>.library.toml`:
//!
//! ```toml
//! format = 1
//!
//! [library]
//! name = "moe"
//! archive = "libmoe.a"
//! targets = ["sm_90", "sm_100", "sm_121"]
//! build_key = "9c1e…"          # a hash of every object's key
//! cache = "off"
//! origin = "built"             # or "prebuilt": the crate's prebuilt folder
//!
//! [toolkit]
//! nvcc = "/usr/local/cuda/bin/nvcc"
//! version = "13.0.88"
//! flags = ["-O3"]
//!
//! [[images]]                   # per target, summed over the objects
//! kind = "sass"
//! arch = "sm_90"
//! compression = "none"
//! size = 1048576
//!
//! [[objects]]
//! source = "/home/me/crate/kernels/moe.cu"
//! object = "moe/moe.o"
//! build_key = "5f0c…"
//! cache = "off"
//! images = [{ kind = "sass", arch = "sm_90", compression = "none", size = 5184 }, …]
//!
//! [[functions]]
//! name = "launch_scale_f32"
//! file = "/home/me/crate/kernels/moe.cu"
//! line = 12
//! params = [{ name = "y", c_type = "float*", ty = "*mut f32" },
//!           { name = "ids", c_type = "const int32_t*", ty = "host *const i32" },
//!           { name = "stream", c_type = "cudaStream_t", ty = "stream" }]
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::handoff::{self, Versioned};
use crate::kernel::{ParamType, Scalar, ValueType};
use crate::manifest::{CacheStatus, ImageInfo, ManifestError, Origin, PrebuiltInputs, ToolkitInfo};
use crate::shared::SharedType;

/// The library manifest format this version writes and reads.
pub const FORMAT: u32 = 1;

/// Everything known about one static library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibraryManifest {
    /// The manifest format, [`FORMAT`].
    pub format: u32,
    /// The library.
    pub library: LibraryInfo,
    /// The nvcc that compiled its objects.
    pub toolkit: ToolkitInfo,
    /// One entry per target that the objects' fat binaries hold, with the sizes summed: what
    /// the runtime chooses among.
    #[serde(default)]
    pub images: Vec<ImageInfo>,
    /// The objects, one per `.cu` file, in the order the files were added.
    #[serde(default)]
    pub objects: Vec<ObjectInfo>,
    /// Every `extern "C"` host function the crate's files define, in file and source order.
    #[serde(default)]
    pub functions: Vec<HostFunction>,
    /// The shared-header types the functions take.
    #[serde(default)]
    pub types: Vec<SharedType>,
    /// In a crate's prebuilt folder: what the library was built from, which a build compares
    /// with the crate's files before it takes the library instead of running nvcc.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prebuilt: Option<PrebuiltInputs>,
}

/// The library part of a [`LibraryManifest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibraryInfo {
    /// The library name: `moe` for `libmoe.a`, and the module `host_functions!(moe)` generates.
    pub name: String,
    /// The archive's file name, relative to the manifest.
    pub archive: String,
    /// The targets every object was compiled for, in build order.
    pub targets: Vec<String>,
    /// A hash of the build keys of every object.
    pub build_key: String,
    /// `hit` when every object came from the cache, `miss` when any was compiled with a cache
    /// configured, `off` without a cache.
    pub cache: CacheStatus,
    /// Whether the program runs without the library on devices it has no code for
    /// (`StaticLibrary::optional`): the start-up check reports such a device instead of
    /// refusing it, and the library's functions are unavailable there.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
    /// Where the archive came from: built by nvcc in this build (or from the cache), or the
    /// crate's prebuilt library, whose inputs match the crate's files.
    #[serde(default)]
    pub origin: Origin,
}

/// One object of the library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectInfo {
    /// The `.cu` source, absolute.
    pub source: String,
    /// The object file, relative to the manifest.
    pub object: String,
    /// A hash of everything that determines the object's contents.
    pub build_key: String,
    /// Whether the object came from the build cache.
    pub cache: CacheStatus,
    /// The images of the fat binary nvcc embedded in the object (its `.nv_fatbin` section).
    #[serde(default)]
    pub images: Vec<ImageInfo>,
    /// What the object's preprocessing read, for a rebuild to skip it when nothing changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<ObjectInputs>,
}

/// What the preprocessing passes of one object read: while the stamp is unchanged, a rebuild
/// takes the object's build key and host functions from the manifest instead of running
/// `nvcc -E` once per target and once for the host pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectInputs {
    /// A hash of nvcc, the host compiler, the arguments, the targets, the crate's marks and
    /// the contents of every file in `files`.
    pub stamp: String,
    /// The source and every file it included (from the passes' line markers), absolute.
    pub files: Vec<String>,
    /// The names of the host functions the object defines, in source order.
    pub functions: Vec<String>,
}

/// One `extern "C"` host function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostFunction {
    /// The symbol name.
    pub name: String,
    /// The file that defines it, as the preprocessor reported it.
    pub file: String,
    /// The line of the definition.
    pub line: u32,
    /// The C return type as written (`void`, `int`).
    pub c_return: String,
    /// The mapped return type; `None` for `void`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returns: Option<ParamType>,
    /// The parameters in source order; empty for an untyped function.
    #[serde(default)]
    pub params: Vec<HostParam>,
    /// Why the function has no declaration, when a parameter or the return type cannot cross
    /// from Rust.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub untyped: Option<String>,
}

/// One parameter of a host function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostParam {
    /// The name in the C source (`arg3` when it had none).
    pub name: String,
    /// The C type as written.
    pub c_type: String,
    /// The mapped type.
    pub ty: HostParamType,
}

/// How a host function's parameter crosses from Rust.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum HostParamType {
    /// A stream: the wrapper takes a `&CudaStream` and passes its handle as the C type. `None`
    /// for the handle types (`cudaStream_t`, the driver's `CUstream`); for a parameter the crate
    /// marked with `StaticLibrary::stream_parameter`, the type it is declared with: `void*`
    /// (`*mut void`) or a 64-bit integer (`int64_t` → `i64`, `uint64_t`, `intptr_t`,
    /// `uintptr_t`), which the `extern "C"` declaration keeps.
    Stream(Option<ParamType>),
    /// A value or a device pointer, mapped as a kernel parameter is.
    Device(ParamType),
    /// A non-const device pointer (`*mut T`) the crate declared read-only
    /// (`StaticLibrary::read_only`): the wrapper takes a shared buffer, the declaration keeps
    /// `*mut T`.
    ReadOnly(ParamType),
    /// A pointer to host memory (`StaticLibrary::host_pointer`): `*const T` or `*mut T`.
    Host(ParamType),
}

impl HostParamType {
    /// Whether the function receives a pointer to device memory here.
    pub fn is_device_pointer(&self) -> bool {
        matches!(
            self,
            HostParamType::Device(ParamType::ConstPtr(_) | ParamType::MutPtr(_))
                | HostParamType::ReadOnly(_)
        )
    }

    /// Whether the parameter is a stream, of any C type.
    pub fn is_stream(&self) -> bool {
        matches!(self, HostParamType::Stream(_))
    }

    /// The type passed or pointed to, except for a stream.
    pub fn value_type(&self) -> Option<&ValueType> {
        match self {
            HostParamType::Stream(_) => None,
            HostParamType::Device(ty) | HostParamType::Host(ty) | HostParamType::ReadOnly(ty) => {
                Some(ty.value_type())
            }
        }
    }

    /// Whether a parameter of C type `ty` can carry a stream handle: `void*` (or `const
    /// void*`), or a 64-bit integer (`int64_t`, `uint64_t`, `intptr_t`, `uintptr_t` and their
    /// spellings), which holds a pointer on every target sasskit builds for.
    pub fn can_carry_stream(ty: &ParamType) -> bool {
        match ty {
            ParamType::ConstPtr(ValueType::Void) | ParamType::MutPtr(ValueType::Void) => true,
            ParamType::Value(ValueType::Scalar(scalar)) => matches!(
                scalar,
                Scalar::I64 | Scalar::U64 | Scalar::Isize | Scalar::Usize
            ),
            _ => false,
        }
    }
}

impl fmt::Display for HostParamType {
    /// `stream`, `stream as i64`, `*const f32`, `readonly *mut f32`, `host *const i32`: the
    /// form stored in the manifest.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostParamType::Stream(None) => f.write_str("stream"),
            HostParamType::Stream(Some(ty)) => write!(f, "stream as {ty}"),
            HostParamType::Device(ty) => write!(f, "{ty}"),
            HostParamType::ReadOnly(ty) => write!(f, "readonly {ty}"),
            HostParamType::Host(ty) => write!(f, "host {ty}"),
        }
    }
}

impl FromStr for HostParamType {
    type Err = String;

    fn from_str(text: &str) -> Result<HostParamType, String> {
        if text == "stream" {
            return Ok(HostParamType::Stream(None));
        }
        if let Some(rest) = text.strip_prefix("stream as ") {
            let ty: ParamType = rest.parse()?;
            return if HostParamType::can_carry_stream(&ty) {
                Ok(HostParamType::Stream(Some(ty)))
            } else {
                Err(format!(
                    "`{text}`: a stream crosses as `void*` or a 64-bit integer"
                ))
            };
        }
        if let Some(rest) = text.strip_prefix("readonly ") {
            return match rest.parse()? {
                ty @ ParamType::MutPtr(_) => Ok(HostParamType::ReadOnly(ty)),
                _ => Err(format!("`{text}` is not a read-only `*mut` pointer")),
            };
        }
        match text.strip_prefix("host ") {
            Some(rest) => match rest.parse()? {
                ty @ (ParamType::ConstPtr(_) | ParamType::MutPtr(_)) => Ok(HostParamType::Host(ty)),
                ParamType::Value(_) => Err(format!("`{text}` is not a host pointer")),
            },
            None => text.parse().map(HostParamType::Device),
        }
    }
}

impl TryFrom<String> for HostParamType {
    type Error = String;

    fn try_from(text: String) -> Result<HostParamType, String> {
        text.parse()
    }
}

impl From<HostParamType> for String {
    fn from(ty: HostParamType) -> String {
        ty.to_string()
    }
}

impl HostFunction {
    /// The C declaration, for documentation: `void launch(float* y, cudaStream_t stream)`.
    pub fn c_declaration(&self) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|param| format!("{} {}", param.c_type, param.name))
            .collect();
        format!(
            "extern \"C\" {} {}({})",
            self.c_return,
            self.name,
            params.join(", ")
        )
    }
}

impl Versioned for LibraryManifest {
    const WHAT: &'static str = "static-library manifest";
    const FORMAT: u32 = FORMAT;
    fn format(&self) -> u32 {
        self.format
    }
}

impl LibraryManifest {
    /// Reads a manifest from its TOML text.
    pub fn from_toml(text: &str) -> Result<LibraryManifest, ManifestError> {
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

    fn sample() -> LibraryManifest {
        LibraryManifest {
            format: FORMAT,
            library: LibraryInfo {
                name: "moe".into(),
                archive: "libmoe.a".into(),
                targets: vec!["sm_90".into()],
                build_key: "abc".into(),
                cache: CacheStatus::Off,
                optional: false,
                origin: Origin::Built,
            },
            toolkit: ToolkitInfo {
                nvcc: "/usr/local/cuda/bin/nvcc".into(),
                version: "13.0.88".into(),
                flags: Vec::new(),
            },
            images: Vec::new(),
            objects: Vec::new(),
            functions: vec![HostFunction {
                name: "launch".into(),
                file: "/src/moe.cu".into(),
                line: 3,
                c_return: "int".into(),
                returns: Some(ParamType::Value(Scalar::I32.into())),
                params: vec![
                    HostParam {
                        name: "ids".into(),
                        c_type: "const int32_t*".into(),
                        ty: HostParamType::Host(ParamType::ConstPtr(Scalar::I32.into())),
                    },
                    HostParam {
                        name: "y".into(),
                        c_type: "float*".into(),
                        ty: HostParamType::Device(ParamType::MutPtr(Scalar::F32.into())),
                    },
                    HostParam {
                        name: "stream".into(),
                        c_type: "cudaStream_t".into(),
                        ty: HostParamType::Stream(None),
                    },
                ],
                untyped: None,
            }],
            types: Vec::new(),
            prebuilt: None,
        }
    }

    #[test]
    fn round_trips_through_toml() {
        let manifest = sample();
        let text = manifest.to_toml();
        assert!(text.contains("ty = \"host *const i32\""), "{text}");
        assert!(text.contains("ty = \"stream\""), "{text}");
        assert_eq!(LibraryManifest::from_toml(&text), Ok(manifest));
    }

    #[test]
    fn streams_and_read_only_pointers_keep_their_c_types() {
        for text in [
            "stream as i64",
            "stream as *mut void",
            "readonly *mut f32",
            "readonly *mut void",
        ] {
            let ty: HostParamType = text.parse().unwrap();
            assert_eq!(ty.to_string(), text);
        }
        assert_eq!(
            "stream as u64".parse::<HostParamType>(),
            Ok(HostParamType::Stream(Some(ParamType::Value(
                Scalar::U64.into()
            ))))
        );
        assert!("stream as i32".parse::<HostParamType>().is_err());
        assert!("stream as *mut f32".parse::<HostParamType>().is_err());
        assert!("readonly *const f32".parse::<HostParamType>().is_err());
        assert!("readonly i32".parse::<HostParamType>().is_err());
    }

    #[test]
    fn host_marks_only_pointers() {
        assert!("host i32".parse::<HostParamType>().is_err());
        assert!("host *mut void".parse::<HostParamType>().is_ok());
        assert!(
            "*mut f32"
                .parse::<HostParamType>()
                .unwrap()
                .is_device_pointer()
        );
        assert!(
            !"stream"
                .parse::<HostParamType>()
                .unwrap()
                .is_device_pointer()
        );
    }

    #[test]
    fn declares_in_c() {
        assert_eq!(
            sample().functions[0].c_declaration(),
            "extern \"C\" int launch(const int32_t* ids, float* y, cudaStream_t stream)"
        );
    }
}
