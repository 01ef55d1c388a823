//! `extern "C"` host functions from preprocessed CUDA source: the entry points of a static
//! library, whose kernels are launched by host code (`kernel<<<…>>>`).
//!
//! The source is preprocessed as the host pass sees it (`__CUDA_ARCH__` undefined). A function
//! is declared for Rust when it is defined (has a body) at file scope or in an `extern "C" { … }`
//! block, has C linkage, is neither `static` nor `inline` nor a template, is not a kernel or a
//! device function, and is defined in one of the crate's files (the `.cu` file or a header under
//! the crate root; functions of system and toolkit headers are not the library's).
//!
//! Parameters map as kernel parameters do ([`super::params`]), with four additions:
//! `cudaStream_t` (or the driver's `CUstream`) is a stream; `void*` and 64-bit integer
//! parameters the crate names with `StaticLibrary::stream_parameter` are streams too (candle's
//! launchers take `void* stream` or `int64_t stream`); pointers the crate names with
//! `StaticLibrary::host_pointer` point to host memory; non-const device pointers it names with
//! `StaticLibrary::read_only` are only read.

use sasskit_core::kernel::{ParamType, Scalar, ValueType};
use sasskit_core::library::{HostFunction, HostParam, HostParamType};

use super::matching_paren;
use super::params::{TypeAliases, matching_brace, parse_param, split_top_level};
use super::scope::Scope;
use super::tokens::{Token, tokenize};
use crate::shared::Registry;

/// The spellings of a stream handle: the runtime's and the driver's names for one type.
const STREAM_TYPES: &[&str] = &["cudaStream_t", "CUstream"];

/// Words before a function's name that keep it out of the library's interface.
const NOT_EXPORTED: &[&str] = &[
    "static",
    "inline",
    "__inline__",
    "__forceinline__",
    "template",
    "typedef",
    "constexpr",
];

/// The parameters the crate marked: `(function, parameter)` pairs, where the function `*`
/// stands for every function.
#[derive(Debug, Clone, Default)]
pub(crate) struct Marks {
    /// Pointers to host memory (`StaticLibrary::host_pointer`).
    pub(crate) host_pointers: Vec<(String, String)>,
    /// `void*` and 64-bit integer parameters that are streams
    /// (`StaticLibrary::stream_parameter`).
    pub(crate) streams: Vec<(String, String)>,
    /// Non-const device pointers the function only reads (`StaticLibrary::read_only`).
    pub(crate) read_only: Vec<(String, String)>,
}

impl Marks {
    fn matches(list: &[(String, String)], function: &str, parameter: &str) -> bool {
        list.iter()
            .any(|(f, p)| (f == "*" || f == function) && p == parameter)
    }
}

/// What a file's host pass defines.
#[derive(Debug, Default)]
pub(crate) struct HostExtracted {
    /// The functions, in source order; those that cannot cross from Rust have `untyped` set.
    pub(crate) functions: Vec<HostFunction>,
    /// One warning per untyped function, with its `file:line`.
    pub(crate) warnings: Vec<String>,
}

