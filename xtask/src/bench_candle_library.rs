//! `cargo xtask bench-build candle-library`: sasskit's build of candle-kernels' static-library
//! set (the 15 MoE, MMVQ and MMQ files whose host code launches their kernels) into `libmoe.a`
//! for sm_90, sm_100 and sm_121, against the best hand-written parallel nvcc runs of the same
//! files and flags, side by side in one run, rounds interleaved, medians reported.
//!
//! "Cold" means what it means for `bench-build candle`: the crate's dependencies and its build
//! script are built (cargo's work, the same for any build script, and reported apart), sasskit's
//! outputs are removed, no build cache is set, and every source is touched so that the build
//! script runs again.
//!
//! `bench-build candle`'s third baseline, one nvcc run per file and architecture, has no
//! counterpart here: an object holds the file's host code as well as its device code, so three
//! single-architecture objects of one file define every host function three times and cannot
//! go into one library together. A hand-written build of host code compiles each file once,
//! with every `-gencode`.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

use crate::bench_common::corpus::STATIC_FILES;
use crate::bench_common::{
    ARCHS, CandleCrate, Envs, FLAGS, Job, children_cpu, list, median, queue,
};
use crate::cmd::{Cmd, env_var};
use crate::{candle, project_root, toolchain};

/// The library's name: `libmoe.a`, as candle links it.
const LIBRARY: &str = "moe";
/// The throwaway crate's package name.
const PACKAGE: &str = "bench-build-candle-library";
/// Rounds of every timed build (default [`DEFAULT_ROUNDS`]); medians are reported.
const ROUNDS_ENV: &str = "SASSKIT_BENCH_ROUNDS";
/// One round is about 30 minutes on 2 cores (about 1600 CPU seconds of nvcc).
const DEFAULT_ROUNDS: usize = 1;
/// A comma-separated part of [`STATIC_FILES`] to build instead of all of it: for quick checks of
/// the benchmark itself, not for measurements.
const FILES_ENV: &str = "SASSKIT_BENCH_FILES";
/// What the untimed first build hands the build script as nvcc: a program that fails at once, so
/// that the build compiles the dependencies and the build script but no CUDA.
const NO_NVCC: &str = "/bin/false";

/// One way of building the library, and what each round measured.
struct Way {
    name: String,
    times: Vec<Duration>,
    /// CPU time of the child processes, where `/proc` has it.
    cpu: Vec<Option<Duration>>,
}

impl Way {
    fn new(name: String) -> Way {
        Way {
            name,
            times: Vec::new(),
            cpu: Vec::new(),
        }
    }

    fn measure(&mut self, build: impl FnOnce() -> Result<Duration>) -> Result<()> {
        let before = children_cpu();
        let time = build()?;
        let cpu = children_cpu()
            .zip(before)
            .map(|(after, before)| after.saturating_sub(before));
        self.times.push(time);
        self.cpu.push(cpu);
        Ok(())
    }

    fn cpu_median(&self) -> Option<Duration> {
        let cpu: Option<Vec<Duration>> = self.cpu.iter().copied().collect();
        cpu.map(|cpu| median(&cpu))
    }
}

/// `cargo xtask bench-build candle-library`.
pub(crate) fn run() -> Result<()> {
    let rounds = rounds()?;
    let files = files()?;
    let toolchain = toolchain::ensure()?;
    let version = sasskit_build::Toolkit::at(&toolchain.nvcc)?
        .version()
        .to_owned();
    let sources = candle::sources()?;
    let work = project_root()
        .join("target")
        .join("bench-build-candle-library");
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let krate = CandleCrate::create(
        &work,
        PACKAGE,
        &sources,
        &toolchain.nvcc,
        &build_rs(&files),
        // A library: the crate links nothing, as the hand-written builds end at the archive.
        "src/lib.rs",
    )?;
    let envs = toolchain.envs();
    eprintln!(
        "bench-build candle-library: building the crate's dependencies and build script \
         (untimed; nvcc is {NO_NVCC}, so the build script fails without compiling anything)"
    );
    let first = first_build(&krate, &envs)?;
    let by_size = largest_first(&krate, &files)?;
    let out = work.join("by-hand");

    let count = if files.len() == STATIC_FILES.len() {
        "all 15".to_owned()
    } else {
        format!("the {} chosen", files.len())
    };
    let mut ways = [
        Way::new(format!(
            "hand-written: one `nvcc -c -Xcompiler -fPIC` per file with all 3 `-gencode`, \
             largest file first, a queue of {cores} (`xargs -P{cores}`), then \
             `ar rcs lib{LIBRARY}.a *.o`"
        )),
        Way::new("hand-written: the same with `--threads 3`".to_owned()),
        Way::new(format!(
            "sasskit cold: `cargo build`, the build script compiles {count} into `lib{LIBRARY}.a`"
        )),
    ];
    let mut runs = String::new();
    for round in 0..rounds {
        eprintln!(
            "bench-build candle-library: round {} of {rounds}",
            round + 1
        );
        ways[0].measure(|| by_hand(&toolchain.nvcc, &by_size, &out, cores, &[]))?;
        ways[1].measure(|| by_hand(&toolchain.nvcc, &by_size, &out, cores, &["--threads", "3"]))?;
        ways[2].measure(|| krate.cold(&envs, &[], &files))?;
        // The log holds the cold build's runs: `cold` clears it first.
        let compiles = krate.runs_since_clear("-c");
        let preprocessing = krate.runs_since_clear("-E");
        runs = format!(
            "{compiles} `nvcc -c`, {preprocessing} `nvcc -E`, {} other (version and target queries, \
             the link step's `--dryrun`)",
            krate.runs_logged() - compiles - preprocessing
        );
    }

    let report = table(&Report {
        ways: &ways,
        files: &files,
        rounds,
        cores,
        nvcc: &toolchain.nvcc,
        version: &version,
        runs: &runs,
        first,
    })?;
    print!("{report}");
    Ok(())
}

