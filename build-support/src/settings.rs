//! The one value a build runs on: a [`Build`](crate::Build)'s [`Options`] resolved once, each
//! setting against its environment variable, the crate's metadata and its default, into
//! [`Settings`]. Every later stage (the pipeline, nvcc's session, the static library, the
//! prebuilt folder's key) reads a setting from here and resolves nothing again.
//!
//! To follow a setting: its setter in `lib.rs` writes a field of [`Options`]; [`Settings::resolve`]
//! gives its final value (for targets through `config`, for flags through [`flags`], for files
//! through [`jobs`]); [`Settings::nvcc_flags`] and [`crate::compile::Session`] put it on nvcc's
//! command line, and [`Settings::prebuilt_key`] records it for the prebuilt folder.

mod flags;
mod jobs;

use std::path::{Path, PathBuf};

use sasskit_core::kernel::LongSize;

use crate::cache::Cache;
use crate::cargo_output::CargoOutput;
use crate::command::Tool;
use crate::compress_mode::Compression;
use crate::crosscheck::Reading;
use crate::error::{self, Error};
use crate::job::Job;
use crate::launcher::Launcher;
use crate::options::Options;
use crate::prebuilt_folder::{self, Folder, Mode, PREBUILD_ENV};
use crate::shared::{self, Registry};
use crate::toolkit::Nvcc;
use crate::{claims, config, env, fs};

/// Set to `1` for the fast mode of development builds, as
/// [`Build::single_front_end`](crate::Build::single_front_end) does; `0` turns it off again.
pub const SINGLE_FRONT_END_ENV: &str = "SASSKIT_SINGLE_FRONT_END";

/// Set to `1` to fail the build when a kernel cannot get a typed wrapper, as
/// [`Build::require_typed_kernels`](crate::Build::require_typed_kernels) does; `0` turns it off
/// again.
pub const REQUIRE_TYPED_ENV: &str = "SASSKIT_REQUIRE_TYPED_KERNELS";

/// The largest image, in bytes, that the build decompresses to check it (a prebuilt or
/// `--compress-mode` fat binary's cubins):
/// [`DEFAULT_MAX_IMAGE_SIZE`](sasskit_core::fatbin::DEFAULT_MAX_IMAGE_SIZE), 1 GiB, unless set.
/// An image above it fails the build; raise it only for a genuine image that large.
pub const MAX_IMAGE_SIZE_ENV: &str = "SASSKIT_MAX_IMAGE_SIZE";

/// Everything a build decided before it looks at any output: resolved once, read by every stage.
#[derive(Debug)]
pub(crate) struct Settings {
    /// Which lines the build prints for cargo.
    pub(crate) cargo_output: CargoOutput,
    /// The crate root: `Build::manifest_dir`, else `CARGO_MANIFEST_DIR`.
    pub(crate) manifest_dir: Option<PathBuf>,
    /// `Build::out_dir`, else `OUT_DIR`; the outputs go to its `sasskit` folder, [`Self::out_dir`].
    pub(crate) out_root: PathBuf,
    pub(crate) out_dir: PathBuf,
    /// One per `.cu` file, in the order they were added, each with its targets.
    pub(crate) jobs: Vec<Job>,
    /// The crate's prebuilt folder, and what `SASSKIT_PREBUILD` asks of it.
    pub(crate) folder: Option<Folder>,
    pub(crate) mode: Mode,
    /// The types generated from the shared headers.
    pub(crate) shared: Registry,
    /// `Build::include`, as given (relative to the crate root).
    pub(crate) includes: Vec<PathBuf>,
    /// `Build::define`.
    pub(crate) defines: Vec<(String, Option<String>)>,
    /// The user's nvcc flags, checked.
    pub(crate) user_flags: Vec<String>,
    /// `Build::compress_mode`, else `SASSKIT_COMPRESS_MODE`, else the metadata, else the
    /// default; prebuilt outputs are always `size`.
    pub(crate) compression: Compression,
    /// `Build::debug`: line information asked for (or refused) whatever the profile.
    pub(crate) line_info: Option<bool>,
    /// How the compiled code is read back: C's `long` on the target, the image ceiling.
    pub(crate) reading: Reading,
    /// `Build::single_front_end`, else `SASSKIT_SINGLE_FRONT_END`.
    pub(crate) single_front_end: bool,
    /// `Build::require_typed_kernels`, else `SASSKIT_REQUIRE_TYPED_KERNELS`.
    pub(crate) require_typed: bool,
    /// The shared build cache, if one is configured.
    pub(crate) cache: Option<Cache>,
    /// A compiler launcher (sccache) for the fat binary compilations, if one is configured.
    pub(crate) launcher: Option<Launcher>,
    /// `Build::nvcc`: the nvcc to use instead of searching.
    pub(crate) nvcc: Option<PathBuf>,
    /// Whether nvcc gets the `cc` crate's host compiler (`-ccbin`).
    pub(crate) pass_ccbin: bool,
}

