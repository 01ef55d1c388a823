//! Static-library mode: `.cu` files whose host code launches their kernels, compiled into
//! objects with SASS for every target, archived, linked with the static CUDA runtime and called
//! from Rust. Throwaway crates built with cargo and real nvcc behind a logging wrapper (tier 1).

use std::path::{Path, PathBuf};

use sasskit_core::fatbin::find_fat_binaries;
use sasskit_core::library::LibraryManifest;
use sasskit_tests::prebuilt_crate::{nvcc_at_fixed_location, path_without_nvcc};
use sasskit_tests::process::{command, failure, output};
use sasskit_tests::throwaway::Throwaway;
use sasskit_tests::toolchain::{Tool, require_or_skip, workspace_root};

/// A kernel launched from an `extern "C"` host function, and a host function that uses no GPU,
/// which the test program can call on any machine.
const SCALE: &str = r#"#include <cstdint>
#include <cuda_runtime.h>

template <typename T>
__global__ void scale_kernel(T* y, const T* x, T a, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i];
}

extern "C" void launch_scale_f32(float* y, const float* x, float a, int32_t n, cudaStream_t stream) {
    scale_kernel<<<(n + 255) / 256, 256, 0, stream>>>(y, x, a, n);
}

extern "C" int library_answer(void) { return 42; }

// A C API as LLM engines write them: the stream cast to an integer, an input left non-const.
extern "C" void launch_scale_i64_stream(float* y, float* x, float a, int32_t n, int64_t stream) {
    scale_kernel<<<(n + 255) / 256, 256, 0, (cudaStream_t)stream>>>(y, x, a, n);
}
"#;

/// A device-side warning (an unused variable in a kernel), which nvcc prints once per target.
const WARNS: &str = r#"#include <cuda_runtime.h>

__global__ void unused_kernel(float* y) {
    int unused = 3;
    y[threadIdx.x] = 1.0f;
}

extern "C" void launch_unused(float* y, cudaStream_t stream) {
    unused_kernel<<<1, 32, 0, stream>>>(y);
}
"#;

const BROKEN: &str = "extern \"C\" void broken(int n) {\n    undeclared_call(n);\n}\n";

const BUILD_RS: &str = r#"fn main() {
    sasskit_build::Build::new()
        .file("kernels/scale.cu")
        .static_library("scale")
        .stream_parameter("*", "stream")
        .read_only("launch_scale_i64_stream", "x")
        .compile();
}
"#;

const MAIN_RS: &str = r#"sasskit::host_functions!(scale);

use sasskit::cudarc::driver::sys::CUstream;
use sasskit::{BuildFacts, ComputeCapability, DeviceInfo, LoadPolicy};

// The declarations have the exact C types: these coercions fail to compile otherwise.
const _: unsafe extern "C" fn(*mut f32, *const f32, f32, i32, CUstream) =
    scale::ffi::launch_scale_f32;
const _: unsafe extern "C" fn() -> i32 = scale::ffi::library_answer;
// A stream passed as `int64_t` stays `i64`, a read-only `float*` stays `*mut f32`.
const _: unsafe extern "C" fn(*mut f32, *mut f32, f32, i32, i64) =
    scale::ffi::launch_scale_i64_stream;

/// The wrapper takes the stream as `&CudaStream` and the read-only input as a shared buffer:
/// this compiles only if it does. Never called.
#[allow(dead_code)]
fn wrapper_types(
    library: &scale::Library,
    y: &mut sasskit::cudarc::driver::CudaSlice<f32>,
    x: &sasskit::cudarc::driver::CudaSlice<f32>,
    stream: &sasskit::cudarc::driver::CudaStream,
) {
    // SAFETY: never called.
    let _ = unsafe { library.launch_scale_i64_stream(y, x, 2.0, 1, stream) };
}

fn main() {
    // SAFETY: a host function without arguments that touches no GPU.
    println!("answer {}", unsafe { scale::ffi::library_answer() });
    let targets: Vec<String> = scale::LIBRARY.targets.iter().map(ToString::to_string).collect();
    println!("targets {targets:?}");
    let h100 = DeviceInfo {
        index: 0,
        name: "NVIDIA H100 80GB HBM3".into(),
        compute_capability: ComputeCapability::new(9, 0),
    };
    match sasskit::check_library_for(&scale::LIBRARY, &h100, LoadPolicy::SassOnly) {
        Ok(report) => println!("{report}"),
        Err(error) => println!("refused: {error}"),
    }
    let _ = BuildFacts::UNKNOWN;
    if !sasskit::driver_present() {
        match scale::Library::check_every_device() {
            Ok(_) => println!("checked without a driver?"),
            Err(error) => println!("no driver: {error}"),
        }
    }
}
"#;

