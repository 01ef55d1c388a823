//! Reading one container and its entries.

use super::error::{FatbinError, FatbinErrorKind};
use super::image::{Compression, FLAG_LZ4, FLAG_ZSTD, Image, ImageKind};
use crate::arch::Arch;
use crate::le::{u16_at, u32_at, u64_at};

/// The container magic number, `50 ed 55 ba` in the file.
pub const MAGIC: u32 = 0xBA55_ED50;
/// Size of the container header.
pub const CONTAINER_HEADER_SIZE: usize = 16;
const ENTRY_HEADER_MIN: usize = 64;

/// One parsed fat binary container: its bytes and the images it lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FatBinary<'a> {
    bytes: &'a [u8],
    images: Vec<Image>,
}

impl<'a> FatBinary<'a> {
    /// Parses data that holds exactly one container, such as the output of `nvcc --fatbin`.
    pub fn parse(data: &'a [u8]) -> Result<FatBinary<'a>, FatbinError> {
        let fatbin = FatBinary::parse_prefix(data, 0)?;
        let rest = &data[fatbin.bytes.len()..];
        if rest.is_empty() {
            Ok(fatbin)
        } else {
            Err(FatbinError::new(
                fatbin.bytes.len(),
                FatbinErrorKind::TrailingData {
                    len: rest.len() as u64,
                },
            ))
        }
    }

    /// Parses every container of data that holds one or more back to back, as a `.nv_fatbin`
    /// section does.
    pub fn parse_all(data: &'a [u8]) -> Result<Vec<FatBinary<'a>>, FatbinError> {
        let mut containers = Vec::new();
        let mut offset = 0;
        while offset < data.len() {
            let fatbin = FatBinary::parse_prefix(&data[offset..], offset)?;
            offset += fatbin.bytes.len();
            containers.push(fatbin);
        }
        Ok(containers)
    }

    /// Parses the container at the start of `data`; bytes after it are ignored. `base` is added
    /// to every offset in errors.
    pub(crate) fn parse_prefix(data: &'a [u8], base: usize) -> Result<FatBinary<'a>, FatbinError> {
        let err = |offset: usize, kind| FatbinError::new(base + offset, kind);
        let header = field(data, 0, CONTAINER_HEADER_SIZE, "container header")
            .map_err(|kind| err(0, kind))?;
        let magic = u32_at(header, 0);
        if magic != MAGIC {
            return Err(err(0, FatbinErrorKind::BadMagic { found: magic }));
        }
        let version = u16_at(header, 4);
        if version != 1 {
            return Err(err(
                4,
                FatbinErrorKind::UnsupportedVersion { found: version },
            ));
        }
        let header_size = usize::from(u16_at(header, 6));
        if header_size < CONTAINER_HEADER_SIZE {
            return Err(err(
                6,
                FatbinErrorKind::BadHeaderSize {
                    what: "container header",
                    found: header_size as u64,
                },
            ));
        }
        let fat_size = u64_at(header, 8);
        let end = (header_size as u64).saturating_add(fat_size);
        if end > data.len() as u64 {
            return Err(err(
                8,
                FatbinErrorKind::OutOfBounds {
                    what: "container",
                    end: (base as u64).saturating_add(end),
                    limit: (base + data.len()) as u64,
                },
            ));
        }
        // `end` fits in usize: it is at most data.len().
        let bytes = &data[..end as usize];
        let mut images = Vec::new();
        let mut offset = header_size;
        while bytes.len() - offset >= ENTRY_HEADER_MIN {
            let image = parse_entry(bytes, offset).map_err(|(at, kind)| err(at, kind))?;
            offset += image.entry_size();
            images.push(image);
        }
        let tail = &bytes[offset..];
        if tail.iter().any(|&b| b != 0) {
            return Err(err(
                offset,
                FatbinErrorKind::TrailingData {
                    len: tail.len() as u64,
                },
            ));
        }
        Ok(FatBinary { bytes, images })
    }

    /// The container's bytes, header included.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The entries, in file order.
    pub fn images(&self) -> &[Image] {
        &self.images
    }

    /// A new container holding only the entries for which `keep` returns true, copied verbatim
    /// (compressed payloads stay compressed).
    ///
    /// The runtime loads `filter(|image| image.kind == ImageKind::Sass)`: with no PTX in the
    /// container, the driver cannot JIT-compile, not even from its per-user cache.
    pub fn filter(&self, mut keep: impl FnMut(&Image) -> bool) -> Vec<u8> {
        let kept: Vec<&[u8]> = self
            .images
            .iter()
            .filter(|image| keep(image))
            .map(|image| self.entry(image))
            .collect();
        assemble(self.bytes, &kept)
    }

    /// One container holding every entry of `parts`, in order, copied verbatim, under the first
    /// part's container header; `None` when `parts` is empty. This is how a fat binary built
    /// one architecture at a time becomes the container nvcc would have written for all of them.
    pub fn merge(parts: &[FatBinary<'_>]) -> Option<Vec<u8>> {
        let first = parts.first()?;
        let entries: Vec<&[u8]> = parts
            .iter()
            .flat_map(|part| part.images.iter().map(move |image| part.entry(image)))
            .collect();
        Some(assemble(first.bytes, &entries))
    }

    /// The bytes of one entry, header and payload; `image` is one of this container's.
    fn entry(&self, image: &Image) -> &[u8] {
        &self.bytes[image.offset..image.offset + image.entry_size()]
    }

    /// The payload of an image of this container, as stored (possibly compressed).
    pub fn payload(&self, image: &Image) -> Option<&'a [u8]> {
        let start = image.offset.checked_add(image.header_size)?;
        self.bytes
            .get(start..start.checked_add(image.payload_size)?)
    }
}

/// A container with the header of `header_from` (a parsed container) and `entries`, its size
/// field set to theirs.
fn assemble(header_from: &[u8], entries: &[&[u8]]) -> Vec<u8> {
    let header_size = usize::from(u16_at(header_from, 6));
    let entries_len: usize = entries.iter().map(|entry| entry.len()).sum();
    let mut out = Vec::with_capacity(header_size + entries_len);
    out.extend_from_slice(&header_from[..header_size]);
    out[8..16].copy_from_slice(&(entries_len as u64).to_le_bytes());
    for entry in entries {
        out.extend_from_slice(entry);
    }
    out
}

/// Reads the entry at `offset`; errors carry the offset of the bad field.
fn parse_entry(container: &[u8], offset: usize) -> Result<Image, (usize, FatbinErrorKind)> {
    let header = field(container, offset, ENTRY_HEADER_MIN, "entry header")
        .map_err(|kind| (offset, kind))?;
    let header_size = u32_at(header, 4) as usize;
    if header_size < ENTRY_HEADER_MIN {
        return Err((
            offset + 4,
            FatbinErrorKind::BadHeaderSize {
                what: "entry header",
                found: header_size as u64,
            },
        ));
    }
    let payload_size = u64_at(header, 8);
    let end = (offset as u64)
        .saturating_add(header_size as u64)
        .saturating_add(payload_size);
    if end > container.len() as u64 {
        return Err((
            offset + 8,
            FatbinErrorKind::OutOfBounds {
                what: "entry",
                end,
                limit: container.len() as u64,
            },
        ));
    }
    let flags = u64_at(header, 0x28);
    let variant = Image::variant_from_flags(flags).ok_or((
        offset + 0x28,
        FatbinErrorKind::ConflictingVariants { flags },
    ))?;
    let compression = if flags & FLAG_ZSTD != 0 {
        Compression::Zstd
    } else if flags & FLAG_LZ4 != 0 {
        Compression::Lz4
    } else {
        Compression::None
    };
    let compressed_size = u32_at(header, 0x10) as usize;
    let uncompressed_size = u64_at(header, 0x38);
    let compressed = compression != Compression::None;
    Ok(Image {
        kind: ImageKind::from_raw(u16_at(header, 0)),
        arch: Arch::new(u32_at(header, 0x1c), variant),
        compression,
        version: (u16_at(header, 0x1a), u16_at(header, 0x18)),
        flags,
        offset,
        header_size,
        // Bounded by `end <= container.len()` above.
        payload_size: payload_size as usize,
        compressed_size: compressed.then_some(compressed_size),
        uncompressed_size: compressed.then_some(uncompressed_size),
    })
}

/// `len` bytes at `offset`, or a truncation error.
fn field<'d>(
    data: &'d [u8],
    offset: usize,
    len: usize,
    what: &'static str,
) -> Result<&'d [u8], FatbinErrorKind> {
    data.get(offset..)
        .and_then(|rest| rest.get(..len))
        .ok_or(FatbinErrorKind::Truncated {
            what,
            needed: len as u64,
            available: data.len().saturating_sub(offset) as u64,
        })
}