impl Settings {
    /// Resolves `options`: the targets of every file, the flags, the output folder, the
    /// prebuilt folder, the cache and launcher, and the shared headers' Rust types.
    pub(crate) fn resolve(options: &Options) -> Result<Settings, Error> {
        let manifest_dir = options
            .manifest_dir
            .clone()
            .or_else(|| env::cargo("CARGO_MANIFEST_DIR").map(PathBuf::from));
        let metadata = config::Metadata::read(manifest_dir.as_deref())?;
        let targets = config::resolve(options.archs.as_deref(), &metadata)?;
        config::check_not_empty(&targets)?;
        let user_flags = flags::check(&options.flags)?;
        let headers = jobs::headers(&options.shared_headers, manifest_dir.as_deref())?;
        let out_root = match &options.out_dir {
            Some(dir) => dir.clone(),
            None => PathBuf::from(env::cargo("OUT_DIR").ok_or_else(|| {
                Error::config("`OUT_DIR` is not set: call sasskit_build from a build script, or set `Build::out_dir`")
            })?),
        };
        let out_dir = sasskit_core::out_dir::folder(&out_root);
        fs::create_dir_all(&out_dir)?;
        let jobs = jobs::jobs(options, manifest_dir.as_deref(), &targets, &metadata)?;
        for job in &jobs {
            claims::claim(&out_dir, &job.module, &job.source)?;
        }
        let (folder, mode) = prebuilt_folder(options, &metadata, manifest_dir.as_deref())?;
        let mut settings = Settings {
            cargo_output: options.cargo_output,
            launcher: Launcher::configured(options.launcher.as_deref(), manifest_dir.as_deref()),
            manifest_dir,
            out_root,
            out_dir,
            jobs,
            folder,
            mode,
            shared: Registry::default(),
            includes: options.includes.clone(),
            defines: options.defines.clone(),
            user_flags,
            compression: Compression::resolve(options.compress_mode, &metadata)?,
            line_info: options.debug,
            reading: Reading {
                long: long_size(),
                max_image_size: max_image_size()?,
            },
            single_front_end: options
                .single_front_end
                .map_or_else(|| env::switch(SINGLE_FRONT_END_ENV), Ok)?,
            require_typed: options
                .require_typed
                .map_or_else(|| env::switch(REQUIRE_TYPED_ENV), Ok)?,
            cache: Cache::configured(options.cache_dir.as_deref(), options.cache_mode)?,
            nvcc: options.nvcc.clone(),
            pass_ccbin: !options.no_ccbin,
        };
        settings.shared = settings.generate_shared(&headers)?;
        Ok(settings)
    }

    /// The shared headers' Rust types and layouts: from the prebuilt folder's bindings while
    /// they are current, else from bindgen.
    fn generate_shared(&self, headers: &[shared::Header]) -> Result<Registry, Error> {
        let defines_and_includes = self.include_and_define_flags();
        let bindings = self
            .folder
            .clone()
            .filter(|_| !headers.is_empty())
            .map(|folder| {
                let (owned, excluded) = self.crate_files(None);
                shared::Bindings::new(
                    folder,
                    self.mode,
                    &defines_and_includes,
                    self.reading.long,
                    owned,
                    excluded,
                )
            });
        shared::generate_all(
            headers,
            &defines_and_includes,
            &self.out_dir,
            bindings.as_ref(),
            self.cargo_output,
        )
    }

