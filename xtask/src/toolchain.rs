//! `cargo xtask setup`: find a usable CUDA compiler, or install the pinned one from the Python
//! package index, and record where it is; make sure bindgen's libclang is there
//! ([`crate::libclang`]).
//!
//! ```text
//! target/cuda-toolchain/
//!   nvcc/             pip --target of NVCC_PINS;  nvcc at nvidia/cu13/bin/nvcc
//!     SASSKIT_PINS    the pins, written last: an install without it is incomplete
//!   cuobjdump/        pip --target of CUOBJDUMP_PINS (only when nvcc has no cuobjdump beside it)
//!   env               NVCC=… and SASSKIT_CUOBJDUMP=…, read by the tests when NVCC is unset
//! ```
//!
//! Installs go to a `.name.partial-<pid>` folder that is renamed into place once complete, so an
//! interrupted run never leaves half a toolchain behind.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sasskit_core::TargetList;

use crate::cmd::{Cmd, env_var};
use crate::project_root;

/// The CUDA compiler wheels, all from one release: an unpinned `nvidia-nvvm` pulls a newer
/// `cicc` whose PTX the pinned `ptxas` rejects. CUDA 13.0 matches the GPU machines' driver.
pub(crate) const NVCC_PINS: &[&str] = &[
    "nvidia-cuda-nvcc==13.0.88",
    "nvidia-nvvm==13.0.88",
    "nvidia-cuda-crt==13.0.88",
    "nvidia-cuda-runtime==13.0.96",
    "nvidia-cuda-cccl==13.0.85",
];

/// cuobjdump is published on PyPI only from 13.2 on; any version reads any fat binary.
pub(crate) const CUOBJDUMP_PINS: &[&str] = &["nvidia-cuda-cuobjdump==13.2.78"];

const MARKER: &str = "SASSKIT_PINS";

/// The CUDA version of cudarc's bindings in every build xtask runs: 13.0, the pinned toolkit's
/// and the GPU machines' driver's. Left to itself, cudarc's `cuda-version-from-build-system`
/// runs whichever `nvcc` is on `PATH` (CI has none, and gets cudarc's newest bindings through
/// `fallback-latest`), and its build script reruns when `CUDARC_CUDA_VERSION` changes but not
/// when `PATH` does, so a target directory would keep whatever an earlier build saw. Setting the
/// variable makes the bindings the same on every machine and in every target directory, and
/// ones whose every function the GPU machines' libraries have, which a program that links them
/// (`dynamic-linking`, as in the GPU bundle) needs to start.
pub(crate) const CUDARC_CUDA_VERSION: &str = "13000";

/// The tools the other tasks run, and the environment that hands them to child processes.
#[derive(Debug, Clone)]
pub(crate) struct Toolchain {
    pub(crate) nvcc: PathBuf,
    pub(crate) cuobjdump: PathBuf,
}

impl Toolchain {
    /// `NVCC`, `SASSKIT_CUOBJDUMP` and [`CUDARC_CUDA_VERSION`], to set on child cargo
    /// processes.
    pub(crate) fn envs(&self) -> Vec<(&'static str, OsString)> {
        vec![
            ("NVCC", self.nvcc.clone().into_os_string()),
            ("SASSKIT_CUOBJDUMP", self.cuobjdump.clone().into_os_string()),
            ("CUDARC_CUDA_VERSION", CUDARC_CUDA_VERSION.into()),
        ]
    }
}

/// Finds or installs libclang (for bindgen), nvcc and cuobjdump, writes `target/cuda-toolchain/env`, and says what it
/// chose on stderr.
pub(crate) fn ensure() -> Result<Toolchain> {
    crate::libclang::ensure()?;
    let dir = toolchain_dir();
    remove_leftovers(&dir, "nvcc");
    remove_leftovers(&dir, "cuobjdump");
    let nvcc = find_nvcc(&dir)?;
    let cuobjdump = find_cuobjdump(&dir, &nvcc)?;
    let toolchain = Toolchain { nvcc, cuobjdump };
    write_env_file(&dir, &toolchain)?;
    Ok(toolchain)
}

