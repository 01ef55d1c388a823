//! Workspace integration tests live in `tests/tests/`; see `tests/README.md`. This library holds
//! their shared helpers:
//!
//! * [`toolchain`]: find nvcc and cuobjdump, and skip (or, under `SASSKIT_REQUIRE_TOOLCHAIN=1`,
//!   fail) a test that needs a missing one;
//! * [`process`]: the one place that builds commands and reads the environment;
//! * [`throwaway`]: throwaway crates built with cargo and a logging nvcc;
//! * [`cuobjdump`]: cuobjdump's listings, parsed, for cross-checking sasskit's fat binary parser;
//! * [`stub_libs`]: stand-ins for the CUDA libraries, generated from cudarc's bindings, to link
//!   and start programs that link them (cudarc's `dynamic-linking`) without CUDA;
//! * [`cudarc_features`]: throwaway crates with another crate's cudarc features next to sasskit
//!   (candle's, cudarc's defaults);
//! * [`prebuilt_crate`]: a crate that ships prebuilt fat binaries, refreshed, packaged and
//!   built without nvcc;
//! * [`snapshot`]: a folder's files and modification times, to prove a build left them alone.

pub mod cudarc_features;
pub mod cuobjdump;
pub mod prebuilt_crate;
pub mod process;
pub mod snapshot;
pub mod stub_libs;
pub mod throwaway;
pub mod toolchain;
