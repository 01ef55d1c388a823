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

/// A SHA-256 over named, length-prefixed fields, so that no two field lists hash alike.
struct KeyHasher(Sha256);

impl KeyHasher {
    fn new() -> KeyHasher {
        let mut hasher = KeyHasher(Sha256::new());
        hasher.field("version", KEY_VERSION.as_bytes());
        hasher
    }

    fn field(&mut self, name: &str, value: &[u8]) {
        self.0.update(name.as_bytes());
        self.0.update((value.len() as u64).to_le_bytes());
        self.0.update(value);
    }

    /// nvcc's path and version, which every key covers.
    fn nvcc(&mut self, nvcc: &Nvcc) {
        self.field("nvcc", nvcc.tool.path().as_os_str().as_encoded_bytes());
        self.field("nvcc-version", nvcc.version.as_bytes());
    }

    fn args(&mut self, args: &[String]) {
        for arg in args {
            self.field("arg", arg.as_bytes());
        }
    }

    /// The hash in lowercase hex.
    fn finish(self) -> String {
        let mut key = String::with_capacity(64);
        for byte in self.0.finalize() {
            let _ = write!(key, "{byte:02x}");
        }
        key
    }
}

/// The key of one fat binary; `preprocessed` are the translation units of every
/// preprocessing pass (one per target architecture), in target order.
pub(crate) fn build_key<'a>(
    preprocessed: impl IntoIterator<Item = &'a str>,
    nvcc: &Nvcc,
    host_compiler: &str,
    args: &[String],
    targets: &TargetList,
) -> String {
    let mut hasher = KeyHasher::new();
    hasher.nvcc(nvcc);
    hasher.field("host-compiler", host_compiler.as_bytes());
    hasher.field("targets", targets.to_string().as_bytes());
    hasher.args(args);
    for text in preprocessed {
        hasher.field("source", text.as_bytes());
    }
    hasher.finish()
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
    let mut hasher = KeyHasher::new();
    hasher.nvcc(nvcc);
    for arch in archs {
        hasher.field("arch", arch.to_string().as_bytes());
    }
    hasher.args(args);
    hasher.field("probe", source.as_bytes());
    for input in inputs {
        hasher.field("input", input.as_os_str().as_encoded_bytes());
        match std::fs::read(input) {
            Ok(bytes) => hasher.field("content", &bytes),
            Err(_) => hasher.field("missing", &[]),
        }
    }
    hasher.finish()
}
