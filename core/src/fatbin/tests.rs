//! Unit tests on synthetic containers; golden tests against real nvcc output and `cuobjdump`
//! live in the workspace `tests/` crate.

use proptest::prelude::*;

use super::*;
use crate::arch::{Arch, Target, Variant};

/// Builds one entry: kind, SM number, flags and payload.
fn entry(kind: u16, sm: u32, flags: u64, payload: &[u8]) -> Vec<u8> {
    let padded = payload.len().div_ceil(8) * 8;
    let mut out = vec![0u8; 64];
    out[0..2].copy_from_slice(&kind.to_le_bytes());
    out[2..4].copy_from_slice(&0x0101u16.to_le_bytes());
    out[4..8].copy_from_slice(&64u32.to_le_bytes());
    out[8..16].copy_from_slice(&(padded as u64).to_le_bytes());
    out[0x18..0x1a].copy_from_slice(&8u16.to_le_bytes());
    out[0x1a..0x1c].copy_from_slice(&1u16.to_le_bytes());
    out[0x1c..0x20].copy_from_slice(&sm.to_le_bytes());
    out[0x28..0x30].copy_from_slice(&flags.to_le_bytes());
    out.extend_from_slice(payload);
    out.resize(64 + padded, 0);
    out
}

fn container(entries: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = entries.concat();
    let mut out = Vec::new();
    out.extend_from_slice(&MAGIC.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

const FLAG_LZ4: u64 = 0x2000;
const FLAG_ZSTD: u64 = 0x8000;

/// An SM 90 ELF entry whose payload is stored compressed, with the two size fields set.
fn compressed_entry(flags: u64, payload: &[u8], compressed: u32, uncompressed: u64) -> Vec<u8> {
    let mut out = entry(2, 90, flags, payload);
    out[0x10..0x14].copy_from_slice(&compressed.to_le_bytes());
    out[0x38..0x40].copy_from_slice(&uncompressed.to_le_bytes());
    out
}

/// A cubin-like payload that compresses well.
fn cubin_like() -> Vec<u8> {
    let mut out = b"\x7fELF".to_vec();
    out.extend((0..4000u32).map(|i| (i % 7) as u8));
    out
}

fn sample() -> Vec<u8> {
    container(&[
        entry(2, 90, 0, b"sass for sm_90"),
        entry(2, 90, 0x10_0000, b"sass for sm_90a"),
        entry(2, 100, 0x20_0000 | 0x8000, b"zstd sass"),
        entry(1, 90, 0, b"ptx"),
        entry(8, 90, 0, b"lto"),
    ])
}

#[test]
fn lists_kinds_variants_and_compression() {
    let data = sample();
    let fatbin = FatBinary::parse(&data).unwrap();
    let listing: Vec<String> = fatbin.images().iter().map(ToString::to_string).collect();
    assert_eq!(
        listing,
        [
            "sass sm_90",
            "sass sm_90a",
            "sass sm_100f (zstd)",
            "ptx compute_90",
            "lto-ir sm_90"
        ]
    );
    let images = fatbin.images();
    assert_eq!(images[1].arch, Arch::new(90, Variant::Specific));
    assert_eq!(images[2].compression, Compression::Zstd);
    assert_eq!(
        images[2].target(),
        Some(Target::Sass(Arch::new(100, Variant::Family)))
    );
    assert_eq!(images[4].target(), None);
    assert_eq!(
        fatbin.payload(&images[0]).unwrap()[..14],
        *b"sass for sm_90"
    );
}

#[test]
fn filter_keeps_entries_verbatim_and_fixes_the_size() {
    let data = sample();
    let fatbin = FatBinary::parse(&data).unwrap();
    let sass_only = fatbin.filter(|image| image.kind == ImageKind::Sass);
    let filtered = FatBinary::parse(&sass_only).unwrap();
    assert_eq!(filtered.images().len(), 3);
    assert!(
        filtered
            .images()
            .iter()
            .all(|image| image.kind == ImageKind::Sass)
    );
    for (kept, original) in filtered.images().iter().zip(fatbin.images()) {
        assert_eq!(filtered.payload(kept), fatbin.payload(original));
        assert_eq!(kept.flags, original.flags);
    }
}

#[test]
fn merge_concatenates_entries_under_one_header() {
    let first = container(&[entry(2, 90, 0, b"sass for sm_90")]);
    let second = container(&[
        entry(2, 100, 0, b"sass for sm_100"),
        entry(1, 90, 0, b"ptx"),
    ]);
    let parts = [
        FatBinary::parse(&first).unwrap(),
        FatBinary::parse(&second).unwrap(),
    ];
    let merged = FatBinary::merge(&parts).unwrap();
    let parsed = FatBinary::parse(&merged).unwrap();
    let listing: Vec<String> = parsed.images().iter().map(ToString::to_string).collect();
    assert_eq!(listing, ["sass sm_90", "sass sm_100", "ptx compute_90"]);
    assert_eq!(
        parsed.payload(&parsed.images()[1]).unwrap()[..15],
        *b"sass for sm_100"
    );
    assert!(FatBinary::merge(&[]).is_none());
}

#[test]
fn parse_all_reads_back_to_back_containers() {
    let mut data = sample();
    data.extend(container(&[entry(2, 121, 0, b"x")]));
    let all = FatBinary::parse_all(&data).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].images()[0].arch, Arch::plain(121));
    let error = FatBinary::parse(&data).unwrap_err();
    assert!(
        matches!(error.kind(), FatbinErrorKind::TrailingData { .. }),
        "{error}"
    );
}

