//! The one place that builds commands for external programs.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// An external program and how to start it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tool {
    path: PathBuf,
}

impl Tool {
    pub(crate) fn new(path: impl Into<PathBuf>) -> Tool {
        Tool { path: path.into() }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// A command for this program with no arguments yet.
    #[allow(clippy::disallowed_methods)] // The one constructor of external commands.
    pub(crate) fn command(&self) -> Command {
        Command::new(&self.path)
    }
}

/// Renders a command line for messages, quoting arguments that hold spaces.
pub(crate) fn display(command: &Command) -> String {
    let quote = |part: &OsStr| {
        let part = part.to_string_lossy();
        if part.contains(' ') {
            format!("'{part}'")
        } else {
            part.into_owned()
        }
    };
    std::iter::once(quote(command.get_program()))
        .chain(command.get_args().map(quote))
        .collect::<Vec<_>>()
        .join(" ")
}