/// `SASSKIT_BENCH_ROUNDS`, else [`DEFAULT_ROUNDS`].
fn rounds() -> Result<usize> {
    let Some(value) = env_var(ROUNDS_ENV) else {
        return Ok(DEFAULT_ROUNDS);
    };
    let text = value.to_string_lossy();
    match text.trim().parse::<usize>() {
        Ok(rounds) if rounds > 0 => Ok(rounds),
        _ => bail!("`{ROUNDS_ENV}={text}` is not a number of rounds (1 or more)"),
    }
}

/// `SASSKIT_BENCH_FILES`, checked against the set, else the whole set.
fn files() -> Result<Vec<String>> {
    let Some(value) = env_var(FILES_ENV) else {
        return Ok(STATIC_FILES.map(str::to_owned).to_vec());
    };
    let mut files: Vec<String> = Vec::new();
    for file in value.to_string_lossy().split(',').map(str::trim) {
        if file.is_empty() || files.iter().any(|known| known == file) {
            continue;
        }
        if !STATIC_FILES.contains(&file) {
            bail!(
                "`{FILES_ENV}` names `{file}`, which is not in candle's static-library set: {}",
                STATIC_FILES.join(", ")
            );
        }
        files.push(file.to_owned());
    }
    if files.is_empty() {
        bail!("`{FILES_ENV}` names no file");
    }
    Ok(files)
}

/// The build script: `tests/candle/build.rs`'s static library, on the copies of `files`.
fn build_rs(files: &[String]) -> String {
    let files: Vec<String> = files
        .iter()
        .map(|file| format!("\"kernels/{file}\""))
        .collect();
    let flags: Vec<String> = FLAGS.iter().map(|flag| format!("{flag:?}")).collect();
    format!(
        "fn main() {{\n    sasskit_build::Build::new()\n        .files([{}])\n        .archs({:?})\n        \
         .debug(false)\n        .flags([{}])\n        .static_library({LIBRARY:?})\n        \
         .stream_parameter(\"*\", \"stream\")\n        .compile();\n}}\n",
        files.join(", "),
        ARCHS.join(","),
        flags.join(", ")
    )
}

/// The untimed first build: the dependencies and the build script, whose run fails at once
/// because its nvcc does; the timed builds then run it (cargo reruns a build script that failed).
fn first_build(krate: &CandleCrate, envs: &Envs) -> Result<Duration> {
    let start = Instant::now();
    let result = krate.cargo(envs, &[("NVCC", NO_NVCC)]).read();
    let time = start.elapsed();
    if krate.build_script_compiled() {
        return Ok(time);
    }
    match result {
        Err(error) => Err(error.context("building the benchmark crate's dependencies")),
        Ok(_) => Err(anyhow!(
            "the benchmark crate built, but its build script is not where cargo puts it"
        )),
    }
}

/// The files, largest first (what a careful hand-written script would start with).
fn largest_first(krate: &CandleCrate, files: &[String]) -> Result<Vec<PathBuf>> {
    let mut sized: Vec<(u64, PathBuf)> = files
        .iter()
        .map(|file| {
            let path = krate.kernels.join(file);
            let size = fs::metadata(&path)
                .with_context(|| format!("reading {}", path.display()))?
                .len();
            Ok((size, path))
        })
        .collect::<Result<_>>()?;
    sized.sort_by_key(|(size, _)| std::cmp::Reverse(*size));
    Ok(sized.into_iter().map(|(_, path)| path).collect())
}

