//! A throwaway Redis server on a loopback port, sccache's shared backend in `cargo xtask
//! sccache`: in memory only (`--save ''`, no append-only file), so every run starts empty, and
//! stopped when dropped, also when the task fails. Debian's `redis-server` is installed with
//! apt-get when it is missing.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::apt;
use crate::cmd::Cmd;

const PROGRAM: &str = "redis-server";

/// A running `redis-server`, stopped on drop.
#[derive(Debug)]
pub(crate) struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    /// Installs `redis-server` if need be and starts it on a free loopback port, logging to
    /// `log`; returns once it answers `PING`.
    pub(crate) fn start(log: &Path) -> Result<Redis> {
        ensure_installed()?;
        let port = free_port()?;
        let child = Cmd::new(PROGRAM)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .spawn(log)?;
        // From here on, dropping `redis` stops the server.
        let mut redis = Redis { child, port };
        redis.wait_until_ready(log)?;
        eprintln!(
            "sccache: redis-server on 127.0.0.1:{port} (log: {})",
            log.display()
        );
        Ok(redis)
    }

    /// The address sccache's `SCCACHE_REDIS_ENDPOINT` takes.
    pub(crate) fn endpoint(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn wait_until_ready(&mut self, log: &Path) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait()? {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                bail!(
                    "redis-server exited with {status} before it answered; its log ({}):\n{}",
                    log.display(),
                    text.trim()
                );
            }
            if self
                .request("PING\r\n")
                .is_ok_and(|reply| reply.starts_with("+PONG"))
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "redis-server did not answer PING on 127.0.0.1:{} within 20 s; see {}",
                    self.port,
                    log.display()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends one inline command and returns the first reply read.
    fn request(&self, command: &str) -> Result<String> {
        let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(2)))?;
        stream.write_all(command.as_bytes())?;
        let mut reply = [0u8; 64];
        let read = stream.read(&mut reply)?;
        Ok(String::from_utf8_lossy(&reply[..read]).into_owned())
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        // A clean shutdown first (nothing to save), then the hard way.
        let _ = self.request("SHUTDOWN NOSAVE\r\n");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `redis-server` on `PATH`, else Debian's package installed.
fn ensure_installed() -> Result<()> {
    if Cmd::new(PROGRAM).arg("--version").read().is_ok() {
        return Ok(());
    }
    eprintln!("sccache: no {PROGRAM} found; installing Debian's redis-server");
    apt::install(
        "redis-server",
        "install Redis 6 or later so that `redis-server` is on PATH",
    )?;
    Cmd::new(PROGRAM)
        .arg("--version")
        .read()
        .map(drop)
        .context("redis-server was installed but does not run")
}

/// A loopback port no one listens on now.
pub(crate) fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .context("failed to find a free loopback port")?;
    Ok(listener.local_addr()?.port())
}
