use super::*;
use crate::fatbin::{Compression, ImageKind};

/// An image for `name` (`sm_90`, `sm_90a`, `compute_80`); PTX carries ISA `isa`.
fn image(name: &str, isa: (u16, u16)) -> Image {
    let target: Target = name.parse().unwrap();
    Image {
        kind: if target.is_ptx() {
            ImageKind::Ptx
        } else {
            ImageKind::Sass
        },
        arch: target.arch(),
        compression: Compression::None,
        version: if target.is_ptx() { isa } else { (1, 8) },
        flags: 0x11,
        offset: 0,
        header_size: 64,
        payload_size: 0,
        compressed_size: None,
        uncompressed_size: None,
    }
}

/// The outcome, as displayed, of `images` (nvcc 13.0 PTX) on a device of `cc`.
fn outcome(images: &str, cc: (u32, u32), driver: &str, nvcc: &str) -> Outcome {
    let images: Vec<Image> = images
        .split_whitespace()
        .map(|name| image(name, (9, 0)))
        .collect();
    diagnose(
        &images,
        ComputeCapability::new(cc.0, cc.1),
        Release::parse(driver),
        Release::parse(nvcc),
    )
}

#[test]
fn sass_for_the_device_is_ok() {
    let found = outcome("sm_90 sm_100 sm_121", (9, 0), "13.0", "13.0.88");
    assert_eq!(found.to_string(), "sass sm_90 (exact)");
    assert_eq!(found.severity(), Severity::Ok);
    let found = outcome("sm_120", (12, 1), "13.0", "13.0.88");
    assert_eq!(found.to_string(), "sass sm_120 (compatible)");
}

#[test]
fn a_missing_arch_fails() {
    let found = outcome("sm_90", (10, 0), "13.0", "13.0.88");
    assert_eq!(
        found,
        Outcome::NoImage {
            required: "sm_100".parse().unwrap()
        }
    );
    assert_eq!(found.severity(), Severity::Fails);
    assert!(
        found.to_string().contains("CUDA_ERROR_NO_BINARY_FOR_GPU"),
        "{found}"
    );
}

#[test]
fn ptx_only_is_slow() {
    let found = outcome("compute_80", (9, 0), "13.0", "13.0.88");
    assert_eq!(found.severity(), Severity::Slow);
    assert_eq!(
        found.to_string(),
        "JIT of ptx compute_80 at every load (PTX of CUDA 13.0)"
    );
    // SASS for another GPU next to the PTX does not help.
    assert_eq!(
        outcome("sm_80 compute_80", (9, 0), "13.0", "13.0.88").severity(),
        Severity::Slow
    );
}

#[test]
fn ptx_from_a_newer_nvcc_than_the_driver_fails() {
    let found = outcome("compute_80", (9, 0), "13.0", "13.5.37");
    assert_eq!(
        found,
        Outcome::PtxTooNew {
            ptx: "compute_80".parse().unwrap(),
            needs: Release::new(13, 5),
            driver: Release::new(13, 0),
            required: "sm_90".parse().unwrap(),
        }
    );
    assert!(
        found
            .to_string()
            .contains("CUDA_ERROR_UNSUPPORTED_PTX_VERSION"),
        "{found}"
    );
    // Equal or older nvcc is a JIT, not a failure.
    assert_eq!(
        outcome("compute_80", (9, 0), "13.0", "12.8.93").severity(),
        Severity::Slow
    );
}

#[test]
fn without_a_recorded_nvcc_the_ptx_isa_decides() {
    let images = [image("compute_80", (9, 5))];
    let cc = ComputeCapability::new(9, 0);
    let found = diagnose(&images, cc, Some(Release::new(13, 0)), None);
    assert_eq!(found.severity(), Severity::Fails, "{found}");
    let found = diagnose(&images, cc, Some(Release::new(13, 5)), None);
    assert_eq!(found.severity(), Severity::Slow, "{found}");
    // An unknown driver version cannot fail the PTX: it stays a JIT.
    let found = diagnose(&images, cc, None, None);
    assert_eq!(found.severity(), Severity::Slow, "{found}");
}

