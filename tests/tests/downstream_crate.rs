//! A throwaway downstream crate, written as a user would, built end to end with real nvcc:
//! `sasskit-build` in build.rs, `sasskit::kernels!` in main.rs, a typed call that type-checks.

use std::path::Path;

use sasskit_tests::process::{command, output};
use sasskit_tests::toolchain::{Tool, require_or_skip, workspace_root};

const CARGO_TOML: &str = r#"[package]
name = "throwaway"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
sasskit = { path = "ROOT/runtime" }

[build-dependencies]
sasskit-build = { path = "ROOT/build-support" }

[package.metadata.sasskit]
archs = ["sm_90", "sm_121"]

[workspace]
"#;

const BUILD_RS: &str = r#"fn main() {
    sasskit_build::Build::new().file("kernels/scale.cu").compile();
}
"#;

const SCALE_CU: &str = r#"#define SCALE(T, NAME) \
    extern "C" __global__ void NAME(const T* x, T* y, T factor, unsigned int n) { \
        unsigned int i = blockIdx.x * blockDim.x + threadIdx.x; \
        if (i < n) y[i] = x[i] * factor; \
    }
SCALE(float, scale_f32)
SCALE(double, scale_f64)
"#;

const MAIN_RS: &str = r#"sasskit::kernels!(scale);

#[allow(dead_code)]
unsafe fn launch(module: &scale::Module, stream: &sasskit::cudarc::driver::CudaStream,
          x: &sasskit::cudarc::driver::CudaSlice<f64>, y: &mut sasskit::cudarc::driver::CudaSlice<f64>) {
    let config = sasskit::cudarc::driver::LaunchConfig::for_num_elems(16);
    let _ = unsafe { module.scale_f64(stream, config, x, y, 2.0, 16) };
}

fn main() {
    println!("{}", scale::EMBEDDED.images().unwrap().join(", "));
}
"#;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn a_downstream_crate_builds_and_embeds_its_targets() {
    let Some(nvcc) = require_or_skip(
        "a_downstream_crate_builds_and_embeds_its_targets",
        Tool::Nvcc,
    ) else {
        return;
    };
    let root = workspace_root();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("throwaway");
    let _ = std::fs::remove_dir_all(&dir);
    write(
        &dir.join("Cargo.toml"),
        &CARGO_TOML.replace("ROOT", &root.display().to_string()),
    );
    write(&dir.join("build.rs"), BUILD_RS);
    write(&dir.join("kernels/scale.cu"), SCALE_CU);
    write(&dir.join("src/main.rs"), MAIN_RS);
    let target = sasskit_tests::throwaway::shared_target_dir();
    let mut run = command(env!("CARGO"));
    run.arg("run")
        .arg("--quiet")
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", &target)
        .env("NVCC", &nvcc);
    run.env_remove("SASSKIT_ARCHS");
    let result = output(&mut run);
    let stdout = String::from_utf8_lossy(&result.stdout);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        result.status.success(),
        "the throwaway crate failed to build or run:\n{stderr}"
    );
    assert_eq!(
        stdout.trim(),
        "sass sm_90, sass sm_121",
        "targets come from its metadata"
    );
}