    /// nvcc as the build names it (`Build::nvcc`), else as [`Nvcc::find`] finds it.
    pub(crate) fn find_nvcc(&self) -> Result<Nvcc, Error> {
        let target_triple = env::cargo("TARGET").and_then(|triple| triple.into_string().ok());
        match &self.nvcc {
            Some(path) => Nvcc::query(Tool::new(path), "`Build::nvcc`".to_owned()),
            None => Nvcc::find(target_triple.as_deref()),
        }
    }

    /// Where the crate's own files are (its folder, the sources' folders, its include folders)
    /// and where they are not (the build's output, the `toolkit` folder unless the crate is
    /// inside it): what decides which files a prebuilt output records as its inputs.
    pub(crate) fn crate_files(&self, toolkit: Option<&Path>) -> (Vec<PathBuf>, Vec<PathBuf>) {
        let manifest_dir = self.manifest_dir.as_deref();
        let canonical = |path: &Path| path.canonicalize().ok();
        let mut owned: Vec<PathBuf> = manifest_dir.into_iter().filter_map(canonical).collect();
        owned.extend(
            self.jobs
                .iter()
                .filter_map(|job| job.source.parent())
                .filter_map(canonical),
        );
        owned.extend(self.includes.iter().filter_map(|dir| {
            canonical(&manifest_dir.map_or_else(|| dir.clone(), |root| root.join(dir)))
        }));
        let mut excluded: Vec<PathBuf> = canonical(&self.out_root).into_iter().collect();
        if let Some(toolkit) = toolkit.and_then(canonical)
            && !owned.iter().any(|root| root.starts_with(&toolkit))
        {
            excluded.push(toolkit);
        }
        (owned, excluded)
    }
}

/// The crate's prebuilt folder, if it has one, and what `SASSKIT_PREBUILD` asks of it.
fn prebuilt_folder(
    options: &Options,
    metadata: &config::Metadata,
    manifest_dir: Option<&Path>,
) -> Result<(Option<Folder>, Mode), Error> {
    let folder = Folder::configured(options.prebuilt.as_deref(), metadata, manifest_dir)?;
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

/// Whether nvcc may run in this build: not on docs.rs. Without it, the error to report.
pub(crate) fn nvcc_forbidden() -> Option<Error> {
    (!prebuilt_folder::nvcc_allowed()).then(|| {
        Error::new(error::ErrorKind::NvccNotFound(
            "docs.rs builds run no nvcc".to_owned(),
        ))
    })
}

/// The largest image the build decompresses: `SASSKIT_MAX_IMAGE_SIZE` in bytes, else
/// [`DEFAULT_MAX_IMAGE_SIZE`](sasskit_core::fatbin::DEFAULT_MAX_IMAGE_SIZE).
fn max_image_size() -> Result<u64, Error> {
    let Some(value) = env::tracked(MAX_IMAGE_SIZE_ENV) else {
        return Ok(sasskit_core::fatbin::DEFAULT_MAX_IMAGE_SIZE);
    };
    value
        .to_str()
        .and_then(|text| text.trim().parse::<u64>().ok())
        .ok_or_else(|| {
            Error::config(format!(
                "`{MAX_IMAGE_SIZE_ENV}={}` is not a number of bytes (the default is {}, 1 GiB)",
                value.to_string_lossy(),
                sasskit_core::fatbin::DEFAULT_MAX_IMAGE_SIZE
            ))
        })
}

/// The width of C's `long` on the target being built, which nvcc gives device code too.
fn long_size() -> LongSize {
    let os = env::cargo("CARGO_CFG_TARGET_OS").and_then(|os| os.into_string().ok());
    os.as_deref()
        .map_or(LongSize::LP64, LongSize::for_target_os)
}
