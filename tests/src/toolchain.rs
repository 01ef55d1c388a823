//! The CUDA tools of tier 1 tests: where they are, and what a test does without them.
//!
//! A tool is taken from its environment variable (`NVCC`, `SASSKIT_CUOBJDUMP`), else from
//! `target/cuda-toolchain/env`, which `cargo xtask setup` writes. Without the tool a test prints
//! `skipped: …` and returns, unless `SASSKIT_REQUIRE_TOOLCHAIN=1` (set by `cargo xtask ci`): then
//! it fails, so that CI cannot pass by skipping.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use crate::process::env_var;

/// The variable that turns a missing tool from a skip into a failure.
pub const REQUIRE_ENV: &str = "SASSKIT_REQUIRE_TOOLCHAIN";

/// A tool that tier 1 tests run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// The CUDA compiler driver.
    Nvcc,
    /// NVIDIA's fat binary dumper, the reference the parser is checked against.
    Cuobjdump,
}

impl Tool {
    /// The environment variable that names the tool's path.
    pub fn env_var(self) -> &'static str {
        match self {
            Tool::Nvcc => "NVCC",
            Tool::Cuobjdump => "SASSKIT_CUOBJDUMP",
        }
    }

    /// Where the tool is: its environment variable, else the file `cargo xtask setup` writes.
    ///
    /// # Panics
    ///
    /// When the variable or the file names a path that does not exist: a broken setting fails
    /// loudly rather than skipping.
    pub fn find(self) -> Option<PathBuf> {
        let var = self.env_var();
        let (path, source) = match env_var(var) {
            Some(value) => (
                resolve(Path::new(&value)),
                format!("the environment variable {var}"),
            ),
            None => (setup_value(var)?, format!("{}", setup_env_file().display())),
        };
        assert!(
            path.is_file(),
            "{var}={} (from {source}) does not exist; fix it or run `cargo xtask setup`",
            path.display()
        );
        Some(path)
    }
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Tool::Nvcc => "nvcc",
            Tool::Cuobjdump => "cuobjdump",
        })
    }
}

/// The nvcc to test with, if any.
pub fn nvcc() -> Option<PathBuf> {
    Tool::Nvcc.find()
}

/// The cuobjdump to cross-check with, if any.
pub fn cuobjdump() -> Option<PathBuf> {
    Tool::Cuobjdump.find()
}

/// Whether `SASSKIT_REQUIRE_TOOLCHAIN` asks for missing tools to fail tests.
pub fn toolchain_required() -> bool {
    env_var(REQUIRE_ENV).is_some_and(|value| value != "0")
}

/// The path of `tool` for the test named `test`; `None` when the test must skip.
///
/// ```no_run
/// # use sasskit_tests::toolchain::{require_or_skip, Tool};
/// let Some(nvcc) = require_or_skip("fatbin_golden::sass_only", Tool::Nvcc) else { return };
/// ```
///
/// # Panics
///
/// When the tool is missing and `SASSKIT_REQUIRE_TOOLCHAIN=1`.
pub fn require_or_skip(test: &str, tool: Tool) -> Option<PathBuf> {
    if let Some(path) = tool.find() {
        return Some(path);
    }
    let message = format!(
        "{test} needs {tool} (set {} or run `cargo xtask setup`)",
        tool.env_var()
    );
    assert!(
        !toolchain_required(),
        "{message}; {REQUIRE_ENV}=1 forbids skipping"
    );
    eprintln!("skipped: {message}");
    None
}

/// `target/cuda-toolchain/env` of this workspace.
pub fn setup_env_file() -> PathBuf {
    workspace_root()
        .join("target")
        .join("cuda-toolchain")
        .join("env")
}

/// The host's target triple, as `rustc -vV` reports it: what a build script's `TARGET` is for
/// a build without `--target`.
///
/// # Panics
///
/// When rustc cannot be run or reports no host.
pub fn host_triple() -> String {
    let rustc = env_var("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = crate::process::output(crate::process::command(rustc).arg("-vV"));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .expect("rustc -vV reports the host")
        .trim()
        .to_owned()
}

/// The workspace root, the parent of this crate's manifest directory.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_owned()
}

/// The value of `key` in the setup env file (`KEY=VALUE` lines, `#` comments).
fn setup_value(key: &str) -> Option<PathBuf> {
    let text = fs::read_to_string(setup_env_file()).ok()?;
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .find(|(name, _)| name.trim() == key)
        .map(|(_, value)| PathBuf::from(value.trim()))
}

/// A bare program name is looked up on `PATH`, as a shell would.
fn resolve(path: &Path) -> PathBuf {
    let search = env_var("PATH").filter(|_| path.components().count() == 1);
    search
        .and_then(|search| {
            std::env::split_paths(&search)
                .map(|dir| dir.join(path))
                .find(|found| found.is_file())
        })
        .unwrap_or_else(|| path.to_owned())
}
