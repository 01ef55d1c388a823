//! The host functions of a whole library: each name once across its files, and every
//! `StaticLibrary::host_pointer`, `stream_parameter` and `read_only` matched to a parameter of
//! its kind.

use sasskit_core::kernel::ParamType;
use sasskit_core::library::{HostFunction, HostParam, HostParamType};

use super::object::Built;
use crate::error::{Error, ErrorKind};
use crate::signature::Marks;

/// Every object's functions in file order. Two files that define one symbol would fail at link
/// time with a message that names neither; this names both.
pub(super) fn merge(objects: &[Built], marks: &Marks) -> Result<Vec<HostFunction>, Error> {
    let mut functions: Vec<HostFunction> = Vec::new();
    for function in objects.iter().flat_map(|built| &built.functions) {
        if let Some(seen) = functions.iter().find(|seen| seen.name == function.name) {
            return Err(Error::new(ErrorKind::Signature(format!(
                "the host function `{}` is defined twice, at {}:{} and at {}:{}; a static library \
                 can hold each `extern \"C\"` symbol once: rename one, or make it `static`",
                function.name, seen.file, seen.line, function.file, function.line
            ))));
        }
        functions.push(function.clone());
    }
    check_marks(&functions, marks)?;
    Ok(functions)
}

/// A warning for each parameter that looks like a stream (`stream`, `cuda_stream`, `strm`…)
/// passed as `void*` or a 64-bit integer without a `stream_parameter` mark: its wrapper would
/// take a context and a raw value, and record the buffers' use on the context's default stream
/// while the work runs on another.
pub(super) fn unmarked_streams(functions: &[HostFunction]) -> Vec<String> {
    let mut warnings = Vec::new();
    for function in functions.iter().filter(|f| f.untyped.is_none()) {
        for param in &function.params {
            let HostParamType::Device(ty) = &param.ty else {
                continue;
            };
            let lower = param.name.to_ascii_lowercase();
            if HostParamType::can_carry_stream(ty) && (lower.contains("stream") || lower == "strm")
            {
                warnings.push(format!(
                    "{}:{}: parameter `{}` of host function `{}` has the type `{}` and the name of \
                     a stream, but is passed as a plain value: if it is a `cudaStream_t`, mark it \
                     with `.stream_parameter(\"{}\", \"{}\")` (or `(\"*\", \"{}\")` for every \
                     function), and the wrapper takes a `&CudaStream`",
                    function.file,
                    function.line,
                    param.name,
                    function.name,
                    param.c_type,
                    function.name,
                    param.name,
                    param.name
                ));
            }
        }
    }
    warnings
}

/// Every mark of the crate against the functions: the first that matches nothing, or a
/// parameter of another kind, as an error.
pub(crate) fn check_marks(functions: &[HostFunction], marks: &Marks) -> Result<(), Error> {
    let lists = [
        (Mark::HostPointer, &marks.host_pointers),
        (Mark::Stream, &marks.streams),
        (Mark::ReadOnly, &marks.read_only),
    ];
    for (mark, list) in lists {
        for (function, parameter) in list {
            check_mark(functions, function, parameter, mark)?;
        }
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    HostPointer,
    Stream,
    ReadOnly,
}

impl Mark {
    /// The builder method that makes the mark.
    fn method(self) -> &'static str {
        match self {
            Mark::HostPointer => "host_pointer",
            Mark::Stream => "stream_parameter",
            Mark::ReadOnly => "read_only",
        }
    }

    /// What the mark declares a parameter to be.
    fn what(self) -> &'static str {
        match self {
            Mark::HostPointer => "a host pointer",
            Mark::Stream => "a stream",
            Mark::ReadOnly => "a read-only device pointer",
        }
    }

    /// The C types the mark accepts.
    fn accepted(self) -> &'static str {
        match self {
            Mark::HostPointer => "a pointer (`T*` or `const T*`)",
            Mark::Stream => {
                "`void*`, `int64_t`, `uint64_t`, `intptr_t` or `uintptr_t` (`cudaStream_t` needs \
                 no mark)"
            }
            Mark::ReadOnly => "a device pointer (`T*`; `const T*` is read-only already)",
        }
    }

    /// Whether the extraction applied the mark to `param`; a `cudaStream_t` is a stream
    /// already.
    fn applied(self, param: &HostParam) -> bool {
        match self {
            Mark::HostPointer => matches!(param.ty, HostParamType::Host(_)),
            Mark::Stream => param.ty.is_stream(),
            // `const T*` is read-only already, so `read_only("*", …)` may reach it too.
            Mark::ReadOnly => matches!(
                param.ty,
                HostParamType::ReadOnly(_) | HostParamType::Device(ParamType::ConstPtr(_))
            ),
        }
    }
}

/// A mark must name a function of the library (any function, for `*`), and a parameter of
/// that name whose C type the mark accepts in every function that has one. Functions without a
/// declaration have their own warning and are not checked.
fn check_mark(
    functions: &[HostFunction],
    function: &str,
    parameter: &str,
    mark: Mark,
) -> Result<(), Error> {
    let call = format!(
        "`StaticLibrary::{}(\"{function}\", \"{parameter}\")`",
        mark.method()
    );
    let every = function == "*";
    let named: Vec<&HostFunction> = functions
        .iter()
        .filter(|f| every || f.name == function)
        .collect();
    if named.is_empty() {
        let defined: Vec<&str> = functions.iter().map(|f| f.name.as_str()).collect();
        let found = if every {
            "the library defines no host function".to_owned()
        } else {
            format!(
                "the library defines no host function `{function}`; it defines [{}]",
                defined.join(", ")
            )
        };
        return Err(Error::config(format!(
            "{call} matches nothing: {found}; fix the function name, or remove the call"
        )));
    }
    let typed: Vec<&HostFunction> = named
        .iter()
        .copied()
        .filter(|f| f.untyped.is_none())
        .collect();
    if typed.is_empty() {
        return Ok(());
    }
    let mut matched = false;
    for f in &typed {
        let Some(param) = f.params.iter().find(|p| p.name == parameter) else {
            continue;
        };
        if !mark.applied(param) {
            return Err(Error::config(format!(
                "{call} marks the parameter `{parameter}` of `{}` ({}:{}) as {}, but its type is \
                 `{}`; the mark takes {}: change the C type, or remove the call",
                f.name,
                f.file,
                f.line,
                mark.what(),
                param.c_type,
                mark.accepted()
            )));
        }
        matched = true;
    }
    if matched {
        return Ok(());
    }
    let found = if every {
        "no host function of the library has a parameter of that name".to_owned()
    } else {
        let f = typed[0];
        let params: Vec<&str> = f.params.iter().map(|p| p.name.as_str()).collect();
        format!(
            "`{function}` ({}:{}) has no parameter `{parameter}`; its parameters are [{}]",
            f.file,
            f.line,
            params.join(", ")
        )
    };
    Err(Error::config(format!(
        "{call} matches nothing: {found}; fix the parameter name, or remove the call"
    )))
}

#[cfg(test)]
mod tests;
