//! The types in bindgen's output and their layouts.
//!
//! bindgen writes, for every struct and union, compile-time layout checks of the form
//!
//! ```text
//! const _: () = {
//!     ["Size of Params"][::core::mem::size_of::<Params>() - 24usize];
//!     ["Alignment of Params"][::core::mem::align_of::<Params>() - 8usize];
//!     ["Offset of field: Params::n"][::core::mem::offset_of!(Params, n) - 0usize];
//! };
//! ```
//!
//! with the numbers clang computed; this module reads them back, so the layouts sasskit records
//! are the ones rustc will hold the Rust types to. Enums are `#[repr(transparent)]` newtypes,
//! whose layout is their integer's.

use std::collections::HashMap;

use sasskit_core::shared::TypeKind;
use syn::{Expr, Item, Lit};

/// A type bindgen generated, with its layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Generated {
    pub(crate) name: String,
    pub(crate) kind: TypeKind,
    pub(crate) size: u64,
    pub(crate) align: u64,
    /// Each named field's offset, by its Rust name, in declaration order.
    pub(crate) fields: Vec<(String, u64)>,
}

/// What bindgen's output declares.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Declared {
    /// The structs, unions and enums with a known layout, in output order.
    pub(crate) types: Vec<Generated>,
    /// `pub type Alias = Target;` for a target that is a path, in output order.
    pub(crate) aliases: Vec<(String, String)>,
}

/// Reads the types and layouts out of bindgen's output.
pub(crate) fn declared(rust: &str) -> Result<Declared, syn::Error> {
    let file = syn::parse_file(rust)?;
    let mut kinds: Vec<(String, TypeKind)> = Vec::new();
    let mut newtype_sizes: HashMap<String, u64> = HashMap::new();
    let mut sizes: HashMap<String, u64> = HashMap::new();
    let mut aligns: HashMap<String, u64> = HashMap::new();
    let mut offsets: Vec<(String, String, u64)> = Vec::new();
    let mut aliases = Vec::new();
    for item in &file.items {
        match item {
            Item::Struct(item) if has_repr(&item.attrs, "transparent") => {
                let name = item.ident.to_string();
                let inner = item
                    .fields
                    .iter()
                    .next()
                    .and_then(|field| integer_size(&field.ty));
                if let Some(size) = inner {
                    newtype_sizes.insert(name.clone(), size);
                    kinds.push((name, TypeKind::Enum));
                }
            }
            Item::Struct(item) if has_repr(&item.attrs, "C") => {
                kinds.push((item.ident.to_string(), TypeKind::Struct));
            }
            Item::Union(item) if has_repr(&item.attrs, "C") => {
                kinds.push((item.ident.to_string(), TypeKind::Union));
            }
            Item::Type(item) => {
                if let syn::Type::Path(target) = &*item.ty
                    && let Some(last) = target.path.segments.last()
                    && last.arguments.is_none()
                {
                    aliases.push((item.ident.to_string(), last.ident.to_string()));
                }
            }
            Item::Const(item) if item.ident == "_" => {
                collect_checks(&item.expr, &mut sizes, &mut aligns, &mut offsets);
            }
            _ => {}
        }
    }
    let types = kinds
        .into_iter()
        .filter_map(|(name, kind)| {
            let (size, align) = match newtype_sizes.get(&name) {
                Some(&size) => (size, size),
                None => (*sizes.get(&name)?, *aligns.get(&name)?),
            };
            let fields = offsets
                .iter()
                .filter(|(owner, _, _)| *owner == name)
                .map(|(_, field, offset)| (field.clone(), *offset))
                .collect();
            Some(Generated {
                name,
                kind,
                size,
                align,
                fields,
            })
        })
        .collect();
    Ok(Declared { types, aliases })
}

fn has_repr(attrs: &[syn::Attribute], wanted: &str) -> bool {
    attrs.iter().any(|attr| {
        if !attr.path().is_ident("repr") {
            return false;
        }
        let mut found = false;
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident(wanted) {
                found = true;
            }
            // `align(8)`, `packed(2)`: skip the arguments.
            if meta.input.peek(syn::token::Paren) {
                let _arguments;
                syn::parenthesized!(_arguments in meta.input);
            }
            Ok(())
        });
        found
    })
}

