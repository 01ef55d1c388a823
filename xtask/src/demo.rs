//! `cargo xtask demo`: build the example app in release, verify its embedded kernels, and run it
//! (it prints what it embeds, and on a GPU machine runs them).
//!
//! The example ships its fat binaries and its shared header's bindings prebuilt
//! (`example-app/prebuilt`, checked by `cargo xtask ci`), so the demo installs nothing: no CUDA
//! toolkit, no libclang. It uses an nvcc or libclang only if one is already there and the
//! prebuilt folder is stale. cargo runs quietly: the demo prints what it does in one line per
//! step (cargo's own output goes to a log file, shown only on failure), then the verification and
//! the program's own output.

use anyhow::Result;
use sasskit_core::TargetList;

use crate::ci::EXAMPLE;
use crate::cmd::Cmd;
use crate::{project_root, release_binary, toolchain, verify};

/// `cargo xtask demo`.
pub(crate) fn run() -> Result<()> {
    let env = [("CUDARC_CUDA_VERSION", toolchain::CUDARC_CUDA_VERSION)];
    let log = project_root()
        .join("target")
        .join("xtask-logs")
        .join("demo-build.log");
    Cmd::cargo()
        .args(["build", "--release", "-p", EXAMPLE])
        .dir(&project_root())
        .envs(env)
        .run_logged(
            &format!("demo: building {EXAMPLE} in release (a few minutes the first time)"),
            &log,
        )?;
    let binary = release_binary(EXAMPLE);
    verify::run(&binary, &TargetList::default_targets())?;
    eprintln!("\n==> demo: running {}", binary.display());
    Cmd::new(&binary).dir(&project_root()).envs(env).run()
}