/// Finds every exported `extern "C"` host function that `own_file` accepts the file of.
/// `marks` are the parameters the crate marked as host pointers, streams and read-only.
pub(crate) fn extract_host_functions(
    preprocessed: &str,
    shared: &Registry,
    own_file: &dyn Fn(&str) -> bool,
    marks: &Marks,
) -> HostExtracted {
    let unit = tokenize(preprocessed);
    let tokens = &unit.tokens;
    let aliases = TypeAliases::collect(tokens);
    let mut out = HostExtracted::default();
    let mut scope = Scope::default();
    let mut i = 0;
    while i < tokens.len() {
        if scope.step(tokens, i) {
            i += 1;
            continue;
        }
        let statement_start = scope.statement_start;
        let at_file_scope = scope.at_file_scope();
        let opens_call = tokens.get(i + 1).is_some_and(|next| next.text == "(");
        if !at_file_scope || !opens_call || !tokens[i].is_ident() || i <= statement_start {
            i += 1;
            continue;
        }
        let Some(close) = matching_paren(tokens, i + 1) else {
            break;
        };
        // Attributes and macros that take arguments (`__attribute__((…))`, `__declspec(…)`)
        // belong to the declaration that follows.
        if tokens[i].text.starts_with("__") {
            i = close + 1;
            continue;
        }
        let Some(body) = body_start(tokens, close + 1) else {
            i = close + 1;
            continue;
        };
        let body_end = matching_brace(tokens, body).unwrap_or(tokens.len());
        let prefix = &tokens[statement_start..i];
        let extern_c = scope.extern_c(prefix);
        let file = &unit.files[tokens[i].file];
        if extern_c
            && own_file(file)
            && let Some(return_words) = exported_return_type(prefix)
        {
            let function = host_function(
                &tokens[i],
                file,
                &return_words,
                &tokens[i + 2..close],
                &aliases,
                shared,
                &unit.files,
                marks,
            );
            out.warnings.extend(untyped_warning(&function));
            if !out.functions.iter().any(|seen| seen.name == function.name) {
                out.functions.push(function);
            }
        }
        // The body is skipped whole: its braces never reach the scope.
        i = body_end + 1;
        scope.statement_start = i;
    }
    out
}

/// The warning for a function without a Rust declaration, with its `file:line` and why.
pub(crate) fn untyped_warning(function: &HostFunction) -> Option<String> {
    let why = function.untyped.as_deref()?;
    Some(format!(
        "{}:{}: host function `{}` gets no Rust declaration: {why}",
        function.file, function.line, function.name
    ))
}

