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
mod compress_mode;
mod config;
mod crosscheck;
mod deps;
mod diagnostics;
mod env;
mod error;
mod fs;
mod job;
mod key;
mod launcher;
mod library;
mod native;
mod nvcc_run;
mod options;
mod parallel;
mod pipeline;
mod prebuilt;
mod prebuilt_folder;
mod replay;
mod settings;
mod shared;
mod signature;
mod toolkit;
mod verify;

use std::ffi::OsStr;
use std::path::Path;

pub use cache::{CACHE_DIR_ENV, CACHE_MODE_ENV, CacheMode};
pub use compress_mode::{COMPRESS_MODE_ENV, CompressMode};
pub use config::ARCHS_ENV;
pub use error::Error;
pub use launcher::LAUNCHER_ENV;
pub use library::{Cudart, Library, StaticLibrary};
pub use pipeline::{Module, Output};
pub use prebuilt_folder::{METADATA_ONLY_ENV, PREBUILD_ENV};
pub use settings::{MAX_IMAGE_SIZE_ENV, REQUIRE_TYPED_ENV, SINGLE_FRONT_END_ENV};
pub use toolkit::{NvccCandidate, Toolkit, nvcc_candidates};

use crate::options::Options;
use crate::settings::Settings;

/// Compiles CUDA sources into verified fat binaries; see the [crate documentation](crate).
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Build {
    options: Options,
}

impl Build {
    /// A build with no files, the configured targets, and nvcc found the usual way.
    pub fn new() -> Build {
        Build::default()
    }

    /// Adds a `.cu` file; relative paths are relative to the crate root.
    pub fn file(&mut self, path: impl AsRef<Path>) -> &mut Build {
        self.options.files.push(path.as_ref().to_owned());
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
        self.options.includes.push(dir.as_ref().to_owned());
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
        self.options
            .defines
            .push((name.to_owned(), value.into().map(str::to_owned)));
        self
    }

    /// Adds an nvcc flag, such as `--use_fast_math` or `-Xptxas=-v`. Target options (`-arch`,
    /// `-gencode`, `-code`) are refused: use [`Build::archs`].
    pub fn flag(&mut self, flag: impl AsRef<OsStr>) -> &mut Build {
        self.options.flags.push(flag.as_ref().to_owned());
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
        self.options.no_ccbin = !pass;
        self
    }

    /// Whether to print `cargo:rerun-if-changed` lines (sources, included headers,
    /// `Cargo.toml`, the nvcc used); on by default. Without any, cargo reruns the build script
    /// when any file of the package changes.
    pub fn cargo_metadata(&mut self, emit: bool) -> &mut Build {
        self.options.cargo_output.metadata = emit;
        self
    }

    /// Whether to print `cargo:rerun-if-env-changed` for the variables the build reads; on by
    /// default.
    pub fn emit_rerun_if_env_changed(&mut self, emit: bool) -> &mut Build {
        self.options.cargo_output.env_changed = emit;
        self
    }

    /// Whether to print `cargo:warning` lines (kernels without typed wrappers, nvcc's
    /// warnings); on by default. They stay available from [`Module::warnings`].
    pub fn cargo_warnings(&mut self, emit: bool) -> &mut Build {
        self.options.cargo_output.warnings = emit;
        self
    }

    /// How the fat binaries store their SASS images (nvcc's `--compress-mode`):
    /// [`CompressMode::DEFAULT`] unless set here, by [`COMPRESS_MODE_ENV`] or by
    /// `compress-mode = "size"` in `[package.metadata.sasskit]`.
    ///
    /// Compression shrinks the binary several times over; the driver decompresses the image it
    /// loads. nvcc before 12.8 has no `--compress-mode`: it builds the default uncompressed and
    /// fails a build that asks for a mode. A `--compress-mode` given with [`Build::flag`] wins
    /// over this setting. Prebuilt outputs are always `size`: they ship in the crate.
    ///
    /// ```no_run
    /// sasskit_build::Build::new()
    ///     .file("kernels/saxpy.cu")
    ///     .compress_mode(sasskit_build::CompressMode::Size)
    ///     .compile();
    /// ```
    pub fn compress_mode(&mut self, mode: CompressMode) -> &mut Build {
        self.options.compress_mode = Some(mode);
        self
    }

    /// Whether to compile with device line information (`-lineinfo`), for profilers and
    /// `compute-sanitizer` to map SASS back to source lines. By default it follows cargo's
    /// profile (`DEBUG`): on in `dev`, off in `release`. Line information does not change the
    /// generated code. sasskit never adds `-G` (full device debug information), which turns
    /// device optimisation off; pass it with [`Build::flag`] when you want it.
    pub fn debug(&mut self, line_info: bool) -> &mut Build {
        self.options.debug = Some(line_info);
        self
    }

    /// Sets the targets, overriding `SASSKIT_ARCHS` and the crate metadata: `"sm_90,sm_100"`.
    pub fn archs(&mut self, list: &str) -> &mut Build {
        self.options.archs = Some(list.to_owned());
        self
    }

    /// Adds a `.cu` file with targets of its own, which win over every other setting: for a
    /// kernel that needs arch-specific features, such as `wgmma` with `"sm_90a"`.
    pub fn file_with_archs(&mut self, path: impl AsRef<Path>, list: &str) -> &mut Build {
        self.file(&path);
        self.options
            .file_archs
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
        self.options.shared_headers.push(path.as_ref().to_owned());
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
        self.options.require_typed = Some(required);
        self
    }

