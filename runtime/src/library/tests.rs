use super::*;
use crate::{Arch, ComputeCapability, Variant};

const SM90: Target = Target::Sass(Arch::plain(90));
const SM90A: Target = Target::Sass(Arch::new(90, Variant::Specific));
const SM100: Target = Target::Sass(Arch::plain(100));
const SM121: Target = Target::Sass(Arch::plain(121));
const COMPUTE90: Target = Target::Ptx(Arch::plain(90));

const FACTS: BuildFacts = BuildFacts {
    nvcc_version: "13.0.88",
    build_key: "9c1e2f3a4b5c6d7e",
    cache: Some(crate::CacheStatus::Off),
    kernels: &[],
    front_end: None,
    origin: Some(crate::Origin::Built),
    unavailable: None,
};

fn library(targets: &'static [Target]) -> EmbeddedLibrary {
    EmbeddedLibrary {
        name: "moe",
        targets,
        optional: false,
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
        &library(&[SM90, SM100, SM121]),
        &device(9, 0),
        LoadPolicy::SassOnly,
    )
    .unwrap();
    assert_eq!(report.chosen.to_string(), "sm_90");
    assert_eq!(report.image_match, ImageMatch::Exact);
    let line = report.to_string();
    assert!(
        line.starts_with(
            "sasskit: checked static library moe on device 0 \"NVIDIA H200\" (cc 9.0): sass sm_90 \
             (exact); embedded [sass sm_90, sass sm_100, sass sm_121]; nvcc 13.0.88; build key \
             9c1e2f3a; cache off;"
        ),
        "{line}"
    );
}

#[test]
fn a_library_without_sass_for_the_device_is_refused_with_the_module_error_naming_a_library() {
    let error = check_library_for(
        &library(&[SM100, SM121]),
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
            "static library `moe` has no image that runs on device 0 \"NVIDIA H200\" (cc 9.0): it embeds \
             [sass sm_100, sass sm_121]; add sm_90 to SASSKIT_ARCHS"
        ),
        "{message}"
    );
}

#[test]
fn ptx_only_is_refused_unless_the_jit_is_allowed() {
    let ptx = library(&[COMPUTE90]);
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
            check_library_for(&library(&[SM90]), &device(9, 0), LoadPolicy::SassOnly).unwrap(),
        ],
        unavailable: Vec::new(),
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
    let capture = checked.finish("launch", 901, name).unwrap_err().to_string();
    assert!(
        capture.contains("capturing a CUDA graph")
            && capture.contains("ctx.disable_event_tracking()"),
        "{capture}"
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

fn optional(targets: &'static [Target]) -> EmbeddedLibrary {
    EmbeddedLibrary {
        optional: true,
        ..library(targets)
    }
}

fn decisions(
    library: &EmbeddedLibrary,
    devices: &[DeviceInfo],
) -> Vec<(DeviceInfo, Result<LoadReport, LoadError>)> {
    devices
        .iter()
        .map(|device| {
            let decided = check_library_for(library, device, LoadPolicy::SassOnly);
            (device.clone(), decided)
        })
        .collect()
}

#[test]
fn a_refusal_names_a_static_library_not_a_module() {
    let error = check_library_for(&library(&[SM100]), &device(9, 0), LoadPolicy::SassOnly)
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("static library `moe` has no image that runs on device 0"),
        "{error}"
    );
}

#[test]
fn an_optional_library_is_unavailable_on_a_device_it_has_no_code_for() {
    let hopper_only = optional(&[SM90A]);
    let ada = DeviceInfo {
        index: 0,
        name: "NVIDIA L4".into(),
        compute_capability: ComputeCapability::new(8, 9),
    };
    let checked =
        CheckedLibrary::settle(&hopper_only, decisions(&hopper_only, &[ada]), false).unwrap();
    assert!(checked.is_checked(0));
    assert!(!checked.is_available());
    assert!(!checked.is_available_on(0));
    assert!(checked.reports().is_empty());
    let line = checked.unavailable()[0].to_string();
    assert!(
        line.starts_with(
            "sasskit: optional static library moe is unavailable on device 0 \"NVIDIA L4\" (cc \
             8.9): static library `moe` has no image that runs on device 0"
        ),
        "{line}"
    );

    // A function called there does not run, and says why and what to do.
    let error = checked.admit("rope_f32", 0).unwrap_err();
    assert!(
        matches!(error, LaunchError::Unavailable { device: 0, .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.starts_with(
            "`rope_f32` of the optional static library `moe` is unavailable on device 0 (static \
             library `moe` has no image that runs on device 0"
        ),
        "{message}"
    );
    assert!(
        message.ends_with(
            "ask `Library::is_available_on(0)` before calling, and take another path there, or \
             build the library for that device"
        ),
        "{message}"
    );
    // A device never checked is still the unchecked-device error.
    assert!(matches!(
        checked.admit("rope_f32", 1),
        Err(LaunchError::UncheckedDevice { device: 1, .. })
    ));
}

#[test]
fn an_optional_library_is_available_where_it_has_code() {
    let hopper_only = optional(&[SM90A]);
    let h200 = device(9, 0);
    let checked =
        CheckedLibrary::settle(&hopper_only, decisions(&hopper_only, &[h200]), false).unwrap();
    assert!(checked.is_available());
    assert!(checked.is_available_on(0));
    assert_eq!(checked.reports()[0].chosen.to_string(), "sm_90a");
    assert!(checked.admit("rope_f32", 0).is_ok());
}

#[test]
fn every_device_check_of_an_optional_library_splits_devices_instead_of_failing() {
    let hopper_only = optional(&[SM90A]);
    let blackwell = DeviceInfo {
        index: 1,
        name: "NVIDIA B200".into(),
        compute_capability: ComputeCapability::new(10, 0),
    };
    let devices = [device(9, 0), blackwell];
    let checked =
        CheckedLibrary::settle(&hopper_only, decisions(&hopper_only, &devices), true).unwrap();
    assert!(checked.is_available_on(0));
    assert!(!checked.is_available_on(1));
    assert!(!checked.is_available());

    // The same library, required: the check fails for the device it cannot run on.
    let required = library(&[SM90A]);
    let error =
        CheckedLibrary::settle(&required, decisions(&required, &devices), true).unwrap_err();
    assert!(
        matches!(&error, LoadError::EveryDevice(failures) if failures.len() == 1 && failures[0].0 == 1),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with("the static library cannot run on every device: 1 of them failed\n  static library `moe` has no image that runs on device 1"),
        "{error}"
    );
}

#[test]
fn a_context_that_cannot_be_bound_names_the_library_and_function() {
    use cudarc::driver::DriverError;
    use cudarc::driver::sys::CUresult;

    let error = LaunchError::Context {
        library: "moe".into(),
        function: "launch".into(),
        error: DriverError(CUresult::CUDA_ERROR_INVALID_CONTEXT),
    }
    .to_string();
    assert!(
        error.starts_with(
            "`launch` of static library `moe` was not called: making its stream's context current \
             on this thread (cuCtxSetCurrent) failed: "
        ),
        "{error}"
    );
    assert!(!error.contains("module"), "{error}");
}
