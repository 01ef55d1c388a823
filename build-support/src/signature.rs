//! Kernel signatures from preprocessed CUDA source.
//!
//! The build runs `nvcc -E` with the same flags and defines as the real compilation, so kernels
//! that macros generate are found too. In nvcc's preprocessed output `__global__` reads
//! `__attribute__((global))`. A kernel is wrapped when it is defined (has a body) and is
//! `extern "C"`, by its own declaration or by an enclosing `extern "C" { … }` block. Kernels
//! with mangled names (C++ linkage, templates) cannot be looked up by name; they get a warning
//! that says how to expose them. A kernel with a parameter whose type cannot cross from Rust is
//! kept, untyped: it ships in the module and can be looked up by name.
//!
//! Sources guard kernels with `#if __CUDA_ARCH__ >= …`, so the build preprocesses once per
//! target architecture and [`merge`] records which targets define each kernel.

mod host;
mod params;
mod scope;
mod tokens;

use sasskit_core::kernel::KernelSignature;

pub(crate) use self::host::{Marks, extract_host_functions, untyped_warning};
use self::params::{TypeAliases, parse_params};
use self::scope::Scope;
pub(crate) use self::tokens::line_marker;
use self::tokens::{Token, tokenize};
use crate::shared::Registry;

/// What the source defines.
#[derive(Debug, Default)]
pub(crate) struct Extracted {
    /// `extern "C"` kernels, in source order, without duplicates; those whose parameters
    /// cannot all cross from Rust have `untyped` set. `targets` is empty until [`merge`].
    pub(crate) kernels: Vec<KernelSignature>,
    /// Kernels that cannot be wrapped, with the reason and the fix.
    pub(crate) warnings: Vec<String>,
    /// Kernels with C++ linkage (templates too), as warnings that say how to expose them. Kept
    /// apart from `warnings`: for a file whose host code launches its kernels they give way to
    /// one warning that points to the static-library mode.
    pub(crate) mangled: Vec<String>,
    /// Where the source launches a kernel from host code (`kernel<<<…>>>`): file and line.
    pub(crate) launches: Vec<(String, u32)>,
}

/// The kernels of one preprocessing pass, and the targets (`sm_90`, `compute_90`) it stands
/// for: the targets of one architecture.
#[derive(Debug)]
pub(crate) struct Pass {
    pub(crate) targets: Vec<String>,
    pub(crate) extracted: Extracted,
}

/// Merges the passes of one file, in target order: each kernel once, with the targets whose
/// pass defines it. A kernel whose signature differs between two architectures is an error
/// naming both, since one wrapper cannot launch both.
pub(crate) fn merge(passes: Vec<Pass>) -> Result<Extracted, String> {
    let mut merged = Extracted::default();
    for pass in passes {
        for warning in pass.extracted.warnings {
            if !merged.warnings.contains(&warning) {
                merged.warnings.push(warning);
            }
        }
        for warning in pass.extracted.mangled {
            if !merged.mangled.contains(&warning) {
                merged.mangled.push(warning);
            }
        }
        for launch in pass.extracted.launches {
            if !merged.launches.contains(&launch) {
                merged.launches.push(launch);
            }
        }
        for kernel in pass.extracted.kernels {
            match merged
                .kernels
                .iter_mut()
                .find(|seen| seen.name == kernel.name)
            {
                Some(seen) if seen.params == kernel.params && seen.untyped == kernel.untyped => {
                    seen.targets.extend(pass.targets.iter().cloned());
                }
                Some(seen) => {
                    return Err(format!(
                        "kernel `{}` has different signatures for different architectures: \
                         `{}` at {}:{} for {}, but `{}` at {}:{} for {}; one Rust wrapper cannot \
                         launch both: give the variants different names, or the same parameters",
                        kernel.name,
                        seen.c_declaration(),
                        seen.file,
                        seen.line,
                        seen.targets.join(", "),
                        kernel.c_declaration(),
                        kernel.file,
                        kernel.line,
                        pass.targets.join(", ")
                    ));
                }
                None => merged.kernels.push(KernelSignature {
                    targets: pass.targets.clone(),
                    ..kernel
                }),
            }
        }
    }
    Ok(merged)
}

