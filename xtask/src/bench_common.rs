//! What the candle build benchmarks share (`bench_candle`: the PTX set; `bench_candle_library`:
//! the static-library set): candle's flags and targets, hand-written nvcc runs in a queue of
//! workers, a throwaway crate holding a copy of candle's sources whose build script runs sasskit
//! with a logging nvcc, medians, and the CPU time of child processes.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

use crate::cmd::{Cmd, make_executable};
use crate::project_root;

/// candle's files, flags and targets: the list `tests/candle` builds.
#[path = "../../tests/candle/corpus.rs"]
pub(crate) mod corpus;

pub(crate) use corpus::{ARCHS, FLAGS};

/// The environment in one `(name, value)` list, as [`crate::toolchain::Toolchain::envs`] gives it.
pub(crate) type Envs = [(&'static str, OsString)];

/// `-gencode arch=compute_XY,code=sm_XY` for each of `archs`.
pub(crate) fn gencode(archs: &[&str]) -> Vec<String> {
    archs
        .iter()
        .flat_map(|arch| {
            let sm = arch.trim_start_matches("sm_");
            [
                "-gencode".to_owned(),
                format!("arch=compute_{sm},code=sm_{sm}"),
            ]
        })
        .collect()
}

/// One hand-written nvcc run: `nvcc <args> [extra] -o <output> <source>`.
pub(crate) struct Job {
    args: Vec<String>,
    source: PathBuf,
    pub(crate) output: PathBuf,
}

impl Job {
    /// `nvcc <mode> <candle's flags> -gencode… -o <output> <source>`, one `-gencode` per arch.
    pub(crate) fn new(mode: &[&str], source: &Path, archs: &[&str], output: PathBuf) -> Job {
        let mut args: Vec<String> = mode.iter().map(|arg| (*arg).to_owned()).collect();
        args.extend(FLAGS.iter().map(|flag| (*flag).to_owned()));
        args.extend(gencode(archs));
        Job {
            args,
            source: source.to_owned(),
            output,
        }
    }
}

/// Runs `jobs` in order, `cores` at a time, as `xargs -P<cores>` would; `extra` goes after each
/// job's own arguments.
pub(crate) fn queue(nvcc: &Path, jobs: &[Job], cores: usize, extra: &[&str]) -> Result<Duration> {
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
                            .args(&job.args)
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
///
/// ```text
/// <work>/
///   crate/          Cargo.toml, build.rs, src/, and kernels/: every .cu and .cuh of candle's
///                   source folder, subfolders kept (moe/, mmq_gguf/ include their neighbours)
///   target/         its CARGO_TARGET_DIR
///   nvcc-logging    appends its command line to nvcc.log, then runs the real nvcc
///   nvcc.log
/// ```
pub(crate) struct CandleCrate {
    dir: PathBuf,
    target: PathBuf,
    /// The copy of candle's source folder.
    pub(crate) kernels: PathBuf,
    log: PathBuf,
    /// The logging nvcc.
    nvcc: PathBuf,
    package: String,
}

impl CandleCrate {
    /// Writes the crate: package `package`, `build_rs` as its build script, and an empty
    /// `root` (`src/main.rs` or `src/lib.rs`).
    pub(crate) fn create(
        work: &Path,
        package: &str,
        sources: &Path,
        real_nvcc: &Path,
        build_rs: &str,
        root: &str,
    ) -> Result<CandleCrate> {
        let dir = work.join("crate");
        let kernels = dir.join("kernels");
        let _ = fs::remove_dir_all(&kernels);
        copy_sources(sources, &kernels)?;
        fs::create_dir_all(dir.join("src"))?;
        for stale in ["src/main.rs", "src/lib.rs"] {
            let _ = fs::remove_file(dir.join(stale));
        }
        fs::write(
            dir.join("Cargo.toml"),
            format!(
                "[package]\nname = \"{package}\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n\
                 [build-dependencies]\nsasskit-build = {{ path = {:?} }}\n\n[package.metadata.sasskit]\narchs = {ARCHS:?}\n\n[workspace]\n",
                project_root().join("build-support").display().to_string(),
            ),
        )?;
        fs::write(dir.join("build.rs"), build_rs)?;
        let empty = if root.ends_with("main.rs") {
            "fn main() {}\n"
        } else {
            ""
        };
        fs::write(dir.join(root), empty)?;
        let log = work.join("nvcc.log");
        if cfg!(not(unix)) {
            bail!("the benchmark's logging nvcc is a shell script: Unix only");
        }
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
            package: package.to_owned(),
        })
    }

    /// `cargo build --quiet` of the crate with the logging nvcc, candle's targets in
    /// `SASSKIT_ARCHS`, no build cache and no launcher, then `extra` (which may override any of
    /// them).
    pub(crate) fn cargo(&self, envs: &Envs, extra: &[(&str, &str)]) -> Cmd {
        let mut cargo = Cmd::cargo()
            .args(["build", "--quiet"])
            .dir(&self.dir)
            .env_remove(sasskit_build::CACHE_DIR_ENV)
            .env_remove(sasskit_build::LAUNCHER_ENV)
            .env("CARGO_TARGET_DIR", &self.target)
            .envs(envs.iter().cloned())
            .env("NVCC", &self.nvcc)
            .env("SASSKIT_ARCHS", ARCHS.join(","));
        for (key, value) in extra {
            cargo = cargo.env(key, value);
        }
        cargo
    }

    /// [`CandleCrate::cargo`], run and timed.
    pub(crate) fn build(&self, envs: &Envs, extra: &[(&str, &str)]) -> Result<Duration> {
        let start = Instant::now();
        self.cargo(envs, extra).run()?;
        Ok(start.elapsed())
    }

    /// A cold build: sasskit's outputs removed and every source touched, so the build script
    /// runs and compiles every file; fails unless nvcc compiled each of `files` (paths under
    /// `kernels/`).
    pub(crate) fn cold(
        &self,
        envs: &Envs,
        extra: &[(&str, &str)],
        files: &[String],
    ) -> Result<Duration> {
        self.remove_outputs()?;
        self.touch_all()?;
        let time = self.build(envs, extra)?;
        let compiled = self.compiles_since_clear();
        let missing: Vec<&str> = files
            .iter()
            .filter(|file| !compiled.contains(file))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            bail!(
                "a cold build did not compile {} (it compiled {})",
                missing.join(", "),
                compiled.join(", ")
            );
        }
        Ok(time)
    }

    /// Removes sasskit's folder from every build script's `OUT_DIR`.
    pub(crate) fn remove_outputs(&self) -> Result<()> {
        let build = self.target.join("debug").join("build");
        if build.is_dir() {
            for entry in fs::read_dir(&build)? {
                let out = sasskit_core::out_dir::folder(&entry?.path().join("out"));
                if out.is_dir() {
                    fs::remove_dir_all(&out)?;
                }
            }
        }
        self.clear_log();
        Ok(())
    }

    /// Rewrites every copied source unchanged (a new modification time), and clears the log.
    pub(crate) fn touch_all(&self) -> Result<()> {
        for path in files_under(&self.kernels)? {
            let text = fs::read(&path)?;
            fs::write(&path, text)?;
        }
        self.clear_log();
        Ok(())
    }

    pub(crate) fn clear_log(&self) {
        let _ = fs::remove_file(&self.log);
    }

    fn logged(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The files nvcc compiled since the log was last cleared, each once, as paths under
    /// `kernels/`: a `--fatbin` run (fat binaries) or one whose first argument is `-c`
    /// (objects; not the link step's `--dryrun -c`).
    pub(crate) fn compiles_since_clear(&self) -> Vec<String> {
        let mut files: Vec<String> = self
            .logged()
            .lines()
            .filter(|line| {
                let mut words = line.split_whitespace();
                words.next() == Some("-c") || line.contains("--fatbin")
            })
            .filter_map(|line| line.split_whitespace().last())
            .map(|path| self.under_kernels(Path::new(path)))
            .collect();
        files.sort();
        files.dedup();
        files
    }

    /// `kernels/moe/moe_gguf.cu` (relative or absolute) as `moe/moe_gguf.cu`.
    fn under_kernels(&self, path: &Path) -> String {
        path.strip_prefix(&self.kernels)
            .or_else(|_| path.strip_prefix("kernels"))
            .map_or_else(
                |_| {
                    path.file_name()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .into_owned()
                },
                |relative| relative.to_string_lossy().into_owned(),
            )
    }

    /// How many nvcc runs since the log was last cleared had `first` as their first argument.
    pub(crate) fn runs_since_clear(&self, first: &str) -> usize {
        self.logged()
            .lines()
            .filter(|line| line.split_whitespace().next() == Some(first))
            .count()
    }

    /// How many nvcc runs since the log was last cleared.
    pub(crate) fn runs_logged(&self) -> usize {
        self.logged().lines().count()
    }

    /// Whether the crate's build script is compiled (a build got at least that far).
    pub(crate) fn build_script_compiled(&self) -> bool {
        let prefix = format!("{}-", self.package);
        fs::read_dir(self.target.join("debug").join("build")).is_ok_and(|entries| {
            entries.filter_map(Result::ok).any(|entry| {
                entry.file_name().to_string_lossy().starts_with(&prefix)
                    && entry
                        .path()
                        .join(format!(
                            "build-script-build{}",
                            std::env::consts::EXE_SUFFIX
                        ))
                        .is_file()
            })
        })
    }
}

/// Copies every `.cu` and `.cuh` file under `from` to the same place under `to`.
fn copy_sources(from: &Path, to: &Path) -> Result<()> {
    for path in files_under(from)? {
        if !path
            .extension()
            .is_some_and(|ext| ext == "cu" || ext == "cuh")
        {
            continue;
        }
        let relative = path.strip_prefix(from)?;
        let copy = to.join(relative);
        if let Some(parent) = copy.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::copy(&path, &copy)
            .with_context(|| format!("copying {} to {}", path.display(), copy.display()))?;
    }
    Ok(())
}

/// Every file under `dir`, in its subfolders too, sorted.
fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_owned()];
    while let Some(folder) = folders.pop() {
        for entry in
            fs::read_dir(&folder).with_context(|| format!("reading {}", folder.display()))?
        {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                folders.push(entry.path());
            } else {
                files.push(entry.path());
            }
        }
    }
    files.sort();
    Ok(files)
}

