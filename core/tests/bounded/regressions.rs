//! One crafted input per way a reader could be made to allocate or work out of proportion to
//! its input: each is built here and must be refused (or read) within a bound linear in its
//! size.

use std::time::Duration;

use sasskit_core::cubin;
use sasskit_core::fatbin::{FatBinary, find_fat_binaries};
use sasskit_core::manifest::Manifest;

use crate::craft::{self, Elf, FLAG_LZ4, FLAG_ZSTD, SHT_NV_INFO, SHT_STRTAB, SHT_SYMTAB};
use crate::measure::bounded;

/// The time any one of these inputs may take (debug build, a shared CI machine).
const LIMIT: Duration = Duration::from_secs(5);
/// The time the inputs that were quadratic may take: a few MB, read in milliseconds when the
/// work is linear (and in seconds when it was not).
const LINEAR: Duration = Duration::from_secs(1);
const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;

/// Decompresses the only image of a one-entry container.
fn decompress(container: &[u8]) -> Result<usize, String> {
    let fatbin = FatBinary::parse(container).map_err(|error| error.to_string())?;
    let image = &fatbin.images()[0];
    fatbin
        .contents(image)
        .map(|contents| contents.len())
        .map_err(|error| error.to_string())
}

#[test]
fn lz4_allocates_no_more_than_the_block_can_hold() {
    let original: Vec<u8> = (0..4000u32).map(|i| (i % 7) as u8).collect();
    let block = lz4_flex::block::compress(&original);
    // One corrupt size field: the header claims 1 GiB (the ceiling).
    let input = craft::container(&[craft::compressed_entry(FLAG_LZ4, &block, 1 << 30)]);
    decompress_is_refused(
        "lz4, 1 GiB claimed",
        input,
        |len| 255 * len + 64 * KIB,
        "255",
    );
}

#[test]
fn zstd_refuses_an_image_above_the_ceiling_before_decompressing() {
    // 128 KiB of RLE blocks that really decompress to 4 GiB, as the header claims.
    let frame = craft::zstd_rle_frame(32 * KIB, None);
    let input = craft::container(&[craft::compressed_entry(FLAG_ZSTD, &frame, 4 << 30)]);
    decompress_is_refused(
        "zstd, 4 GiB real",
        input,
        |len| 4 * len + 64 * KIB,
        "SASSKIT_MAX_IMAGE_SIZE",
    );
}

#[test]
fn zstd_frame_size_must_match_the_header() {
    // The frame says 1 GiB, the entry header 64 MiB: refused before any block is decoded.
    let frame = craft::zstd_rle_frame(8 * KIB, Some(1 << 30));
    let input = craft::container(&[craft::compressed_entry(FLAG_ZSTD, &frame, 64 << 20)]);
    decompress_is_refused(
        "zstd, sizes disagree",
        input,
        |len| 4 * len + 64 * KIB,
        "frame",
    );
}

#[test]
fn zstd_output_is_reserved_once_and_capped() {
    // No size in the frame; it decompresses to 128 MiB where the header says 64 MiB. The
    // output is the header's size, reserved once, and decoding stops one byte past it.
    let claimed = 64 * MIB;
    let frame = craft::zstd_rle_frame(1024, None);
    let input = craft::container(&[craft::compressed_entry(FLAG_ZSTD, &frame, claimed as u64)]);
    let len = input.len();
    let window = 128 * KIB;
    let result = bounded(
        "zstd, 128 MiB real, 64 MiB claimed",
        len,
        LIMIT,
        claimed + 2 * window + MIB,
        move || decompress(&input),
    );
    let error = result.unwrap_err();
    assert!(error.contains("or more"), "{error}");
}

/// A cubin whose only symbol table has `symbols` entry points, listed by `tables` section
/// headers.
fn many_symbol_tables(tables: usize, symbols: usize) -> Vec<u8> {
    let mut elf = Elf::default();
    let strings = elf.blob(b"\0kernel\0");
    let symtab = elf.blob(&craft::entry_symbols(symbols, 1));
    let strtab_name = elf.name(".strtab");
    let symtab_name = elf.name(".symtab");
    elf.section(strtab_name, SHT_STRTAB, strings, 0);
    for _ in 0..tables {
        elf.section(symtab_name, SHT_SYMTAB, symtab, 1);
    }
    elf.build()
}

