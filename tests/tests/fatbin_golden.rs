//! Golden tests of sasskit-core's fat binary parser: real nvcc output for each gencode mix
//! sasskit can meet, listed entry by entry against `cuobjdump` and against the layout that
//! FATBIN.md records (tier 1: needs nvcc and cuobjdump, skips without them unless
//! `SASSKIT_REQUIRE_TOOLCHAIN=1`).
//!
//! Each test compiles once, into its own folder under `CARGO_TARGET_TMPDIR`, and the tests run in
//! parallel; on two cores the eleven compiles take under 10 s.

use std::fs;
use std::path::{Path, PathBuf};

use sasskit_core::fatbin::{Compression, FatBinary, Image, ImageKind, find_fat_binaries};
use sasskit_tests::cuobjdump::{self, Entry};
use sasskit_tests::process::{command, run};
use sasskit_tests::toolchain::{Tool, require_or_skip};

const KERNELS: &str = r#"
extern "C" __global__ void axpy(float a, const float* x, float* y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i] + y[i];
}

extern "C" __global__ void fill(float* y, float v, int n) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        y[i] = v;
    }
}
"#;

const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];
/// Set on LTO-IR entries, whose payload is not a plain zstd frame: cuobjdump cannot read it
/// ("Can't deobfuscate entry … without obfuscation key").
const FLAG_OBFUSCATED: u64 = 0x1_0000;
const ELF_MAGIC: &[u8] = b"\x7fELF";

#[test]
fn sass_only() {
    golden_fatbin(
        "sass_only",
        &[
            "-gencode=arch=compute_90,code=sm_90",
            "-gencode=arch=compute_100,code=sm_100",
            "-gencode=arch=compute_121,code=sm_121",
        ],
        &["sass sm_90", "sass sm_100", "sass sm_121"],
    );
}

#[test]
fn sass_and_ptx() {
    // nvcc 13 compresses PTX with ZSTD by default and stores SASS raw.
    golden_fatbin(
        "sass_and_ptx",
        &["-gencode=arch=compute_90,code=[sm_90,compute_90]"],
        &["sass sm_90", "ptx compute_90 (zstd)"],
    );
}

#[test]
fn ptx_only() {
    golden_fatbin(
        "ptx_only",
        &["-gencode=arch=compute_90,code=compute_90"],
        &["ptx compute_90 (zstd)"],
    );
}

#[test]
fn arch_specific_sass() {
    golden_fatbin(
        "arch_specific",
        &["-gencode=arch=compute_90a,code=sm_90a"],
        &["sass sm_90a"],
    );
}

#[test]
fn family_specific_sass_and_ptx() {
    golden_fatbin(
        "family_specific",
        &["-gencode=arch=compute_100f,code=[sm_100f,compute_100f]"],
        &["sass sm_100f", "ptx compute_100f (zstd)"],
    );
}

#[test]
fn arch_shorthand_also_embeds_plain_ptx() {
    // Why sasskit always spells out -gencode: `-arch=sm_90a` adds a forward-compatible plain
    // compute_90 PTX that reopens the JIT path.
    golden_fatbin(
        "arch_shorthand",
        &["-arch=sm_90a"],
        &[
            "ptx compute_90 (zstd)",
            "sass sm_90a",
            "ptx compute_90a (zstd)",
        ],
    );
}

#[test]
fn compressed_for_size() {
    golden_fatbin(
        "compress_size",
        &[
            "-gencode=arch=compute_90,code=[sm_90,compute_90]",
            "--compress-mode=size",
        ],
        &["sass sm_90 (zstd)", "ptx compute_90 (zstd)"],
    );
}

#[test]
fn compressed_for_speed() {
    golden_fatbin(
        "compress_speed_all",
        &[
            "-gencode=arch=compute_90,code=[sm_90,compute_90]",
            "--compress-mode=speed",
            "-Xfatbin=-compress-all",
        ],
        &["sass sm_90 (lz4)", "ptx compute_90 (lz4)"],
    );
}

#[test]
fn uncompressed() {
    golden_fatbin(
        "compress_none",
        &[
            "-gencode=arch=compute_90,code=[sm_90,compute_90]",
            "--compress-mode=none",
        ],
        &["sass sm_90", "ptx compute_90"],
    );
}

#[test]
fn lto_ir() {
    golden_fatbin(
        "lto_ir",
        &["-gencode=arch=compute_90,code=lto_90"],
        &["lto-ir sm_90 (zstd)"],
    );
}

