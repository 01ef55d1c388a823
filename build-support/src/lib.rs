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
//! # Static libraries of host-launched kernels
//!
//! [`Build::static_library`] compiles `.cu` files whose C++ host code launches their kernels
//! (`kernel<<<…>>>` inside `extern "C"` functions) into `lib<name>.a` instead: one object per
//! file with SASS for every target, each object's embedded fat binary verified, linked with the
//! toolkit's static CUDA runtime. `sasskit::host_functions!(<name>)` declares the functions and
//! wraps them in methods that refuse devices the library has no SASS for; see
//! [`StaticLibrary`].
//!
//! # Targets
//!
//! The target list comes from the first of: [`Build::archs`], the `SASSKIT_ARCHS` environment
//! variable, `archs` in `[package.metadata.sasskit]` of the crate's `Cargo.toml`, and the
//! default `sm_90, sm_100, sm_121`. Accepted forms: `sm_90`, `90`, `9.0`, `sm_90a`, `sm_100f`,
//! `compute_90` (PTX, which the runtime only loads when JIT is allowed) and `native` (the GPUs of
//! the build host, from `nvidia-smi`), separated by `,`, `;` or spaces.

mod cache;
mod cargo_output;
mod claims;
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
mod library;
mod native;
mod nvcc_run;
mod parallel;
mod plan;
mod prebuilt;
mod replay;
mod shared;
mod signature;
mod sources;
mod toolkit;
mod verify;

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use sasskit_core::kernel::KernelSignature;
use sasskit_core::manifest::Manifest;
use sasskit_core::{Arch, Target};

pub use cache::{CACHE_DIR_ENV, CACHE_MODE_ENV, CacheMode};
pub use config::ARCHS_ENV;
pub use error::Error;
pub use launcher::LAUNCHER_ENV;
pub use library::{Cudart, Library, StaticLibrary};
pub use prebuilt::{METADATA_ONLY_ENV, PREBUILD_ENV};
pub use toolkit::{NvccCandidate, Toolkit, nvcc_candidates};

/// Set to `1` for the fast mode of development builds, as [`Build::single_front_end`] does; `0`
/// turns it off again.
pub const SINGLE_FRONT_END_ENV: &str = "SASSKIT_SINGLE_FRONT_END";

/// Set to `1` to fail the build when a kernel cannot get a typed wrapper, as
/// [`Build::require_typed_kernels`] does; `0` turns it off again.
pub const REQUIRE_TYPED_ENV: &str = "SASSKIT_REQUIRE_TYPED_KERNELS";

/// The largest image, in bytes, that the build decompresses to check it (a prebuilt or
/// `--compress-mode` fat binary's cubins):
/// [`DEFAULT_MAX_IMAGE_SIZE`](sasskit_core::fatbin::DEFAULT_MAX_IMAGE_SIZE), 1 GiB, unless set.
/// An image above it fails the build; raise it only for a genuine image that large.
pub const MAX_IMAGE_SIZE_ENV: &str = "SASSKIT_MAX_IMAGE_SIZE";

use crate::cache::Cache;
use crate::cargo_output::CargoOutput;
use crate::command::Tool;
use crate::compile::{Job, Session};
use crate::prebuilt::Mode;
use crate::sources::Decision;
use crate::toolkit::Nvcc;