/// Finds every kernel definition in preprocessed source; `shared` names the types that shared
/// headers generated Rust types for.
pub(crate) fn extract(preprocessed: &str, shared: &Registry) -> Extracted {
    let unit = tokenize(preprocessed);
    let tokens = &unit.tokens;
    let aliases = TypeAliases::collect(tokens);
    let mut out = Extracted::default();
    let mut scope = Scope::default();
    let mut i = 0;
    while i < tokens.len() {
        if !scope.step(tokens, i)
            && tokens[i].text == "<"
            && is_launch(preprocessed, tokens[i].text)
        {
            let site = (unit.files[tokens[i].file].clone(), tokens[i].line);
            if !out.launches.contains(&site) {
                out.launches.push(site);
            }
        }
        let Some(after) = global_attribute_end(tokens, i) else {
            i += 1;
            continue;
        };
        let prefix = &tokens[scope.statement_start..i];
        let extern_c = scope.extern_c(prefix);
        let is_template = prefix.iter().any(|token| token.text == "template");
        match declaration(tokens, after) {
            Some(decl) if decl.has_body => {
                let name_token = &tokens[decl.name];
                let file = unit.files[name_token.file].clone();
                let line = name_token.line;
                let name = name_token.text.to_owned();
                if is_template || !extern_c {
                    out.mangled
                        .push(not_extern_c_warning(&name, &file, line, is_template));
                } else if !out.kernels.iter().any(|kernel| kernel.name == name) {
                    match parse_params(
                        &tokens[decl.params_start..decl.params_end],
                        &aliases,
                        shared,
                        &unit.files,
                    ) {
                        Ok(params) => out.kernels.push(KernelSignature {
                            name,
                            file,
                            line,
                            params,
                            targets: Vec::new(),
                            untyped: None,
                        }),
                        Err(problems) => out.kernels.push(KernelSignature {
                            name,
                            file,
                            line,
                            params: Vec::new(),
                            targets: Vec::new(),
                            untyped: Some(problems.join("; ")),
                        }),
                    }
                }
                i = decl.params_end;
            }
            Some(decl) => i = decl.params_end,
            None => i = after,
        }
    }
    out
}

/// Whether the `<` token `text` (a slice of `source`) opens a launch's `<<<`, and is not the
/// second or third `<` of one.
fn is_launch(source: &str, text: &str) -> bool {
    let Some(offset) = (text.as_ptr() as usize).checked_sub(source.as_ptr() as usize) else {
        return false;
    };
    source
        .get(offset..)
        .is_some_and(|rest| rest.starts_with("<<<"))
        && source
            .get(..offset)
            .is_some_and(|before| !before.ends_with('<'))
}

fn not_extern_c_warning(name: &str, file: &str, line: u32, is_template: bool) -> String {
    if is_template {
        format!(
            "{file}:{line}: kernel template `{name}` gets no Rust wrapper: its instantiations have \
             mangled names; add an `extern \"C\" __global__` kernel per type that calls it"
        )
    } else {
        format!(
            "{file}:{line}: kernel `{name}` gets no Rust wrapper: it has C++ linkage, so its name \
             is mangled; declare it `extern \"C\" __global__` to wrap it"
        )
    }
}

/// If `tokens[i..]` starts `__attribute__((global))` (or a literal `__global__`), the index
/// after it.
fn global_attribute_end(tokens: &[Token<'_>], i: usize) -> Option<usize> {
    match tokens[i].text {
        "__global__" => return Some(i + 1),
        "__attribute__" => {}
        _ => return None,
    }
    let pattern = ["__attribute__", "(", "(", "global", ")", ")"];
    let window = tokens.get(i..i + pattern.len())?;
    window
        .iter()
        .zip(pattern)
        .all(|(token, want)| token.text == want)
        .then_some(i + pattern.len())
}

/// A function declarator found after the `global` attribute.
struct Declaration {
    name: usize,
    /// Tokens strictly between the parentheses.
    params_start: usize,
    params_end: usize,
    has_body: bool,
}

fn declaration(tokens: &[Token<'_>], mut i: usize) -> Option<Declaration> {
    loop {
        let token = tokens.get(i)?;
        match token.text {
            ";" | "{" | "}" => return None,
            "(" => {
                let name = i.checked_sub(1)?;
                if !tokens[name].is_ident() {
                    return None;
                }
                let close = matching_paren(tokens, i)?;
                let mut j = close + 1;
                while let Some(next) = tokens.get(j) {
                    match next.text {
                        "{" => {
                            return Some(Declaration {
                                name,
                                params_start: i + 1,
                                params_end: close,
                                has_body: true,
                            });
                        }
                        ";" => {
                            return Some(Declaration {
                                name,
                                params_start: i + 1,
                                params_end: close,
                                has_body: false,
                            });
                        }
                        "(" => j = matching_paren(tokens, j)? + 1,
                        _ => j += 1,
                    }
                }
                return None;
            }
            // Attributes and macros that take arguments: skip their parentheses.
            _ if token.text.starts_with("__")
                && tokens.get(i + 1).is_some_and(|next| next.text == "(") =>
            {
                i = matching_paren(tokens, i + 1)? + 1;
            }
            _ => i += 1,
        }
    }
}

pub(crate) fn matching_paren(tokens: &[Token<'_>], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (offset, token) in tokens.get(open..)?.iter().enumerate() {
        match token.text {
            "(" => depth += 1,
            ")" => {
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

#[cfg(test)]
mod tests;
