//! `cargo xtask bench-build`: build throughput of sasskit against the fastest hand-written nvcc
//! invocation of the same files and flags, on this machine, measured side by side; plus the
//! no-op and one-file-changed rebuilds, and the bytes each architecture adds per file, with and
//! without fat binary compression.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::bench_common::gencode;
use crate::cmd::Cmd;
use crate::{project_root, toolchain};

/// The targets every measurement builds.
const ARCHS: [&str; 3] = ["sm_90", "sm_100", "sm_121"];
/// Repetitions of each timed build; the median is reported.
const ROUNDS: usize = 3;

/// `cargo xtask bench-build`.
pub(crate) fn run() -> Result<()> {
    let toolchain = toolchain::ensure()?;
    let root = project_root();
    let sources = kernel_sources(&root)?;
    let work = root.join("target").join("bench-build");
    fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let jobs = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let mut report = String::new();
    let _ = writeln!(
        report,
        "build throughput: {} files, targets {}, {jobs} cores, nvcc {}",
        sources.len(),
        ARCHS.join(","),
        toolchain.nvcc.display()
    );

    let krate = BenchCrate::create(&work, &sources)?;
    krate.build(&toolchain.envs())?; // dependencies and a first build, untimed
    let mut by_hand = Vec::new();
    let mut by_hand_threads = Vec::new();
    let mut sasskit = Vec::new();
    for _ in 0..ROUNDS {
        by_hand.push(hand_written(&toolchain.nvcc, &sources, &work, jobs, false)?);
        by_hand_threads.push(hand_written(&toolchain.nvcc, &sources, &work, jobs, true)?);
        sasskit.push(krate.full_rebuild(&toolchain.envs())?);
    }
    let (by_hand, by_hand_threads, sasskit) =
        (median(by_hand), median(by_hand_threads), median(sasskit));
    let best = by_hand.min(by_hand_threads);
    let _ = writeln!(
        report,
        "  hand-written nvcc, {jobs} files at a time              {:>8.2}s",
        by_hand.as_secs_f64()
    );
    let _ = writeln!(
        report,
        "  hand-written nvcc, {jobs} at a time, --threads 3      {:>8.2}s",
        by_hand_threads.as_secs_f64()
    );
    let _ = writeln!(
        report,
        "  sasskit build script (cargo build, all files)   {:>8.2}s",
        sasskit.as_secs_f64()
    );
    let _ = writeln!(
        report,
        "  ratio sasskit / best hand-written: {:.3}",
        sasskit.as_secs_f64() / best.as_secs_f64()
    );

    let noop = median(
        (0..ROUNDS)
            .map(|_| krate.noop(&toolchain.envs()))
            .collect::<Result<_>>()?,
    );
    let one = median(
        (0..ROUNDS)
            .map(|round| krate.one_changed(&toolchain.envs(), round))
            .collect::<Result<_>>()?,
    );
    let _ = writeln!(
        report,
        "  no-op rebuild (no nvcc, build script not rerun)  {:>8.2}s",
        noop.as_secs_f64()
    );
    let _ = writeln!(
        report,
        "  one file changed                                 {:>8.2}s",
        one.as_secs_f64()
    );

    report.push_str(&binary_sizes(&toolchain.nvcc, &sources, &work)?);
    print!("{report}");
    Ok(())
}

/// The example kernels and the benchmark set.
fn kernel_sources(root: &Path) -> Result<Vec<PathBuf>> {
    let mut sources = Vec::new();
    for dir in [root.join("kernels"), root.join("kernels").join("bench")] {
        for entry in fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            let path = entry?.path();
            if path.extension().is_some_and(|ext| ext == "cu") {
                sources.push(path);
            }
        }
    }
    sources.sort();
    if sources.len() < 10 {
        bail!(
            "the benchmark needs at least 10 .cu files, found {}",
            sources.len()
        );
    }
    Ok(sources)
}

/// Compiles every file with `jobs` nvcc processes at a time, as a careful Makefile would.
fn hand_written(
    nvcc: &Path,
    sources: &[PathBuf],
    work: &Path,
    jobs: usize,
    threads: bool,
) -> Result<Duration> {
    let out = work.join("by-hand");
    fs::create_dir_all(&out)?;
    let queue = Mutex::new(sources.iter());
    let start = Instant::now();
    std::thread::scope(|scope| -> Result<()> {
        let workers: Vec<_> = (0..jobs)
            .map(|_| {
                scope.spawn(|| -> Result<()> {
                    loop {
                        let Some(source) = queue
                            .lock()
                            .map_err(|_| anyhow::anyhow!("poisoned"))?
                            .next()
                        else {
                            return Ok(());
                        };
                        let name = source
                            .file_stem()
                            .unwrap_or_default()
                            .to_string_lossy()
                            .into_owned();
                        let mut cmd = Cmd::new(nvcc).arg("--fatbin").args(gencode(&ARCHS));
                        if threads {
                            cmd = cmd.args(["--threads", "3"]);
                        }
                        cmd.arg("-o")
                            .arg(out.join(format!("{name}.fatbin")))
                            .arg(source)
                            .read()?;
                    }
                })
            })
            .collect();
        for worker in workers {
            worker
                .join()
                .map_err(|_| anyhow::anyhow!("a worker panicked"))??;
        }
        Ok(())
    })?;
    Ok(start.elapsed())
}

