//! The process boundary of xtask: the one place that builds `std::process::Command`s and reads
//! environment variables (both are banned elsewhere by `clippy.toml`).

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};

/// A command to run, kept as data so that errors and banners can print it in full.
#[derive(Debug, Clone)]
pub(crate) struct Cmd {
    program: OsString,
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
    removed: Vec<OsString>,
    dir: Option<PathBuf>,
}

impl Cmd {
    pub(crate) fn new(program: impl AsRef<OsStr>) -> Cmd {
        Cmd {
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            envs: Vec::new(),
            removed: Vec::new(),
            dir: None,
        }
    }

    /// `cargo`, the one that runs this xtask when there is one, so that every step uses the
    /// toolchain pinned by `rust-toolchain.toml`.
    pub(crate) fn cargo() -> Cmd {
        Cmd::new(env_var("CARGO").unwrap_or_else(|| "cargo".into()))
    }

    pub(crate) fn arg(mut self, arg: impl AsRef<OsStr>) -> Cmd {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    pub(crate) fn args<I, S>(mut self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|arg| arg.as_ref().to_owned()));
        self
    }

    pub(crate) fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Cmd {
        self.envs
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    pub(crate) fn envs<K, V>(mut self, envs: impl IntoIterator<Item = (K, V)>) -> Cmd
    where
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        for (key, value) in envs {
            self = self.env(key, value);
        }
        self
    }

    /// Runs the command without `key` in its environment, also dropping what an earlier
    /// [`Cmd::env`] set it to; a later one sets it again.
    pub(crate) fn env_remove(mut self, key: impl AsRef<OsStr>) -> Cmd {
        let key = key.as_ref();
        self.envs.retain(|(set, _)| set != key);
        self.removed.push(key.to_owned());
        self
    }

    pub(crate) fn dir(mut self, dir: &Path) -> Cmd {
        self.dir = Some(dir.to_owned());
        self
    }

    /// Runs the command with the terminal as its stdio; fails unless it exits with status 0.
    pub(crate) fn run(&self) -> Result<()> {
        let status = self
            .to_command()
            .status()
            .with_context(|| format!("failed to start `{self}`"))?;
        if !status.success() {
            bail!("`{self}` failed with {status}");
        }
        Ok(())
    }

    /// Runs the command with its output written to `log` (replaced), printing one line when it
    /// starts (with the log's path) and one when it ends (with the time it took); on failure
    /// also the log's last lines.
    pub(crate) fn run_logged(&self, what: &str, log: &Path) -> Result<()> {
        if let Some(dir) = log.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("failed to create {}", dir.display()))?;
        }
        let _ = std::fs::remove_file(log);
        eprintln!("==> {what} (log: {})", log.display());
        let start = std::time::Instant::now();
        let status = self
            .spawn(log)?
            .wait()
            .with_context(|| format!("failed to wait for `{self}`"))?;
        let secs = start.elapsed().as_secs_f64();
        if status.success() {
            eprintln!("    done in {secs:.1} s");
            return Ok(());
        }
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = &lines[lines.len().saturating_sub(40)..];
        eprintln!("    failed after {secs:.1} s; the log's last lines:");
        for line in tail {
            eprintln!("    | {line}");
        }
        bail!(
            "`{self}` failed with {status}; its whole output is in {}",
            log.display()
        )
    }

    /// Runs the command and returns its stdout; fails, quoting stderr, unless it exits with 0.
    pub(crate) fn read(&self) -> Result<String> {
        let output = self
            .to_command()
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("failed to start `{self}`"))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            bail!("`{self}` failed with {}: {}", output.status, stderr.trim());
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Starts the command in the background with its output appended to `log`; the caller
    /// owns the child and must stop it.
    pub(crate) fn spawn(&self, log: &Path) -> Result<Child> {
        let open = || {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .with_context(|| format!("failed to open {}", log.display()))
        };
        self.to_command()
            .stdin(Stdio::null())
            .stdout(open()?)
            .stderr(open()?)
            .spawn()
            .with_context(|| format!("failed to start `{self}`"))
    }

    #[allow(
        clippy::disallowed_methods,
        reason = "this is xtask's one command constructor"
    )]
    fn to_command(&self) -> Command {
        let mut command = Command::new(&self.program);
        for key in &self.removed {
            command.env_remove(key);
        }
        command.args(&self.args);
        command.envs(self.envs.iter().map(|(key, value)| (key, value)));
        if let Some(dir) = &self.dir {
            command.current_dir(dir);
        }
        command
    }
}

impl fmt::Display for Cmd {
    /// Formats as a shell line, environment first: `NVCC=/x cargo test --workspace`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (key, value) in &self.envs {
            write!(f, "{}={} ", key.to_string_lossy(), quote(value))?;
        }
        write!(f, "{}", quote(&self.program))?;
        for arg in &self.args {
            write!(f, " {}", quote(arg))?;
        }
        Ok(())
    }
}

/// Reads an environment variable; an empty value counts as unset.
#[allow(
    clippy::disallowed_methods,
    reason = "this is xtask's one environment accessor"
)]
pub(crate) fn env_var(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|value| !value.is_empty())
}

/// Quotes a word for display when a shell would split it.
fn quote(word: &OsStr) -> String {
    let word = word.to_string_lossy();
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=,:+@%".contains(c));
    if plain {
        word.into_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Sets the executable bits of a script or program written here (a no-op where files have none).
#[cfg(unix)]
pub(crate) fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("making {} executable", path.display()))
}

/// Sets the executable bits of a script or program written here (a no-op where files have none).
#[cfg(not(unix))]
pub(crate) fn make_executable(_: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Cmd;

    #[test]
    fn display_is_a_shell_line() {
        let cmd = Cmd::new("nvcc")
            .env("A", "x y")
            .args(["--fatbin", "it's.cu"]);
        assert_eq!(cmd.to_string(), r"A='x y' nvcc --fatbin 'it'\''s.cu'");
    }
}
