//! Build-script helper of [sasskit](https://docs.rs/sasskit): compiles a crate's CUDA sources
//! ahead of time into fat binaries that carry SASS, native machine code, for every target GPU
//! architecture, and checks that they do.
//!
//! ```no_run
//! // in build.rs, inside `fn main`
//! sasskit_build::Build::new()
//!     .file("kernels/saxpy.cu")
//!     .file("kernels/reduce.cu")
//!     .compile();
//! ```
//!
//! For each `.cu` file this
//!
//! 1. finds nvcc (`NVCC`, `CUDA_HOME`/`CUDA_PATH`, `PATH`, `/usr/local/cuda`) and refuses
//!    targets it cannot build, saying which nvcc it found and what it supports;
//! 2. preprocesses the file (`nvcc -E`) and reads the signature of every `extern "C"
//!    __global__` kernel, so that `sasskit::kernels!` can generate typed wrappers;
//! 3. compiles it with one `-gencode arch=compute_XY,code=sm_XY` per target (never `-arch`,
//!    which would also embed PTX), in parallel across files within cargo's jobserver;
//! 4. parses the result and fails the build if any requested target has no image, or if a
//!    kernel's parameters in the compiled cubin differ from the signature read in step 2;
//! 5. writes, atomically, into `$OUT_DIR/sasskit/`:
//!
//! ```text
//! $OUT_DIR/sasskit/
//! ├── saxpy.fatbin   the fat binary, embedded by `sasskit::kernels!(saxpy)`
//! └── saxpy.toml     its manifest: targets, images, kernels, nvcc, build key
//! ```
//!
//! 6. prints `cargo:rerun-if-changed` for every source and included header and
//!    `cargo:rerun-if-env-changed` for every environment variable it read.
//!
//! # Shared host/device types
//!
//! With the `bindgen` feature, [`Build::shared_header`] runs bindgen on a C header that the `.cu`
//! files include and writes `#[repr(C)]` Rust types for its structs, unions and enums (and its
//! constants), which `sasskit::shared_types!` includes. Kernels then take those types by value
//! and through pointers; the build fails when the size of such a parameter differs between
//! bindgen's layout and the cubin nvcc compiled. Without the feature, a kernel taking a struct
//! fails the build with an error naming the feature.
//!
//! # Targets
//!
//! The target list comes from the first of: [`Build::archs`], the `SASSKIT_ARCHS` environment
//! variable, `archs` in `[package.metadata.sasskit]` of the crate's `Cargo.toml`, and the
//! default `sm_90, sm_100, sm_121`. Accepted forms: `sm_90`, `90`, `9.0`, `sm_90a`, `sm_100f`,
//! `compute_90` (PTX, which the runtime only loads when JIT is allowed) and `native` (the GPUs of
//! the build host, from `nvidia-smi`), separated by `,`, `;` or spaces.

mod cache;
mod command;
mod compile;
mod config;
mod crosscheck;
mod deps;
mod diagnostics;
mod env;
mod error;
mod fs;
mod key;
mod launcher;
mod native;
mod parallel;
mod shared;
mod signature;
mod toolkit;
mod verify;

use std::path::{Path, PathBuf};

use sasskit_core::kernel::{KernelSignature, LongSize};
use sasskit_core::manifest::Manifest;
use sasskit_core::{Arch, Target};

pub use cache::CACHE_DIR_ENV;
pub use config::ARCHS_ENV;
pub use error::Error;
pub use launcher::LAUNCHER_ENV;

/// Set to `1` to fail the build when a kernel cannot get a typed wrapper, as
/// [`Build::require_typed_kernels`] does; `0` turns it off again.
pub const REQUIRE_TYPED_ENV: &str = "SASSKIT_REQUIRE_TYPED_KERNELS";

use crate::cache::Cache;
use crate::command::Tool;
use crate::compile::{Job, Session, module_name};
use crate::config::{Origin, Targets};
use crate::toolkit::Nvcc;

