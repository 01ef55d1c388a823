//! The candle corpus (tier 1): candle-kernels 0.11.1's PTX-set sources, built through sasskit by
//! the port of candle-kernels (`ports/candle/candle-kernels`, from its prebuilt folder) for the
//! standalone crate `tests/candle`, for sm_90, sm_100 and sm_121 with candle's flags. For
//! each of the 11 files the build must succeed and every `.visible .entry` of the file's own
//! PTX (`nvcc --ptx`, same flags, compute_90) must have a typed wrapper.
//!
//! The sources come from `SASSKIT_CANDLE_KERNELS` (`cargo xtask candle-sources` fetches them
//! and prints the folder; `cargo xtask ci` sets it). The build runs in `tests/candle`, whose
//! `.cargo/config.toml` gives it the target dir `target/candle` and a sasskit build cache, the
//! same build `cargo xtask gpu-bundle` ships; the PTX is kept under `target/candle/ptx`, keyed
//! by everything that changes it.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use sasskit_core::manifest::{Manifest, Origin};
use sasskit_tests::process::{command, describe, env_var, output, run};
use sasskit_tests::toolchain::{
    REQUIRE_ENV, Tool, require_or_skip, toolchain_required, workspace_root,
};

#[path = "../candle/corpus.rs"]
#[allow(dead_code)]
mod corpus;

use corpus::{ARCHS, FLAGS, PTX_FILES};

const SOURCES_ENV: &str = "SASSKIT_CANDLE_KERNELS";
/// The package whose build script builds candle's kernels for `tests/candle`: the port of
/// candle-kernels (`ports/candle/candle-kernels`), a dependency of `tests/candle`.
const PACKAGE: &str = "candle-kernels";

#[path = "candle/static_library.rs"]
mod static_library;

#[test]
fn every_ptx_entry_of_candles_kernels_has_a_typed_wrapper() {
    let name = "every_ptx_entry_of_candles_kernels_has_a_typed_wrapper";
    let Some(nvcc) = require_or_skip(name, Tool::Nvcc) else {
        return;
    };
    let Some(sources) = candle_sources(name) else {
        return;
    };
    let corpus = build_with_ptx(&nvcc, &sources);
    let mut table = format!(
        "candle corpus: {} built for {} with {} in {:.1} s (cargo build --release in \
         tests/candle); PTX entries in {:.1} s, alongside\n{:<10} {:>11} {:>9} {:>8}\n",
        sources.display(),
        ARCHS.join(", "),
        FLAGS.join(" "),
        corpus.build_secs,
        corpus.ptx_secs,
        "file",
        "PTX entries",
        "wrappers",
        "untyped"
    );
    let mut problems = Vec::new();
    let mut totals = [0; 3];
    for (file, entries) in PTX_FILES.iter().zip(&corpus.ptx) {
        let manifest = manifest(&corpus.out_dir, file);
        let row = [
            entries.len(),
            typed(&manifest).len(),
            untyped(&manifest).len(),
        ];
        let _ = writeln!(
            table,
            "{file:<10} {:>11} {:>9} {:>8}",
            row[0], row[1], row[2]
        );
        for (total, count) in totals.iter_mut().zip(row) {
            *total += count;
        }
        problems.extend(
            check_file(&manifest, entries)
                .into_iter()
                .map(|problem| format!("{file}.cu: {problem}")),
        );
    }
    let _ = writeln!(
        table,
        "{:<10} {:>11} {:>9} {:>8}",
        "total", totals[0], totals[1], totals[2]
    );
    // Straight to stderr, past the test harness's capture: the table is the point of the test
    // and belongs in the CI log even when it passes.
    let _ = std::io::stderr().write_all(table.as_bytes());
    assert!(
        problems.is_empty(),
        "the candle corpus does not pass:\n{}",
        problems.join("\n")
    );
}

/// The crate's build and each file's PTX entries, with how long each took.
struct Corpus {
    out_dir: PathBuf,
    build_secs: f64,
    ptx: Vec<Vec<String>>,
    ptx_secs: f64,
}

