//! One entry of a fat binary: its kind, architecture and storage.

use std::fmt;

use crate::arch::{Arch, Target, Variant};

/// What an entry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageKind {
    /// PTX text: the driver JIT-compiles it at load.
    Ptx,
    /// An ELF cubin: native machine code (SASS).
    Sass,
    /// NVVM IR for link-time optimisation (`code=lto_XY`); the driver does not run it.
    LtoIr,
    /// Any other kind (nvcc 13.5 `--concat` entries, library-specific kinds); never executed by
    /// sasskit's selection.
    Other(u16),
}

impl ImageKind {
    pub(crate) fn from_raw(raw: u16) -> ImageKind {
        match raw {
            1 => ImageKind::Ptx,
            2 => ImageKind::Sass,
            8 => ImageKind::LtoIr,
            other => ImageKind::Other(other),
        }
    }

    /// The raw kind number in the entry header.
    pub fn raw(self) -> u16 {
        match self {
            ImageKind::Ptx => 1,
            ImageKind::Sass => 2,
            ImageKind::LtoIr => 8,
            ImageKind::Other(raw) => raw,
        }
    }
}

impl fmt::Display for ImageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageKind::Ptx => f.write_str("ptx"),
            ImageKind::Sass => f.write_str("sass"),
            ImageKind::LtoIr => f.write_str("lto-ir"),
            ImageKind::Other(raw) => write!(f, "kind {raw:#x}"),
        }
    }
}

/// How a payload is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    /// Stored as is.
    None,
    /// A raw LZ4 block (`--compress-mode=speed`).
    Lz4,
    /// A zstd frame (nvcc's default for PTX, `--compress-mode=size` for ELF too).
    Zstd,
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Compression::None => "raw",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        })
    }
}

pub(crate) const FLAG_LZ4: u64 = 0x2000;
pub(crate) const FLAG_ZSTD: u64 = 0x8000;
pub(crate) const FLAG_ARCH_SPECIFIC: u64 = 0x10_0000;
pub(crate) const FLAG_FAMILY_SPECIFIC: u64 = 0x20_0000;

/// One entry of a fat binary container.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Image {
    /// What the entry holds.
    pub kind: ImageKind,
    /// Its architecture; the `a`/`f` variant comes from the entry flags.
    pub arch: Arch,
    /// How the payload is stored.
    pub compression: Compression,
    /// For PTX the PTX ISA version, for ELF the cubin code version, as `(major, minor)`.
    pub version: (u16, u16),
    /// The raw entry flags.
    pub flags: u64,
    /// Offset of the entry header from the start of its container.
    pub offset: usize,
    /// Size of the entry header.
    pub header_size: usize,
    /// Size of the payload, padded to 8 bytes.
    pub payload_size: usize,
    /// Size of the stored payload without padding, when it is compressed.
    pub compressed_size: Option<usize>,
    /// Size of the payload after decompression, when it is compressed.
    pub uncompressed_size: Option<u64>,
}

impl Image {
    /// The target this image serves: SASS or PTX for its architecture; `None` for kinds the
    /// driver does not execute.
    pub fn target(&self) -> Option<Target> {
        match self.kind {
            ImageKind::Sass => Some(Target::Sass(self.arch)),
            ImageKind::Ptx => Some(Target::Ptx(self.arch)),
            ImageKind::LtoIr | ImageKind::Other(_) => None,
        }
    }

    /// Total size of the entry, header and payload.
    pub fn entry_size(&self) -> usize {
        self.header_size + self.payload_size
    }

    pub(crate) fn variant_from_flags(flags: u64) -> Option<Variant> {
        match (
            flags & FLAG_ARCH_SPECIFIC != 0,
            flags & FLAG_FAMILY_SPECIFIC != 0,
        ) {
            (false, false) => Some(Variant::Plain),
            (true, false) => Some(Variant::Specific),
            (false, true) => Some(Variant::Family),
            (true, true) => None,
        }
    }
}

impl fmt::Display for Image {
    /// `sass sm_90a`, `ptx compute_90 (zstd)`, `lto-ir sm_90`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.target() {
            Some(target) => write!(f, "{} {target}", self.kind)?,
            None => write!(f, "{} {}", self.kind, self.arch)?,
        }
        if self.compression != Compression::None {
            write!(f, " ({})", self.compression)?;
        }
        Ok(())
    }
}
