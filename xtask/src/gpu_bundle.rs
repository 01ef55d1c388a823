//! `cargo xtask gpu-bundle`: the GPU tests, the load-cost measurement, the example, the candle
//! checks (`tests/candle`: candle's kernels through the generated wrappers against the CPU) and
//! the program of a crate with candle's cudarc features, built in release into
//! `target/gpu-bundle/` with a `run.sh` that runs them all on a GPU machine that has no Rust
//! toolchain, and prints a summary. The program of a crate that ships prebuilt fat binaries
//! (refreshed here, packaged, and built from the `.crate` with no nvcc) runs there too.
//!
//! A second bundle, `target/gpu-bundle-embedding/`, with its own `run.sh`, measures how fast
//! candle's modules first load when stored in each `--compress-mode`: with the first it would
//! not fit one transfer.
//!
//! The candle-features program links the CUDA libraries (cudarc's `dynamic-linking`): it is
//! linked here against stub libraries with the real `SONAME`s (`sasskit_tests::stub_libs`) and
//! with cudarc's bindings for CUDA 13.0, and `run.sh` starts it with the toolkit's `lib64` on
//! `LD_LIBRARY_PATH`, where the real libcublas.so.13 and its siblings are.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::candle;
use crate::ci::EXAMPLE;
use crate::cmd::{Cmd, make_executable};
use crate::{project_root, release_binary, toolchain};

const TESTS: &str = "sasskit-tests";

/// The package in `tests/candle` and the name of its binary in the bundle, where it is stored
/// gzip-compressed: candle's 11 fat binaries and static library with SASS for three GPUs take
/// about 140 MB raw and 33 MB compressed, and the bundle must stay under [`MAX_BUNDLE_BYTES`].
const CANDLE: &str = "sasskit-candle";
const CANDLE_CHECKS: &str = "candle_checks";

/// Each bundle folder must fit the GPU machine's 64 MiB transfer limit, next to the tracked
/// files of the checkout, which travel too (28 MiB, most of it the port's prebuilt `libmoe.a`).
const MAX_BUNDLE_BYTES: u64 = 35 << 20;

const RUN_SH: &str = r#"#!/usr/bin/env bash
# Runs sasskit's GPU checks; built by `cargo xtask gpu-bundle`. Needs an NVIDIA driver, not Rust.
cd "$(dirname "$0")"
nvidia-smi --query-gpu=index,name,compute_cap,driver_version --format=csv,noheader || true
status=()
step() {
    local name="$1"; shift
    echo; echo "==> $name"
    if "$@"; then status+=("ok      $name"); else status+=("FAILED  $name"); fi
}
step "example (every kernel against the CPU)" ./sasskit-example
step "GPU tests" ./gpu --ignored --test-threads=1 --nocapture
step "load cost: checked load vs raw cuModuleLoadData" ./load_cost
step "start-up and launch costs" env CUDA_CACHE_DISABLE=1 ./gpu_bench
step "candle kernels through the wrappers against the CPU" \
    sh -c 'gzip -dc candle_checks.gz > candle_checks && chmod +x candle_checks && ./candle_checks'
# Fresh processes per way, interleaved: a first load is one sample, and noisy; 25 by default
# (five were too few to tell 10 % apart), ROUNDS=N for another count.
for round in $(seq 1 "${ROUNDS:-25}"); do
    for way in generated sasskit raw-copy raw; do
        step "candle start-up, first load in a process ($round): $way" \
            ./candle_checks startup first "$way"
    done
done
if [ -f candle_ptx.tar.gz ]; then
    mkdir -p candle_ptx && tar -xzf candle_ptx.tar.gz -C candle_ptx
    step "candle start-up: medians, and the PTX JIT (cold)" \
        env CUDA_CACHE_DISABLE=1 ./candle_checks startup median candle_ptx
else
    step "candle start-up: medians (no PTX in the bundle: run the candle corpus test first)" \
        ./candle_checks startup median
