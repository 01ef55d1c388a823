//! NVIDIA fat binary containers: a defensive parser, a scanner for containers embedded in larger
//! files, and the SASS-only filter the runtime loads.
//!
//! NVIDIA does not publish this format; the layout below was measured on nvcc 13.0 and 13.5
//! output and is cross-checked against `cuobjdump` by the golden tests in `tests/`.
//!
//! ```text
//! container header, 16 bytes, little-endian
//!   0x00 u32 magic 0xBA55ED50   0x04 u16 version = 1   0x06 u16 header size = 16
//!   0x08 u64 size of all entries that follow
//! entry header, at least 64 bytes, then the payload
//!   0x00 u16 kind: 1 PTX, 2 ELF (SASS), 8 LTO-IR, 0x100 concatenated; others are skipped
//!   0x02 u16 entry format, 0x0101
//!   0x04 u32 header size (offset of the payload from the entry start)
//!   0x08 u64 payload size, padded to 8; the next entry starts at entry + header + payload
//!   0x10 u32 compressed size (0 when stored raw)
//!   0x14 u32 offset of an options descriptor inside the header (0 if none)
//!   0x18 u16 minor, 0x1a u16 major: PTX ISA version for PTX, code version for ELF
//!   0x1c u32 SM number without suffix (90, 100, 121)
//!   0x20 u32 name offset, 0x24 u32 name length
//!   0x28 u64 flags: 0x2000 LZ4, 0x8000 ZSTD, 0x100000 `a` target, 0x200000 `f` target
//!   0x30 u64 reserved
//!   0x38 u64 uncompressed size (0 when stored raw)
//! ```
//!
//! Every read is bounds-checked: bad input gives a [`FatbinError`], never a panic.

mod contents;
mod decompress;
mod error;
mod image;
mod parse;
mod scan;

pub use contents::DEFAULT_MAX_IMAGE_SIZE;
pub use error::{FatbinError, FatbinErrorKind};
pub use image::{Compression, Image, ImageKind};
pub use parse::{CONTAINER_HEADER_SIZE, FatBinary, MAGIC};
pub use scan::{Found, find_fat_binaries};

#[cfg(test)]
mod tests;
