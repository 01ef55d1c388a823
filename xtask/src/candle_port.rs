//! `cargo xtask candle-port`: candle 0.11.1 on sasskit (`ports/candle/`), built from crates.io's
//! sources, and the same candle stock, for candle's own CUDA tests on a GPU.
//!
//! ```text
//! ports/candle/
//!   candle-kernels/    the drop-in candle-kernels 0.11.1: sasskit's build.rs, lib.rs and
//!                      prebuilt folder; `sources` copies candle's .cu/.cuh files into its src/
//!                      (git-ignored: they are candle's)
//!   candle-core.patch  the change to candle-core 0.11.1: its module load goes through sasskit
//!   startup/           times the first operation of each kind, stock against the port
//! target/candle-port/
//!   port/              a workspace: candle-core 0.11.1 with the patch applied, startup, and
//!                      `[patch.crates-io]` candle-kernels = ports/candle/candle-kernels
//!   stock/             the same without the patch or the [patch] (candle's PTX, cudaforge)
//!   target/            their shared target folder
//!   bundle/            `bundle`'s output: both sides' test executables and run.sh
//! ```

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::candle;
use crate::cmd::{Cmd, make_executable};
use crate::gpu_bundle::test_executable;
use crate::project_root;
use crate::toolchain::{self, Toolchain};

/// candle-core's integration tests that have CUDA variants (`test_device!`) and need no data
/// files, as named in candle-core's `Cargo.toml`.
pub(crate) const TESTS: [&str; 10] = [
    "tensor_tests",
    "indexing_tests",
    "conv_tests",
    "matmul_tests",
    "grad_tests",
    "layout_tests",
    "pool_tests",
    "bilinear_tests",
    "quantized_tests",
    "custom_op_tests",
];

/// stock candle-kernels builds PTX for this compute capability only (cudaforge reads it), as a
/// candle user on the H200 would set it.
const STOCK_COMPUTE_CAP: &str = "90";

/// Which candle a workspace builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// crates.io's candle-core and candle-kernels, untouched.
    Stock,
    /// candle-core with `ports/candle/candle-core.patch`, candle-kernels from `ports/candle`.
    Port,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Stock => "stock",
            Side::Port => "port",
        }
    }
}

/// `cargo xtask candle-port <args>`.
pub(crate) fn run(args: &[String]) -> Result<()> {
    match args {
        [task] if task == "sources" => {
            let dir = install_kernel_sources()?;
            println!("{}", dir.display());
            Ok(())
        }
        [task] if task == "build" => {
            let toolchain = toolchain::ensure()?;
            build_library(&toolchain)
        }
        [task] if task == "check" => {
            let toolchain = toolchain::ensure()?;
            check_port(&toolchain, &candle::cache_dir())
        }
        [task] if task == "refresh" => refresh_prebuilt(),
        [task] if task == "bundle" => bundle(),
        _ => bail!(
            "`candle-port` takes `sources`, `build`, `check`, `refresh` or `bundle` (see `cargo \
             xtask help`)"
        ),
    }
}

/// `ports/candle`.
fn port_dir() -> PathBuf {
    project_root().join("ports").join("candle")
}

/// `ports/candle/candle-kernels`.
pub(crate) fn kernel_crate() -> PathBuf {
    port_dir().join("candle-kernels")
}

/// `target/candle-port`.
fn work_dir() -> PathBuf {
    project_root().join("target").join("candle-port")
}

/// Copies candle-kernels 0.11.1's CUDA sources (`.cu`, `.cuh`, with their folders) from
/// crates.io's crate into `ports/candle/candle-kernels/src`, next to the port's `lib.rs`, and
/// returns that folder. Files already there with the same bytes are left alone, so that cargo
/// sees no change.
pub(crate) fn install_kernel_sources() -> Result<PathBuf> {
    let from = candle::sources()?;
    let to = kernel_crate().join("src");
    copy_cuda_files(&from, &to)?;
    Ok(to)
}

fn copy_cuda_files(from: &Path, to: &Path) -> Result<()> {
    let entries = fs::read_dir(from).with_context(|| format!("reading {}", from.display()))?;
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_cuda_files(&path, &target)?;
        } else if path
            .extension()
            .is_some_and(|extension| extension == "cu" || extension == "cuh")
        {
            let bytes = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            if fs::read(&target).is_ok_and(|old| old == bytes) {
                continue;
            }
            fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
            fs::write(&target, bytes).with_context(|| format!("writing {}", target.display()))?;
        }
    }
    Ok(())
}

