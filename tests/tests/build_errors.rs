//! Every bad build input gets its specific, actionable error: unknown architectures, an nvcc too
//! old for a target, compile errors with file:line, unsupported kernel parameters, bad settings.
//! Tier 0 cases use a fake nvcc; tier 1 cases need the real one.

use std::path::{Path, PathBuf};

use sasskit_build::Build;
use sasskit_tests::toolchain::{Tool, require_or_skip};

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("build_errors")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A build of `source` in `dir`, writing its outputs to `dir/out`.
fn build_in(dir: &Path, source: &str) -> Build {
    std::fs::write(dir.join("k.cu"), source).unwrap();
    let mut build = Build::new();
    build
        .manifest_dir(dir)
        .out_dir(dir.join("out"))
        .file("k.cu");
    build
}

/// A shell script that answers like nvcc 12.8, which lacks sm_121.
#[cfg(unix)]
fn fake_nvcc_12_8(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("nvcc");
    let list = "75 80 86 87 89 90 100 101 120";
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\ncase \"$1\" in\n--version) echo 'Cuda compilation tools, release 12.8, V12.8.93';;\n\
             --list-gpu-code) for sm in {list}; do echo sm_$sm; done;;\n\
             --list-gpu-arch) for sm in {list}; do echo compute_$sm; done;;\n\
             *) echo 'fake nvcc cannot compile' >&2; exit 1;;\nesac\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[cfg(unix)]
#[test]
fn nvcc_without_sm_121_names_itself_its_version_and_the_fix() {
    let dir = scratch("too_old");
    let nvcc = fake_nvcc_12_8(&dir);
    let error = build_in(&dir, "")
        .nvcc(&nvcc)
        .archs("sm_90,sm_121")
        .try_compile()
        .unwrap_err();
    let message = error.to_string();
    assert!(error.is_toolkit(), "{message}");
    assert!(
        message.contains(&format!("nvcc 12.8.93 at `{}`", nvcc.display())),
        "{message}"
    );
    assert!(message.contains("cannot build `sm_121`"), "{message}");
    assert!(
        message.contains("sm_120"),
        "lists what it supports: {message}"
    );
    assert!(
        message.contains("NVCC") && message.contains("CUDA_HOME"),
        "names the fix: {message}"
    );
}

#[cfg(unix)]
#[test]
fn unknown_architecture_is_refused_with_the_supported_list() {
    let dir = scratch("unknown");
    let nvcc = fake_nvcc_12_8(&dir);
    let error = build_in(&dir, "")
        .nvcc(&nvcc)
        .archs("sm_999")
        .try_compile()
        .unwrap_err();
    let message = error.to_string();
    assert!(error.is_config(), "{message}");
    assert!(
        message.contains("unknown GPU architecture `sm_999`"),
        "{message}"
    );
    assert!(message.contains("sm_90, sm_100"), "{message}");
}

#[test]
fn invalid_target_lists_name_the_setting_and_the_accepted_forms() {
    let dir = scratch("invalid");
    for (list, expected) in [
        ("sm90a1", "sm90a1"),
        ("", "empty"),
        ("compute_90", "only PTX"),
        ("native,sm_9x", "sm_9x"),
    ] {
        let error = build_in(&dir, "").archs(list).try_compile().unwrap_err();
        let message = error.to_string();
        assert!(error.is_config(), "{list}: {message}");
        assert!(message.contains(expected), "{list}: {message}");
        assert!(
            message.contains("Build::archs"),
            "{list}: names where the list came from: {message}"
        );
    }
}

#[test]
fn metadata_of_the_wrong_type_is_refused() {
    let dir = scratch("metadata");
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"x\"\n[package.metadata.sasskit]\narchs = 90\n",
    )
    .unwrap();
    let error = build_in(&dir, "").try_compile().unwrap_err();
    assert!(
        error
            .to_string()
            .contains("`archs` in [package.metadata.sasskit]"),
        "{error}"
    );
}

#[test]
fn target_flags_are_refused() {
    let dir = scratch("flags");
    let error = build_in(&dir, "")
        .flag("-arch=sm_90")
        .archs("sm_90")
        .try_compile()
        .unwrap_err();
    assert!(error.to_string().contains("`-arch=sm_90`"), "{error}");
}

