//! A crate that ships its fat binaries prebuilt, as its author writes it and as its users get it
//! from crates.io: written here, refreshed with nvcc through `cargo-sasskit`'s library,
//! packaged by `cargo package`, unpacked and built somewhere with no nvcc at all. The prebuilt
//! test and the GPU bundle share it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::process::{command, failure, output};
use crate::toolchain::workspace_root;

/// The crate's name (and its binary's).
pub const NAME: &str = "prebuilt-kernels";

/// The header the kernels include, whose edits the tests make.
pub const HEADER_PATH: &str = "kernels/common.cuh";

/// Its contents as written.
pub const HEADER: &str = "#pragma once\n// The offset `scale` adds.\n#define OFFSET 0.5f\n";

const KERNEL: &str = r#"#include "common.cuh"

// y = a * x + OFFSET
extern "C" __global__ void scale(float* y, const float* x, float a, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i] + OFFSET;
}

// y[i] = start + i
extern "C" __global__ void iota(int* y, int start, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = start + i;
}
"#;

const LIB_RS: &str = "//! Two CUDA kernels, shipped as prebuilt SASS for sm_90, sm_100 and sm_121.

sasskit::kernels!(pub scale);
";

const MAIN_RS: &str = r#"//! Runs both kernels on device 0 against the CPU, or says why it did not.

use std::process::ExitCode;

use prebuilt_kernels::scale;
use sasskit::cudarc::driver::{CudaContext, LaunchConfig};
use sasskit::LoadPolicy;

const N: usize = 100_000;

