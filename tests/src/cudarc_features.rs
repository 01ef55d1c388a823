//! Throwaway crates that use sasskit next to a cudarc dependency of their own, with another
//! crate's features, as `tests/tests/cudarc_features.rs` builds them and `cargo xtask
//! gpu-bundle` ships one of them:
//!
//! * [`CANDLE`]: cudarc with exactly candle's features, `dynamic-linking` among them. It links
//!   libcuda, libnvrtc, libcublas, libcublasLt and libcurand, which this machine does not have:
//!   it is linked against [stub libraries](crate::stub_libs) with the real `SONAME`s, and its
//!   tests run against them (no working driver: errors, never panics). Its program, built in
//!   release, starts with the real libraries on a GPU machine and checks saxpy there.
//! * [`DEFAULTS`]: cudarc with its default features (`fallback-dynamic-loading`).
//!
//! ```text
//! target/cudarc-features/
//!   crates/candle-features/    the crates, rewritten on every use
//!   crates/cudarc-defaults/
//!   cuda-stubs/lib64/          the stub libraries (CUDA_HOME for cudarc's build script)
//!   target/                    one target directory for both, kept between runs
//! ```

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::process::{command, env_var, failure, output};
use crate::stub_libs::{CANDLE_LIBRARIES, Stubs};
use crate::throwaway::Throwaway;
use crate::toolchain::workspace_root;

/// A throwaway crate of this module: its name and its cudarc dependency line.
#[derive(Debug, Clone, Copy)]
pub struct FeatureCrate {
    /// The package name.
    pub name: &'static str,
    /// Its `cudarc = …` line, verbatim.
    pub cudarc: &'static str,
    /// `src/lib.rs`.
    pub lib_rs: &'static str,
    /// `src/main.rs`.
    pub main_rs: &'static str,
}

/// candle's cudarc line (candle-core 0.9), verbatim.
pub const CANDLE_CUDARC: &str = r#"cudarc = { version = "0.19", default-features = false, features = ["std", "cublas", "cublaslt", "curand", "driver", "nvrtc", "f16", "f8", "cuda-version-from-build-system", "dynamic-linking"] }"#;

/// The variable that tells the candle crate's tests that they run against the stub libraries,
/// so that they insist on seeing no driver.
pub const EXPECT_STUBS_ENV: &str = "CANDLE_FEATURES_EXPECT_STUBS";

/// The crate with candle's cudarc features.
pub const CANDLE: FeatureCrate = FeatureCrate {
    name: "candle-features",
    cudarc: CANDLE_CUDARC,
    lib_rs: CANDLE_LIB_RS,
    main_rs: CANDLE_MAIN_RS,
};

/// The crate with cudarc's default features.
pub const DEFAULTS: FeatureCrate = FeatureCrate {
    name: "cudarc-defaults",
    cudarc: r#"cudarc = "0.19""#,
    lib_rs: "//! A crate with cudarc's default features and sasskit.\n\nsasskit::kernels!(pub saxpy);\n",
    main_rs: DEFAULTS_MAIN_RS,
};

/// The folder of this module's crates, stubs and target directory.
pub fn work_dir() -> PathBuf {
    workspace_root().join("target").join("cudarc-features")
}

/// The stub libraries, built (or found up to date) under [`work_dir`].
///
/// Not safe to call from two processes at once; the tests share one result per process.
pub fn stubs() -> Result<Stubs, String> {
    Stubs::build(
        &work_dir().join("cuda-stubs"),
        &cudarc_source()?,
        CANDLE_LIBRARIES,
    )
}

/// The folder of the cudarc package the workspace's `Cargo.lock` selects, which the crates use
/// too (they get a copy of that lock file).
pub fn cudarc_source() -> Result<PathBuf, String> {
    let mut cargo = command(env!("CARGO"));
    cargo
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(workspace_root().join("Cargo.toml"));
    let result = output(&mut cargo);
    if !result.status.success() {
        return Err(failure(&cargo, &result));
    }
    let metadata = String::from_utf8_lossy(&result.stdout);
    metadata
        .split("\"manifest_path\":\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter_map(|manifest| Path::new(manifest).parent())
        .find(|dir| {
            dir.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| {
                    name == "cudarc"
                        || name.strip_prefix("cudarc-").is_some_and(|version| {
                            version.starts_with(|c: char| c.is_ascii_digit())
                        })
                })
        })
        .map(Path::to_owned)
        .ok_or_else(|| "`cargo metadata` of the workspace lists no cudarc package".to_owned())
}

