//! What a crate that ships CUDA kernels built by [sasskit](https://docs.rs/sasskit) needs in its
//! own CI, as a library for a `cargo xtask` and as the cargo subcommand `cargo sasskit`
//! (`cargo install cargo-sasskit`):
//!
//! * [`verify`]: a built binary carries SASS for every required architecture
//!   (`cargo sasskit verify target/release/app --require sm_90,sm_100,sm_121`);
//! * [`doctor`]: how every fat binary in a binary would load on every GPU of this machine: SASS,
//!   a PTX JIT, or a failure (`cargo sasskit doctor target/release/app`);
//! * [`prebuild`]: refresh the crate's prebuilt fat binaries (`cargo sasskit prebuild`), or fail
//!   while they are stale (`cargo sasskit prebuild --check`), as `cargo fmt --check` does for
//!   formatting.
//!
//! ```no_run
//! // xtask/src/main.rs of a downstream crate
//! use cargo_sasskit::prebuild::Prebuild;
//! use sasskit_core::TargetList;
//!
//! Prebuild::new().package("my-kernels").check(true).run()?;
//! let required = TargetList::parse("sm_90,sm_100,sm_121").unwrap();
//! cargo_sasskit::verify::run("target/release/my-app".as_ref(), &required)?;
//! # Ok::<(), cargo_sasskit::Error>(())
//! ```

pub mod doctor;
pub mod prebuild;
pub mod verify;

use std::fmt;

/// Why a command failed; its `Display` is the whole message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    message: String,
}

impl Error {
    pub(crate) fn new(message: impl Into<String>) -> Error {
        Error {
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
