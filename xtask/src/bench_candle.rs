//! `cargo xtask bench-build candle`: sasskit's build of candle-kernels' 11 PTX-set files for
//! sm_90, sm_100 and sm_121 against the best hand-written parallel nvcc runs of the same files
//! and flags, side by side in one run, rounds interleaved, medians reported; then where the time
//! goes (preprocessing, cargo, compiling), the incremental rebuilds, and the single-front-end
//! mode.
//!
//! "Cold" means: the crate's dependencies are built (that is cargo's work, the same for any build
//! script, and reported apart), sasskit's outputs are removed, no build cache is set, and every
//! source is touched so that the build script runs again.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};

use crate::bench_common::corpus::PTX_FILES;
use crate::bench_common::{ARCHS, CandleCrate, Envs, FLAGS, Job, list, median, queue};
use crate::cmd::Cmd;
use crate::{candle, project_root, toolchain};

/// The `.cu` file the one-file rebuild changes.
const ONE_FILE: &str = "unary.cu";
/// The header the one-header rebuild changes: included (through `binary_op_macros.cuh` and
/// directly) by every file but `quantized.cu`.
const ONE_HEADER: &str = "cuda_utils.cuh";
/// Rounds of every timed build; medians are reported.
const ROUNDS: usize = 3;

/// `cargo xtask bench-build candle`.
pub(crate) fn run() -> Result<()> {
    let toolchain = toolchain::ensure()?;
    let sources = candle::sources()?;
    let work = project_root().join("target").join("bench-build-candle");
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let krate = CandleCrate::create(
        &work,
        "bench-build-candle",
        &sources,
        &toolchain.nvcc,
        &build_rs(),
        "src/main.rs",
    )?;
    let all: Vec<String> = PTX_FILES.iter().map(|file| format!("{file}.cu")).collect();
    let envs = toolchain.envs();
    eprintln!("bench-build candle: building the crate's dependencies, and sm_90 once (untimed)");
    let first = krate.build(&envs, &[("SASSKIT_ARCHS", "sm_90")])?;
    let by_size = largest_first(&krate)?;

    let mut samples: Vec<(&str, Vec<Duration>)> = vec![
        (
            "hand-written: one nvcc per file, all 3 -gencode, largest first, queue of cores",
            Vec::new(),
        ),
        ("hand-written: the same, with --threads 3", Vec::new()),
        (
            "hand-written: one nvcc per file and architecture (33 runs), largest first, queue of cores",
            Vec::new(),
        ),
        (
            "sasskit cold: cargo build, build script compiles all 11",
            Vec::new(),
        ),
        (
            "sasskit cold, single front end (SASSKIT_SINGLE_FRONT_END=1)",
            Vec::new(),
        ),
    ];
    for round in 0..ROUNDS {
        eprintln!("bench-build candle: round {} of {ROUNDS}", round + 1);
        let out = work.join("by-hand");
        fs::create_dir_all(&out)?;
        let per_file: Vec<Job> = by_size
            .iter()
            .map(|file| fatbin_job(file, &ARCHS, &out))
            .collect();
        let per_target: Vec<Job> = by_size
            .iter()
            .flat_map(|file| ARCHS.iter().map(|arch| fatbin_job(file, &[*arch], &out)))
            .collect();
        samples[0]
            .1
            .push(queue(&toolchain.nvcc, &per_file, cores, &[])?);
        samples[1].1.push(queue(
            &toolchain.nvcc,
            &per_file,
            cores,
            &["--threads", "3"],
        )?);
        samples[2]
            .1
            .push(queue(&toolchain.nvcc, &per_target, cores, &[])?);
        samples[3].1.push(krate.cold(&envs, &[], &all)?);
        samples[4]
            .1
            .push(krate.cold(&envs, &[("SASSKIT_SINGLE_FRONT_END", "1")], &all)?);
    }
    let medians: Vec<(&str, Duration)> = samples
        .iter()
        .map(|(name, times)| (*name, median(times)))
        .collect();
    let best = medians[..3]
        .iter()
        .map(|(_, time)| *time)
        .min()
        .ok_or_else(|| anyhow!("no baseline"))?;

    let mut report = cold_table(&samples, &medians, best, cores, &toolchain.nvcc, first);
    report.push_str(&where_the_time_goes(
        &krate,
        &envs,
        &toolchain.nvcc,
        &by_size,
    )?);
    report.push_str(&incremental(&krate, &envs)?);
    print!("{report}");
    Ok(())
}

/// The cold builds' table: each baseline and sasskit, the ratios.
fn cold_table(
    samples: &[(&str, Vec<Duration>)],
    medians: &[(&str, Duration)],
    best: Duration,
    cores: usize,
    nvcc: &Path,
    first: Duration,
) -> String {
    let mut report = String::new();
    let _ = writeln!(
        report,
        "candle-kernels 0.11.1, 11 PTX-set files, {}, flags {}, {cores} cores, nvcc {}; medians of {ROUNDS} rounds (interleaved):",
        ARCHS.join(","),
        FLAGS.join(" "),
        nvcc.display()
    );
    for ((name, time), (_, times)) in medians.iter().zip(samples) {
        let _ = writeln!(
            report,
            "  {name:<92} {:>8.1} s   ({})",
            time.as_secs_f64(),
            list(times)
        );
    }
    let _ = writeln!(
        report,
        "  ratio sasskit cold / best hand-written: {:.3}",
        medians[3].1.as_secs_f64() / best.as_secs_f64()
    );
    let _ = writeln!(
        report,
        "  ratio single front end / sasskit cold:  {:.3}",
        medians[4].1.as_secs_f64() / medians[3].1.as_secs_f64()
    );
    let _ = writeln!(
        report,
        "  (the first build: the crate's dependencies and sm_90 alone, untimed above: {:.1} s)",
        first.as_secs_f64()
    );
    report
}

