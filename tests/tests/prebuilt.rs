//! A crate that ships prebuilt fat binaries, end to end: its author refreshes them with nvcc
//! (`cargo-sasskit`'s library), `cargo package` makes the `.crate`, and a user builds the
//! unpacked crate with no nvcc anywhere; then the stale cases, docs.rs, and the crate's own
//! `xtask verify`. One test, since every step needs the one before.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Output;

use sasskit_core::manifest::Origin;
use sasskit_tests::prebuilt_crate::{
    Author, Consumer, HEADER, HEADER_PATH, NAME, built_manifest, nvcc_at_fixed_location,
};
use sasskit_tests::process::{command, failure, output};
use sasskit_tests::toolchain::{Tool, require_or_skip};

const TARGETS: &str = "sm_90,sm_100,sm_121";

fn stderr(result: &Output) -> String {
    String::from_utf8_lossy(&result.stderr).into_owned()
}

fn assert_ok(what: &str, result: &Output) {
    assert!(
        result.status.success(),
        "{what} failed:\n{}",
        failure(&command(what), result)
    );
}

fn targets(list: &str) -> sasskit_core::TargetList {
    sasskit_core::TargetList::parse(list).unwrap()
}

/// The header with one byte changed (`0.5f` → `0.6f`).
fn edited_header() -> String {
    let edited = HEADER.replace("0.5f", "0.6f");
    assert_eq!(edited.len(), HEADER.len());
    edited
}

#[test]
fn a_packaged_crate_builds_from_its_prebuilt_folder_without_nvcc() {
    let Some(nvcc) = require_or_skip("prebuilt: packaged crate", Tool::Nvcc) else {
        return;
    };
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("prebuilt");
    // Kept between runs: the dependencies compile once.
    let target: PathBuf = sasskit_tests::throwaway::shared_target_dir();
    let author = Author::write(&scratch.join("author"), &target);
    refresh_compressed_and_current(&author, &nvcc);

    // Packaged, unpacked (outside this repository, whose workspace would otherwise claim it)
    // and built with no nvcc anywhere.
    let crate_file = author.package();
    let size = std::fs::metadata(&crate_file).unwrap().len();
    eprintln!("{}: {size} bytes", crate_file.display());
    let unpacked = std::env::temp_dir().join(format!("sasskit-prebuilt-{}", std::process::id()));
    let consumer = Consumer::unpack(&crate_file, &unpacked, &target);
    let module_page = builds_verifies_and_documents_without_nvcc(&consumer);
    stale_header(&consumer, &nvcc, &module_page);
    check_fails_until_refreshed(&author, &nvcc);
    own_xtask_verifies(&author, &consumer, &nvcc, &target);
    let _ = std::fs::remove_dir_all(unpacked);
}

/// The author refreshes the folder with nvcc: inputs recorded relative to the crate, images
/// compressed, and the check passes.
fn refresh_compressed_and_current(author: &Author, nvcc: &Path) {
    author.prebuild(nvcc, false).expect("refresh");
    let folder = author.dir().join("prebuilt");
    let manifest = std::fs::read_to_string(folder.join("scale.toml")).unwrap();
    assert!(
        manifest.contains("path = \"kernels/common.cuh\""),
        "{manifest}"
    );
    assert!(
        manifest.contains("path = \"kernels/scale.cu\""),
        "{manifest}"
    );
    let fatbin = std::fs::read(folder.join("scale.fatbin")).unwrap();
    let parsed = sasskit_core::FatBinary::parse(&fatbin).unwrap();
    assert!(
        parsed
            .images()
            .iter()
            .all(|image| image.compression != sasskit_core::Compression::None),
        "prebuilt images are compressed: {:?}",
        parsed.images()
    );
    author
        .prebuild(nvcc, true)
        .expect("a fresh folder passes the check");
}

/// The unpacked crate builds with no nvcc from its prebuilt folder, its binary carries every
/// target and runs, and docs.rs documents every wrapper. Returns the module's doc page.
fn builds_verifies_and_documents_without_nvcc(consumer: &Consumer) -> PathBuf {
    assert!(consumer.dir().join("prebuilt/scale.fatbin").is_file());
    let built = consumer.build(&[]);
    assert_ok("cargo build (no nvcc)", &built);
    let manifest = built_manifest(&built, "scale");
    assert_eq!(manifest.module.origin, Origin::Prebuilt);
    assert_eq!(manifest.kernels.len(), 2);
    cargo_sasskit::verify::run(&consumer.binary(), &targets(TARGETS))
        .expect("the binary built without nvcc carries SASS for every target");
    let run = output(&mut command(consumer.binary()));
    assert_ok("the prebuilt crate's binary", &run);

    let docs = output(consumer.cargo(&["doc", "--no-deps"]).env("DOCS_RS", "1"));
    assert_ok("DOCS_RS=1 cargo doc", &docs);
    let module_page = consumer
        .target_dir()
        .join("doc")
        .join(NAME.replace('-', "_"))
        .join("scale")
        .join("struct.Module.html");
    let page = std::fs::read_to_string(&module_page).unwrap();
    assert!(
        page.contains("method.scale"),
        "no `scale` in {}",
        module_page.display()
    );
    assert!(
        page.contains("method.iota"),
        "no `iota` in {}",
        module_page.display()
    );
    module_page
}