/// `cargo xtask setup`.
pub(crate) fn setup() -> Result<()> {
    let toolchain = ensure()?;
    for (key, value) in toolchain.envs() {
        println!("{key}={}", value.to_string_lossy());
    }
    eprintln!(
        "setup: wrote {}; the tests read it when NVCC is unset, `cargo xtask ci` sets both",
        env_file(&toolchain_dir()).display()
    );
    Ok(())
}

/// Where the toolchain and its env file live: under the workspace's `target/`, whatever
/// `CARGO_TARGET_DIR` says, so that the tests can find it from their manifest directory.
pub(crate) fn toolchain_dir() -> PathBuf {
    project_root().join("target").join("cuda-toolchain")
}

fn env_file(dir: &Path) -> PathBuf {
    dir.join("env")
}

/// The first nvcc, in the order a build looks (`sasskit_build::nvcc_candidates`), that builds
/// the default targets; else the pinned install.
fn find_nvcc(dir: &Path) -> Result<PathBuf> {
    for candidate in sasskit_build::nvcc_candidates(None) {
        let (source, path) = (&candidate.origin, candidate.path);
        if !path.is_file() {
            if candidate.explicit {
                eprintln!(
                    "setup: {source} names {}, which does not exist; trying the next candidate",
                    path.display()
                );
            }
            continue;
        }
        let path = std::path::absolute(&path).unwrap_or(path);
        match probe_nvcc(&path) {
            Ok(version) => {
                eprintln!(
                    "setup: nvcc {version} at {} (from {source})",
                    path.display()
                );
                return Ok(path);
            }
            Err(why) => eprintln!(
                "setup: skipping {} (from {source}): {why:#}",
                path.display()
            ),
        }
    }

    let install = dir.join("nvcc");
    let nvcc = install
        .join("nvidia")
        .join("cu13")
        .join("bin")
        .join(exe("nvcc"));
    if !has_marker(&install, NVCC_PINS) || probe_nvcc(&nvcc).is_err() {
        eprintln!(
            "setup: no usable nvcc found; installing {}",
            NVCC_PINS.join(" ")
        );
        install_pinned(dir, "nvcc", NVCC_PINS)?;
    }
    let version = probe_nvcc(&nvcc).with_context(|| {
        format!(
            "the freshly installed nvcc at {} does not work",
            nvcc.display()
        )
    })?;
    eprintln!(
        "setup: nvcc {version} at {} (pinned install)",
        nvcc.display()
    );
    Ok(nvcc)
}

fn find_cuobjdump(dir: &Path, nvcc: &Path) -> Result<PathBuf> {
    let mut candidates: Vec<(&str, PathBuf)> = Vec::new();
    if let Some(path) = env_var("SASSKIT_CUOBJDUMP") {
        candidates.push(("SASSKIT_CUOBJDUMP", PathBuf::from(path)));
    }
    if let Some(bin) = nvcc.parent() {
        candidates.push(("beside nvcc", bin.join(exe("cuobjdump"))));
    }
    for (source, path) in candidates {
        if !path.is_file() {
            continue;
        }
        let path = std::path::absolute(&path).unwrap_or(path);
        match probe_cuobjdump(&path) {
            Ok(()) => {
                eprintln!("setup: cuobjdump at {} (from {source})", path.display());
                return Ok(path);
            }
            Err(why) => eprintln!(
                "setup: skipping {} (from {source}): {why:#}",
                path.display()
            ),
        }
    }

    let install = dir.join("cuobjdump");
    let cuobjdump = install
        .join("nvidia")
        .join("cu13")
        .join("bin")
        .join(exe("cuobjdump"));
    if !has_marker(&install, CUOBJDUMP_PINS) || probe_cuobjdump(&cuobjdump).is_err() {
        eprintln!(
            "setup: no cuobjdump beside nvcc; installing {}",
            CUOBJDUMP_PINS.join(" ")
        );
        install_pinned(dir, "cuobjdump", CUOBJDUMP_PINS)?;
    }
    probe_cuobjdump(&cuobjdump).with_context(|| {
        format!(
            "the freshly installed cuobjdump at {} does not work",
            cuobjdump.display()
        )
    })?;
    eprintln!(
        "setup: cuobjdump at {} (pinned install)",
        cuobjdump.display()
    );
    Ok(cuobjdump)
}

