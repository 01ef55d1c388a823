//! Kernel families: one generic method for the kernels whose names differ only in element
//! types (`affine_f32`, `affine_bf16`, … → `module.affine::<T>(…)`).
//!
//! The rules (members, signature, partial families, names, declared families) are documented
//! once, on `kernels!` in `lib.rs`; `detect` applies them and `generate` writes the items.

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