/// The size of an enum's integer type as bindgen spells it (`::core::ffi::c_uint`, `u8`), on the
/// LP64 targets sasskit supports.
fn integer_size(ty: &syn::Type) -> Option<u64> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let name = path.path.segments.last()?.ident.to_string();
    Some(match name.as_str() {
        "c_char" | "c_schar" | "c_uchar" | "i8" | "u8" => 1,
        "c_short" | "c_ushort" | "i16" | "u16" => 2,
        "c_int" | "c_uint" | "i32" | "u32" => 4,
        "c_long" | "c_ulong" | "c_longlong" | "c_ulonglong" | "i64" | "u64" => 8,
        _ => return None,
    })
}

/// Every `["Size of X"][… - Nusize];`, `["Alignment of X"][… - Nusize];` and `["Offset of
/// field: X::f"][… - Nusize];` in a `const _`.
fn collect_checks(
    expr: &Expr,
    sizes: &mut HashMap<String, u64>,
    aligns: &mut HashMap<String, u64>,
    offsets: &mut Vec<(String, String, u64)>,
) {
    let Expr::Block(block) = expr else {
        return;
    };
    for statement in &block.block.stmts {
        let syn::Stmt::Expr(Expr::Index(index), _) = statement else {
            continue;
        };
        let Expr::Array(label) = &*index.expr else {
            continue;
        };
        let Some(Expr::Lit(syn::ExprLit {
            lit: Lit::Str(label),
            ..
        })) = label.elems.first()
        else {
            continue;
        };
        let Expr::Binary(difference) = &*index.index else {
            continue;
        };
        let Expr::Lit(syn::ExprLit {
            lit: Lit::Int(value),
            ..
        }) = &*difference.right
        else {
            continue;
        };
        let Ok(value) = value.base10_parse::<u64>() else {
            continue;
        };
        let label = label.value();
        if let Some(name) = label.strip_prefix("Size of ") {
            sizes.insert(name.to_owned(), value);
        } else if let Some(name) = label.strip_prefix("Alignment of ") {
            aligns.insert(name.to_owned(), value);
        } else if let Some((owner, field)) = label
            .strip_prefix("Offset of field: ")
            .and_then(|path| path.split_once("::"))
        {
            offsets.push((owner.to_owned(), field.to_owned(), value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of bindgen 0.72's output for a struct, a union, an enum and a typedef.
    const OUTPUT: &str = r#"
#[repr(C)]
#[derive(Debug, Default, Copy, Clone, PartialEq)]
pub struct Params {
    pub tag: u8,
    pub scale: f64,
}
#[allow(clippy::unnecessary_operation, clippy::identity_op)]
const _: () = {
    ["Size of Params"][::core::mem::size_of::<Params>() - 16usize];
    ["Alignment of Params"][::core::mem::align_of::<Params>() - 8usize];
    ["Offset of field: Params::tag"][::core::mem::offset_of!(Params, tag) - 0usize];
};
#[repr(C)]
#[derive(Copy, Clone)]
pub union Bits {
    pub f: f32,
    pub u: u32,
}
const _: () = {
    ["Size of Bits"][::core::mem::size_of::<Bits>() - 4usize];
    ["Alignment of Bits"][::core::mem::align_of::<Bits>() - 4usize];
};
impl Mode {
    pub const MODE_A: Mode = Mode(0);
}
#[repr(transparent)]
#[derive(Debug, Copy, Clone, Hash, PartialEq, Eq)]
pub struct Mode(pub ::core::ffi::c_uint);
#[repr(C, align(16))]
pub struct Aligned {
    pub x: f32,
}
pub type Params_t = Params;
pub type real = f32;
pub type Opaque = [u64; 2usize];
pub const MAGIC: u32 = 7;
"#;

    #[test]
    fn reads_types_layouts_and_aliases() {
        let declared = declared(OUTPUT).unwrap();
        assert_eq!(declared.types[0].fields, [("tag".to_owned(), 0)]);
        let summary: Vec<(&str, TypeKind, u64, u64)> = declared
            .types
            .iter()
            .map(|ty| (ty.name.as_str(), ty.kind, ty.size, ty.align))
            .collect();
        assert_eq!(
            summary,
            [
                ("Params", TypeKind::Struct, 16, 8),
                ("Bits", TypeKind::Union, 4, 4),
                ("Mode", TypeKind::Enum, 4, 4),
            ],
            "`Aligned` has no layout checks, so it is left out"
        );
        assert_eq!(
            declared.aliases,
            [
                ("Params_t".to_owned(), "Params".to_owned()),
                ("real".to_owned(), "f32".to_owned()),
            ]
        );
    }

    #[test]
    fn unparsable_output_is_an_error() {
        assert!(declared("pub struct {").is_err());
    }
}