/// One `nvcc -c -Xcompiler -fPIC` per file with every `-gencode`, `cores` at a time, then
/// `ar rcs lib<name>.a *.o`; timed from the first nvcc to the archive. The objects of the
/// previous run are removed first (untimed).
fn by_hand(
    nvcc: &Path,
    files: &[PathBuf],
    out: &Path,
    cores: usize,
    extra: &[&str],
) -> Result<Duration> {
    let _ = fs::remove_dir_all(out);
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let jobs: Vec<Job> = files
        .iter()
        .map(|file| {
            let stem = file.file_stem().unwrap_or_default().to_string_lossy();
            Job::new(
                &["-c", "-Xcompiler", "-fPIC"],
                file,
                &ARCHS,
                out.join(format!("{stem}.o")),
            )
        })
        .collect();
    // `*.o`: the objects in name order.
    let mut objects: Vec<&Path> = jobs.iter().map(|job| job.output.as_path()).collect();
    objects.sort();
    let start = Instant::now();
    queue(nvcc, &jobs, cores, extra)?;
    Cmd::new("ar")
        .arg("rcs")
        .arg(out.join(format!("lib{LIBRARY}.a")))
        .args(objects)
        .read()?;
    Ok(start.elapsed())
}

/// What the report says.
struct Report<'a> {
    ways: &'a [Way],
    files: &'a [String],
    rounds: usize,
    cores: usize,
    nvcc: &'a Path,
    version: &'a str,
    /// The nvcc runs of the last cold build.
    runs: &'a str,
    first: Duration,
}

/// The markdown table: each way's median and samples, the CPU time, the ratio.
fn table(report: &Report<'_>) -> Result<String> {
    let ways = report.ways;
    let best = ways[..2]
        .iter()
        .map(|way| median(&way.times))
        .min()
        .ok_or_else(|| anyhow!("no baseline"))?;
    let sasskit = median(&ways[2].times);
    let mut text = String::new();
    let mut settings = Vec::new();
    if report.rounds != DEFAULT_ROUNDS {
        settings.push(format!("{ROUNDS_ENV}={} ", report.rounds));
    }
    let all = report.files.len() == STATIC_FILES.len();
    if !all {
        settings.push(format!("{FILES_ENV}={} ", report.files.join(",")));
    }
    let _ = writeln!(
        text,
        "Command: `{}cargo xtask bench-build candle-library`. Machine: {} cores, nvcc {} ({}).",
        settings.concat(),
        report.cores,
        report.version,
        report.nvcc.display()
    );
    let set = if all {
        "candle-kernels 0.11.1's static-library set, 15 files".to_owned()
    } else {
        format!(
            "{} of the 15 files of candle-kernels 0.11.1's static-library set ({}): a quick check \
             of the benchmark, not a measurement of the set",
            report.files.len(),
            report.files.join(", ")
        )
    };
    let _ = writeln!(
        text,
        "Sources: {set}; flags `{}`; {} into `lib{LIBRARY}.a`. {} round{}, the ways interleaved in \
         each; medians, every sample in the samples column.\n",
        FLAGS.join(" "),
        ARCHS.join(" + "),
        report.rounds,
        if report.rounds == 1 { "" } else { "s" }
    );
    let _ = writeln!(
        text,
        "| build | median | samples | CPU time of child processes (median) |\n| --- | --- | --- | --- |"
    );
    for (index, way) in ways.iter().enumerate() {
        let time = median(&way.times);
        let bold = index < 2 && time == best;
        let seconds = format!("{:.1} s", time.as_secs_f64());
        let cpu = way.cpu_median().map_or_else(
            || "n/a".to_owned(),
            |cpu| format!("{:.0} s", cpu.as_secs_f64()),
        );
        let _ = writeln!(
            text,
            "| {} | {} | {} | {cpu} |",
            way.name,
            if bold {
                format!("**{seconds}**")
            } else {
                seconds
            },
            list(&way.times)
        );
    }
    let _ = writeln!(
        text,
        "| **ratio sasskit cold / best hand-written** | **{:.3}** | | |\n",
        sasskit.as_secs_f64() / best.as_secs_f64()
    );
    let _ = writeln!(
        text,
        "CPU time: user plus system seconds of every child process the benchmark waited for while \
         the build ran (nvcc with cicc, ptxas and the host compiler, ar; for sasskit also cargo, \
         rustc and the build script), from `/proc/self/stat`."
    );
    let _ = writeln!(
        text,
        "nvcc runs of the last sasskit cold build: {}.",
        report.runs
    );
    let _ = writeln!(
        text,
        "The first build (the crate's dependencies and build script, untimed above): {:.1} s.",
        report.first.as_secs_f64()
    );
    Ok(text)
}
