//! libclang for bindgen (the example's shared header): found where bindgen's loader looks, else
//! installed from Debian's packages.
//!
//! bindgen loads `libclang.so` at build time from `LIBCLANG_PATH`, `llvm-config --libdir` or
//! the usual system folders. On a fresh Debian or Ubuntu machine none is there, so `setup`
//! installs `libclang-dev` (the library, and clang's own headers such as `stddef.h`) with
//! apt-get, through sudo when not root.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use crate::cmd::{Cmd, env_var};

/// The Debian package that provides libclang and clang's builtin headers.
const PACKAGE: &str = "libclang-dev";

/// Finds libclang, installing it when it is missing; returns the folder that holds it.
pub(crate) fn ensure() -> Result<PathBuf> {
    if let Some(found) = find() {
        eprintln!("setup: libclang in {}", found.display());
        return Ok(found);
    }
    eprintln!("setup: no libclang found; installing {PACKAGE} (needed by bindgen)");
    install()?;
    match find() {
        Some(found) => {
            eprintln!("setup: libclang in {}", found.display());
            Ok(found)
        }
        None => bail!(
            "{PACKAGE} was installed but no libclang.so is in the folders bindgen searches; set \
             LIBCLANG_PATH to the folder that holds it"
        ),
    }
}

/// The first folder holding a loadable libclang, in the order bindgen's loader searches.
fn find() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(dir) = env_var("LIBCLANG_PATH") {
        candidates.push(PathBuf::from(dir));
    }
    if let Ok(dir) = Cmd::new("llvm-config").arg("--libdir").read() {
        candidates.push(PathBuf::from(dir.trim()));
    }
    let mut versioned: Vec<PathBuf> = std::fs::read_dir("/usr/lib")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("llvm-"))
        .map(|entry| entry.path().join("lib"))
        .collect();
    // The newest LLVM first.
    versioned.sort();
    versioned.reverse();
    candidates.extend(versioned);
    candidates.extend(
        [
            "/usr/lib/x86_64-linux-gnu",
            "/usr/lib/aarch64-linux-gnu",
            "/usr/lib64",
            "/usr/lib",
            "/usr/local/lib",
        ]
        .map(PathBuf::from),
    );
    candidates.into_iter().find(|dir| holds_libclang(dir))
}

fn holds_libclang(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .any(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            (name.starts_with("libclang.so") || name.starts_with("libclang-"))
            && name.contains(".so")
            && !name.starts_with("libclang-cpp")
            // A dangling symlink left by a half-removed package does not count.
            && entry.path().exists()
        })
}

/// `apt-get install libclang-dev`.
fn install() -> Result<()> {
    crate::apt::install(
        PACKAGE,
        "Fedora: `dnf install clang-devel`, macOS: `brew install llvm`, or set LIBCLANG_PATH to \
         the folder that holds libclang",
    )
}