pub(crate) fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}

/// `12.3, 11.9, 12.8`.
pub(crate) fn list(times: &[Duration]) -> String {
    let parts: Vec<String> = times
        .iter()
        .map(|time| format!("{:.1}", time.as_secs_f64()))
        .collect();
    parts.join(", ")
}

/// The user and system CPU time of every child process this one has waited for so far, their
/// own waited-for children included (`cutime` and `cstime` of `/proc/self/stat`); `None` where
/// there is no such file.
pub(crate) fn children_cpu() -> Option<Duration> {
    let per_second = clock_ticks();
    let stat = fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces: state is
    // field 3, cutime 16, cstime 17.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(13)?.parse::<u64>().ok()? + fields.get(14)?.parse::<u64>().ok()?;
    Some(Duration::from_micros(ticks * 1_000_000 / per_second))
}

/// Clock ticks per second, which `/proc` counts in (`getconf CLK_TCK`; 100 if that fails).
fn clock_ticks() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Cmd::new("getconf")
            .arg("CLK_TCK")
            .read()
            .ok()
            .and_then(|text| text.trim().parse::<u64>().ok())
            .filter(|ticks| *ticks > 0)
            .unwrap_or(100)
    })
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::PathBuf;

    use super::CandleCrate;

    #[test]
    fn counts_what_the_logging_nvcc_saw() {
        let work = std::env::temp_dir().join(format!("sasskit-bench-log-{}", std::process::id()));
        fs::create_dir_all(&work).unwrap();
        let kernels = PathBuf::from("/w/crate/kernels");
        let krate = CandleCrate {
            dir: work.join("crate"),
            target: work.join("target"),
            kernels: kernels.clone(),
            log: work.join("nvcc.log"),
            nvcc: work.join("nvcc-logging"),
            package: "bench".to_owned(),
        };
        let log = [
            "--version".to_owned(),
            format!(
                "-E -O3 -gencode arch=compute_90,code=sm_90 {}",
                kernels.join("moe/moe_gguf.cu").display()
            ),
            format!(
                "-c -O3 -gencode arch=compute_90,code=sm_90 -o /w/x.o {}",
                kernels.join("moe/moe_gguf.cu").display()
            ),
            format!(
                "-c -O3 -o /w/y.o {}",
                kernels.join("mmvq_gguf.cu").display()
            ),
            "--fatbin -O3 -o /w/u.fatbin kernels/unary.cu".to_owned(),
            "--dryrun -c -x cu -o /tmp/sasskit-dry-run.o /dev/null".to_owned(),
        ];
        fs::write(&krate.log, log.join("\n") + "\n").unwrap();
        assert_eq!(
            krate.compiles_since_clear(),
            ["mmvq_gguf.cu", "moe/moe_gguf.cu", "unary.cu"]
        );
        assert_eq!(krate.runs_since_clear("-c"), 2);
        assert_eq!(krate.runs_since_clear("-E"), 1);
        assert_eq!(krate.runs_logged(), 6);
        krate.clear_log();
        assert!(krate.compiles_since_clear().is_empty());
        let _ = fs::remove_dir_all(&work);
    }
}