/// One byte of an included header changed in the unpacked crate: without nvcc the build fails
/// naming it and the refresh command; docs.rs still documents the wrappers and a metadata-only
/// build's binary refuses to load; with nvcc the module is rebuilt with a warning.
fn stale_header(consumer: &Consumer, nvcc: &Path, module_page: &Path) {
    std::fs::write(consumer.dir().join(HEADER_PATH), edited_header()).unwrap();
    if nvcc_at_fixed_location() {
        eprintln!("skipped the no-nvcc stale check: /usr/local/cuda/bin/nvcc exists here");
    } else {
        let stale = consumer.build(&[]);
        assert!(
            !stale.status.success(),
            "a stale prebuilt folder without nvcc must fail"
        );
        let message = stderr(&stale);
        assert!(
            message.contains("`kernels/common.cuh` changed since it was prebuilt"),
            "{message}"
        );
        assert!(message.contains("cargo sasskit prebuild"), "{message}");
    }

    let docs = output(consumer.cargo(&["doc", "--no-deps"]).env("DOCS_RS", "1"));
    assert_ok("DOCS_RS=1 cargo doc (stale)", &docs);
    let page = std::fs::read_to_string(module_page).unwrap();
    assert!(
        page.contains("method.iota"),
        "no `iota` in {}",
        module_page.display()
    );
    let index = module_page.with_file_name("index.html");
    let text = std::fs::read_to_string(&index).unwrap();
    assert!(
        text.contains("This build has no fat binary for the module"),
        "{} does not say why the module has no fat binary",
        index.display()
    );
    let metadata_only = consumer.build(&[("SASSKIT_METADATA_ONLY", &OsString::from("1"))]);
    assert_ok(
        "SASSKIT_METADATA_ONLY=1 cargo build (stale)",
        &metadata_only,
    );
    assert_eq!(
        built_manifest(&metadata_only, "scale").module.origin,
        Origin::Unavailable
    );
    let refused = output(&mut command(consumer.binary()));
    assert!(!refused.status.success());
    let message = stderr(&refused);
    assert!(
        message.contains("module `scale` was not built, so it cannot be loaded"),
        "{message}"
    );

    let rebuilt = consumer.build(&[("NVCC", &nvcc.as_os_str().to_owned())]);
    assert_ok("cargo build (stale, with nvcc)", &rebuilt);
    let warning = stderr(&rebuilt);
    assert!(
        warning.contains(
            "the prebuilt fat binary of module `scale` in `prebuilt` is stale (`kernels/common.cuh` \
             changed since it was prebuilt): building it with nvcc"
        ),
        "{warning}"
    );
    assert_eq!(
        built_manifest(&rebuilt, "scale").module.origin,
        Origin::Built
    );
    std::fs::write(consumer.dir().join(HEADER_PATH), HEADER).unwrap();
}

/// The author's check fails after the same edit, until the folder is refreshed.
fn check_fails_until_refreshed(author: &Author, nvcc: &Path) {
    std::fs::write(author.dir().join(HEADER_PATH), edited_header()).unwrap();
    assert!(
        author.prebuild(nvcc, true).is_err(),
        "the check must fail on a stale folder"
    );
    author.prebuild(nvcc, false).expect("refresh");
    author.prebuild(nvcc, true).expect("current again");
}

/// The crate's own xtask calls the library verify: it passes on the binary built from the
/// prebuilt folder, and fails on one built without sm_121, naming it.
fn own_xtask_verifies(author: &Author, consumer: &Consumer, nvcc: &Path, target: &Path) {
    let xtask = |binary: &Path| {
        let mut cargo = command(env!("CARGO"));
        cargo
            .args(["run", "-q", "-p", "xtask", "--", "verify"])
            .arg(binary)
            .arg(TARGETS)
            .current_dir(author.dir())
            .env("CARGO_TARGET_DIR", target);
        output(&mut cargo)
    };
    assert_ok("cargo build", &consumer.build(&[]));
    assert_ok("xtask verify", &xtask(&consumer.binary()));
    let without_121 = consumer.build(&[
        ("NVCC", &nvcc.as_os_str().to_owned()),
        ("SASSKIT_ARCHS", &OsString::from("sm_90,sm_100")),
    ]);
    assert_ok("cargo build (sm_90,sm_100)", &without_121);
    let refused = xtask(&consumer.binary());
    assert!(
        !refused.status.success(),
        "xtask verify must refuse a binary without sm_121"
    );
    let message = stderr(&refused);
    assert!(message.contains("has no SASS for sm_121"), "{message}");
}
