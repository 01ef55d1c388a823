//! The contents of an entry as the driver sees them: stored raw, or decompressed from an LZ4
//! block or a zstd frame (`--compress-mode`, `-Xfatbin -compress-all`).
//!
//! The entry header records the decompressed size; decompression never produces more than that,
//! and anything else than exactly that many bytes is a corrupt entry.

use std::borrow::Cow;
use std::io::Read;

use super::error::{FatbinError, FatbinErrorKind};
use super::image::{Compression, Image};
use super::parse::FatBinary;

/// The largest decompressed size accepted, far above any cubin (the largest seen are a few
/// hundred MiB): a corrupt size field must not make the reader allocate without bound.
const MAX_UNCOMPRESSED: u64 = 4 << 30;

impl<'a> FatBinary<'a> {
    /// The payload of `image` (one of this container's) after decompression: borrowed when it is
    /// stored raw, decompressed (LZ4 or zstd) into a new buffer otherwise.
    ///
    /// A payload that does not decompress to exactly the size its header records is a
    /// [`FatbinErrorKind::Decompress`] error at the entry's offset.
    pub fn contents(&self, image: &Image) -> Result<Cow<'a, [u8]>, FatbinError> {
        let stored = self.payload(image).ok_or_else(|| {
            FatbinError::new(
                image.offset,
                FatbinErrorKind::OutOfBounds {
                    what: "entry payload",
                    end: (image.offset + image.header_size + image.payload_size) as u64,
                    limit: self.as_bytes().len() as u64,
                },
            )
        })?;
        if image.compression == Compression::None {
            return Ok(Cow::Borrowed(stored));
        }
        decompress(image, stored).map(Cow::Owned).map_err(|detail| {
            FatbinError::new(
                image.offset,
                FatbinErrorKind::Decompress {
                    compression: image.compression,
                    detail,
                },
            )
        })
    }
}

fn decompress(image: &Image, stored: &[u8]) -> Result<Vec<u8>, String> {
    let expected = image.uncompressed_size.unwrap_or(0);
    if expected > MAX_UNCOMPRESSED {
        return Err(format!(
            "the header claims {expected} decompressed bytes, more than the {MAX_UNCOMPRESSED} \
             this reader accepts"
        ));
    }
    // Bounded by MAX_UNCOMPRESSED above, which fits in usize on 64-bit hosts.
    let expected = usize::try_from(expected).map_err(|_| "size does not fit".to_owned())?;
    let compressed = match image.compressed_size {
        Some(size) if size > 0 && size <= stored.len() => &stored[..size],
        Some(size) => {
            return Err(format!(
                "the header's compressed size {size} does not fit the {}-byte payload",
                stored.len()
            ));
        }
        None => stored,
    };
    let out = match image.compression {
        Compression::None => compressed.to_vec(),
        Compression::Lz4 => {
            let mut out = vec![0; expected];
            let written = lz4_flex::block::decompress_into(compressed, &mut out)
                .map_err(|error| format!("the LZ4 block does not decompress: {error}"))?;
            out.truncate(written);
            out
        }
        Compression::Zstd => {
            let decoder = ruzstd::decoding::StreamingDecoder::new(compressed)
                .map_err(|error| format!("the zstd frame does not start: {error}"))?;
            let mut out = Vec::new();
            // One byte more than expected, to tell an oversized frame from an exact one.
            decoder
                .take(expected as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|error| format!("the zstd frame does not decompress: {error}"))?;
            out
        }
    };
    if out.len() == expected {
        Ok(out)
    } else {
        Err(format!(
            "it decompresses to {}{} bytes, but the header records {expected}",
            out.len(),
            if out.len() > expected { " or more" } else { "" }
        ))
    }
}