/// One of the crates, written under [`work_dir`], with what it needs to build and run.
#[derive(Debug)]
pub struct Written {
    krate: Throwaway,
    stubs: Stubs,
    path: OsString,
}

impl Written {
    /// Writes `spec` (its sources, saxpy from `kernels/`, the workspace's `Cargo.lock`) with
    /// `nvcc` as its build's nvcc.
    ///
    /// # Panics
    ///
    /// When a file cannot be written or read.
    pub fn new(spec: &FeatureCrate, nvcc: &Path, stubs: Stubs) -> Result<Written, String> {
        let root = workspace_root();
        let saxpy = fs::read_to_string(root.join("kernels").join("saxpy.cu"))
            .map_err(|error| format!("reading kernels/saxpy.cu: {error}"))?;
        let work = work_dir();
        let sasskit = format!(
            "sasskit = {{ path = {:?} }}",
            root.join("runtime").display().to_string()
        );
        let krate = Throwaway::with_dependencies(
            &work.join("crates"),
            spec.name,
            &work.join("target"),
            nvcc,
            &format!("{}\n{sasskit}", spec.cudarc),
            &[
                ("kernels/saxpy.cu", &saxpy),
                ("src/lib.rs", spec.lib_rs),
                ("src/main.rs", spec.main_rs),
            ],
            "",
        );
        let lock = krate.dir().join("Cargo.lock");
        fs::copy(root.join("Cargo.lock"), &lock)
            .map_err(|error| format!("copying Cargo.lock to {}: {error}", lock.display()))?;
        // cudarc's `cuda-version-from-build-system` runs `nvcc --version` from PATH, as a
        // candle user's build does: this nvcc comes first.
        let mut dirs: Vec<PathBuf> = nvcc.parent().map(Path::to_owned).into_iter().collect();
        dirs.extend(env_var("PATH").iter().flat_map(std::env::split_paths));
        let path = std::env::join_paths(dirs).map_err(|error| format!("PATH: {error}"))?;
        Ok(Written { krate, stubs, path })
    }

    /// The crate.
    pub fn krate(&self) -> &Throwaway {
        &self.krate
    }

    /// `cargo <args>` in the crate: nvcc first on `PATH`, no `CUDARC_CUDA_VERSION` (so cudarc
    /// asks that nvcc), `CUDA_HOME` at the stubs (cudarc links from its `lib64`) and
    /// `LD_LIBRARY_PATH` at them (programs start with them).
    pub fn cargo(&self, args: &[&str]) -> Command {
        let mut cargo = self.krate.cargo(args);
        cargo
            .env("PATH", &self.path)
            .env_remove("CUDARC_CUDA_VERSION")
            .env("CUDA_HOME", self.stubs.cuda_home())
            .env("LD_LIBRARY_PATH", self.stubs.lib_dir());
        cargo
    }
}

/// Builds [`CANDLE`]'s program in release, with cudarc's bindings for CUDA 13.0 (the GPU
/// machine's driver: a program that links the libraries needs every function it uses to exist
/// in them), and copies it to `to`.
pub fn build_candle_program(nvcc: &Path, to: &Path) -> Result<(), String> {
    let written = Written::new(&CANDLE, nvcc, stubs()?)?;
    let mut cargo = written.cargo(&["build", "--release"]);
    cargo.env("CUDARC_CUDA_VERSION", "13000");
    let result = output(&mut cargo);
    if !result.status.success() {
        return Err(failure(&cargo, &result));
    }
    let program = written
        .krate()
        .target_dir()
        .join("release")
        .join(CANDLE.name);
    fs::copy(&program, to)
        .map(drop)
        .map_err(|error| format!("copying {} to {}: {error}", program.display(), to.display()))
}

