//! The candle static-library acceptance (tier 1): candle-kernels 0.11.1's static-library set
//! (its 15 MoE, MMVQ and MMQ files, whose host code launches their kernels), built by
//! `tests/candle`'s build.rs into `libmoe.a` for sm_90, sm_100 and sm_121 with candle's flags.
//!
//! * every object's fat binary holds SASS for the three targets;
//! * the declarations `host_functions!` generates are exactly the library's exported C host
//!   functions (`nm`, less the `extern "C"` kernels' stubs found in the cubins) and exactly the functions candle declares by hand in its `ffi.rs` (without the
//!   `cutile` feature's);
//! * the binary that links every object (`candle_static_set`) passes `cargo xtask verify
//!   --require sm_90,sm_100,sm_121`.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use sasskit_core::cubin;
use sasskit_core::fatbin::{ImageKind, find_fat_binaries};
use sasskit_core::library::LibraryManifest;
use sasskit_tests::process::{command, describe, output};
use sasskit_tests::toolchain::{Tool, require_or_skip, workspace_root};

use super::{ARCHS, SOURCES_ENV, candle_sources, out_dir};

/// The objects of candle's static library.
const OBJECTS: usize = 15;

#[test]
fn candles_static_library_set_builds_declares_every_function_and_verifies() {
    let name = "candles_static_library_set_builds_declares_every_function_and_verifies";
    let Some(nvcc) = require_or_skip(name, Tool::Nvcc) else {
        return;
    };
    let Some(sources) = candle_sources(name) else {
        return;
    };
    let (messages, build_secs) = build(&nvcc, &sources);
    let root = workspace_root();
    let folder = out_dir(&messages).join("sasskit");
    let manifest = LibraryManifest::from_toml(
        &std::fs::read_to_string(folder.join("moe.library.toml")).unwrap(),
    )
    .unwrap();

    let mut problems = object_problems(&manifest);

    let declared: BTreeSet<&str> = manifest
        .functions
        .iter()
        .filter(|function| function.untyped.is_none())
        .map(|function| function.name.as_str())
        .collect();
    let untyped: Vec<String> = manifest
        .functions
        .iter()
        .filter_map(|f| Some(format!("{}: {}", f.name, f.untyped.as_ref()?)))
        .collect();
    if !untyped.is_empty() {
        problems.push(format!("without a declaration: {}", untyped.join("; ")));
    }
    let exported = exported_c_symbols(&folder.join("libmoe.a"));
    let by_hand = candles_ffi_declarations(&sources.join("ffi.rs"));
    let exported_set: BTreeSet<&str> = exported.iter().map(String::as_str).collect();
    let by_hand_set: BTreeSet<&str> = by_hand.iter().map(String::as_str).collect();
    problems.extend(differences(
        "the archive's exported C functions",
        &declared,
        &exported_set,
    ));
    problems.extend(differences("candle's ffi.rs", &declared, &by_hand_set));
    let streams = manifest
        .functions
        .iter()
        .filter(|f| f.params.iter().any(|p| p.ty.is_stream()))
        .count();

    let program = executable(&messages, "candle_static_set");
    let ran = output(&mut command(&program));
    let linked = String::from_utf8_lossy(&ran.stdout).trim().to_owned();
    if !ran.status.success() {
        problems.push(format!("candle_static_set failed: {linked}"));
    }
    let (verify, verified) = verify(&root, &program);
    let verify_out = String::from_utf8_lossy(&verified.stdout).into_owned();
    if !verified.status.success() {
        problems.push(format!(
            "`{}` failed:\n{verify_out}{}",
            describe(&verify),
            String::from_utf8_lossy(&verified.stderr)
        ));
    }
    // Every object's fat binary is in the program: none was left out by the linker.
    let every_object = format!("{OBJECTS} fat binaries");
    if verified.status.success() && !verify_out.contains(&every_object) {
        problems.push(format!(
            "the program holds not {every_object}:\n{verify_out}"
        ));
    }

    let mut table = String::new();
    let _ = writeln!(
        table,
        "candle static library: {OBJECTS} files of {} in libmoe.a for {} (origin {}) in \
         {build_secs:.1} s (cargo build --release in tests/candle, with the PTX set)",
        sources.display(),
        ARCHS.join(", "),
        manifest.library.origin
    );
    let _ = writeln!(
        table,
        "extern \"C\" functions: {} declared by host_functions! ({streams} taking a stream), {} \
         exported C symbols in libmoe.a (nm), {} in candle's ffi.rs without `cutile`",
        declared.len(),
        exported.len(),
        by_hand.len()
    );
    let _ = writeln!(table, "{linked}");
    let summary = verify_out.lines().last().unwrap_or_default();
    let _ = writeln!(table, "{}: {summary}", describe(&verify));
    let _ = std::io::stderr().write_all(table.as_bytes());
    assert!(
        problems.is_empty(),
        "candle's static library does not pass:\n{}",
        problems.join("\n")
    );
    assert_eq!(declared.len(), 49, "candle 0.11.1 has 49 such functions");
}

