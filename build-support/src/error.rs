//! The build's error type.

use std::fmt;
use std::path::PathBuf;

/// Why a build failed; its `Display` is the whole message, ready for the user.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
}

#[derive(Debug)]
pub(crate) enum ErrorKind {
    /// A setting (builder, env var or metadata key) that could not be used.
    Config(String),
    /// No nvcc was found.
    NvccNotFound(String),
    /// nvcc was found but cannot build a requested target.
    NvccTooOld(String),
    /// bindgen needs libclang, and none was found.
    #[cfg_attr(not(feature = "bindgen"), allow(dead_code))]
    LibclangNotFound(String),
    /// nvcc ran and failed.
    Compile(String),
    /// A kernel signature that cannot be wrapped.
    Signature(String),
    /// bindgen could not read a shared header.
    #[cfg_attr(not(feature = "bindgen"), allow(dead_code))]
    Header(String),
    /// A shared type that host and device lay out differently.
    Layout(String),
    /// The produced fat binary is not what was asked for.
    Verify(String),
    /// The crate's prebuilt folder is stale where it must be current.
    Prebuilt(String),
    /// sasskit's own bug: a state its code should never reach. The message says what happened.
    Internal(String),
    /// A file could not be read or written.
    Io {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },
    /// A program could not be run.
    Spawn {
        program: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Error {
        Error { kind }
    }

    /// sasskit's own bug: `what` happened, which its code should never allow.
    pub(crate) fn internal(what: impl fmt::Display) -> Error {
        Error::new(ErrorKind::Internal(format!(
            "{what}; this is a sasskit bug, please report it with the build's output"
        )))
    }

    pub(crate) fn config(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Config(message.into()))
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Error {
        Error::new(ErrorKind::Io {
            path: path.into(),
            action,
            source,
        })
    }

    /// Whether the error is about a setting (arch list, env var, metadata).
    pub fn is_config(&self) -> bool {
        matches!(self.kind, ErrorKind::Config(_))
    }

    /// Whether nvcc could not be found, or cannot build a requested target, or bindgen's
    /// libclang could not be found.
    pub fn is_toolkit(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::NvccNotFound(_) | ErrorKind::NvccTooOld(_) | ErrorKind::LibclangNotFound(_)
        )
    }

    /// Whether nvcc failed to compile a source file.
    pub fn is_compile(&self) -> bool {
        matches!(self.kind, ErrorKind::Compile(_))
    }

    /// Whether a kernel signature could not be wrapped, or differs from the compiled code.
    pub fn is_signature(&self) -> bool {
        matches!(self.kind, ErrorKind::Signature(_))
    }

    /// Whether bindgen could not read a shared header (clang's message with file:line:col).
    pub fn is_header(&self) -> bool {
        matches!(self.kind, ErrorKind::Header(_))
    }

    /// Whether a shared type is laid out differently on the host (bindgen) and the device
    /// (nvcc).
    pub fn is_layout(&self) -> bool {
        matches!(self.kind, ErrorKind::Layout(_))
    }

    /// Whether a fat binary (built, cached or previous) is not what was asked for or cannot be
    /// read.
    pub fn is_verify(&self) -> bool {
        matches!(self.kind, ErrorKind::Verify(_))
    }

    /// Whether the crate's prebuilt folder is stale where it must be current: with no nvcc to
    /// build instead, or under `SASSKIT_PREBUILD=check`.
    pub fn is_prebuilt(&self) -> bool {
        matches!(self.kind, ErrorKind::Prebuilt(_))
    }

    /// Whether the build hit a bug of sasskit's own (a state its code should never reach),
    /// not a problem with the crate, its settings or the toolkit.
    pub fn is_internal(&self) -> bool {
        matches!(self.kind, ErrorKind::Internal(_))
    }

    /// Whether a file could not be read or written, or a program not started.
    pub fn is_io(&self) -> bool {
        matches!(self.kind, ErrorKind::Io { .. } | ErrorKind::Spawn { .. })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Config(message)
            | ErrorKind::NvccNotFound(message)
            | ErrorKind::NvccTooOld(message)
            | ErrorKind::LibclangNotFound(message)
            | ErrorKind::Compile(message)
            | ErrorKind::Signature(message)
            | ErrorKind::Header(message)
            | ErrorKind::Layout(message)
            | ErrorKind::Verify(message)
            | ErrorKind::Prebuilt(message)
            | ErrorKind::Internal(message) => f.write_str(message),
            ErrorKind::Io {
                path,
                action,
                source,
            } => {
                write!(f, "failed to {action} `{}`: {source}", path.display())
            }
            ErrorKind::Spawn { program, source } => {
                write!(f, "failed to run `{}`: {source}", program.display())
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Io { source, .. } | ErrorKind::Spawn { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The value, or, for a build script that cannot go on, the error and its causes on stderr and
/// exit status 1: what `compile` does where `try_compile` returns the error.
pub(crate) fn or_exit<T>(result: Result<T, Error>) -> T {
    match result {
        Ok(value) => value,
        Err(error) => {
            eprintln!("error: {error}");
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                eprintln!("caused by: {cause}");
                source = cause.source();
            }
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Error;

    #[test]
    fn an_internal_error_says_it_is_sasskits_bug_and_is_no_other_kind() {
        let error = Error::internal("a file was finished twice");
        assert!(error.is_internal());
        assert!(!error.is_verify() && !error.is_config() && !error.is_io());
        assert_eq!(
            error.to_string(),
            "a file was finished twice; this is a sasskit bug, please report it with the \
             build's output"
        );
    }
}
