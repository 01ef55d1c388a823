//! The image the driver would run on a device.
//!
//! Compatible SASS always wins over PTX: measured on an H100 with driver r580, whatever the
//! order of the entries and the PTX version. Among SASS images the highest SM number that runs on
//! the device wins, and for equal numbers `a` beats `f` beats plain (measured: `sm_90a` over
//! `sm_90`; the rest follows LLVM's ordering of these targets). Among PTX images the highest
//! virtual architecture wins (measured: `compute_90` over `compute_80`).
//!
//! Whether the driver understands a PTX image's ISA version is not decided here: the runtime
//! knows the driver version.

use std::fmt;

use crate::arch::{ComputeCapability, Target, Variant};
use crate::fatbin::Image;

/// How the chosen image fits the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageMatch {
    /// SASS built for exactly this compute capability.
    Exact,
    /// SASS built for an older minor of the same major (`sm_90` on 9.0 is exact, `sm_120` on 12.1
    /// is compatible); runs natively, possibly without the newest minor's features.
    Compatible,
    /// PTX only: the driver must JIT-compile it.
    Jit,
}

impl fmt::Display for ImageMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ImageMatch::Exact => "exact",
            ImageMatch::Compatible => "compatible",
            ImageMatch::Jit => "jit",
        })
    }
}

/// The image chosen for a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Choice {
    /// Index of the image in the list given to [`select_image`].
    pub index: usize,
    /// How it fits.
    pub image_match: ImageMatch,
}

/// The image the driver would run on a device of compute capability `cc`, or `None` if no image
/// runs there.
pub fn select_image(images: &[Image], cc: ComputeCapability) -> Option<Choice> {
    let targets: Vec<Option<Target>> = images.iter().map(Image::target).collect();
    select_target(&targets, cc)
}

/// The same choice as [`select_image`] over targets alone (`sm_90`, `compute_90`), for code
/// whose images are known by their targets only, such as the objects of a static library:
/// `None` entries never run. The index is into `targets`.
pub fn select_target(targets: &[Option<Target>], cc: ComputeCapability) -> Option<Choice> {
    let best_of = |ptx: bool| {
        targets
            .iter()
            .enumerate()
            .filter_map(|(index, target)| Some((index, (*target)?)))
            .filter(|(_, target)| target.is_ptx() == ptx && target.runs_on(cc))
            .max_by_key(|(index, target)| {
                // Earlier entries win ties, so the choice is stable.
                (
                    target.arch().sm,
                    variant_rank(target.arch().variant),
                    std::cmp::Reverse(*index),
                )
            })
    };
    if let Some((index, target)) = best_of(false) {
        let image_match = if target.arch().sm == cc.sm() {
            ImageMatch::Exact
        } else {
            ImageMatch::Compatible
        };
        return Some(Choice { index, image_match });
    }
    best_of(true).map(|(index, _)| Choice {
        index,
        image_match: ImageMatch::Jit,
    })
}

fn variant_rank(variant: Variant) -> u8 {
    match variant {
        Variant::Plain => 0,
        Variant::Family => 1,
        Variant::Specific => 2,
    }
}

#[cfg(test)]
mod tests;
