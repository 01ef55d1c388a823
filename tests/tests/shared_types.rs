//! Shared headers end to end: bindgen's Rust types, their layouts in the manifests, the check
//! against the sizes nvcc compiled, and the errors for headers clang cannot read and for structs
//! passed without the `bindgen` feature. Needs nvcc and libclang; skips without them unless
//! `SASSKIT_REQUIRE_TOOLCHAIN=1`.

use std::path::{Path, PathBuf};

use sasskit_build::{Build, Error};
use sasskit_core::shared::{SharedTypes, TypeKind};
use sasskit_tests::process::{command, output};
use sasskit_tests::toolchain::{Tool, require_or_skip, toolchain_required, workspace_root};

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("shared_types")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A build of `k.cu` with the shared header `shape.h`, in `dir`, writing to `dir/out`.
fn build_with_header(dir: &Path, nvcc: &Path, header: &str, source: &str) -> Build {
    std::fs::write(dir.join("shape.h"), header).unwrap();
    std::fs::write(dir.join("k.cu"), source).unwrap();
    let mut build = Build::new();
    build
        .manifest_dir(dir)
        .out_dir(dir.join("out"))
        .nvcc(nvcc)
        .archs("sm_90")
        .file("k.cu")
        .shared_header("shape.h");
    build
}

/// Whether the test must skip because libclang is missing; fails instead when the toolchain is
/// required.
fn libclang_missing(test: &str, error: &Error) -> bool {
    let missing = error.is_toolkit() && error.to_string().contains("libclang");
    if missing {
        assert!(!toolchain_required(), "{test}: {error}");
        eprintln!("skipped: {test} needs libclang: {error}");
    }
    missing
}

const SHAPE_H: &str = r"#pragma once
#include <stdint.h>
enum Order { ORDER_ROWS = 0, ORDER_COLS = 1 };
struct Shape { uint8_t rank; uint64_t dims[4]; enum Order order; };
typedef struct Shape Shape_t;
#define MAX_RANK 4
";

const SHAPE_CU: &str = r#"#include "shape.h"
extern "C" __global__ void size_of(Shape_t shape, enum Order order, const struct Shape* more, uint64_t* out) {
    out[0] = shape.dims[0] * (order == ORDER_ROWS ? 1 : 2) + more[0].rank;
}
"#;

#[cfg(unix)]
#[test]
fn kernels_take_shared_types_with_the_layout_nvcc_compiled() {
    const TEST: &str = "kernels_take_shared_types_with_the_layout_nvcc_compiled";
    let Some(nvcc) = require_or_skip(TEST, Tool::Nvcc) else {
        return;
    };
    let dir = scratch("good");
    let nvcc = logging_nvcc(&dir, &nvcc);
    let output = match build_with_header(&dir, &nvcc, SHAPE_H, SHAPE_CU).try_compile() {
        Ok(output) => output,
        Err(error) if libclang_missing(TEST, &error) => return,
        Err(error) => panic!("{error}"),
    };
    let kernel = &output.modules()[0].kernels()[0];
    let types: Vec<String> = kernel.params.iter().map(|p| p.ty.to_string()).collect();
    assert_eq!(types, ["Shape", "Order", "*const Shape", "*mut u64"]);
    let used: Vec<(&str, u64, u64)> = output.modules()[0]
        .manifest()
        .types
        .iter()
        .map(|ty| (ty.name.as_str(), ty.size, ty.align))
        .collect();
    assert_eq!(used, [("Shape", 48, 8), ("Order", 4, 4)]);

    let types = SharedTypes::from_toml(
        &std::fs::read_to_string(dir.join("out/sasskit/shape.types.toml")).unwrap(),
    )
    .unwrap();
    assert_eq!(types.module, "shape");
    assert_eq!(types.get("Order").map(|ty| ty.kind), Some(TypeKind::Enum));
    let rust = std::fs::read_to_string(dir.join("out/sasskit").join(&types.rust)).unwrap();
    for item in [
        "pub struct Shape {",
        "pub struct Order(pub ::core::ffi::c_uint);",
        "pub const ORDER_COLS: Order = Order(1);",
        "pub type Shape_t = Shape;",
        "pub const MAX_RANK: u32 = 4;",
        "[\"Size of Shape\"]",
    ] {
        assert!(rust.contains(item), "`{item}` not in:\n{rust}");
    }
    assert!(
        !rust.contains("uint64_t"),
        "only the header's own items, not <stdint.h>'s"
    );

    // The device layout probe ran once, for sm_90, and reruns only when its inputs change.
    let probes = || {
        std::fs::read_to_string(dir.join("nvcc.log"))
            .unwrap()
            .lines()
            .filter(|call| call.contains("shape.layout.cu"))
            .count()
    };
    assert_eq!(probes(), 1);
    let probe = std::fs::read_to_string(dir.join("out/sasskit/shape.layout.cu")).unwrap();
    assert!(
        probe.contains("static_assert(offsetof(Shape, order) == 40,"),
        "{probe}"
    );
    build_with_header(&dir, &nvcc, SHAPE_H, SHAPE_CU)
        .try_compile()
        .unwrap();
    assert_eq!(probes(), 1, "an unchanged header is not probed again");
    let edited = format!("{SHAPE_H}// edited\n");
    build_with_header(&dir, &nvcc, &edited, SHAPE_CU)
        .try_compile()
        .unwrap();
    assert_eq!(probes(), 2, "an edited header is probed again");
}