/// Lays out the workspace of `side` under `target/candle-port/<side>`: a copy of candle-core
/// 0.11.1 from cargo's registry (patched for the port), the startup program, a `Cargo.toml` and
/// candle-core's own `Cargo.lock`. Returns the workspace folder.
fn workspace(side: Side) -> Result<PathBuf> {
    let candle_core = candle::candle_core_source()?;
    let dir = work_dir().join(side.name());
    let core_copy = dir.join("candle-core");
    // The copy is laid anew only when the patch changed: a fresh copy has new modification
    // times, and cargo would rebuild candle-core in every profile.
    let patch = port_dir().join("candle-core.patch");
    let stamp = core_copy.join(".sasskit-copy-of");
    let wanted = match side {
        Side::Stock => "candle-core 0.11.1\n".to_owned(),
        Side::Port => format!(
            "candle-core 0.11.1 with\n{}",
            fs::read_to_string(&patch).with_context(|| format!("reading {}", patch.display()))?
        ),
    };
    if fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        let _ = fs::remove_dir_all(&core_copy);
        copy_tree(&candle_core, &core_copy)?;
        if side == Side::Port {
            Cmd::new("git")
                .args(["apply", "--verbose"])
                .arg(&patch)
                .dir(&core_copy)
                .run()
                .with_context(|| format!("applying {} to candle-core 0.11.1", patch.display()))?;
        }
        fs::write(&stamp, wanted).with_context(|| format!("writing {}", stamp.display()))?;
    }
    copy_tree(&port_dir().join("startup"), &dir.join("startup"))?;
    let mut manifest = String::from(
        "# Written by `cargo xtask candle-port`.\n[workspace]\nresolver = \"2\"\n\
         members = [\"candle-core\", \"startup\"]\n",
    );
    if side == Side::Port {
        let _ = write!(
            manifest,
            "\n[patch.crates-io]\ncandle-kernels = {{ path = \"{}\" }}\n",
            kernel_crate().display()
        );
    }
    let cargo_toml = dir.join("Cargo.toml");
    if fs::read_to_string(&cargo_toml).ok() != Some(manifest.clone()) {
        fs::write(&cargo_toml, manifest)?;
    }
    // candle-core's published lock file, so that both sides build the same dependencies (and
    // share them in one target folder); the port's adds sasskit's.
    let lock = dir.join("Cargo.lock");
    if !lock.exists() {
        fs::copy(candle_core.join("Cargo.lock"), &lock)
            .with_context(|| format!("writing {}", lock.display()))?;
    }
    Ok(dir)
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if entry.file_name() != ".cargo-ok" {
            let bytes = fs::read(entry.path())
                .with_context(|| format!("reading {}", entry.path().display()))?;
            // Unchanged files keep their modification time, so cargo rebuilds nothing.
            if fs::read(&target).is_ok_and(|old| old == bytes) {
                continue;
            }
            fs::write(&target, bytes).with_context(|| format!("writing {}", target.display()))?;
        }
    }
    Ok(())
}

/// cargo in the workspace of `side`, with what candle's CUDA build needs here: the pinned nvcc
/// (on `PATH` too, where cudaforge looks), cudarc's bindings for CUDA 13.0, the stub CUDA
/// libraries to link against (`CUDA_HOME`, see `sasskit_tests::stub_libs`), and sasskit's build
/// cache shared with `tests/candle`, which builds the same static library with the same flags.
fn cargo(toolchain: &Toolchain, side: Side, stubs: &Path, args: &[&str]) -> Result<Cmd> {
    let dir = workspace(side)?;
    let nvcc_bin = toolchain
        .nvcc
        .parent()
        .context("nvcc's path has no folder")?;
    let path = std::env::join_paths(
        std::iter::once(nvcc_bin.to_owned()).chain(
            crate::cmd::env_var("PATH")
                .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
                .unwrap_or_default(),
        ),
    )?;
    Ok(Cmd::cargo()
        .args(args)
        .dir(&dir)
        .envs(toolchain.envs())
        .env("PATH", path)
        .env("CUDA_HOME", stubs)
        .env("CUDA_COMPUTE_CAP", STOCK_COMPUTE_CAP)
        .env("CARGO_TARGET_DIR", work_dir().join("target"))
        .env("SASSKIT_CACHE_DIR", candle::cache_dir()))
}