/// cudarc's bindings for the GPU machines' driver, without asking an nvcc on `PATH`.
const CUDARC: &[(&str, &str)] = &[("CUDARC_CUDA_VERSION", "13000")];

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("static_library")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The suite's one target directory for throwaway crates.
fn shared_target() -> PathBuf {
    sasskit_tests::throwaway::shared_target_dir()
}

fn library_crate(test: &str, nvcc: &Path, files: &[(&str, &str)]) -> Throwaway {
    let sasskit = workspace_root().join("runtime");
    let krate = Throwaway::with_dependencies(
        &scratch(test),
        test,
        &shared_target(),
        nvcc,
        &format!("sasskit = {{ path = {:?} }}", sasskit.display().to_string()),
        files,
        "archs = [\"sm_90\", \"sm_100\"]",
    );
    krate.set_build_rs(BUILD_RS);
    krate
}

/// The manifest of the `scale` library: both targets' SASS, the functions in source order, and
/// how the marked parameters cross.
fn assert_manifest(out: &Path) {
    let manifest = LibraryManifest::from_toml(
        &std::fs::read_to_string(out.join("scale.library.toml")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest.library.targets, ["sm_90", "sm_100"]);
    let images: Vec<String> = manifest
        .images
        .iter()
        .map(|image| format!("{} {}", image.kind, image.arch))
        .collect();
    assert_eq!(images, ["sass sm_90", "sass sm_100"]);
    let names: Vec<&str> = manifest.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "launch_scale_f32",
            "library_answer",
            "launch_scale_i64_stream"
        ]
    );
    let marked: Vec<String> = manifest.functions[2]
        .params
        .iter()
        .map(|param| param.ty.to_string())
        .collect();
    assert_eq!(
        marked,
        [
            "*mut f32",
            "readonly *mut f32",
            "f32",
            "i32",
            "stream as i64"
        ]
    );
}

