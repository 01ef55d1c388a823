//! A shared header's bindings in the crate's prebuilt folder: written by a refresh, used
//! instead of bindgen (so no libclang) while the header is unchanged, and stale, with a warning
//! or a `check` error, once it changes. A throwaway crate built with cargo (tier 1).

use std::path::Path;

use sasskit_tests::process::{command, failure};
use sasskit_tests::throwaway::Throwaway;
use sasskit_tests::toolchain::{Tool, require_or_skip};

const SHAPE_H: &str = r"#pragma once
#include <stdint.h>
struct Shape { uint8_t rank; uint64_t dims[4]; };
";

const SHAPE_CU: &str = r#"#include "shape.h"
extern "C" __global__ void first_dim(struct Shape shape, uint64_t* out) {
    out[0] = shape.dims[0] + shape.rank;
}
"#;

const BUILD_RS: &str = r#"fn main() {
    sasskit_build::Build::new()
        .file("kernels/shape.cu")
        .shared_header("kernels/shape.h")
        .prebuilt("prebuilt")
        .compile();
}
"#;

/// Added to the prebuilt bindings: a build whose generated code has it took them from the
/// folder, not from bindgen.
const MARK: &str = "// taken from the prebuilt folder\n";

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn prebuilt_bindings_replace_bindgen_until_the_header_changes() {
    let Some(nvcc) = require_or_skip("prebuilt bindings", Tool::Nvcc) else {
        return;
    };
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("prebuilt_bindings");
    let target = sasskit_tests::throwaway::shared_target_dir();
    let krate = Throwaway::new(
        &scratch,
        "bindings_prebuilt",
        &target,
        &nvcc,
        &[("kernels/shape.h", SHAPE_H), ("kernels/shape.cu", SHAPE_CU)],
        "archs = [\"sm_90\"]",
    );
    krate.set_build_rs(BUILD_RS);
    let manifest = krate.dir().join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let text = text.replacen(
        "sasskit-build = { path = ",
        "sasskit-build = { features = [\"bindgen\"], path = ",
        1,
    );
    std::fs::write(&manifest, text).unwrap();

    // The author's refresh writes the bindings and what they were generated from.
    krate.build_ok(&[("SASSKIT_PREBUILD", "refresh")]);
    let folder = krate.dir().join("prebuilt");
    let rust = std::fs::read_to_string(folder.join("shape.bindings.rs")).unwrap();
    assert!(rust.contains("pub struct Shape {"), "{rust}");
    let recorded = std::fs::read_to_string(folder.join("shape.bindings.toml")).unwrap();
    assert!(
        recorded.contains("path = \"kernels/shape.h\""),
        "{recorded}"
    );
    assert!(recorded.contains("clang=-std=c++17"), "{recorded}");

    // Every other build takes them from the folder: bindgen does not run.
    std::fs::write(folder.join("shape.bindings.rs"), format!("{MARK}{rust}")).unwrap();
    let built = krate.build_ok(&[]);
    let generated = std::fs::read_to_string(krate.outputs(&built).join("shape.types.rs")).unwrap();
    assert!(generated.contains(MARK), "{generated}");
    assert!(!stderr(&built).contains("stale"), "{}", stderr(&built));

    // An edited header: `check` fails naming it; a plain build warns and runs bindgen.
    std::fs::write(
        krate.dir().join("kernels/shape.h"),
        format!("{SHAPE_H}// edited\n"),
    )
    .unwrap();
    let checked = krate.build(&[("SASSKIT_PREBUILD", "check")]);
    assert!(!checked.status.success());
    assert!(
        stderr(&checked).contains(
            "the prebuilt bindings of the shared header `kernels/shape.h` in `prebuilt` are \
             stale: `kernels/shape.h` changed since it was prebuilt"
        ),
        "{}",
        failure(&command("cargo build"), &checked)
    );
    let rebuilt = krate.build_ok(&[]);
    assert!(
        stderr(&rebuilt).contains("`prebuilt` are stale (`kernels/shape.h` changed since it was prebuilt): running bindgen"),
        "{}",
        stderr(&rebuilt)
    );
    let generated =
        std::fs::read_to_string(krate.outputs(&rebuilt).join("shape.types.rs")).unwrap();
    assert!(!generated.contains(MARK), "{generated}");
}
