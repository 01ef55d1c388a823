//! Kernel signatures and the mapping from C parameter types to Rust types.
//!
//! | C type (any `const`/`volatile`/`__restrict__` placement) | Rust |
//! | --- | --- |
//! | `char`, `signed char`, `int8_t` | `i8` |
//! | `unsigned char`, `uint8_t` | `u8` |
//! | `short`, `int16_t` | `i16` |
//! | `unsigned short`, `uint16_t` | `u16` |
//! | `int`, `signed`, `int32_t` | `i32` |
//! | `unsigned`, `unsigned int`, `uint32_t` | `u32` |
//! | `long`, `long long`, `int64_t`, `ptrdiff_t`, `ssize_t`, `intptr_t` | `i64` |
//! | `unsigned long`, `unsigned long long`, `uint64_t`, `size_t`, `uintptr_t` | `u64` |
//! | `float` | `f32` |
//! | `double` | `f64` |
//! | `bool` | `bool` |
//! | `__half`, `half` | `half::f16` |
//! | `__nv_bfloat16`, `nv_bfloat16` | `half::bf16` |
//! | `const T*` | a read-only device buffer of `T` |
//! | `T*` | a mutable device buffer of `T` |
//! | a struct, union or enum of a shared header | its generated Rust type (see [`crate::shared`]) |
//!
//! `long` is 64 bits: sasskit targets 64-bit Linux and Windows device code, where nvcc makes
//! `long` match the host (LP64 on Linux). On Windows hosts `long` is 32 bits, so the
//! build reports `long` there rather than guess.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A scalar type that can cross from Rust to a kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // The variants are the Rust types they are named after.
pub enum Scalar {
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    I64,
    U64,
    F32,
    F64,
    Bool,
    F16,
    Bf16,
}

impl Scalar {
    /// Size in bytes on the device.
    pub fn size(self) -> usize {
        match self {
            Scalar::I8 | Scalar::U8 | Scalar::Bool => 1,
            Scalar::I16 | Scalar::U16 | Scalar::F16 | Scalar::Bf16 => 2,
            Scalar::I32 | Scalar::U32 | Scalar::F32 => 4,
            Scalar::I64 | Scalar::U64 | Scalar::F64 => 8,
        }
    }

    /// The Rust type, as a path that generated code can use (`half` types through the runtime).
    pub fn rust_name(self) -> &'static str {
        match self {
            Scalar::I8 => "i8",
            Scalar::U8 => "u8",
            Scalar::I16 => "i16",
            Scalar::U16 => "u16",
            Scalar::I32 => "i32",
            Scalar::U32 => "u32",
            Scalar::I64 => "i64",
            Scalar::U64 => "u64",
            Scalar::F32 => "f32",
            Scalar::F64 => "f64",
            Scalar::Bool => "bool",
            Scalar::F16 => "f16",
            Scalar::Bf16 => "bf16",
        }
    }

    /// Maps a C type name, with qualifiers already removed and words separated by single spaces.
    pub fn from_c(name: &str) -> Option<Scalar> {
        Some(match name {
            "char" | "signed char" | "int8_t" => Scalar::I8,
            "unsigned char" | "uint8_t" => Scalar::U8,
            "short" | "short int" | "signed short" | "signed short int" | "int16_t" => Scalar::I16,
            "unsigned short" | "unsigned short int" | "uint16_t" => Scalar::U16,
            "int" | "signed" | "signed int" | "int32_t" => Scalar::I32,
            "unsigned" | "unsigned int" | "uint32_t" => Scalar::U32,
            "long"
            | "long int"
            | "signed long"
            | "signed long int"
            | "long long"
            | "long long int"
            | "signed long long"
            | "signed long long int"
            | "int64_t"
            | "ptrdiff_t"
            | "ssize_t"
            | "intptr_t" => Scalar::I64,
            "unsigned long"
            | "unsigned long int"
            | "unsigned long long"
            | "unsigned long long int"
            | "uint64_t"
            | "size_t"
            | "uintptr_t" => Scalar::U64,
            "float" => Scalar::F32,
            "double" => Scalar::F64,
            "bool" | "_Bool" => Scalar::Bool,
            "__half" | "half" => Scalar::F16,
            "__nv_bfloat16" | "nv_bfloat16" => Scalar::Bf16,
            _ => return None,
        })
    }

    fn from_rust_name(name: &str) -> Option<Scalar> {
        ALL_SCALARS
            .iter()
            .copied()
            .find(|scalar| scalar.rust_name() == name)
    }
}