    /// Whether `kernels!` groups kernels whose names differ only in element-type tokens
    /// (`affine_f32`, `affine_bf16`, …; `cast_f32_bf16`, …) into families, each with one
    /// generic method (`module.affine::<T>(…)`, `module.cast::<T1, T2>(…)`) besides the
    /// per-type methods. On by default; `false` turns the automatic rule off, and only the
    /// families declared with [`Build::kernel_family`] remain. The setting is recorded in each
    /// module's manifest, where the macro reads it.
    pub fn kernel_families(&mut self, detect: bool) -> &mut Build {
        self.options.kernel_families = Some(detect);
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
        self.options
            .declared_families
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
        self.options.prebuilt = Some(dir.as_ref().to_owned());
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
        self.options.single_front_end = Some(on);
        self
    }

    /// Shares built fat binaries through this directory instead of `SASSKIT_CACHE_DIR`;
    /// [`Build::cache_mode`] decides whether this build writes to it.
    pub fn cache_dir(&mut self, dir: impl AsRef<Path>) -> &mut Build {
        self.options.cache_dir = Some(dir.as_ref().to_owned());
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
        self.options.cache_mode = Some(mode);
        self
    }

    /// Runs the fat binary compilations through this launcher (such as `sccache`) instead of the
    /// one `SASSKIT_NVCC_LAUNCHER` or an sccache `RUSTC_WRAPPER` names. The launched nvcc runs
    /// in the crate root with a command line that names no checkout, so that sccache shares its
    /// PTX and cubin steps between clones at different paths (see the README).
    pub fn nvcc_launcher(&mut self, launcher: impl AsRef<Path>) -> &mut Build {
        self.options.launcher = Some(launcher.as_ref().to_owned());
        self
    }

    /// Uses this nvcc instead of searching for one.
    pub fn nvcc(&mut self, path: impl AsRef<Path>) -> &mut Build {
        self.options.nvcc = Some(path.as_ref().to_owned());
        self
    }

    /// Writes the outputs under this folder instead of `$OUT_DIR`, in its `sasskit`
    /// subfolder, as under `OUT_DIR` (`sasskit::kernels!` reads `$OUT_DIR/sasskit`, so only
    /// `OUT_DIR` itself suits a crate that uses the macros; other folders are for tools).
    pub fn out_dir(&mut self, dir: impl AsRef<Path>) -> &mut Build {
        self.options.out_dir = Some(dir.as_ref().to_owned());
        self
    }

    /// Reads `[package.metadata.sasskit]` and resolves relative paths from this directory
    /// instead of `$CARGO_MANIFEST_DIR`.
    pub fn manifest_dir(&mut self, dir: impl AsRef<Path>) -> &mut Build {
        self.options.manifest_dir = Some(dir.as_ref().to_owned());
        self
    }

    /// Sets an environment variable as this build reads it, in place of the process's: every
    /// variable sasskit reads (`SASSKIT_ARCHS`, `SASSKIT_CACHE_DIR`, `NVCC`, `CUDA_HOME`, `PATH`,
    /// cargo's `OUT_DIR`, `TARGET`, …) and every program it runs (nvcc, the launcher) see the
    /// value, and nothing else in the process does. For tools and tests that run a build
    /// outside a build script; a `build.rs` has the environment cargo gave it. The `cc` crate,
    /// which finds the host compiler, reads the process's own environment.
    ///
    /// ```no_run
    /// let output = sasskit_build::Build::new()
    ///     .file("kernels/saxpy.cu")
    ///     .env("SASSKIT_ARCHS", "sm_90")
    ///     .env("OUT_DIR", "target/kernels")
    ///     .try_compile();
    /// ```
    pub fn env(&mut self, name: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Build {
        self.options
            .env
            .push((name.as_ref().to_owned(), Some(value.as_ref().to_owned())));
        self
    }

    /// Makes this build read an environment variable as unset, whatever the process has; see
    /// [`Build::env`].
    pub fn env_remove(&mut self, name: impl AsRef<OsStr>) -> &mut Build {
        self.options.env.push((name.as_ref().to_owned(), None));
        self
    }

    /// Compiles the files into the static library `lib<name>.a` instead of fat binaries: for
    /// `.cu` files whose kernels are launched from C++ host code, called from Rust through FFI.
    /// See [`StaticLibrary`].
    ///
    /// Every setting of the `Build` applies (targets, `include`, `define`, `flag`, `cache_dir`,
    /// `cache_mode`, `env`, the cargo output switches); each file becomes one object with one
    /// `-gencode arch=compute_XY,code=sm_XY` per target, compiled position-independent.
    pub fn static_library(&self, name: &str) -> StaticLibrary {
        StaticLibrary::new(self.options.clone(), name)
    }

    /// Builds every file, printing cargo's rerun lines; on failure prints the error and exits
    /// the build script with status 1.
    pub fn compile(&self) -> Output {
        error::or_exit(self.try_compile())
    }

    /// Builds every file and returns what it produced, or the first error.
    pub fn try_compile(&self) -> Result<Output, Error> {
        let result = self.scope(|| pipeline::run(&Settings::resolve(&self.options)?));
        // Also after a failure: the variables read so far decide whether a rerun can fix it.
        self.options.cargo_output.flush();
        result
    }

    /// Runs `work` with this build's [`Build::env`] overrides in force.
    fn scope<R>(&self, work: impl FnOnce() -> R) -> R {
        env::Overrides::new(&self.options.env).scope(work)
    }
}
