//! `cargo xtask`: the development tasks cargo cannot do by itself (see `cargo xtask help`).

mod apt;
mod bench_build;
mod bench_candle;
mod bench_candle_library;
mod bench_common;
mod candle;
mod candle_port;
mod ci;
mod cmd;
mod demo;
mod embedding_variants;
mod gpu_bundle;
mod libclang;
mod sccache;
mod test;
mod toolchain;
mod verify;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use sasskit_core::TargetList;

use crate::cmd::env_var;

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  setup                 find an nvcc that builds sm_90, sm_100 and sm_121 (NVCC, CUDA_HOME,
                        CUDA_PATH, PATH, /usr/local/cuda), else install the pinned CUDA 13.0
                        wheels into target/cuda-toolchain; same for cuobjdump; write
                        target/cuda-toolchain/env and print NVCC=… and SASSKIT_CUOBJDUMP=…;
                        find libclang for bindgen, else apt-get install libclang-dev
  verify <file> [--require <targets>]
                        check that every fat binary embedded in <file> has SASS for every
                        target (default sm_90,sm_100,sm_121; sm_XY is served by sm_XY, sm_XYa
                        or sm_XYf SASS, compute_XY by PTX)
  candle-sources        fetch candle-kernels 0.11.1 from crates.io (never built) and print its
                        source folder, for SASSKIT_CANDLE_KERNELS (tests/candle, the corpus test)
  candle-port sources   copy candle-kernels 0.11.1's .cu/.cuh files into
                        ports/candle/candle-kernels/src (git-ignored), print the folder
  candle-port build     build candle-core 0.11.1 with ports/candle/candle-core.patch and the
                        port's candle-kernels (--features cuda, against stub CUDA libraries)
  candle-port check     what ci checks: the prebuilt folder is current, and candle-core's
                        CUDA tests build on the port with no nvcc anywhere
  candle-port refresh   rewrite ports/candle/candle-kernels/prebuilt with nvcc
  candle-port bundle    build candle-core's CUDA tests and the start-up program in release,
                        stock (PTX, cudaforge, CUDA_COMPUTE_CAP=90) and on sasskit, into
                        target/candle-port/bundle with a run.sh for a GPU machine
  test --fast           the developer's tier: every crate's unit tests and the integration
                        tests that build no crate (build_errors, fatbin_golden,
                        runtime_dependencies); minutes less than `test`
  test                  every test, with the candle sources and the toolchain required, as
                        `ci` runs them
  ci                    setup, fmt, clippy, doc, test (with SASSKIT_REQUIRE_TOOLCHAIN=1 and the
                        candle sources), fmt and clippy of tests/candle, release build of
                        example-app, verify it
  demo                  setup, build example-app in release, verify it and run it
  bench-build           build throughput against hand-written nvcc, no-op and one-file
                        rebuilds, and bytes per architecture with and without compression
  bench-build candle    the same on candle-kernels' 11 PTX-set files: every hand-written
                        baseline, sasskit cold, the single front end, where the time goes,
                        one .cu and one shared header changed (long: about an hour on 2 cores)
  bench-build candle-library
                        candle-kernels' 15 static-library files into libmoe.a: one nvcc -c
                        per file, with and without --threads 3, then ar, against sasskit cold
                        (long: about 30 minutes a round on 2 cores); SASSKIT_BENCH_ROUNDS=N
                        sets the rounds (default 1); SASSKIT_BENCH_FILES=moe/moe_gguf.cu,...
                        builds only those files, for quick checks of the benchmark itself
  sccache               build the example's kernels from two checkouts at different paths
                        with nvcc behind sccache and a Redis server started here (apt-get
                        install redis-server if missing); print PTX and CUBIN hits and
                        misses per build, fail unless checkout 2 hits them all and other
                        archs miss
  sccache-dist          build candle's 11 PTX-set files through sccache-dist: a scheduler and
                        two build servers started here on loopback (root; apt-get install
                        bubblewrap if missing); fail unless every cicc and ptxas step ran on
                        a server, both took work, and the fat binaries equal a local build's
  gpu-bundle            build the GPU tests, the load-cost measurement, the example, the
                        candle checks and a crate with candle's cudarc features in release into
                        target/gpu-bundle with a run.sh for a GPU machine
  help                  print this text
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<()> {
    let Some((task, rest)) = args.split_first() else {
        eprint!("{USAGE}");
        bail!("no task given");
    };
    match task.as_str() {
        "setup" => no_args(task, rest).and_then(|()| toolchain::setup()),
        "verify" => {
            let (path, required) = parse_verify(rest)?;
            verify::run(&path, &required)
        }
        "candle-sources" => no_args(task, rest).and_then(|()| candle::print_sources()),
        "candle-port" => candle_port::run(rest),
        "ci" => no_args(task, rest).and_then(|()| ci::run()),
        "test" => test::run(rest),
        "demo" => no_args(task, rest).and_then(|()| demo::run()),
        "bench-build" => match rest {
            [] => bench_build::run(),
            [set] if set == "candle" => bench_candle::run(),
            [set] if set == "candle-library" => bench_candle_library::run(),
            _ => bail!(
                "`bench-build` takes nothing, `candle` or `candle-library` (see `cargo xtask help`)"
            ),
        },
        "sccache" => no_args(task, rest).and_then(|()| sccache::run()),
        "sccache-dist" => no_args(task, rest).and_then(|()| sccache::dist::run(None)),
        "gpu-bundle" => no_args(task, rest).and_then(|()| gpu_bundle::run()),
        "help" | "-h" | "--help" => {
            print!("{USAGE}");
            Ok(())
        }
        other => {
            eprint!("{USAGE}");
            bail!("unknown task `{other}`")
        }
    }
}

fn no_args(task: &str, rest: &[String]) -> Result<()> {
    match rest.first() {
        None => Ok(()),
        Some(arg) => bail!("`{task}` takes no arguments, got `{arg}` (see `cargo xtask help`)"),
    }
}

/// `<file> [--require <targets>]`, also accepting `--require=<targets>`.
fn parse_verify(args: &[String]) -> Result<(PathBuf, TargetList)> {
    let mut path = None;
    let mut required = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let list = if arg == "--require" {
            Some(
                args.next()
                    .context("`--require` needs a target list, e.g. sm_90,sm_100")?
                    .as_str(),
            )
        } else {
            arg.strip_prefix("--require=")
        };
        match list {
            Some(list) => {
                let parsed = TargetList::parse(list)
                    .with_context(|| format!("invalid `--require {list}`"))?;
                required = Some(parsed);
            }
            None if arg.starts_with('-') => bail!("unknown option `{arg}` for `verify`"),
            None if path.is_none() => path = Some(PathBuf::from(arg)),
            None => bail!("`verify` takes one file, got a second one: `{arg}`"),
        }
    }
    let path = path.context("usage: cargo xtask verify <file> [--require sm_90,sm_100,sm_121]")?;
    Ok((path, required.unwrap_or_else(TargetList::default_targets)))
}

/// The workspace root: xtask's manifest directory is one level below it.
pub(crate) fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_owned)
}

/// Where `cargo build --release -p <package>` puts the package's binary.
pub(crate) fn release_binary(package: &str) -> PathBuf {
    let target_dir = env_var("CARGO_TARGET_DIR").map_or_else(
        || project_root().join("target"),
        |dir| project_root().join(dir),
    );
    target_dir
        .join("release")
        .join(format!("{package}{}", std::env::consts::EXE_SUFFIX))
}
