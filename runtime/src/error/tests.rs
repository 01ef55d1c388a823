//! Every message names the device, the images, what is missing and the fix.

use cudarc::driver::DriverError;
use cudarc::driver::sys::CUresult;
use sasskit_core::{Arch, FatBinary};

use super::*;
use crate::ComputeCapability;

fn h100() -> DeviceInfo {
    DeviceInfo {
        index: 0,
        name: "NVIDIA H100 80GB HBM3".into(),
        compute_capability: ComputeCapability::new(9, 0),
    }
}

fn sm(n: u32) -> Target {
    Target::Sass(Arch::plain(n))
}

fn no_compatible_image() -> LoadError {
    LoadError::NoCompatibleImage {
        module: "saxpy".into(),
        device: h100(),
        embedded: vec!["sass sm_100".into(), "sass sm_121".into()],
        required: sm(90),
        static_library: false,
    }
}

fn ptx_too_new() -> LoadError {
    LoadError::PtxTooNew {
        module: "saxpy".into(),
        device: h100(),
        ptx: Target::Ptx(Arch::plain(90)),
        ptx_isa: (9, 5),
        driver_cuda: Some((13, 0)),
        log: Some(
            "\nptxas application ptx input, line 9; fatal : Unsupported .version 9.5\n".into(),
        ),
    }
}

/// One of every variant, for the checks that apply to all messages.
fn every_variant() -> Vec<LoadError> {
    let corrupt = FatBinary::parse(b"nope").unwrap_err();
    vec![
        LoadError::NoDriver,
        LoadError::NoDevice,
        LoadError::Driver {
            context: "loading module `saxpy` (sass sm_90) on device 0 (cuModuleLoadData)".into(),
            error: DriverError(CUresult::CUDA_ERROR_OUT_OF_MEMORY),
        },
        LoadError::CorruptFatbin {
            module: "saxpy".into(),
            error: corrupt,
        },
        no_compatible_image(),
        LoadError::JitRefused {
            module: "saxpy".into(),
            device: h100(),
            ptx: Target::Ptx(Arch::plain(80)),
            embedded: vec!["ptx compute_80 (zstd)".into()],
            required: sm(90),
            static_library: false,
        },
        ptx_too_new(),
        LoadError::KernelNotInImage {
            module: "gemm".into(),
            kernel: "tcgen05_gemm".into(),
            device: Box::new(h100()),
            loaded: sm(90),
            targets: vec!["sm_100".into(), "sm_121".into()],
        },
        LoadError::NoSuchKernel {
            module: "saxpy".into(),
            kernel: "sapxy".into(),
            known: vec![],
        },
        LoadError::EveryDevice(vec![(0, no_compatible_image())]),
    ]
}

#[test]
fn messages_are_lower_case_and_end_without_a_period() {
    for error in every_variant() {
        let message = error.to_string();
        let first = message.chars().next().unwrap();
        assert!(!first.is_uppercase(), "{message}");
        assert!(!message.ends_with('.'), "{message}");
    }
}

#[test]
fn errors_can_cross_threads() {
    fn check<E: std::error::Error + Send + Sync + 'static>() {}
    check::<LoadError>();
}

#[test]
fn no_compatible_image_names_device_images_and_fix() {
    assert_eq!(
        no_compatible_image().to_string(),
        "module `saxpy` has no image that runs on device 0 \"NVIDIA H100 80GB HBM3\" (cc 9.0): \
         it embeds [sass sm_100, sass sm_121]; add sm_90 to SASSKIT_ARCHS or to archs = [...] \
         in [package.metadata.sasskit] (or to `Build::archs` in build.rs, which overrides both) \
         and rebuild"
    );
}

#[test]
fn jit_refused_names_both_ways_out() {
    let message = every_variant()[5].to_string();
    assert!(
        message.starts_with("module `saxpy` has no SASS for device 0"),
        "{message}"
    );
    assert!(message.contains("only PTX (compute_80)"), "{message}");
    assert!(
        message.contains("it embeds [ptx compute_80 (zstd)]"),
        "{message}"
    );
    assert!(message.contains("add sm_90 to SASSKIT_ARCHS"), "{message}");
    assert!(
        message.ends_with("`LoadPolicy::AllowJit` or SASSKIT_ALLOW_JIT=1"),
        "{message}"
    );
}

#[test]
fn ptx_too_new_blames_the_toolkit_and_names_the_fix() {
    assert_eq!(
        ptx_too_new().to_string(),
        "the toolkit that built the PTX of module `saxpy` (compute_90, PTX ISA 9.5) is newer than \
         the driver of device 0 \"NVIDIA H100 80GB HBM3\" (cc 9.0), which supports \
         CUDA 13.0; build SASS for this GPU (add sm_90 to SASSKIT_ARCHS or to archs = [...] in \
         [package.metadata.sasskit] (or to `Build::archs` in build.rs, which overrides both) and \
         rebuild) or update the driver; the driver said: ptxas application ptx input, line 9; \
         fatal : Unsupported .version 9.5"
    );
}

