use super::*;
use crate::ComputeCapability;

const FACTS: BuildFacts = BuildFacts {
    nvcc_version: "13.0.88",
    build_key: "9c1e2f3a4b5c6d7e",
    cache: "off",
    kernels: &[],
    front_end: None,
    origin: "built",
    unavailable: None,
};

fn library(targets: &'static [&'static str]) -> EmbeddedLibrary {
    EmbeddedLibrary {
        name: "moe",
        targets,
        build: FACTS,
    }
}

fn device(major: u32, minor: u32) -> DeviceInfo {
    DeviceInfo {
        index: 0,
        name: "NVIDIA H200".into(),
        compute_capability: ComputeCapability::new(major, minor),
    }
}

#[test]
fn a_library_with_sass_for_the_device_reports_like_a_module_load() {
    let report = check_library_for(
        &library(&["sm_90", "sm_100", "sm_121"]),
        &device(9, 0),
        LoadPolicy::SassOnly,
    )
    .unwrap();
    assert_eq!(report.chosen.to_string(), "sm_90");
    assert_eq!(report.image_match, ImageMatch::Exact);
    let line = report.to_string();
    assert!(
        line.starts_with(
            "sasskit: loaded moe (static library) on device 0 \"NVIDIA H200\" (cc 9.0): sass sm_90 \
             (exact); embedded [sass sm_90, sass sm_100, sass sm_121]; nvcc 13.0.88; build key \
             9c1e2f3a; cache off;"
        ),
        "{line}"
    );
}

#[test]
fn a_library_without_sass_for_the_device_is_refused_with_the_module_error() {
    let error = check_library_for(
        &library(&["sm_100", "sm_121"]),
        &device(9, 0),
        LoadPolicy::SassOnly,
    )
    .unwrap_err();
    assert!(
        matches!(error, LoadError::NoCompatibleImage { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.starts_with(
            "module `moe` has no image that runs on device 0 \"NVIDIA H200\" (cc 9.0): it embeds \
             [sass sm_100, sass sm_121]; add sm_90 to SASSKIT_ARCHS"
        ),
        "{message}"
    );
}

#[test]
fn ptx_only_is_refused_unless_the_jit_is_allowed() {
    let ptx = library(&["compute_90"]);
    let error = check_library_for(&ptx, &device(9, 0), LoadPolicy::SassOnly).unwrap_err();
    assert!(matches!(error, LoadError::JitRefused { .. }), "{error:?}");
    let report = check_library_for(&ptx, &device(9, 0), LoadPolicy::AllowJit).unwrap();
    assert_eq!(report.image_match, ImageMatch::Jit);
    assert_eq!(report.chosen.to_string(), "compute_90");
}

unsafe extern "C" fn name(_: i32) -> *const c_char {
    c"cudaErrorInvalidConfiguration".as_ptr()
}

#[test]
fn calls_on_unchecked_devices_and_runtime_errors_name_the_fix() {
    let checked = CheckedLibrary {
        name: "moe",
        reports: vec![
            check_library_for(&library(&["sm_90"]), &device(9, 0), LoadPolicy::SassOnly).unwrap(),
        ],
    };
    assert!(checked.is_checked(0));
    assert!(!checked.is_checked(1));
    assert_eq!(checked.finish("launch", 0, name), Ok(()));
    let error = checked.finish("launch", 9, name).unwrap_err().to_string();
    assert_eq!(
        error,
        "`launch` of static library `moe` left the CUDA runtime error \
         cudaErrorInvalidConfiguration (9); check its arguments and launch sizes against the \
         function's contract"
    );
    let unchecked = LaunchError::UncheckedDevice {
        library: "moe".into(),
        function: "launch".into(),
        device: 1,
        checked: vec![0],
    }
    .to_string();
    assert!(
        unchecked.contains("moe::Library::check_every_device()"),
        "{unchecked}"
    );
}
