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
//! | `long long`, `int64_t` | `i64` |
//! | `unsigned long long`, `uint64_t` | `u64` |
//! | `size_t`, `uintptr_t` | `usize` |
//! | `ptrdiff_t`, `ssize_t`, `intptr_t` | `isize` |
//! | `long` / `unsigned long` | `core::ffi::c_long` / `c_ulong` (the target's C ABI) |
//! | `float` | `f32` |
//! | `double` | `f64` |
//! | `bool` | `bool` |
//! | `__half`, `half` | `half::f16` |
//! | `__nv_bfloat16`, `nv_bfloat16` | `half::bf16` |
//! | `__nv_fp8_e4m3` / `__nv_fp8_e5m2` | `float8::F8E4M3` / `float8::F8E5M2` |
//! | CUDA's vector types (`float4`, `int2`, `uchar4`, `double2`, `__half2`, `__nv_bfloat162`, …) | a [`Vector`] twin with the same size and alignment |
//! | `const T*` | a read-only device buffer of `T` |
//! | `T*` | a mutable device buffer of `T` |
//! | `const void*` / `void*` | a device buffer of any element type |
//! | a struct, union or enum of a shared header | its generated Rust type (see [`crate::shared`]) |
//!
//! The integer mappings are bindgen's defaults, so a crate that already binds the same C
//! declarations with bindgen gets the same Rust types. `long` follows the target: nvcc lays out
//! device code like the host compiler, so `long` is 8 bytes on Linux (LP64) and 4 on Windows
//! (LLP64); `c_long` is exactly that width on every target. The build checks every mapped size
//! against the parameter sizes in the compiled cubin.

use std::fmt;
use std::str::FromStr;

#[cfg(feature = "manifest")]
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
    Isize,
    Usize,
    /// C's `long`: `core::ffi::c_long`.
    CLong,
    /// C's `unsigned long`: `core::ffi::c_ulong`.
    CULong,
    F32,
    F64,
    Bool,
    F16,
    Bf16,
    F8E4M3,
    F8E5M2,
}

/// How many bytes C's `long` has on the target: 8 on LP64 (Linux, macOS), 4 on LLP64 (Windows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LongSize(pub usize);

impl LongSize {
    /// LP64: Linux and every other 64-bit target but Windows.
    pub const LP64: LongSize = LongSize(8);
    /// LLP64: 64-bit Windows.
    pub const LLP64: LongSize = LongSize(4);

    /// The size for a target OS as cargo names it (`CARGO_CFG_TARGET_OS`).
    pub fn for_target_os(os: &str) -> LongSize {
        if os == "windows" {
            LongSize::LLP64
        } else {
            LongSize::LP64
        }
    }
}

impl Scalar {
    /// Size in bytes on the device, with `long` as wide as on LP64 targets; see
    /// [`Scalar::size_with`] for the others.
    pub fn size(self) -> usize {
        self.size_with(LongSize::LP64)
    }

    /// Size in bytes on the device, with `long` of the given width.
    pub fn size_with(self, long: LongSize) -> usize {
        match self {
            Scalar::I8 | Scalar::U8 | Scalar::Bool | Scalar::F8E4M3 | Scalar::F8E5M2 => 1,
            Scalar::I16 | Scalar::U16 | Scalar::F16 | Scalar::Bf16 => 2,
            Scalar::I32 | Scalar::U32 | Scalar::F32 => 4,
            Scalar::I64 | Scalar::U64 | Scalar::F64 | Scalar::Isize | Scalar::Usize => 8,
            Scalar::CLong | Scalar::CULong => long.0,
        }
    }

    /// The Rust type's name as the manifest records it. Generated code names the types outside
    /// the prelude by path: `c_long` is `core::ffi::c_long`, `f16` and `bf16` come from `half`,
    /// `F8E4M3` and `F8E5M2` from `float8`.
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
            Scalar::Isize => "isize",
            Scalar::Usize => "usize",
            Scalar::CLong => "c_long",
            Scalar::CULong => "c_ulong",
            Scalar::F32 => "f32",
            Scalar::F64 => "f64",
            Scalar::Bool => "bool",
            Scalar::F16 => "f16",
            Scalar::Bf16 => "bf16",
            Scalar::F8E4M3 => "F8E4M3",
            Scalar::F8E5M2 => "F8E5M2",
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
            "long long"
            | "long long int"
            | "signed long long"
            | "signed long long int"
            | "int64_t" => Scalar::I64,
            "unsigned long long" | "unsigned long long int" | "uint64_t" => Scalar::U64,
            "long" | "long int" | "signed long" | "signed long int" => Scalar::CLong,
            "unsigned long" | "unsigned long int" => Scalar::CULong,
            "size_t" | "uintptr_t" => Scalar::Usize,
            "ptrdiff_t" | "ssize_t" | "intptr_t" => Scalar::Isize,
            "float" => Scalar::F32,
            "double" => Scalar::F64,
            "bool" | "_Bool" => Scalar::Bool,
            "__half" | "half" => Scalar::F16,
            "__nv_bfloat16" | "nv_bfloat16" => Scalar::Bf16,
            "__nv_fp8_e4m3" => Scalar::F8E4M3,
            "__nv_fp8_e5m2" => Scalar::F8E5M2,
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
    Scalar::Isize,
    Scalar::Usize,
    Scalar::CLong,
    Scalar::CULong,
    Scalar::F32,
    Scalar::F64,
    Scalar::Bool,
    Scalar::F16,
    Scalar::Bf16,
    Scalar::F8E4M3,
    Scalar::F8E5M2,
];