/// A cubin with one kernel `k` whose `.nv.info.k` section header appears `copies` times, all
/// over the same `records` parameter records.
fn repeated_info_section(copies: usize, records: usize) -> Vec<u8> {
    let mut elf = Elf::default();
    let strings = elf.blob(b"\0k\0");
    let symtab = elf.blob(&craft::entry_symbols(1, 1));
    let info = elf.blob(&craft::kparam_records(records));
    let strtab_name = elf.name(".strtab");
    let symtab_name = elf.name(".symtab");
    let info_name = elf.name(".nv.info.k");
    elf.section(strtab_name, SHT_STRTAB, strings, 0);
    elf.section(symtab_name, SHT_SYMTAB, symtab, 1);
    for _ in 0..copies {
        elf.section(info_name, SHT_NV_INFO, info, 0);
    }
    elf.build()
}

/// A cubin with `kernels` kernels, each with its own name and symbol, whose info sections all
/// cover the same `records` parameter records.
fn overlapping_info_sections(kernels: usize, records: usize) -> Vec<u8> {
    let mut elf = Elf::default();
    let mut names = vec![0u8];
    let mut symbols = Vec::new();
    for index in 0..kernels {
        symbols.extend_from_slice(&craft::entry_symbols(1, names.len() as u32));
        names.extend_from_slice(format!("k{index}\0").as_bytes());
    }
    let strings = elf.blob(&names);
    let symtab = elf.blob(&symbols);
    let info = elf.blob(&craft::kparam_records(records));
    let strtab_name = elf.name(".strtab");
    let symtab_name = elf.name(".symtab");
    elf.section(strtab_name, SHT_STRTAB, strings, 0);
    elf.section(symtab_name, SHT_SYMTAB, symtab, 1);
    for index in 0..kernels {
        let name = elf.name(&format!(".nv.info.k{index}"));
        elf.section(name, SHT_NV_INFO, info, 0);
    }
    elf.build()
}

/// A cubin with `sections` info sections of distinct names that no symbol has, and `symbols`
/// entry points all named `kernel`: each section looked for among every symbol.
fn many_lookups(sections: usize, symbols: usize) -> Vec<u8> {
    let mut elf = Elf::default();
    let strings = elf.blob(b"\0kernel\0");
    let symtab = elf.blob(&craft::entry_symbols(symbols, 1));
    let strtab_name = elf.name(".strtab");
    let symtab_name = elf.name(".symtab");
    elf.section(strtab_name, SHT_STRTAB, strings, 0);
    elf.section(symtab_name, SHT_SYMTAB, symtab, 1);
    for index in 0..sections {
        let name = elf.name(&format!(".nv.info.q{index}"));
        elf.section(name, SHT_NV_INFO, (64, 0), 0);
    }
    elf.build()
}

/// A cubin with `symbols` entry points whose names all start at the same byte of one
/// `name_len`-byte name: each one read to its end.
fn one_long_name(symbols: usize, name_len: usize) -> Vec<u8> {
    let mut elf = Elf::default();
    let mut name = vec![b'a'; name_len];
    name.push(0);
    let strings = elf.blob(&name);
    let symtab = elf.blob(&craft::entry_symbols(symbols, 0));
    let strtab_name = elf.name(".strtab");
    let symtab_name = elf.name(".symtab");
    let info_name = elf.name(".nv.info.x");
    elf.section(strtab_name, SHT_STRTAB, strings, 0);
    elf.section(symtab_name, SHT_SYMTAB, symtab, 1);
    elf.section(info_name, SHT_NV_INFO, (64, 0), 0);
    elf.build()
}

fn read_cubin(what: &str, input: Vec<u8>) -> Result<usize, String> {
    let len = input.len();
    bounded(what, len, LINEAR, 2 * len + 256 * KIB, move || {
        cubin::kernels(&input)
            .map(|kernels| kernels.len())
            .map_err(|error| error.to_string())
    })
}

