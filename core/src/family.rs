//! Kernel families: kernels whose names differ only in element-type tokens (`affine_f32`,
//! `affine_bf16`; `cast_f32_bf16`, `cast_u8_f16`), the patterns that name them
//! (`affine_{}`, `cast_{}_{}`), and the family settings of a `Build`, which the manifest
//! records for the macro.
//!
//! The automatic rule splits a kernel name at `_` and reads every part (or pair of parts, for
//! `f8_e4m3`) that is one of [`TYPE_TOKENS`] as an element type; the rest is the pattern. A
//! pattern declared by hand (`Build::kernel_family`) matches names anywhere, not only between
//! `_`: `saxpy{}` matches `saxpyf32`.

use std::fmt;
use std::str::FromStr;

#[cfg(feature = "manifest")]
use serde::{Deserialize, Serialize};

use crate::kernel::{Scalar, is_c_identifier};

/// The element-type tokens of kernel names and the scalar each stands for. candle spells fp8
/// both `f8_e4m3` and `fp8_e4m3`; both are here.
pub const TYPE_TOKENS: &[(&str, Scalar)] = &[
    ("f8_e4m3", Scalar::F8E4M3),
    ("fp8_e4m3", Scalar::F8E4M3),
    ("f8_e5m2", Scalar::F8E5M2),
    ("fp8_e5m2", Scalar::F8E5M2),
    ("bf16", Scalar::Bf16),
    ("f16", Scalar::F16),
    ("f32", Scalar::F32),
    ("f64", Scalar::F64),
    ("i8", Scalar::I8),
    ("i16", Scalar::I16),
    ("i32", Scalar::I32),
    ("i64", Scalar::I64),
    ("u8", Scalar::U8),
    ("u16", Scalar::U16),
    ("u32", Scalar::U32),
    ("u64", Scalar::U64),
];

/// The scalar a type token stands for: `bf16` → [`Scalar::Bf16`].
pub fn type_token(text: &str) -> Option<Scalar> {
    TYPE_TOKENS
        .iter()
        .find(|(token, _)| *token == text)
        .map(|(_, scalar)| *scalar)
}

/// How a `Build` groups kernels into families, as the manifest records it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "manifest", derive(Serialize, Deserialize))]
pub struct FamilySettings {
    /// Whether the automatic rule runs (`Build::kernel_families`); declared families apply
    /// either way.
    #[cfg_attr(feature = "manifest", serde(default = "detect_default"))]
    pub detect: bool,
    /// Families named by hand (`Build::kernel_family`), in the order they were declared: a
    /// kernel belongs to the first that matches it.
    #[cfg_attr(feature = "manifest", serde(default))]
    pub declared: Vec<DeclaredFamily>,
}

#[cfg(feature = "manifest")]
fn detect_default() -> bool {
    true
}

impl Default for FamilySettings {
    fn default() -> FamilySettings {
        FamilySettings {
            detect: true,
            declared: Vec::new(),
        }
    }
}

impl FamilySettings {
    /// Whether these are the default settings (detection on, nothing declared), which the
    /// manifest leaves out.
    pub fn is_default(&self) -> bool {
        *self == FamilySettings::default()
    }
}

/// A family named by hand: its generic method's name and the pattern of its kernels' names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "manifest", derive(Serialize, Deserialize))]
pub struct DeclaredFamily {
    /// The generic method's name, a C identifier.
    pub name: String,
    /// The kernels' names, with `{}` where an element-type token stands.
    pub pattern: Pattern,
}

impl DeclaredFamily {
    /// A declared family, with its name and pattern checked.
    pub fn new(name: &str, pattern: &str) -> Result<DeclaredFamily, String> {
        if !is_c_identifier(name) || name.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(format!(
                "the kernel family name `{name}` is not an identifier; name the generic method \
                 with letters, digits and `_`, e.g. `affine`"
            ));
        }
        Ok(DeclaredFamily {
            name: name.to_owned(),
            pattern: pattern.parse()?,
        })
    }
}