/// Compiles CUDA sources into verified fat binaries; see the [crate documentation](crate).
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Build {
    files: Vec<PathBuf>,
    includes: Vec<PathBuf>,
    defines: Vec<(String, Option<String>)>,
    flags: Vec<String>,
    archs: Option<String>,
    file_archs: Vec<(PathBuf, String)>,
    shared_headers: Vec<PathBuf>,
    cache_dir: Option<PathBuf>,
    launcher: Option<PathBuf>,
    nvcc: Option<PathBuf>,
    out_dir: Option<PathBuf>,
    manifest_dir: Option<PathBuf>,
    require_typed: Option<bool>,
}

/// What a successful build produced.
#[derive(Debug, Clone)]
pub struct Output {
    modules: Vec<Module>,
}

/// One compiled `.cu` file.
#[derive(Debug, Clone)]
pub struct Module {
    manifest: Manifest,
    fatbin: PathBuf,
    manifest_path: PathBuf,
    warnings: Vec<String>,
}

impl Build {
    /// A build with no files, the configured targets, and nvcc found the usual way.
    pub fn new() -> Build {
        Build::default()
    }

    /// Adds a `.cu` file; relative paths are relative to the crate root.
    pub fn file(&mut self, path: impl AsRef<Path>) -> &mut Build {
        self.files.push(path.as_ref().to_owned());
        self
    }

    /// Adds several `.cu` files.
    pub fn files<P: AsRef<Path>>(&mut self, paths: impl IntoIterator<Item = P>) -> &mut Build {
        for path in paths {
            self.file(path);
        }
        self
    }

    /// Adds an include directory (`-I`).
    pub fn include(&mut self, dir: impl AsRef<Path>) -> &mut Build {
        self.includes.push(dir.as_ref().to_owned());
        self
    }

    /// Defines a preprocessor macro (`-D NAME` or `-D NAME=VALUE`).
    pub fn define(&mut self, name: &str, value: Option<&str>) -> &mut Build {
        self.defines
            .push((name.to_owned(), value.map(str::to_owned)));
        self
    }

    /// Adds an nvcc flag, such as `-lineinfo` or `--use_fast_math`. Target options (`-arch`,
    /// `-gencode`, `-code`) are refused: use [`Build::archs`].
    pub fn flag(&mut self, flag: &str) -> &mut Build {
        self.flags.push(flag.to_owned());
        self
    }

    /// Sets the targets, overriding `SASSKIT_ARCHS` and the crate metadata: `"sm_90,sm_100"`.
    pub fn archs(&mut self, list: &str) -> &mut Build {
        self.archs = Some(list.to_owned());
        self
    }

    /// Adds a `.cu` file with targets of its own, which win over every other setting: for a
    /// kernel that needs arch-specific features, such as `wgmma` with `"sm_90a"`.
    pub fn file_with_archs(&mut self, path: impl AsRef<Path>, list: &str) -> &mut Build {
        self.file(&path);
        self.file_archs
            .push((path.as_ref().to_owned(), list.to_owned()));
        self
    }

    /// Generates Rust types for the structs, unions and enums of a C header that the `.cu` files
    /// include, so that kernels can take them by value or through pointers; relative paths are
    /// relative to the crate root. Needs the `bindgen` feature (and libclang).
    ///
    /// bindgen writes `#[repr(C)]` types whose layout clang computed for the host (as C++17,
    /// with `SASSKIT_BINDGEN` defined and CUDA's `__host__`/`__device__` made plain), and
    /// `sasskit::shared_types!(<header stem>)` includes them. The build fails when the size of
    /// a kernel parameter of such a type differs from what nvcc compiled.
    pub fn shared_header(&mut self, path: impl AsRef<Path>) -> &mut Build {
        self.shared_headers.push(path.as_ref().to_owned());
        self
    }

