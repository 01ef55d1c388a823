//! `cargo xtask ci`: every check CI runs, in order, stopping at the first failure.
//!
//! The invariants themselves live in `cargo test` (STYLE rule 23); this task only supplies what
//! cargo cannot: the pinned CUDA compiler, candle-kernels' sources for the candle corpus test,
//! `SASSKIT_REQUIRE_TOOLCHAIN=1` so that tests needing either fail instead of skipping, the lint
//! of `tests/candle` (a crate outside the workspace), the check of the release binary's
//! embedded kernels, sccache with a Redis backend across two checkouts (`sccache`), and
//! sccache-dist with a scheduler and two build servers on loopback (`sccache-dist`).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use sasskit_core::TargetList;

use crate::candle;
use crate::candle_port;
use crate::cmd::Cmd;
use crate::toolchain;
use crate::{project_root, release_binary, verify};

/// The package whose release binary CI builds and verifies.
pub(crate) const EXAMPLE: &str = "sasskit-example";

/// `cargo xtask ci`.
pub(crate) fn run() -> Result<()> {
    let mut steps = Steps::default();
    let toolchain = steps.run("setup", toolchain::ensure)?;
    let candle_sources = steps.run("candle sources", || {
        // candle-kernels' sources: read by the corpus test, and copied into the port of
        // candle-kernels, which builds them for tests/candle and the candle port step.
        candle_port::install_kernel_sources()?;
        candle::sources()
    })?;
    let root = project_root();
    let cache = user_cache_dir()?;
    eprintln!(
        "ci: sasskit build cache {} (SASSKIT_CACHE_DIR for candle's corpus, its lint and the \
         port; empty on a fresh machine, warm on later runs)",
        cache.display()
    );
    // Every cargo child gets the toolchain: build scripts under clippy and test need nvcc as
    // much as the release build does.
    let cargo = |args: &[&str]| Cmd::cargo().args(args).dir(&root).envs(toolchain.envs());
    steps.run("fmt", || {
        cargo(&["fmt", "--all", "--check"])
            .run()
            .context("run `cargo fmt --all` to fix it")
    })?;
    steps.run("clippy", || {
        cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])
        .run()
    })?;
    steps.run("doc", || {
        cargo(&["doc", "--workspace", "--no-deps"])
            .env("RUSTDOCFLAGS", "-D warnings")
            .run()
    })?;
    steps.run("test", || {
        cargo(&["test", "--workspace"])
            .env("SASSKIT_REQUIRE_TOOLCHAIN", "1")
            .env(candle::SOURCES_ENV, &candle_sources)
            .env("SASSKIT_CACHE_DIR", &cache)
            .run()
    })?;
    // After `test`, whose candle corpus test filled the crate's build cache: its build script
    // runs again under clippy (another profile) but finds every fat binary there.
    steps.run("candle crate lint", || {
        let candle = |args: &[&str]| {
            candle::cargo_in_crate(&toolchain, &candle_sources, args)
                .env("SASSKIT_CACHE_DIR", &cache)
        };
        candle(&["fmt", "--check"])
            .run()
            .context("run `cargo fmt` in tests/candle to fix it")?;
        candle(&["clippy", "--all-targets", "--", "-D", "warnings"]).run()
    })?;
    // The port's modules and static library come from its prebuilt folder, with no nvcc: what
    // a user of the port builds.
    steps.run("candle port", || {
        candle_port::check_port(&toolchain, &cache)
    })?;
    steps.run("example's prebuilt folder is current", || {
        let mut check = cargo_sasskit::prebuild::Prebuild::new()
            .manifest_path(root.join("Cargo.toml"))
            .package(EXAMPLE)
            .check(true);
        for (key, value) in toolchain.envs() {
            check = check.env(key, value);
        }
        Ok(check.run()?)
    })?;
    steps.run("build example", || {
        cargo(&["build", "--release", "-p", EXAMPLE]).run()
    })?;
    steps.run("verify example", || {
        verify::run(&release_binary(EXAMPLE), &TargetList::default_targets())
    })?;
    steps.run("verify refuses a gap", || {
        refuses_missing_arch(&toolchain.nvcc, &root)
    })?;
    steps.run("sccache", crate::sccache::run)?;
    // After `sccache`, which installed the pinned release with `sccache-dist` beside it. The
    // local reference build may come from the per-user cache; the distributed one never does.
    steps.run("sccache-dist", || crate::sccache::dist::run(Some(&cache)))?;
    steps.summary(None);
    Ok(())
}

