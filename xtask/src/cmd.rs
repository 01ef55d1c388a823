//! The process boundary of xtask: the one place that builds `std::process::Command`s and reads
//! environment variables (both are banned elsewhere by `clippy.toml`).

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};

/// Where [`Cmd::run`] sends the output of the commands it runs: the terminal (`None`) or a log
/// file.
static STEP_LOG: std::sync::Mutex<Option<PathBuf>> = std::sync::Mutex::new(None);

/// Sends the output of every command [`Cmd::run`] runs from now on to `log` (appended), or
/// back to the terminal with `None`.
pub(crate) fn log_steps_to(log: Option<PathBuf>) {
    if let Ok(mut current) = STEP_LOG.lock() {
        *current = log;
    }
}

/// Prints the last `lines` lines of `log`, indented.
pub(crate) fn print_tail(log: &Path, lines: usize) {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    eprintln!("    the log's last {} lines:", lines.min(all.len()));
    for line in &all[all.len().saturating_sub(lines)..] {
        eprintln!("    | {line}");
    }
}

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

    /// Runs the command with the terminal as its stdio, or with its output appended to the
    /// step log [`log_steps_to`] set; fails unless it exits with status 0.
    pub(crate) fn run(&self) -> Result<()> {
        let step_log = STEP_LOG.lock().ok().and_then(|log| log.clone());
        let status = match step_log {
            Some(log) => self
                .spawn(&log)?
                .wait()
                .with_context(|| format!("failed to wait for `{self}`"))?,
            None => self
                .to_command()
                .status()
                .with_context(|| format!("failed to start `{self}`"))?,
        };
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
        eprintln!("    failed after {secs:.1} s");
        print_tail(log, 40);
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