/// Checks that nvcc runs and can build every default target, as a build would check it;
/// returns its version.
fn probe_nvcc(nvcc: &Path) -> Result<String> {
    let toolkit = sasskit_build::Toolkit::at(nvcc)?;
    toolkit.check_targets(&TargetList::default_targets())?;
    Ok(toolkit.version().to_owned())
}

fn probe_cuobjdump(cuobjdump: &Path) -> Result<()> {
    Cmd::new(cuobjdump).arg("--version").read().map(drop)
}

pub(crate) fn has_marker(install: &Path, pins: &[&str]) -> bool {
    fs::read_to_string(install.join(MARKER)).is_ok_and(|text| text == marker_text(pins))
}

fn marker_text(pins: &[&str]) -> String {
    let mut text = pins.join("\n");
    text.push('\n');
    text
}

/// `pip install --target` into a private folder, then rename it to `dir/name`.
pub(crate) fn install_pinned(dir: &Path, name: &str, pins: &[&str]) -> Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("failed to create {}", dir.display()))?;
    let pid = std::process::id();
    let partial = dir.join(format!(".{name}.partial-{pid}"));
    let result = pip_install(&partial, pins).and_then(|()| {
        fs::write(partial.join(MARKER), marker_text(pins))
            .with_context(|| format!("failed to write {}", partial.join(MARKER).display()))?;
        let target = dir.join(name);
        if target.exists() {
            let old = dir.join(format!(".{name}.old-{pid}"));
            fs::rename(&target, &old).with_context(|| {
                format!(
                    "failed to move the previous install {} aside",
                    target.display()
                )
            })?;
            // Best effort: a leftover is removed by the next install.
            let _ = fs::remove_dir_all(&old);
        }
        fs::rename(&partial, &target).with_context(|| {
            format!(
                "failed to rename {} to {}",
                partial.display(),
                target.display()
            )
        })
    });
    if result.is_err() {
        let _ = fs::remove_dir_all(&partial);
    }
    result
}

fn pip_install(target: &Path, pins: &[&str]) -> Result<()> {
    Cmd::new("python3")
        // Older pips ignore this variable; newer ones stop warning about running as root.
        .env("PIP_ROOT_USER_ACTION", "ignore")
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
        ])
        .arg("--target")
        .arg(target)
        .args(pins)
        .run()
        .context(
            "failed to install the pinned CUDA wheels: python3 with pip and access to the Python \
             package index are needed, or set NVCC to an nvcc of CUDA 12.9 or newer",
        )
}

/// Removes what interrupted installs left (`.name.partial-<pid>`, `.name.old-<pid>`), unless
/// that process still runs (as far as `/proc` can tell).
fn remove_leftovers(dir: &Path, name: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let prefixes = [format!(".{name}.partial-"), format!(".{name}.old-")];
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let file_name = file_name.to_string_lossy();
        let Some(pid) = prefixes
            .iter()
            .find_map(|prefix| file_name.strip_prefix(prefix.as_str()))
        else {
            continue;
        };
        if pid != std::process::id().to_string() && Path::new("/proc").join(pid).exists() {
            continue;
        }
        let _ = fs::remove_dir_all(entry.path());
    }
}

fn write_env_file(dir: &Path, toolchain: &Toolchain) -> Result<()> {
    let mut text = String::from(
        "# Written by `cargo xtask setup`: KEY=VALUE, one per line, absolute paths.\n\
         # sasskit's tests read NVCC and SASSKIT_CUOBJDUMP from it when they are unset.\n",
    );
    for (key, value) in toolchain.envs() {
        let _ = writeln!(text, "{key}={}", value.to_string_lossy());
    }
    fs::create_dir_all(dir).with_context(|| format!("failed to create {}", dir.display()))?;
    let path = env_file(dir);
    if fs::read_to_string(&path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    let partial = dir.join(format!(".env.partial-{}", std::process::id()));
    fs::write(&partial, text).with_context(|| format!("failed to write {}", partial.display()))?;
    fs::rename(&partial, &path).with_context(|| format!("failed to write {}", path.display()))
}

fn exe(name: &str) -> String {
    format!("{name}{}", std::env::consts::EXE_SUFFIX)
}