/// Compiles CUDA sources into verified fat binaries; see the [crate documentation](crate).
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Build {
    files: Vec<PathBuf>,
    includes: Vec<PathBuf>,
    defines: Vec<(String, Option<String>)>,
    flags: Vec<OsString>,
    archs: Option<String>,
    file_archs: Vec<(PathBuf, String)>,
    shared_headers: Vec<PathBuf>,
    cache_dir: Option<PathBuf>,
    cache_mode: Option<CacheMode>,
    launcher: Option<PathBuf>,
    nvcc: Option<PathBuf>,
    out_dir: Option<PathBuf>,
    manifest_dir: Option<PathBuf>,
    require_typed: Option<bool>,
    single_front_end: Option<bool>,
    no_ccbin: bool,
    prebuilt: Option<PathBuf>,
    cargo_output: CargoOutput,
    debug: Option<bool>,
    kernel_families: Option<bool>,
    declared_families: Vec<(String, String)>,
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

    /// Adds several include directories.
    pub fn includes<P: AsRef<Path>>(&mut self, dirs: impl IntoIterator<Item = P>) -> &mut Build {
        for dir in dirs {
            self.include(dir);
        }
        self
    }

    /// Defines a preprocessor macro: `.define("FOO", "1")` is `-DFOO=1`, `.define("FOO", None)`
    /// is `-DFOO`, as in `cc::Build`.
    pub fn define<'a>(&mut self, name: &str, value: impl Into<Option<&'a str>>) -> &mut Build {
        self.defines
            .push((name.to_owned(), value.into().map(str::to_owned)));
        self
    }

    /// Adds an nvcc flag, such as `--use_fast_math` or `-Xptxas=-v`. Target options (`-arch`,
    /// `-gencode`, `-code`) are refused: use [`Build::archs`].
    pub fn flag(&mut self, flag: impl AsRef<OsStr>) -> &mut Build {
        self.flags.push(flag.as_ref().to_owned());
        self
    }

    /// Adds several nvcc flags.
    pub fn flags<F: AsRef<OsStr>>(&mut self, flags: impl IntoIterator<Item = F>) -> &mut Build {
        for flag in flags {
            self.flag(flag);
        }
        self
    }

    /// Whether to pass nvcc the host C++ compiler that the `cc` crate picks (`-ccbin`), which
    /// honours `CXX`, `CXX_<target>` and cross setups; on by default. With `false` nvcc uses its
    /// own choice (`NVCC_CCBIN`, else `g++`/`cl.exe` on `PATH`), for host compilers nvcc does not
    /// accept.
    pub fn ccbin(&mut self, pass: bool) -> &mut Build {
        self.no_ccbin = !pass;
        self
    }

    /// Whether to print `cargo:rerun-if-changed` lines (sources, included headers,
    /// `Cargo.toml`, the nvcc used); on by default. Without any, cargo reruns the build script
    /// when any file of the package changes.
    pub fn cargo_metadata(&mut self, emit: bool) -> &mut Build {
        self.cargo_output.metadata = emit;
        self
    }

    /// Whether to print `cargo:rerun-if-env-changed` for the variables the build reads; on by
    /// default.
    pub fn emit_rerun_if_env_changed(&mut self, emit: bool) -> &mut Build {
        self.cargo_output.env_changed = emit;
        self
    }

    /// Whether to print `cargo:warning` lines (kernels without typed wrappers, nvcc's
    /// warnings); on by default. They stay available from [`Module::warnings`].
    pub fn cargo_warnings(&mut self, emit: bool) -> &mut Build {
        self.cargo_output.warnings = emit;
        self
    }

    /// Whether to compile with device line information (`-lineinfo`), for profilers and
    /// `compute-sanitizer` to map SASS back to source lines. By default it follows cargo's
    /// profile (`DEBUG`): on in `dev`, off in `release`. Line information does not change the
    /// generated code. sasskit never adds `-G` (full device debug information), which turns
    /// device optimisation off; pass it with [`Build::flag`] when you want it.
    pub fn debug(&mut self, line_info: bool) -> &mut Build {
        self.debug = Some(line_info);
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

    /// Whether `kernels!` groups kernels whose names differ only in element-type tokens
    /// (`affine_f32`, `affine_bf16`, …; `cast_f32_bf16`, …) into families, each with one
    /// generic method (`module.affine::<T>(…)`, `module.cast::<T1, T2>(…)`) besides the
    /// per-type methods. On by default; `false` turns the automatic rule off, and only the
    /// families declared with [`Build::kernel_family`] remain. The setting is recorded in each
    /// module's manifest, where the macro reads it.
    pub fn kernel_families(&mut self, detect: bool) -> &mut Build {
        self.kernel_families = Some(detect);
        self
    }

    /// Declares a kernel family by hand: the generic method `name` over the kernels whose names
    /// match `pattern`, a kernel name with `{}` where each element-type token stands
    /// (`"cast_{}_{}"`). For what the automatic rule cannot see or names badly: tokens not
    /// between `_` (`"saxpy{}"` for `saxpyf32`, `saxpyf64`), a family whose automatic name is
    /// taken (`kernel_family("affine_any", "affine_{}")` next to a kernel `affine`), or a
    /// name that reads better (`kernel_family("select", "where_{}_{}")`).
    ///
    /// It applies to every file of the `Build`; a kernel belongs to the first declared family
    /// whose pattern matches it, before the automatic rule runs. A name or pattern that is not
    /// valid fails the build; a pattern that matches no kernel of any file is a warning.
    pub fn kernel_family(&mut self, name: &str, pattern: &str) -> &mut Build {
        self.declared_families
            .push((name.to_owned(), pattern.to_owned()));
        self
    }

    /// Ships the crate's fat binaries prebuilt in `dir` (relative to the crate), so that its
    /// users need no CUDA toolkit; `prebuilt = "…"` in `[package.metadata.sasskit]` does the
    /// same.
    ///
    /// `SASSKIT_PREBUILD=refresh` (`cargo sasskit prebuild`) builds every module with nvcc and
    /// writes, per module, the fat binary (compressed) and its manifest with the SHA-256 of the
    /// `.cu` file and of every header it includes from the crate, and the build settings. Every
    /// other build checks those without nvcc: when they match, the prebuilt fat binary is
    /// verified like a built one and used (the manifest and the load report say `prebuilt`);
    /// when they do not, nvcc builds the module and the build warns that the folder is stale,
    /// or, with no nvcc, fails naming the first input that changed.
    /// `SASSKIT_PREBUILD=check` (`cargo sasskit prebuild --check`) fails while the folder is
    /// stale.
    ///
    /// Prebuilt fat binaries carry no line information, whatever the profile, unless
    /// [`Build::debug`] asks for it.
    ///
    /// A [`StaticLibrary`] of this `Build` ships in the same folder, per target triple:
    /// `<name>.<triple>/` holds `lib<name>.a`, its manifest with the recorded inputs, and the
    /// `libcudart_static.a` its objects were compiled against (with [`Cudart::Static`]), so its
    /// users need neither nvcc nor the CUDA runtime's archive.
    pub fn prebuilt(&mut self, dir: impl AsRef<Path>) -> &mut Build {
        self.prebuilt = Some(dir.as_ref().to_owned());
        self
    }

    /// The fast mode for development builds: compile a file's plain SASS targets from one front
    /// end, the lowest target's virtual architecture (`-gencode
    /// arch=compute_90,code=[sm_90,sm_100,sm_121]`: cicc runs once, ptxas once per target),
    /// instead of one front end per target. Off by default; `SASSKIT_SINGLE_FRONT_END=1` turns it
    /// on when this is not called.
    ///
    /// The SASS is real and loads without a JIT, but `__CUDA_ARCH__` has the lowest target's
    /// value in every image, so code paths for newer architectures (`#if __CUDA_ARCH__ >=
    /// 1000`) are lost. The manifest and the load report say so (`single front end
    /// compute_90`). Never use it for builds you ship.
    pub fn single_front_end(&mut self, on: bool) -> &mut Build {
        self.single_front_end = Some(on);
        self
    }

    /// Shares built fat binaries through this directory instead of `SASSKIT_CACHE_DIR`;
    /// [`Build::cache_mode`] decides whether this build writes to it.
    pub fn cache_dir(&mut self, dir: impl AsRef<Path>) -> &mut Build {
        self.cache_dir = Some(dir.as_ref().to_owned());
        self
    }

    /// Whether this build writes what it compiles to the shared cache, instead of
    /// `SASSKIT_CACHE_MODE` (`read-write` or `read-only`; read-write when unset).
    ///
    /// Whoever can write to a shared cache decides what every reader runs: an entry replaced by
    /// another well-formed fat binary with the same kernels and signatures cannot be told from
    /// the real one. Let trusted builds (CI on the main branch) write, and make every other
    /// build read-only; a read-only build uses the entries it finds, compiles the others
    /// locally and writes nothing to the cache, for fat binaries and static-library objects
    /// alike.
    ///
    /// ```no_run
    /// sasskit_build::Build::new()
    ///     .file("kernels/saxpy.cu")
    ///     .cache_dir("/mnt/shared/sasskit-cache")
    ///     .cache_mode(sasskit_build::CacheMode::ReadOnly)
    ///     .compile();
    /// ```
    pub fn cache_mode(&mut self, mode: CacheMode) -> &mut Build {
        self.cache_mode = Some(mode);
        self
    }

    /// Runs the fat binary compilations through this launcher (such as `sccache`) instead of the
    /// one `SASSKIT_NVCC_LAUNCHER` or an sccache `RUSTC_WRAPPER` names. The launched nvcc runs
    /// in the crate root with a command line that names no checkout, so that sccache shares its
    /// PTX and cubin steps between clones at different paths (see the README).
    pub fn nvcc_launcher(&mut self, launcher: impl AsRef<Path>) -> &mut Build {
        self.launcher = Some(launcher.as_ref().to_owned());
        self
    }

    /// Uses this nvcc instead of searching for one.
    pub fn nvcc(&mut self, path: impl AsRef<Path>) -> &mut Build {
        self.nvcc = Some(path.as_ref().to_owned());
        self
    }

    /// Writes the outputs under this folder instead of `$OUT_DIR`, in its `sasskit`
    /// subfolder, as under `OUT_DIR` (`sasskit::kernels!` reads `$OUT_DIR/sasskit`, so only
    /// `OUT_DIR` itself suits a crate that uses the macros; other folders are for tools).
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
        error::or_exit(self.try_compile())
    }

    /// Builds every file and returns what it produced, or the first error.
    pub fn try_compile(&self) -> Result<Output, Error> {
        let result = self.try_compile_inner();
        // Also after a failure: the variables read so far decide whether a rerun can fix it.
        self.cargo_output.flush();
        result
    }

    fn try_compile_inner(&self) -> Result<Output, Error> {
        let setup = self.setup()?;
        let Setup {
            manifest_dir,
            folder,
            mode,
            flags,
            out_root,
            out_dir,
            jobs,
            shared,
            reading,
            single_front_end,
        } = setup;
        let settings: Vec<Vec<String>> = jobs
            .iter()
            .map(|job| {
                let dir = manifest_dir.as_deref();
                self.prebuilt_settings(job, &flags, reading.long, single_front_end, dir)
            })
            .collect();
        let mut decisions = sources::decide(&jobs, &settings, folder.as_ref(), mode);
        let nvcc = self.nvcc_if_needed(&jobs, &mut decisions, folder.as_ref(), mode)?;
        sources::warn_stale(self.cargo_output, &jobs, &decisions, folder.as_ref());
        let to_build: Vec<Job> = jobs
            .iter()
            .zip(&decisions)
            .filter(|(_, decision)| matches!(decision, Decision::Build(_)))
            .map(|(job, _)| job.clone())
            .collect();
        let mut built = match nvcc {
            Some(nvcc) if !to_build.is_empty() => {
                let session = self.nvcc_session(NvccBuild {
                    nvcc,
                    jobs: &to_build,
                    flags,
                    shared: &shared,
                    manifest_dir: manifest_dir.as_deref(),
                    out_dir: &out_dir,
                    reading,
                    single_front_end,
                    refresh: mode == Mode::Refresh,
                })?;
                let built = compile_all(&session, &to_build)?;
                if let (Mode::Refresh, Some(folder)) = (mode, &folder) {
                    self.refresh(
                        folder,
                        &built,
                        &to_build,
                        &settings,
                        &jobs,
                        manifest_dir.as_deref(),
                        &out_root,
                    )?;
                }
                built
            }
            _ => Vec::new(),
        }
        .into_iter();
        let mut modules = Vec::with_capacity(jobs.len());
        for (job, decision) in jobs.iter().zip(decisions) {
            let compiled = sources::output(
                job,
                decision,
                &mut built,
                folder.as_ref(),
                &shared,
                reading,
                &out_dir,
            )?;
            for input in &compiled.inputs {
                cargo_output::rerun_if_changed(input);
            }
            for warning in &compiled.warnings {
                self.cargo_output.warning(warning);
            }
            modules.push(Module {
                manifest: compiled.manifest,
                fatbin: compiled.fatbin_path,
                manifest_path: compiled.manifest_path,
                warnings: compiled.warnings,
            });
        }
        if let Some(job) = jobs.first() {
            for warning in unmatched_families(&job.families, &modules) {
                self.cargo_output.warning(&warning);
            }
        }
        Ok(Output { modules })
    }

    /// What every mode of the build shares before deciding where fat binaries come from: the
    /// settings resolved (targets, flags, output folder), one job per file with its targets,
    /// and the shared headers generated.
    pub(crate) fn setup(&self) -> Result<Setup, Error> {
        let manifest_dir = self
            .manifest_dir
            .clone()
            .or_else(|| env::cargo("CARGO_MANIFEST_DIR").map(PathBuf::from));
        let metadata = config::Metadata::read(manifest_dir.as_deref())?;
        let targets = config::resolve(self.archs.as_deref(), &metadata)?;
        config::check_not_empty(&targets)?;
        let flags = self.check_flags()?;
        let headers = self.headers(manifest_dir.as_deref())?;
        let out_root = match &self.out_dir {
            Some(dir) => dir.clone(),
            None => PathBuf::from(env::cargo("OUT_DIR").ok_or_else(|| {
                Error::config("`OUT_DIR` is not set: call sasskit_build from a build script, or set `Build::out_dir`")
            })?),
        };
        let out_dir = sasskit_core::out_dir::folder(&out_root);
        fs::create_dir_all(&out_dir)?;
        let jobs = self.jobs(manifest_dir.as_deref(), &targets, &metadata)?;
        for job in &jobs {
            claims::claim(&out_dir, &job.module, &job.source)?;
        }
        let (folder, mode) = self.prebuilt_folder(&metadata, manifest_dir.as_deref())?;
        let defines_and_includes = self.include_and_define_flags();
        let bindings = folder
            .clone()
            .filter(|_| !headers.is_empty())
            .map(|folder| {
                let (owned, excluded) =
                    self.crate_files(&jobs, manifest_dir.as_deref(), &out_root, None);
                shared::Bindings::new(
                    folder,
                    mode,
                    &defines_and_includes,
                    plan::long_size(),
                    owned,
                    excluded,
                )
            });
        let shared = shared::generate_all(
            &headers,
            &defines_and_includes,
            &out_dir,
            bindings.as_ref(),
            self.cargo_output,
        )?;
        let single_front_end = self
            .single_front_end
            .map_or_else(|| env::switch(SINGLE_FRONT_END_ENV), Ok)?;
        Ok(Setup {
            manifest_dir,
            folder,
            mode,
            flags,
            out_root,
            out_dir,
            jobs,
            shared,
            reading: crosscheck::Reading {
                long: plan::long_size(),
                max_image_size: plan::max_image_size()?,
            },
            single_front_end,
        })
    }

    /// nvcc as the build names it (`Build::nvcc`), else as [`Nvcc::find`] finds it.
    pub(crate) fn find_nvcc(&self) -> Result<Nvcc, Error> {
        let target_triple = env::cargo("TARGET").and_then(|triple| triple.into_string().ok());
        match &self.nvcc {
            Some(path) => Nvcc::query(Tool::new(path), "`Build::nvcc`".to_owned()),
            None => Nvcc::find(target_triple.as_deref()),
        }
    }

    /// The nvcc session of a static library's build, from its setup and `nvcc`: the host
    /// compiler, cache and launcher, and the shared headers checked on the device. `refresh`
    /// builds for the crate's prebuilt folder (compressed).
    pub(crate) fn library_session(
        &self,
        setup: &Setup,
        nvcc: Nvcc,
        refresh: bool,
    ) -> Result<Session, Error> {
        self.nvcc_session(NvccBuild {
            nvcc,
            jobs: &setup.jobs,
            flags: setup.flags.clone(),
            shared: &setup.shared,
            manifest_dir: setup.manifest_dir.as_deref(),
            out_dir: &setup.out_dir,
            reading: setup.reading,
            single_front_end: setup.single_front_end,
            refresh,
        })
    }

    /// The crate's prebuilt folder, if it has one, and what `SASSKIT_PREBUILD` asks of it.
    fn prebuilt_folder(
        &self,
        metadata: &config::Metadata,
        manifest_dir: Option<&Path>,
    ) -> Result<(Option<prebuilt::Folder>, Mode), Error> {
        let folder =
            prebuilt::Folder::configured(self.prebuilt.as_deref(), metadata, manifest_dir)?;
        let package = env::cargo("CARGO_PKG_NAME").and_then(|name| name.into_string().ok());
        let mode = Mode::from_env(package.as_deref())?;
        if matches!(mode, Mode::Refresh | Mode::Check) && folder.is_none() {
            return Err(Error::config(format!(
                "`{PREBUILD_ENV}` asks for a prebuilt folder, but the build names none: set \
                 `Build::prebuilt(\"kernels/prebuilt\")` or `prebuilt = \"kernels/prebuilt\"` in \
                 [package.metadata.sasskit]"
            )));
        }
        Ok((folder, mode))
    }

    /// nvcc, when some module needs it (and nvcc may run); without one, what
    /// [`sources::without_nvcc`] decides. A check first fails on anything stale.
    fn nvcc_if_needed(
        &self,
        jobs: &[Job],
        decisions: &mut [Decision],
        folder: Option<&prebuilt::Folder>,
        mode: Mode,
    ) -> Result<Option<Nvcc>, Error> {
        let find_nvcc = || self.find_nvcc();
        if mode == Mode::Check {
            let nvcc = find_nvcc().ok();
            sources::check_current(jobs, decisions, folder, nvcc.as_ref())?;
        }
        if !decisions
            .iter()
            .any(|decision| matches!(decision, Decision::Build(_)))
        {
            return Ok(None);
        }
        let missing = if prebuilt::nvcc_allowed() {
            match find_nvcc() {
                Ok(nvcc) => return Ok(Some(nvcc)),
                Err(error) if error.is_toolkit() => error,
                Err(error) => return Err(error),
            }
        } else {
            Error::new(error::ErrorKind::NvccNotFound(
                "docs.rs builds run no nvcc".to_owned(),
            ))
        };
        sources::without_nvcc(self.cargo_output, jobs, decisions, folder, missing)?;
        Ok(None)
    }

    /// Rewrites the prebuilt folder from what nvcc just built, and prints the sizes.
    #[allow(clippy::too_many_arguments)]
    fn refresh(
        &self,
        folder: &prebuilt::Folder,
        built: &[compile::Compiled],
        built_jobs: &[Job],
        settings: &[Vec<String>],
        jobs: &[Job],
        manifest_dir: Option<&Path>,
        out_root: &Path,
    ) -> Result<(), Error> {
        let nvcc = built
            .first()
            .map(|compiled| compiled.manifest.toolkit.nvcc.clone());
        let toolkit = nvcc
            .as_deref()
            .and_then(|nvcc| Path::new(nvcc).parent()?.parent());
        let (owned, excluded) = self.crate_files(jobs, manifest_dir, out_root, toolkit);
        let mut sizes = Vec::new();
        for (compiled, job) in built.iter().zip(built_jobs) {
            let index = jobs
                .iter()
                .position(|other| other.module == job.module)
                .unwrap_or_default();
            let size = folder.write(compiled, &settings[index], &owned, &excluded)?;
            sizes.push((job.module.clone(), size));
        }
        for line in prebuilt::folder::size_report(folder, &sizes) {
            self.cargo_output.warning(&line);
        }
        Ok(())
    }

    /// Where the crate's own files are (its folder, the sources' folders, its include folders)
    /// and where they are not (the build's output, the `toolkit` folder unless the crate is
    /// inside it): what decides which files a prebuilt output records as its inputs.
    pub(crate) fn crate_files(
        &self,
        jobs: &[Job],
        manifest_dir: Option<&Path>,
        out_root: &Path,
        toolkit: Option<&Path>,
    ) -> (Vec<PathBuf>, Vec<PathBuf>) {
        let canonical = |path: &Path| path.canonicalize().ok();
        let mut owned: Vec<PathBuf> = manifest_dir.into_iter().filter_map(canonical).collect();
        owned.extend(
            jobs.iter()
                .filter_map(|job| job.source.parent())
                .filter_map(canonical),
        );
        owned.extend(self.includes.iter().filter_map(|dir| {
            canonical(&manifest_dir.map_or_else(|| dir.clone(), |root| root.join(dir)))
        }));
        let mut excluded: Vec<PathBuf> = canonical(out_root).into_iter().collect();
        if let Some(toolkit) = toolkit.and_then(canonical)
            && !owned.iter().any(|root| root.starts_with(&toolkit))
        {
            excluded.push(toolkit);
        }
        (owned, excluded)
    }

    /// The nvcc session of a build: the targets checked against nvcc, the host compiler,
    /// cache and launcher, and the shared headers checked on the device.
    fn nvcc_session(&self, build: NvccBuild<'_>) -> Result<Session, Error> {
        let NvccBuild {
            nvcc,
            jobs,
            flags,
            shared,
            manifest_dir,
            out_dir,
            reading,
            single_front_end,
            refresh,
        } = build;
        cargo_output::rerun_if_changed(nvcc.tool.path());
        for job in jobs {
            nvcc.check_targets(&job.targets)?;
        }
        let ccbin = if self.no_ccbin {
            None
        } else {
            toolkit::host_compiler()
        };
        let roots = key::Roots::new(manifest_dir, nvcc.tool.path(), out_dir);
        let mut nvcc_flags = self.nvcc_flags(flags, !refresh);
        if refresh {
            // Shipped in the crate: as small as nvcc makes them.
            nvcc_flags.push("--compress-mode=size".to_owned());
        }
        let session = Session {
            shared: shared.clone(),
            host_compiler: toolkit::host_compiler_version(ccbin.as_deref()),
            nvcc,
            flags: nvcc_flags,
            ccbin,
            cache: Cache::configured(self.cache_dir.as_deref(), self.cache_mode)?,
            launcher: launcher::Launcher::configured(self.launcher.as_deref(), manifest_dir),
            require_typed: self
                .require_typed
                .map_or_else(|| env::switch(REQUIRE_TYPED_ENV), Ok)?,
            reading,
            nvcc_environment: toolkit::nvcc_environment(),
            roots,
            single_front_end,
            out_dir: out_dir.to_owned(),
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
        Ok(session)
    }
}

