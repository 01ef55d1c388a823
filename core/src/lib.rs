//! Pure data shared by every sasskit crate: no CUDA, no I/O beyond the bytes it is given.
//!
//! * [`arch`]: GPU architectures, target lists and the rules of which code runs on which device;
//! * [`fatbin`]: a defensive parser for NVIDIA fat binary containers, and the SASS-only filter;
//! * [`select`]: the image the driver would choose for a device;
//! * [`doctor`]: whether a module loads natively, by JIT or not at all on a device and driver;
//! * [`manifest`]: what the build script hands to the macro and the runtime;
//! * [`library`]: what the static-library mode hands to `host_functions!`;
//! * [`out_dir`]: the file names of that handoff under `OUT_DIR`;
//! * [`kernel`]: kernel signatures and the C to Rust type mapping;
//! * [`family`]: kernel families (`affine_f32`, `affine_bf16`, …), their patterns and settings;
//! * [`shared`]: host/device types from shared C headers and their layouts;
//! * [`cubin`]: the kernels of a cubin and their parameter buffer layouts, to cross-check
//!   extracted signatures against what nvcc compiled.
//!
//! This crate is an implementation detail of `sasskit`; its API follows sasskit's version exactly.

pub mod arch;
pub mod cubin;
pub mod doctor;
pub mod family;
pub mod fatbin;
#[cfg(feature = "manifest")]
mod handoff;
pub mod kernel;
mod le;
#[cfg(feature = "manifest")]
pub mod library;
#[cfg(feature = "manifest")]
pub mod manifest;
pub mod out_dir;
pub mod provenance;
pub mod select;
#[cfg(feature = "manifest")]
pub mod shared;

pub use arch::{Arch, ArchError, ComputeCapability, Target, TargetList, Variant};
pub use fatbin::{Compression, FatBinary, FatbinError, Image, ImageKind};
pub use select::{Choice, ImageMatch, select_image, select_target};
