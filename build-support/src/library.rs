//! Static-library mode: `.cu` files whose kernels are launched by C++ host code (`kernel<<<…>>>`
//! inside `extern "C"` host functions) compiled into objects with SASS for every target,
//! archived into `lib<name>.a` and linked into the crate, with the CUDA runtime linked
//! statically, so the program needs only the driver.
//!
//! ```text
//! Build::static_library("moe") ─► StaticLibrary::compile
//!    per .cu file, in parallel within cargo's jobserver (object):
//!       nvcc -E per target architecture, and once for the host pass (-U__CUDA_ARCH__)
//!       host pass → extern "C" host functions (signature::host)
//!       build key → previous object or cache entry (verified) → reuse
//!       else nvcc -c, one -gencode per target, -Xcompiler -fPIC
//!       the fat binary in the object (.nv_fatbin) parsed: an image for every target, else error
//!    archive: cc's archiver → lib<name>.a, renamed into place
//!    link lines: -l static=<name>, -l static=cudart_static (the toolkit's), rt, dl, pthread,
//!                the C++ standard library
//!    OUT_DIR/sasskit/<name>.library.toml: images, objects, host functions
//! ```
//!
//! With a prebuilt folder (`Build::prebuilt`), `prebuilt` first looks for the library built for
//! this target triple: when its recorded inputs match the crate's files and settings, its
//! archive and CUDA runtime are verified and installed, and nvcc does not run;
//! `SASSKIT_PREBUILD=refresh` builds with `--compress-mode=size` and writes them.

mod archive;
mod functions;
mod link;
mod object;
mod prebuilt;
mod whole;

use std::path::{Path, PathBuf};

use sasskit_core::library::{FORMAT, HostFunction, LibraryInfo, LibraryManifest};
use sasskit_core::manifest::{Origin, ToolkitInfo};
use sasskit_core::out_dir;

use crate::compile::Session;
use crate::error::{Error, ErrorKind};
use crate::job::Job;
use crate::options::Options;
use crate::prebuilt_folder::{self, Folder, Mode, REFRESH_HINT};
use crate::settings::Settings;
use crate::{cargo_output, claims, config, env, fs, parallel, signature};

pub use link::Cudart;

/// A static library of `.cu` files whose host code launches their kernels; made by
/// [`Build::static_library`](crate::Build::static_library), which takes the files, targets and
/// flags of the [`Build`](crate::Build).
///
/// ```no_run
/// // build.rs
/// sasskit_build::Build::new()
///     .files(["kernels/moe_gguf.cu", "kernels/moe_wmma.cu"])
///     .flag("-std=c++17")
///     .static_library("moe")
///     .host_pointer("moe_gemm_gguf_prefill", "expert_ids")
///     .compile();
/// ```
///
/// `sasskit::host_functions!(moe)` then declares every `extern "C"` host function of the files
/// and generates a typed wrapper for each, which refuses to run on a device the library has
/// no SASS for.
#[derive(Debug, Clone)]
#[must_use]
pub struct StaticLibrary {
    options: Options,
    name: String,
    marks: signature::Marks,
    cudart: Cudart,
    optional: bool,
}

/// What [`StaticLibrary::compile`] produced.
#[derive(Debug, Clone)]
pub struct Library {
    manifest: LibraryManifest,
    archive: PathBuf,
    manifest_path: PathBuf,
    warnings: Vec<String>,
    /// The files the objects were built from.
    inputs: Vec<PathBuf>,
}

impl StaticLibrary {
    /// The library `name` of a build's files and settings.
    pub(crate) fn new(options: Options, name: &str) -> StaticLibrary {
        StaticLibrary {
            options,
            name: name.to_owned(),
            marks: signature::Marks::default(),
            cudart: Cudart::Static,
            optional: false,
        }
    }

    /// Marks a pointer parameter of a host function as pointing to host memory: the wrapper
    /// takes a raw `*const T`/`*mut T` for it instead of a device buffer. Parameters that
    /// are not marked and are pointers take device buffers. `function` `"*"` marks the
    /// parameter of that name in every function. The build fails when no function has such a
    /// pointer parameter.
    pub fn host_pointer(&mut self, function: &str, parameter: &str) -> &mut StaticLibrary {
        self.marks
            .host_pointers
            .push((function.to_owned(), parameter.to_owned()));
        self
    }