#[test]
fn host_object() {
    let test = "fatbin_golden::host_object";
    let Some(tools) = Tools::find(test) else {
        return;
    };
    let dir = test_dir("host_object");
    let object = dir.join("k.o");
    tools.nvcc(
        &dir,
        &[
            "-c",
            "-gencode=arch=compute_90,code=[sm_90,compute_90]",
            "-gencode=arch=compute_100f,code=sm_100f",
        ],
        &object,
    );
    let data = read(&object);
    let found = find_fat_binaries(&data);
    assert_eq!(
        found.len(),
        1,
        "one container in {}: {found:?}",
        object.display()
    );
    let fatbin = found[0]
        .result
        .as_ref()
        .expect("the object's container parses");
    assert_eq!(found[0].offset % 8, 0, ".nv_fatbin is 8-aligned");
    assert_eq!(
        display(fatbin.images()),
        ["sass sm_90", "ptx compute_90 (zstd)", "sass sm_100f"]
    );
    tools.cross_check(&object, fatbin);
}

/// Compiles `args` with `nvcc --fatbin` and checks the parser's listing against `expect` (the
/// images' `Display`), against cuobjdump and against the payload bytes.
fn golden_fatbin(name: &str, args: &[&str], expect: &[&str]) {
    let test = format!("fatbin_golden::{name}");
    let Some(tools) = Tools::find(&test) else {
        return;
    };
    let dir = test_dir(name);
    let file = dir.join("k.fatbin");
    let mut nvcc_args = vec!["--fatbin"];
    nvcc_args.extend_from_slice(args);
    tools.nvcc(&dir, &nvcc_args, &file);

    let data = read(&file);
    let fatbin = FatBinary::parse(&data).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    assert_eq!(display(fatbin.images()), expect, "{}", file.display());

    let found = find_fat_binaries(&data);
    assert_eq!(found.len(), 1, "the scan finds the one container");
    assert_eq!(found[0].offset, 0);
    assert_eq!(found[0].result.as_ref().ok(), Some(&fatbin));

    tools.cross_check(&file, &fatbin);
}

struct Tools {
    nvcc: PathBuf,
    cuobjdump: PathBuf,
}

impl Tools {
    fn find(test: &str) -> Option<Tools> {
        let nvcc = require_or_skip(test, Tool::Nvcc)?;
        let cuobjdump = require_or_skip(test, Tool::Cuobjdump)?;
        Some(Tools { nvcc, cuobjdump })
    }

    fn nvcc(&self, dir: &Path, args: &[&str], out: &Path) {
        let source = dir.join("k.cu");
        fs::write(&source, KERNELS).unwrap();
        run(command(&self.nvcc)
            .args(args)
            .arg("-o")
            .arg(out)
            .arg(&source)
            .current_dir(dir));
    }

    /// The parser and cuobjdump agree on every entry of `file`, and each payload looks as its
    /// entry header says.
    fn cross_check(&self, file: &Path, fatbin: &FatBinary<'_>) {
        let images = fatbin.images();
        let ours: Vec<Entry> = images.iter().map(as_cuobjdump_entry).collect();
        assert_eq!(
            ours,
            cuobjdump::entries(&self.cuobjdump, file),
            "{}",
            file.display()
        );

        // `--list-elf` names the arch from the cubin, which keeps `a` but not `f`.
        let elf: Vec<String> = images
            .iter()
            .filter(|image| image.kind == ImageKind::Sass)
            .map(|image| image.arch.to_string().trim_end_matches('f').to_owned())
            .collect();
        assert_eq!(
            elf,
            cuobjdump::listed_archs(&self.cuobjdump, file, false),
            "--list-elf"
        );
        let ptx: Vec<String> = images
            .iter()
            .filter(|image| image.kind == ImageKind::Ptx)
            .map(|image| image.arch.to_string())
            .collect();
        assert_eq!(
            ptx,
            cuobjdump::listed_archs(&self.cuobjdump, file, true),
            "--list-ptx"
        );

        for image in images {
            check_payload(fatbin, image);
        }
        self.check_contents(file, fatbin);
    }

    /// The decompressed contents of every image equal what cuobjdump extracts: the cubins byte
    /// for byte, the PTX text up to the padding around it.
    fn check_contents(&self, file: &Path, fatbin: &FatBinary<'_>) {
        let dir = file.with_extension("extracted");
        for (ptx, kind) in [(false, ImageKind::Sass), (true, ImageKind::Ptx)] {
            let theirs = cuobjdump::extracted(&self.cuobjdump, file, &dir, ptx);
            let ours: Vec<Vec<u8>> = fatbin
                .images()
                .iter()
                .filter(|image| image.kind == kind)
                .map(|image| {
                    let contents = fatbin
                        .contents(image)
                        .unwrap_or_else(|error| panic!("{image}: {error}"));
                    if ptx {
                        trim_padding(&contents)
                    } else {
                        contents.to_vec()
                    }
                })
                .collect();
            let theirs: Vec<Vec<u8>> = if ptx {
                theirs.iter().map(|text| trim_padding(text)).collect()
            } else {
                theirs
            };
            assert_eq!(
                ours.len(),
                theirs.len(),
                "{kind:?} images of {}",
                file.display()
            );
            for (index, (ours, theirs)) in ours.iter().zip(&theirs).enumerate() {
                assert!(
                    ours == theirs,
                    "{kind:?} image {index} of {} differs from cuobjdump's",
                    file.display()
                );
            }
        }
    }
}

