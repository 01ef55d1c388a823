//! Kernel families: one generic method for the kernels whose names differ only in element
//! types (`affine_f32`, `affine_bf16`, … → `module.affine::<T>(…)`).
//!
//! # The rules
//!
//! * **Members.** The automatic rule splits each typed kernel's name at `_` and reads every
//!   part that is an element-type token (`f16`, `bf16`, `f32`, `f64`, `f8_e4m3`/`fp8_e4m3`,
//!   `f8_e5m2`/`fp8_e5m2`, `i8` … `i64`, `u8` … `u64`) as a type; the rest is the pattern
//!   (`cast_f32_bf16` → `cast_{}_{}` with `(f32, bf16)`). Kernels with the same pattern are
//!   one group; a group of one kernel is no family.
//! * **Signature.** Every member must have the same parameters, except that where the name has
//!   a type, the parameters may have it too: the family's signature is the one that fits the
//!   most members, and a parameter whose type is the member's `k`-th type in every member is
//!   generic. Each type of the name must be the type of some parameter, so that the arguments
//!   tell the compiler the type parameters.
//! * **Partial families.** A member whose parameters differ beyond that keeps its own method
//!   and is left out of the family (and out of its trait, so the generic method refuses its
//!   types at compile time); so is a second kernel with the same types (`ucopy_f8_e4m3` and
//!   `ucopy_fp8_e4m3`). A group where fewer than two kernels fit is no family. The module's
//!   documentation lists what was left out and why.
//! * **Names.** The method is the pattern without its types, `_` runs made one and trimmed
//!   (`cast_{}_{}` → `cast`, `where_{}_{}` → `r#where`); its trait is that name in camel case
//!   with `Types` (`CastTypes`). Type parameters are `T` for one type, `T1`, `T2`, … for more,
//!   in the order of the name. A family whose name is taken (a method of `Module`, a kernel's
//!   method, another family's name) or that has no name (`{}_2d`) is left out and listed;
//!   `Build::kernel_family` names it.
//! * **Declared families** (`Build::kernel_family(name, pattern)`) are matched first, with `{}`
//!   anywhere in the name (`saxpy{}` takes `saxpyf32`); one member is enough. For them a taken
//!   name or a type the parameters do not have is a compile error naming the fix.
//!   `Build::kernel_families(false)` turns the automatic rule off.
//!
//! Each family's trait is sealed and implemented for the types (tuples of types for more than
//! one) of its members only, so `module.affine::<i8>(…)` without an `affine_i8` kernel is a
//! compile error that lists the types that exist. The module keeps one table per family, a
//! `OnceLock` per member that the per-type methods share, indexed by a constant of the trait:
//! no name is formatted or hashed at launch.

mod detect;
mod generate;

pub(crate) use detect::{Families, Family, detect};
pub(crate) use generate::{family_field, generic_method, trait_items};

/// The trait of a family: `fast_sum` → `FastSumTypes`; `_` stays between digits
/// (`q4_0` → `Q4_0`), where dropping it would join two numbers.
pub(crate) fn trait_name(family: &str) -> String {
    let mut name = String::new();
    for word in family.split('_').filter(|word| !word.is_empty()) {
        let digits = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit());
        if digits(name.chars().last()) && digits(word.chars().next()) {
            name.push('_');
        }
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            name.push(first.to_ascii_uppercase());
            name.extend(chars);
        }
    }
    name.push_str("Types");
    name
}

#[cfg(test)]
mod tests;