/// The per-user folder of sasskit's build cache for CI's candle builds: `SASSKIT_CI_CACHE_DIR`,
/// else `$XDG_CACHE_HOME/sasskit/ci`, else `~/.cache/sasskit/ci`. Outside the clone, so that a
/// second run on a machine finds candle's fat binaries and static library there instead of
/// compiling them again for 15 minutes; each entry is keyed by everything that changes its
/// output, so a stale one is never used.
fn user_cache_dir() -> Result<std::path::PathBuf> {
    use crate::cmd::env_var;
    let dir = env_var("SASSKIT_CI_CACHE_DIR")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            env_var("XDG_CACHE_HOME")
                .map(|dir| std::path::PathBuf::from(dir).join("sasskit").join("ci"))
        })
        .or_else(|| {
            env_var("HOME").map(|home| {
                std::path::PathBuf::from(home)
                    .join(".cache")
                    .join("sasskit")
                    .join("ci")
            })
        })
        .context("no folder for the build cache: set SASSKIT_CI_CACHE_DIR or HOME")?;
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// Builds a fat binary without sm_121 and checks that `verify` refuses it, naming sm_121: the
/// verifier must be able to fail, or its passes prove nothing.
fn refuses_missing_arch(nvcc: &Path, root: &Path) -> Result<()> {
    let dir = root.join("target").join("ci");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let fatbin = dir.join("saxpy-without-sm_121.fatbin");
    Cmd::new(nvcc)
        .args(["--fatbin", "-gencode", "arch=compute_90,code=sm_90"])
        .args(["-gencode", "arch=compute_100,code=sm_100", "-o"])
        .arg(&fatbin)
        .arg(root.join("kernels").join("saxpy.cu"))
        .run()?;
    match verify::run(&fatbin, &TargetList::default_targets()) {
        Ok(()) => bail!(
            "`verify` accepted {}, which has no sm_121 SASS",
            fatbin.display()
        ),
        Err(error) if format!("{error:#}").contains("sm_121") => {
            eprintln!("verify refused it as it must: {error:#}");
            Ok(())
        }
        Err(error) => Err(error.context("`verify` failed, but without naming sm_121")),
    }
}

/// Steps run so far with their durations, for the banners and the summary.
#[derive(Debug, Default)]
struct Steps {
    done: Vec<(&'static str, Duration)>,
}

/// How many of a failed step's last log lines ci prints.
const STEP_LOG_TAIL: usize = 150;

impl Steps {
    /// Runs one step under a one-line banner, with the output of the commands it runs in a log
    /// file of its own; on failure prints the log's last lines and the summary, and returns the
    /// error.
    fn run<T>(&mut self, name: &'static str, step: impl FnOnce() -> Result<T>) -> Result<T> {
        let log = crate::project_root()
            .join("target")
            .join("xtask-logs")
            .join("ci")
            .join(format!("{}.log", name.replace([' ', '\''], "-")));
        if let Some(dir) = log.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("failed to create {}", dir.display()))?;
        }
        let _ = std::fs::remove_file(&log);
        eprintln!("==> ci: {name} (log: {})", log.display());
        crate::cmd::log_steps_to(Some(log.clone()));
        let start = Instant::now();
        let result = step();
        let elapsed = start.elapsed();
        crate::cmd::log_steps_to(None);
        match result {
            Ok(value) => {
                eprintln!("    ok in {:.1} s", elapsed.as_secs_f64());
                self.done.push((name, elapsed));
                Ok(value)
            }
            Err(error) => {
                crate::cmd::print_tail(&log, STEP_LOG_TAIL);
                self.summary(Some((name, elapsed)));
                Err(error.context(anyhow!(
                    "ci step `{name}` failed; its whole output is in {}",
                    log.display()
                )))
            }
        }
    }

    fn summary(&self, failed: Option<(&'static str, Duration)>) {
        eprintln!("\n==> ci summary");
        for (name, elapsed) in &self.done {
            eprintln!("  ok      {name:<16} {:>7.1}s", elapsed.as_secs_f64());
        }
        if let Some((name, elapsed)) = failed {
            eprintln!("  FAILED  {name:<16} {:>7.1}s", elapsed.as_secs_f64());
        }
        let total: Duration = self
            .done
            .iter()
            .map(|(_, d)| *d)
            .chain(failed.map(|(_, d)| d))
            .sum();
        eprintln!("  total   {:<16} {:>7.1}s", "", total.as_secs_f64());
    }
}
