//! The load decision, made without the driver: which image the device runs, whether that is
//! allowed, and the exact bytes the driver will be handed.

use std::sync::Arc;

use sasskit_core::{ImageMatch, Target};

use crate::build_info::BuildFacts;
use crate::device::DeviceInfo;
use crate::embedded::EmbeddedModule;
use crate::error::LoadError;
use crate::policy::LoadPolicy;
use crate::report::Chosen;
use crate::selection::{self, Handoff};

/// What [`load`](crate::load) hands the driver for one device, decided by [`check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub(crate) module: &'static str,
    pub(crate) device: DeviceInfo,
    pub(crate) chosen: Target,
    pub(crate) chosen_version: (u16, u16),
    pub(crate) image_match: ImageMatch,
    pub(crate) embedded: Arc<[String]>,
    pub(crate) build: BuildFacts,
    pub(crate) image: Handoff,
}

/// Decides how `module` loads on `device` under `policy`, without calling the driver.
///
/// This is the decision [`load`](crate::load) makes after reading the device's compute
/// capability; `policy` is taken as given (`load` applies the
/// [`ALLOW_JIT_ENV`](crate::ALLOW_JIT_ENV) override before calling it).
///
/// * The embedded fat binary is parsed; a corrupt one is [`LoadError::CorruptFatbin`], a
///   nothing else is parsed (the build facts are constants).
/// * The image the driver would run is chosen by NVIDIA's compatibility rules: compatible SASS
///   always wins over PTX.
/// * SASS chosen: the plan's [image](Plan::image) holds that SASS image alone, so the driver
///   cannot JIT-compile anything (and reads a third of the bytes of a three-target module):
///   the image's cubin in place in the embedded fat binary when it is stored uncompressed, or
///   a new container of that one entry when it is compressed (the driver decompresses it).
/// * Only PTX fits: [`LoadError::JitRefused`] under [`LoadPolicy::SassOnly`]; under
///   [`LoadPolicy::AllowJit`] the image is the whole container and the match is
///   [`ImageMatch::Jit`].
/// * Nothing fits: [`LoadError::NoCompatibleImage`].
///
/// ```
/// use sasskit::{ComputeCapability, DeviceInfo, EmbeddedModule, ImageMatch, LoadPolicy};
///
/// let module = EmbeddedModule {
///     name: "scale",
///     fatbin: include_bytes!("../tests/fixtures/scale_sm90.fatbin"),
///     build: sasskit::BuildFacts::UNKNOWN,
/// };
/// let h100 = DeviceInfo {
///     index: 0,
///     name: "NVIDIA H100 80GB HBM3".into(),
///     compute_capability: ComputeCapability::new(9, 0),
/// };
/// let plan = sasskit::check(&module, &h100, LoadPolicy::SassOnly)?;
/// assert_eq!(plan.chosen().to_string(), "sm_90");
/// assert_eq!(plan.image_match(), ImageMatch::Exact);
///
/// let b200 = DeviceInfo { compute_capability: ComputeCapability::new(10, 0), ..h100 };
/// let error = sasskit::check(&module, &b200, LoadPolicy::SassOnly).unwrap_err();
/// assert!(error.to_string().contains("add sm_100 to SASSKIT_ARCHS"));
/// # Ok::<(), sasskit::LoadError>(())
/// ```
pub fn check(
    module: &EmbeddedModule,
    device: &DeviceInfo,
    policy: LoadPolicy,
) -> Result<Plan, LoadError> {
    if let Some(reason) = module.build.unavailable {
        return Err(LoadError::NotBuilt {
            module: module.name.to_owned(),
            reason: reason.to_owned(),
        });
    }
    let cc = device.compute_capability;
    let selection = selection::select(module, cc).map_err(|error| LoadError::CorruptFatbin {
        module: module.name.to_owned(),
        error,
    })?;
    let required = cc.exact_target();
    let Some((chosen, chosen_version, image_match)) = selection.choice else {
        return Err(LoadError::NoCompatibleImage {
            module: module.name.to_owned(),
            device: device.clone(),
            embedded: selection.embedded.to_vec(),
            required,
            static_library: false,
        });
    };
    let image = match (image_match, policy, &selection.sass) {
        (ImageMatch::Exact | ImageMatch::Compatible, _, Some(sass)) => sass.clone(),
        (ImageMatch::Jit, LoadPolicy::SassOnly, _) => {
            return Err(LoadError::JitRefused {
                module: module.name.to_owned(),
                device: device.clone(),
                ptx: chosen,
                embedded: selection.embedded.to_vec(),
                required,
                static_library: false,
            });
        }
        // A JIT hands the driver the whole container. (A SASS choice always comes with its
        // bytes, `selection::compute`, so this arm is only the JIT.)
        (ImageMatch::Jit, LoadPolicy::AllowJit, _)
        | (ImageMatch::Exact | ImageMatch::Compatible, _, None) => Handoff::Embedded(module.fatbin),
    };
    Ok(Plan {
        module: module.name,
        device: device.clone(),
        chosen,
        chosen_version,
        image_match,
        embedded: Arc::clone(&selection.embedded),
        build: module.build,
        image,
    })
}

impl Plan {
    /// The module name.
    pub fn module(&self) -> &'static str {
        self.module
    }

    /// The device the plan is for.
    pub fn device(&self) -> &DeviceInfo {
        &self.device
    }

    /// The image the driver will run: `sm_90` SASS, or `compute_90` PTX for a JIT.
    pub fn chosen(&self) -> Target {
        self.chosen
    }

    /// How the chosen image fits the device.
    pub fn image_match(&self) -> ImageMatch {
        self.image_match
    }

    /// Whether the driver will JIT-compile PTX.
    pub fn is_jit(&self) -> bool {
        self.image_match == ImageMatch::Jit
    }

    /// Every image the module embeds, in file order: `sass sm_90`, `ptx compute_90 (zstd)`.
    pub fn embedded(&self) -> &[String] {
        &self.embedded
    }

    /// The bytes the driver will be handed: the chosen SASS image's cubin (in place in the
    /// embedded fat binary) when it is stored uncompressed, a fat binary container of only
    /// that entry when it is compressed, or the whole embedded container for a JIT.
    pub fn image(&self) -> &[u8] {
        self.image.bytes()
    }

    /// The nvcc version the build recorded (`unknown` for a hand-made module).
    pub fn nvcc_version(&self) -> &str {
        self.build.nvcc_version
    }

    /// The build key the build recorded (`unknown` for a hand-made module).
    pub fn build_key(&self) -> &str {
        self.build.build_key
    }

    /// The chosen image described for reports: `sass sm_90`, `ptx compute_90`.
    pub(crate) fn chosen_label(&self) -> Chosen {
        Chosen(self.chosen)
    }
}

#[cfg(test)]
mod tests;