    /// Whether a kernel whose parameters cannot all cross from Rust fails the build.
    ///
    /// By default such a kernel still ships in the module, gets no typed method, and the build
    /// prints one warning naming the kernel, the parameter, its type and `file:line`; the
    /// program looks it up by name (`module.loaded().function("name")`). With `true` (or
    /// `SASSKIT_REQUIRE_TYPED_KERNELS=1`, which this setting overrides) the warnings are errors,
    /// for crates that want every kernel typed.
    pub fn require_typed_kernels(&mut self, required: bool) -> &mut Build {
        self.require_typed = Some(required);
        self
    }

    /// Shares built fat binaries through this directory instead of `SASSKIT_CACHE_DIR`.
    pub fn cache_dir(&mut self, dir: impl AsRef<Path>) -> &mut Build {
        self.cache_dir = Some(dir.as_ref().to_owned());
        self
    }

    /// Runs the fat binary compilations through this launcher (such as `sccache`) instead of the
    /// one `SASSKIT_NVCC_LAUNCHER` or an sccache `RUSTC_WRAPPER` names.
    pub fn nvcc_launcher(&mut self, launcher: impl AsRef<Path>) -> &mut Build {
        self.launcher = Some(launcher.as_ref().to_owned());
        self
    }

    /// Uses this nvcc instead of searching for one.
    pub fn nvcc(&mut self, path: impl AsRef<Path>) -> &mut Build {
        self.nvcc = Some(path.as_ref().to_owned());
        self
    }

    /// Writes the outputs here instead of `$OUT_DIR/sasskit`.
    pub fn out_dir(&mut self, dir: impl AsRef<Path>) -> &mut Build {
        self.out_dir = Some(dir.as_ref().to_owned());
        self
    }

    /// Reads `[package.metadata.sasskit]` and resolves relative paths from this directory
    /// instead of `$CARGO_MANIFEST_DIR`.
    pub fn manifest_dir(&mut self, dir: impl AsRef<Path>) -> &mut Build {
        self.manifest_dir = Some(dir.as_ref().to_owned());
        self
    }

    /// Builds every file, printing cargo's rerun lines; on failure prints the error and exits
    /// the build script with status 1.
    pub fn compile(&self) -> Output {
        match self.try_compile() {
            Ok(output) => output,
            Err(error) => {
                eprintln!("error: {error}");
                let mut source = std::error::Error::source(&error);
                while let Some(cause) = source {
                    eprintln!("caused by: {cause}");
                    source = cause.source();
                }
                std::process::exit(1);
            }
        }
    }

    /// Builds every file and returns what it produced, or the first error.
    pub fn try_compile(&self) -> Result<Output, Error> {
        let manifest_dir = self
            .manifest_dir
            .clone()
            .or_else(|| env::cargo("CARGO_MANIFEST_DIR").map(PathBuf::from));
        let targets = config::resolve(self.archs.as_deref(), manifest_dir.as_deref())?;
        config::check_not_empty(&targets)?;
        self.check_flags()?;
        let headers = self.headers(manifest_dir.as_deref())?;
        let target_triple = env::cargo("TARGET").and_then(|triple| triple.into_string().ok());
        let nvcc = match &self.nvcc {
            Some(path) => Nvcc::query(Tool::new(path), "`Build::nvcc`".to_owned())?,
            None => Nvcc::find(target_triple.as_deref())?,
        };
        println!("cargo:rerun-if-changed={}", nvcc.tool.path().display());
        let out_dir = match &self.out_dir {
            Some(dir) => dir.clone(),
            None => PathBuf::from(env::cargo("OUT_DIR").ok_or_else(|| {
                Error::config("`OUT_DIR` is not set: call sasskit_build from a build script, or set `Build::out_dir`")
            })?)
            .join("sasskit"),
        };
        fs::create_dir_all(&out_dir)?;
        let jobs = self.jobs(manifest_dir.as_deref(), &targets)?;
        for job in &jobs {
            nvcc.check_targets(&job.targets)?;
        }
        let shared = shared::generate_all(&headers, &self.include_and_define_flags(), &out_dir)?;
        let ccbin = host_compiler();
        let session = Session {
            shared,
            host_compiler: host_compiler_version(ccbin.as_deref()),
            nvcc,
            flags: self.nvcc_flags(),
            ccbin,
            cache: Cache::configured(self.cache_dir.as_deref()),
            launcher: launcher::configured(self.launcher.as_deref()),
            require_typed: self.require_typed.map_or_else(require_typed_from_env, Ok)?,
            long_size: long_size(),
            out_dir,
        };
        let mut archs: Vec<Arch> = Vec::new();
        for arch in jobs
            .iter()
            .flat_map(|job| job.targets.iter().map(Target::arch))
        {
            if !archs.contains(&arch) {
                archs.push(arch);
            }
        }
        session.check_device_layouts(&archs)?;
        let results = parallel::run_all(&jobs, |job| session.compile(job));
        let mut modules = Vec::with_capacity(jobs.len());
        for result in results {
            let compiled = result?;
            for input in &compiled.inputs {
                println!("cargo:rerun-if-changed={}", input.display());
            }
            for warning in &compiled.warnings {
                println!("cargo:warning={warning}");
            }
            modules.push(Module {
                manifest: compiled.manifest,
                fatbin: compiled.fatbin_path,
                manifest_path: compiled.manifest_path,
                warnings: compiled.warnings,
            });
        }
        Ok(Output { modules })
    }

