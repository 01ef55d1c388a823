//! The contents of an entry as the driver sees them: stored raw, or decompressed from an LZ4
//! block or a zstd frame (`--compress-mode`, `-Xfatbin -compress-all`).
//!
//! The entry header records the decompressed size. Nothing is allocated for it before it is
//! checked against the ceiling ([`DEFAULT_MAX_IMAGE_SIZE`] or the caller's) and against what
//! the compressed bytes can hold (see `decompress`); anything else than exactly that many bytes
//! is a corrupt entry.

use std::borrow::Cow;

use super::decompress;
use super::error::{FatbinError, FatbinErrorKind};
use super::image::{Compression, Image};
use super::parse::FatBinary;

/// The largest decompressed image sasskit reads unless told otherwise: 1 GiB, several times the
/// largest cubin seen (a few hundred MiB). The build takes another from
/// `SASSKIT_MAX_IMAGE_SIZE`; [`FatBinary::contents_within`] takes any.
pub const DEFAULT_MAX_IMAGE_SIZE: u64 = 1 << 30;

impl<'a> FatBinary<'a> {
    /// The payload of `image` (one of this container's) after decompression, as
    /// [`contents_within`](FatBinary::contents_within) with [`DEFAULT_MAX_IMAGE_SIZE`].
    pub fn contents(&self, image: &Image) -> Result<Cow<'a, [u8]>, FatbinError> {
        self.contents_within(image, DEFAULT_MAX_IMAGE_SIZE)
    }

    /// The payload of `image` (one of this container's) after decompression: borrowed when it is
    /// stored raw, decompressed (LZ4 or zstd) into a new buffer otherwise.
    ///
    /// An image whose header records more than `max_size` decompressed bytes is a
    /// [`FatbinErrorKind::TooLarge`] error, before anything is allocated. A payload that does
    /// not decompress to exactly the size its header records, or records more than its
    /// compressed bytes can hold, is a [`FatbinErrorKind::Decompress`] error at the entry's
    /// offset.
    pub fn contents_within(
        &self,
        image: &Image,
        max_size: u64,
    ) -> Result<Cow<'a, [u8]>, FatbinError> {
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
        let size = image.uncompressed_size.unwrap_or(0);
        if size > max_size {
            return Err(FatbinError::new(
                image.offset,
                FatbinErrorKind::TooLarge {
                    size,
                    limit: max_size,
                },
            ));
        }
        let fail = |detail| {
            FatbinError::new(
                image.offset,
                FatbinErrorKind::Decompress {
                    compression: image.compression,
                    detail,
                },
            )
        };
        // At most `max_size`, which the caller can hold in memory, so it fits in usize.
        let size = usize::try_from(size)
            .map_err(|_| fail(format!("{size} bytes do not fit in this host's memory")))?;
        let compressed = match image.compressed_size {
            Some(len) if len > 0 && len <= stored.len() => &stored[..len],
            Some(len) => {
                return Err(fail(format!(
                    "the header's compressed size {len} does not fit the {}-byte payload",
                    stored.len()
                )));
            }
            None => stored,
        };
        match image.compression {
            Compression::None => Ok(Cow::Borrowed(compressed)),
            Compression::Lz4 => decompress::lz4(compressed, size).map(Cow::Owned),
            Compression::Zstd => decompress::zstd(compressed, size).map(Cow::Owned),
        }
        .map_err(fail)
    }
}