#[test]
fn cubin_refuses_a_second_symbol_table() {
    let error = read_cubin("cubin, 20k symbol tables", many_symbol_tables(20_000, 1000));
    assert!(error.unwrap_err().contains("symbol table"));
}

#[test]
fn cubin_refuses_a_repeated_info_section() {
    let error = read_cubin(
        "cubin, 20k copies of one info section",
        repeated_info_section(20_000, 1000),
    );
    assert!(error.unwrap_err().contains(".nv.info.k"));
}

#[test]
fn cubin_refuses_info_sections_that_overlap() {
    let error = read_cubin(
        "cubin, 5k info sections over one range",
        overlapping_info_sections(5000, 1000),
    );
    let error = error.unwrap_err();
    assert!(error.contains("share bytes"), "{error}");
}

#[test]
fn cubin_looks_kernels_up_in_a_hash() {
    let found = read_cubin(
        "cubin, 1k sections x 200k symbols",
        many_lookups(1000, 200_000),
    );
    assert_eq!(found, Ok(0));
}

#[test]
fn cubin_reads_names_within_the_file_once() {
    let error = read_cubin(
        "cubin, 2k symbols on one 1 MiB name",
        one_long_name(2000, MIB),
    );
    assert!(error.unwrap_err().contains("name"));
}

#[test]
fn scan_is_linear_on_hidden_containers() {
    let input = craft::hidden_container_chain(4096);
    let len = input.len();
    let found = bounded(
        "scan, 4096 hidden containers",
        len,
        LINEAR,
        4 * len + 64 * KIB,
        move || find_fat_binaries(&input).len(),
    );
    assert!(found >= 1);
}

#[test]
fn manifest_above_the_limit_is_refused_before_parsing() {
    let text = craft::manifest(60_000);
    let len = text.len();
    assert!(len > sasskit_core::manifest::MAX_MANIFEST_SIZE, "{len}");
    let error = bounded("manifest, 60k kernels", len, LIMIT, 64 * KIB, move || {
        Manifest::from_toml(&text)
            .map(|_| ())
            .map_err(|error| error.to_string())
    });
    assert!(error.unwrap_err().contains("bytes"));
}

#[test]
fn a_manifest_under_the_limit_costs_a_bounded_multiple_of_its_size() {
    let text = craft::manifest(2000);
    let len = text.len();
    let parsed = bounded(
        "manifest, 2k kernels",
        len,
        LIMIT,
        64 * len + 64 * KIB,
        move || Manifest::from_toml(&text).map(|manifest| manifest.kernels.len()),
    );
    assert_eq!(parsed, Ok(2000));
}

#[test]
fn a_container_of_empty_entries_costs_a_bounded_multiple_of_its_size() {
    let entries: Vec<Vec<u8>> = (0..16_384).map(|_| craft::entry(2, 90, 0, &[])).collect();
    let input = craft::container(&entries);
    let len = input.len();
    let found = bounded(
        "parse, 16k empty entries",
        len,
        LINEAR,
        4 * len + 64 * KIB,
        move || find_fat_binaries(&input).len(),
    );
    assert_eq!(found, 1);
}

#[test]
fn cubin_caps_parameters_per_kernel() {
    let at_limit = read_cubin(
        "cubin, one kernel of 32 764 parameters",
        repeated_info_section(1, cubin::MAX_PARAMS),
    );
    assert_eq!(at_limit, Ok(1));
    let error = read_cubin(
        "cubin, one kernel of 32 765 parameters",
        repeated_info_section(1, cubin::MAX_PARAMS + 1),
    );
    let error = error.unwrap_err();
    assert!(error.contains("32764 parameters"), "{error}");
}

/// Decompressing every image of `input` fails within [`LIMIT`] and the peak `max_peak(len)`
/// gives for its length, with an error that contains `needle`.
fn decompress_is_refused(what: &str, input: Vec<u8>, max_peak: fn(usize) -> usize, needle: &str) {
    let len = input.len();
    let error = bounded(what, len, LIMIT, max_peak(len), move || decompress(&input)).unwrap_err();
    assert!(error.contains(needle), "{error}");
}
