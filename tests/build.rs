//! Builds the modules of the GPU tests, one target mix per file, when nvcc is available.
//!
//! | module | targets | what the H100 must do |
//! | --- | --- | --- |
//! | `saxpy_sm90` | `sm_90` | load exact SASS |
//! | `saxpy_sm90a` | `sm_90a` | load exact SASS |
//! | `saxpy_blackwell_ptx90` | `sm_100, sm_121, compute_90` | refuse, or JIT when allowed |
//! | `saxpy_blackwell_only` | `sm_100, sm_121` | refuse without loading |
//! | `unary` | `sm_90, sm_100, sm_121` | 52 kernels: the load-cost measurement's large module |
//! | `saxpy_compressed` | `sm_90, sm_100`, `--compress-mode=size` | load compressed SASS |
//! | `unary_ptx` | `sm_100, compute_90` | the same kernels, only PTX for the H100: the JIT start-up baseline |
//! | `arch_guarded` | `sm_90, sm_100, sm_121` | one kernel only Blackwell images define: its wrapper errors on Hopper |
//!
//! and three static libraries of host-launched kernels (`Build::static_library`):
//!
//! | library | targets | what the H100 must do |
//! | --- | --- | --- |
//! | `host_scale` | `sm_90` | pass `Library::check`, run `launch_scale_f32` through the wrapper |
//! | `host_scale_blackwell` | `sm_100, sm_121` | refuse in `Library::check`, before any call |
//! | `host_axpy_sm90a` | `sm_90a`, optional, `int64_t` stream, read-only `float* x` | pass `Library::check`, available; run `launch_axpy_f32` through the wrapper |
//!
//! Without nvcc the GPU tests are compiled out and say so; with `SASSKIT_REQUIRE_TOOLCHAIN=1`
//! a missing nvcc fails the build instead.

const MODULES: &[(&str, &str, &[&str])] = &[
    ("gpu_kernels/saxpy_sm90.cu", "sm_90", &[]),
    ("gpu_kernels/saxpy_sm90a.cu", "sm_90a", &[]),
    (
        "gpu_kernels/saxpy_blackwell_ptx90.cu",
        "sm_100,sm_121,compute_90",
        &[],
    ),
    ("gpu_kernels/saxpy_blackwell_only.cu", "sm_100,sm_121", &[]),
    ("../kernels/unary.cu", "sm_90,sm_100,sm_121", &[]),
    ("gpu_kernels/unary_ptx.cu", "sm_100,compute_90", &[]),
    ("gpu_kernels/arch_guarded.cu", "sm_90,sm_100,sm_121", &[]),
    (
        "gpu_kernels/saxpy_compressed.cu",
        "sm_90,sm_100",
        &["--compress-mode=size"],
    ),
];

const LIBRARIES: &[(&str, &str, &str)] = &[
    ("gpu_kernels/host_scale.cu", "host_scale", "sm_90"),
    (
        "gpu_kernels/host_scale_blackwell.cu",
        "host_scale_blackwell",
        "sm_100,sm_121",
    ),
];

fn main() {
    println!("cargo::rustc-check-cfg=cfg(sasskit_gpu_modules)");
    println!("cargo:rerun-if-env-changed=SASSKIT_REQUIRE_TOOLCHAIN");
    println!("cargo:rerun-if-changed=../kernels/saxpy.cu");
    println!("cargo:rerun-if-changed=../kernels/unary.cu");
    for (file, archs, flags) in MODULES {
        let mut build = sasskit_build::Build::new();
        build.file(file).archs(archs);
        for flag in *flags {
            build.flag(flag);
        }
        match build.try_compile() {
            Ok(_) => {}
            Err(error) if error.is_toolkit() && !toolchain_required() => {
                println!(
                    "cargo:warning=GPU test modules not built, the GPU tests will be skipped: {error}"
                );
                return;
            }
            Err(error) => {
                eprintln!("error: {error}");
                std::process::exit(1);
            }
        }
    }
    for (file, name, archs) in LIBRARIES {
        let library = sasskit_build::Build::new()
            .file(file)
            .archs(archs)
            .static_library(name)
            .try_compile();
        if let Err(error) = library {
            eprintln!("error: {error}");
            std::process::exit(1);
        }
    }
    let optional = sasskit_build::Build::new()
        .file("gpu_kernels/host_scale_sm90a.cu")
        .archs("sm_90a")
        .static_library("host_axpy_sm90a")
        .stream_parameter("*", "stream")
        .read_only("launch_axpy_f32", "x")
        .optional(true)
        .try_compile();
    if let Err(error) = optional {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
    println!("cargo:rustc-cfg=sasskit_gpu_modules");
}

#[allow(clippy::disallowed_methods)] // A build script of the test crate, not library code.
fn toolchain_required() -> bool {
    std::env::var_os("SASSKIT_REQUIRE_TOOLCHAIN").is_some_and(|value| value == "1")
}