/// What a build resolved before deciding where each fat binary comes from.
pub(crate) struct Setup {
    pub(crate) manifest_dir: Option<PathBuf>,
    /// The crate's prebuilt folder, and what `SASSKIT_PREBUILD` asks of it.
    pub(crate) folder: Option<prebuilt::Folder>,
    pub(crate) mode: Mode,
    pub(crate) flags: Vec<String>,
    pub(crate) out_root: PathBuf,
    pub(crate) out_dir: PathBuf,
    pub(crate) jobs: Vec<Job>,
    pub(crate) shared: shared::Registry,
    pub(crate) reading: crosscheck::Reading,
    pub(crate) single_front_end: bool,
}

/// The nvcc part of a build, as [`Build::nvcc_session`] gets it.
struct NvccBuild<'a> {
    nvcc: Nvcc,
    jobs: &'a [Job],
    flags: Vec<String>,
    shared: &'a shared::Registry,
    manifest_dir: Option<&'a Path>,
    out_dir: &'a Path,
    reading: crosscheck::Reading,
    single_front_end: bool,
    /// Building for the prebuilt folder: compressed, no line info from the profile.
    refresh: bool,
}

/// One file on its way through [`compile_all`]: what `prepare` found, the parts nvcc compiled so
/// far, and how many are still being compiled.
struct InFlight<'j> {
    file: Option<compile::Prepared<'j>>,
    parts: Vec<(Target, compile::Unit)>,
    failed: Option<Error>,
    remaining: usize,
}

