//! Builds candle-kernels' PTX-set CUDA files (the 11 that candle's own build.rs compiles to PTX)
//! through sasskit, with candle's nvcc flags, for sm_90, sm_100 and sm_121, and its
//! static-library set (the 15 MoE, MMVQ and MMQ files whose host code launches their kernels)
//! into `libmoe.a`, as candle links it, for the same targets.
//!
//! The sources are read from the folder `SASSKIT_CANDLE_KERNELS` names: the `src` folder of the
//! candle-kernels 0.11.1 crate, which `cargo xtask candle-sources` fetches from crates.io and
//! prints. Nothing of candle is copied into this repository.

use std::path::PathBuf;
use std::process::ExitCode;

#[path = "corpus.rs"]
mod corpus;

use corpus::{ARCHS, FLAGS, PTX_FILES, STATIC_FILES};

/// Where the sources are.
const SOURCES_ENV: &str = "SASSKIT_CANDLE_KERNELS";

fn main() -> ExitCode {
    let sources = match sources() {
        Ok(sources) => sources,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::FAILURE;
        }
    };
    let mut build = sasskit_build::Build::new();
    build
        .files(PTX_FILES.map(|file| sources.join(format!("{file}.cu"))))
        // Whatever `SASSKIT_ARCHS` says: the corpus test checks these.
        .archs(&ARCHS.join(","))
        // Exactly candle's flags in every profile (no `-lineinfo` in dev), so that a dev build
        // (clippy, tests) finds the release build's fat binaries in the build cache.
        .debug(false)
        // One front end per target, as shipped builds compile, whatever
        // `SASSKIT_SINGLE_FRONT_END` says: the corpus is about those.
        .single_front_end(false);
    for flag in FLAGS {
        build.flag(flag);
    }
    // Prints nvcc's diagnostics and exits with an error when a file fails to build.
    build.compile();

    // The static-library set: the same flags (candle adds `-Xcompiler -fPIC`, which the
    // static-library mode passes itself), no `-DNO_BF16_KERNEL` (every target is sm_80 or
    // newer). The MMVQ and MMQ launchers take their stream as `void* stream`.
    let mut library = sasskit_build::Build::new();
    library
        .files(STATIC_FILES.map(|file| sources.join(file)))
        .archs(&ARCHS.join(","))
        .debug(false);
    for flag in FLAGS {
        library.flag(flag);
    }
    library
        .static_library("moe")
        .stream_parameter("*", "stream")
        .compile();
    ExitCode::SUCCESS
}

/// The source folder, checked to hold every file of the set.
fn sources() -> Result<PathBuf, String> {
    println!("cargo:rerun-if-env-changed={SOURCES_ENV}");
    let fix = "run `export SASSKIT_CANDLE_KERNELS=$(cargo xtask candle-sources)` in the sasskit \
               workspace, which fetches candle-kernels 0.11.1 from crates.io and prints its \
               source folder";
    let Some(dir) = env_var(SOURCES_ENV) else {
        return Err(format!(
            "{SOURCES_ENV} is not set: it names candle-kernels' source folder; {fix}"
        ));
    };
    let dir = PathBuf::from(dir);
    let missing: Vec<String> = PTX_FILES
        .iter()
        .map(|file| format!("{file}.cu"))
        .chain(STATIC_FILES.iter().map(|file| (*file).to_owned()))
        .filter(|file| !dir.join(file).is_file())
        .collect();
    if missing.is_empty() {
        Ok(dir)
    } else {
        Err(format!(
            "{SOURCES_ENV}={} lacks {}: it must name the `src` folder of candle-kernels 0.11.1; \
             {fix}",
            dir.display(),
            missing.join(", ")
        ))
    }
}

#[allow(
    clippy::disallowed_methods,
    reason = "the build script's one environment read, with its rerun line"
)]
fn env_var(name: &str) -> Option<std::ffi::OsString> {
    std::env::var_os(name).filter(|value| !value.is_empty())
}