/// One of CUDA's built-in vector types: `float4`, `int2`, `uchar4`, `__half2`, …
///
/// Its Rust twin (`sasskit::vector::Float4`) is a `#[repr(C)]` struct with the fields `x`,
/// `y`, `z`, `w` and the alignment CUDA gives the type, which is not always the element's:
/// `float2` is 8-byte aligned, `float4` and `double2` 16-byte, `float3` only 4-byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Vector {
    /// The element type.
    pub element: Scalar,
    /// The number of elements, 1 to 4.
    pub lanes: u8,
}

/// The element types of CUDA's vector types, with the prefix of their names.
const VECTOR_ELEMENTS: &[(&str, &str, Scalar)] = &[
    ("char", "Char", Scalar::I8),
    ("uchar", "UChar", Scalar::U8),
    ("short", "Short", Scalar::I16),
    ("ushort", "UShort", Scalar::U16),
    ("int", "Int", Scalar::I32),
    ("uint", "UInt", Scalar::U32),
    ("longlong", "LongLong", Scalar::I64),
    ("ulonglong", "ULongLong", Scalar::U64),
    ("float", "Float", Scalar::F32),
    ("double", "Double", Scalar::F64),
];

impl Vector {
    /// Every vector type sasskit maps, in a fixed order.
    pub fn all() -> impl Iterator<Item = Vector> {
        VECTOR_ELEMENTS
            .iter()
            .flat_map(|&(_, _, element)| (1..=4).map(move |lanes| Vector { element, lanes }))
            .chain([
                Vector {
                    element: Scalar::F16,
                    lanes: 2,
                },
                Vector {
                    element: Scalar::Bf16,
                    lanes: 2,
                },
            ])
    }

    /// Maps a C type name: `float4`, `uchar2`, `__half2`, `__nv_bfloat162`. `long` vectors are
    /// not mapped (their width differs between targets).
    pub fn from_c(name: &str) -> Option<Vector> {
        match name {
            "__half2" | "half2" => {
                return Some(Vector {
                    element: Scalar::F16,
                    lanes: 2,
                });
            }
            "__nv_bfloat162" | "nv_bfloat162" => {
                return Some(Vector {
                    element: Scalar::Bf16,
                    lanes: 2,
                });
            }
            _ => {}
        }
        let lanes = name.chars().last()?.to_digit(10)?;
        let prefix = &name[..name.len() - 1];
        let (_, _, element) = VECTOR_ELEMENTS.iter().find(|(c, _, _)| *c == prefix)?;
        (1..=4).contains(&lanes).then_some(Vector {
            element: *element,
            lanes: lanes as u8,
        })
    }

    /// The C name: `float4`, `__half2`.
    pub fn c_name(self) -> String {
        format!("{}{}", self.prefixes().0, self.lanes)
    }

    /// The Rust twin's name in `sasskit::vector`: `Float4`, `Half2`, `Bf162`.
    pub fn rust_name(self) -> String {
        format!("{}{}", self.prefixes().1, self.lanes)
    }

    /// The C and Rust names without the lane count: `("float", "Float")`, `("__half", "Half")`.
    fn prefixes(self) -> (&'static str, &'static str) {
        match self.element {
            Scalar::F16 => ("__half", "Half"),
            Scalar::Bf16 => ("__nv_bfloat16", "Bf16"),
            element => VECTOR_ELEMENTS
                .iter()
                .find(|(_, _, e)| *e == element)
                .map_or(("?", "?"), |(c, rust, _)| (c, rust)),
        }
    }

    /// Size in bytes.
    pub fn size(self) -> usize {
        self.element.size() * usize::from(self.lanes)
    }

    /// Alignment in bytes, as CUDA's headers declare it: two lanes are aligned to their size,
    /// four lanes to their size up to 16, one and three lanes to the element.
    pub fn align(self) -> usize {
        let element = self.element.size();
        match self.lanes {
            2 => 2 * element,
            4 => (4 * element).min(16),
            _ => element,
        }
    }
}