/// Builds `tests/candle` in release and, alongside (the build's last minute is quantized.cu
/// alone on one core), finds the PTX entries of every file.
fn build_with_ptx(nvcc: &Path, sources: &Path) -> Corpus {
    let root = workspace_root();
    let ptx_dir = root.join("target").join("candle").join("ptx");
    std::thread::scope(|scope| {
        let ptx = scope.spawn(|| {
            let start = Instant::now();
            let entries = ptx_entries(nvcc, sources, &ptx_dir);
            (entries, start.elapsed().as_secs_f64())
        });
        let start = Instant::now();
        let mut cargo = command(env!("CARGO"));
        cargo
            // JSON for the artifacts on stdout, diagnostics rendered on stderr as usual.
            .args([
                "build",
                "--release",
                "--message-format=json-render-diagnostics",
            ])
            .current_dir(root.join("tests").join("candle"))
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
        let build_secs = start.elapsed().as_secs_f64();
        let (ptx, ptx_secs) = ptx.join().expect("the PTX thread panicked");
        Corpus {
            out_dir: out_dir(&String::from_utf8_lossy(&build.stdout)),
            build_secs,
            ptx,
            ptx_secs,
        }
    })
}

/// The manifest the build wrote for `file`.
fn manifest(out_dir: &Path, file: &str) -> Manifest {
    let path = out_dir.join("sasskit").join(format!("{file}.toml"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
    Manifest::from_toml(&text).unwrap_or_else(|error| panic!("parsing {}: {error}", path.display()))
}

/// The kernels that got a typed wrapper.
fn typed(manifest: &Manifest) -> BTreeSet<&str> {
    manifest
        .kernels
        .iter()
        .filter(|kernel| kernel.untyped.is_none())
        .map(|kernel| kernel.name.as_str())
        .collect()
}

/// The kernels that did not, with the reason.
fn untyped(manifest: &Manifest) -> Vec<String> {
    manifest
        .kernels
        .iter()
        .filter_map(|kernel| Some(format!("{} ({})", kernel.name, kernel.untyped.as_ref()?)))
        .collect()
}

/// What is wrong with one file's module: PTX entries without a typed wrapper, wrappers without
/// an entry, untyped kernels, other targets or flags than candle's.
fn check_file(manifest: &Manifest, entries: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    let typed = typed(manifest);
    let without: Vec<&str> = entries
        .iter()
        .map(String::as_str)
        .filter(|entry| !typed.contains(entry))
        .collect();
    if !without.is_empty() {
        problems.push(format!(
            "{} PTX entries have no typed wrapper: {}",
            without.len(),
            without.join(", ")
        ));
    }
    let extra: Vec<&str> = typed
        .iter()
        .copied()
        .filter(|kernel| !entries.iter().any(|entry| entry == kernel))
        .collect();
    if !extra.is_empty() {
        problems.push(format!(
            "wrappers without a PTX entry: {}",
            extra.join(", ")
        ));
    }
    let untyped = untyped(manifest);
    if !untyped.is_empty() {
        problems.push(format!("untyped: {}", untyped.join("; ")));
    }
    if manifest.module.targets != ARCHS {
        problems.push(format!(
            "built for {:?}, not {ARCHS:?}",
            manifest.module.targets
        ));
    }
    // A prebuilt fat binary (the port ships its modules so) is compressed as well.
    let mut expected: Vec<&str> = FLAGS.to_vec();
    if manifest.module.origin == Origin::Prebuilt {
        expected.push("--compress-mode=size");
    }
    if manifest.toolkit.flags != expected {
        problems.push(format!(
            "built ({}) with the flags {:?}, not {expected:?}",
            manifest.module.origin, manifest.toolkit.flags
        ));
    }
    problems
}

/// The source folder, or `None` when the test must skip.
fn candle_sources(test: &str) -> Option<PathBuf> {
    let message = format!(
        "{test} needs candle-kernels' sources: run \
         `export {SOURCES_ENV}=$(cargo xtask candle-sources)` (`cargo xtask ci` sets it)"
    );
    let Some(dir) = env_var(SOURCES_ENV) else {
        assert!(
            !toolchain_required(),
            "{message}; {REQUIRE_ENV}=1 forbids skipping"
        );
        eprintln!("skipped: {message}");
        return None;
    };
    let dir = PathBuf::from(dir);
    let port = workspace_root().join("ports/candle/candle-kernels/src");
    assert!(
        port.join("affine.cu").is_file(),
        "{} has no affine.cu: run `cargo xtask candle-port sources` (`cargo xtask ci` does), which \
         copies candle's CUDA sources into the port of candle-kernels that tests/candle builds",
        port.display()
    );
    assert!(
        dir.join("affine.cu").is_file(),
        "{SOURCES_ENV}={} has no affine.cu: it must name candle-kernels 0.11.1's `src` folder, \
         as `cargo xtask candle-sources` prints it",
        dir.display()
    );
    Some(dir)
}

/// The `OUT_DIR` of the crate's build script, from cargo's JSON messages.
fn out_dir(messages: &str) -> PathBuf {
    messages
        .lines()
        .filter(|line| line.contains("\"reason\":\"build-script-executed\""))
        // A path package's id ends in `/<folder>#<version>`, or `#<name>@<version>` when its
        // folder has another name.
        .filter(|line| {
            line.contains(&format!("/{PACKAGE}#")) || line.contains(&format!("#{PACKAGE}@"))
        })
        .find_map(|line| {
            let rest = &line[line.find("\"out_dir\":\"")? + 11..];
            Some(PathBuf::from(&rest[..rest.find('"')?]))
        })
        .unwrap_or_else(|| panic!("cargo reported no OUT_DIR for {PACKAGE}:\n{messages}"))
}

/// The `.visible .entry` names of each file's PTX, in `PTX_FILES` order, compiled on as many threads
/// as the machine has, or read from `ptx_dir` when an earlier run compiled the same inputs.
fn ptx_entries(nvcc: &Path, sources: &Path, ptx_dir: &Path) -> Vec<Vec<String>> {
    std::fs::create_dir_all(ptx_dir).unwrap();
    let key = ptx_key(nvcc, sources);
    let next = Mutex::new(0);
    let results: Mutex<Vec<Option<Vec<String>>>> = Mutex::new(vec![None; PTX_FILES.len()]);
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    std::thread::scope(|scope| {
        for _ in 0..threads.min(PTX_FILES.len()) {
            scope.spawn(|| {
                loop {
                    let index = {
                        let mut next = next.lock().unwrap();
                        let index = *next;
                        *next += 1;
                        index
                    };
                    let Some(file) = PTX_FILES.get(index) else {
                        break;
                    };
                    let ptx = ptx_dir.join(format!("{file}-{key:016x}.ptx"));
                    if !ptx.is_file() {
                        compile_ptx(nvcc, &sources.join(format!("{file}.cu")), &ptx);
                    }
                    let text = std::fs::read_to_string(&ptx).unwrap();
                    results.lock().unwrap()[index] = Some(visible_entries(&text));
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(Option::unwrap)
        .collect()
}

/// `nvcc --ptx` with candle's flags for compute_90, written under a temporary name and renamed,
/// so that an interrupted run leaves no PTX that a later one would trust.
fn compile_ptx(nvcc: &Path, source: &Path, ptx: &Path) {
    let partial = ptx.with_extension(format!("partial-{}", std::process::id()));
    let mut nvcc = command(nvcc);
    nvcc.arg("--ptx")
        .args(FLAGS)
        .arg("-arch=compute_90")
        .arg("-o")
        .arg(&partial)
        .arg(source);
    run(&mut nvcc);
    std::fs::rename(&partial, ptx).unwrap();
}

/// A key of everything the PTX depends on: nvcc (path and version), the flags, and every file of
/// the source folder (the `.cu` files include each other's headers from there).
fn ptx_key(nvcc: &Path, sources: &Path) -> u64 {
    let mut hasher = DefaultHasher::new();
    nvcc.hash(&mut hasher);
    run(command(nvcc).arg("--version")).hash(&mut hasher);
    FLAGS.hash(&mut hasher);
    let mut files: Vec<PathBuf> = std::fs::read_dir(sources)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    for file in files {
        file.file_name().hash(&mut hasher);
        std::fs::read(&file).unwrap().hash(&mut hasher);
    }
    hasher.finish()
}

/// The names of a PTX file's `.visible .entry` directives (`.visible .entry affine_f32(`).
fn visible_entries(ptx: &str) -> Vec<String> {
    ptx.lines()
        .filter_map(|line| line.trim_start().strip_prefix(".visible .entry "))
        .filter_map(|rest| rest.split('(').next())
        .map(|name| name.trim().to_owned())
        .collect()
}

#[test]
fn reads_visible_entries_of_ptx() {
    let ptx = ".version 9.0\n.target sm_90\n\n\t// .globl\taffine_f32\n\
               .visible .entry affine_f32(\n\t.param .u64 affine_f32_param_0\n)\n\
               .func helper(\n.visible .entry sort_asc_f32(\n";
    assert_eq!(visible_entries(ptx), ["affine_f32", "sort_asc_f32"]);
}