#[test]
fn driver_errors_name_the_code_and_a_hint() {
    let error = LoadError::Driver {
        context: "loading module `saxpy` (sass sm_90) on device 0 (cuModuleLoadData)".into(),
        error: DriverError(CUresult::CUDA_ERROR_NO_BINARY_FOR_GPU),
    };
    let message = error.to_string();
    assert!(
        message.starts_with(
            "loading module `saxpy` (sass sm_90) on device 0 (cuModuleLoadData) failed: \
             CUDA_ERROR_NO_BINARY_FOR_GPU"
        ),
        "{message}"
    );
    assert!(
        message.contains("report this as a sasskit bug"),
        "{message}"
    );
    assert!(error.source().is_some());
}

#[test]
fn no_such_kernel_lists_the_known_ones() {
    let error = LoadError::NoSuchKernel {
        module: "saxpy".into(),
        kernel: "sapxy".into(),
        known: vec!["saxpy".into(), "daxpy".into()],
    };
    assert_eq!(
        error.to_string(),
        "module `saxpy` has no kernel `sapxy`: its build manifest lists [saxpy, daxpy]; check \
         the name, and declare the kernel `extern \"C\"` so that its symbol is not mangled"
    );
}

#[test]
fn a_kernel_not_in_the_loaded_image_names_device_image_and_targets() {
    let error = LoadError::KernelNotInImage {
        module: "gemm".into(),
        kernel: "tcgen05_gemm".into(),
        device: Box::new(h100()),
        loaded: sm(90),
        targets: vec!["sm_100".into(), "sm_121".into()],
    };
    assert_eq!(
        error.to_string(),
        "kernel `tcgen05_gemm` of module `gemm` is not in the sm_90 image loaded on device 0 \
         \"NVIDIA H100 80GB HBM3\" (cc 9.0): the source defines it only for sm_100, sm_121 (it \
         is guarded by `#if __CUDA_ARCH__`); run it on a device those targets serve, or check \
         `has_kernel` and take another path on this one"
    );
}

#[test]
fn every_device_lists_each_failure_on_its_own_line() {
    let mut other = no_compatible_image();
    if let LoadError::NoCompatibleImage { device, .. } = &mut other {
        device.index = 3;
        device.name = "NVIDIA B200".into();
        device.compute_capability = ComputeCapability::new(10, 0);
    }
    let error = LoadError::EveryDevice(vec![(0, no_compatible_image()), (3, other)]);
    let message = error.to_string();
    let lines: Vec<&str> = message.lines().collect();
    assert_eq!(
        lines[0],
        "the module cannot be loaded on every device: 2 of them failed"
    );
    assert!(
        lines[1].contains("device 0 \"NVIDIA H100 80GB HBM3\" (cc 9.0)"),
        "{message}"
    );
    assert!(
        lines[2].contains("device 3 \"NVIDIA B200\" (cc 10.0)"),
        "{message}"
    );
    assert_eq!(lines.len(), 3);
    assert_eq!(
        error.source().map(ToString::to_string),
        Some(no_compatible_image().to_string())
    );
}

#[test]
fn wrapped_errors_are_sources() {
    let variants = every_variant();
    assert!(
        variants[3]
            .source()
            .unwrap()
            .to_string()
            .contains("corrupt fat binary")
    );
    assert!(variants[2].source().is_some(), "the driver's error");
    assert!(variants[0].source().is_none());
    assert!(variants[4].source().is_none());
}

/// Clippy's `result_large_err` warns about functions returning errors over 128 bytes, in
/// programs that return a `LoadError` too.
#[test]
fn errors_are_small_enough_to_return() {
    assert!(
        std::mem::size_of::<LoadError>() <= 128,
        "{}",
        std::mem::size_of::<LoadError>()
    );
}

#[test]
fn no_driver_says_why_and_names_the_library_and_the_fix() {
    let message = LoadError::NoDriver.to_string();
    assert!(message.contains("libcuda.so.1"), "{message}");
    assert!(
        message.ends_with(
            "install the NVIDIA driver, or add the folder that holds the real libcuda.so.1 to \
             LD_LIBRARY_PATH, ahead of any folder of stubs"
        ),
        "{message}"
    );
    if !crate::driver_present() {
        assert!(message.starts_with("no CUDA driver: "), "{message}");
    }
}

#[test]
fn a_stub_driver_library_is_named_as_one() {
    let error = LoadError::Driver {
        context: "creating the primary context of device 0 (cuDevicePrimaryCtxRetain)".into(),
        error: DriverError(CUresult::CUDA_ERROR_STUB_LIBRARY),
    };
    let message = error.to_string();
    assert!(message.contains("CUDA_ERROR_STUB_LIBRARY"), "{message}");
    assert!(message.contains("a stub library"), "{message}");
}