    /// Marks a parameter of a host function as a stream: a `cudaStream_t` the C API passes as
    /// `void*`, or cast to an integer (`int64_t`, `uint64_t`, `intptr_t`, `uintptr_t`). The
    /// wrapper takes a `&CudaStream` for it, passes the stream's handle as the C type, and
    /// records the buffers' use on that stream; the `extern "C"` declaration in `ffi` keeps the
    /// C type (`*mut c_void`, `i64`). `cudaStream_t` and `CUstream` parameters need no mark.
    ///
    /// `function` `"*"` marks the parameter of that name in every function that has one, as
    /// `.stream_parameter("*", "stream")` does for candle's launchers. The build fails when the
    /// mark matches no parameter, or a parameter of another type.
    pub fn stream_parameter(&mut self, function: &str, parameter: &str) -> &mut StaticLibrary {
        self.marks
            .streams
            .push((function.to_owned(), parameter.to_owned()));
        self
    }

    /// Declares a non-const pointer parameter (`T*`) of a host function read-only: the wrapper
    /// takes `&impl DeviceBuffer<T>` (`&impl AnyDeviceBuffer` for `void*`) instead of a mutable
    /// buffer, so inputs the C API forgot to declare `const` can be shared. The declaration in
    /// `ffi` keeps `*mut T`.
    ///
    /// This is the crate's promise, which C cannot check: if the function writes through the
    /// pointer, it writes to a buffer Rust believes unchanged. `function` `"*"` marks the
    /// parameter of that name in every function that has one (`const T*` parameters are
    /// read-only already and pass). The build fails when the mark matches no parameter, or a
    /// parameter that is not a pointer.
    ///
    /// ```no_run
    /// // build.rs
    /// sasskit_build::Build::new()
    ///     .file("kernels/rope.cu")
    ///     .static_library("rope")
    ///     .stream_parameter("*", "stream")
    ///     .read_only("*", "cos")
    ///     .read_only("rope_f32", "sin")
    ///     .compile();
    /// ```
    pub fn read_only(&mut self, function: &str, parameter: &str) -> &mut StaticLibrary {
        self.marks
            .read_only
            .push((function.to_owned(), parameter.to_owned()));
        self
    }

    /// Makes the library optional: built for some GPUs only (an `sm_90a` library next to
    /// portable ones), it does not stop the program on others. The generated
    /// `Library::check` then passes on a device the library has no code for, reports it as
    /// unavailable there, and `Library::is_available` says so, for the program to take another
    /// path; a function called there returns `LaunchError::Unavailable` without running.
    /// Defaults to `false`: the check refuses such a device.
    pub fn optional(&mut self, optional: bool) -> &mut StaticLibrary {
        self.optional = optional;
        self
    }

    /// How the CUDA runtime is linked: [`Cudart::Static`] (the default: the toolkit's
    /// `libcudart_static.a`, so the program needs only the driver), [`Cudart::Shared`]
    /// (`libcudart.so`, which must then be found at run time) or [`Cudart::None`].
    pub fn cudart(&mut self, cudart: Cudart) -> &mut StaticLibrary {
        self.cudart = cudart;
        self
    }

    /// Builds the library and prints cargo's link and rerun lines; on failure prints the error
    /// and exits the build script with status 1.
    pub fn compile(&self) -> Library {
        crate::error::or_exit(self.try_compile())
    }

    /// Builds the library and returns what it produced, or the first error.
    pub fn try_compile(&self) -> Result<Library, Error> {
        let result = env::Overrides::new(&self.options.env).scope(|| self.try_compile_inner());
        self.options.cargo_output.flush();
        result
    }

