//! Why a fat binary could not be read.

use std::fmt;

use super::image::Compression;

/// A fat binary that is corrupt, truncated or of a layout this parser does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FatbinError {
    offset: usize,
    kind: FatbinErrorKind,
}

/// What was wrong, with the values that were found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FatbinErrorKind {
    /// Fewer bytes than a header needs.
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Bytes needed from the offset.
        needed: u64,
        /// Bytes available from the offset.
        available: u64,
    },
    /// The first four bytes are not `50 ed 55 ba`.
    BadMagic {
        /// The little-endian `u32` found instead.
        found: u32,
    },
    /// A container version other than 1.
    UnsupportedVersion {
        /// The version found.
        found: u16,
    },
    /// A header size field smaller than the fields it must hold.
    BadHeaderSize {
        /// What was being read.
        what: &'static str,
        /// The size found.
        found: u64,
    },
    /// A size field that points past the end of the data.
    OutOfBounds {
        /// What was being read.
        what: &'static str,
        /// The end the size field implies.
        end: u64,
        /// The end of the data.
        limit: u64,
    },
    /// An entry flagged both arch-specific (`a`) and family-specific (`f`).
    ConflictingVariants {
        /// The entry flags.
        flags: u64,
    },
    /// Non-zero bytes after the last entry of a container.
    TrailingData {
        /// How many bytes follow the last entry.
        len: u64,
    },
    /// A compressed image whose header records a decompressed size above the ceiling
    /// ([`DEFAULT_MAX_IMAGE_SIZE`](super::DEFAULT_MAX_IMAGE_SIZE) unless set otherwise).
    TooLarge {
        /// The decompressed size the header records.
        size: u64,
        /// The ceiling.
        limit: u64,
    },
    /// A compressed payload that does not decompress to the size its header records.
    Decompress {
        /// How the payload is compressed.
        compression: Compression,
        /// What went wrong.
        detail: String,
    },
}

impl FatbinError {
    pub(crate) fn new(offset: usize, kind: FatbinErrorKind) -> FatbinError {
        FatbinError { offset, kind }
    }

    /// Byte offset, in the data given to the parser, where the problem was found.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// What was wrong.
    pub fn kind(&self) -> &FatbinErrorKind {
        &self.kind
    }
}

impl fmt::Display for FatbinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "corrupt fat binary at byte {:#x}: ", self.offset)?;
        match &self.kind {
            FatbinErrorKind::Truncated {
                what,
                needed,
                available,
            } => {
                write!(
                    f,
                    "{what} needs {needed} bytes but only {available} remain (truncated)"
                )
            }
            FatbinErrorKind::BadMagic { found } => {
                write!(
                    f,
                    "expected the magic number 0xba55ed50, found {found:#010x}"
                )
            }
            FatbinErrorKind::UnsupportedVersion { found } => {
                write!(f, "container version {found} is not supported (expected 1)")
            }
            FatbinErrorKind::BadHeaderSize { what, found } => {
                write!(f, "{what} size {found} is too small")
            }
            FatbinErrorKind::OutOfBounds { what, end, limit } => {
                write!(
                    f,
                    "{what} ends at byte {end:#x}, past the end of the data at {limit:#x}"
                )
            }
            FatbinErrorKind::ConflictingVariants { flags } => {
                write!(f, "entry flags {flags:#x} mark it both `a` and `f`")
            }
            FatbinErrorKind::TrailingData { len } => {
                write!(f, "{len} unexpected bytes after the last entry")
            }
            FatbinErrorKind::TooLarge { size, limit } => {
                return write!(
                    f,
                    "the entry decompresses to {size} bytes, more than the {limit} sasskit \
                     decompresses; set SASSKIT_MAX_IMAGE_SIZE (bytes) above {size} if the \
                     image is genuine"
                );
            }
            FatbinErrorKind::Decompress {
                compression,
                detail,
            } => write!(
                f,
                "the {compression} payload of the entry is corrupt: {detail}"
            ),
        }?;
        f.write_str("; rebuild the fat binary, or report a sasskit bug if nvcc produced it")
    }
}

impl std::error::Error for FatbinError {}
