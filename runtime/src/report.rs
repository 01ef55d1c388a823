//! The one line a load logs: what ran where, what else was there, and who built it.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use sasskit_core::provenance::Origin;
use sasskit_core::{ImageKind, Target};

use crate::ImageMatch;
use crate::build_info::{BuildFacts, UNKNOWN};
use crate::device::DeviceInfo;

/// What [`load`](crate::load) did, as logged at `info` level (`warn` for a JIT).
///
/// The report holds the facts as the load found them (the device, the chosen target, the
/// build's constants) and formats nothing until it is displayed. `Display` writes one line:
///
/// ```text
/// sasskit: loaded saxpy on device 0 "NVIDIA H100 80GB HBM3" (cc 9.0): sass sm_90 (exact); embedded [sass sm_90, sass sm_100, sass sm_121]; nvcc 13.0.88; build key 5f0c12ab; cache off; 1.2 ms
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadReport {
    /// The module name.
    pub module: &'static str,
    /// The device the module was loaded on.
    pub device: DeviceInfo,
    /// The image the driver runs: `sm_90` SASS, or `compute_90` PTX for a JIT.
    pub chosen: Target,
    /// How the chosen image fits the device.
    pub image_match: ImageMatch,
    /// Every image the module embeds, in file order (shared with every load of the module on
    /// a device of the same capability).
    pub embedded: Arc<[String]>,
    /// What the build recorded: nvcc release, build key, cache status, the kernels that only
    /// some images define, and the single front end of a development build. Every field is
    /// `unknown` (or empty) for a hand-made module.
    pub build: BuildFacts,
    /// Time the driver took to load the module (`cuModuleLoadData`, and the JIT when there
    /// was one): what tells a native load (well under a millisecond for most modules) from a
    /// JIT (hundreds of milliseconds and more).
    pub load_time: Duration,
    /// Time spent before the driver's load: the device queries (which, first in a process, set
    /// up the device's context), reading the embedded fat binary and choosing the image.
    pub setup_time: Duration,
    /// For a JIT load, the driver's JIT log (ptxas's `info` lines), empty when the driver
    /// served the module from its JIT cache; `None` for SASS.
    pub jit_log: Option<String>,
    /// Whether this is the start-up check of a static library's host-launched kernels (the
    /// CUDA runtime loads them; the report says which image it will run, as `sasskit: checked
    /// static library moe on …`) rather than a module load.
    pub static_library: bool,
}

impl LoadReport {
    /// How many of the module's kernels the chosen image does not define, because the source
    /// guards them with `#if __CUDA_ARCH__`; their wrappers return an error on this device.
    pub fn kernels_not_in_image(&self) -> usize {
        self.build.absent_from(self.chosen)
    }
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sasskit: {}{} on {}: {} ({}){}; embedded [{}]; nvcc {}; build key {}; \
             {};{} {}{}",
            // A static library is never loaded by sasskit: the CUDA runtime linked with it
            // registers its images; the check only decides which one will run.
            if self.static_library {
                "checked static library "
            } else {
                "loaded "
            },
            self.module,
            self.device,
            Chosen(self.chosen),
            self.image_match,
            FrontEnd(self.build.front_end),
            Joined(&self.embedded),
            self.build.nvcc_version,
            short_key(self.build.build_key),
            Source(&self.build),
            NotInImage(self.kernels_not_in_image()),
            Elapsed(self.load_time),
            SetUp(self.setup_time),
        )
    }
}

/// `sass sm_90`, `ptx compute_90`: the chosen image as reports and errors name it.
pub(crate) struct Chosen(pub(crate) Target);

impl fmt::Display for Chosen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.0.is_ptx() {
            ImageKind::Ptx
        } else {
            ImageKind::Sass
        };
        write!(f, "{kind} {}", self.0)
    }
}

/// `prebuilt` for the crate's prebuilt fat binary, else the build cache's status: `cache hit`.
struct Source<'a>(&'a BuildFacts);

impl fmt::Display for Source<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0.origin, self.0.cache) {
            (Some(Origin::Prebuilt), _) => f.write_str("prebuilt"),
            (_, Some(cache)) => write!(f, "cache {cache}"),
            (_, None) => write!(f, "cache {UNKNOWN}"),
        }
    }
}

/// `a, b, c`.
struct Joined<'a>(&'a [String]);

impl fmt::Display for Joined<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, item) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str(", ")?;
            }
            f.write_str(item)?;
        }
        Ok(())
    }
}

/// The first eight characters of a build key, as git shortens hashes.
fn short_key(key: &str) -> &str {
    if key == UNKNOWN {
        return key;
    }
    key.char_indices()
        .nth(8)
        .map_or(key, |(end, _)| &key[..end])
}

/// ` 2 kernels not in this image;`, or nothing when every kernel is there.
struct NotInImage(usize);

impl fmt::Display for NotInImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            0 => Ok(()),
            1 => f.write_str(" 1 kernel not in this image;"),
            n => write!(f, " {n} kernels not in this image;"),
        }
    }
}

/// `, single front end compute_90` in the fast mode for development builds: every image has
/// the lowest target's `__CUDA_ARCH__`.
struct FrontEnd(Option<Target>);

impl fmt::Display for FrontEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(arch) => write!(f, ", single front end {arch} (a development build)"),
            None => Ok(()),
        }
    }
}

/// ` (+131.4 ms set-up)` when the work before the driver's load took a millisecond or more
/// (first use of a device in a process), else nothing.
struct SetUp(Duration);

