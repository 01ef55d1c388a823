//! Mutated real inputs under the bounds: a cubin nvcc built, stored raw, as a zstd frame and as
//! an LZ4 block in a fat binary, and a manifest, each with random bytes replaced, size-like
//! values written over random fields, and a random length.
//!
//! Each case runs on its own thread under [`CASE_LIMIT`] and may allocate at most what its
//! input can hold (`max_peak`). The number of cases per property is proptest's
//! (`PROPTEST_CASES`, 256 unless set).

use std::time::Duration;

use proptest::prelude::*;
use sasskit_core::cubin;
use sasskit_core::fatbin::find_fat_binaries;
use sasskit_core::manifest::Manifest;

use crate::craft::{self, FLAG_LZ4, FLAG_ZSTD};
use crate::measure::bounded;

const CUBIN: &[u8] = include_bytes!("../fixtures/params_sm90.cubin");
const DEBUG_CUBIN: &[u8] = include_bytes!("../fixtures/noinline_debug_sm90.cubin");

/// The time one case may take: inputs of a few KiB, read in microseconds.
const CASE_LIMIT: Duration = Duration::from_secs(2);
/// Memory any reader may hold besides what its input can expand to.
const SLACK: usize = 1 << 20;
/// The most bytes one byte of a zstd frame decompresses to: a 4-byte RLE block gives 128 KiB.
const ZSTD_PER_BYTE: usize = 32 << 10;
/// The most bytes one byte of an LZ4 block decompresses to.
const LZ4_PER_BYTE: usize = 255;

/// Values that size fields take when they are corrupt.
const SIZES: &[u64] = &[
    0,
    1,
    0xff,
    0xffff,
    0x7fff_ffff,
    0xffff_ffff,
    1 << 30,
    4 << 30,
    u64::MAX,
];

/// The seed fat binaries: one SASS entry holding the cubin raw, zstd and LZ4.
fn fatbins() -> [Vec<u8>; 3] {
    let zstd =
        ruzstd::encoding::compress_to_vec(CUBIN, ruzstd::encoding::CompressionLevel::Fastest);
    let lz4 = lz4_flex::block::compress(CUBIN);
    let size = CUBIN.len() as u64;
    [
        craft::container(&[craft::entry(2, 90, 0, CUBIN)]),
        craft::container(&[craft::compressed_entry(FLAG_ZSTD, &zstd, size)]),
        craft::container(&[craft::compressed_entry(FLAG_LZ4, &lz4, size)]),
    ]
}

/// Mutations: byte replacements, 8-byte size values written at random offsets (half of them in
/// the first 128 bytes, where the container, entry and ELF headers are), a new length.
fn mutated(seed: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = seed.len();
    (
        prop::collection::vec((0..len, any::<u8>()), 0..16),
        prop::collection::vec(
            (
                prop_oneof![0..len.min(128), 0..len],
                prop::sample::select(SIZES),
            ),
            0..4,
        ),
        prop_oneof![3 => Just(len), 1 => 0..=len],
    )
        .prop_map(move |(bytes, sizes, keep)| {
            let mut data = seed.clone();
            for (at, byte) in bytes {
                data[at] = byte;
            }
            for (at, size) in sizes {
                let end = (at + 8).min(len);
                data[at..end].copy_from_slice(&size.to_le_bytes()[..end - at]);
            }
            data.truncate(keep);
            data
        })
}

/// Everything a build or `cargo sasskit verify` does with a file: scan, parse, decompress every
/// image, read the kernels of every cubin.
fn read_fatbin(data: &[u8]) -> usize {
    let mut kernels = 0;
    for found in find_fat_binaries(data) {
        let Ok(fatbin) = found.result else { continue };
        for image in fatbin.images() {
            if let Ok(contents) = fatbin.contents(image) {
                kernels += cubin::kernels(&contents).map_or(0, |found| found.len());
            }
        }
    }
    kernels
}

fn check_fatbin(data: Vec<u8>, per_byte: usize) {
    let len = data.len();
    bounded(
        "fuzz fat binary",
        len,
        CASE_LIMIT,
        per_byte * len + SLACK,
        move || read_fatbin(&data),
    );
}

proptest! {
    #[test]
    fn raw_fat_binaries(data in mutated(fatbins()[0].clone())) {
        check_fatbin(data, 4);
    }

    #[test]
    fn zstd_fat_binaries(data in mutated(fatbins()[1].clone())) {
        check_fatbin(data, ZSTD_PER_BYTE);
    }

    #[test]
    fn lz4_fat_binaries(data in mutated(fatbins()[2].clone())) {
        check_fatbin(data, LZ4_PER_BYTE);
    }

    #[test]
    fn cubins(
        data in prop_oneof![mutated(CUBIN.to_vec()), mutated(DEBUG_CUBIN.to_vec())]
    ) {
        let len = data.len();
        bounded("fuzz cubin", len, CASE_LIMIT, 4 * len + SLACK, move || {
            cubin::kernels(&data).map_or(0, |kernels| kernels.len())
        });
    }

    #[test]
    fn manifests(data in mutated(craft::manifest(20).into_bytes())) {
        let len = data.len();
        bounded("fuzz manifest", len, CASE_LIMIT, 64 * len + SLACK, move || {
            let text = String::from_utf8_lossy(&data);
            Manifest::from_toml(&text).is_ok()
        });
    }
}