/// What differs between the generated declarations and another list of the functions.
fn differences(other: &str, declared: &BTreeSet<&str>, listed: &BTreeSet<&str>) -> Option<String> {
    (declared != listed).then(|| {
        format!(
            "the declarations differ from {other}: only declared {:?}, only in {other} {:?}",
            declared.difference(listed).collect::<Vec<_>>(),
            listed.difference(declared).collect::<Vec<_>>()
        )
    })
}

/// `cargo build --release` in `tests/candle`, as the corpus test runs it: cargo's JSON messages
/// and the seconds it took.
fn build(nvcc: &Path, sources: &Path) -> (String, f64) {
    let start = Instant::now();
    let mut cargo = command(env!("CARGO"));
    cargo
        .args([
            "build",
            "--release",
            "--message-format=json-render-diagnostics",
        ])
        .current_dir(workspace_root().join("tests").join("candle"))
        .env("NVCC", nvcc)
        .env(SOURCES_ENV, sources);
    let build = output(&mut cargo);
    assert!(
        build.status.success(),
        "`{}` in tests/candle failed with {}:\n{}",
        describe(&cargo),
        build.status,
        String::from_utf8_lossy(&build.stderr)
    );
    (
        String::from_utf8_lossy(&build.stdout).into_owned(),
        start.elapsed().as_secs_f64(),
    )
}

/// The library's targets, its number of objects, and each object's SASS.
fn object_problems(manifest: &LibraryManifest) -> Vec<String> {
    let mut problems = Vec::new();
    if manifest.library.targets != ARCHS {
        problems.push(format!("targets {:?}", manifest.library.targets));
    }
    if manifest.objects.len() != OBJECTS {
        problems.push(format!("{} objects, not {OBJECTS}", manifest.objects.len()));
    }
    for object in &manifest.objects {
        let sass: Vec<&str> = object
            .images
            .iter()
            .filter(|image| image.kind == "sass")
            .map(|image| image.arch.as_str())
            .collect();
        if ARCHS.iter().any(|target| !sass.contains(target)) {
            problems.push(format!("{}: SASS only for {sass:?}", object.source));
        }
    }
    problems
}

/// `cargo xtask verify <program> --require sm_90,sm_100,sm_121`, run as `cargo run -p xtask`.
fn verify(root: &Path, program: &Path) -> (std::process::Command, std::process::Output) {
    let mut verify = command(env!("CARGO"));
    verify
        .args(["run", "--quiet", "-p", "xtask", "--", "verify"])
        .arg(program)
        .args(["--require", &ARCHS.join(",")])
        .current_dir(root);
    let verified = output(&mut verify);
    (verify, verified)
}

/// The C host functions the archive defines and exports: `nm`'s global text symbols, without
/// C++'s mangled names (`_Z…`), the toolkit's own (`__cuda…`, `__nv…`) and the host stubs of
/// `extern "C"` kernels (the kernels of the cubins in the objects' fat binaries).
fn exported_c_symbols(archive: &Path) -> BTreeSet<String> {
    let bytes = std::fs::read(archive).unwrap();
    let kernels: BTreeSet<String> = find_fat_binaries(&bytes)
        .into_iter()
        .filter_map(|found| found.result.ok())
        .flat_map(|fatbin| {
            fatbin
                .images()
                .iter()
                .filter(|image| image.kind == ImageKind::Sass)
                .filter_map(|image| cubin::kernels(&fatbin.contents(image).ok()?).ok())
                .flatten()
                .map(|kernel| kernel.name)
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(
        !kernels.is_empty(),
        "no kernels in the cubins of {}",
        archive.display()
    );
    let mut nm = command("nm");
    nm.args(["-g", "--defined-only"]).arg(archive);
    let listed = output(&mut nm);
    assert!(
        listed.status.success(),
        "`{}` failed (binutils' nm is needed): {}",
        describe(&nm),
        String::from_utf8_lossy(&listed.stderr)
    );
    String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (_, kind, name) = (fields.next()?, fields.next()?, fields.next()?);
            (kind == "T"
                && !name.starts_with("_Z")
                && !name.starts_with("__")
                && !kernels.contains(name))
            .then(|| name.to_owned())
        })
        .collect()
}

/// The functions candle declares by hand in `ffi.rs` (`pub fn name(`), without those under
/// `#[cfg(feature = "cutile")]`, whose source this build does not compile.
fn candles_ffi_declarations(ffi: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(ffi).unwrap();
    let mut names = BTreeSet::new();
    let mut cutile = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with("#[cfg(feature = \"cutile\")]") {
            cutile = true;
            continue;
        }
        if let Some(rest) = line.strip_prefix("pub fn ") {
            let name = rest.split('(').next().unwrap_or_default().to_owned();
            if !cutile {
                names.insert(name);
            }
            cutile = false;
        }
    }
    names
}

/// The executable of the binary target `name`, from cargo's JSON messages.
fn executable(messages: &str, name: &str) -> PathBuf {
    let target = format!("\"name\":\"{name}\"");
    messages
        .lines()
        .filter(|line| line.contains("\"reason\":\"compiler-artifact\"") && line.contains(&target))
        .find_map(|line| {
            let rest = &line[line.find("\"executable\":\"")? + 14..];
            Some(PathBuf::from(&rest[..rest.find('"')?]))
        })
        .unwrap_or_else(|| panic!("cargo reported no executable `{name}`"))
}