/// A kernel name with `{}` where element-type tokens stand: `cast_{}_{}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "manifest", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "manifest", serde(try_from = "String", into = "String"))]
pub struct Pattern {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Part {
    Literal(String),
    Slot,
}

impl Pattern {
    /// The automatic rule: the pattern of `kernel` and the types its tokens stand for, or
    /// `None` when no `_`-separated part of the name is a type token.
    pub fn detect(kernel: &str) -> Option<(Pattern, Vec<Scalar>)> {
        let words: Vec<&str> = kernel.split('_').collect();
        let mut items: Vec<Option<&str>> = Vec::with_capacity(words.len());
        let mut types = Vec::new();
        let mut index = 0;
        while index < words.len() {
            let pair = words
                .get(index + 1)
                .map(|next| format!("{}_{next}", words[index]));
            if let Some(scalar) = pair.as_deref().and_then(type_token) {
                types.push(scalar);
                items.push(None);
                index += 2;
            } else if let Some(scalar) = type_token(words[index]) {
                types.push(scalar);
                items.push(None);
                index += 1;
            } else {
                items.push(Some(words[index]));
                index += 1;
            }
        }
        if types.is_empty() {
            return None;
        }
        let mut parts: Vec<Part> = Vec::new();
        for (position, item) in items.iter().enumerate() {
            if position > 0 {
                push_literal(&mut parts, "_");
            }
            match item {
                Some(word) => push_literal(&mut parts, word),
                None => parts.push(Part::Slot),
            }
        }
        Some((Pattern { parts }, types))
    }

    /// The types that `kernel`'s name has where the pattern has `{}`, or `None` when the name
    /// does not match. A slot matches any of [`TYPE_TOKENS`], wherever it is.
    pub fn match_name(&self, kernel: &str) -> Option<Vec<Scalar>> {
        let mut types = Vec::with_capacity(self.slots());
        match_parts(&self.parts, kernel, &mut types).then_some(types)
    }

    /// How many `{}` the pattern has.
    pub fn slots(&self) -> usize {
        self.parts
            .iter()
            .filter(|part| matches!(part, Part::Slot))
            .count()
    }

    /// The name the automatic rule gives the family: the pattern without its slots, runs of `_`
    /// made one and trimmed (`cast_{}_{}` → `cast`, `conv_{}_2d` → `conv_2d`); `None` when
    /// that is no identifier (`{}`, `{}_2d`).
    pub fn family_name(&self) -> Option<String> {
        let mut name = String::new();
        for part in &self.parts {
            if let Part::Literal(text) = part {
                for c in text.chars() {
                    if c != '_' || !name.ends_with('_') {
                        name.push(c);
                    }
                }
            } else if !name.ends_with('_') {
                name.push('_');
            }
        }
        let name = name.trim_matches('_');
        (is_c_identifier(name) && !name.starts_with(|c: char| c.is_ascii_digit()))
            .then(|| name.to_owned())
    }
}

fn push_literal(parts: &mut Vec<Part>, text: &str) {
    if let Some(Part::Literal(last)) = parts.last_mut() {
        last.push_str(text);
    } else if !text.is_empty() {
        parts.push(Part::Literal(text.to_owned()));
    }
}

/// Matches `parts` against all of `rest`, trying every token at each slot (backtracking, over
/// a name that is a few dozen bytes).
fn match_parts(parts: &[Part], rest: &str, types: &mut Vec<Scalar>) -> bool {
    match parts.split_first() {
        None => rest.is_empty(),
        Some((Part::Literal(text), tail)) => rest
            .strip_prefix(text.as_str())
            .is_some_and(|rest| match_parts(tail, rest, types)),
        Some((Part::Slot, tail)) => TYPE_TOKENS.iter().any(|(token, scalar)| {
            let Some(rest) = rest.strip_prefix(token) else {
                return false;
            };
            types.push(*scalar);
            if match_parts(tail, rest, types) {
                return true;
            }
            types.pop();
            false
        }),
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for part in &self.parts {
            match part {
                Part::Literal(text) => f.write_str(text)?,
                Part::Slot => f.write_str("{}")?,
            }
        }
        Ok(())
    }
}

impl FromStr for Pattern {
    type Err = String;

