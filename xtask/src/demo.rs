//! `cargo xtask demo`: build the example app in release, verify its embedded kernels, and run it
//! (it prints what it embeds, and on a GPU machine runs them).
//!
//! The example ships its fat binaries prebuilt (`example-app/prebuilt`, checked by `cargo xtask
//! ci`), so the demo installs no CUDA toolkit: it uses an nvcc only if one is already there and
//! the prebuilt folder is stale. libclang is installed if missing (bindgen generates the
//! example's shared types on every build).

use anyhow::Result;
use sasskit_core::TargetList;

use crate::ci::EXAMPLE;
use crate::cmd::Cmd;
use crate::{project_root, release_binary, toolchain, verify};

/// `cargo xtask demo`.
pub(crate) fn run() -> Result<()> {
    crate::libclang::ensure()?;
    let env = [("CUDARC_CUDA_VERSION", toolchain::CUDARC_CUDA_VERSION)];
    Cmd::cargo()
        .args(["build", "--release", "-p", EXAMPLE])
        .dir(&project_root())
        .envs(env)
        .run()?;
    let binary = release_binary(EXAMPLE);
    verify::run(&binary, &TargetList::default_targets())?;
    eprintln!("\n==> demo: running {}", binary.display());
    Cmd::new(&binary).dir(&project_root()).envs(env).run()
}