#[test]
fn syntax_errors_report_nvccs_message_at_file_and_line() {
    let Some(nvcc) = require_or_skip(
        "syntax_errors_report_nvccs_message_at_file_and_line",
        Tool::Nvcc,
    ) else {
        return;
    };
    let dir = scratch("syntax");
    let source = "extern \"C\" __global__ void k(int* x) {\n    x[0] = 1\n}\n";
    let error = build_in(&dir, source)
        .nvcc(&nvcc)
        .archs("sm_90")
        .try_compile()
        .unwrap_err();
    let message = error.to_string();
    assert!(error.is_compile(), "{message}");
    let position = format!("{}:3: error:", dir.join("k.cu").display());
    assert!(
        message.contains(&position),
        "expected `{position}` in: {message}"
    );
    assert!(message.contains("expected a \";\""), "{message}");
    assert!(
        !dir.join("out/sasskit/k.fatbin").exists(),
        "no half-written output"
    );
}

const UNMAPPABLE: &str = "struct Shape { int rows, cols; };\n\n\
    extern \"C\" __global__ void k(Shape shape, float** rows) {}\n\
    extern \"C\" __global__ void typed(const float* x, float* y) {}\n";

#[test]
fn unmappable_parameters_warn_and_leave_the_kernel_untyped() {
    let Some(nvcc) = require_or_skip(
        "unmappable_parameters_warn_and_leave_the_kernel_untyped",
        Tool::Nvcc,
    ) else {
        return;
    };
    let dir = scratch("param_warning");
    let output = build_in(&dir, UNMAPPABLE)
        .nvcc(&nvcc)
        .archs("sm_90")
        .try_compile()
        .unwrap();
    let module = &output.modules()[0];
    let kernels: Vec<(&str, bool)> = module
        .kernels()
        .iter()
        .map(|kernel| (kernel.name.as_str(), kernel.untyped.is_some()))
        .collect();
    assert_eq!(kernels, [("k", true), ("typed", false)]);
    assert_eq!(module.warnings().len(), 1, "{:?}", module.warnings());
    let warning = &module.warnings()[0];
    for part in [
        format!(
            "{}:3: kernel `k` gets no typed wrapper",
            dir.join("k.cu").display()
        ),
        "parameter `shape` has the type `Shape`".to_owned(),
        "parameter `rows` has the type `float**`".to_owned(),
        "function(\"…\")".to_owned(),
        "Build::require_typed_kernels(true)".to_owned(),
    ] {
        assert!(warning.contains(&part), "`{part}` not in {warning}");
    }
    let manifest = std::fs::read_to_string(module.manifest_path()).unwrap();
    assert!(manifest.contains("untyped = "), "{manifest}");
}

#[test]
fn unmappable_parameters_fail_the_build_when_every_kernel_must_be_typed() {
    let Some(nvcc) = require_or_skip(
        "unmappable_parameters_fail_the_build_when_every_kernel_must_be_typed",
        Tool::Nvcc,
    ) else {
        return;
    };
    let dir = scratch("param_error");
    let error = build_in(&dir, UNMAPPABLE)
        .nvcc(&nvcc)
        .archs("sm_90")
        .require_typed_kernels(true)
        .try_compile()
        .unwrap_err();
    let message = error.to_string();
    assert!(error.is_signature(), "{message}");
    assert!(
        message.contains(&format!("{}:3: kernel `k`", dir.join("k.cu").display())),
        "{message}"
    );
    assert!(
        message.contains("parameter `shape` has the type `Shape`"),
        "{message}"
    );
    assert!(message.contains("supported:"), "{message}");
    assert!(
        message.contains("SASSKIT_REQUIRE_TYPED_KERNELS=1"),
        "{message}"
    );
    assert!(
        !dir.join("out/sasskit/k.fatbin").exists(),
        "no output for a refused build"
    );
}

const ARCH_GUARDED: &str = "extern \"C\" __global__ void everywhere(float* x) { x[0] = 1.0f; }\n\
    #if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 1000\n\
    extern \"C\" __global__ void blackwell_only(float* x, int n) { x[n] = 2.0f; }\n\
    #endif\n";

#[test]
fn kernels_guarded_by_cuda_arch_are_listed_for_their_targets_only() {
    let Some(nvcc) = require_or_skip(
        "kernels_guarded_by_cuda_arch_are_listed_for_their_targets_only",
        Tool::Nvcc,
    ) else {
        return;
    };
    let dir = scratch("arch_guarded");
    let output = build_in(&dir, ARCH_GUARDED)
        .nvcc(&nvcc)
        .archs("sm_90,sm_100,compute_90")
        .try_compile()
        .unwrap();
    let targets: Vec<(&str, Vec<String>)> = output.modules()[0]
        .kernels()
        .iter()
        .map(|kernel| (kernel.name.as_str(), kernel.targets.clone()))
        .collect();
    assert_eq!(
        targets,
        [
            (
                "everywhere",
                vec!["sm_90".into(), "compute_90".into(), "sm_100".into()]
            ),
            ("blackwell_only", vec!["sm_100".into()]),
        ]
    );
}

