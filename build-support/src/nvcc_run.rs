//! Running nvcc and reading what it did: the one place that turns a finished nvcc process into
//! bytes, text, warnings or a compile error naming the file and the command, for the fat-binary
//! compiles (`compile`), a static library's objects (`library::object`) and the layout probes
//! (`compile::layout_check`).

use std::path::Path;
use std::process::{Command, Output};

use crate::command::display;
use crate::error::{Error, ErrorKind};
use crate::toolkit::Nvcc;
use crate::{diagnostics, fs};

/// Runs `command` (nvcc, or a launcher in front of it) and waits for it; an error only when it
/// cannot be started.
pub(crate) fn run(command: &mut Command, nvcc: &Nvcc) -> Result<Output, Error> {
    command.output().map_err(|source| {
        Error::new(ErrorKind::Spawn {
            program: nvcc.tool.path().to_owned(),
            source,
        })
    })
}

/// The error for an nvcc run on `source` that failed: its messages as `file:line`, the exit
/// status and the command.
pub(crate) fn compile_error(source: &str, command: &Command, output: &Output) -> Error {
    let mut lines = diagnostics::normalize(&String::from_utf8_lossy(&output.stderr));
    lines.extend(diagnostics::normalize(&String::from_utf8_lossy(
        &output.stdout,
    )));
    Error::new(ErrorKind::Compile(format!(
        "nvcc failed to compile `{source}` ({}):\n  {}\ncommand: {}",
        output.status,
        lines.join("\n  "),
        display(command)
    )))
}

/// What an nvcc run that wrote a file left: the file's bytes and nvcc's messages.
#[derive(Debug)]
pub(crate) struct Written {
    pub(crate) bytes: Vec<u8>,
    pub(crate) stderr: Vec<u8>,
}

/// Runs `command`, which compiles `source` into `output_file`, and reads that file, which is
/// removed in any case; `stderr` rewrites nvcc's messages before anything reads them (a
/// launched nvcc names the source its own way). A failed run is the compile error for `source`.
pub(crate) fn run_to_file(
    command: &mut Command,
    nvcc: &Nvcc,
    output_file: &Path,
    source: &Path,
    stderr: impl FnOnce(Vec<u8>) -> Vec<u8>,
) -> Result<Written, Error> {
    let output = run(command, nvcc).map(|mut output| {
        output.stderr = stderr(std::mem::take(&mut output.stderr));
        output
    });
    let bytes = match &output {
        Ok(output) if output.status.success() => fs::read(output_file),
        Ok(output) => Err(compile_error(
            &source.display().to_string(),
            command,
            output,
        )),
        Err(_) => Ok(Vec::new()),
    };
    let _ = std::fs::remove_file(output_file);
    let output = output?;
    Ok(Written {
        bytes: bytes?,
        stderr: output.stderr,
    })
}

/// Runs `command`, an `nvcc -E` of `source`, and returns the preprocessed text; a failed run is
/// the compile error for `source`.
pub(crate) fn preprocessed(
    command: &mut Command,
    nvcc: &Nvcc,
    source: &Path,
) -> Result<String, Error> {
    let output = run(command, nvcc)?;
    if !output.status.success() {
        return Err(compile_error(
            &source.display().to_string(),
            command,
            &output,
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