#[test]
fn scan_finds_containers_inside_other_bytes() {
    let mut file = b"\x7fELF and some code".to_vec();
    // A stray magic number, as in the machine code of a parser, is not a candidate.
    file.extend_from_slice(&MAGIC.to_le_bytes());
    file.extend_from_slice(&[0; 7]);
    let first = file.len();
    file.extend(sample());
    file.extend(container(&[entry(2, 121, 0, b"x")]));
    file.extend_from_slice(b"trailing rodata");
    let found = find_fat_binaries(&file);
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].offset, first);
    assert_eq!(found[0].result.as_ref().unwrap().images().len(), 5);
    assert_eq!(
        found[1].result.as_ref().unwrap().images()[0].arch,
        Arch::plain(121)
    );
}

#[test]
fn scan_reports_a_corrupt_candidate() {
    let mut data = sample();
    // Entry payload size far past the end.
    data[16 + 8..16 + 16].copy_from_slice(&u64::MAX.to_le_bytes());
    let found = find_fat_binaries(&data);
    assert_eq!(found.len(), 1);
    assert!(found[0].result.is_err());
}

/// Whether an error kind is the one a case expects.
type ExpectKind = fn(&FatbinErrorKind) -> bool;

#[test]
fn bad_input_gives_typed_errors() {
    let data = sample();
    let cases: Vec<(Vec<u8>, ExpectKind)> = vec![
        (Vec::new(), |k| {
            matches!(k, FatbinErrorKind::Truncated { .. })
        }),
        (data[..10].to_vec(), |k| {
            matches!(k, FatbinErrorKind::Truncated { .. })
        }),
        (data[..data.len() - 8].to_vec(), |k| {
            matches!(k, FatbinErrorKind::OutOfBounds { .. })
        }),
        (
            {
                let mut d = data.clone();
                d[0] = 0;
                d
            },
            |k| matches!(k, FatbinErrorKind::BadMagic { .. }),
        ),
        (
            {
                let mut d = data.clone();
                d[4] = 2;
                d
            },
            |k| matches!(k, FatbinErrorKind::UnsupportedVersion { found: 2 }),
        ),
        (
            {
                let mut d = data.clone();
                d[16 + 4..16 + 8].copy_from_slice(&8u32.to_le_bytes());
                d
            },
            |k| matches!(k, FatbinErrorKind::BadHeaderSize { .. }),
        ),
        (
            {
                let mut d = data.clone();
                d[16 + 0x28..16 + 0x30].copy_from_slice(&0x30_0000u64.to_le_bytes());
                d
            },
            |k| matches!(k, FatbinErrorKind::ConflictingVariants { .. }),
        ),
    ];
    for (input, expected) in cases {
        let error = FatBinary::parse(&input).unwrap_err();
        assert!(expected(error.kind()), "unexpected {error:?}");
        assert!(!error.to_string().is_empty());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn mutated_input_never_panics(
        mutations in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut data = sample();
        for (index, byte) in mutations {
            let at = index.index(data.len());
            data[at] = byte;
        }
        let truncated = &data[..cut.index(data.len() + 1)];
        for input in [&data[..], truncated] {
            if let Ok(fatbin) = FatBinary::parse(input) {
                for image in fatbin.images() {
                    prop_assert!(fatbin.payload(image).is_some());
                }
                // Keeping everything re-creates the entries (zero padding after them is dropped).
                let kept = fatbin.filter(|_| true);
                let reparsed = FatBinary::parse(&kept);
                prop_assert!(reparsed.is_ok());
                let reparsed = reparsed.unwrap();
                prop_assert_eq!(reparsed.images().len(), fatbin.images().len());
                for (a, b) in reparsed.images().iter().zip(fatbin.images()) {
                    prop_assert_eq!(reparsed.payload(a), fatbin.payload(b));
                }
            }
            let _ = FatBinary::parse_all(input);
            let _ = find_fat_binaries(input);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = FatBinary::parse(&data);
        let _ = FatBinary::parse_all(&data);
        let _ = find_fat_binaries(&data);
    }

    /// Random payloads flagged as compressed, with random size fields: an error, never a panic
    /// or an allocation the header cannot justify.
    #[test]
    fn arbitrary_compressed_payloads_never_panic(
        payload in prop::collection::vec(any::<u8>(), 0..256),
        zstd in any::<bool>(),
        compressed_size in 0u32..300,
        uncompressed_size in prop_oneof![0u64..1024, Just(u64::MAX)],
    ) {
        let flags = if zstd { FLAG_ZSTD } else { FLAG_LZ4 };
        let data = container(&[compressed_entry(flags, &payload, compressed_size, uncompressed_size)]);
        let fatbin = FatBinary::parse(&data).unwrap();
        let _ = fatbin.contents(&fatbin.images()[0]);
    }

    #[test]
    fn every_truncation_of_a_valid_container_is_an_error(cut in 0usize..200) {
        let data = sample();
        let cut = cut.min(data.len() - 1);
        prop_assert!(FatBinary::parse(&data[..cut]).is_err());
    }
}

#[test]
fn contents_of_raw_entries_are_borrowed() {
    let data = sample();
    let fatbin = FatBinary::parse(&data).unwrap();
    let contents = fatbin.contents(&fatbin.images()[0]).unwrap();
    assert!(matches!(contents, std::borrow::Cow::Borrowed(_)));
    assert!(contents.starts_with(b"sass for sm_90"));
}

#[test]
fn lz4_and_zstd_entries_decompress_to_their_recorded_size() {
    let original = cubin_like();
    let lz4 = lz4_flex::block::compress(&original);
    let zstd = ruzstd::encoding::compress_to_vec(
        original.as_slice(),
        ruzstd::encoding::CompressionLevel::Fastest,
    );
    let data = container(&[
        compressed_entry(FLAG_LZ4, &lz4, lz4.len() as u32, original.len() as u64),
        compressed_entry(FLAG_ZSTD, &zstd, zstd.len() as u32, original.len() as u64),
    ]);
    let fatbin = FatBinary::parse(&data).unwrap();
    for image in fatbin.images() {
        assert_eq!(
            fatbin.contents(image).unwrap().as_ref(),
            original,
            "{image}"
        );
    }
}

#[test]
fn a_wrong_recorded_size_or_a_corrupt_frame_is_an_error() {
    let original = cubin_like();
    let zstd = ruzstd::encoding::compress_to_vec(
        original.as_slice(),
        ruzstd::encoding::CompressionLevel::Fastest,
    );
    let lz4 = lz4_flex::block::compress(&original);
    let cases = [
        compressed_entry(
            FLAG_ZSTD,
            &zstd,
            zstd.len() as u32,
            original.len() as u64 - 1,
        ),
        compressed_entry(
            FLAG_ZSTD,
            &zstd,
            zstd.len() as u32,
            original.len() as u64 + 1,
        ),
        compressed_entry(FLAG_LZ4, &lz4, lz4.len() as u32, original.len() as u64 + 1),
        compressed_entry(FLAG_ZSTD, b"not a zstd frame", 16, 100),
        compressed_entry(FLAG_LZ4, &lz4, 1 << 20, original.len() as u64),
        // More than 255 bytes per byte of the block, far under the ceiling.
        compressed_entry(FLAG_LZ4, &lz4, lz4.len() as u32, 255 * lz4.len() as u64 + 1),
    ];
    for (index, case) in cases.iter().enumerate() {
        let data = container(std::slice::from_ref(case));
        let fatbin = FatBinary::parse(&data).unwrap();
        let error = fatbin.contents(&fatbin.images()[0]).unwrap_err();
        assert!(
            matches!(error.kind(), FatbinErrorKind::Decompress { .. }),
            "case {index}: {error}"
        );
        let message = error.to_string();
        assert!(
            message.contains("payload of the entry is corrupt"),
            "case {index}: {message}"
        );
    }
}

#[test]
fn an_image_above_the_ceiling_is_refused_before_decompressing() {
    let original = cubin_like();
    let zstd = ruzstd::encoding::compress_to_vec(
        original.as_slice(),
        ruzstd::encoding::CompressionLevel::Fastest,
    );
    let size = original.len() as u64;
    let data = container(&[compressed_entry(FLAG_ZSTD, &zstd, zstd.len() as u32, size)]);
    let fatbin = FatBinary::parse(&data).unwrap();
    let image = &fatbin.images()[0];
    assert_eq!(
        fatbin.contents_within(image, size).unwrap().len(),
        original.len()
    );
    let error = fatbin.contents_within(image, size - 1).unwrap_err();
    assert_eq!(
        error.kind(),
        &FatbinErrorKind::TooLarge {
            size,
            limit: size - 1
        }
    );
    assert!(
        error.to_string().contains("SASSKIT_MAX_IMAGE_SIZE"),
        "{error}"
    );
    let huge = container(&[compressed_entry(
        FLAG_ZSTD,
        &zstd,
        zstd.len() as u32,
        1 << 40,
    )]);
    let fatbin = FatBinary::parse(&huge).unwrap();
    let error = fatbin.contents(&fatbin.images()[0]).unwrap_err();
    assert!(
        matches!(error.kind(), FatbinErrorKind::TooLarge { .. }),
        "{error}"
    );
}

#[test]
fn scan_resumes_after_a_corrupt_candidate() {
    let mut corrupt = sample();
    corrupt[16 + 8..16 + 16].copy_from_slice(&u64::MAX.to_le_bytes());
    let mut data = corrupt.clone();
    data.extend_from_slice(&sample());
    let found = find_fat_binaries(&data);
    assert_eq!(found.len(), 2);
    assert!(found[0].result.is_err());
    assert_eq!(found[1].offset, corrupt.len());
    assert!(found[1].result.is_ok());
}