const ALL_SCALARS: &[Scalar] = &[
    Scalar::I8,
    Scalar::U8,
    Scalar::I16,
    Scalar::U16,
    Scalar::I32,
    Scalar::U32,
    Scalar::I64,
    Scalar::U64,
    Scalar::F32,
    Scalar::F64,
    Scalar::Bool,
    Scalar::F16,
    Scalar::Bf16,
];

/// What a parameter passes by value or points to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// A scalar from the table above.
    Scalar(Scalar),
    /// A struct, union or enum declared in a shared header (`Build::shared_header`), by the
    /// name of its generated Rust type; its layout is in the manifest's [`SharedType`] list.
    ///
    /// [`SharedType`]: crate::shared::SharedType
    Shared(String),
}

impl ValueType {
    /// Size in bytes on the device, for scalars; shared types have theirs in the manifest.
    pub fn scalar_size(&self) -> Option<usize> {
        match self {
            ValueType::Scalar(scalar) => Some(scalar.size()),
            ValueType::Shared(_) => None,
        }
    }
}

impl From<Scalar> for ValueType {
    fn from(scalar: Scalar) -> ValueType {
        ValueType::Scalar(scalar)
    }
}

impl fmt::Display for ValueType {
    /// `f32`, or the shared type's name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueType::Scalar(scalar) => f.write_str(scalar.rust_name()),
            ValueType::Shared(name) => f.write_str(name),
        }
    }
}

impl FromStr for ValueType {
    type Err = String;

    /// A scalar's Rust name, else a shared type's name (a C identifier).
    fn from_str(text: &str) -> Result<ValueType, String> {
        if let Some(scalar) = Scalar::from_rust_name(text) {
            return Ok(ValueType::Scalar(scalar));
        }
        if is_c_identifier(text) {
            Ok(ValueType::Shared(text.to_owned()))
        } else {
            Err(format!("`{text}` is not a kernel parameter type"))
        }
    }
}

/// Whether `text` is a C identifier: what a shared type's name must be.
pub fn is_c_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether a shared type's name would read as a scalar in the manifest (`f32`, `bool`), and so
/// cannot be used.
pub fn is_scalar_name(name: &str) -> bool {
    Scalar::from_rust_name(name).is_some()
}

/// The type of one kernel parameter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ParamType {
    /// Passed by value.
    Value(ValueType),
    /// `const T*`: a buffer the kernel only reads.
    ConstPtr(ValueType),
    /// `T*`: a buffer the kernel may write.
    MutPtr(ValueType),
}

impl ParamType {
    /// Size of the parameter in the kernel's parameter buffer; `None` for a shared type passed
    /// by value, whose size is in the manifest.
    pub fn size(&self) -> Option<usize> {
        match self {
            ParamType::Value(value) => value.scalar_size(),
            ParamType::ConstPtr(_) | ParamType::MutPtr(_) => Some(8),
        }
    }

    /// The type passed or pointed to.
    pub fn value_type(&self) -> &ValueType {
        match self {
            ParamType::Value(value) | ParamType::ConstPtr(value) | ParamType::MutPtr(value) => {
                value
            }
        }
    }

