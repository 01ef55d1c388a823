//! Kernel parameters: C declarations to [`Param`]s.

use std::collections::HashMap;

use sasskit_core::kernel::{Param, ParamType, Scalar, ValueType, Vector};

use super::tokens::Token;
use crate::shared::Registry;

/// Qualifiers that do not change how a parameter crosses from Rust.
const IGNORED: &[&str] = &[
    "volatile",
    "__restrict__",
    "__restrict",
    "restrict",
    "register",
];

/// The hint at the end of every unsupported-type message.
const SUPPORTED: &str = "supported: C's integer types, float, double, bool, __half, \
                         __nv_bfloat16, __nv_fp8_e4m3, __nv_fp8_e5m2, CUDA's vector types (float4, \
                         int2, __half2, …), structs, unions and enums of shared headers \
                         (`Build::shared_header`), `const T*`/`T*` to any of them, and \
                         `const void*`/`void*`";

/// Keywords that may precede a type's name: `struct Params p`.
const TAGS: &[&str] = &["struct", "union", "enum", "class"];

/// The type names of a translation unit: `typedef`s and `using` aliases that name plain types,
/// so that `typedef float real;` and `int32_t` resolve, and the structs, unions and enums it
/// defines, with the file that defines each, for the error that says how to pass them.
#[derive(Debug, Default)]
pub(crate) struct TypeAliases {
    aliases: HashMap<String, Vec<String>>,
    records: HashMap<String, (usize, &'static str)>,
}

/// What a parameter's base type resolved to.
enum Resolved {
    Value(ValueType),
    /// A struct, union or enum of the translation unit that no shared header generated: its
    /// kind and the index of the file that defines it.
    Record(&'static str, usize),
}

impl TypeAliases {
    pub(crate) fn collect(tokens: &[Token<'_>]) -> TypeAliases {
        let mut aliases = HashMap::new();
        let records = collect_records(tokens);
        let mut i = 0;
        while i < tokens.len() {
            let text = tokens[i].text;
            if text == "typedef" || text == "using" {
                let end = tokens[i..]
                    .iter()
                    .position(|token| token.text == ";")
                    .map_or(tokens.len(), |n| i + n);
                let body = &tokens[i + 1..end];
                let words: Vec<&str> = body.iter().map(|token| token.text).collect();
                if text == "typedef" && words.len() >= 2 && body.iter().all(Token::is_ident) {
                    let (name, target) = words.split_last().unwrap_or((&"", &[]));
                    aliases.insert(
                        (*name).to_owned(),
                        target.iter().map(|word| (*word).to_owned()).collect(),
                    );
                } else if text == "using"
                    && words.len() >= 3
                    && words[1] == "="
                    && body[2..].iter().all(Token::is_ident)
                {
                    aliases.insert(
                        words[0].to_owned(),
                        words[2..].iter().map(|word| (*word).to_owned()).collect(),
                    );
                }
                i = end;
            }
            i += 1;
        }
        TypeAliases { aliases, records }
    }

    /// Resolves a type spelled as words (qualifiers and `struct` removed) to a scalar or a
    /// shared type, or names the record it is.
    fn resolve(&self, words: &[String], shared: &Registry) -> Option<Resolved> {
        let mut words = words.to_vec();
        for _ in 0..16 {
            if let Some(scalar) = Scalar::from_c(&words.join(" ")) {
                return Some(Resolved::Value(scalar.into()));
            }
            let [single] = words.as_slice() else {
                return None;
            };
            if let Some(vector) = Vector::from_c(single) {
                return Some(Resolved::Value(ValueType::Vector(vector)));
            }
            if single == "void" {
                return Some(Resolved::Value(ValueType::Void));
            }
            if let Some(ty) = shared.lookup(single) {
                return Some(Resolved::Value(ValueType::Shared(ty.name.clone())));
            }
            let Some(target) = self.aliases.get(single) else {
                let &(file, kind) = self.records.get(single)?;
                return Some(Resolved::Record(kind, file));
            };
            words = target
                .iter()
                .filter(|word| !TAGS.contains(&word.as_str()))
                .cloned()
                .collect();
        }
        None
    }
}

/// `struct Name {`, `enum class Name : int {` and `typedef struct {…} Name;`: each record
/// name with the index of its file and its kind.
fn collect_records(tokens: &[Token<'_>]) -> HashMap<String, (usize, &'static str)> {
    let mut records = HashMap::new();
    for (i, token) in tokens.iter().enumerate() {
        let Some(kind) = TAGS.iter().find(|tag| **tag == token.text) else {
            continue;
        };
        let kind: &'static str = if *kind == "class" { "struct" } else { kind };
        let mut j = i + 1;
        if kind == "enum" && tokens.get(j).is_some_and(|next| next.text == "class") {
            j += 1;
        }
        let name = tokens.get(j).filter(|name| name.is_ident());
        let body = tokens[j..]
            .iter()
            .position(|next| matches!(next.text, "{" | ";" | "(" | ")" | ","))
            .map(|n| j + n)
            .filter(|&n| tokens[n].text == "{");
        let Some(open) = body else {
            continue;
        };
        if let Some(name) = name {
            records.insert(name.text.to_owned(), (name.file, kind));
        }
        // `typedef struct {…} Name;` and `typedef struct Tag {…} Name;`
        let typedef = i
            .checked_sub(1)
            .is_some_and(|p| tokens[p].text == "typedef");
        if typedef
            && let Some(close) = matching_brace(tokens, open)
            && let Some(alias) = tokens.get(close + 1).filter(|alias| alias.is_ident())
        {
            records.insert(alias.text.to_owned(), (alias.file, kind));
        }
    }
    records
}

pub(super) fn matching_brace(tokens: &[Token<'_>], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (offset, token) in tokens.get(open..)?.iter().enumerate() {
        match token.text {
            "{" => depth += 1,
            "}" => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + offset);
                }
            }
            _ => {}
        }
    }
    None
}

/// Parses the tokens between a kernel's parentheses; on failure, one message per bad parameter.
pub(crate) fn parse_params(
    tokens: &[Token<'_>],
    aliases: &TypeAliases,
    shared: &Registry,
    files: &[String],
) -> Result<Vec<Param>, Vec<String>> {
    let groups = split_top_level(tokens);
    if groups.is_empty()
        || (groups.len() == 1 && groups[0].len() == 1 && groups[0][0].text == "void")
    {
        return Ok(Vec::new());
    }
    let mut params = Vec::new();
    let mut errors = Vec::new();
    for (index, group) in groups.iter().enumerate() {
        match parse_param(group, index, aliases, shared, files) {
            Ok(param) => params.push(param),
            Err(message) => errors.push(message),
        }
    }
    if errors.is_empty() {
        Ok(params)
    } else {
        Err(errors)
    }
}

pub(super) fn split_top_level<'t, 'a>(tokens: &'t [Token<'a>]) -> Vec<&'t [Token<'a>]> {
    if tokens.is_empty() {
        return Vec::new();
    }
    let mut groups = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, token) in tokens.iter().enumerate() {
        match token.text {
            "(" | "<" | "[" => depth += 1,
            ")" | ">" | "]" => depth -= 1,
            "," if depth == 0 => {
                groups.push(&tokens[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    groups.push(&tokens[start..]);
    groups
}

pub(super) fn parse_param(
    group: &[Token<'_>],
    index: usize,
    aliases: &TypeAliases,
    shared: &Registry,
    files: &[String],
) -> Result<Param, String> {
    // Drop a default argument and attributes.
    let end = group
        .iter()
        .position(|token| token.text == "=")
        .unwrap_or(group.len());
    let mut tokens: Vec<&Token<'_>> = Vec::new();
    let mut i = 0;
    while i < end {
        if group[i].text == "__attribute__" {
            i = skip_parens(group, i + 1);
            continue;
        }
        tokens.push(&group[i]);
        i += 1;
    }
    let c_type_of = |tokens: &[&Token<'_>]| render(tokens);
    let full = c_type_of(&tokens);
    // An array parameter `T x[]` is a pointer.
    let mut pointers = tokens.iter().filter(|token| token.text == "*").count();
    if let Some(open) = tokens.iter().position(|token| token.text == "[") {
        pointers += 1;
        tokens.truncate(open);
    }
    if tokens.iter().any(|token| token.text == "&") {
        return Err(format!(
            "parameter {} `{full}`: references cannot be kernel parameters",
            index + 1
        ));
    }
    let is_type_word = |token: &&Token<'_>| {
        token.is_ident() && token.text != "const" && !IGNORED.contains(&token.text)
    };
    let words: Vec<&Token<'_>> = tokens
        .iter()
        .copied()
        .filter(is_type_word)
        .filter(|token| !TAGS.contains(&token.text))
        .collect();
    let last_is_name = tokens
        .last()
        .is_some_and(|last| is_type_word(last) && !is_type_keyword(last.text))
        && words.len() >= 2;
    let (name, type_tokens) = if last_is_name {
        (
            tokens[tokens.len() - 1].text.to_owned(),
            &tokens[..tokens.len() - 1],
        )
    } else {
        (format!("arg{index}"), &tokens[..])
    };
    let c_type = c_type_of(type_tokens);
    let first_star = type_tokens
        .iter()
        .position(|token| token.text == "*")
        .unwrap_or(type_tokens.len());
    let pointee_const = type_tokens[..first_star]
        .iter()
        .any(|token| token.text == "const");
    let base: Vec<String> = type_tokens[..first_star]
        .iter()
        .filter(|token| is_type_word(token))
        .filter(|token| token.text != "std" && !TAGS.contains(&token.text))
        .map(|token| token.text.to_owned())
        .collect();
    let unsupported =
        |why: &str| format!("parameter `{name}` has the type `{c_type}`, {why}; {SUPPORTED}");
    let value = match aliases.resolve(&base, shared) {
        Some(Resolved::Value(value)) => value,
        Some(Resolved::Record(kind, file)) => {
            let file = files.get(file).map_or("<unknown>", String::as_str);
            return Err(record_without_rust_type(&name, &c_type, kind, file));
        }
        None => return Err(unsupported("which sasskit cannot pass from Rust")),
    };
    let ty = match (pointers, pointee_const) {
        (0, _) if value == ValueType::Void => {
            return Err(unsupported("which is not a value"));
        }
        (0, _) => ParamType::Value(value),
        (1, true) => ParamType::ConstPtr(value),
        (1, false) => ParamType::MutPtr(value),
        _ => {
            return Err(unsupported(
                "a pointer to a pointer, which sasskit cannot pass from Rust",
            ));
        }
    };
    Ok(Param { name, c_type, ty })
}

/// The error for a struct, union or enum parameter that no shared header generated a Rust type
/// for: what to enable and what to call.
fn record_without_rust_type(name: &str, c_type: &str, kind: &str, file: &str) -> String {
    let declared =
        format!("parameter `{name}` has the type `{c_type}`, a {kind} defined in `{file}`");
    let header = std::path::Path::new(file)
        .extension()
        .is_some_and(|ext| ext == "h" || ext == "hpp" || ext == "cuh" || ext == "hh");
    let generate = if header {
        format!("generate its Rust type with `Build::shared_header(\"{file}\")`")
    } else {
        "move it into a header that the `.cu` file includes, and generate its Rust type with \
         `Build::shared_header(\"<that header>\")`"
            .to_owned()
    };
    if cfg!(feature = "bindgen") {
        format!("{declared}; {generate}")
    } else {
        format!(
            "{declared}; passing a {kind} from Rust needs the `bindgen` feature of sasskit-build \
             (`sasskit-build = {{ version = \"{}\", features = [\"bindgen\"] }}` in \
             [build-dependencies], and libclang), then {generate}",
            env!("CARGO_PKG_VERSION")
        )
    }
}

fn is_type_keyword(word: &str) -> bool {
    matches!(
        word,
        "int"
            | "unsigned"
            | "signed"
            | "char"
            | "short"
            | "long"
            | "float"
            | "double"
            | "bool"
            | "void"
    )
}

fn skip_parens(tokens: &[Token<'_>], open: usize) -> usize {
    super::matching_paren(tokens, open).map_or(tokens.len(), |close| close + 1)
}

/// `const float* __restrict__`: words separated by spaces, `*` attached to the word before.
fn render(tokens: &[&Token<'_>]) -> String {
    let mut out = String::new();
    for token in tokens {
        if token.text == "*" || token.text == "::" || out.ends_with("::") || out.is_empty() {
            out.push_str(token.text);
        } else {
            out.push(' ');
            out.push_str(token.text);
        }
    }
    out
}