    fn try_compile_inner(&self) -> Result<Library, Error> {
        whole::check_name(&self.name)?;
        let target = link::TargetFacts::from_cargo();
        target.check_supported()?;
        let setup = Settings::resolve(&self.options)?;
        whole::check_one_target_list(&setup.jobs)?;
        let Some(first) = setup.jobs.first() else {
            return Err(Error::config(format!(
                "the static library `{}` has no `.cu` files: add them with `Build::file`",
                self.name
            )));
        };
        // Two libraries of one name would overwrite each other's archive and manifest.
        claims::claim_library(&setup.out_dir, &self.name, &first.source)?;
        let library_dir = setup.out_dir.join(&self.name);
        fs::create_dir_all(&library_dir)?;
        let manifest_path = setup
            .out_dir
            .join(out_dir::library_manifest_file(&self.name));
        let (folder, mode) = (&setup.folder, setup.mode);
        let prebuilt = folder
            .as_ref()
            .filter(|_| mode != Mode::Off)
            .map(|folder| prebuilt::Prebuilt::new(folder, &self.name, target.triple()));
        let settings = self.prebuilt_settings(&setup, &target);
        let mut stale = None;
        if let Some(prebuilt) = prebuilt.as_ref().filter(|_| mode != Mode::Refresh) {
            match prebuilt.lookup(&settings, &first.targets, self.cudart)? {
                prebuilt::Lookup::Current(found) => {
                    return self.use_prebuilt(
                        prebuilt,
                        *found,
                        mode,
                        &setup,
                        &target,
                        &manifest_path,
                    );
                }
                prebuilt::Lookup::Stale(reason) => {
                    if mode == Mode::Check {
                        return Err(Error::new(ErrorKind::Prebuilt(format!(
                            "the prebuilt library `{}` in `{}` is stale: {reason}\n{REFRESH_HINT}",
                            self.name,
                            prebuilt.display()
                        ))));
                    }
                    stale = Some(reason);
                }
            }
        }
        let nvcc = match setup.find_nvcc() {
            Ok(nvcc) => nvcc,
            Err(missing) => {
                return Err(match (&prebuilt, stale) {
                    (Some(prebuilt), Some(reason)) if missing.is_toolkit() => {
                        Error::new(ErrorKind::Prebuilt(format!(
                            "the prebuilt library `{}` in `{}` is stale: {reason}; and there is \
                             no nvcc to build it ({missing}). Either {REFRESH_HINT}, or install \
                             the CUDA toolkit here",
                            self.name,
                            prebuilt.display()
                        )))
                    }
                    _ => missing,
                });
            }
        };
        if let (Some(prebuilt), Some(reason)) = (&prebuilt, &stale) {
            setup.cargo_output.warning(&format!(
                "the prebuilt library `{}` in `{}` is stale ({reason}): building it with nvcc; \
                 {REFRESH_HINT}",
                self.name,
                prebuilt.display()
            ));
        }
        let jobs: Vec<&Job> = setup.jobs.iter().collect();
        let session = Session::new(&setup, nvcc, &jobs, mode == Mode::Refresh)?;
        let library = self.build_with_nvcc(&session, &setup, &target, &manifest_path)?;
        if let (Mode::Refresh, Some(prebuilt), Some(folder)) = (mode, &prebuilt, folder) {
            self.write_prebuilt(prebuilt, folder, &library, &session, &setup, &settings)?;
        }
        Ok(library)
    }

    /// Writes the library nvcc just built into the crate's prebuilt folder, with the toolkit's
    /// runtime and the crate files it read, and prints the size.
    fn write_prebuilt(
        &self,
        prebuilt: &prebuilt::Prebuilt<'_>,
        folder: &Folder,
        library: &Library,
        session: &Session<'_>,
        setup: &Settings,
        settings: &[String],
    ) -> Result<(), Error> {
        let (owned, excluded) = setup.crate_files(Some(&link::toolkit_root(&session.nvcc)));
        let recorded = folder.record_inputs(&library.inputs, settings, &owned, &excluded)?;
        let runtime = match self.cudart {
            Cudart::Static => self
                .cudart
                .toolkit_dir(&session.nvcc)?
                .zip(self.cudart.file())
                .map(|(dir, file)| dir.join(file)),
            Cudart::Shared | Cudart::None => None,
        };
        let size = prebuilt.write(
            &library.manifest,
            &library.archive,
            runtime.as_deref(),
            recorded,
        )?;
        for line in prebuilt_folder::size_report(folder, &[(self.name.clone(), size)]) {
            setup.cargo_output.warning(&line);
        }
        Ok(())
    }