/// Builds the stub CUDA libraries (through the tests crate, which owns them) and returns the
/// folder to use as `CUDA_HOME`. candle-kernels links `libcudart.so` as well: the pinned
/// toolkit's is linked in beside the stubs.
fn stub_cuda_home(toolchain: &Toolchain) -> Result<PathBuf> {
    let root = project_root();
    let home = Cmd::cargo()
        .args([
            "run",
            "--quiet",
            "-p",
            "sasskit-tests",
            "--example",
            "cuda_stubs",
        ])
        .dir(&root)
        .envs(toolchain.envs())
        .read()
        .context("building the stub CUDA libraries")?;
    let home = PathBuf::from(home.trim());
    // The toolkit's libcudart.so.13: in `lib` for the pinned wheels, `lib64` for a system
    // install. Only stock candle-kernels links it (the port links the static runtime).
    let cudart = toolchain
        .nvcc
        .parent()
        .and_then(Path::parent)
        .and_then(|cuda| {
            ["lib", "lib64"]
                .iter()
                .map(|dir| cuda.join(dir).join("libcudart.so.13"))
                .find(|cudart| cudart.is_file())
        });
    let link = home.join("lib64").join("libcudart.so");
    let _ = fs::remove_file(&link);
    match cudart {
        Some(cudart) => std::os::unix::fs::symlink(&cudart, &link)
            .with_context(|| format!("linking {}", link.display()))?,
        None => eprintln!(
            "candle-port: no libcudart.so.13 next to {}: stock candle-kernels will not link",
            toolchain.nvcc.display()
        ),
    }
    Ok(home)
}

/// `cargo xtask ci`'s check that the port cannot rot: the port's prebuilt folder is current
/// (`SASSKIT_PREBUILD=check`), and candle-core 0.11.1 with the patch builds with `--features
/// cuda` (and the startup program, and candle-core's CUDA tests, linked against the stub
/// libraries) with no nvcc anywhere: the port's modules and its static library taken from that
/// folder.
pub(crate) fn check_port(toolchain: &Toolchain, cache: &Path) -> Result<()> {
    install_kernel_sources()?;
    let stubs = stub_cuda_home(toolchain)?;
    let args = test_executables(&["--workspace", "--features", "candle-core/cuda"]);
    // `check`: the build fails, naming the changed input, unless every module and the static
    // library are current in the prebuilt folder (`cargo xtask candle-port refresh` makes it
    // so). With no nvcc anywhere, as a user of the port builds it: nothing but Rust.
    let path = crate::cmd::env_var("PATH").unwrap_or_default();
    let without_nvcc = std::env::join_paths(
        std::env::split_paths(&path).filter(|dir| !dir.join("nvcc").exists()),
    )?;
    let cargo = |args: &[&str]| -> Result<Cmd> {
        Ok(cargo(toolchain, Side::Port, &stubs, args)?
            .env("SASSKIT_CACHE_DIR", cache)
            .env(sasskit_build::PREBUILD_ENV, "check")
            .env_remove("NVCC")
            .env("PATH", &without_nvcc))
    };
    cargo(&args)?.run()?;
    cargo(&["build", "-p", "candle-startup"])?.run()
}

/// `cargo test --no-run <options>` for candle-core's CUDA test executables ([`TESTS`]).
fn test_executables<'a>(options: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["test", "--no-run"];
    args.extend_from_slice(options);
    for test in TESTS {
        args.extend(["--test", test]);
    }
    args
}

/// Builds candle-core with `--features cuda` and the startup program on sasskit.
fn build_library(toolchain: &Toolchain) -> Result<()> {
    install_kernel_sources()?;
    let stubs = stub_cuda_home(toolchain)?;
    cargo(toolchain, Side::Port, &stubs, &["build", "--workspace"])?.run()
}

/// Rewrites `ports/candle/candle-kernels/prebuilt` from an nvcc build of the 11 modules and the
/// static library.
fn refresh_prebuilt() -> Result<()> {
    let toolchain = toolchain::ensure()?;
    install_kernel_sources()?;
    let stubs = stub_cuda_home(&toolchain)?;
    cargo(
        &toolchain,
        Side::Port,
        &stubs,
        &["build", "-p", "candle-kernels"],
    )?
    .env(sasskit_build::PREBUILD_ENV, "refresh")
    .run()
}

