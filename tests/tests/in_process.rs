//! Builds run in this process, as `cc`'s own tests run `cc::Build`: the settings a build
//! resolves from its environment (given with `Build::env`, not a cargo run), cache decisions,
//! launcher command lines and prebuilt decisions, each against the real nvcc behind a wrapper
//! that logs every call. No crate is built with cargo, so this file is in the fast tier.
//!
//! Every test has its own folder and its own overrides: `Build::env` holds on the thread that
//! runs the build and on the workers it starts, so the tests run in parallel.

use std::path::{Path, PathBuf};

use sasskit_build::Build;
use sasskit_core::manifest::{CacheStatus, Origin};
use sasskit_tests::toolchain::{Tool, require_or_skip};

const KERNEL_A: &str =
    "#include \"common.cuh\"\nextern \"C\" __global__ void a(float* x) { x[0] = SCALE; }\n";
const KERNEL_B: &str = "extern \"C\" __global__ void b(int* x) { x[0] = 1; }\n";
const HEADER: &str = "#pragma once\n#define SCALE 2.0f\n";

/// A fresh crate folder for one test: `Cargo.toml` with `metadata` under
/// `[package.metadata.sasskit]`, `kernels/a.cu` (which includes `kernels/common.cuh`) and
/// `kernels/b.cu`.
fn krate(name: &str, metadata: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("in_process")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("kernels")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
             [package.metadata.sasskit]\n{metadata}\n"
        ),
    )
    .unwrap();
    for (file, text) in [
        ("kernels/a.cu", KERNEL_A),
        ("kernels/b.cu", KERNEL_B),
        ("kernels/common.cuh", HEADER),
    ] {
        std::fs::write(dir.join(file), text).unwrap();
    }
    dir
}

/// A build of both kernels of the crate in `dir`, outputs in `dir/out`, with `nvcc`, no line
/// information, and none of the process's sasskit variables.
fn build(dir: &Path, nvcc: &Path) -> Build {
    let mut build = Build::new();
    build
        .manifest_dir(dir)
        .out_dir(dir.join("out"))
        .files(["kernels/a.cu", "kernels/b.cu"])
        .nvcc(nvcc)
        .debug(false)
        .cargo_warnings(false);
    for name in [
        "SASSKIT_ARCHS",
        "SASSKIT_CACHE_DIR",
        "SASSKIT_CACHE_MODE",
        "SASSKIT_NVCC_LAUNCHER",
        "SASSKIT_PREBUILD",
        "SASSKIT_SINGLE_FRONT_END",
        "SASSKIT_COMPRESS_MODE",
        "RUSTC_WRAPPER",
    ] {
        build.env_remove(name);
    }
    build
}

/// A script that logs its current folder and arguments (`folder|args`) to the returned log,
/// then runs `program` with them (or, with no `program`, the arguments themselves: a launcher).
#[cfg(unix)]
fn logging_wrapper(dir: &Path, name: &str, program: Option<&Path>) -> (PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let log = dir.join(format!("{name}.log"));
    let script = dir.join(name);
    let run = program.map_or_else(String::new, |program| format!("'{}' ", program.display()));
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s|%s\\n' \"$PWD\" \"$*\" >> '{}'\nexec {run}\"$@\"\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (script, log)
}

/// The logged calls that compile a fat binary.
fn fatbin_compiles(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|line| line.contains("--fatbin"))
        .map(str::to_owned)
        .collect()
}

/// The images of a module's fat binary, as `sass sm_90`.
fn images(module: &sasskit_build::Module) -> Vec<String> {
    let bytes = std::fs::read(module.fatbin()).unwrap();
    let fatbin = sasskit_core::FatBinary::parse(&bytes).unwrap();
    fatbin.images().iter().map(ToString::to_string).collect()
}

fn module<'o>(output: &'o sasskit_build::Output, name: &str) -> &'o sasskit_build::Module {
    output
        .modules()
        .iter()
        .find(|module| module.name() == name)
        .unwrap()
}