/// The parser's view of an entry, spelled as cuobjdump prints it.
fn as_cuobjdump_entry(image: &Image) -> Entry {
    let kind = match image.kind {
        ImageKind::Sass => "elf",
        ImageKind::Ptx => "ptx",
        ImageKind::LtoIr => "nvvm",
        ImageKind::Other(raw) => panic!("nvcc 13.0 emitted an entry of unknown kind {raw:#x}"),
    };
    Entry {
        kind: kind.to_owned(),
        arch: image.arch.to_string(),
        compressed: image.compression != Compression::None,
    }
}

/// Sizes, compression magic and the cubin's own SM agree with the entry header (FATBIN.md §2.3,
/// §2.6, §3).
fn check_payload(fatbin: &FatBinary<'_>, image: &Image) {
    let payload = fatbin.payload(image).expect("payload in bounds");
    assert_eq!(payload.len() % 8, 0, "{image}: payload padded to 8");
    match image.compression {
        Compression::None => {
            assert_eq!(image.compressed_size, None);
            if image.kind == ImageKind::Sass {
                assert_eq!(&payload[..4], ELF_MAGIC, "{image}: raw cubin");
                assert_eq!(
                    cubin_sm(payload),
                    image.arch.sm,
                    "{image}: SM in the cubin's e_flags"
                );
            }
            if image.kind == ImageKind::Ptx {
                let text = String::from_utf8_lossy(payload);
                assert!(text.contains(".version"), "{image}: raw PTX text");
                let target = format!(
                    ".target sm_{}{}",
                    image.arch.sm,
                    image.arch.variant.suffix()
                );
                assert!(text.contains(&target), "{image}: PTX has `{target}`");
            }
        }
        Compression::Zstd | Compression::Lz4 => {
            let compressed = image.compressed_size.expect("compressed size");
            let uncompressed = image.uncompressed_size.expect("uncompressed size");
            assert!(
                compressed > 0 && compressed <= payload.len(),
                "{image}: {compressed} bytes"
            );
            assert!(
                payload.len() - compressed < 8,
                "{image}: padding only after the data"
            );
            assert!(uncompressed > 0, "{image}: uncompressed size");
            let obfuscated = image.flags & FLAG_OBFUSCATED != 0;
            assert_eq!(
                obfuscated,
                image.kind == ImageKind::LtoIr,
                "{image}: flags {:#x}",
                image.flags
            );
            if obfuscated {
                return;
            }
            let is_zstd = payload.starts_with(ZSTD_MAGIC);
            assert_eq!(
                is_zstd,
                image.compression == Compression::Zstd,
                "{image}: zstd frame magic"
            );
        }
    }
}

/// PTX text without the newlines and NULs around it, which the container pads with.
fn trim_padding(text: &[u8]) -> Vec<u8> {
    let is_padding = |byte: &u8| matches!(byte, 0 | b'\n' | b'\r' | b' ');
    let start = text
        .iter()
        .position(|byte| !is_padding(byte))
        .unwrap_or(text.len());
    let end = text
        .iter()
        .rposition(|byte| !is_padding(byte))
        .map_or(start, |end| end + 1);
    text[start..end].to_vec()
}

/// The SM recorded in a cubin's `e_flags`: ABI v1 (`EI_ABIVERSION` 7) keeps it in the low byte,
/// ABI v2 (8, every CUDA 13 cubin) in the second byte.
fn cubin_sm(elf: &[u8]) -> u32 {
    let flags = u32::from_le_bytes(elf[0x30..0x34].try_into().unwrap());
    match elf[8] {
        7 => flags & 0xff,
        8 => (flags >> 8) & 0xff,
        other => panic!("unknown cubin ELF ABI version {other}"),
    }
}

fn display(images: &[Image]) -> Vec<String> {
    images.iter().map(Image::to_string).collect()
}

fn test_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("fatbin_golden")
        .join(name);
    if dir.exists() {
        fs::remove_dir_all(&dir).unwrap();
    }
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("failed to read {}: {e}", path.display()))
}