    fn from_str(text: &str) -> Result<Pattern, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix("{}") {
                if parts.last() == Some(&Part::Slot) {
                    return Err(format!(
                        "the kernel family pattern `{text}` has two `{{}}` side by side, which \
                         cannot be told apart; separate them, e.g. `cast_{{}}_{{}}`"
                    ));
                }
                parts.push(Part::Slot);
                rest = after;
                continue;
            }
            let end = rest.find("{}").unwrap_or(rest.len());
            let literal = &rest[..end];
            if !literal
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(format!(
                    "the kernel family pattern `{text}` is not a kernel name with `{{}}` for \
                     the element types; use letters, digits, `_` and `{{}}`, e.g. `affine_{{}}`"
                ));
            }
            parts.push(Part::Literal(literal.to_owned()));
            rest = &rest[end..];
        }
        let pattern = Pattern { parts };
        if pattern.slots() == 0 {
            return Err(format!(
                "the kernel family pattern `{text}` has no `{{}}`; put one where each element \
                 type stands in the kernels' names, e.g. `affine_{{}}`"
            ));
        }
        Ok(pattern)
    }
}

impl TryFrom<String> for Pattern {
    type Error = String;

    fn try_from(text: String) -> Result<Pattern, String> {
        text.parse()
    }
}

impl From<Pattern> for String {
    fn from(pattern: Pattern) -> String {
        pattern.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_tokens_anywhere_between_underscores() {
        let (pattern, types) = Pattern::detect("cast_f32_bf16").unwrap();
        assert_eq!(pattern.to_string(), "cast_{}_{}");
        assert_eq!(types, [Scalar::F32, Scalar::Bf16]);
        let (pattern, types) = Pattern::detect("where_i16_fp8_e4m3").unwrap();
        assert_eq!(pattern.to_string(), "where_{}_{}");
        assert_eq!(types, [Scalar::I16, Scalar::F8E4M3]);
        let (pattern, _) = Pattern::detect("ugelu_erf_f8_e4m3").unwrap();
        assert_eq!(pattern.to_string(), "ugelu_erf_{}");
        assert_eq!(pattern.family_name().as_deref(), Some("ugelu_erf"));
        let (pattern, _) = Pattern::detect("conv_f32_2d").unwrap();
        assert_eq!(pattern.family_name().as_deref(), Some("conv_2d"));
    }

    #[test]
    fn names_without_tokens_or_without_a_name_are_no_family() {
        assert_eq!(Pattern::detect("get_rows_q4_0"), None);
        assert_eq!(Pattern::detect("uchar4_copy"), None);
        let (pattern, _) = Pattern::detect("f32_2d").unwrap();
        assert_eq!(pattern.family_name(), None);
    }

    #[test]
    fn declared_patterns_match_anywhere_and_round_trip() {
        let pattern: Pattern = "saxpy{}x{}".parse().unwrap();
        assert_eq!(
            pattern.match_name("saxpyf8_e4m3xu8"),
            Some(vec![Scalar::F8E4M3, Scalar::U8])
        );
        assert_eq!(pattern.match_name("saxpyf32"), None);
        assert_eq!(pattern.to_string(), "saxpy{}x{}");
        let pattern: Pattern = "where_{}_{}".parse().unwrap();
        assert_eq!(
            pattern.match_name("where_u8_f32"),
            Some(vec![Scalar::U8, Scalar::F32])
        );
    }

    #[test]
    fn bad_patterns_and_names_say_the_fix() {
        let error = "affine".parse::<Pattern>().unwrap_err();
        assert!(error.contains("has no `{}`"), "{error}");
        let error = "cast_{}{}".parse::<Pattern>().unwrap_err();
        assert!(error.contains("side by side"), "{error}");
        let error = "affine-{}".parse::<Pattern>().unwrap_err();
        assert!(error.contains("letters, digits"), "{error}");
        let error = DeclaredFamily::new("2d", "a_{}").unwrap_err();
        assert!(error.contains("not an identifier"), "{error}");
    }
}