/// What a parameter passes by value or points to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// A scalar from the table above.
    Scalar(Scalar),
    /// One of CUDA's vector types.
    Vector(Vector),
    /// `void`, only behind a pointer: a buffer of any element type.
    Void,
    /// A struct, union or enum declared in a shared header (`Build::shared_header`), by the
    /// name of its generated Rust type; its layout is in the manifest's [`SharedType`] list.
    ///
    /// [`SharedType`]: crate::shared::SharedType
    Shared(String),
}

impl ValueType {
    /// Size in bytes on the device (with `long` of the given width), for scalars and vectors;
    /// shared types have theirs in the manifest, `void` has none.
    pub fn size_with(&self, long: LongSize) -> Option<usize> {
        match self {
            ValueType::Scalar(scalar) => Some(scalar.size_with(long)),
            ValueType::Vector(vector) => Some(vector.size()),
            ValueType::Void | ValueType::Shared(_) => None,
        }
    }

    /// [`ValueType::size_with`] on an LP64 target.
    pub fn scalar_size(&self) -> Option<usize> {
        self.size_with(LongSize::LP64)
    }
}

impl From<Scalar> for ValueType {
    fn from(scalar: Scalar) -> ValueType {
        ValueType::Scalar(scalar)
    }
}

impl fmt::Display for ValueType {
    /// `f32`, `float4`, `void`, or the shared type's name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueType::Scalar(scalar) => f.write_str(scalar.rust_name()),
            ValueType::Vector(vector) => f.write_str(&vector.c_name()),
            ValueType::Void => f.write_str("void"),
            ValueType::Shared(name) => f.write_str(name),
        }
    }
}

impl FromStr for ValueType {
    type Err = String;

    /// A scalar's Rust name, `void`, a vector type's C name, else a shared type's name (a C
    /// identifier).
    fn from_str(text: &str) -> Result<ValueType, String> {
        if let Some(scalar) = Scalar::from_rust_name(text) {
            return Ok(ValueType::Scalar(scalar));
        }
        if text == "void" {
            return Ok(ValueType::Void);
        }
        if let Some(vector) = Vector::from_c(text) {
            return Ok(ValueType::Vector(vector));
        }
        if is_c_identifier(text) {
            Ok(ValueType::Shared(text.to_owned()))
        } else {
            Err(format!("`{text}` is not a kernel parameter type"))
        }
    }
}

/// Rust's keywords, strict and reserved, in every edition up to 2024 (`gen`): the C names that
/// cannot be Rust identifiers as they are. The macros make them raw identifiers (`r#type`), or
/// append `_` to those that cannot be raw (`self`, `Self`, `super`, `crate`), as bindgen does
/// for every one of them.
pub const RUST_KEYWORDS: &[&str] = &[
    "as", "async", "await", "box", "break", "const", "continue", "crate", "dyn", "else", "enum",
    "extern", "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod",
    "move", "mut", "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait",
    "true", "type", "unsafe", "use", "where", "while", "yield", "abstract", "become", "do",
    "final", "macro", "override", "priv", "try", "typeof", "unsized", "virtual",
];

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
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "manifest", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "manifest", serde(try_from = "String", into = "String"))]
pub enum ParamType {
    /// Passed by value.
    Value(ValueType),
    /// `const T*`: a buffer the kernel only reads.
    ConstPtr(ValueType),
    /// `T*`: a buffer the kernel may write.
    MutPtr(ValueType),
}

impl ParamType {
    /// Size of the parameter in the kernel's parameter buffer on an LP64 target; `None` for a
    /// shared type passed by value, whose size is in the manifest.
    pub fn size(&self) -> Option<usize> {
        self.size_with(LongSize::LP64)
    }