    fn jobs(&self, manifest_dir: Option<&Path>, targets: &Targets) -> Result<Vec<Job>, Error> {
        if self.files.is_empty() {
            return Err(Error::config(
                "no `.cu` files to compile: add them with `Build::file`",
            ));
        }
        let resolve = |file: &Path| match manifest_dir {
            Some(dir) if file.is_relative() => dir.join(file),
            _ => file.to_owned(),
        };
        let mut per_file: Vec<(PathBuf, Targets)> = match manifest_dir {
            Some(dir) => config::metadata_file_archs(dir)?,
            None => Vec::new(),
        };
        for (file, list) in &self.file_archs {
            let origin = Origin::BuilderFile(file.display().to_string());
            let own = config::parse(list, &origin)?;
            config::check_not_empty(&own)?;
            // The builder wins over the metadata: it goes first.
            per_file.insert(0, (resolve(file), own));
        }
        let mut jobs: Vec<Job> = Vec::new();
        for file in &self.files {
            let source = resolve(file);
            println!("cargo:rerun-if-changed={}", source.display());
            if !source.is_file() {
                return Err(Error::config(format!(
                    "the CUDA source `{}` does not exist",
                    source.display()
                )));
            }
            let module = module_name(&source);
            if let Some(other) = jobs.iter().find(|job| job.module == module) {
                return Err(Error::config(format!(
                    "`{}` and `{}` would both be the module `{module}`: rename one of them",
                    other.source.display(),
                    source.display()
                )));
            }
            let own = per_file.iter().find(|(path, _)| same_file(path, &source));
            let targets = own.map_or(&targets.list, |(_, own)| &own.list).clone();
            jobs.push(Job {
                source,
                module,
                targets,
            });
        }
        Ok(jobs)
    }

    fn headers(&self, manifest_dir: Option<&Path>) -> Result<Vec<shared::Header>, Error> {
        let mut headers: Vec<shared::Header> = Vec::new();
        if let (false, Some(first)) = (cfg!(feature = "bindgen"), self.shared_headers.first()) {
            return Err(shared::feature_missing(first));
        }
        for path in &self.shared_headers {
            let path = match manifest_dir {
                Some(dir) if path.is_relative() => dir.join(path),
                _ => path.clone(),
            };
            let module = module_name(&path);
            if let Some(other) = headers.iter().find(|header| header.module == module) {
                return Err(Error::config(format!(
                    "the shared headers `{}` and `{}` would both be the module `{module}`: \
                     rename one of them",
                    other.path.display(),
                    path.display()
                )));
            }
            headers.push(shared::Header { path, module });
        }
        Ok(headers)
    }

