//! The TOML files the build hands to the macros (the module manifest, the shared-types
//! manifest): one reader that checks the format version, one error type.

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A manifest that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    message: String,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ManifestError {}

/// A handoff file with a format version.
pub(crate) trait Versioned: DeserializeOwned + Serialize {
    /// What the file is, for messages: "build manifest".
    const WHAT: &'static str;
    /// The format this version writes and reads.
    const FORMAT: u32;
    /// The format the file says it has.
    fn format(&self) -> u32;
}

/// Parses `text`, refusing another format version with the fix (same sasskit versions).
pub(crate) fn read<T: Versioned>(text: &str) -> Result<T, ManifestError> {
    let value: T = toml::from_str(text).map_err(|error| ManifestError {
        message: format!("the sasskit {} is not valid: {error}", T::WHAT),
    })?;
    if value.format() != T::FORMAT {
        return Err(ManifestError {
            message: format!(
                "the sasskit {} has format {}, this sasskit reads format {}; `sasskit` and \
                 `sasskit-build` must be the same version",
                T::WHAT,
                value.format(),
                T::FORMAT
            ),
        });
    }
    Ok(value)
}

/// Writes `value` as TOML.
///
/// # Panics
///
/// Never in practice: the handoff files hold only strings, integers, arrays and tables, which
/// TOML always represents.
pub(crate) fn write<T: Versioned>(value: &T) -> String {
    toml::to_string(value).expect("a sasskit manifest holds only strings, numbers and tables")
}
