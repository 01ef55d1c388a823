//! GPU architectures, target lists, and which code runs on which device.
//!
//! An [`Arch`] is an SM number plus a [`Variant`]: plain (`sm_90`), arch-specific (`sm_90a`,
//! runs only on exactly that compute capability) or family-specific (`sm_100f`, runs on the
//! same major with an equal or higher minor). A [`Target`] is either SASS for an arch or PTX for
//! a virtual arch (`compute_90`), which the driver must JIT-compile.
//!
//! The compatibility rules implemented by [`Target::runs_on`] are NVIDIA's documented ones
//! (Blackwell compatibility guide §1.2, CUDA 12.9 features archive for the `f` family):
//!
//! | code | runs on compute capability X'.Y' when |
//! | --- | --- |
//! | `sm_XY` | X' = X and Y' ≥ Y |
//! | `sm_XYa` | X'.Y' = X.Y exactly |
//! | `sm_XYf` | X' = X and Y' ≥ Y |
//! | `compute_XY` (PTX) | X'.Y' ≥ X.Y, JIT-compiled |
//! | `compute_XYa` (PTX) | X'.Y' = X.Y exactly, JIT-compiled |
//! | `compute_XYf` (PTX) | X' = X and Y' ≥ Y, JIT-compiled |

mod list;
mod parse;

use std::fmt;

pub use list::{TargetList, TargetSpec};
pub use parse::{ACCEPTED_FORMS, ArchError};

/// SM numbers of every architecture NVIDIA has published, oldest first.
///
/// An SM number outside this table is "unknown": build-support still accepts it when the nvcc it
/// found lists it (a toolkit newer than this table), everything else reports it.
pub const KNOWN_SMS: &[u32] = &[
    50, 52, 53, 60, 61, 62, 70, 72, 75, 80, 86, 87, 88, 89, 90, 100, 101, 103, 107, 110, 120, 121,
];

/// The targets sasskit builds when nothing else is configured: Hopper, Blackwell B200/GB200 and
/// GB10, as SASS only.
pub const DEFAULT_TARGETS: &[Target] = &[
    Target::Sass(Arch::plain(90)),
    Target::Sass(Arch::plain(100)),
    Target::Sass(Arch::plain(121)),
];

/// Which devices an architecture-specific build targets beyond its own compute capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Variant {
    /// `sm_XY`: forward compatible within the major version.
    Plain,
    /// `sm_XYf`: family-specific features, same compatibility as plain within the family.
    Family,
    /// `sm_XYa`: architecture-specific features, runs only on exactly X.Y.
    Specific,
}

impl Variant {
    /// The suffix nvcc uses for this variant: `""`, `"f"` or `"a"`.
    pub fn suffix(self) -> &'static str {
        match self {
            Variant::Plain => "",
            Variant::Family => "f",
            Variant::Specific => "a",
        }
    }
}

/// A real GPU architecture: an SM number such as 90 or 121, and its variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Arch {
    /// The SM number: major × 10 + minor (90 for 9.0, 121 for 12.1).
    pub sm: u32,
    /// Plain, family-specific (`f`) or architecture-specific (`a`).
    pub variant: Variant,
}

impl Arch {
    /// A plain architecture such as `sm_90`.
    pub const fn plain(sm: u32) -> Arch {
        Arch {
            sm,
            variant: Variant::Plain,
        }
    }

    /// The architecture with the given variant.
    pub const fn new(sm: u32, variant: Variant) -> Arch {
        Arch { sm, variant }
    }

    /// The compute capability this architecture is named after (sm_121 → 12.1).
    pub const fn capability(self) -> ComputeCapability {
        ComputeCapability {
            major: self.sm / 10,
            minor: self.sm % 10,
        }
    }