/// A wrapper around `nvcc` that appends each command line to `dir/nvcc.log`.
#[cfg(unix)]
fn logging_nvcc(dir: &Path, nvcc: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("nvcc-logging");
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
            dir.join("nvcc.log").display(),
            nvcc.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// Builds `source` with `header`, expecting a failure, and returns it (`None` to skip).
fn build_error(test: &str, name: &str, header: &str, source: &str) -> Option<(PathBuf, Error)> {
    let nvcc = require_or_skip(test, Tool::Nvcc)?;
    let dir = scratch(name);
    match build_with_header(&dir, &nvcc, header, source).try_compile() {
        Ok(_) => panic!("{test}: the build passed"),
        Err(error) if libclang_missing(test, &error) => None,
        Err(error) => Some((dir, error)),
    }
}

#[test]
fn a_struct_laid_out_differently_on_the_device_is_a_build_error() {
    // The device pass sees one more field than the host: the Rust type would be 4 bytes short.
    let header = "#pragma once\nstruct Skewed {\n  int a;\n#ifdef __CUDACC__\n  int device_only;\n#endif\n};\n";
    let source = "#include \"shape.h\"\nextern \"C\" __global__ void k(Skewed s, int* out) { out[0] = s.a; }\n";
    let Some((dir, error)) = build_error(
        "a_struct_laid_out_differently_on_the_device_is_a_build_error",
        "skewed",
        header,
        source,
    ) else {
        return;
    };
    let message = error.to_string();
    assert!(error.is_layout(), "{message}");
    for part in [
        "the shared header `",
        "lays out its types differently on the device (nvcc for compute_90",
        "sizeof(Skewed) is 4 on the host (clang, for bindgen) but not in this nvcc compilation",
        "shape.layout.cu",
    ] {
        assert!(message.contains(part), "`{part}` not in: {message}");
    }
    assert!(
        !dir.join("out/sasskit/k.fatbin").exists() && !dir.join("out/sasskit/k.toml").exists(),
        "nothing written for a build that failed its check"
    );
}

#[test]
fn a_struct_reached_only_through_pointers_is_checked_field_by_field() {
    // Same size on both sides, fields swapped on the device: the cubin's parameter sizes (one
    // pointer) cannot see it, the layout probe must.
    let header = "#pragma once\nstruct Swapped {\n#ifdef __CUDACC__\n  float b; int a;\n#else\n  int a; float b;\n#endif\n};\n";
    let source = "#include \"shape.h\"\nextern \"C\" __global__ void k(const Swapped* s, int* out) { out[0] = s->a; }\n";
    let Some((_, error)) = build_error(
        "a_struct_reached_only_through_pointers_is_checked_field_by_field",
        "swapped",
        header,
        source,
    ) else {
        return;
    };
    let message = error.to_string();
    assert!(error.is_layout(), "{message}");
    assert!(
        message.contains("offsetof(Swapped, a) is 0 on the host"),
        "{message}"
    );
    assert!(
        message.contains("offsetof(Swapped, b) is 4 on the host"),
        "{message}"
    );
    assert!(!message.contains("sizeof(Swapped)"), "{message}");
}

#[test]
fn a_header_clang_cannot_parse_is_reported_at_file_and_line() {
    const TEST: &str = "a_header_clang_cannot_parse_is_reported_at_file_and_line";
    let Some(nvcc) = require_or_skip(TEST, Tool::Nvcc) else {
        return;
    };
    let dir = scratch("bad_header");
    let header = "#pragma once\nstruct Broken {\n  int a\n};\n";
    let error = match build_with_header(&dir, &nvcc, header, SHAPE_CU).try_compile() {
        Ok(_) => panic!("a header with a syntax error was accepted"),
        Err(error) if libclang_missing(TEST, &error) => return,
        Err(error) => error,
    };
    let message = error.to_string();
    assert!(error.is_header(), "{message}");
    assert!(message.contains("bindgen could not read"), "{message}");
    assert!(message.contains("shape.h:3:"), "{message}");
}

#[test]
fn a_missing_or_clashing_header_names_the_setting() {
    let dir = scratch("missing");
    std::fs::write(dir.join("k.cu"), "").unwrap();
    let error = Build::new()
        .manifest_dir(&dir)
        .out_dir(dir.join("out"))
        .nvcc("/nonexistent/nvcc")
        .file("k.cu")
        .shared_header("a/types.h")
        .shared_header("b/types.h")
        .try_compile()
        .unwrap_err();
    assert!(error.is_config(), "{error}");
    assert!(
        error
            .to_string()
            .contains("would both be the module `types`"),
        "{error}"
    );
    let Some(nvcc) = require_or_skip("a_missing_or_clashing_header_names_the_setting", Tool::Nvcc)
    else {
        return;
    };
    let error = Build::new()
        .manifest_dir(&dir)
        .out_dir(dir.join("out"))
        .nvcc(&nvcc)
        .archs("sm_90")
        .file("k.cu")
        .shared_header("nope.h")
        .try_compile()
        .unwrap_err();
    assert!(error.is_config(), "{error}");
    assert!(
        error.to_string().contains(&format!(
            "the shared header `{}` does not exist",
            dir.join("nope.h").display()
        )),
        "{error}"
    );
}

/// A crate whose build script uses sasskit-build without the `bindgen` feature.
fn crate_without_the_feature(root: &Path, name: &str, build_rs: &str) -> PathBuf {
    let dir = root.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::create_dir_all(dir.join("kernels")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n\
             [build-dependencies]\nsasskit-build = {{ path = {:?} }}\n\n[workspace]\n",
            workspace_root().join("build-support").display().to_string()
        ),
    )
    .unwrap();
    std::fs::write(dir.join("build.rs"), build_rs).unwrap();
    std::fs::write(dir.join("src/main.rs"), "fn main() {}\n").unwrap();
    std::fs::write(dir.join("kernels/shape.h"), SHAPE_H).unwrap();
    std::fs::write(dir.join("kernels/k.cu"), SHAPE_CU).unwrap();
    dir
}

