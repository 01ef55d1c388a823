//! What the build recorded about an embedded module, as constants `kernels!` wrote at compile
//! time: the load path reads them and parses nothing (the TOML manifest stays embedded for
//! tools, and the runtime never reads it).

use sasskit_core::Target;
use sasskit_core::provenance::{CacheStatus, Origin};

/// Shown for facts a hand-made [`EmbeddedModule`](crate::EmbeddedModule) does not give.
pub(crate) const UNKNOWN: &str = "unknown";

/// What the build recorded about one module, for the load report and kernel lookups.
///
/// `kernels!` writes it from the build manifest; programs that embed a fat binary by hand use
/// [`BuildFacts::UNKNOWN`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuildFacts {
    /// The nvcc that built the module, `13.0.88`.
    pub nvcc_version: &'static str,
    /// The build key.
    pub build_key: &'static str,
    /// Whether the build cache served the fat binary; `None` when unknown.
    pub cache: Option<CacheStatus>,
    /// Every `extern "C"` kernel of the module.
    pub kernels: &'static [KernelFacts],
    /// The virtual architecture one front end compiled every plain SASS image from, in the fast
    /// mode for development builds (`Build::single_front_end`): `compute_90`. `None` for a
    /// normal build.
    pub front_end: Option<Target>,
    /// Where the fat binary came from: built by nvcc (in this build or from its cache) or the
    /// crate's prebuilt folder; `None` when unknown.
    pub origin: Option<Origin>,
    /// Why the module has no fat binary, in a metadata-only build (docs.rs): loading it is
    /// [`LoadError::NotBuilt`](crate::LoadError::NotBuilt).
    pub unavailable: Option<&'static str>,
}

/// One kernel of a module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelFacts {
    /// The kernel's symbol name.
    pub name: &'static str,
    /// The targets (`sm_100`, `compute_90`) whose images define the kernel, when not every
    /// image does (`#if __CUDA_ARCH__`); empty when every image does.
    pub only_in: &'static [Target],
}

impl BuildFacts {
    /// Nothing known: the report says `unknown`, and every kernel counts as present in every
    /// image.
    pub const UNKNOWN: BuildFacts = BuildFacts {
        nvcc_version: UNKNOWN,
        build_key: UNKNOWN,
        cache: None,
        kernels: &[],
        front_end: None,
        origin: None,
        unavailable: None,
    };

    /// The targets whose image defines `kernel`, when not every image does.
    pub(crate) fn targets_of(&self, kernel: &str) -> Option<&'static [Target]> {
        self.kernels
            .iter()
            .find(|facts| facts.name == kernel && !facts.only_in.is_empty())
            .map(|facts| facts.only_in)
    }

    /// How many kernels the image built for `target` does not define.
    pub(crate) fn absent_from(&self, target: Target) -> usize {
        self.kernels
            .iter()
            .filter(|facts| !facts.only_in.is_empty() && !facts.only_in.contains(&target))
            .count()
    }

    /// The kernel names, for the message about one that is not there.
    pub(crate) fn kernel_names(&self) -> Vec<String> {
        self.kernels
            .iter()
            .map(|facts| facts.name.to_owned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sasskit_core::Arch;

    fn sm(number: u32) -> Target {
        Target::Sass(Arch::plain(number))
    }

    const FACTS: BuildFacts = BuildFacts {
        nvcc_version: "13.0.88",
        build_key: "5f0c12ab9d",
        cache: Some(CacheStatus::Hit),
        kernels: &[
            KernelFacts {
                name: "scale",
                only_in: &[],
            },
            KernelFacts {
                name: "tcgen05_only",
                only_in: &[Target::Sass(Arch::plain(100))],
            },
        ],
        front_end: None,
        origin: Some(Origin::Built),
        unavailable: None,
    };

    #[test]
    fn kernels_guarded_by_architecture_are_absent_from_other_images() {
        assert_eq!(FACTS.kernel_names(), ["scale", "tcgen05_only"]);
        assert_eq!(FACTS.targets_of("scale"), None);
        assert_eq!(FACTS.targets_of("tcgen05_only"), Some(&[sm(100)][..]));
        assert_eq!(FACTS.absent_from(sm(90)), 1);
        assert_eq!(FACTS.absent_from(sm(100)), 0);
    }

    #[test]
    fn unknown_facts_hold_every_kernel_everywhere() {
        assert_eq!(BuildFacts::UNKNOWN.nvcc_version, UNKNOWN);
        assert_eq!(BuildFacts::UNKNOWN.targets_of("anything"), None);
        assert_eq!(BuildFacts::UNKNOWN.absent_from(sm(90)), 0);
    }
}
