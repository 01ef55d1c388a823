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

    /// Whether this image serves the required `target`, the rule of `cargo sasskit verify`:
    /// SASS (PTX) for the same SM number, where a required plain `sm_XY` is served by `sm_XY`,
    /// `sm_XYa` and `sm_XYf` alike (each runs on a device of compute capability X.Y) and a
    /// required `sm_XYa` or `sm_XYf` only by exactly that. The build's own check is stricter:
    /// [`Image::missing_targets`].
    pub fn serves(&self, target: Target) -> bool {
        let same_arch = |have: Arch, want: Arch| {
            have.sm == want.sm && (want.variant == Variant::Plain || have.variant == want.variant)
        };
        match (self.target(), target) {
            (Some(Target::Sass(have)), Target::Sass(want))
            | (Some(Target::Ptx(have)), Target::Ptx(want)) => same_arch(have, want),
            _ => false,
        }
    }

    /// The targets of `targets` that no image of `images` is exactly for (`sm_90` is not
    /// `sm_90a`, SASS is not PTX), in `targets`' order: what a build that asked for `targets`
    /// failed to produce. [`Image::serves`] is the looser rule for a binary's users; whether a
    /// device can run an image is a third ([`select_image`](crate::select_image)).
    pub fn missing_targets(
        images: &[Image],
        targets: impl IntoIterator<Item = Target>,
    ) -> Vec<Target> {
        targets
            .into_iter()
            .filter(|target| !images.iter().any(|image| image.target() == Some(*target)))
            .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn image(kind: ImageKind, sm: u32, variant: Variant) -> Image {
        Image {
            kind,
            arch: Arch::new(sm, variant),
            compression: Compression::None,
            version: (1, 8),
            flags: 0,
            offset: 0,
            header_size: 64,
            payload_size: 0,
            compressed_size: None,
            uncompressed_size: None,
        }
    }

    #[test]
    fn the_build_wants_exactly_its_targets_and_verify_takes_a_variant_for_plain() {
        let images = [
            image(ImageKind::Sass, 90, Variant::Specific),
            image(ImageKind::Sass, 100, Variant::Plain),
            image(ImageKind::Ptx, 100, Variant::Plain),
        ];
        let hopper = Target::Sass(Arch::plain(90));
        let hopper_a = Target::Sass(Arch::new(90, Variant::Specific));
        let blackwell = Target::Sass(Arch::plain(100));
        let blackwell_f = Target::Sass(Arch::new(100, Variant::Family));
        let ptx_90 = Target::Ptx(Arch::plain(90));
        assert_eq!(
            Image::missing_targets(&images, [hopper, hopper_a, blackwell, blackwell_f, ptx_90]),
            [hopper, blackwell_f, ptx_90]
        );
        assert!(images[0].serves(hopper), "sm_90a serves a required sm_90");
        assert!(images[0].serves(hopper_a));
        assert!(
            !images[1].serves(blackwell_f),
            "plain does not serve a required sm_100f"
        );
        assert!(!images[2].serves(blackwell), "PTX does not serve SASS");
    }
}
