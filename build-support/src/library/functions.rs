//! The host functions of a whole library: each name once across its files, and every
//! `StaticLibrary::host_pointer` matched to a pointer parameter.

use sasskit_core::kernel::ParamType;
use sasskit_core::library::{HostFunction, HostParamType};

use super::object::Built;
use crate::error::{Error, ErrorKind};

/// Every object's functions in file order. Two files that define one symbol would fail at link
/// time with a message that names neither; this names both.
pub(super) fn merge(
    objects: &[Built],
    host_pointers: &[(String, String)],
) -> Result<Vec<HostFunction>, Error> {
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
    for (function, parameter) in host_pointers {
        check_host_pointer(&functions, function, parameter)?;
    }
    Ok(functions)
}

/// `StaticLibrary::host_pointer(function, parameter)` must name a pointer parameter of a
/// function of the library.
fn check_host_pointer(
    functions: &[HostFunction],
    function: &str,
    parameter: &str,
) -> Result<(), Error> {
    let call = format!("`StaticLibrary::host_pointer(\"{function}\", \"{parameter}\")`");
    let Some(found) = functions.iter().find(|f| f.name == function) else {
        let names: Vec<&str> = functions.iter().map(|f| f.name.as_str()).collect();
        return Err(Error::config(format!(
            "{call} names no host function of the library: it defines [{}]",
            names.join(", ")
        )));
    };
    if found.untyped.is_some() {
        // Its warning already says why it has no declaration.
        return Ok(());
    }
    let pointer = found.params.iter().find(|p| p.name == parameter);
    if let Some(HostParamType::Host(ParamType::ConstPtr(_) | ParamType::MutPtr(_))) =
        pointer.map(|p| &p.ty)
    {
        return Ok(());
    }
    let pointers: Vec<&str> = found
        .params
        .iter()
        .filter(|p| matches!(p.ty, HostParamType::Host(_)) || p.ty.is_device_pointer())
        .map(|p| p.name.as_str())
        .collect();
    Err(Error::config(format!(
        "{call}: `{function}` ({}:{}) has no pointer parameter `{parameter}`; its pointer \
         parameters are [{}]",
        found.file,
        found.line,
        pointers.join(", ")
    )))
}
