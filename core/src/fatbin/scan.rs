//! Finding fat binaries embedded in a larger file: an executable, a shared library, an object.
//!
//! The scan does not parse ELF: a Rust binary embeds sasskit's fat binaries in `.rodata`, nvcc's
//! host objects put them in `.nv_fatbin`, and either may hold several containers back to back.
//! A candidate is a 16-byte container header (magic, version 1, header size 16) followed by an
//! entry header whose format field reads `0x0101`. A candidate that passes this test but fails
//! to parse is reported as corrupt; eight bytes that merely look like a magic number, as in the
//! machine code of a parser, are not candidates.
//!
//! The scan is linear in the file: a container that parses is skipped whole, and a candidate
//! that does not resumes the scan where its parse failed, not one byte after its start, so that
//! no entry chain is walked twice (containers hidden inside the entries of a corrupt candidate
//! are not looked for; the corrupt candidate is reported).

use super::error::FatbinError;
use super::parse::{CONTAINER_HEADER_SIZE, FatBinary, MAGIC};

const ENTRY_FORMAT: u16 = 0x0101;

/// A fat binary container found in a larger file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found<'a> {
    /// Offset of the container in the file.
    pub offset: usize,
    /// The parsed container, or why it could not be parsed.
    pub result: Result<FatBinary<'a>, FatbinError>,
}

/// Every fat binary container in `data`, in file order.
pub fn find_fat_binaries(data: &[u8]) -> Vec<Found<'_>> {
    let magic = MAGIC.to_le_bytes();
    let mut found = Vec::new();
    let mut offset = 0;
    while let Some(pos) = find(&data[offset..], &magic) {
        let start = offset + pos;
        if !is_candidate(&data[start..]) {
            offset = start + 1;
            continue;
        }
        let result = FatBinary::parse_prefix(&data[start..], start);
        offset = match &result {
            Ok(fatbin) => start + fatbin.as_bytes().len(),
            // Error offsets count from the start of `data`, and are past `start`.
            Err(error) => error.offset().max(start + 1),
        };
        found.push(Found {
            offset: start,
            result,
        });
    }
    found
}

fn is_candidate(data: &[u8]) -> bool {
    let Some(header) = data.get(..CONTAINER_HEADER_SIZE + 4) else {
        return false;
    };
    let version = u16::from_le_bytes([header[4], header[5]]);
    let header_size = u16::from_le_bytes([header[6], header[7]]);
    let entry_format = u16::from_le_bytes([header[18], header[19]]);
    version == 1
        && usize::from(header_size) == CONTAINER_HEADER_SIZE
        && entry_format == ENTRY_FORMAT
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
