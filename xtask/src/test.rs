//! `cargo xtask test [--fast]`: the test tiers of `tests/README.md`.
//!
//! `--fast` is the developer's loop: every crate's unit tests (`--lib --bins`) and the
//! integration tests that run in process or call nvcc on a few small files (`build_errors`,
//! `fatbin_golden`, `in_process`, `runtime_dependencies`); no throwaway cargo builds, no candle corpus, no
//! trybuild. Without `--fast`: everything `cargo xtask ci` tests (`cargo test --workspace`
//! with the candle sources), with the toolchain required, as CI runs it.

use std::time::Instant;

use anyhow::{Result, bail};

use crate::candle;
use crate::cmd::Cmd;
use crate::project_root;
use crate::toolchain;

/// The integration tests of `tests/tests/` in the fast tier: none of them builds a crate.
pub(crate) const FAST_INTEGRATION_TESTS: [&str; 4] = [
    "build_errors",
    "fatbin_golden",
    "in_process",
    "runtime_dependencies",
];

/// `cargo xtask test [--fast]`.
pub(crate) fn run(args: &[String]) -> Result<()> {
    let fast = match args {
        [] => false,
        [flag] if flag == "--fast" => true,
        _ => bail!("`test` takes nothing or `--fast` (see `cargo xtask help`)"),
    };
    let toolchain = toolchain::ensure()?;
    let started = Instant::now();
    let mut cargo = Cmd::cargo()
        .args(["test", "--workspace"])
        .dir(&project_root())
        .envs(toolchain.envs())
        .env("SASSKIT_REQUIRE_TOOLCHAIN", "1");
    if fast {
        cargo = cargo.args(["--lib", "--bins"]);
        for test in FAST_INTEGRATION_TESTS {
            cargo = cargo.args(["--test", test]);
        }
    } else {
        crate::candle_port::install_kernel_sources()?;
        cargo = cargo.env(candle::SOURCES_ENV, candle::sources()?);
    }
    cargo.run()?;
    eprintln!(
        "test: {} tier passed in {:.1} s",
        if fast { "fast" } else { "full" },
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
