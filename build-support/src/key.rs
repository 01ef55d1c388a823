//! The build key: a hash of everything that determines a fat binary's contents.
//!
//! It covers the preprocessed source (so every included header's content counts), the whole
//! nvcc command line except output paths, the target list, the nvcc version and path, and the
//! host compiler's version. Two
//! builds with the same key produce the same fat binary.

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use sasskit_core::{Arch, TargetList};

use crate::toolkit::Nvcc;

/// Bumped when the way sasskit builds changes in a way the inputs do not show.
const KEY_VERSION: &str = "sasskit-build-key-1";

pub(crate) fn build_key(
    preprocessed: &str,
    nvcc: &Nvcc,
    host_compiler: &str,
    args: &[String],
    targets: &TargetList,
) -> String {
    let mut hasher = Sha256::new();
    let mut field = |name: &str, value: &[u8]| {
        hasher.update(name.as_bytes());
        hasher.update((value.len() as u64).to_le_bytes());
        hasher.update(value);
    };
    field("version", KEY_VERSION.as_bytes());
    field("nvcc", nvcc.tool.path().as_os_str().as_encoded_bytes());
    field("nvcc-version", nvcc.version.as_bytes());
    field("host-compiler", host_compiler.as_bytes());
    field("targets", targets.to_string().as_bytes());
    for arg in args {
        field("arg", arg.as_bytes());
    }
    field("source", preprocessed.as_bytes());
    let mut key = String::with_capacity(64);
    for byte in hasher.finalize() {
        let _ = write!(key, "{byte:02x}");
    }
    key
}

/// The key of a shared header's layout probe: the probe, the content of every file it reads,
/// the nvcc command line and the architectures. A probe that passed under a key need not run
/// again under the same key.
pub(crate) fn layout_probe_key(
    source: &str,
    inputs: &[std::path::PathBuf],
    nvcc: &Nvcc,
    args: &[String],
    archs: &[Arch],
) -> String {
    let mut hasher = Sha256::new();
    let mut field = |name: &str, value: &[u8]| {
        hasher.update(name.as_bytes());
        hasher.update((value.len() as u64).to_le_bytes());
        hasher.update(value);
    };
    field("version", KEY_VERSION.as_bytes());
    field("nvcc", nvcc.tool.path().as_os_str().as_encoded_bytes());
    field("nvcc-version", nvcc.version.as_bytes());
    for arch in archs {
        field("arch", arch.to_string().as_bytes());
    }
    for arg in args {
        field("arg", arg.as_bytes());
    }
    field("probe", source.as_bytes());
    for input in inputs {
        field("input", input.as_os_str().as_encoded_bytes());
        match std::fs::read(input) {
            Ok(bytes) => field("content", &bytes),
            Err(_) => field("missing", &[]),
        }
    }
    let mut key = String::with_capacity(64);
    for byte in hasher.finalize() {
        let _ = write!(key, "{byte:02x}");
    }
    key
}
