//! `cargo xtask sccache-dist`: sasskit's nvcc runs compiled on other machines through
//! sccache-dist, with a scheduler and two build servers started here on loopback, as a fleet
//! would run them on separate hosts.
//!
//! ```text
//! target/sccache-dist/
//!   scheduler.conf, scheduler.log      the scheduler (tokens generated for this run)
//!   server-<n>.conf, server-<n>.log    each build server: its own port, toolchain cache and
//!   server-<n>/                        bubblewrap build folder
//!   client.conf, client.log            the sccache client: the scheduler, its token, an empty
//!   client/                            local cache, so that every step is a miss
//!   crate/, target/                    candle's 11 PTX-set files in a crate built with sasskit
//! ```
//!
//! One crate, built twice for sm_90, sm_100 and sm_121: first with a pass-through launcher
//! (`env`: the same nvcc command lines, run here), then with `SASSKIT_NVCC_LAUNCHER=sccache`.
//! It fails unless every cicc and ptxas step of the second build ran on a build server
//! (distributed compiles = PTX + CUBIN misses = files × targets each, no failed distributed
//! compile), both servers received work, and every fat binary is byte-identical to the first
//! build's and verified. Everything it starts stops when it ends, also on error.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use sasskit_core::TargetList;

use super::redis::free_port;
use super::stats::Steps;
use super::{Server, install};
use crate::bench_common::CandleCrate;
use crate::bench_common::corpus::{ARCHS, FLAGS, PTX_FILES};
use crate::cmd::Cmd;
use crate::toolchain::Toolchain;
use crate::{candle, project_root, toolchain};

/// Build servers started on this machine.
const SERVERS: usize = 2;

/// How long the servers get to register with the scheduler.
const REGISTER_TIMEOUT: Duration = Duration::from_secs(60);

const PACKAGE: &str = "sasskit-sccache-dist";

/// `cargo xtask sccache-dist`; `reference_cache`, when given, is the sasskit build cache the
/// local reference build may take its fat binaries from (CI's per-user cache).
pub(crate) fn run(reference_cache: Option<&Path>) -> Result<()> {
    let toolchain = toolchain::ensure()?;
    let root = project_root();
    let work = root.join("target").join("sccache-dist");
    std::fs::create_dir_all(&work)?;
    let sccache = install(&root.join("target").join("sccache"))?;
    let dist = sccache.with_file_name("sccache-dist");
    let sources = candle::sources()?;
    let build_rs = build_script();
    let krate = CandleCrate::create(
        &work,
        PACKAGE,
        &sources,
        &toolchain.nvcc,
        &build_rs,
        "src/main.rs",
    )?;

    // The reference: the same command lines, run here.
    let nvcc = toolchain.nvcc.display().to_string();
    let mut local = vec![("NVCC", nvcc.as_str()), ("SASSKIT_NVCC_LAUNCHER", "env")];
    let cache = reference_cache.map(|dir| dir.display().to_string());
    if let Some(cache) = &cache {
        local.push((sasskit_build::CACHE_DIR_ENV, cache.as_str()));
    }
    krate.remove_outputs()?;
    let local_time = krate.build(&toolchain.envs(), &local)?;
    let reference = fatbins(&work)?;

    // Every part it starts stops when dropped, in reverse order, also when a step fails.
    let cluster = Cluster::start(&dist, &work)?;
    let client = cluster.client(&sccache, &work)?;
    Cluster::wait_for_servers(&client)?;
    krate.remove_outputs()?;
    let started = Instant::now();
    distributed_build(&krate, &toolchain, &client)?;
    let elapsed = started.elapsed();
    let stats = client.command(&["--show-stats"]).read()?;
    let built = fatbins(&work)?;

    let report = Report::parse(&stats);
    println!(
        "\nsccache-dist {}: candle's {} PTX-set files for {} through a scheduler and {SERVERS} \
         build servers on loopback, {:.1} s (the local build: {:.1} s{})\n  {}\n  \
         distributed compiles: {}; failed: {}",
        super::PIN.trim_start_matches("sccache=="),
        PTX_FILES.len(),
        ARCHS.join(", "),
        elapsed.as_secs_f64(),
        local_time.as_secs_f64(),
        if reference_cache.is_some() {
            ", sasskit's cache allowed"
        } else {
            ""
        },
        report.steps,
        report.servers_line(),
        report.failed
    );
    report.check(PTX_FILES.len() * ARCHS.len())?;
    same_and_verified(&reference, &built)?;
    println!(
        "ok: every cicc and ptxas step ran on a build server, both servers took work, and the \
         {} fat binaries are byte-identical to the local build's",
        built.len()
    );
    Ok(())
}