#[test]
fn a_signature_that_differs_between_architectures_is_refused() {
    let Some(nvcc) = require_or_skip(
        "a_signature_that_differs_between_architectures_is_refused",
        Tool::Nvcc,
    ) else {
        return;
    };
    let dir = scratch("arch_signatures");
    let source = "#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 1000\n\
        extern \"C\" __global__ void k(double* x) {}\n\
        #else\n\
        extern \"C\" __global__ void k(float* x) {}\n\
        #endif\n";
    let error = build_in(&dir, source)
        .nvcc(&nvcc)
        .archs("sm_90,sm_100")
        .try_compile()
        .unwrap_err();
    let message = error.to_string();
    assert!(error.is_signature(), "{message}");
    for part in [
        "kernel `k` has different signatures",
        "void k(float* x)",
        "for sm_90",
        "void k(double* x)",
        "for sm_100",
    ] {
        assert!(message.contains(part), "`{part}` not in {message}");
    }
}

#[test]
fn a_good_build_carries_exactly_the_requested_images() {
    let Some(nvcc) = require_or_skip(
        "a_good_build_carries_exactly_the_requested_images",
        Tool::Nvcc,
    ) else {
        return;
    };
    let dir = scratch("good");
    let source = "#define K(NAME) extern \"C\" __global__ void NAME(const float* x, float* y) { y[0] = x[0]; }\nK(a) K(b)\n";
    let output = build_in(&dir, source)
        .nvcc(&nvcc)
        .archs("sm_90a, sm_100f; compute_90")
        .try_compile()
        .unwrap();
    let module = &output.modules()[0];
    let names: Vec<&str> = module
        .kernels()
        .iter()
        .map(|kernel| kernel.name.as_str())
        .collect();
    assert_eq!(names, ["a", "b"]);
    let bytes = std::fs::read(module.fatbin()).unwrap();
    let fatbin = sasskit_core::FatBinary::parse(&bytes).unwrap();
    let mut listing: Vec<String> = fatbin.images().iter().map(ToString::to_string).collect();
    listing.sort();
    assert_eq!(
        listing,
        ["ptx compute_90 (zstd)", "sass sm_100f", "sass sm_90a"]
    );
}

#[test]
fn a_single_front_end_builds_every_image_from_the_lowest_target_and_says_so() {
    let Some(nvcc) = require_or_skip(
        "a_single_front_end_builds_every_image_from_the_lowest_target_and_says_so",
        Tool::Nvcc,
    ) else {
        return;
    };
    let dir = scratch("single_front_end");
    let output = build_in(&dir, ARCH_GUARDED)
        .nvcc(&nvcc)
        .archs("sm_90,sm_100,sm_121")
        .single_front_end(true)
        .try_compile()
        .unwrap();
    let module = &output.modules()[0];
    let manifest = module.manifest();
    assert_eq!(manifest.module.front_end.as_deref(), Some("compute_90"));
    let bytes = std::fs::read(module.fatbin()).unwrap();
    let fatbin = sasskit_core::FatBinary::parse(&bytes).unwrap();
    let images: Vec<String> = fatbin.images().iter().map(ToString::to_string).collect();
    assert_eq!(images, ["sass sm_90", "sass sm_100", "sass sm_121"]);
    // Every image saw sm_90's `__CUDA_ARCH__`: the Blackwell-only kernel is in none of them.
    let names: Vec<(&str, Vec<String>)> = module
        .kernels()
        .iter()
        .map(|kernel| (kernel.name.as_str(), kernel.targets.clone()))
        .collect();
    assert_eq!(
        names,
        [(
            "everywhere",
            vec!["sm_90".into(), "sm_100".into(), "sm_121".into()]
        )]
    );

    // The default build keeps one front end per target, and says nothing.
    let normal = build_in(&scratch("single_front_end_off"), ARCH_GUARDED)
        .nvcc(&nvcc)
        .archs("sm_90,sm_100,sm_121")
        .try_compile()
        .unwrap();
    assert_eq!(normal.modules()[0].manifest().module.front_end, None);
    assert_eq!(normal.modules()[0].kernels().len(), 2);
}
