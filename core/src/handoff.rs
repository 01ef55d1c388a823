//! The TOML files the build hands to the macros (the module manifest, the shared-types
//! manifest): one reader that checks the format version, one error type.

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The largest handoff file read, checked before parsing: 4 MiB, some 25 000 kernels or host
/// functions, where the largest real manifests are under 100 KiB. TOML parsing takes about 48
/// times the text in memory, so this bounds a corrupt or crafted manifest to some 200 MiB.
pub const MAX_MANIFEST_SIZE: usize = 4 << 20;

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

impl ManifestError {
    /// The error for a `what` ("build manifest") of `len` bytes, over [`MAX_MANIFEST_SIZE`]:
    /// for readers that check a file's size before reading it.
    pub fn too_large(what: &str, len: u64) -> ManifestError {
        ManifestError {
            message: format!(
                "the sasskit {what} is {len} bytes, more than the {MAX_MANIFEST_SIZE} sasskit \
                 reads: it is corrupt or not sasskit's; rebuild it (for a prebuilt folder, \
                 `SASSKIT_PREBUILD=refresh`)"
            ),
        }
    }
}

/// A handoff file with a format version.
pub(crate) trait Versioned: DeserializeOwned + Serialize {
    /// What the file is, for messages: "build manifest".
    const WHAT: &'static str;
    /// The format this version writes and reads.
    const FORMAT: u32;
    /// The format the file says it has.
    fn format(&self) -> u32;
}

/// Parses `text`, refusing a text over [`MAX_MANIFEST_SIZE`] before parsing, and another
/// format version with the fix (same sasskit versions).
pub(crate) fn read<T: Versioned>(text: &str) -> Result<T, ManifestError> {
    if text.len() > MAX_MANIFEST_SIZE {
        return Err(ManifestError::too_large(T::WHAT, text.len() as u64));
    }
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