/// A crate whose build script compiles the benchmark files through sasskit.
struct BenchCrate {
    dir: PathBuf,
    target: PathBuf,
    sources: Vec<PathBuf>,
}

impl BenchCrate {
    fn create(work: &Path, sources: &[PathBuf]) -> Result<BenchCrate> {
        let dir = work.join("crate");
        fs::create_dir_all(dir.join("src"))?;
        let build_support = project_root().join("build-support");
        // Copies, so that changing one does not touch the repository's kernels.
        let kernels = dir.join("kernels");
        let _ = fs::remove_dir_all(&kernels);
        fs::create_dir_all(&kernels)?;
        let mut copies = Vec::new();
        for source in sources {
            let copy = kernels.join(source.file_name().unwrap_or_default());
            fs::copy(source, &copy)?;
            copies.push(copy);
        }
        for header in ["tile.cuh", "bench/common.cuh"] {
            let from = project_root().join("kernels").join(header);
            if from.is_file() {
                fs::copy(
                    &from,
                    kernels.join(Path::new(header).file_name().unwrap_or_default()),
                )?;
            }
        }
        let files: Vec<String> = copies
            .iter()
            .map(|copy| format!("{:?}", copy.display().to_string()))
            .collect();
        fs::write(
            dir.join("Cargo.toml"),
            format!(
                "[package]\nname = \"bench-build\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n\
                 [build-dependencies]\nsasskit-build = {{ path = {:?} }}\n\n[package.metadata.sasskit]\narchs = {:?}\n\n[workspace]\n",
                build_support.display().to_string(),
                ARCHS
            ),
        )?;
        fs::write(
            dir.join("build.rs"),
            format!(
                "fn main() {{\n    sasskit_build::Build::new().files([{}]).compile();\n}}\n",
                files.join(", ")
            ),
        )?;
        fs::write(dir.join("src/main.rs"), "fn main() {}\n")?;
        Ok(BenchCrate {
            target: work.join("target"),
            dir,
            sources: copies,
        })
    }

    fn build(&self, envs: &[(&'static str, std::ffi::OsString)]) -> Result<Duration> {
        let start = Instant::now();
        Cmd::cargo()
            .args(["build", "--quiet"])
            .dir(&self.dir)
            .env("CARGO_TARGET_DIR", &self.target)
            .envs(envs.iter().cloned())
            .run()?;
        Ok(start.elapsed())
    }

    /// Every file compiled again: outputs removed, sources touched.
    fn full_rebuild(&self, envs: &[(&'static str, std::ffi::OsString)]) -> Result<Duration> {
        for entry in fs::read_dir(self.target.join("debug").join("build"))? {
            let out = sasskit_core::out_dir::folder(&entry?.path().join("out"));
            if out.is_dir() {
                fs::remove_dir_all(&out)?;
            }
        }
        for source in &self.sources {
            let text = fs::read(source)?;
            fs::write(source, text)?;
        }
        self.build(envs)
    }

    fn noop(&self, envs: &[(&'static str, std::ffi::OsString)]) -> Result<Duration> {
        self.build(envs)
    }

    /// One file's content changed (a new device variable), so its build key changes.
    fn one_changed(
        &self,
        envs: &[(&'static str, std::ffi::OsString)],
        round: usize,
    ) -> Result<Duration> {
        let source = &self.sources[0];
        let mut text = fs::read_to_string(source)?;
        let _ = writeln!(text, "__device__ int sasskit_bench_salt_{round} = {round};");
        fs::write(source, text)?;
        self.build(envs)
    }
}

/// Bytes each architecture adds per file: single-target fat binaries, stored raw and with
/// `--compress-mode=size`.
fn binary_sizes(nvcc: &Path, sources: &[PathBuf], work: &Path) -> Result<String> {
    let out = work.join("sizes");
    fs::create_dir_all(&out)?;
    let mut table = String::from(
        "\nbytes per architecture and file (single-target fat binaries), raw / --compress-mode=size:\n",
    );
    let _ = writeln!(
        table,
        "  {:<24} {:>22} {:>22} {:>22}",
        "file", ARCHS[0], ARCHS[1], ARCHS[2]
    );
    let mut totals = [(0u64, 0u64); 3];
    for source in sources {
        let name = source
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let mut row = format!("  {name:<24}");
        for (index, arch) in ARCHS.iter().enumerate() {
            let sm = arch.trim_start_matches("sm_");
            let mut sizes = [0u64; 2];
            for (slot, mode) in ["none", "size"].iter().enumerate() {
                let file = out.join(format!("{name}-{arch}-{mode}.fatbin"));
                Cmd::new(nvcc)
                    .args([
                        "--fatbin",
                        "-gencode",
                        &format!("arch=compute_{sm},code=sm_{sm}"),
                    ])
                    .arg(format!("--compress-mode={mode}"))
                    .arg("-o")
                    .arg(&file)
                    .arg(source)
                    .read()?;
                sizes[slot] = fs::metadata(&file)?.len();
            }
            totals[index].0 += sizes[0];
            totals[index].1 += sizes[1];
            let _ = write!(row, " {:>10} / {:>9}", sizes[0], sizes[1]);
        }
        table.push_str(&row);
        table.push('\n');
    }
    let mut row = format!("  {:<24}", "total");
    for (raw, compressed) in totals {
        let _ = write!(row, " {raw:>10} / {compressed:>9}");
    }
    table.push_str(&row);
    table.push('\n');
    Ok(table)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}