/// The crate's build script: candle's PTX set with candle's flags.
fn build_script() -> String {
    let files: Vec<String> = PTX_FILES
        .iter()
        .map(|stem| format!("\"kernels/{stem}.cu\""))
        .collect();
    let flags: Vec<String> = FLAGS.iter().map(|flag| format!("{flag:?}")).collect();
    format!(
        "fn main() {{\n    sasskit_build::Build::new()\n        .files([{}])\n        \
         .flags([{}])\n        .debug(false)\n        .compile();\n}}\n",
        files.join(", "),
        flags.join(", ")
    )
}

/// The build through sccache, with the client's settings.
fn distributed_build(krate: &CandleCrate, toolchain: &Toolchain, client: &Server) -> Result<()> {
    let envs: Vec<(&str, String)> = client
        .client_envs()
        .into_iter()
        .map(|(key, value)| (key, value.to_string_lossy().into_owned()))
        .collect();
    let nvcc = toolchain.nvcc.display().to_string();
    let mut extra: Vec<(&str, &str)> = envs
        .iter()
        .map(|(key, value)| (*key, value.as_str()))
        .collect();
    extra.push(("NVCC", &nvcc));
    krate.build(&toolchain.envs(), &extra).map(drop)
}

/// The fat binaries of the last build, `(module, bytes)`, in file order.
fn fatbins(work: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let build = work.join("target").join("debug").join("build");
    let out = std::fs::read_dir(&build)
        .with_context(|| format!("failed to read {}", build.display()))?
        .flatten()
        .map(|entry| sasskit_core::out_dir::folder(&entry.path().join("out")))
        .find(|dir| dir.join(format!("{}.fatbin", PTX_FILES[0])).is_file())
        .with_context(|| {
            format!(
                "no build script under {} wrote fat binaries",
                build.display()
            )
        })?;
    PTX_FILES
        .iter()
        .map(|module| {
            let path = out.join(format!("{module}.fatbin"));
            let bytes = std::fs::read(&path)
                .with_context(|| format!("failed to read {}", path.display()))?;
            Ok(((*module).to_owned(), bytes))
        })
        .collect()
}

/// Every fat binary of `built` is `reference`'s, byte for byte, and serves every target.
fn same_and_verified(reference: &[(String, Vec<u8>)], built: &[(String, Vec<u8>)]) -> Result<()> {
    let targets = TargetList::default_targets();
    let mut problems = String::new();
    for ((module, local), (_, remote)) in reference.iter().zip(built) {
        if local != remote {
            let _ = writeln!(
                problems,
                "  {module}: {} bytes through sccache-dist, {} built here",
                remote.len(),
                local.len()
            );
        }
        for problem in cargo_sasskit::verify::check(remote, &targets).problems {
            let _ = writeln!(problems, "  {module}: {problem}");
        }
    }
    if !problems.is_empty() {
        bail!("the distributed build's fat binaries are not the local build's:\n{problems}");
    }
    Ok(())
}

/// What `sccache --show-stats` says about distribution.
#[derive(Debug)]
struct Report {
    steps: Steps,
    /// Successful distributed compiles per build server.
    servers: Vec<(String, u64)>,
    failed: u64,
}

impl Report {
    fn parse(text: &str) -> Report {
        let mut servers = Vec::new();
        let mut lines = text
            .lines()
            .skip_while(|line| !line.starts_with("Successful distributed compiles"));
        lines.next();
        for line in lines.take_while(|line| line.starts_with(' ')) {
            let mut words = line.split_whitespace();
            if let (Some(server), Some(count)) = (words.next(), words.next_back())
                && let Ok(count) = count.parse()
            {
                servers.push((server.to_owned(), count));
            }
        }
        let failed = text
            .lines()
            .find_map(|line| line.strip_prefix("Failed distributed compilations"))
            .and_then(|rest| rest.split_whitespace().last()?.parse().ok())
            .unwrap_or(0);
        Report {
            steps: Steps::parse(text),
            servers,
            failed,
        }
    }

