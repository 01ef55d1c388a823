//! Workspace integration tests live in `tests/tests/`; see `tests/README.md`. This library holds
//! their shared helpers:
//!
//! * [`toolchain`]: find nvcc and cuobjdump, and skip (or, under `SASSKIT_REQUIRE_TOOLCHAIN=1`,
//!   fail) a test that needs a missing one;
//! * [`process`]: the one place that builds commands and reads the environment;
//! * [`throwaway`]: throwaway crates built with cargo and a logging nvcc;
//! * [`cuobjdump`]: cuobjdump's listings, parsed, for cross-checking sasskit's fat binary parser.

pub mod cuobjdump;
pub mod process;
pub mod throwaway;
pub mod toolchain;