/// What a worker of [`compile_all`] does: compile one part of a file, or finish a file that
/// needs no compile.
enum Work {
    Compile(usize, Vec<Target>),
    Finish(usize),
}

/// Compiles every job, in parallel within cargo's jobserver: prepare each file (preprocessing,
/// signatures, key, previous output or cache), then compile what is missing one file and target
/// at a time, the largest translation units first so that the long ones start early. The worker
/// that compiles a file's last part goes on to verify, check and write that file, so finishing
/// a file (in a cold build, reading its kernels from megabytes of translation units) overlaps
/// the compiles still running instead of waiting for the last of them. The error is the first
/// failing file's, in job order.
fn compile_all(session: &Session, jobs: &[Job]) -> Result<Vec<compile::Compiled>, Error> {
    let prepared = parallel::run_all(jobs, |job| session.prepare(job))
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    let mut work: Vec<(usize, Vec<Target>)> = prepared
        .iter()
        .enumerate()
        .filter(|(_, file)| file.needs_compile())
        .flat_map(|(index, file)| {
            session
                .units_of(file.job)
                .into_iter()
                .map(move |unit| (index, unit))
        })
        .collect();
    work.sort_by_key(|(index, unit)| std::cmp::Reverse(prepared[*index].cost(unit)));
    let in_flight: Vec<Mutex<InFlight<'_>>> = prepared
        .into_iter()
        .enumerate()
        .map(|(index, file)| {
            Mutex::new(InFlight {
                file: Some(file),
                parts: Vec::new(),
                failed: None,
                remaining: work.iter().filter(|(i, _)| *i == index).count(),
            })
        })
        .collect();
    let work: Vec<Work> = work
        .into_iter()
        .map(|(index, unit)| Work::Compile(index, unit))
        .chain(
            in_flight
                .iter()
                .enumerate()
                .filter(|(_, file)| lock(file).remaining == 0)
                .map(|(index, _)| Work::Finish(index)),
        )
        .collect();
    let results: Vec<Mutex<Option<Result<compile::Compiled, Error>>>> =
        in_flight.iter().map(|_| Mutex::new(None)).collect();
    parallel::run_all(&work, |item| {
        let index = match item {
            Work::Finish(index) => *index,
            Work::Compile(index, unit) => {
                let job = lock(&in_flight[*index])
                    .file
                    .as_ref()
                    .map(|file| (file.job, file.keeps_translation_units()));
                let Some((job, keep)) = job else { return };
                let output = session.compile_unit(job, unit, keep);
                let mut file = lock(&in_flight[*index]);
                match output {
                    Ok(output) => file.parts.push((unit[0], output)),
                    Err(error) => {
                        file.failed.get_or_insert(error);
                    }
                }
                file.remaining -= 1;
                if file.remaining > 0 {
                    return;
                }
                *index
            }
        };
        let (file, parts, failed) = {
            let mut file = lock(&in_flight[index]);
            (
                file.file.take(),
                std::mem::take(&mut file.parts),
                file.failed.take(),
            )
        };
        let result = match (file, failed) {
            (_, Some(error)) => Err(error),
            (Some(file), None) => {
                let units = in_target_order(file.job, parts);
                session.finish(file, units)
            }
            (None, None) => Err(Error::internal("a file was finished twice")),
        };
        *lock(&results[index]) = Some(result);
    });
    results
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .unwrap_or_else(PoisonError::into_inner)
                .unwrap_or_else(|| Err(Error::internal("a file was never finished")))
        })
        .collect()
}