fi
step "doctor: the example" ./cargo-sasskit doctor ./sasskit-example
step "doctor: candle's modules and static library" ./cargo-sasskit doctor ./candle_checks
step "a crate's prebuilt SASS, packaged and built without nvcc, against the CPU" ./prebuilt_kernels
step "saxpy in a crate with candle's cudarc features (dynamic-linking)" \
    env LD_LIBRARY_PATH="/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ./candle_features
echo; echo "==> summary"
printf '%s\n' "${status[@]}"
! printf '%s\n' "${status[@]}" | grep -q FAILED
"#;

/// `run.sh` of the second bundle: how candle's modules are stored against how fast they first
/// load, every compress mode, the 11 modules read from files, 25 fresh processes per mode and
/// way, interleaved.
const RUN_EMBEDDING_SH: &str = r#"#!/usr/bin/env bash
# candle's 11 modules in every compress mode: first load in a fresh process, through sasskit and
# raw; built by `cargo xtask gpu-bundle`. Needs an NVIDIA driver, not Rust.
cd "$(dirname "$0")"
status=()
step() {
    local name="$1"; shift
    echo; echo "==> $name"
    if "$@"; then status+=("ok      $name"); else status+=("FAILED  $name"); fi
}
gzip -dc candle_checks.gz > candle_checks && chmod +x candle_checks
tar -xzf embedding.tar.gz
echo "==> candle's 11 modules, bytes per compress mode"; cat embedding/sizes.txt
# 25 fresh processes per mode and way by default, ROUNDS=N for another count.
for round in $(seq 1 "${ROUNDS:-25}"); do
    for mode in none speed balance size; do
        for way in sasskit raw; do
            step "candle first load from files ($round): $mode, $way" \
                ./candle_checks startup file "embedding/$mode" "$way"
        done
    done
done
echo; echo "==> summary"
printf '%s\n' "${status[@]}"
! printf '%s\n' "${status[@]}" | grep -q FAILED
"#;

/// `cargo xtask gpu-bundle`.
pub(crate) fn run() -> Result<()> {
    let toolchain = toolchain::ensure()?;
    let root = project_root();
    let cargo = |args: &[&str]| Cmd::cargo().args(args).dir(&root).envs(toolchain.envs());
    cargo(&["build", "--release", "-p", EXAMPLE]).run()?;
    cargo(&["build", "--release", "-p", "cargo-sasskit"]).run()?;
    cargo(&[
        "build",
        "--release",
        "-p",
        TESTS,
        "--example",
        "load_cost",
        "--example",
        "gpu_bench",
    ])
    .run()?;
    let messages = cargo(&[
        "test",
        "--release",
        "-p",
        TESTS,
        "--test",
        "gpu",
        "--no-run",
        "--message-format=json",
    ])
    .read()?;
    let gpu_tests = test_executable(&messages, "gpu")
        .context("cargo did not report the `gpu` test executable")?;
    // The same command as the candle corpus test's, so that one of them reuses the other's build.
    let candle_sources = candle::sources()?;
    crate::candle_port::install_kernel_sources()?;
    eprintln!(
        "gpu-bundle: building tests/candle in release (11 candle files for 3 GPUs: minutes, \
         unless the candle corpus test built it already)"
    );
    let messages = candle::cargo_in_crate(
        &toolchain,
        &candle_sources,
        &[
            "build",
            "--release",
            "--message-format=json-render-diagnostics",
        ],
    )
    .read()?;
    let candle_checks = bin_executable(&messages, CANDLE)
        .context("cargo did not report the executable of tests/candle")?;
    let candle_features = root
        .join("target")
        .join("cudarc-features")
        .join("candle_features");
    program_of(&cargo, "candle_features_program", &candle_features)
        .context("building the program of the crate with candle's cudarc features")?;
    let prebuilt_kernels = root
        .join("target")
        .join("prebuilt-program")
        .join("prebuilt_kernels");
    program_of(&cargo, "prebuilt_crate_program", &prebuilt_kernels)
        .context("building the program of the crate with prebuilt fat binaries")?;
    let bundle = root.join("target").join("gpu-bundle");
    let _ = fs::remove_dir_all(&bundle);
    fs::create_dir_all(&bundle).with_context(|| format!("creating {}", bundle.display()))?;
    let examples = release_binary(EXAMPLE).with_file_name("examples");
    for (from, name) in [
        (release_binary(EXAMPLE), EXAMPLE),
        (release_binary("cargo-sasskit"), "cargo-sasskit"),
        (gpu_tests, "gpu"),
        (examples.join("load_cost"), "load_cost"),
        (examples.join("gpu_bench"), "gpu_bench"),
        (candle_checks, CANDLE_CHECKS),
        (candle_features, "candle_features"),
        (prebuilt_kernels, "prebuilt_kernels"),
    ] {
        copy_executable(&from, &bundle.join(name))?;
    }
    // Leaves candle_checks.gz in its place; run.sh decompresses it.
    Cmd::new("gzip")
        .arg("--force")
        .arg(bundle.join(CANDLE_CHECKS))
        .run()
        .context("compressing the candle checks (gzip is needed on PATH)")?;
    bundle_candle_ptx(&root, &bundle)?;
    let embedding = embedding_bundle(&toolchain.nvcc, &root, &bundle)?;
    let run_sh = bundle.join("run.sh");
    fs::write(&run_sh, RUN_SH).with_context(|| format!("writing {}", run_sh.display()))?;
    make_executable(&run_sh)?;
    for folder in [&bundle, &embedding] {
        let size = folder_size(folder)?;
        if size > MAX_BUNDLE_BYTES {
            bail!(
                "the bundle {} is {size} bytes, over the {MAX_BUNDLE_BYTES} byte limit",
                folder.display()
            );
        }
        println!(
            "{} ({} KiB): copy it to the GPU machine and run ./run.sh",
            folder.display(),
            size / 1024
        );
    }
    Ok(())
}