fn main() -> ExitCode {
    // Decided before any driver call: a metadata-only build has nothing to run.
    match sasskit::load_on_every_device(&scale::EMBEDDED, LoadPolicy::SassOnly) {
        Err(sasskit::LoadError::NoDriver) | Err(sasskit::LoadError::NoDevice) => {
            println!("no CUDA device here: the kernels were not run (skipped)");
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
        Ok(_) => {}
    }
    match run() {
        Ok(report) => {
            println!("{report}");
            println!("prebuilt kernels match the CPU reference");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<String, Box<dyn std::error::Error>> {
    let ctx = CudaContext::new(0)?;
    let stream = ctx.default_stream();
    let module = scale::Module::load(&ctx)?;
    let x: Vec<f32> = (0..N).map(|i| (i % 1000) as f32 * 0.25).collect();
    let dx = stream.clone_htod(&x)?;
    let mut dy = stream.alloc_zeros::<f32>(N)?;
    let mut di = stream.alloc_zeros::<i32>(N)?;
    let config = LaunchConfig::for_num_elems(N as u32);
    // SAFETY: one thread per element, guarded by `n`; every buffer holds N elements.
    unsafe {
        module.scale(&stream, config, &mut dy, &dx, 3.0, N as i32)?;
        module.iota(&stream, config, &mut di, 7, N as i32)?;
    }
    let y = stream.clone_dtoh(&dy)?;
    let ints = stream.clone_dtoh(&di)?;
    for i in 0..N {
        let want = 3.0f32.mul_add(x[i], 0.5);
        if (y[i] - want).abs() > 1e-5 {
            return Err(format!("scale[{i}] = {}, want {want}", y[i]).into());
        }
        if ints[i] != 7 + i as i32 {
            return Err(format!("iota[{i}] = {}, want {}", ints[i], 7 + i).into());
        }
    }
    Ok(module.report().to_string())
}
"#;

const XTASK_MAIN: &str = r#"//! The crate's own CI tasks: `verify <binary> <targets>`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [command, binary, targets] = args.as_slice() else {
        eprintln!("usage: xtask verify <binary> <targets>");
        return ExitCode::FAILURE;
    };
    assert_eq!(command, "verify");
    let required = sasskit_core::TargetList::parse(targets).expect("a target list");
    match cargo_sasskit::verify::run(binary.as_ref(), &required) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
"#;

/// The author's copy: a workspace with the crate at its root and an `xtask`.
#[derive(Debug)]
pub struct Author {
    dir: PathBuf,
    target_dir: PathBuf,
}

impl Author {
    /// Writes the crate into `dir` (emptied first), building into `target_dir`.
    ///
    /// # Panics
    ///
    /// When the files cannot be written.
    pub fn write(dir: &Path, target_dir: &Path) -> Author {
        let _ = std::fs::remove_dir_all(dir);
        let root = workspace_root();
        let path = |folder: &str| format!("{:?}", root.join(folder).display().to_string());
        let cargo_toml = format!(
            "[package]\nname = \"{NAME}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\
             license = \"MIT OR Apache-2.0\"\n\
             description = \"CUDA kernels shipped as prebuilt SASS\"\n\
             exclude = [\"xtask\"]\n\n\
             [dependencies]\nsasskit = {{ version = \"0.1.0\", path = {} }}\n\n\
             [build-dependencies]\nsasskit-build = {{ version = \"0.1.0\", path = {} }}\n\n\
             [package.metadata.sasskit]\narchs = [\"sm_90\", \"sm_100\", \"sm_121\"]\n\
             prebuilt = \"prebuilt\"\n\n[workspace]\nmembers = [\"xtask\"]\n",
            path("runtime"),
            path("build-support"),
        );
        let xtask_toml = format!(
            "[package]\nname = \"xtask\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\ncargo-sasskit = {{ path = {} }}\nsasskit-core = {{ path = {} }}\n",
            path("cargo-sasskit"),
            path("core"),
        );
        for (file, contents) in [
            ("Cargo.toml", cargo_toml.as_str()),
            (
                "build.rs",
                "fn main() {\n    sasskit_build::Build::new().file(\"kernels/scale.cu\").compile();\n}\n",
            ),
            ("src/lib.rs", LIB_RS),
            ("src/main.rs", MAIN_RS),
            ("kernels/scale.cu", KERNEL),
            (HEADER_PATH, HEADER),
            ("xtask/Cargo.toml", xtask_toml.as_str()),
            ("xtask/src/main.rs", XTASK_MAIN),
        ] {
            write(&dir.join(file), contents);
        }
        Author {
            dir: dir.to_owned(),
            target_dir: target_dir.to_owned(),
        }
    }

    /// The crate's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `cargo sasskit prebuild` (or `--check`) through the library, with `nvcc`.
    pub fn prebuild(&self, nvcc: &Path, check: bool) -> Result<(), cargo_sasskit::Error> {
        cargo_sasskit::prebuild::Prebuild::new()
            .manifest_path(self.dir.join("Cargo.toml"))
            .package(NAME)
            .check(check)
            .env("NVCC", nvcc)
            .env("CARGO_TARGET_DIR", &self.target_dir)
            .env("CUDARC_CUDA_VERSION", "13000")
            .run()
    }

    /// `cargo package`, as for crates.io (the lock file is left out: sasskit's crates are
    /// path dependencies here, not in the registry); the `.crate` file.
    ///
    /// # Panics
    ///
    /// When cargo fails.
    pub fn package(&self) -> PathBuf {
        let mut cargo = command(env!("CARGO"));
        cargo
            .args([
                "package",
                "--no-verify",
                "--allow-dirty",
                "--exclude-lockfile",
            ])
            .arg("-p")
            .arg(NAME)
            .current_dir(&self.dir)
            .env("CARGO_TARGET_DIR", &self.target_dir);
        let result = output(&mut cargo);
        assert!(result.status.success(), "{}", failure(&cargo, &result));
        self.target_dir
            .join("package")
            .join(format!("{NAME}-0.1.0.crate"))
    }
}

/// The user's copy: the unpacked `.crate`, built with sasskit's crates patched in from this
/// repository (they are not on crates.io) and no nvcc anywhere.
#[derive(Debug)]
pub struct Consumer {
    dir: PathBuf,
    target_dir: PathBuf,
}

impl Consumer {
    /// Unpacks `crate_file` into `root` (emptied first).
    ///
    /// # Panics
    ///
    /// When `tar` fails.
    pub fn unpack(crate_file: &Path, root: &Path, target_dir: &Path) -> Consumer {
        let _ = std::fs::remove_dir_all(root);
        std::fs::create_dir_all(root).unwrap();
        let mut tar = command("tar");
        tar.arg("xzf").arg(crate_file).arg("-C").arg(root);
        let result = output(&mut tar);
        assert!(result.status.success(), "{}", failure(&tar, &result));
        Consumer {
            dir: root.join(format!("{NAME}-0.1.0")),
            target_dir: target_dir.to_owned(),
        }
    }

    /// The unpacked crate's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The target folder.
    pub fn target_dir(&self) -> &Path {
        &self.target_dir
    }

    /// `cargo <args>` in the unpacked crate with no nvcc anywhere: `NVCC`, `CUDA_HOME` and
    /// `CUDA_PATH` unset, every `PATH` folder that holds an nvcc left out, sasskit's crates
    /// patched in.
    pub fn cargo(&self, args: &[&str]) -> Command {
        let mut cargo = command(env!("CARGO"));
        let root = workspace_root();
        cargo.args(args);
        for (name, folder) in [
            ("sasskit", "runtime"),
            ("sasskit-build", "build-support"),
            ("sasskit-core", "core"),
            ("sasskit-macros", "macros"),
        ] {
            cargo.arg("--config").arg(format!(
                "patch.crates-io.{name}.path={:?}",
                root.join(folder).display().to_string()
            ));
        }
        cargo
            .current_dir(&self.dir)
            .env("CARGO_TARGET_DIR", &self.target_dir)
            .env("PATH", path_without_nvcc())
            .env("CUDARC_CUDA_VERSION", "13000")
            .env_remove("NVCC")
            .env_remove("CUDA_HOME")
            .env_remove("CUDA_PATH")
            .env_remove("SASSKIT_ARCHS")
            .env_remove("SASSKIT_CACHE_DIR")
            .env_remove("SASSKIT_PREBUILD");
        cargo
    }

    /// `cargo build --message-format=json` (plus `envs`), with no nvcc.
    pub fn build(&self, envs: &[(&str, &OsString)]) -> Output {
        let mut cargo = self.cargo(&["build", "--message-format=json-render-diagnostics"]);
        for (key, value) in envs {
            cargo.env(key, value);
        }
        output(&mut cargo)
    }

    /// The built binary.
    pub fn binary(&self) -> PathBuf {
        self.target_dir.join("debug").join(NAME)
    }
}

/// Whether an nvcc would still be found without `PATH` and the variables
/// [`Consumer::cargo`] clears: the fixed location sasskit also tries.
pub fn nvcc_at_fixed_location() -> bool {
    Path::new("/usr/local/cuda/bin/nvcc").exists()
}

/// The manifest the last build wrote for `module`, from the `OUT_DIR` cargo reported in
/// `build`'s JSON messages.
///
/// # Panics
///
/// When the build reported no `OUT_DIR` for the crate or the manifest cannot be read.
pub fn built_manifest(build: &Output, module: &str) -> sasskit_core::manifest::Manifest {
    let stdout = String::from_utf8_lossy(&build.stdout);
    let out_dir = stdout
        .lines()
        .filter(|line| line.contains("\"reason\":\"build-script-executed\""))
        .filter(|line| line.contains(NAME))
        .find_map(|line| {
            let rest = &line[line.find("\"out_dir\":\"")? + 11..];
            Some(PathBuf::from(&rest[..rest.find('"')?]))
        })
        .expect("cargo reported the build script's OUT_DIR");
    let path =
        sasskit_core::out_dir::folder(&out_dir).join(sasskit_core::out_dir::manifest_file(module));
    sasskit_core::manifest::Manifest::from_toml(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// `PATH` without the folders that hold an `nvcc`.
pub fn path_without_nvcc() -> OsString {
    let path = crate::process::env_var("PATH").unwrap_or_default();
    let kept: Vec<PathBuf> = std::env::split_paths(&path)
        .filter(|dir| !dir.join("nvcc").exists())
        .collect();
    std::env::join_paths(kept).unwrap_or_default()
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}