    /// `127.0.0.1:10501 33, 127.0.0.1:10502 33`.
    fn servers_line(&self) -> String {
        if self.servers.is_empty() {
            return "none".to_owned();
        }
        self.servers
            .iter()
            .map(|(server, count)| format!("{server} {count}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Every one of the `steps` cicc and the `steps` ptxas runs missed the empty local cache and
    /// ran on a build server, both servers ran some, and none failed over to a local compile.
    fn check(&self, steps: usize) -> Result<()> {
        let steps = steps as u64;
        if self.steps.ptx.misses != steps || self.steps.cubin.misses != steps {
            bail!(
                "expected {steps} PTX and {steps} CUBIN misses with an empty local cache: {}",
                self.steps
            );
        }
        let distributed: u64 = self.servers.iter().map(|(_, count)| count).sum();
        if self.failed != 0 || distributed != 2 * steps {
            bail!(
                "expected all {} cicc and ptxas steps to run on the build servers: {distributed} \
                 did ({}), {} failed over to local compiles (see target/sccache-dist/*.log)",
                2 * steps,
                self.servers_line(),
                self.failed
            );
        }
        let busy = self.servers.iter().filter(|(_, count)| *count > 0).count();
        if busy < SERVERS {
            bail!(
                "expected both build servers to receive work: {}",
                self.servers_line()
            );
        }
        Ok(())
    }
}

/// The scheduler and the build servers, each its own process; killed when dropped.
struct Cluster {
    children: Vec<Child>,
    scheduler_url: String,
    token: String,
}

impl Cluster {
    fn start(dist: &Path, work: &Path) -> Result<Cluster> {
        if Cmd::new("id").arg("-u").read()?.trim() != "0" {
            bail!(
                "sccache-dist's build servers sandbox every compile with bubblewrap in an overlay \
                 file system, which needs root: run `cargo xtask sccache-dist` as root (a \
                 container's root works)"
            );
        }
        if which::which("bwrap").is_err() {
            crate::apt::install(
                "bubblewrap",
                "install bubblewrap (bwrap) for sccache-dist's build servers",
            )?;
        }
        let bwrap =
            which::which("bwrap").context("bubblewrap was installed but bwrap is not on PATH")?;
        let auth = |args: &[&str]| -> Result<String> {
            Ok(Cmd::new(dist)
                .arg("auth")
                .args(args)
                .read()?
                .trim()
                .to_owned())
        };
        let key = auth(&["generate-jwt-hs256-key"])?;
        let token = auth(&["generate-shared-token"])?;
        let scheduler_addr = format!("127.0.0.1:{}", free_port()?);
        let scheduler_conf = work.join("scheduler.conf");
        write(
            &scheduler_conf,
            &format!(
                "public_addr = \"{scheduler_addr}\"\n\n[client_auth]\ntype = \"token\"\n\
                 token = \"{token}\"\n\n[server_auth]\ntype = \"jwt_hs256\"\n\
                 secret_key = \"{key}\"\n"
            ),
        )?;
        let mut cluster = Cluster {
            children: Vec::new(),
            scheduler_url: format!("http://{scheduler_addr}"),
            token,
        };
        cluster.spawn(
            dist,
            &["scheduler", "--config"],
            &scheduler_conf,
            &work.join("scheduler.log"),
        )?;
        // A client that finds no scheduler at its first try reports `NotConnected` until a
        // compile makes it retry (sccache 0.16), so nothing connects before it listens.
        wait_for_listener(&scheduler_addr, &work.join("scheduler.log"))?;
        for n in 1..=SERVERS {
            let addr = format!("127.0.0.1:{}", free_port()?);
            let server_token = Cmd::new(dist)
                .args(["auth", "generate-jwt-hs256-server-token", "--config"])
                .arg(&scheduler_conf)
                .args(["--server", &addr])
                .read()?
                .trim()
                .to_owned();
            let dir = work.join(format!("server-{n}"));
            let _ = std::fs::remove_dir_all(&dir);
            for sub in ["toolchains", "build"] {
                std::fs::create_dir_all(dir.join(sub))?;
            }
            let conf = work.join(format!("server-{n}.conf"));
            write(
                &conf,
                &format!(
                    "cache_dir = {:?}\npublic_addr = \"{addr}\"\nscheduler_url = \"{}\"\n\n\
                     [builder]\ntype = \"overlay\"\nbuild_dir = {:?}\nbwrap_path = {:?}\n\n\
                     [scheduler_auth]\ntype = \"jwt_token\"\ntoken = \"{server_token}\"\n",
                    dir.join("toolchains").display().to_string(),
                    cluster.scheduler_url,
                    dir.join("build").display().to_string(),
                    bwrap.display().to_string(),
                ),
            )?;
            cluster.spawn(
                dist,
                &["server", "--config"],
                &conf,
                &work.join(format!("server-{n}.log")),
            )?;
        }
        Ok(cluster)
    }

    fn spawn(&mut self, dist: &Path, args: &[&str], conf: &Path, log: &Path) -> Result<()> {
        let _ = std::fs::remove_file(log);
        let child = Cmd::new(dist)
            .args(args)
            .arg(conf)
            .env("SCCACHE_LOG", "info")
            // In the foreground: the child is the process, and dropping the cluster stops it.
            .env("SCCACHE_NO_DAEMON", "1")
            .spawn(log)?;
        self.children.push(child);
        Ok(())
    }

    /// An sccache client server of its own, sending its compiles to the scheduler, with an
    /// empty local cache.
    fn client(&self, sccache: &Path, work: &Path) -> Result<Server> {
        let client = work.join("client");
        let _ = std::fs::remove_dir_all(&client);
        std::fs::create_dir_all(client.join("toolchains"))?;
        let conf = work.join("client.conf");
        write(
            &conf,
            &format!(
                "[dist]\nscheduler_url = \"{}\"\ntoolchains = []\ncache_dir = {:?}\n\n\
                 [dist.auth]\ntype = \"token\"\ntoken = \"{}\"\n\n[cache.disk]\ndir = {:?}\n",
                self.scheduler_url,
                client.join("toolchains").display().to_string(),
                self.token,
                client.join("cache").display().to_string(),
            ),
        )?;
        Server::start_with(
            sccache,
            vec![
                ("SCCACHE_CONF", OsString::from(&conf)),
                // A step the servers cannot run fails the build instead of compiling here.
                ("SCCACHE_DIST_FALLBACK_TO_LOCAL_COMPILE", "false".into()),
            ],
            format!("sccache-dist scheduler {}", self.scheduler_url),
            &work.join("client.log"),
        )
    }

    /// Waits until every build server has registered with the scheduler `client` talks to.
    fn wait_for_servers(client: &Server) -> Result<()> {
        let wanted = format!("\"num_servers\":{SERVERS}");
        let started = Instant::now();
        loop {
            let status = client
                .command(&["--dist-status"])
                .read()
                .unwrap_or_default();
            if status.contains(&wanted) {
                return Ok(());
            }
            if started.elapsed() > REGISTER_TIMEOUT {
                bail!(
                    "the {SERVERS} build servers did not register with the scheduler within {} s \
                     (`sccache --dist-status`: {}); see target/sccache-dist/server-*.log",
                    REGISTER_TIMEOUT.as_secs(),
                    status.trim()
                );
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for child in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Waits until something accepts connections on `addr`, a process started just before whose
/// log is `log`.
fn wait_for_listener(addr: &str, log: &Path) -> Result<()> {
    let started = Instant::now();
    while std::net::TcpStream::connect(addr).is_err() {
        if started.elapsed() > REGISTER_TIMEOUT {
            bail!(
                "nothing listens on {addr} {} s after it was started; see {}",
                REGISTER_TIMEOUT.as_secs(),
                log.display()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("failed to write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distribution_is_read_from_the_stats() {
        let text = "Cache misses (PTX)                  33\nCache misses (CUBIN)                33\n\
                    Failed distributed compilations       0\nSuccessful distributed compiles\n  \
                    127.0.0.1:10501                    30\n  127.0.0.1:10502                    36\n\
                    Cache location                  Local disk\n";
        let report = Report::parse(text);
        assert_eq!(
            report.servers,
            [
                ("127.0.0.1:10501".to_owned(), 30),
                ("127.0.0.1:10502".to_owned(), 36)
            ]
        );
        report.check(33).unwrap();
        let one_server = Report::parse(&text.replace(
            "127.0.0.1:10502                    36",
            "127.0.0.1:10502                     0",
        ));
        assert!(one_server.check(33).is_err());
    }
}