#[test]
fn host_launched_kernels_build_into_a_verified_static_library_that_links() {
    let Some(nvcc) = require_or_skip("static_library: build and link", Tool::Nvcc) else {
        return;
    };
    let krate = library_crate(
        "library_links",
        &nvcc,
        &[("kernels/scale.cu", SCALE), ("src/main.rs", MAIN_RS)],
    );
    let build = krate.build_ok(CUDARC);
    let out = krate.outputs(&build);

    let compiles: Vec<String> = krate
        .nvcc_calls()
        .into_iter()
        .filter(|call| call.starts_with("-c "))
        .collect();
    assert_eq!(compiles.len(), 1, "one object: {compiles:?}");
    let compile = &compiles[0];
    for part in [
        "-gencode arch=compute_90,code=sm_90",
        "-gencode arch=compute_100,code=sm_100",
        "-Xcompiler -fPIC",
    ] {
        assert!(compile.contains(part), "`{part}` in {compile}");
    }
    assert!(!compile.contains("-arch"), "{compile}");
    assert!(
        krate
            .nvcc_calls()
            .iter()
            .any(|call| call.contains("-U__CUDA_ARCH__")),
        "a host-pass preprocessing run"
    );

    assert_manifest(&out);
    assert!(out.join("libscale.a").is_file());

    // The program links the archive and the static runtime, and runs without a GPU.
    let mut run = krate.cargo(&["run", "--quiet"]);
    run.envs(CUDARC.iter().copied());
    let ran = output(&mut run);
    assert!(ran.status.success(), "{}", failure(&run, &ran));
    let stdout = String::from_utf8_lossy(&ran.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "answer 42", "{stdout}");
    assert_eq!(lines[1], "targets [\"sm_90\", \"sm_100\"]", "{stdout}");
    assert!(
        lines[2].starts_with(
            "sasskit: checked static library scale on device 0 \"NVIDIA H100 80GB HBM3\" \
             (cc 9.0): sass sm_90 (exact); embedded [sass sm_90, sass sm_100]; nvcc "
        ),
        "{stdout}"
    );
    if let Some(line) = lines.get(3) {
        assert!(line.starts_with("no driver: "), "{stdout}");
    }

    assert_executable_holds_sass_without_cudart(&krate);

    // A second build reuses the object without running nvcc at all: no nvcc -c, and no
    // preprocessing, since no file it read changed.
    let calls_before = krate.nvcc_calls().len();
    std::fs::write(krate.dir().join("build.rs"), format!("{BUILD_RS}\n")).unwrap();
    krate.build_ok(CUDARC);
    let again: Vec<String> = krate.nvcc_calls()[calls_before..]
        .iter()
        .filter(|call| call.starts_with("-c ") || call.starts_with("-E "))
        .cloned()
        .collect();
    assert!(
        again.is_empty(),
        "the unchanged object is reused without preprocessing: {again:?}"
    );
    let manifest = LibraryManifest::from_toml(
        &std::fs::read_to_string(out.join("scale.library.toml")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest.functions.len(), 3, "{:?}", manifest.functions);

    // A changed source is preprocessed and compiled again.
    std::fs::write(
        krate.dir().join("kernels/scale.cu"),
        format!("{SCALE}\nextern \"C\" int library_question(void) {{ return 6 * 7; }}\n"),
    )
    .unwrap();
    let calls_before = krate.nvcc_calls().len();
    krate.build_ok(CUDARC);
    let calls = &krate.nvcc_calls()[calls_before..];
    assert!(
        calls.iter().any(|call| call.starts_with("-E ")),
        "{calls:?}"
    );
    assert!(
        calls.iter().any(|call| call.starts_with("-c ")),
        "{calls:?}"
    );
}

#[test]
fn library_errors_name_the_fix() {
    let Some(nvcc) = require_or_skip("static_library: errors", Tool::Nvcc) else {
        return;
    };
    let krate = library_crate(
        "library_errors",
        &nvcc,
        &[
            ("kernels/scale.cu", SCALE),
            ("kernels/broken.cu", BROKEN),
            ("kernels/warns.cu", WARNS),
        ],
    );
    krate.set_build_rs(
        "fn main() {\n    sasskit_build::Build::new().file(\"kernels/broken.cu\").static_library(\"broken\").compile();\n}\n",
    );
    let failed = krate.build(CUDARC);
    assert!(!failed.status.success());
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(stderr.contains("broken.cu:2"), "file:line: {stderr}");

    krate.set_build_rs(
        "fn main() {\n    sasskit_build::Build::new().file(\"kernels/scale.cu\").static_library(\"scale\").host_pointer(\"launch_scale_f32\", \"nope\").compile();\n}\n",
    );
    let failed = krate.build(CUDARC);
    assert!(!failed.status.success());
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        stderr.contains(
            "`StaticLibrary::host_pointer(\"launch_scale_f32\", \"nope\")` matches nothing: \
             `launch_scale_f32` ("
        ) && stderr.contains(
            "has no parameter `nope`; its parameters are [y, x, a, n, stream]; fix the \
             parameter name, or remove the call"
        ),
        "{stderr}"
    );

    // A stream mark on a parameter of another type is an error, for one function as for `*`.
    for function in ["launch_scale_f32", "*"] {
        krate.set_build_rs(&format!(
            "fn main() {{\n    sasskit_build::Build::new().file(\"kernels/scale.cu\").static_library(\"scale\").stream_parameter({function:?}, \"n\").compile();\n}}\n"
        ));
        let failed = krate.build(CUDARC);
        assert!(!failed.status.success());
        let stderr = String::from_utf8_lossy(&failed.stderr);
        assert!(
            stderr.contains(&format!(
                "`StaticLibrary::stream_parameter({function:?}, \"n\")` marks the parameter `n` \
                 of `launch_scale_f32` ("
            )) && stderr.contains(
                "as a stream, but its type is `int32_t`; the mark takes `void*`, `int64_t`, \
                 `uint64_t`, `intptr_t` or `uintptr_t` (`cudaStream_t` needs no mark): change the \
                 C type, or remove the call"
            ),
            "{stderr}"
        );
    }

    // The same file built as a fat binary: one warning that points to the static library.
    krate.set_build_rs(
        "fn main() {\n    sasskit_build::Build::new().file(\"kernels/scale.cu\").compile();\n}\n",
    );
    let built = krate.build(CUDARC);
    let stderr = String::from_utf8_lossy(&built.stderr);
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains("this file launches its kernels from host code"))
        .collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].contains(
            "its 1 kernel with C++ linkage gets no Rust wrapper; build it with \
             `Build::static_library(\"<name>\")`"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("it has C++ linkage"), "{stderr}");

    // nvcc's device-side warning, printed once per target, is shown once, with the targets.
    krate.set_build_rs(
        "fn main() {\n    sasskit_build::Build::new().file(\"kernels/warns.cu\").static_library(\"warns\").compile();\n}\n",
    );
    let built = krate.build(CUDARC);
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let stderr = String::from_utf8_lossy(&built.stderr);
    let shown: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains("warning #177-D"))
        .collect();
    assert_eq!(shown.len(), 1, "{stderr}");
    assert!(
        shown[0].contains("warns.cu:4: warning #177-D: variable \"unused\" was declared but never referenced (nvcc for sm_90, sm_100)"),
        "{stderr}"
    );

    krate.set_build_rs(
        "fn main() {\n    sasskit_build::Build::new().file(\"kernels/scale.cu\").static_library(\"2fast\").compile();\n}\n",
    );
    let failed = krate.build(CUDARC);
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(stderr.contains("cannot name a static library"), "{stderr}");
}