    /// The settings a prebuilt library records besides its files: those of its objects, the
    /// files themselves, the target, the runtime and the parameter marks.
    fn prebuilt_settings(&self, setup: &Settings, target: &link::TargetFacts) -> Vec<String> {
        let manifest_dir = setup.manifest_dir.as_deref();
        let mut settings = setup.prebuilt_key(&setup.jobs[0]);
        settings.push(format!("library={}", self.name));
        for job in &setup.jobs {
            let source = manifest_dir
                .and_then(|root| prebuilt_folder::relative(&job.source, root))
                .unwrap_or_else(|| job.source.display().to_string());
            settings.push(format!("source={source}"));
        }
        settings.push(format!("target={}", target.triple()));
        settings.push(format!("cudart={}", self.cudart.name()));
        let signature::Marks {
            host_pointers,
            streams,
            read_only,
        } = &self.marks;
        for (kind, marks) in [
            ("host_pointer", host_pointers),
            ("stream", streams),
            ("read_only", read_only),
        ] {
            for (function, parameter) in marks {
                settings.push(format!("{kind}={function}:{parameter}"));
            }
        }
        settings
    }

    /// Installs the current prebuilt library, links it, and replays what its functions warn
    /// about; `SASSKIT_PREBUILD=check` also wants it built by the nvcc found, if any.
    fn use_prebuilt(
        &self,
        prebuilt: &prebuilt::Prebuilt<'_>,
        found: prebuilt::Found,
        mode: Mode,
        setup: &Settings,
        target: &link::TargetFacts,
        manifest_path: &Path,
    ) -> Result<Library, Error> {
        let nvcc = || setup.find_nvcc().ok();
        if mode == Mode::Check
            && let Some(nvcc) = nvcc().filter(|nvcc| nvcc.version != found.nvcc_version())
        {
            return Err(Error::new(ErrorKind::Prebuilt(format!(
                "the prebuilt library `{}` in `{}` was built by nvcc {}, and the nvcc here is \
                 {}\n{REFRESH_HINT}",
                self.name,
                prebuilt.display(),
                found.nvcc_version(),
                nvcc.version
            ))));
        }
        let library_dir = setup.out_dir.join(&self.name);
        let installed = prebuilt.install(
            found,
            &setup.out_dir,
            &library_dir,
            manifest_path,
            self.optional,
        )?;
        let runtime_dir = match (self.cudart, installed.runtime_dir) {
            (Cudart::Shared, _) => {
                let nvcc = nvcc().ok_or_else(|| {
                    Error::config(format!(
                        "the prebuilt library `{}` links the CUDA runtime as a shared library, \
                         which needs the toolkit's `libcudart.so` to link, and there is no nvcc \
                         here: link it statically (`Cudart::Static`, the default), whose \
                         prebuilt folder ships the runtime, or install the CUDA toolkit",
                        self.name
                    ))
                })?;
                self.cudart.toolkit_dir(&nvcc)?
            }
            (_, dir) => dir,
        };
        for input in &installed.inputs {
            cargo_output::rerun_if_changed(input);
        }
        let mut warnings: Vec<String> = installed
            .manifest
            .functions
            .iter()
            .filter_map(signature::untyped_warning)
            .collect();
        warnings.extend(functions::unmarked_streams(&installed.manifest.functions));
        for warning in &warnings {
            setup.cargo_output.warning(warning);
        }
        let archive = setup.out_dir.join(out_dir::archive_file(&self.name));
        if setup.cargo_output.metadata {
            let lines = link::lines(
                &setup.out_dir,
                &self.name,
                self.cudart,
                target,
                runtime_dir.as_deref(),
            );
            for line in lines {
                println!("{line}");
            }
        }
        Ok(Library {
            manifest: installed.manifest,
            archive,
            manifest_path: manifest_path.to_owned(),
            warnings,
            inputs: installed.inputs,
        })
    }

