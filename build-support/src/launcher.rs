//! A compiler launcher for nvcc, such as sccache, which caches and distributes compilations.
//!
//! `SASSKIT_NVCC_LAUNCHER=sccache` (or a path, or [`Build::nvcc_launcher`](crate::Build::nvcc_launcher))
//! runs each fat binary compilation as `sccache nvcc --fatbin …`. Without it, a `RUSTC_WRAPPER`
//! whose file name is `sccache` is taken as the launcher too: sccache understands nvcc (it
//! splits a `--fatbin` build into its cicc and ptxas steps and caches each under a key that
//! includes the full command line, so every architecture is cached apart), which makes reusing
//! the wrapper safe. Other `RUSTC_WRAPPER`s are never used for nvcc: they wrap rustc only.
//! `SASSKIT_NVCC_LAUNCHER=none` turns the launcher off.
//!
//! The launcher runs only the compilation. Preprocessing, signature extraction, verification of
//! every fat binary and the rerun lines are sasskit's own and stay as they are, and the launcher
//! is not part of the build key: it does not change what nvcc produces.

use std::path::{Path, PathBuf};

use crate::command::Tool;
use crate::env;

/// The variable that names the launcher.
pub const LAUNCHER_ENV: &str = "SASSKIT_NVCC_LAUNCHER";

/// The configured launcher: the builder's, else `SASSKIT_NVCC_LAUNCHER`, else an sccache
/// `RUSTC_WRAPPER`; `none` in the variable means no launcher.
pub(crate) fn configured(builder: Option<&Path>) -> Option<Tool> {
    if let Some(path) = builder {
        return Some(Tool::new(path));
    }
    if let Some(value) = env::tracked(LAUNCHER_ENV) {
        return (value != "none").then(|| Tool::new(resolve(PathBuf::from(value))));
    }
    let wrapper = PathBuf::from(env::tracked("RUSTC_WRAPPER")?);
    is_sccache(&wrapper).then(|| Tool::new(resolve(wrapper)))
}

/// A bare program name is looked up on `PATH`, so messages can name the file that runs.
fn resolve(program: PathBuf) -> PathBuf {
    if program.components().count() == 1 {
        which::which(&program).unwrap_or(program)
    } else {
        program
    }
}

fn is_sccache(path: &Path) -> bool {
    path.file_stem().is_some_and(|stem| stem == "sccache")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sccache_wrappers_are_reused() {
        assert!(is_sccache(Path::new("/usr/bin/sccache")));
        assert!(is_sccache(Path::new("sccache.exe")));
        assert!(!is_sccache(Path::new("/usr/bin/clippy-driver")));
        assert!(!is_sccache(Path::new("cachepot")));
    }
}
