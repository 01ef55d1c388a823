//! The process boundary of the tests: the one command constructor and the one environment
//! accessor (`clippy.toml` bans both elsewhere), and running a tool as a test step.

use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::process::{Command, Output};

/// A new command for `program`.
#[allow(
    clippy::disallowed_methods,
    reason = "this is the tests' one command constructor"
)]
pub fn command(program: impl AsRef<OsStr>) -> Command {
    Command::new(program)
}

/// Reads an environment variable; an empty value counts as unset.
#[allow(
    clippy::disallowed_methods,
    reason = "this is the tests' one environment accessor"
)]
pub fn env_var(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|value| !value.is_empty())
}

/// Runs `command` and returns its output, whatever its exit status.
///
/// # Panics
///
/// When the command cannot be started.
pub fn output(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|error| panic!("failed to start `{}`: {error}", describe(command)))
}

/// Runs `command` and returns its stdout.
///
/// # Panics
///
/// When the command cannot be started or exits with a non-zero status; the message holds the
/// full command line, the status and both output streams.
pub fn run(command: &mut Command) -> String {
    let output = output(command);
    assert!(output.status.success(), "{}", failure(command, &output));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A failure report for a finished command: command line, status, stdout and stderr.
pub fn failure(command: &Command, output: &Output) -> String {
    let mut message = format!("`{}` failed with {}", describe(command), output.status);
    for (name, bytes) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        if !text.trim().is_empty() {
            let _ = write!(message, "\n--- {name}\n{}", text.trim_end());
        }
    }
    message
}

/// The command as a shell line.
pub fn describe(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|word| word.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}