/// Runs the tests crate's `example`, which builds a throwaway crate's program and copies it to
/// `to`.
fn program_of(cargo: &impl Fn(&[&str]) -> Cmd, example: &str, to: &Path) -> Result<()> {
    cargo(&[
        "run",
        "--release",
        "--quiet",
        "-p",
        TESTS,
        "--example",
        example,
        "--",
    ])
    .arg(to)
    .run()
}

/// candle's PTX, as the candle corpus test left it in `target/candle/ptx` (the newest file of
/// each module), as `candle_ptx.tar.gz`, for the start-up benchmark's JIT baseline; nothing when
/// the test has not run.
fn bundle_candle_ptx(root: &Path, bundle: &Path) -> Result<()> {
    let folder = root.join("target").join("candle").join("ptx");
    let Ok(entries) = fs::read_dir(&folder) else {
        eprintln!(
            "gpu-bundle: no {}: the start-up benchmark runs without its JIT baseline",
            folder.display()
        );
        return Ok(());
    };
    let mut newest: std::collections::BTreeMap<String, (std::time::SystemTime, PathBuf)> =
        std::collections::BTreeMap::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
            continue;
        };
        let Some((module, _key)) = name
            .strip_suffix(".ptx")
            .and_then(|stem| stem.rsplit_once('-'))
        else {
            continue;
        };
        let modified = entry.metadata()?.modified()?;
        if newest.get(module).is_none_or(|(seen, _)| modified > *seen) {
            newest.insert(module.to_owned(), (modified, path));
        }
    }
    let staging = bundle.join("candle_ptx");
    fs::create_dir_all(&staging)?;
    for (module, (_, path)) in &newest {
        fs::copy(path, staging.join(format!("{module}.ptx")))
            .with_context(|| format!("copying {}", path.display()))?;
    }
    Cmd::new("tar")
        .arg("-czf")
        .arg(bundle.join("candle_ptx.tar.gz"))
        .arg("-C")
        .arg(&staging)
        .arg(".")
        .run()
        .context("packing candle's PTX (tar and gzip are needed on PATH)")?;
    fs::remove_dir_all(&staging).with_context(|| format!("removing {}", staging.display()))
}