#[test]
fn without_the_bindgen_feature_a_struct_parameter_names_the_feature() {
    let Some(nvcc) = require_or_skip(
        "without_the_bindgen_feature_a_struct_parameter_names_the_feature",
        Tool::Nvcc,
    ) else {
        return;
    };
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("without_bindgen");
    let target = sasskit_tests::throwaway::shared_target_dir();
    // A kernel taking a struct still ships, untyped, with a warning that names the feature;
    // when every kernel must be typed, the same text fails the build.
    let cases = [
        (
            "struct_parameter",
            "fn main() { sasskit_build::Build::new().file(\"kernels/k.cu\").archs(\"sm_90\").compile(); }\n",
            true,
            "kernel `size_of` gets no typed wrapper: parameter `shape` has the type `Shape_t`, a struct defined in",
        ),
        (
            "struct_parameter_required",
            "fn main() { sasskit_build::Build::new().file(\"kernels/k.cu\").archs(\"sm_90\").require_typed_kernels(true).compile(); }\n",
            false,
            "kernel `size_of` gets no typed wrapper: parameter `shape` has the type `Shape_t`, a struct defined in",
        ),
        (
            "shared_header_call",
            "fn main() { sasskit_build::Build::new().file(\"kernels/k.cu\").archs(\"sm_90\").shared_header(\"kernels/shape.h\").compile(); }\n",
            false,
            "`Build::shared_header(\"kernels/shape.h\")` needs the `bindgen` feature",
        ),
    ];
    for (name, build_rs, passes, expected) in cases {
        let dir = crate_without_the_feature(&root, name, build_rs);
        let result = output(
            command(env!("CARGO"))
                .arg("build")
                .current_dir(&dir)
                .env("CARGO_TARGET_DIR", &target)
                .env("NVCC", &nvcc)
                .env_remove("SASSKIT_ARCHS"),
        );
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(
            result.status.success(),
            passes,
            "{name}: the build should {}:\n{stderr}",
            if passes { "pass" } else { "fail" }
        );
        assert!(
            stderr.contains(expected),
            "{name}: `{expected}` not in:\n{stderr}"
        );
        assert!(
            stderr.contains("features = [\"bindgen\"]"),
            "{name}: the fix is not in:\n{stderr}"
        );
    }
}