/// Each variable's bad value fails before anything is compiled, naming the variable and, where
/// there are few, the accepted values. No nvcc is needed: the settings are resolved first.
#[test]
fn an_invalid_environment_setting_names_the_variable() {
    let dir = krate("invalid_env", "");
    let nvcc = dir.join("no-nvcc-here");
    let error = |name: &str, value: &str| {
        build(&dir, &nvcc)
            .env(name, value)
            .env("SASSKIT_CACHE_DIR", dir.join("cache"))
            .try_compile()
            .unwrap_err()
            .to_string()
    };
    let archs = error("SASSKIT_ARCHS", "sm90a1");
    assert!(
        archs.contains("`sm90a1`") && archs.contains("SASSKIT_ARCHS"),
        "{archs}"
    );
    let mode = error("SASSKIT_CACHE_MODE", "readonly");
    for part in [
        "SASSKIT_CACHE_MODE",
        "`readonly`",
        "`read-write`",
        "`read-only`",
    ] {
        assert!(mode.contains(part), "{part}: {mode}");
    }
    let switch = error("SASSKIT_SINGLE_FRONT_END", "yes");
    assert!(
        switch.contains("`SASSKIT_SINGLE_FRONT_END=yes` is not `1` or `0`"),
        "{switch}"
    );
    let compress = error("SASSKIT_COMPRESS_MODE", "smallest");
    assert!(
        compress.contains("SASSKIT_COMPRESS_MODE=smallest")
            && compress.contains("none, speed, balance or size"),
        "{compress}"
    );
    let prebuild = error("SASSKIT_PREBUILD", "check");
    assert!(
        prebuild.contains("asks for a prebuilt folder") && prebuild.contains("Build::prebuilt"),
        "{prebuild}"
    );
}

/// The compress mode comes from the builder, else the environment, else the crate's metadata,
/// and the fat binaries store their SASS as it says: LZ4 for `speed`, zstd for `size`, raw
/// for `none`.
#[test]
fn the_compress_mode_comes_from_the_builder_the_environment_or_the_metadata() {
    let Some(nvcc) = require_or_skip("in_process: compress mode", Tool::Nvcc) else {
        return;
    };
    let dir = krate(
        "compress_mode",
        "archs = [\"sm_90\"]\ncompress-mode = \"speed\"",
    );
    let output = build(&dir, &nvcc).try_compile().unwrap();
    assert_eq!(
        images(module(&output, "a")),
        ["sass sm_90 (lz4)"],
        "metadata"
    );
    let output = build(&dir, &nvcc)
        .env("SASSKIT_COMPRESS_MODE", "size")
        .try_compile()
        .unwrap();
    assert_eq!(
        images(module(&output, "a")),
        ["sass sm_90 (zstd)"],
        "env over metadata"
    );
    let output = build(&dir, &nvcc)
        .env("SASSKIT_COMPRESS_MODE", "size")
        .compress_mode(sasskit_build::CompressMode::None)
        .try_compile()
        .unwrap();
    assert_eq!(
        images(module(&output, "a")),
        ["sass sm_90"],
        "builder over env"
    );
}

/// A file's own targets win over the environment, which wins over the crate's list.
#[test]
fn per_file_targets_win_over_the_crate_list() {
    let Some(nvcc) = require_or_skip("in_process: per-file targets", Tool::Nvcc) else {
        return;
    };
    let dir = krate(
        "per_file",
        "archs = [\"sm_100\"]\nfiles = { \"kernels/b.cu\" = [\"sm_90a\"] }",
    );
    let output = build(&dir, &nvcc)
        .env("SASSKIT_ARCHS", "sm_121")
        .try_compile()
        .unwrap();
    assert_eq!(
        images(module(&output, "a")),
        ["sass sm_121"],
        "env wins over the crate list"
    );
    assert_eq!(
        images(module(&output, "b")),
        ["sass sm_90a"],
        "the file's own list wins"
    );
}