/// Builds candle-core's CUDA tests and the startup program in release for both sides and
/// packs them with a `run.sh` into `target/candle-port/bundle`, for a GPU machine without Rust.
fn bundle() -> Result<()> {
    let toolchain = toolchain::ensure()?;
    install_kernel_sources()?;
    let stubs = stub_cuda_home(&toolchain)?;
    let bundle = work_dir().join("bundle");
    let _ = fs::remove_dir_all(&bundle);
    for side in [Side::Stock, Side::Port] {
        let args = test_executables(&[
            "--release",
            "-p",
            "candle-core",
            "--features",
            "cuda",
            "--message-format=json-render-diagnostics",
        ]);
        let messages = cargo(&toolchain, side, &stubs, &args)?.read()?;
        let folder = bundle.join(side.name());
        fs::create_dir_all(&folder)?;
        for test in TESTS {
            let executable = test_executable(&messages, test)
                .with_context(|| format!("cargo did not report the `{test}` executable"))?;
            pack(&executable, &folder.join(test))?;
        }
        cargo(
            &toolchain,
            side,
            &stubs,
            &["build", "--release", "-p", "candle-startup"],
        )?
        .run()?;
        pack(
            &work_dir()
                .join("target")
                .join("release")
                .join("candle-startup"),
            &folder.join("startup"),
        )?;
    }
    compress(&bundle)?;
    let run_sh = bundle.join("run.sh");
    fs::write(&run_sh, RUN_SH.replace("TESTS", &TESTS.join(" ")))?;
    make_executable(&run_sh)?;
    let size: u64 = fs::read_dir(&bundle)?
        .flatten()
        .filter_map(|entry| entry.metadata().ok())
        .map(|metadata| metadata.len())
        .sum();
    eprintln!(
        "candle-port: bundle in {} ({} KiB)",
        bundle.display(),
        size >> 10
    );
    Ok(())
}

/// Copies an executable without its symbols.
fn pack(executable: &Path, to: &Path) -> Result<()> {
    Cmd::new("strip")
        .arg("-o")
        .arg(to)
        .arg(executable)
        .run()
        .with_context(|| format!("stripping {}", executable.display()))
}

/// Packs both sides' executables into one `executables.tar.zst`: zstd's long-distance matching
/// (a window of 2 GiB) stores what the executables share (candle, its dependencies, the
/// kernels) once, where compressing each alone would not fit the GPU machine's transfer limit.
fn compress(bundle: &Path) -> Result<()> {
    Cmd::new("tar")
        .args(["--use-compress-program", "zstd -T2 -12 --long=31"])
        .args(["-cf", "executables.tar.zst"])
        .args(["stock", "port"])
        .dir(bundle)
        .run()?;
    for side in [Side::Stock, Side::Port] {
        fs::remove_dir_all(bundle.join(side.name()))?;
    }
    // The GPU machine may have no zstd command (Ubuntu's minimal images): this one travels
    // along (it needs only libc, zlib, liblzma and liblz4).
    let zstd = which::which("zstd").context("no zstd command on PATH: apt-get install zstd")?;
    fs::copy(&zstd, bundle.join("zstd")).with_context(|| format!("copying {}", zstd.display()))?;
    Ok(())
}

const RUN_SH: &str = r#"#!/usr/bin/env bash
# candle-core 0.11.1's CUDA tests, stock (PTX JIT-compiled by the driver) and on sasskit (SASS);
# built by `cargo xtask candle-port bundle`. Needs an NVIDIA driver and the CUDA 13 libraries in
# /usr/local/cuda/lib64, not Rust. Each test's output goes to $OUT/candle-port-logs (or ./logs).
cd "$(dirname "$0")"
export LD_LIBRARY_PATH="/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
logs="${OUT:-.}/candle-port-logs"
mkdir -p "$logs"
nvidia-smi --query-gpu=index,name,compute_cap,driver_version --format=csv,noheader || true
ZSTD=$(command -v zstd || echo ./zstd)
"$ZSTD" -dc --long=31 --memory=2048MB executables.tar.zst | tar -xf - || exit 1
echo "==> candle-core's CUDA tests: side, file, exit status, wall time, libtest's summary"
for test in TESTS; do
    for side in stock port; do
        start=$(date +%s%N)
        "./$side/$test" > "$logs/$side-$test.log" 2>&1
        status=$?
        ms=$(( ($(date +%s%N) - start) / 1000000 ))
        echo "$side $test exit $status ${ms}ms $(grep -E '^test result:' "$logs/$side-$test.log" | tail -1)"
    done
done
echo; echo "==> failing tests (side file: test)"
for test in TESTS; do
    for side in stock port; do
        grep -E '^test .* FAILED$' "$logs/$side-$test.log" | sed "s/^/$side $test: /"
    done
done
echo; echo "==> start-up: the first op of each kind in a fresh process, ms"
for round in 1 2 3; do
    echo "-- round $round: stock, JIT cache disabled (CUDA_CACHE_DISABLE=1)"
    CUDA_CACHE_DISABLE=1 ./stock/startup
    echo "-- round $round: stock, warm driver JIT cache"
    ./stock/startup > /dev/null 2>&1
    ./stock/startup
    echo "-- round $round: port (CUDA_CACHE_DISABLE=1)"
    CUDA_CACHE_DISABLE=1 ./port/startup
done
"#;
