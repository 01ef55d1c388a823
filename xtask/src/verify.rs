//! `cargo xtask verify <binary>`: the library check of `cargo-sasskit` (what `cargo sasskit
//! verify` runs), so that this repository verifies its binaries exactly as downstream crates do.

use std::path::Path;

use anyhow::Result;
use sasskit_core::TargetList;

/// Prints the table of what `path` embeds, then fails listing every problem.
pub(crate) fn run(path: &Path, required: &TargetList) -> Result<()> {
    Ok(cargo_sasskit::verify::run(path, required)?)
}