#[cfg(unix)]
#[test]
fn a_read_only_build_uses_its_hits_and_writes_nothing() {
    let Some(nvcc) = require_or_skip("in_process: read-only hit", Tool::Nvcc) else {
        return;
    };
    let dir = krate("read_only_hit", "archs = [\"sm_90\"]");
    let (nvcc, log) = logging_wrapper(&dir, "nvcc", Some(&nvcc));
    let cache = dir.join("cache");
    let output = build(&dir, &nvcc)
        .env("SASSKIT_CACHE_DIR", &cache)
        .try_compile()
        .unwrap();
    assert_eq!(
        module(&output, "a").manifest().module.cache,
        CacheStatus::Miss
    );
    let before = sasskit_tests::snapshot::files(&cache);
    assert_eq!(before.len(), 4, "two entries in their shards: {before:#?}");

    // Without this build's previous outputs, the next one looks in the cache.
    std::fs::remove_dir_all(dir.join("out")).unwrap();
    let compiles = fatbin_compiles(&log).len();
    let output = build(&dir, &nvcc)
        .env("SASSKIT_CACHE_DIR", &cache)
        .env("SASSKIT_CACHE_MODE", "read-only")
        .try_compile()
        .unwrap();
    for name in ["a", "b"] {
        let module = module(&output, name);
        assert_eq!(module.manifest().module.cache, CacheStatus::Hit, "{name}");
        assert_eq!(images(module), ["sass sm_90"]);
    }
    assert_eq!(
        fatbin_compiles(&log).len(),
        compiles,
        "hits need no nvcc --fatbin"
    );
    assert_eq!(
        sasskit_tests::snapshot::files(&cache),
        before,
        "files and mtimes unchanged"
    );
}

#[cfg(unix)]
#[test]
fn a_read_only_build_that_misses_compiles_locally_and_leaves_the_cache_alone() {
    let Some(nvcc) = require_or_skip("in_process: read-only miss", Tool::Nvcc) else {
        return;
    };
    let dir = krate("read_only_miss", "archs = [\"sm_90\"]");
    let (nvcc, log) = logging_wrapper(&dir, "nvcc", Some(&nvcc));
    let cache = dir.join("cache");
    build(&dir, &nvcc).cache_dir(&cache).try_compile().unwrap();
    let before = sasskit_tests::snapshot::files(&cache);

    // A header byte: `a` has a key no entry has.
    std::fs::write(
        dir.join("kernels/common.cuh"),
        HEADER.replace("2.0f", "6.0f"),
    )
    .unwrap();
    std::fs::remove_dir_all(dir.join("out")).unwrap();
    let compiles = fatbin_compiles(&log).len();
    let output = build(&dir, &nvcc)
        .cache_dir(&cache)
        .env("SASSKIT_CACHE_MODE", "read-only")
        .try_compile()
        .unwrap();
    assert_eq!(
        module(&output, "a").manifest().module.cache,
        CacheStatus::Miss
    );
    assert_eq!(
        module(&output, "b").manifest().module.cache,
        CacheStatus::Hit
    );
    let new = &fatbin_compiles(&log)[compiles..];
    assert!(
        new.len() == 1 && new[0].contains("kernels/a.cu"),
        "a compiles locally: {new:?}"
    );
    assert_eq!(images(module(&output, "a")), ["sass sm_90"]);
    assert_eq!(
        sasskit_tests::snapshot::files(&cache),
        before,
        "nothing stored, nothing touched"
    );
}