#[test]
fn sass_from_a_newer_nvcc_than_the_driver_loads() {
    let found = outcome("sm_90", (9, 0), "13.0", "13.5.37");
    assert_eq!(found.severity(), Severity::Ok);
    assert_eq!(
        found.to_string(),
        "sass sm_90 (exact); built by nvcc 13.5, newer than the driver, which SASS allows"
    );
}

#[test]
fn an_old_driver_fails_the_ptx_of_a_current_nvcc() {
    let found = outcome("sm_90 compute_90", (10, 0), "12.4", "13.0.88");
    assert_eq!(found.severity(), Severity::Fails, "{found}");
    // The same module's SASS loads on the same old driver.
    assert_eq!(
        outcome("sm_90 compute_90", (9, 0), "12.4", "13.0.88").severity(),
        Severity::Ok
    );
}

#[test]
fn an_sm_90a_only_module_runs_on_9_0_and_nowhere_else() {
    let found = outcome("sm_90a", (9, 0), "13.0", "13.0.88");
    assert_eq!(found.to_string(), "sass sm_90a (exact)");
    let found = outcome("sm_90a", (10, 0), "13.0", "13.0.88");
    assert_eq!(
        found,
        Outcome::NoImage {
            required: "sm_100".parse().unwrap()
        }
    );
}

#[test]
fn releases_parse_and_map_from_driver_and_ptx_isa() {
    assert_eq!(Release::parse("13.0.88"), Some(Release::new(13, 0)));
    assert_eq!(Release::parse("12.9"), Some(Release::new(12, 9)));
    assert_eq!(Release::parse("unknown"), None);
    assert_eq!(Release::from_driver_version(13000), Release::new(13, 0));
    assert_eq!(Release::from_driver_version(12090), Release::new(12, 9));
    assert_eq!(Release::writing_ptx_isa((9, 0)), Some(Release::new(13, 0)));
    assert_eq!(Release::writing_ptx_isa((9, 5)), Some(Release::new(13, 5)));
    assert_eq!(Release::writing_ptx_isa((8, 8)), Some(Release::new(12, 9)));
    assert_eq!(Release::writing_ptx_isa((8, 5)), Some(Release::new(12, 5)));
    assert_eq!(Release::writing_ptx_isa((7, 8)), Some(Release::new(11, 8)));
    assert_eq!(Release::writing_ptx_isa((6, 4)), None);
    assert!(Release::new(13, 0) > Release::new(12, 9));
}

#[test]
fn module_loading_follows_the_env() {
    assert_eq!(ModuleLoading::from_env(None), ModuleLoading::Lazy);
    assert_eq!(ModuleLoading::from_env(Some("EAGER")), ModuleLoading::Eager);
    assert_eq!(ModuleLoading::from_env(Some("eager")), ModuleLoading::Eager);
    assert_eq!(ModuleLoading::from_env(Some("LAZY")), ModuleLoading::Lazy);
}

#[test]
fn the_verdict_names_the_worst_findings() {
    let finding = |module: &str, device: &str, outcome: Outcome| Finding {
        module: module.to_owned(),
        device: device.to_owned(),
        outcome,
    };
    let ok = outcome("sm_90", (9, 0), "13.0", "13.0.88");
    let slow = outcome("compute_80", (9, 0), "13.0", "13.0.88");
    let fails = outcome("sm_90", (10, 0), "13.0", "13.0.88");
    assert_eq!(verdict(&[]).0, Severity::Ok);
    let (severity, line) = verdict(&[finding("saxpy", "device 0", ok)]);
    assert_eq!(
        (severity, line.as_str()),
        (Severity::Ok, "ok: every module loads SASS on every GPU")
    );
    let (severity, line) = verdict(&[
        finding("saxpy", "device 0", ok),
        finding("reduce", "device 0", slow),
    ]);
    assert_eq!(severity.exit_code(), 1);
    assert!(
        line.starts_with("slow: PTX JIT at load for `reduce` on device 0"),
        "{line}"
    );
    let (severity, line) = verdict(&[
        finding("reduce", "device 0", slow),
        finding("saxpy", "device 1", fails),
    ]);
    assert_eq!(severity.exit_code(), 2);
    assert!(
        line.starts_with("fails: `saxpy` on device 1 cannot load"),
        "{line}"
    );
}
