//! The image selection for one embedded module and one compute capability, made once per
//! process: the fat binary is parsed, the image chosen and the bytes the driver gets for it
//! found the first time a module is checked for a capability, and every later load (again, or
//! on another device of the same capability) reuses them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use sasskit_core::{
    Compression, ComputeCapability, FatBinary, FatbinError, ImageKind, ImageMatch, Target,
    select_image,
};

use crate::embedded::EmbeddedModule;

/// What the embedded fat binary offers a device of one compute capability.
#[derive(Debug)]
pub(crate) struct Selection {
    /// Every image, in file order: `sass sm_90`, `ptx compute_90 (zstd)`.
    pub(crate) embedded: Arc<[String]>,
    /// The image the driver would run, its version and how it fits; `None` when none fits.
    pub(crate) choice: Option<(Target, (u16, u16), ImageMatch)>,
    /// What the driver is handed when the choice is SASS; `None` otherwise.
    pub(crate) sass: Option<Handoff>,
}

/// The bytes a load hands the driver. For SASS they hold the chosen image alone: no PTX the
/// driver could JIT, and a third of the bytes of a three-target module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Handoff {
    /// The chosen SASS image's cubin, in place in the embedded fat binary: stored
    /// uncompressed, it is what the driver would read there itself, so nothing is built.
    Cubin(&'static [u8]),
    /// A new fat binary container holding only the chosen SASS entry, still compressed: the
    /// driver decompresses it as it would in the embedded container.
    Container(Arc<[u8]>),
    /// The whole embedded container, for a JIT the policy allows.
    Embedded(&'static [u8]),
}

impl Handoff {
    /// The bytes themselves.
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Handoff::Cubin(bytes) | Handoff::Embedded(bytes) => bytes,
            Handoff::Container(bytes) => bytes,
        }
    }
}

/// Embedded fat binaries are `'static`: their address and length identify them.
type Key = (usize, usize, ComputeCapability);

/// The selection for `module` on a device of capability `cc`, computed on first use.
pub(crate) fn select(
    module: &EmbeddedModule,
    cc: ComputeCapability,
) -> Result<Arc<Selection>, FatbinError> {
    static CACHE: OnceLock<Mutex<HashMap<Key, Arc<Selection>>>> = OnceLock::new();
    let key = (module.fatbin.as_ptr() as usize, module.fatbin.len(), cc);
    let cache = CACHE.get_or_init(Mutex::default);
    if let Some(hit) = cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
    {
        return Ok(Arc::clone(hit));
    }
    let selection = Arc::new(compute(module.fatbin, cc)?);
    cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(key, Arc::clone(&selection));
    Ok(selection)
}

fn compute(bytes: &'static [u8], cc: ComputeCapability) -> Result<Selection, FatbinError> {
    let fatbin = FatBinary::parse(bytes)?;
    let images = fatbin.images();
    let selected = select_image(images, cc);
    let choice = selected.and_then(|choice| {
        let image = &images[choice.index];
        Some((image.target()?, image.version, choice.image_match))
    });
    let sass = match (selected, choice) {
        (Some(selected), Some((_, _, ImageMatch::Exact | ImageMatch::Compatible))) => {
            let chosen = &images[selected.index];
            match (chosen.compression, fatbin.payload(chosen)) {
                (Compression::None, Some(cubin)) => Some(Handoff::Cubin(cubin)),
                // Compressed, or (in a container that parsed) a payload out of bounds, which
                // the driver is left to reject in a container of its own.
                _ => Some(Handoff::Container(Arc::from(fatbin.filter(|image| {
                    image.kind == ImageKind::Sass && image.offset == chosen.offset
                })))),
            }
        }
        _ => None,
    };
    Ok(Selection {
        embedded: images.iter().map(ToString::to_string).collect(),
        choice,
        sass,
    })
}