/// The index of the `{` that opens a function body after a parameter list, if the declarator
/// is a definition (skipping `noexcept`, `const`, attributes and a trailing return type).
fn body_start(tokens: &[Token<'_>], mut j: usize) -> Option<usize> {
    while let Some(token) = tokens.get(j) {
        match token.text {
            "{" => return Some(j),
            ";" | "," | "=" | ")" | "}" => return None,
            "(" => j = matching_paren(tokens, j)? + 1,
            _ => j += 1,
        }
    }
    None
}

/// The words of the return type (`void`, `unsigned int`, `float *`) when the declaration
/// before the name exports a host function: `extern "C"`, attributes other than `global` and
/// `device`, and `__host__` removed. `None` for kernels, device functions, `static` and
/// `inline` functions, templates and anything that is not a plain function declarator.
fn exported_return_type(prefix: &[Token<'_>]) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut k = 0;
    while k < prefix.len() {
        let text = prefix[k].text;
        if text == "__attribute__" {
            let close = matching_paren(prefix, k + 1)?;
            let inner: Vec<&str> = prefix[k + 1..close]
                .iter()
                .map(|token| token.text)
                .collect();
            if inner.contains(&"global") || inner.contains(&"device") {
                return None;
            }
            k = close + 1;
            continue;
        }
        if matches!(text, "__global__" | "__device__") || NOT_EXPORTED.contains(&text) {
            return None;
        }
        match text {
            "extern" | "\"C\"" | "__host__" => {}
            "(" | ")" | "<" | ">" | "::" | "=" | "," | "[" | "]" => return None,
            _ => words.push(text.to_owned()),
        }
        k += 1;
    }
    (!words.is_empty()).then_some(words)
}

#[allow(clippy::too_many_arguments)] // The pieces of one declaration, each from another place.
fn host_function(
    name: &Token<'_>,
    file: &str,
    return_words: &[String],
    param_tokens: &[Token<'_>],
    aliases: &TypeAliases,
    shared: &Registry,
    files: &[String],
    marks: &Marks,
) -> HostFunction {
    let c_return = render_words(return_words);
    let mut problems = Vec::new();
    let returns = match return_type(return_words) {
        Ok(returns) => returns,
        Err(why) => {
            problems.push(why);
            None
        }
    };
    let groups = split_top_level(param_tokens);
    let no_params = groups.is_empty()
        || (groups.len() == 1 && groups[0].len() == 1 && groups[0][0].text == "void");
    let mut params = Vec::new();
    if !no_params {
        for (index, group) in groups.iter().enumerate() {
            match host_param(name.text, group, index, aliases, shared, files, marks) {
                Ok(param) => params.push(param),
                Err(why) => problems.push(why),
            }
        }
    }
    let untyped = (!problems.is_empty()).then(|| problems.join("; "));
    if untyped.is_some() {
        params.clear();
    }
    HostFunction {
        name: name.text.to_owned(),
        file: file.to_owned(),
        line: name.line,
        c_return,
        returns,
        params,
        untyped,
    }
}

fn host_param(
    function: &str,
    group: &[Token<'_>],
    index: usize,
    aliases: &TypeAliases,
    shared: &Registry,
    files: &[String],
    marks: &Marks,
) -> Result<HostParam, String> {
    if let Some(param) = stream_param(group, index) {
        return Ok(param);
    }
    let param = parse_param(group, index, aliases, shared, files)?;
    if let Some(name) = param.ty.shared_type() {
        return Err(format!(
            "parameter `{}` has the shared type `{name}`, which host functions cannot take yet; \
             pass a pointer to it as `const void*`",
            param.name
        ));
    }
    // A mark on a parameter of another kind is left unapplied here: the library-wide check
    // (`library::functions`) reports every such mark as an error, with all functions in view.
    let ty = if Marks::matches(&marks.streams, function, &param.name)
        && HostParamType::can_carry_stream(&param.ty)
    {
        HostParamType::Stream(Some(param.ty))
    } else if Marks::matches(&marks.host_pointers, function, &param.name)
        && matches!(param.ty, ParamType::ConstPtr(_) | ParamType::MutPtr(_))
    {
        HostParamType::Host(param.ty)
    } else if Marks::matches(&marks.read_only, function, &param.name)
        && matches!(param.ty, ParamType::MutPtr(_))
    {
        HostParamType::ReadOnly(param.ty)
    } else {
        HostParamType::Device(param.ty)
    };
    Ok(HostParam {
        name: param.name,
        c_type: param.c_type,
        ty,
    })
}

/// `cudaStream_t stream`, `const CUstream s`: a stream handle by value.
fn stream_param(group: &[Token<'_>], index: usize) -> Option<HostParam> {
    let words: Vec<&str> = group
        .iter()
        .map(|token| token.text)
        .filter(|text| *text != "const")
        .collect();
    let (ty, name) = match words.as_slice() {
        [ty] => (*ty, format!("arg{index}")),
        [ty, name] if group.last().is_some_and(Token::is_ident) => (*ty, (*name).to_owned()),
        _ => return None,
    };
    STREAM_TYPES.contains(&ty).then(|| HostParam {
        name,
        c_type: ty.to_owned(),
        ty: HostParamType::Stream(None),
    })
}

/// `void` → `None`; a scalar → its type; anything else cannot be returned to Rust here.
fn return_type(words: &[String]) -> Result<Option<ParamType>, String> {
    let plain: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .filter(|word| *word != "const")
        .collect();
    let joined = plain.join(" ");
    if joined == "void" {
        return Ok(None);
    }
    match Scalar::from_c(&joined) {
        Some(scalar) => Ok(Some(ParamType::Value(ValueType::Scalar(scalar)))),
        None => Err(format!(
            "it returns `{}`; sasskit declares host functions that return `void` or one of C's \
             integer and floating-point types",
            render_words(words)
        )),
    }
}

/// `unsigned int`, `float*`.
fn render_words(words: &[String]) -> String {
    let mut out = String::new();
    for word in words {
        if word != "*" && !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests;
