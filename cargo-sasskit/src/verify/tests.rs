//! Verification on synthetic fat binaries laid out as FATBIN.md §2 describes.

use sasskit_core::TargetList;

use super::{KERNEL_NAME_WIDTH, Kernels, Problem, check};

/// A real cubin (nvcc 13.0, sm_90) with the kernels `big`, `unused`, `empty` and `mix`.
const CUBIN: &[u8] = include_bytes!("../../../core/tests/fixtures/params_sm90.cubin");
const CUBIN_KERNELS: &str = "big, unused, empty, mix";

const SASS: u16 = 2;
const PTX: u16 = 1;
const LTO: u16 = 8;
const LINUX_64: u64 = 0x11;
const ZSTD: u64 = 0x8000;
const A: u64 = 0x10_0000;
const F: u64 = 0x20_0000;

/// One container holding `entries` of (kind, sm, flags, payload).
fn fatbin(entries: &[(u16, u32, u64, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for &(kind, sm, flags, payload) in entries {
        let padded = payload.len().next_multiple_of(8);
        let mut header = [0u8; 64];
        header[0..2].copy_from_slice(&kind.to_le_bytes());
        header[2..4].copy_from_slice(&0x0101u16.to_le_bytes());
        header[4..8].copy_from_slice(&64u32.to_le_bytes());
        header[8..16].copy_from_slice(&(padded as u64).to_le_bytes());
        if flags & ZSTD != 0 {
            header[0x10..0x14].copy_from_slice(&(payload.len() as u32).to_le_bytes());
            header[0x38..0x40].copy_from_slice(&(4 * payload.len() as u64).to_le_bytes());
        }
        header[0x18..0x1a].copy_from_slice(&8u16.to_le_bytes());
        header[0x1a..0x1c].copy_from_slice(&1u16.to_le_bytes());
        header[0x1c..0x20].copy_from_slice(&sm.to_le_bytes());
        header[0x28..0x30].copy_from_slice(&flags.to_le_bytes());
        body.extend_from_slice(&header);
        body.extend_from_slice(payload);
        body.resize(body.len() + padded - payload.len(), 0);
    }
    let mut out = Vec::new();
    out.extend_from_slice(&0xBA55_ED50u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// `parts` concatenated with host-code-like filler around them, as in an executable.
fn host_file(parts: &[Vec<u8>]) -> Vec<u8> {
    let mut file = b"\x7fELF host code".repeat(7);
    for part in parts {
        file.extend_from_slice(part);
        file.extend_from_slice(&[0x90; 13]);
    }
    file
}

fn required(list: &str) -> TargetList {
    TargetList::parse(list).unwrap()
}

fn missing(problems: &[Problem]) -> Vec<(usize, String)> {
    problems
        .iter()
        .filter_map(|problem| match problem {
            Problem::Missing { offset, target, .. } => Some((*offset, target.to_string())),
            _ => None,
        })
        .collect()
}

#[test]
fn default_targets_pass_when_every_container_has_them() {
    let one = fatbin(&[
        (SASS, 90, LINUX_64, CUBIN),
        (SASS, 100, LINUX_64 | 0x100_0000, CUBIN),
        (SASS, 121, LINUX_64, CUBIN),
    ]);
    let two = fatbin(&[
        (SASS, 121, LINUX_64, b"x"),
        (SASS, 100, LINUX_64, b"x"),
        (SASS, 90, LINUX_64, b"x"),
    ]);
    let report = check(&host_file(&[one, two]), &TargetList::default_targets());
    assert_eq!(report.problems, []);
    assert_eq!(report.containers.len(), 2);
    let first = report.containers[0].parsed.as_ref().unwrap();
    assert_eq!(first.kernels.join(", "), CUBIN_KERNELS);
    let table = report.table(&TargetList::default_targets());
    assert!(
        table.contains(&format!("kernels: {CUBIN_KERNELS}")),
        "{table}"
    );
    assert!(table.contains("kernels: ?"), "{table}");
    assert_eq!(
        table.matches("ok: serves sm_90,sm_100,sm_121").count(),
        2,
        "{table}"
    );
}

#[test]
fn names_each_container_and_missing_arch() {
    let good = fatbin(&[
        (SASS, 90, LINUX_64, b"x"),
        (SASS, 100, LINUX_64, b"x"),
        (SASS, 121, LINUX_64, b"x"),
    ]);
    let bad = fatbin(&[
        (SASS, 90, LINUX_64, CUBIN),
        (PTX, 100, LINUX_64 | ZSTD, b"ptx"),
    ]);
    let file = host_file(&[good.clone(), bad]);
    let bad_offset = file.windows(good.len()).position(|w| w == good).unwrap() + good.len() + 13;
    let report = check(&file, &TargetList::default_targets());
    assert_eq!(
        missing(&report.problems),
        [
            (bad_offset, "sm_100".to_owned()),
            (bad_offset, "sm_121".to_owned())
        ],
        "PTX does not serve a SASS target"
    );
    let message = report.problems[1].to_string();
    assert_eq!(
        message,
        format!(
            "container at {bad_offset:#x} (kernels big, unused, empty, mix) has no SASS for sm_121 (it holds sass \
             sm_90, ptx compute_100 (zstd)): add sm_121 to SASSKIT_ARCHS, to \
             `[package.metadata.sasskit] archs` or to the build.rs target list, and rebuild"
        )
    );
    assert!(
        report
            .table(&TargetList::default_targets())
            .contains("MISSING: sm_100, sm_121")
    );
}

#[test]
fn a_and_f_sass_serve_the_plain_target_but_not_the_reverse() {
    let file = fatbin(&[
        (SASS, 90, LINUX_64 | A, b"x"),
        (SASS, 100, LINUX_64 | F, b"x"),
    ]);
    assert_eq!(check(&file, &required("sm_90,sm_100")).problems, []);
    assert_eq!(check(&file, &required("sm_90a,sm_100f")).problems, []);
    let plain = fatbin(&[(SASS, 90, LINUX_64, b"x"), (SASS, 100, LINUX_64, b"x")]);
    let report = check(&plain, &required("sm_90a,sm_100f"));
    assert_eq!(
        missing(&report.problems),
        [(0, "sm_90a".to_owned()), (0, "sm_100f".to_owned())]
    );
    let report = check(&file, &required("sm_100a"));
    assert_eq!(
        missing(&report.problems),
        [(0, "sm_100a".to_owned())],
        "f does not serve a"
    );
}

#[test]
fn ptx_targets_need_ptx() {
    let file = fatbin(&[
        (SASS, 90, LINUX_64, b"x"),
        (LTO, 90, LINUX_64 | 0x1_0000, b"x"),
    ]);
    let report = check(&file, &required("sm_90,compute_90"));
    assert_eq!(missing(&report.problems), [(0, "compute_90".to_owned())]);
    assert!(
        report.problems[0]
            .to_string()
            .contains("has no PTX for compute_90")
    );
    let with_ptx = fatbin(&[
        (PTX, 90, LINUX_64 | ZSTD, b"ptx"),
        (SASS, 90, LINUX_64, b"x"),
    ]);
    assert_eq!(check(&with_ptx, &required("sm_90,compute_90")).problems, []);
}

#[test]
fn no_container_is_a_failure() {
    let report = check(
        b"\x7fELF just host code \x50\xed\x55\xba but no container",
        &required("sm_90"),
    );
    assert_eq!(report.problems, [Problem::NoFatBinary]);
    assert!(
        report.problems[0]
            .to_string()
            .starts_with("no fat binary found")
    );
}

#[test]
fn corrupt_container_is_a_failure() {
    let mut file = fatbin(&[(SASS, 90, LINUX_64, b"x")]);
    // Claim more entry bytes than the file holds.
    file[8..16].copy_from_slice(&4096u64.to_le_bytes());
    let report = check(&host_file(&[file]), &required("sm_90"));
    assert!(
        matches!(
            report.problems.as_slice(),
            [Problem::Corrupt { offset: 98, .. }]
        ),
        "{:?}",
        report.problems
    );
    let message = report.problems[0].to_string();
    assert!(
        message.starts_with("the container candidate at 0x62 cannot be read"),
        "{message}"
    );
    assert!(
        report
            .table(&required("sm_90"))
            .starts_with("container 0x00000062: corrupt")
    );
}

/// `--compress-mode=size` stores cubins as zstd frames: verify decompresses them to name the
/// kernels, as it does for raw ones.
#[test]
fn kernels_of_compressed_cubins_are_listed() {
    let frame =
        ruzstd::encoding::compress_to_vec(CUBIN, ruzstd::encoding::CompressionLevel::Fastest);
    let mut container = fatbin(&[(SASS, 90, LINUX_64 | ZSTD, &frame)]);
    // The entry header starts after the 16-byte container header; 0x38 is the decompressed size.
    container[16 + 0x38..16 + 0x40].copy_from_slice(&(CUBIN.len() as u64).to_le_bytes());
    let report = check(&host_file(&[container]), &required("sm_90"));
    assert_eq!(report.problems, []);
    let table = report.table(&required("sm_90"));
    assert!(
        table.contains(&format!("kernels: {CUBIN_KERNELS}")),
        "{table}"
    );
}

#[test]
fn long_kernel_lists_are_cut_to_a_few_names_and_a_count() {
    let mut names: Vec<String> = (0..1250)
        .map(|i| format!("_Z12mmq_instanceILi{i}ELb1EEvPKvS1_Pfiiiiiiiii"))
        .collect();
    names[0] = format!("_Z{}", "x".repeat(300));
    let shown = Kernels(&names).to_string();
    assert!(shown.len() < 300, "{} characters: {shown}", shown.len());
    assert!(shown.ends_with(" and 1246 more"), "{shown}");
    assert!(
        shown.starts_with(&format!("_Z{}…, ", "x".repeat(KERNEL_NAME_WIDTH - 3))),
        "{shown}"
    );
    let few = ["big".to_owned(), "mix".to_owned()];
    assert_eq!(Kernels(&few).to_string(), "big, mix");
}

#[test]
fn the_json_report_lists_every_container_image_and_problem() {
    let bad = fatbin(&[
        (SASS, 90, LINUX_64, CUBIN),
        (PTX, 100, LINUX_64 | ZSTD, b"ptx"),
    ]);
    let required = TargetList::parse("sm_90,sm_100").unwrap();
    let report = check(&host_file(&[bad]), &required);
    let json = report.to_json(std::path::Path::new("target/release/app"), &required);
    assert!(
        json.starts_with(
            "{\"file\": \"target/release/app\", \"required\": [\"sm_90\", \"sm_100\"], \"ok\": \
             false, \"containers\": [{\"offset\": "
        ),
        "{json}"
    );
    for part in [
        "\"kernels\": [\"big\", \"unused\", \"empty\", \"mix\"]",
        "{\"kind\": \"sass\", \"target\": \"sm_90\", \"version\": ",
        "{\"kind\": \"ptx\", \"target\": \"compute_100\", ",
        "\"compression\": \"zstd\"",
        "\"missing\": [\"sm_100\"], \"error\": null}]",
        "\"problems\": [\"container at 0x",
    ] {
        assert!(json.contains(part), "`{part}` not in {json}");
    }
    assert!(json.ends_with("and rebuild\"]}"), "{json}");
    // Balanced: one object, every bracket closed.
    assert_eq!(
        json.matches('{').count(),
        json.matches('}').count(),
        "{json}"
    );
    assert_eq!(
        json.matches('[').count(),
        json.matches(']').count(),
        "{json}"
    );
}

#[test]
fn a_container_is_named_by_the_manifest_with_its_images() {
    let object = fatbin(&[(SASS, 90, LINUX_64, CUBIN), (SASS, 100, LINUX_64, b"x")]);
    let other = fatbin(&[(SASS, 90, LINUX_64, b"y")]);
    let images: Vec<sasskit_core::manifest::ImageInfo> =
        sasskit_core::fatbin::FatBinary::parse(&object)
            .unwrap()
            .images()
            .iter()
            .map(sasskit_core::manifest::ImageInfo::from_image)
            .collect();
    let mut origins = super::Origins::default();
    origins.insert(
        &images,
        "library moe, object moe/mmq_q4.o, source /crate/kernels/mmq_q4.cu".to_owned(),
    );
    let required = TargetList::parse("sm_90,sm_121").unwrap();
    let report = super::check_with(&host_file(&[object, other]), &required, &origins);
    assert_eq!(
        report.containers[0].origin.as_deref(),
        Some("library moe, object moe/mmq_q4.o, source /crate/kernels/mmq_q4.cu")
    );
    assert_eq!(report.containers[1].origin, None);
    let table = report.table(&required);
    assert!(
        table.contains(": library moe, object moe/mmq_q4.o, source /crate/kernels/mmq_q4.cu\n"),
        "{table}"
    );
    let message = report.problems[0].to_string();
    assert!(
        message.contains(
            " (library moe, object moe/mmq_q4.o, source /crate/kernels/mmq_q4.cu) (kernels big, \
             unused, empty, mix) has no SASS for sm_121"
        ),
        "{message}"
    );
    // One file built twice (a module and a library object) makes the same images: both named.
    origins.insert(
        &images,
        "module mmq_q4, source /crate/kernels/mmq_q4.cu".to_owned(),
    );
    let images_of_first = match &report.containers[0].parsed {
        Ok(parsed) => parsed.images.clone(),
        Err(error) => panic!("{error}"),
    };
    assert_eq!(
        origins.name(&images_of_first).as_deref(),
        Some(
            "library moe, object moe/mmq_q4.o, source /crate/kernels/mmq_q4.cu or module mmq_q4, \
             source /crate/kernels/mmq_q4.cu"
        )
    );
    let json = report.to_json(std::path::Path::new("app"), &required);
    assert!(
        json.contains(
            "\"origin\": \"library moe, object moe/mmq_q4.o, source /crate/kernels/mmq_q4.cu\""
        ),
        "{json}"
    );
    assert!(json.contains("\"origin\": null"), "{json}");
}

#[test]
fn manifests_are_found_in_sasskit_folders_below_a_build_folder() {
    let build = std::env::temp_dir().join(format!("sasskit-origins-{}", std::process::id()));
    let folder = build.join("app-1a2b").join("out").join("sasskit");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("common.types.toml"), "not = \"a manifest\"\n").unwrap();
    let found = super::Origins::from_folders(std::slice::from_ref(&build)).unwrap();
    assert!(found.is_empty());
    std::fs::write(
        folder.join("moe.library.toml"),
        "format = 1\n\n[library]\nname = \"moe\"\narchive = \"libmoe.a\"\ntargets = \
         [\"sm_90\"]\nbuild_key = \"k\"\ncache = \"off\"\n\n[toolkit]\nnvcc = \"nvcc\"\n\
         version = \"13.0.88\"\n\n[[objects]]\nsource = \"/crate/moe.cu\"\nobject = \
         \"moe/moe.o\"\nbuild_key = \"k\"\ncache = \"off\"\nimages = [{ kind = \"sass\", \
         arch = \"sm_90\", compression = \"none\", size = 5184 }]\n",
    )
    .unwrap();
    let found = super::Origins::from_folders(std::slice::from_ref(&build)).unwrap();
    assert_eq!(found.len(), 1);
    let error = super::Origins::from_folders(&[build.join("nope")]).unwrap_err();
    assert!(error.to_string().contains("is not a folder"), "{error}");
    let _ = std::fs::remove_dir_all(&build);
}