/// The parts nvcc compiled for `job`, in target order, as one nvcc run would have laid the
/// images out; `None` when nothing was compiled.
fn in_target_order(
    job: &Job,
    mut parts: Vec<(Target, compile::Unit)>,
) -> Option<Vec<compile::Unit>> {
    if parts.is_empty() {
        return None;
    }
    parts.sort_by_key(|(target, _)| {
        job.targets
            .iter()
            .position(|t| t == *target)
            .unwrap_or(usize::MAX)
    });
    Some(parts.into_iter().map(|(_, unit)| unit).collect())
}

/// The value behind a mutex, also after a worker panicked holding it.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
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

/// A warning for each family declared with `Build::kernel_family` whose pattern matches no
/// kernel of any module: a typo, or a kernel that was renamed.
fn unmatched_families(
    settings: &sasskit_core::family::FamilySettings,
    modules: &[Module],
) -> Vec<String> {
    // A metadata-only build may not know a module's kernels: no warning then.
    if modules
        .iter()
        .any(|module| module.manifest.module.origin == sasskit_core::manifest::Origin::Unavailable)
    {
        return Vec::new();
    }
    settings
        .declared
        .iter()
        .filter(|family| {
            !modules.iter().any(|module| {
                module
                    .manifest
                    .kernels
                    .iter()
                    .any(|kernel| family.pattern.match_name(&kernel.name).is_some())
            })
        })
        .map(|family| {
            format!(
                "the kernel family `{}` (`Build::kernel_family`) matches no kernel: no kernel \
                 name fits `{}`, where each `{{}}` stands for an element type such as `f32`",
                family.name, family.pattern
            )
        })
        .collect()
}