    /// Compiles every file with nvcc (or takes its object from the last build or the cache),
    /// archives the objects, writes the manifest and prints the link lines.
    fn build_with_nvcc(
        &self,
        session: &Session<'_>,
        setup: &Settings,
        target: &link::TargetFacts,
        manifest_path: &Path,
    ) -> Result<Library, Error> {
        let jobs = &setup.jobs;
        // A prebuilt library's manifest names objects that were never written here.
        let previous = std::fs::read_to_string(manifest_path)
            .ok()
            .and_then(|text| LibraryManifest::from_toml(&text).ok())
            .filter(|manifest| manifest.library.origin == Origin::Built);
        let context = object::Context {
            session,
            library: &self.name,
            extra_args: target.object_flags(),
            marks: &self.marks,
            crate_root: setup.manifest_dir.as_deref(),
            previous: previous.as_ref(),
        };
        let prepared = parallel::run_all(jobs, |job| context.prepare(job))
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?;
        let mut order: Vec<usize> = (0..prepared.len()).collect();
        // The largest translation units first, so the long compilations start early.
        order.sort_by_key(|&index| std::cmp::Reverse(prepared[index].cost()));
        let built = parallel::run_all(&order, |&index| context.finish(&prepared[index]));
        let mut objects: Vec<Option<object::Built>> = prepared.iter().map(|_| None).collect();
        for (index, result) in order.into_iter().zip(built) {
            objects[index] = Some(result?);
        }
        let objects: Vec<object::Built> = objects.into_iter().flatten().collect();

        let functions = functions::merge(&objects, &self.marks)?;
        let archive_path = session
            .settings
            .out_dir
            .join(out_dir::archive_file(&self.name));
        let object_paths: Vec<&Path> = objects.iter().map(|built| built.path.as_path()).collect();
        archive::create(&archive_path, &object_paths)?;
        let runtime_dir = self.cudart.toolkit_dir(&session.nvcc)?;
        let link_lines = link::lines(
            &session.settings.out_dir,
            &self.name,
            self.cudart,
            target,
            runtime_dir.as_deref(),
        );

        let mut warnings = Vec::new();
        let mut inputs = Vec::new();
        for built in &objects {
            for input in &built.inputs {
                cargo_output::rerun_if_changed(input);
                if !inputs.contains(input) {
                    inputs.push(input.clone());
                }
            }
            warnings.extend(built.warnings.iter().cloned());
        }
        warnings.extend(functions::unmarked_streams(&functions));
        for warning in &warnings {
            setup.cargo_output.warning(warning);
        }
        let manifest = LibraryManifest {
            format: FORMAT,
            library: LibraryInfo {
                name: self.name.clone(),
                archive: out_dir::archive_file(&self.name),
                targets: config::names(&jobs[0].targets),
                build_key: whole::library_key(&objects),
                cache: whole::library_cache(&objects),
                optional: self.optional,
                origin: Origin::Built,
            },
            toolkit: ToolkitInfo {
                nvcc: session.nvcc.tool.path().display().to_string(),
                version: session.nvcc.version.clone(),
                flags: session.flags.clone(),
            },
            images: whole::library_images(&objects),
            objects: objects.iter().map(|built| built.info.clone()).collect(),
            functions,
            types: Vec::new(),
            prebuilt: None,
        };
        // The archive is in place before the manifest that names it.
        fs::write_atomic(manifest_path, manifest.to_toml().as_bytes())?;
        if setup.cargo_output.metadata {
            for line in link_lines {
                println!("{line}");
            }
        }
        Ok(Library {
            manifest,
            archive: archive_path,
            manifest_path: manifest_path.to_owned(),
            warnings,
            inputs,
        })
    }
}

impl Library {
    /// The library name, which `sasskit::host_functions!` takes.
    pub fn name(&self) -> &str {
        &self.manifest.library.name
    }

    /// The archive, `lib<name>.a`.
    pub fn archive(&self) -> &Path {
        &self.archive
    }

    /// The manifest file.
    pub fn manifest_path(&self) -> &Path {
        &self.manifest_path
    }

    /// The manifest's contents.
    pub fn manifest(&self) -> &LibraryManifest {
        &self.manifest
    }

    /// The `extern "C"` host functions the files define; those without a Rust declaration have
    /// [`HostFunction::untyped`] set.
    pub fn functions(&self) -> &[HostFunction] {
        &self.manifest.functions
    }

    /// The warnings the build printed: functions without declarations and why, nvcc's own
    /// warnings.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}