    fn check_flags(&self) -> Result<(), Error> {
        const TARGET_FLAGS: &[&str] = &[
            "-arch",
            "--gpu-architecture",
            "-gencode",
            "--generate-code",
            "-code",
            "--gpu-code",
        ];
        for flag in &self.flags {
            if TARGET_FLAGS.iter().any(|target_flag| {
                flag == target_flag || flag.starts_with(&format!("{target_flag}="))
            }) {
                return Err(Error::config(format!(
                    "the nvcc flag `{flag}` would change the targets behind sasskit's back: set them \
                     with `Build::archs`, `SASSKIT_ARCHS` or `archs` in [package.metadata.sasskit]"
                )));
            }
        }
        Ok(())
    }

    fn nvcc_flags(&self) -> Vec<String> {
        let mut flags = self.include_and_define_flags();
        flags.extend(self.flags.iter().cloned());
        flags
    }

    /// `-I` and `-D` options, which bindgen's clang gets too.
    fn include_and_define_flags(&self) -> Vec<String> {
        let mut flags = Vec::new();
        for dir in &self.includes {
            flags.push(format!("-I{}", dir.display()));
        }
        for (name, value) in &self.defines {
            flags.push(match value {
                Some(value) => format!("-D{name}={value}"),
                None => format!("-D{name}"),
            });
        }
        flags
    }
}

/// `SASSKIT_REQUIRE_TYPED_KERNELS`: `1` or `0`, off when unset.
fn require_typed_from_env() -> Result<bool, Error> {
    match env::tracked(REQUIRE_TYPED_ENV) {
        None => Ok(false),
        Some(value) if value == "1" => Ok(true),
        Some(value) if value == "0" || value.is_empty() => Ok(false),
        Some(value) => Err(Error::config(format!(
            "`{REQUIRE_TYPED_ENV}={}` is not `1` or `0`",
            value.to_string_lossy()
        ))),
    }
}

/// The width of C's `long` on the target being built, which nvcc gives device code too.
fn long_size() -> LongSize {
    let os = env::cargo("CARGO_CFG_TARGET_OS").and_then(|os| os.into_string().ok());
    os.as_deref()
        .map_or(LongSize::LP64, LongSize::for_target_os)
}

/// Whether two paths name the same file, also when one goes through `..` or a symlink.
fn same_file(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b)
}

/// The first line of the host compiler's `--version`, for the build key: a compiler upgrade
/// changes nvcc's output through the host-side headers it parses.
fn host_compiler_version(ccbin: Option<&Path>) -> String {
    let Some(ccbin) = ccbin else {
        return "nvcc's default host compiler".to_owned();
    };
    let output = Tool::new(ccbin).command().arg("--version").output();
    let first_line = output.ok().and_then(|output| {
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.lines().next().map(str::to_owned)
    });
    format!("{}: {}", ccbin.display(), first_line.unwrap_or_default())
}

/// The C++ compiler the `cc` crate picks for the host, which nvcc uses for host-side parsing.
fn host_compiler() -> Option<PathBuf> {
    let host = env::cargo("HOST")?.into_string().ok()?;
    let compiler = cc::Build::new()
        .cpp(true)
        .cargo_metadata(false)
        .target(&host)
        .host(&host)
        .opt_level(2)
        .try_get_compiler()
        .ok()?;
    Some(compiler.path().to_owned())
}

impl Output {
    /// The compiled modules, in the order the files were added.
    pub fn modules(&self) -> &[Module] {
        &self.modules
    }
}

impl Module {
    /// The module name, which `sasskit::kernels!` takes.
    pub fn name(&self) -> &str {
        &self.manifest.module.name
    }

    /// The fat binary.
    pub fn fatbin(&self) -> &Path {
        &self.fatbin
    }

    /// The manifest file.
    pub fn manifest_path(&self) -> &Path {
        &self.manifest_path
    }

    /// The manifest's contents.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The `extern "C"` kernels found in the source; those without a typed wrapper have
    /// [`KernelSignature::untyped`] set.
    pub fn kernels(&self) -> &[KernelSignature] {
        &self.manifest.kernels
    }

    /// The warnings the build printed for this file (`cargo:warning`): kernels without a typed
    /// wrapper and why, nvcc's own warnings.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}
