//! Types shared between host and device through a C header.
//!
//! With its `bindgen` feature, `sasskit-build` runs bindgen on each header given to
//! `Build::shared_header` and writes, next to the fat binaries,
//!
//! ```text
//! $OUT_DIR/sasskit/
//! ├── params.types.rs     bindgen's `#[repr(C)]` Rust types for kernels/params.h
//! └── params.types.toml   a SharedTypes manifest: the header and each type's layout
//! ```
//!
//! `sasskit::shared_types!(params)` includes the Rust file as the module `params`, implements
//! cudarc's `DeviceRepr` for every type and asserts, at compile time, the size and alignment
//! recorded here. Kernel manifests list the [`SharedType`]s their kernels take, with the layout
//! the build checked against the cubin nvcc compiled.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::handoff::{self, ManifestError, Versioned};

/// The shared-types manifest format this version writes and reads.
pub const TYPES_FORMAT: u32 = 1;

/// What kind of C type a shared type is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TypeKind {
    /// A `struct` (or a `class` with only public data).
    Struct,
    /// A `union`.
    Union,
    /// An `enum`, generated as a `#[repr(transparent)]` newtype over its integer type.
    Enum,
}

impl fmt::Display for TypeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TypeKind::Struct => "struct",
            TypeKind::Union => "union",
            TypeKind::Enum => "enum",
        })
    }
}

/// One type of a shared header and its layout on the host, as clang computed it for bindgen.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SharedType {
    /// The Rust name, which is the C name (or the `typedef` name of an anonymous struct).
    pub name: String,
    /// What kind of type it is.
    pub kind: TypeKind,
    /// The Rust module `sasskit::shared_types!` creates for its header: the header's stem.
    pub module: String,
    /// The header that declares it, absolute.
    pub header: String,
    /// `size_of` in bytes.
    pub size: u64,
    /// `align_of` in bytes.
    pub align: u64,
}

/// Everything generated from one shared header: `<module>.types.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedTypes {
    /// The format, [`TYPES_FORMAT`].
    pub format: u32,
    /// The header, absolute.
    pub header: String,
    /// The module name `sasskit::shared_types!` takes: the header's stem as an identifier.
    pub module: String,
    /// The Rust source bindgen generated, relative to this manifest.
    pub rust: String,
    /// The types a kernel may take, in header order.
    #[serde(default)]
    pub types: Vec<SharedType>,
}

impl Versioned for SharedTypes {
    const WHAT: &'static str = "shared-types manifest";
    const FORMAT: u32 = TYPES_FORMAT;
    fn format(&self) -> u32 {
        self.format
    }
}

impl SharedTypes {
    /// Reads a shared-types manifest from its TOML text.
    pub fn from_toml(text: &str) -> Result<SharedTypes, ManifestError> {
        handoff::read(text)
    }

    /// Writes the manifest as TOML.
    pub fn to_toml(&self) -> String {
        handoff::write(self)
    }

    /// The type named `name`, if the header declares it.
    pub fn get(&self, name: &str) -> Option<&SharedType> {
        self.types.iter().find(|ty| ty.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SharedTypes {
        SharedTypes {
            format: TYPES_FORMAT,
            header: "/src/kernels/params.h".into(),
            module: "params".into(),
            rust: "params.types.rs".into(),
            types: vec![
                SharedType {
                    name: "Mixed".into(),
                    kind: TypeKind::Struct,
                    module: "params".into(),
                    header: "/src/kernels/params.h".into(),
                    size: 48,
                    align: 8,
                },
                SharedType {
                    name: "Mode".into(),
                    kind: TypeKind::Enum,
                    module: "params".into(),
                    header: "/src/kernels/params.h".into(),
                    size: 4,
                    align: 4,
                },
            ],
        }
    }

    #[test]
    fn round_trips_through_toml() {
        let types = sample();
        let text = types.to_toml();
        assert!(text.contains("kind = \"enum\""), "{text}");
        assert_eq!(SharedTypes::from_toml(&text), Ok(types.clone()));
        assert_eq!(types.get("Mode").map(|ty| ty.size), Some(4));
        assert_eq!(types.get("Other"), None);
    }

    #[test]
    fn refuses_another_format_and_unknown_kinds() {
        let mut types = sample();
        types.format = 7;
        let error = SharedTypes::from_toml(&types.to_toml()).unwrap_err();
        assert!(error.to_string().contains("same version"), "{error}");
        let text = sample().to_toml().replace("\"enum\"", "\"class\"");
        assert!(SharedTypes::from_toml(&text).is_err());
    }
}
