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
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

use crate::cmd::Cmd;
use crate::{candle, project_root, toolchain};

/// candle's PTX set, as `tests/candle` builds it.
const FILES: [&str; 11] = [
    "affine",
    "binary",
    "cast",
    "conv",
    "fill",
    "indexing",
    "quantized",
    "reduce",
    "sort",
    "ternary",
    "unary",
];
/// candle's flags for those files.
const FLAGS: [&str; 3] = ["--expt-relaxed-constexpr", "-std=c++17", "-O3"];
const ARCHS: [&str; 3] = ["sm_90", "sm_100", "sm_121"];
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
    let krate = CandleCrate::create(&work, &sources, &toolchain.nvcc)?;
    let envs = toolchain.envs();
    eprintln!("bench-build candle: building the crate's dependencies, and sm_90 once (untimed)");
    let first = krate.build(&envs, &[("SASSKIT_ARCHS", "sm_90")])?;
    let by_size = krate.largest_first()?;

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
            .map(|file| Job::new(file, &ARCHS, &out))
            .collect();
        let per_target: Vec<Job> = by_size
            .iter()
            .flat_map(|file| ARCHS.iter().map(|arch| Job::new(file, &[*arch], &out)))
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
        samples[3].1.push(krate.cold(&envs, &[])?);
        samples[4]
            .1
            .push(krate.cold(&envs, &[("SASSKIT_SINGLE_FRONT_END", "1")])?);
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
    report.push_str(&krate.where_the_time_goes(&envs, &toolchain.nvcc, &by_size)?);
    report.push_str(&krate.incremental(&envs)?);
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

/// One hand-written nvcc run.
struct Job {
    source: PathBuf,
    gencode: Vec<String>,
    output: PathBuf,
}

impl Job {
    fn new(source: &Path, archs: &[&str], out: &Path) -> Job {
        let stem = source.file_stem().unwrap_or_default().to_string_lossy();
        Job {
            source: source.to_owned(),
            gencode: archs
                .iter()
                .flat_map(|arch| {
                    let sm = arch.trim_start_matches("sm_");
                    [
                        "-gencode".to_owned(),
                        format!("arch=compute_{sm},code=sm_{sm}"),
                    ]
                })
                .collect(),
            output: out.join(format!("{stem}-{}.fatbin", archs.join("-"))),
        }
    }
}