/// The second bundle, `target/gpu-bundle-embedding` (with the first, it would not fit the
/// machine's transfer limit): the candle checks of `bundle`, candle's modules in every compress
/// mode and its `run.sh`.
fn embedding_bundle(nvcc: &Path, root: &Path, bundle: &Path) -> Result<PathBuf> {
    let embedding = root.join("target").join("gpu-bundle-embedding");
    let _ = fs::remove_dir_all(&embedding);
    fs::create_dir_all(&embedding).with_context(|| format!("creating {}", embedding.display()))?;
    fs::copy(
        bundle.join("candle_checks.gz"),
        embedding.join("candle_checks.gz"),
    )
    .context("copying the candle checks into the second bundle")?;
    bundle_embedding_variants(nvcc, root, &embedding)?;
    let run_sh = embedding.join("run.sh");
    fs::write(&run_sh, RUN_EMBEDDING_SH)
        .with_context(|| format!("writing {}", run_sh.display()))?;
    make_executable(&run_sh)?;
    Ok(embedding)
}

/// candle's 11 modules in every compress mode (`embedding_variants`), as `embedding.tar.gz`
/// with `embedding/sizes.txt`, for the size against first-load measurement.
fn bundle_embedding_variants(nvcc: &Path, root: &Path, bundle: &Path) -> Result<()> {
    let prebuilt = root.join("ports/candle/candle-kernels/prebuilt");
    let staging = bundle.join("embedding");
    let totals = crate::embedding_variants::write(nvcc, &prebuilt, &staging)?;
    let mut sizes = String::from("mode      bytes (11 modules, sm_90 + sm_100 + sm_121)\n");
    for (mode, bytes) in &totals {
        writeln!(sizes, "{mode:<9} {bytes}").expect("writing to a String");
    }
    print!("gpu-bundle: {sizes}");
    fs::write(staging.join("sizes.txt"), sizes)?;
    Cmd::new("tar")
        .arg("-czf")
        .arg(bundle.join("embedding.tar.gz"))
        .arg("-C")
        .arg(bundle)
        .arg("embedding")
        .run()
        .context("packing the compress-mode variants (tar and gzip are needed on PATH)")?;
    fs::remove_dir_all(&staging).with_context(|| format!("removing {}", staging.display()))
}

/// The `executable` of the compiler-artifact message for the test target `name`.
pub(crate) fn test_executable(messages: &str, name: &str) -> Option<PathBuf> {
    executable(
        messages,
        &format!("\"kind\":[\"test\"],\"crate_types\":[\"bin\"],\"name\":\"{name}\""),
    )
}

/// The `executable` of the compiler-artifact message for the binary target `name`.
fn bin_executable(messages: &str, name: &str) -> Option<PathBuf> {
    executable(
        messages,
        &format!("\"kind\":[\"bin\"],\"crate_types\":[\"bin\"],\"name\":\"{name}\""),
    )
}

/// The `executable` of the first compiler-artifact message that contains `target`.
fn executable(messages: &str, target: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter(|line| line.contains(target))
        .find_map(|line| {
            let rest = &line[line.find("\"executable\":\"")? + 14..];
            Some(PathBuf::from(&rest[..rest.find('"')?]))
        })
}

/// Copies an executable without its symbols and debug information (the prebuilt crate's
/// program is a dev build: 31 MB with them), so that the bundle fits the transfer limit.
fn copy_executable(from: &Path, to: &Path) -> Result<()> {
    Cmd::new("strip")
        .arg("-o")
        .arg(to)
        .arg(from)
        .run()
        .with_context(|| {
            format!(
                "copying {} to {} without symbols",
                from.display(),
                to.display()
            )
        })?;
    make_executable(to)
}

fn folder_size(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        total += entry?.metadata()?.len();
    }
    Ok(total)
}
