//! One module's record on its way through the [pipeline](super): the job, and where its fat
//! binary comes from.

use sasskit_core::manifest::Manifest;

use crate::job::Job;
use crate::prebuilt::Found;

/// One `.cu` file of the build, and where its fat binary comes from.
#[derive(Debug)]
pub(crate) struct Record {
    pub(crate) job: Job,
    pub(crate) source: Source,
}

/// Where one module's fat binary comes from.
#[derive(Debug)]
pub(crate) enum Source {
    /// The crate's prebuilt folder, current.
    Prebuilt(Box<Found>),
    /// nvcc; `stale` says why the prebuilt one was not used, when the crate has a prebuilt
    /// folder that holds one.
    Nvcc { stale: Option<Stale> },
    /// Nowhere: a metadata-only build without nvcc.
    Unavailable {
        stale: Option<Box<Manifest>>,
        reason: String,
    },
}

/// Why a prebuilt fat binary was not used, and its manifest when it could be read (whose
/// signatures still serve a metadata-only build).
#[derive(Debug)]
pub(crate) struct Stale {
    pub(crate) reason: String,
    pub(crate) manifest: Option<Box<Manifest>>,
}

impl Record {
    /// Whether nvcc builds this module.
    pub(crate) fn needs_nvcc(&self) -> bool {
        matches!(self.source, Source::Nvcc { .. })
    }
}