/// The build script: the PTX set with candle's flags, the targets from `SASSKIT_ARCHS`.
fn build_rs() -> String {
    let files: Vec<String> = PTX_FILES
        .iter()
        .map(|file| format!("\"kernels/{file}.cu\""))
        .collect();
    let flags: Vec<String> = FLAGS.iter().map(|flag| format!("{flag:?}")).collect();
    format!(
        "fn main() {{\n    sasskit_build::Build::new()\n        .files([{}])\n        .flags([{}])\n        .compile();\n}}\n",
        files.join(", "),
        flags.join(", ")
    )
}

/// `nvcc --fatbin` of one file for `archs`.
fn fatbin_job(source: &Path, archs: &[&str], out: &Path) -> Job {
    let stem = source.file_stem().unwrap_or_default().to_string_lossy();
    Job::new(
        &["--fatbin"],
        source,
        archs,
        out.join(format!("{stem}-{}.fatbin", archs.join("-"))),
    )
}

/// The files, largest first (what a careful hand-written script would start with).
fn largest_first(krate: &CandleCrate) -> Result<Vec<PathBuf>> {
    let mut files: Vec<(u64, PathBuf)> = PTX_FILES
        .iter()
        .map(|file| {
            let path = krate.kernels.join(format!("{file}.cu"));
            Ok((fs::metadata(&path)?.len(), path))
        })
        .collect::<Result<_>>()?;
    files.sort_by_key(|(size, _)| std::cmp::Reverse(*size));
    Ok(files.into_iter().map(|(_, path)| path).collect())
}

/// Seconds per cost: the no-op (cargo alone), a warm rerun (the build script runs, every
/// output is reused: preprocessing, keys, verification, writing), and the preprocessing
/// alone (every `nvcc -E` the build script runs, one at a time and `cores` at a time).
fn where_the_time_goes(
    krate: &CandleCrate,
    envs: &Envs,
    nvcc: &Path,
    files: &[PathBuf],
) -> Result<String> {
    let noop = median(
        &(0..ROUNDS)
            .map(|_| krate.build(envs, &[]))
            .collect::<Result<Vec<_>>>()?,
    );
    let warm = median(
        &(0..ROUNDS)
            .map(|_| {
                krate.touch_all()?;
                let time = krate.build(envs, &[])?;
                if !krate.compiles_since_clear().is_empty() {
                    bail!("a warm rerun compiled something");
                }
                Ok(time)
            })
            .collect::<Result<Vec<_>>>()?,
    );
    // The log holds the last round only: `touch_all` clears it.
    let passes = krate.runs_since_clear("-E");
    let start = Instant::now();
    for file in files {
        for arch in ARCHS {
            let sm = arch.trim_start_matches("sm_");
            Cmd::new(nvcc)
                .arg("-E")
                .args(FLAGS)
                .args(["-gencode", &format!("arch=compute_{sm},code=sm_{sm}")])
                .arg(file)
                .read()?;
        }
    }
    let serial = start.elapsed();
    let mut text = String::from("where the time goes (medians):\n");
    let _ = writeln!(
        text,
        "  no-op cargo build (build script not rerun, no nvcc)            {:>8.2} s",
        noop.as_secs_f64()
    );
    let _ = writeln!(
        text,
        "  warm rerun: every source touched, every output reused           {:>8.2} s  ({passes} nvcc -E runs, keys, verify, write)",
        warm.as_secs_f64()
    );
    let _ = writeln!(
        text,
        "  the {} nvcc -E runs alone, one at a time                        {:>8.2} s",
        files.len() * ARCHS.len(),
        serial.as_secs_f64()
    );
    Ok(text)
}

/// One `.cu` file changed, and one header that every file but one includes: time and what
/// was compiled.
fn incremental(krate: &CandleCrate, envs: &Envs) -> Result<String> {
    let mut text = String::from("incremental rebuilds (medians):\n");
    for (label, file) in [
        ("one .cu changed", ONE_FILE),
        ("one shared header changed", ONE_HEADER),
    ] {
        let mut times = Vec::new();
        let mut compiled = Vec::new();
        for round in 0..ROUNDS {
            let path = krate.kernels.join(file);
            let mut source = fs::read_to_string(&path)?;
            let _ = writeln!(source, "\n// sasskit bench change {round}");
            let _ = writeln!(
                source,
                "__device__ int sasskit_bench_{}_{round};",
                file.replace('.', "_")
            );
            fs::write(&path, source)?;
            krate.clear_log();
            times.push(krate.build(envs, &[])?);
            compiled = krate.compiles_since_clear();
        }
        let _ = writeln!(
            text,
            "  {label} ({file}) {:>8.2} s   recompiled {}: {}",
            median(&times).as_secs_f64(),
            compiled.len(),
            compiled.join(", ")
        );
    }
    Ok(text)
}