impl fmt::Display for SetUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 >= Duration::from_millis(1) {
            write!(f, " (+{} set-up)", Elapsed(self.0))
        } else {
            Ok(())
        }
    }
}

/// `0.042 ms`, `1.2 ms`, `23.41 s`.
struct Elapsed(Duration);

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_secs_f64() * 1000.0;
        if ms < 1.0 {
            write!(f, "{ms:.3} ms")
        } else if ms < 1000.0 {
            write!(f, "{ms:.1} ms")
        } else {
            write!(f, "{:.2} s", ms / 1000.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::{ComputeCapability, KernelFacts};
    use sasskit_core::Arch;

    const FACTS: BuildFacts = BuildFacts {
        nvcc_version: "13.0.88",
        build_key: "5f0c12ab9d8e7f60",
        cache: Some(crate::CacheStatus::Off),
        kernels: &[],
        front_end: None,
        origin: Some(crate::Origin::Built),
        unavailable: None,
    };

    fn report() -> LoadReport {
        LoadReport {
            module: "saxpy",
            device: DeviceInfo {
                index: 0,
                name: "NVIDIA H100 80GB HBM3".into(),
                compute_capability: ComputeCapability::new(9, 0),
            },
            chosen: Target::Sass(Arch::plain(90)),
            image_match: ImageMatch::Exact,
            embedded: Arc::from([
                "sass sm_90".to_owned(),
                "sass sm_100".to_owned(),
                "sass sm_121".to_owned(),
            ]),
            build: FACTS,
            load_time: Duration::from_micros(1200),
            setup_time: Duration::from_micros(80),
            jit_log: None,
            static_library: false,
        }
    }

    #[test]
    fn displays_one_line() {
        assert_eq!(
            report().to_string(),
            "sasskit: loaded saxpy on device 0 \"NVIDIA H100 80GB HBM3\" (cc 9.0): sass sm_90 \
             (exact); embedded [sass sm_90, sass sm_100, sass sm_121]; nvcc 13.0.88; build key \
             5f0c12ab; cache off; 1.2 ms"
        );
    }

    #[test]
    fn displays_a_jit_and_an_unknown_build() {
        let report = LoadReport {
            chosen: Target::Ptx(Arch::plain(80)),
            image_match: ImageMatch::Jit,
            embedded: Arc::from(["ptx compute_80 (zstd)".to_owned()]),
            build: BuildFacts::UNKNOWN,
            load_time: Duration::from_millis(23_410),
            jit_log: Some("ptxas info : Compiling entry function 'scale' for 'sm_90a'".into()),
            ..report()
        };
        let line = report.to_string();
        assert!(
            line.contains(": ptx compute_80 (jit); embedded [ptx compute_80 (zstd)];"),
            "{line}"
        );
        assert!(
            line.ends_with("nvcc unknown; build key unknown; cache unknown; 23.41 s"),
            "{line}"
        );
        assert!(!line.contains('\n'));
    }

    #[test]
    fn a_prebuilt_module_says_so_instead_of_the_cache() {
        let line = LoadReport {
            build: BuildFacts {
                origin: Some(crate::Origin::Prebuilt),
                ..FACTS
            },
            ..report()
        }
        .to_string();
        assert!(
            line.contains("; build key 5f0c12ab; prebuilt; 1.2 ms"),
            "{line}"
        );
    }

    #[test]
    fn counts_the_kernels_the_image_lacks() {
        const GUARDED: &[KernelFacts] = &[
            KernelFacts {
                name: "everywhere",
                only_in: &[],
            },
            KernelFacts {
                name: "tcgen05_a",
                only_in: &[Target::Sass(Arch::plain(100))],
            },
            KernelFacts {
                name: "tcgen05_b",
                only_in: &[
                    Target::Sass(Arch::plain(100)),
                    Target::Sass(Arch::plain(121)),
                ],
            },
        ];
        let report = LoadReport {
            build: BuildFacts {
                kernels: GUARDED,
                ..FACTS
            },
            ..report()
        };
        assert_eq!(report.kernels_not_in_image(), 2);
        let line = report.to_string();
        assert!(
            line.ends_with("cache off; 2 kernels not in this image; 1.2 ms"),
            "{line}"
        );
    }

    #[test]
    fn a_single_front_end_build_says_so() {
        let line = LoadReport {
            build: BuildFacts {
                front_end: Some(Target::Ptx(Arch::plain(90))),
                ..FACTS
            },
            ..report()
        }
        .to_string();
        assert!(
            line.contains(": sass sm_90 (exact), single front end compute_90 (a development build); embedded ["),
            "{line}"
        );
    }

    #[test]
    fn set_up_time_is_shown_apart_from_the_load() {
        let line = LoadReport {
            load_time: Duration::from_micros(210),
            setup_time: Duration::from_micros(131_400),
            ..report()
        }
        .to_string();
        assert!(
            line.ends_with("cache off; 0.210 ms (+131.4 ms set-up)"),
            "{line}"
        );
    }

    #[test]
    fn short_key_keeps_short_keys() {
        assert_eq!(short_key("abc"), "abc");
        assert_eq!(short_key("0123456789"), "01234567");
    }

    #[test]
    fn elapsed_picks_a_unit() {
        assert_eq!(Elapsed(Duration::from_micros(42)).to_string(), "0.042 ms");
        assert_eq!(
            Elapsed(Duration::from_micros(12_345)).to_string(),
            "12.3 ms"
        );
        assert_eq!(Elapsed(Duration::from_millis(2_500)).to_string(), "2.50 s");
    }
}