    /// The shared type this parameter passes or points to, if any.
    pub fn shared_type(&self) -> Option<&str> {
        match self.value_type() {
            ValueType::Shared(name) => Some(name),
            ValueType::Scalar(_) => None,
        }
    }
}

impl fmt::Display for ParamType {
    /// `f32`, `*const f32`, `*mut Params`: the form stored in the manifest.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamType::Value(value) => write!(f, "{value}"),
            ParamType::ConstPtr(value) => write!(f, "*const {value}"),
            ParamType::MutPtr(value) => write!(f, "*mut {value}"),
        }
    }
}

impl FromStr for ParamType {
    type Err = String;

    fn from_str(text: &str) -> Result<ParamType, String> {
        let parsed = if let Some(rest) = text.strip_prefix("*const ") {
            rest.parse().map(ParamType::ConstPtr)
        } else if let Some(rest) = text.strip_prefix("*mut ") {
            rest.parse().map(ParamType::MutPtr)
        } else {
            text.parse().map(ParamType::Value)
        };
        parsed.map_err(|_| format!("`{text}` is not a kernel parameter type"))
    }
}

impl TryFrom<String> for ParamType {
    type Error = String;

    fn try_from(text: String) -> Result<ParamType, String> {
        text.parse()
    }
}

impl From<ParamType> for String {
    fn from(ty: ParamType) -> String {
        ty.to_string()
    }
}

/// One parameter of a kernel.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Param {
    /// The name in the C source (`arg3` when it had none).
    pub name: String,
    /// The C type as written, for documentation.
    pub c_type: String,
    /// The mapped type.
    pub ty: ParamType,
}

/// One `extern "C" __global__` kernel.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KernelSignature {
    /// The symbol name, which `extern "C"` leaves unmangled.
    pub name: String,
    /// The file that defines it, as the preprocessor reported it.
    pub file: String,
    /// The line of the definition.
    pub line: u32,
    /// The parameters in source order.
    pub params: Vec<Param>,
}

impl KernelSignature {
    /// The C declaration, for documentation: `void saxpy(int n, const float* x)`.
    pub fn c_declaration(&self) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|param| format!("{} {}", param.c_type, param.name))
            .collect();
        format!(
            "extern \"C\" __global__ void {}({})",
            self.name,
            params.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn param_types_round_trip_through_text() {
        for scalar in ALL_SCALARS {
            for ty in [
                ParamType::Value((*scalar).into()),
                ParamType::ConstPtr((*scalar).into()),
                ParamType::MutPtr((*scalar).into()),
            ] {
                assert_eq!(ty.to_string().parse::<ParamType>(), Ok(ty.clone()));
            }
        }
        let shared = ValueType::Shared("LaunchParams".to_owned());
        for ty in [
            ParamType::Value(shared.clone()),
            ParamType::ConstPtr(shared.clone()),
            ParamType::MutPtr(shared),
        ] {
            assert_eq!(ty.to_string().parse::<ParamType>(), Ok(ty.clone()));
        }
        assert_eq!(
            "*mut LaunchParams".parse::<ParamType>().map(|ty| ty.size()),
            Ok(Some(8))
        );
        assert_eq!(
            "LaunchParams".parse::<ParamType>().map(|ty| ty.size()),
            Ok(None)
        );
        assert!("*const u128 x".parse::<ParamType>().is_err());
        assert!("*const 3d".parse::<ParamType>().is_err());
        assert!("".parse::<ParamType>().is_err());
    }

    #[test]
    fn c_spellings_map_to_fixed_width_types() {
        assert_eq!(Scalar::from_c("unsigned long long"), Some(Scalar::U64));
        assert_eq!(Scalar::from_c("size_t"), Some(Scalar::U64));
        assert_eq!(Scalar::from_c("int32_t"), Some(Scalar::I32));
        assert_eq!(Scalar::from_c("__nv_bfloat16"), Some(Scalar::Bf16));
        assert_eq!(Scalar::from_c("float4"), None);
    }
}
