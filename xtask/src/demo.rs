//! `cargo xtask demo`: build the example app in release with the pinned toolchain, verify its
//! embedded kernels, and run it (it prints what it embeds, and on a GPU machine runs them).

use anyhow::Result;
use sasskit_core::TargetList;

use crate::ci::EXAMPLE;
use crate::cmd::Cmd;
use crate::{project_root, release_binary, toolchain, verify};

/// `cargo xtask demo`.
pub(crate) fn run() -> Result<()> {
    let toolchain = toolchain::ensure()?;
    let env = toolchain.envs();
    Cmd::cargo()
        .args(["build", "--release", "-p", EXAMPLE])
        .dir(&project_root())
        .envs(env.clone())
        .run()?;
    let binary = release_binary(EXAMPLE);
    verify::run(&binary, &TargetList::default_targets())?;
    eprintln!("\n==> demo: running {}", binary.display());
    Cmd::new(&binary).dir(&project_root()).envs(env).run()
}