/// Runs `jobs` in order, `cores` at a time, as `xargs -P<cores>` would.
fn queue(nvcc: &Path, jobs: &[Job], cores: usize, extra: &[&str]) -> Result<Duration> {
    let next = Mutex::new(jobs.iter());
    let start = Instant::now();
    std::thread::scope(|scope| -> Result<()> {
        let workers: Vec<_> = (0..cores)
            .map(|_| {
                scope.spawn(|| -> Result<()> {
                    loop {
                        let Some(job) = next.lock().map_err(|_| anyhow!("poisoned"))?.next() else {
                            return Ok(());
                        };
                        Cmd::new(nvcc)
                            .arg("--fatbin")
                            .args(FLAGS)
                            .args(&job.gencode)
                            .args(extra)
                            .arg("-o")
                            .arg(&job.output)
                            .arg(&job.source)
                            .read()?;
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.join().map_err(|_| anyhow!("a worker panicked"))??;
        }
        Ok(())
    })?;
    Ok(start.elapsed())
}

/// A crate whose build script compiles copies of candle's files through sasskit, with a logging
/// nvcc so that the benchmark can count what each build compiled.
struct CandleCrate {
    dir: PathBuf,
    target: PathBuf,
    kernels: PathBuf,
    log: PathBuf,
    nvcc: PathBuf,
}

impl CandleCrate {
    fn create(work: &Path, sources: &Path, real_nvcc: &Path) -> Result<CandleCrate> {
        let dir = work.join("crate");
        let kernels = dir.join("kernels");
        let _ = fs::remove_dir_all(&kernels);
        fs::create_dir_all(&kernels)?;
        fs::create_dir_all(dir.join("src"))?;
        for entry in
            fs::read_dir(sources).with_context(|| format!("reading {}", sources.display()))?
        {
            let path = entry?.path();
            if path
                .extension()
                .is_some_and(|ext| ext == "cu" || ext == "cuh")
            {
                fs::copy(&path, kernels.join(path.file_name().unwrap_or_default()))?;
            }
        }
        let files: Vec<String> = FILES
            .iter()
            .map(|file| format!("\"kernels/{file}.cu\""))
            .collect();
        let flags: Vec<String> = FLAGS.iter().map(|flag| format!("{flag:?}")).collect();
        fs::write(
            dir.join("Cargo.toml"),
            format!(
                "[package]\nname = \"bench-build-candle\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n\
                 [build-dependencies]\nsasskit-build = {{ path = {:?} }}\n\n[package.metadata.sasskit]\narchs = {ARCHS:?}\n\n[workspace]\n",
                project_root().join("build-support").display().to_string(),
            ),
        )?;
        fs::write(
            dir.join("build.rs"),
            format!(
                "fn main() {{\n    sasskit_build::Build::new()\n        .files([{}])\n        .flags([{}])\n        .compile();\n}}\n",
                files.join(", "),
                flags.join(", ")
            ),
        )?;
        fs::write(dir.join("src/main.rs"), "fn main() {}\n")?;
        let log = work.join("nvcc.log");
        let nvcc = work.join("nvcc-logging");
        fs::write(
            &nvcc,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
                log.display(),
                real_nvcc.display()
            ),
        )?;
        make_executable(&nvcc)?;
        Ok(CandleCrate {
            target: work.join("target"),
            dir,
            kernels,
            log,
            nvcc,
        })
    }

    /// The files, largest first (what a careful hand-written script would start with).
    fn largest_first(&self) -> Result<Vec<PathBuf>> {
        let mut files: Vec<(u64, PathBuf)> = FILES
            .iter()
            .map(|file| {
                let path = self.kernels.join(format!("{file}.cu"));
                Ok((fs::metadata(&path)?.len(), path))
            })
            .collect::<Result<_>>()?;
        files.sort_by_key(|(size, _)| std::cmp::Reverse(*size));
        Ok(files.into_iter().map(|(_, path)| path).collect())
    }

    fn build(
        &self,
        envs: &[(&'static str, std::ffi::OsString)],
        extra: &[(&str, &str)],
    ) -> Result<Duration> {
        let start = Instant::now();
        let mut cargo = Cmd::cargo()
            .args(["build", "--quiet"])
            .dir(&self.dir)
            .env("CARGO_TARGET_DIR", &self.target)
            .envs(envs.iter().cloned())
            .env("NVCC", &self.nvcc)
            .env("SASSKIT_ARCHS", ARCHS.join(","));
        for (key, value) in extra {
            cargo = cargo.env(key, value);
        }
        cargo.run()?;
        Ok(start.elapsed())
    }

    /// sasskit's outputs removed and every source touched: the build script runs and compiles
    /// every file.
    fn cold(
        &self,
        envs: &[(&'static str, std::ffi::OsString)],
        extra: &[(&str, &str)],
    ) -> Result<Duration> {
        self.remove_outputs()?;
        self.touch_all()?;
        let time = self.build(envs, extra)?;
        let compiled = self.compiles_since_clear();
        if compiled.len() < FILES.len() {
            bail!("a cold build compiled only {} files", compiled.len());
        }
        Ok(time)
    }

    fn remove_outputs(&self) -> Result<()> {
        for entry in fs::read_dir(self.target.join("debug").join("build"))? {
            let out = sasskit_core::out_dir::folder(&entry?.path().join("out"));
            if out.is_dir() {
                fs::remove_dir_all(&out)?;
            }
        }
        let _ = fs::remove_file(&self.log);
        Ok(())
    }

    fn touch_all(&self) -> Result<()> {
        for entry in fs::read_dir(&self.kernels)? {
            let path = entry?.path();
            let text = fs::read(&path)?;
            fs::write(&path, text)?;
        }
        let _ = fs::remove_file(&self.log);
        Ok(())
    }

    /// The files nvcc compiled (`--fatbin`) since the log was last cleared, each once.
    fn compiles_since_clear(&self) -> Vec<String> {
        let log = fs::read_to_string(&self.log).unwrap_or_default();
        let mut files: Vec<String> = log
            .lines()
            .filter(|line| line.contains("--fatbin"))
            .filter_map(|line| line.split_whitespace().last())
            .filter_map(|path| Path::new(path).file_name())
            .map(|name| name.to_string_lossy().into_owned())
            .collect();
        files.sort();
        files.dedup();
        files
    }

    fn preprocess_runs_since_clear(&self) -> usize {
        fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|line| line.split_whitespace().next() == Some("-E"))
            .count()
    }

    /// Seconds per cost: the no-op (cargo alone), a warm rerun (the build script runs, every
    /// output is reused: preprocessing, keys, verification, writing), and the preprocessing
    /// alone (every `nvcc -E` the build script runs, one at a time and `cores` at a time).
    fn where_the_time_goes(
        &self,
        envs: &[(&'static str, std::ffi::OsString)],
        nvcc: &Path,
        files: &[PathBuf],
    ) -> Result<String> {
        let noop = median(
            &(0..ROUNDS)
                .map(|_| self.build(envs, &[]))
                .collect::<Result<Vec<_>>>()?,
        );
        let warm = median(
            &(0..ROUNDS)
                .map(|_| {
                    self.touch_all()?;
                    let time = self.build(envs, &[])?;
                    if !self.compiles_since_clear().is_empty() {
                        bail!("a warm rerun compiled something");
                    }
                    Ok(time)
                })
                .collect::<Result<Vec<_>>>()?,
        );
        // The log holds the last round only: `touch_all` clears it.
        let passes = self.preprocess_runs_since_clear();
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
    fn incremental(&self, envs: &[(&'static str, std::ffi::OsString)]) -> Result<String> {
        let mut text = String::from("incremental rebuilds (medians):\n");
        for (label, file) in [
            ("one .cu changed", ONE_FILE),
            ("one shared header changed", ONE_HEADER),
        ] {
            let mut times = Vec::new();
            let mut compiled = Vec::new();
            for round in 0..ROUNDS {
                let path = self.kernels.join(file);
                let mut source = fs::read_to_string(&path)?;
                let _ = writeln!(source, "\n// sasskit bench change {round}");
                let _ = writeln!(
                    source,
                    "__device__ int sasskit_bench_{}_{round};",
                    file.replace('.', "_")
                );
                fs::write(&path, source)?;
                let _ = fs::remove_file(&self.log);
                times.push(self.build(envs, &[])?);
                compiled = self.compiles_since_clear();
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
}

fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}

fn list(times: &[Duration]) -> String {
    let parts: Vec<String> = times
        .iter()
        .map(|time| format!("{:.1}", time.as_secs_f64()))
        .collect();
    parts.join(", ")
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))
        .with_context(|| format!("making {} executable", path.display()))
}

#[cfg(not(unix))]
fn make_executable(_: &Path) -> Result<()> {
    bail!("the benchmark's logging nvcc is a shell script: Unix only")
}
