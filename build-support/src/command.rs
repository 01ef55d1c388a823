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

    /// A command for this program with no arguments yet, in the environment of the build
    /// (the process's, with the build's overrides applied).
    #[allow(clippy::disallowed_methods)] // The one constructor of external commands.
    pub(crate) fn command(&self) -> Command {
        let mut command = Command::new(&self.path);
        for (name, value) in crate::env::Overrides::current().iter() {
            match value {
                Some(value) => command.env(name, value),
                None => command.env_remove(name),
            };
        }
        command
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