/// With a compiler launcher (sccache), nvcc gets the same command line in every checkout:
/// sccache hashes the arguments of each cicc (PTX) step, and nvcc gives cicc the path of its
/// input, so a command naming the checkout would miss every PTX step in a clone elsewhere
/// (`cargo xtask sccache` measures that with sccache and Redis). The fat binaries are the ones
/// nvcc builds without a launcher, byte for byte.
#[cfg(unix)]
#[test]
fn a_launched_nvcc_names_no_checkout_and_builds_the_same_fat_binaries() {
    let Some(nvcc) = require_or_skip("in_process: launched nvcc", Tool::Nvcc) else {
        return;
    };
    let first = krate("launched_alice", "archs = [\"sm_90\"]");
    let second = krate("launched_ci_runner_3", "archs = [\"sm_90\"]");
    let plain = build(&first, &nvcc).try_compile().unwrap();
    let plain: Vec<(Vec<u8>, String)> = ["a", "b"]
        .iter()
        .map(|name| {
            let module = module(&plain, name);
            (
                std::fs::read(module.fatbin()).unwrap(),
                module.manifest().module.build_key.clone(),
            )
        })
        .collect();
    let launched = |dir: &Path| {
        let (launcher, log) = logging_wrapper(dir, "launcher", None);
        let output = build(dir, &nvcc)
            .env("SASSKIT_NVCC_LAUNCHER", &launcher)
            .try_compile()
            .unwrap();
        let mut calls: Vec<String> = std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .map(|line| {
                let (cwd, args) = line.split_once('|').unwrap();
                assert_eq!(Path::new(cwd), dir, "nvcc runs in the crate root");
                // Without nvcc's own path and the temporary output in the output folder,
                // nothing may differ.
                let mut words = args.split(' ').skip(1);
                let mut kept = Vec::new();
                while let Some(word) = words.next() {
                    kept.push(word);
                    if word == "-o" {
                        words.next();
                    }
                }
                kept.join(" ")
            })
            .collect();
        calls.sort();
        (output, calls)
    };
    let (first_output, first_calls) = launched(&first);
    let (second_output, second_calls) = launched(&second);
    assert_eq!(
        first_calls.len(),
        2,
        "one launched nvcc per file: {first_calls:?}"
    );
    assert!(
        first_calls[0].ends_with("-include kernels/a.cu -x cu /dev/null"),
        "{first_calls:?}"
    );
    assert_eq!(
        first_calls, second_calls,
        "the same command in both checkouts"
    );
    for (name, (plain_fatbin, plain_key)) in ["a", "b"].into_iter().zip(&plain) {
        let from_first = module(&first_output, name);
        assert_eq!(
            &std::fs::read(from_first.fatbin()).unwrap(),
            plain_fatbin,
            "{name}: launched = plain"
        );
        assert_ne!(
            &from_first.manifest().module.build_key,
            plain_key,
            "{name}: the launched form is keyed (__FILE__ is relative there)"
        );
        let from_second = module(&second_output, name);
        assert_eq!(&std::fs::read(from_second.fatbin()).unwrap(), plain_fatbin);
    }
}

/// A crate's prebuilt folder decides in process as in a build script: a refresh writes it, a
/// build that cannot find nvcc (no `NVCC`, no `CUDA_HOME`, a `PATH` without it) takes the
/// prebuilt fat binaries, and a changed header is an error naming it and the refresh.
#[cfg(unix)]
#[test]
fn a_prebuilt_folder_serves_a_build_without_nvcc_until_an_input_changes() {
    let Some(nvcc) = require_or_skip("in_process: prebuilt decisions", Tool::Nvcc) else {
        return;
    };
    let dir = krate("prebuilt_decisions", "archs = [\"sm_90\"]");
    let refresh = build(&dir, &nvcc)
        .prebuilt("prebuilt")
        .env("CARGO_PKG_NAME", "prebuilt_decisions")
        .env("SASSKIT_PREBUILD", "refresh")
        .try_compile()
        .unwrap();
    assert_eq!(
        module(&refresh, "a").manifest().module.origin,
        Origin::Built
    );
    assert!(dir.join("prebuilt/a.fatbin").is_file());

    if sasskit_tests::prebuilt_crate::nvcc_at_fixed_location() {
        println!("skipped: an nvcc at /usr/local/cuda, which no environment hides");
        return;
    }
    // No `Build::nvcc`: the build searches an environment without one.
    let without_nvcc = || {
        let mut build = Build::new();
        build
            .manifest_dir(&dir)
            .out_dir(dir.join("out-no-nvcc"))
            .files(["kernels/a.cu", "kernels/b.cu"])
            .prebuilt("prebuilt")
            .cargo_warnings(false)
            .env("PATH", dir.join("no-bin"))
            .env("CUDA_HOME", dir.join("no-cuda"));
        for name in ["NVCC", "CUDA_PATH", "SASSKIT_PREBUILD", "SASSKIT_CACHE_DIR"] {
            build.env_remove(name);
        }
        build
    };
    let output = without_nvcc().try_compile().unwrap();
    for name in ["a", "b"] {
        let module = module(&output, name);
        assert_eq!(module.manifest().module.origin, Origin::Prebuilt, "{name}");
        assert_eq!(
            images(module),
            ["sass sm_90 (zstd)"],
            "compressed for shipping"
        );
    }

    std::fs::write(
        dir.join("kernels/common.cuh"),
        HEADER.replace("2.0f", "4.0f"),
    )
    .unwrap();
    let error = without_nvcc().try_compile().unwrap_err().to_string();
    assert!(
        error.contains("common.cuh")
            && error.contains("no nvcc")
            && error.contains("SASSKIT_PREBUILD=refresh"),
        "{error}"
    );
}