const PREBUILT_BUILD_RS: &str = r#"fn main() {
    sasskit_build::Build::new()
        .file("kernels/scale.cu")
        .prebuilt("prebuilt")
        .static_library("scale")
        .stream_parameter("*", "stream")
        .read_only("launch_scale_i64_stream", "x")
        .compile();
}
"#;

/// `cargo build` of the crate with no nvcc anywhere: `NVCC`, `CUDA_HOME` and `CUDA_PATH` unset,
/// and no `PATH` folder that holds one.
fn build_without_nvcc(krate: &Throwaway) -> std::process::Output {
    let mut cargo = krate.cargo(&["build", "--message-format=json"]);
    cargo
        .env("PATH", path_without_nvcc())
        .env_remove("NVCC")
        .env_remove("CUDA_HOME")
        .env_remove("CUDA_PATH");
    for (key, value) in CUDARC {
        cargo.env(key, value);
    }
    output(&mut cargo)
}

#[test]
fn a_prebuilt_library_links_without_a_toolkit_and_refuses_stale_inputs() {
    let Some(nvcc) = require_or_skip("static_library: prebuilt", Tool::Nvcc) else {
        return;
    };
    if nvcc_at_fixed_location() {
        eprintln!(
            "skipped: an nvcc at /usr/local/cuda is found without PATH, so no build here lacks one"
        );
        return;
    }
    let krate = library_crate(
        "library_prebuilt",
        &nvcc,
        &[("kernels/scale.cu", SCALE), ("src/main.rs", MAIN_RS)],
    );
    krate.set_build_rs(PREBUILT_BUILD_RS);
    let triple = sasskit_tests::toolchain::host_triple();
    let folder = krate.dir().join("prebuilt").join(format!("scale.{triple}"));

    refresh_writes_the_library_its_runtime_and_inputs(&krate, &folder, &triple);

    // A user with no toolkit at all: no nvcc runs, the library and its runtime come from the
    // folder, and the program links and runs.
    let calls = krate.nvcc_calls().len();
    let built = build_without_nvcc(&krate);
    assert!(
        built.status.success(),
        "{}",
        failure(&command("cargo build"), &built)
    );
    assert_eq!(krate.nvcc_calls().len(), calls, "no nvcc ran");
    let out = krate.outputs(&built);
    assert_manifest(&out);
    let installed = LibraryManifest::from_toml(
        &std::fs::read_to_string(out.join("scale.library.toml")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        installed.library.origin,
        sasskit_core::manifest::Origin::Prebuilt
    );
    assert!(installed.prebuilt.is_none());
    assert!(Path::new(&installed.functions[0].file).is_absolute());
    let stdout = String::from_utf8_lossy(&built.stdout);
    let toolkit = nvcc
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .display()
        .to_string();
    assert!(
        !stdout.contains(&toolkit),
        "nothing linked from the toolkit: {stdout}"
    );
    let binary = krate.target_dir().join("debug").join("library_prebuilt");
    let ran = output(&mut command(&binary));
    assert!(
        String::from_utf8_lossy(&ran.stdout).contains("answer 42"),
        "{}",
        failure(&command("library_prebuilt"), &ran)
    );

    stale_and_damaged_libraries_are_refused(&krate, &folder, &triple);
}

/// The author's refresh: compressed objects, the runtime, the inputs relative to the crate.
fn refresh_writes_the_library_its_runtime_and_inputs(
    krate: &Throwaway,
    folder: &Path,
    triple: &str,
) {
    krate.build_ok(&[CUDARC[0], ("SASSKIT_PREBUILD", "refresh")]);
    let compiles: Vec<String> = krate
        .nvcc_calls()
        .into_iter()
        .filter(|call| call.starts_with("-c "))
        .collect();
    assert_eq!(compiles.len(), 1, "{compiles:?}");
    assert!(
        compiles[0].contains("--compress-mode=size"),
        "{}",
        compiles[0]
    );
    for file in ["libscale.a", "libcudart_static.a", "scale.library.toml"] {
        assert!(
            folder.join(file).is_file(),
            "{file} in {}",
            folder.display()
        );
    }
    let recorded = std::fs::read_to_string(folder.join("scale.library.toml")).unwrap();
    let recorded = LibraryManifest::from_toml(&recorded).unwrap();
    let inputs = recorded.prebuilt.as_ref().expect("recorded inputs");
    let paths: Vec<&str> = inputs
        .inputs
        .iter()
        .map(|input| input.path.as_str())
        .collect();
    assert_eq!(paths, ["kernels/scale.cu"]);
    assert!(
        inputs.settings.contains(&format!("target={triple}")),
        "{:?}",
        inputs.settings
    );
    assert_eq!(recorded.functions[0].file, "kernels/scale.cu");
}

/// A changed source is an error naming it without nvcc, a warning and a rebuild with it; a
/// current library whose archive is damaged is refused, not linked.
fn stale_and_damaged_libraries_are_refused(krate: &Throwaway, folder: &Path, triple: &str) {
    std::fs::write(
        krate.dir().join("kernels/scale.cu"),
        SCALE.replace("an input left non-const", "an input left non-const."),
    )
    .unwrap();
    let failed = build_without_nvcc(krate);
    assert!(!failed.status.success());
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        stderr.contains(&format!(
            "the prebuilt library `scale` in `prebuilt/scale.{triple}` is stale: \
             `kernels/scale.cu` changed since it was prebuilt; and there is no nvcc to build it"
        )),
        "{stderr}"
    );
    let checked = krate.build(&[CUDARC[0], ("SASSKIT_PREBUILD", "check")]);
    assert!(!checked.status.success());
    assert!(
        String::from_utf8_lossy(&checked.stderr)
            .contains("`kernels/scale.cu` changed since it was prebuilt"),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    let rebuilt = krate.build_ok(CUDARC);
    let stderr = String::from_utf8_lossy(&rebuilt.stderr);
    assert!(
        stderr.contains("the prebuilt library `scale` in")
            && stderr.contains("building it with nvcc"),
        "{stderr}"
    );

    // A current library whose archive is damaged is refused, not linked.
    std::fs::write(krate.dir().join("kernels/scale.cu"), SCALE).unwrap();
    std::fs::write(folder.join("libscale.a"), b"!<arch>\nnot an object").unwrap();
    let failed = build_without_nvcc(krate);
    assert!(!failed.status.success());
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        stderr.contains("its archive holds 0 fat binaries for 1 objects"),
        "{stderr}"
    );
}

/// The executable carries the object's fat binary, SASS for both targets, and needs no
/// libcudart.so.
fn assert_executable_holds_sass_without_cudart(krate: &Throwaway) {
    let binary = krate.target_dir().join("debug").join("library_links");
    let bytes = std::fs::read(&binary).unwrap();
    let held: Vec<String> = find_fat_binaries(&bytes)
        .into_iter()
        .filter_map(|found| found.result.ok())
        .flat_map(|fatbin| {
            fatbin
                .images()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    for image in ["sass sm_90", "sass sm_100"] {
        assert!(held.iter().any(|held| held == image), "{image} in {held:?}");
    }
    let ldd = output(command("ldd").arg(&binary));
    if ldd.status.success() {
        let needed = String::from_utf8_lossy(&ldd.stdout);
        assert!(!needed.contains("libcudart"), "{needed}");
    }
}
