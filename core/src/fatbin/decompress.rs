//! LZ4 blocks and zstd frames decompressed into exactly the size the entry header records,
//! reserved once and fallibly, and only when the compressed bytes can hold that much:
//!
//! * an LZ4 block expands at most 255-fold: a match costs at least three bytes plus one per 255
//!   bytes of length, a literal one byte;
//! * a zstd block expands at most to 128 KiB (the format's block maximum) from its 3-byte
//!   header and at least one byte more for an RLE block; the frame's own content size, when it
//!   records one, must be the header's; decoding stops one byte past the header's size.

use std::io::Read;

/// The most bytes one byte of an LZ4 block decompresses to.
const LZ4_MAX_RATIO: usize = 255;
/// The most bytes one zstd block decompresses to.
const ZSTD_MAX_BLOCK: usize = 128 << 10;
/// The fewest bytes a zstd block that produces anything takes: a 3-byte header and one byte.
const ZSTD_MIN_BLOCK: usize = 4;

/// Decompresses the LZ4 block `block` into `size` bytes.
pub(super) fn lz4(block: &[u8], size: usize) -> Result<Vec<u8>, String> {
    let most = block.len().saturating_mul(LZ4_MAX_RATIO);
    if size > most {
        return Err(format!(
            "the header records {size} decompressed bytes, more than the {most} a {}-byte LZ4 \
             block can hold ({LZ4_MAX_RATIO} per byte)",
            block.len()
        ));
    }
    let mut out = zeroed(size)?;
    let written = lz4_flex::block::decompress_into(block, &mut out)
        .map_err(|error| format!("the LZ4 block does not decompress: {error}"))?;
    if written == size {
        Ok(out)
    } else {
        Err(format!(
            "it decompresses to {written} bytes, but the header records {size}"
        ))
    }
}

/// Decompresses the zstd frame `frame` into `size` bytes.
pub(super) fn zstd(frame: &[u8], size: usize) -> Result<Vec<u8>, String> {
    let most = (frame.len() / ZSTD_MIN_BLOCK).saturating_mul(ZSTD_MAX_BLOCK);
    if size > most {
        return Err(format!(
            "the header records {size} decompressed bytes, more than the {most} a {}-byte zstd \
             frame can hold",
            frame.len()
        ));
    }
    let decoder = ruzstd::decoding::StreamingDecoder::new(frame)
        .map_err(|error| format!("the zstd frame does not start: {error}"))?;
    // 0 when the frame does not record its size (or records 0, which the length check below
    // then judges).
    let declared = decoder.decoder.content_size();
    if declared != 0 && declared != size as u64 {
        return Err(format!(
            "the zstd frame records {declared} decompressed bytes, but the entry header {size}"
        ));
    }
    let mut out = Vec::new();
    out.try_reserve_exact(size)
        .map_err(|error| format!("cannot reserve {size} bytes for it: {error}"))?;
    // Never past `size`, which is reserved: `read_to_end` fills the reservation and stops
    // without growing it.
    let mut limited = decoder.take(size as u64);
    limited
        .read_to_end(&mut out)
        .map_err(|error| format!("the zstd frame does not decompress: {error}"))?;
    let mut probe = [0u8; 1];
    let more = out.len() == size && limited.into_inner().read(&mut probe).is_ok_and(|n| n > 0);
    if out.len() == size && !more {
        Ok(out)
    } else {
        Err(format!(
            "it decompresses to {}{} bytes, but the header records {size}",
            out.len(),
            if more { " or more" } else { "" }
        ))
    }
}

/// `size` zero bytes, reserved exactly and fallibly.
fn zeroed(size: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    out.try_reserve_exact(size)
        .map_err(|error| format!("cannot reserve {size} bytes for it: {error}"))?;
    out.resize(size, 0);
    Ok(out)
}
