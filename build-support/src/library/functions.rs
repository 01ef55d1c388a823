//! The host functions of a whole library: each name once across its files, and every
//! `StaticLibrary::host_pointer` and `stream_parameter` matched to a parameter of its kind.

use sasskit_core::kernel::{ParamType, ValueType};
use sasskit_core::library::{HostFunction, HostParamType};

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
    for (function, parameter) in &marks.host_pointers {
        check_mark(&functions, function, parameter, Mark::HostPointer)?;
    }
    for (function, parameter) in &marks.streams {
        check_mark(&functions, function, parameter, Mark::Stream)?;
    }
    Ok(functions)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    HostPointer,
    Stream,
}

/// A mark must name a parameter of its kind in the function it names (in some function, for
/// `*`); functions without a declaration have their own warning.
fn check_mark(
    functions: &[HostFunction],
    function: &str,
    parameter: &str,
    mark: Mark,
) -> Result<(), Error> {
    let (call, kind) = match mark {
        Mark::HostPointer => ("host_pointer", "pointer"),
        Mark::Stream => ("stream_parameter", "`void*`"),
    };
    let call = format!("`StaticLibrary::{call}(\"{function}\", \"{parameter}\")`");
    let named: Vec<&HostFunction> = functions
        .iter()
        .filter(|f| function == "*" || f.name == function)
        .collect();
    if named.is_empty() {
        let defined: Vec<&str> = functions.iter().map(|f| f.name.as_str()).collect();
        return Err(Error::config(format!(
            "{call} names no host function of the library: it defines [{}]",
            defined.join(", ")
        )));
    }
    if named.iter().any(|f| f.untyped.is_some()) && function != "*" {
        return Ok(());
    }
    let marked = named.iter().any(|f| {
        f.params.iter().any(|p| {
            p.name == parameter
                && match mark {
                    Mark::HostPointer => matches!(p.ty, HostParamType::Host(_)),
                    Mark::Stream => p.ty == HostParamType::Stream,
                }
        })
    });
    if marked {
        return Ok(());
    }
    let candidates: Vec<&str> = named
        .iter()
        .flat_map(|f| &f.params)
        .filter(|p| match mark {
            Mark::HostPointer => matches!(p.ty, HostParamType::Host(_)) || p.ty.is_device_pointer(),
            Mark::Stream => matches!(
                p.ty,
                HostParamType::Device(
                    ParamType::MutPtr(ValueType::Void) | ParamType::ConstPtr(ValueType::Void)
                )
            ),
        })
        .map(|p| p.name.as_str())
        .collect();
    let place = if function == "*" {
        "no function".to_owned()
    } else {
        let found = named[0];
        format!("`{function}` ({}:{}) has no", found.file, found.line)
    };
    Err(Error::config(format!(
        "{call}: {place} {kind} parameter `{parameter}`; the {kind} parameters are [{}]",
        candidates.join(", ")
    )))
}