    /// Size of the parameter in the kernel's parameter buffer, with `long` of the given width.
    pub fn size_with(&self, long: LongSize) -> Option<usize> {
        match self {
            ParamType::Value(value) => value.size_with(long),
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
            ValueType::Scalar(_) | ValueType::Vector(_) | ValueType::Void => None,
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
            text.parse().and_then(|value| match value {
                ValueType::Void => Err(String::new()),
                value => Ok(ParamType::Value(value)),
            })
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
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "manifest", derive(Serialize, Deserialize))]
pub struct Param {
    /// The name in the C source (`arg3` when it had none).
    pub name: String,
    /// The C type as written, for documentation.
    pub c_type: String,
    /// The mapped type.
    pub ty: ParamType,
}

/// One `extern "C" __global__` kernel.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "manifest", derive(Serialize, Deserialize))]
pub struct KernelSignature {
    /// The symbol name, which `extern "C"` leaves unmangled.
    pub name: String,
    /// The file that defines it, as the preprocessor reported it.
    pub file: String,
    /// The line of the definition.
    pub line: u32,
    /// The parameters in source order; empty for an untyped kernel.
    pub params: Vec<Param>,
    /// The targets (`sm_90`, `compute_90`) whose image defines the kernel, in build order:
    /// every target, unless the source guards the kernel with `#if __CUDA_ARCH__`.
    #[cfg_attr(feature = "manifest", serde(default))]
    pub targets: Vec<String>,
    /// Why the kernel has no typed wrapper, when a parameter's type cannot cross from Rust. The
    /// kernel is still in the module and can be looked up by name.
    #[cfg_attr(
        feature = "manifest",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub untyped: Option<String>,
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
        assert_eq!(Scalar::from_c("size_t"), Some(Scalar::Usize));
        assert_eq!(Scalar::from_c("ptrdiff_t"), Some(Scalar::Isize));
        assert_eq!(Scalar::from_c("long"), Some(Scalar::CLong));
        assert_eq!(Scalar::from_c("unsigned long int"), Some(Scalar::CULong));
        assert_eq!(Scalar::from_c("long long"), Some(Scalar::I64));
        assert_eq!(Scalar::from_c("__nv_fp8_e4m3"), Some(Scalar::F8E4M3));
        assert_eq!(Scalar::from_c("__nv_fp8_e5m2"), Some(Scalar::F8E5M2));
        assert_eq!(Scalar::from_c("int32_t"), Some(Scalar::I32));
        assert_eq!(Scalar::from_c("__nv_bfloat16"), Some(Scalar::Bf16));
        assert_eq!(Scalar::from_c("float4"), None);
    }

    #[test]
    fn long_follows_the_target() {
        assert_eq!(Scalar::CLong.size_with(LongSize::for_target_os("linux")), 8);
        assert_eq!(
            Scalar::CULong.size_with(LongSize::for_target_os("windows")),
            4
        );
        assert_eq!(
            ParamType::Value(Scalar::CLong.into()).size_with(LongSize::LLP64),
            Some(4)
        );
        assert_eq!(Scalar::Usize.size_with(LongSize::LLP64), 8);
    }

    /// CUDA's `vector_types.h` declares these sizes and alignments (`__align__(n)` on each
    /// struct); the build also checks every by-value size against the cubin.
    #[test]
    fn vector_types_have_cudas_layout() {
        let layout = |name: &str| Vector::from_c(name).map(|v| (v.size(), v.align()));
        assert_eq!(layout("char1"), Some((1, 1)));
        assert_eq!(layout("uchar2"), Some((2, 2)));
        assert_eq!(layout("uchar3"), Some((3, 1)));
        assert_eq!(layout("char4"), Some((4, 4)));
        assert_eq!(layout("short2"), Some((4, 4)));
        assert_eq!(layout("ushort4"), Some((8, 8)));
        assert_eq!(layout("int2"), Some((8, 8)));
        assert_eq!(layout("int3"), Some((12, 4)));
        assert_eq!(layout("uint4"), Some((16, 16)));
        assert_eq!(layout("float2"), Some((8, 8)));
        assert_eq!(layout("float3"), Some((12, 4)));
        assert_eq!(layout("float4"), Some((16, 16)));
        assert_eq!(layout("double2"), Some((16, 16)));
        assert_eq!(layout("longlong2"), Some((16, 16)));
        assert_eq!(layout("double4"), Some((32, 16)));
        assert_eq!(layout("__half2"), Some((4, 4)));
        assert_eq!(layout("__nv_bfloat162"), Some((4, 4)));
        assert_eq!(layout("long2"), None);
        assert_eq!(layout("float5"), None);
        assert_eq!(layout("float"), None);
    }

    #[test]
    fn vector_names_round_trip() {
        let all: Vec<Vector> = Vector::all().collect();
        assert_eq!(all.len(), 42);
        for vector in all {
            assert_eq!(Vector::from_c(&vector.c_name()), Some(vector));
            let ty = ParamType::ConstPtr(ValueType::Vector(vector));
            assert_eq!(ty.to_string().parse::<ParamType>(), Ok(ty.clone()));
        }
        assert_eq!(
            Vector::from_c("float4").map(Vector::rust_name).as_deref(),
            Some("Float4")
        );
        assert_eq!(
            Vector::from_c("__half2").map(Vector::rust_name).as_deref(),
            Some("Half2")
        );
    }

    #[test]
    fn void_only_behind_a_pointer() {
        assert_eq!(
            "*const void".parse::<ParamType>(),
            Ok(ParamType::ConstPtr(ValueType::Void))
        );
        assert_eq!(
            "*mut void".parse::<ParamType>(),
            Ok(ParamType::MutPtr(ValueType::Void))
        );
        assert!("void".parse::<ParamType>().is_err());
        assert_eq!(ParamType::ConstPtr(ValueType::Void).size(), Some(8));
    }
}
