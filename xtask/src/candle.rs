//! candle's kernels through sasskit: `cargo xtask candle-sources` fetches candle-kernels' CUDA
//! sources from crates.io, and [`cargo_in_crate`] runs cargo in `tests/candle`, the standalone
//! crate that builds them (for the corpus test, `ci` and `gpu-bundle`).
//!
//! ```text
//! target/candle/
//!   fetch/           a throwaway crate that depends on candle-kernels =0.11.1; `cargo fetch` of
//!                    it unpacks the crate into cargo's registry; it is never built (candle's
//!                    build.rs would run cudaforge)
//!   release/, debug/ the build of tests/candle (tests/candle/.cargo/config.toml points here)
//!   sasskit-cache/   its SASSKIT_CACHE_DIR (same file), so that every profile shares the fat
//!                    binaries
//! ```

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::cmd::Cmd;
use crate::project_root;
use crate::toolchain::Toolchain;

/// The candle-kernels release whose sources are the corpus; pinned, so that the wrapper counts
/// the corpus test checks cannot change under it.
pub(crate) const CANDLE_KERNELS_VERSION: &str = "0.11.1";

/// The variable through which `tests/candle/build.rs` and the corpus test find the sources.
pub(crate) const SOURCES_ENV: &str = "SASSKIT_CANDLE_KERNELS";

/// A file that every candle-kernels source folder has: proof that the folder is the right one.
const PROBE_FILE: &str = "affine.cu";

/// `cargo xtask candle-sources`: prints the source folder on stdout, for
/// `export SASSKIT_CANDLE_KERNELS=$(cargo xtask candle-sources)`.
pub(crate) fn print_sources() -> Result<()> {
    let sources = sources()?;
    println!("{}", sources.display());
    Ok(())
}

/// Fetches candle-kernels' crate from crates.io (a no-op when cargo already has it) and returns
/// its `src` folder, which holds the `.cu` and `.cuh` files.
pub(crate) fn sources() -> Result<PathBuf> {
    let package_dir = fetched_package("candle-kernels")?;
    let sources = package_dir.join("src");
    if !sources.join(PROBE_FILE).is_file() {
        bail!(
            "{} has no {PROBE_FILE}: not candle-kernels' source folder",
            sources.display()
        );
    }
    eprintln!(
        "candle-sources: candle-kernels {CANDLE_KERNELS_VERSION} at {}",
        sources.display()
    );
    Ok(sources)
}

/// The folder of candle-core 0.11.1 in cargo's registry (fetched like candle-kernels), whose
/// tests and sources `cargo xtask candle-port` builds.
pub(crate) fn candle_core_source() -> Result<PathBuf> {
    fetched_package("candle-core")
}

/// Fetches candle-kernels and candle-core at the pinned release from crates.io (a no-op when
/// cargo already has them) and returns the registry folder of `name`.
fn fetched_package(name: &str) -> Result<PathBuf> {
    let dir = project_root().join("target").join("candle").join("fetch");
    let manifest = dir.join("Cargo.toml");
    // The empty `[workspace]` keeps cargo from taking it for a member of sasskit's workspace,
    // whose folder it is in.
    let cargo_toml = format!(
        "[package]\nname = \"candle-sources\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\
         publish = false\n\n[lib]\npath = \"lib.rs\"\n\n[dependencies]\n\
         candle-kernels = \"={CANDLE_KERNELS_VERSION}\"\n\
         candle-core = \"={CANDLE_KERNELS_VERSION}\"\n\n[workspace]\n"
    );
    write_if_changed(&manifest, &cargo_toml)?;
    write_if_changed(&dir.join("lib.rs"), "")?;
    Cmd::cargo()
        .args(["fetch", "--quiet", "--manifest-path"])
        .arg(&manifest)
        .run()
        .context("fetching candle-kernels and candle-core from crates.io")?;
    let metadata = Cmd::cargo()
        .args([
            "metadata",
            "--format-version",
            "1",
            "--offline",
            "--manifest-path",
        ])
        .arg(&manifest)
        .read()?;
    package_dir(&metadata, name, CANDLE_KERNELS_VERSION).with_context(|| {
        format!(
            "`cargo metadata` of {} does not list {name} {CANDLE_KERNELS_VERSION}",
            manifest.display()
        )
    })
}

/// The sasskit build cache of candle's builds: `SASSKIT_CACHE_DIR` when set (`cargo xtask ci`
/// sets a per-user folder, so that later runs on a machine hit), else the one
/// `tests/candle/.cargo/config.toml` names, so that the corpus test, `gpu-bundle` and
/// `candle-port` compile candle's static library once between them.
pub(crate) fn cache_dir() -> PathBuf {
    crate::cmd::env_var("SASSKIT_CACHE_DIR").map_or_else(
        || {
            project_root()
                .join("target")
                .join("candle")
                .join("sasskit-cache")
        },
        PathBuf::from,
    )
}

/// `cargo <args>` in `tests/candle`, with the toolchain and the sources: running in that folder
/// picks up its `.cargo/config.toml`, so every caller shares one target dir and build cache.
pub(crate) fn cargo_in_crate(toolchain: &Toolchain, sources: &Path, args: &[&str]) -> Cmd {
    Cmd::cargo()
        .args(args)
        .dir(&crate_dir())
        .envs(toolchain.envs())
        .env(SOURCES_ENV, sources)
}

/// `tests/candle`.
pub(crate) fn crate_dir() -> PathBuf {
    project_root().join("tests").join("candle")
}

/// The folder of package `name` `version` in `cargo metadata` JSON: the parent of its
/// `manifest_path`, found without a JSON parser (xtask keeps its dependencies few).
fn package_dir(metadata: &str, name: &str, version: &str) -> Option<PathBuf> {
    let folder = format!("{name}-{version}");
    metadata
        .split("\"manifest_path\":\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|path| PathBuf::from(path.replace("\\\\", "\\")))
        .filter(|path| path.file_name().is_some_and(|file| file == "Cargo.toml"))
        .filter_map(|path| path.parent().map(Path::to_owned))
        .find(|dir| dir.file_name().is_some_and(|dir| dir == folder.as_str()))
}

fn write_if_changed(path: &Path, contents: &str) -> Result<()> {
    if fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    fs::write(path, contents).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::package_dir;

    #[test]
    fn finds_the_package_folder_in_metadata() {
        let metadata = r#"{"packages":[{"name":"candle-sources","manifest_path":"/w/target/candle/fetch/Cargo.toml"},{"name":"candle-kernels","version":"0.11.1","manifest_path":"/home/u/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/candle-kernels-0.11.1/Cargo.toml"}]}"#;
        assert_eq!(
            package_dir(metadata, "candle-kernels", "0.11.1"),
            Some(PathBuf::from(
                "/home/u/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/candle-kernels-0.11.1"
            ))
        );
        assert_eq!(package_dir(metadata, "candle-kernels", "0.11.0"), None);
    }
}