const CANDLE_LIB_RS: &str = r#"//! A crate with candle's cudarc dependency line and sasskit, written by sasskit's tests
//! (`tests/src/cudarc_features.rs`).

use std::error::Error;
use std::sync::Arc;

// This crate's own cudarc: the same crate as `sasskit::cudarc`, so its types are sasskit's.
use cudarc::driver::{CudaContext, CudaStream, LaunchConfig};

sasskit::kernels!(pub saxpy);

/// What saxpy on the GPU gave, against the CPU.
#[derive(Debug)]
pub struct Check {
    /// Values within 1e-5 (relative) of the CPU's.
    pub matched: usize,
    /// Values compared.
    pub total: usize,
    /// sasskit's load report.
    pub report: String,
}

/// Loads saxpy through the generated `Module::load` on `ctx`'s device, runs it on `n` values
/// and compares with the CPU.
pub fn saxpy_against_the_cpu(ctx: &Arc<CudaContext>, n: u32) -> Result<Check, Box<dyn Error>> {
    let stream = ctx.default_stream();
    let module = saxpy::Module::load(ctx)?;
    let x: Vec<f32> = (0..n).map(|i| (i % 1000) as f32 * 0.25).collect();
    let y: Vec<f32> = (0..n).map(|i| 1.0 - (i % 777) as f32).collect();
    let a = 1.5f32;
    let dx = stream.clone_htod(&x)?;
    let mut dy = stream.clone_htod(&y)?;
    // SAFETY: one thread per value, guarded by `n`; both buffers hold `n` floats.
    unsafe { module.saxpy(&stream, LaunchConfig::for_num_elems(n), i32::try_from(n)?, a, &dx, &mut dy) }?;
    let got = stream.clone_dtoh(&dy)?;
    let matched = got
        .iter()
        .zip(x.iter().zip(&y))
        .filter(|&(&got, (&x, &y))| {
            let want = a.mul_add(x, y);
            (got - want).abs() <= 1e-5 * want.abs().max(1.0)
        })
        .count();
    Ok(Check { matched, total: got.len(), report: module.report().to_string() })
}

/// Uses each of the other libraries candle's features link (the linker keeps only those a
/// program uses): compiles a kernel with nvrtc, creates cuBLAS and cuBLASLt handles, and fills
/// a buffer from cuRAND.
pub fn other_libraries(stream: &Arc<CudaStream>) -> Result<String, Box<dyn Error>> {
    let ptx = nothing_through_nvrtc()?;
    let _blas = cudarc::cublas::CudaBlas::new(stream.clone())?;
    let _blas_lt = cudarc::cublaslt::CudaBlasLT::new(stream.clone())?;
    let rng = cudarc::curand::CudaRng::new(7, stream.clone())?;
    let mut noise = stream.alloc_zeros::<f32>(1024)?;
    rng.fill_with_uniform(&mut noise)?;
    let noise = stream.clone_dtoh(&noise)?;
    let uniform = noise.iter().filter(|value| (0.0..=1.0).contains(*value)).count();
    Ok(format!(
        "nvrtc: {} bytes of PTX; cuBLAS, cuBLASLt: handles created; cuRAND: {uniform} of {} values in [0, 1]",
        ptx.len(),
        noise.len()
    ))
}

/// An empty kernel compiled by nvrtc, as PTX text.
pub fn nothing_through_nvrtc() -> Result<String, cudarc::nvrtc::CompileError> {
    cudarc::nvrtc::compile_ptx("extern \"C\" __global__ void nothing() {}").map(|ptx| ptx.to_src())
}

#[cfg(test)]
mod tests {
    use sasskit::cudarc::driver::sys::CUresult;
    use sasskit::cudarc::driver::{CudaContext, DeviceRepr};
    use sasskit::{ComputeCapability, DeviceInfo, LoadError, LoadPolicy};

    fn device(major: u32, minor: u32) -> DeviceInfo {
        DeviceInfo {
            index: 0,
            name: format!("a described cc {major}.{minor} device").into(),
            compute_capability: ComputeCapability::new(major, minor),
        }
    }