    /// Whether [`KNOWN_SMS`] lists this SM number and the variant exists for it
    /// (`a` from SM 90 on, `f` from SM 100 on).
    pub fn is_known(self) -> bool {
        KNOWN_SMS.contains(&self.sm)
            && match self.variant {
                Variant::Plain => true,
                Variant::Specific => self.sm >= 90,
                Variant::Family => self.sm >= 100,
            }
    }

    /// Whether native code (SASS) for this architecture runs on a device of compute capability
    /// `cc`.
    pub fn sass_runs_on(self, cc: ComputeCapability) -> bool {
        let own = self.capability();
        match self.variant {
            Variant::Plain | Variant::Family => own.major == cc.major && own.minor <= cc.minor,
            Variant::Specific => own == cc,
        }
    }

    /// Whether PTX for this virtual architecture can be JIT-compiled for a device of compute
    /// capability `cc` (ignoring the PTX ISA version, which the driver must also understand).
    pub fn ptx_runs_on(self, cc: ComputeCapability) -> bool {
        let own = self.capability();
        match self.variant {
            Variant::Plain => own <= cc,
            Variant::Family => own.major == cc.major && own.minor <= cc.minor,
            Variant::Specific => own == cc,
        }
    }
}

impl fmt::Display for Arch {
    /// Formats as nvcc's real architecture name, `sm_90a`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sm_{}{}", self.sm, self.variant.suffix())
    }
}

/// Something nvcc can put into a fat binary: SASS for a real architecture, or PTX for a
/// virtual one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// Native machine code, `sm_XY`: loads without any compilation.
    Sass(Arch),
    /// PTX, `compute_XY`: the driver JIT-compiles it when the module loads.
    Ptx(Arch),
}

impl Target {
    /// The architecture this target is for.
    pub fn arch(self) -> Arch {
        match self {
            Target::Sass(arch) | Target::Ptx(arch) => arch,
        }
    }

    /// Whether this is PTX.
    pub fn is_ptx(self) -> bool {
        matches!(self, Target::Ptx(_))
    }

    /// Whether code for this target runs on a device of compute capability `cc`.
    pub fn runs_on(self, cc: ComputeCapability) -> bool {
        match self {
            Target::Sass(arch) => arch.sass_runs_on(cc),
            Target::Ptx(arch) => arch.ptx_runs_on(cc),
        }
    }

    /// The `-gencode` value that makes nvcc embed exactly this target and nothing else:
    /// `arch=compute_90a,code=sm_90a` or `arch=compute_90,code=compute_90`.
    pub fn gencode(self) -> String {
        let arch = self.arch();
        let virtual_name = format!("compute_{}{}", arch.sm, arch.variant.suffix());
        match self {
            Target::Sass(arch) => format!("arch={virtual_name},code={arch}"),
            Target::Ptx(_) => format!("arch={virtual_name},code={virtual_name}"),
        }
    }
}

impl fmt::Display for Target {
    /// Formats as nvcc spells it: `sm_90a` for SASS, `compute_90a` for PTX.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Sass(arch) => arch.fmt(f),
            Target::Ptx(arch) => write!(f, "compute_{}{}", arch.sm, arch.variant.suffix()),
        }
    }
}

/// A device's compute capability, as the driver reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ComputeCapability {
    /// Major version (9 for Hopper, 10 for B200, 12 for RTX 50 and GB10).
    pub major: u32,
    /// Minor version.
    pub minor: u32,
}

impl ComputeCapability {
    /// A compute capability from its two parts.
    pub const fn new(major: u32, minor: u32) -> ComputeCapability {
        ComputeCapability { major, minor }
    }

    /// The SM number of this capability's plain architecture (9.0 → 90).
    pub const fn sm(self) -> u32 {
        self.major * 10 + self.minor
    }

    /// The plain SASS target that fits this device exactly (9.0 → `sm_90`); what to add to the
    /// build when a device has no image.
    pub const fn exact_target(self) -> Target {
        Target::Sass(Arch::plain(self.sm()))
    }
}

impl fmt::Display for ComputeCapability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

#[cfg(test)]
mod tests;
