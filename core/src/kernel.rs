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

/// The type of one kernel parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ParamType {
    /// Passed by value.
    Scalar(Scalar),
    /// `const T*`: a buffer the kernel only reads.
    ConstPtr(Scalar),
    /// `T*`: a buffer the kernel may write.
    MutPtr(Scalar),
}

impl ParamType {
    /// Size of the parameter in the kernel's parameter buffer.
    pub fn size(self) -> usize {
        match self {
            ParamType::Scalar(scalar) => scalar.size(),
            ParamType::ConstPtr(_) | ParamType::MutPtr(_) => 8,
        }
    }
}

impl fmt::Display for ParamType {
    /// `f32`, `*const f32`, `*mut f16`: the form stored in the manifest.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamType::Scalar(scalar) => f.write_str(scalar.rust_name()),
            ParamType::ConstPtr(scalar) => write!(f, "*const {}", scalar.rust_name()),
            ParamType::MutPtr(scalar) => write!(f, "*mut {}", scalar.rust_name()),
        }
    }
}

impl FromStr for ParamType {
    type Err = String;

    fn from_str(text: &str) -> Result<ParamType, String> {
        let parsed = if let Some(rest) = text.strip_prefix("*const ") {
            Scalar::from_rust_name(rest).map(ParamType::ConstPtr)
        } else if let Some(rest) = text.strip_prefix("*mut ") {
            Scalar::from_rust_name(rest).map(ParamType::MutPtr)
        } else {
            Scalar::from_rust_name(text).map(ParamType::Scalar)
        };
        parsed.ok_or_else(|| format!("`{text}` is not a kernel parameter type"))
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
                ParamType::Scalar(*scalar),
                ParamType::ConstPtr(*scalar),
                ParamType::MutPtr(*scalar),
            ] {
                assert_eq!(ty.to_string().parse::<ParamType>(), Ok(ty));
            }
        }
        assert!("*const u128".parse::<ParamType>().is_err());
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