    #[test]
    fn the_embedded_module_is_checked_without_a_driver() {
        let plan = sasskit::check(&super::saxpy::EMBEDDED, &device(9, 0), LoadPolicy::SassOnly).unwrap();
        assert_eq!(plan.chosen().to_string(), "sm_90");
        let error = sasskit::check(&super::saxpy::EMBEDDED, &device(8, 0), LoadPolicy::SassOnly).unwrap_err();
        assert!(matches!(error, LoadError::NoCompatibleImage { .. }), "{error}");
    }

    #[test]
    fn sasskits_float8_and_half_are_cudarcs_device_reprs() {
        fn device_repr<T: DeviceRepr>(value: T) -> T {
            value
        }
        let fp8 = device_repr(sasskit::float8::F8E4M3::from_f32(1.5));
        assert_eq!(fp8.to_f32(), 1.5);
        device_repr(sasskit::float8::F8E5M2::from_f32(-2.0));
        device_repr(sasskit::half::f16::from_f32(0.5));
        device_repr(sasskit::half::bf16::from_f32(0.5));
    }

    #[test]
    fn without_a_working_driver_everything_is_an_error_not_a_panic() {
        let stubs = std::env::var_os("CANDLE_FEATURES_EXPECT_STUBS").is_some();
        if sasskit::driver_present() {
            assert!(!stubs, "sasskit took the stub libcuda for a driver");
            eprintln!("skipped: a CUDA driver is present");
            return;
        }
        let error = sasskit::load_on_every_device(&super::saxpy::EMBEDDED, LoadPolicy::SassOnly).unwrap_err();
        assert!(matches!(error, LoadError::NoDriver), "{error}");
        assert!(error.to_string().contains("stub"), "{error}");
        // The program links libcuda (`dynamic-linking`), so cudarc can be called: the stub's
        // answer is an error. There is no context, so `saxpy::Module::load` cannot be reached.
        let Err(error) = CudaContext::new(0) else {
            panic!("a context on a stub libcuda");
        };
        if stubs {
            assert_eq!(error.0, CUresult::CUDA_ERROR_STUB_LIBRARY);
        }
        let load = LoadError::Driver { context: "creating a context on device 0".into(), error };
        assert!(load.to_string().contains("stub library"), "{load}");
        // nvrtc needs no context; its stub fails too.
        assert!(super::nothing_through_nvrtc().is_err());
    }
}
"#;

const CANDLE_MAIN_RS: &str = r#"//! saxpy through the generated `Module::load`, built with candle's cudarc features, against
//! the CPU. Exits with 2 when there is no working CUDA driver.

use std::process::ExitCode;

use sasskit::cudarc::driver::CudaContext;

fn main() -> ExitCode {
    if !sasskit::driver_present() {
        eprintln!("candle-features: {}", sasskit::LoadError::NoDriver);
        return ExitCode::from(2);
    }
    let ctx = match CudaContext::new(0) {
        Ok(ctx) => ctx,
        Err(error) => {
            eprintln!("candle-features: creating a context on device 0 failed: {error}");
            return ExitCode::FAILURE;
        }
    };
    let check = match candle_features::saxpy_against_the_cpu(&ctx, 1 << 20) {
        Ok(check) => check,
        Err(error) => {
            eprintln!("candle-features: saxpy: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", check.report);
    println!(
        "saxpy in a crate with candle's cudarc features (dynamic-linking): {} of {} values matched",
        check.matched, check.total
    );
    match candle_features::other_libraries(&ctx.default_stream()) {
        Ok(line) => println!("{line}"),
        Err(error) => {
            eprintln!("candle-features: the other CUDA libraries: {error}");
            return ExitCode::FAILURE;
        }
    }
    if check.matched == check.total { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
"#;

const DEFAULTS_MAIN_RS: &str = r#"//! cudarc's default features open the CUDA libraries at run time: without a working driver,
//! sasskit says so instead of cudarc panicking.

use cudarc_defaults::saxpy;

fn main() {
    match sasskit::load_on_every_device(&saxpy::EMBEDDED, sasskit::LoadPolicy::SassOnly) {
        Ok(modules) => println!("loaded on {} devices", modules.len()),
        Err(error) => println!("{error}"),
    }
}
"#;
