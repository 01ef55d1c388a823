//! Compiling one `.cu` file: preprocess, extract signatures, build the fat binary, verify it,
//! write it and its manifest.

mod layout_check;
mod session;

pub(crate) use session::Session;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use sasskit_core::kernel::KernelSignature;
use sasskit_core::manifest::{
    CacheStatus, FORMAT, ImageInfo, Manifest, ModuleInfo, Origin, ToolkitInfo,
};
use sasskit_core::shared::SharedType;
use sasskit_core::{Arch, FatBinary, Target, Variant, out_dir};

use crate::error::{Error, ErrorKind};
use crate::job::{Compiled, Job};
use crate::launcher;
use crate::settings::REQUIRE_TYPED_ENV;
use crate::shared::Registry;
use crate::{config, crosscheck, deps, diagnostics, fs, key, nvcc_run, replay, signature, verify};

impl Session<'_> {
    /// Everything before nvcc compiles: preprocessing per architecture, signatures, the build
    /// key, and this build's previous output or a cache entry when one has the key.
    ///
    /// A first build with no cache and no launcher has nothing to look up: it preprocesses
    /// nothing here, and takes each architecture's translation unit from the nvcc run that
    /// compiles it (`-keep`: nvcc's own `.cpp1.ii`, byte for byte what `nvcc -E` prints), so a
    /// cold build runs no `nvcc -E` at all.
    pub(crate) fn prepare<'j>(&self, job: &'j Job) -> Result<Prepared<'j>, Error> {
        if self.defers_preprocessing(job) {
            return Ok(Prepared {
                job,
                analysis: None,
                found: None,
            });
        }
        let mut analysis = self.analyze(job, self.preprocess_per_arch(job)?)?;
        let found = self.lookup(
            job,
            &analysis.build_key,
            &analysis.kernels,
            &mut analysis.warnings,
        );
        Ok(Prepared {
            job,
            analysis: Some(analysis),
            found,
        })
    }

    /// Whether `job` compiles without a lookup: no cache, no launcher (which caches whole
    /// command lines, and `-keep` would change them), and no previous output of this build.
    fn defers_preprocessing(&self, job: &Job) -> bool {
        self.settings.cache.is_none()
            && self.settings.launcher.is_none()
            && !self
                .settings
                .out_dir
                .join(out_dir::manifest_file(&job.module))
                .exists()
    }

    /// Signatures, warnings and the build key of a file, from its translation units.
    fn analyze(
        &self,
        job: &Job,
        preprocessed: Vec<(Vec<String>, String)>,
    ) -> Result<Analysis, Error> {
        let source = job.source.display().to_string();
        let passes = preprocessed
            .iter()
            .map(|(targets, text)| signature::Pass {
                targets: targets.clone(),
                extracted: signature::extract(text, &self.settings.shared),
            })
            .collect();
        let extracted = signature::merge(passes).map_err(|message| {
            Error::new(ErrorKind::Signature(format!(
                "cannot generate Rust wrappers for `{source}`: {message}"
            )))
        })?;
        let mut warnings = extracted.warnings;
        match host_launched_warning(&source, &extracted.launches, extracted.mangled.len()) {
            Some(warning) => warnings.push(warning),
            None => warnings.extend(extracted.mangled),
        }
        let untyped: Vec<String> = extracted
            .kernels
            .iter()
            .filter_map(|kernel| Some((kernel, kernel.untyped.as_deref()?)))
            .map(|(kernel, why)| {
                format!(
                    "{}:{}: kernel `{}` gets no typed wrapper: {why}",
                    kernel.file, kernel.line, kernel.name
                )
            })
            .collect();
        if self.settings.require_typed && !untyped.is_empty() {
            return Err(Error::new(ErrorKind::Signature(format!(
                "cannot generate Rust wrappers for `{source}` (every kernel must be typed: \
                 `Build::require_typed_kernels(true)` or {REQUIRE_TYPED_ENV}=1):\n  {}",
                untyped.join("\n  ")
            ))));
        }
        warnings.extend(untyped.into_iter().map(|message| {
            format!(
                "{message}; it is still in the module: look it up by name with \
                 `module.loaded().function(\"…\")`, or make every kernel typed with \
                 `Build::require_typed_kernels(true)` ({REQUIRE_TYPED_ENV}=1)"
            )
        }));
        let mut args = self.base_args();
        for unit in self.units_of(job) {
            args.extend(gencode_args(&unit));
        }
        // A launched nvcc may name the source its own way, which `__FILE__` shows.
        let launched = self
            .settings
            .launcher
            .as_ref()
            .map(|launcher| launcher.key_args(&job.source, &args));
        let key_args: Vec<String> = args
            .iter()
            .chain(launched.iter().flatten())
            .chain(&self.nvcc_environment)
            .cloned()
            .collect();
        let build_key = key::build_key(
            preprocessed.iter().map(|(_, text)| text.as_str()),
            &self.nvcc,
            &self.host_compiler,
            &key_args,
            &job.targets,
            &self.roots,
            &job.source,
        );
        Ok(Analysis {
            preprocessed,
            kernels: extracted.kernels,
            warnings,
            build_key,
        })
    }

    /// Verifies the fat binary (found by [`Session::prepare`], or the parts nvcc compiled one
    /// target each, merged), checks the signatures against it, stores a new one in the cache
    /// and writes it and its manifest.
    pub(crate) fn finish(
        &self,
        prepared: Prepared<'_>,
        compiled: Option<Vec<Unit>>,
    ) -> Result<Compiled, Error> {
        let Prepared {
            job,
            analysis,
            found,
        } = prepared;
        let settings = self.settings;
        let source = job.source.display().to_string();
        let what = format!("`{source}`");
        let analysis = match (analysis, &compiled) {
            (Some(analysis), _) => analysis,
            (None, Some(units)) => self.analyze(job, self.kept_translation_units(job, units)?)?,
            (None, None) => {
                return Err(Error::internal(format_args!(
                    "nothing was compiled for {what}"
                )));
            }
        };
        let Analysis {
            preprocessed,
            kernels,
            mut warnings,
            build_key,
        } = analysis;
        let Found {
            bytes,
            cache,
            cross_checked,
            nvcc_warnings,
        } = match (found, compiled) {
            (Some(found), _) => found,
            (None, Some(units)) => {
                let (bytes, nvcc_warnings) = merge_units(job, units)?;
                warnings.extend(nvcc_warnings.iter().cloned());
                Found {
                    bytes,
                    cache: if settings.cache.is_some() {
                        CacheStatus::Miss
                    } else {
                        CacheStatus::Off
                    },
                    cross_checked: false,
                    nvcc_warnings,
                }
            }
            (None, None) => {
                return Err(Error::internal(format_args!(
                    "nothing was compiled for {what}"
                )));
            }
        };
        let fatbin_path = settings.out_dir.join(out_dir::fatbin_file(&job.module));
        let manifest_path = settings.out_dir.join(out_dir::manifest_file(&job.module));
        let fatbin = verify::verify(&bytes, &job.targets, &what)?;
        if !cross_checked {
            crosscheck::check(&fatbin, &kernels, &settings.shared, settings.reading, &what)?;
        }
        // Only verified and cross-checked bytes enter the shared cache.
        if let (CacheStatus::Miss, Some(store)) = (cache, &settings.cache) {
            let portable = replay::portable(&nvcc_warnings, &job.source);
            store.store(&build_key, &bytes, &portable)?;
        }
        let types = used_shared_types(&kernels, &settings.shared);
        let manifest = Manifest {
            format: FORMAT,
            module: ModuleInfo {
                name: job.module.clone(),
                source,
                fatbin: out_dir::fatbin_file(&job.module),
                targets: config::names(&job.targets),
                build_key,
                cache,
                front_end: self.front_end_of(job),
                origin: Origin::Built,
                unavailable: None,
            },
            toolkit: ToolkitInfo {
                nvcc: self.nvcc.tool.path().display().to_string(),
                version: self.nvcc.version.clone(),
                flags: self.flags.clone(),
            },
            images: fatbin.images().iter().map(ImageInfo::from_image).collect(),
            kernels,
            types,
            prebuilt: None,
            families: job.families.clone(),
        };
        // The fat binary first: a manifest never names bytes that are not in place yet.
        let warnings_path = settings.out_dir.join(out_dir::warnings_file(&job.module));
        replay::store(&warnings_path, &nvcc_warnings)?;
        fs::write_atomic(&fatbin_path, &bytes)?;
        fs::write_atomic(&manifest_path, manifest.to_toml().as_bytes())?;
        Ok(Compiled {
            manifest,
            fatbin_path,
            manifest_path,
            inputs: included_files(&preprocessed),
            warnings,
        })
    }

    /// The fat binary for `build_key` without nvcc: this build's previous output if it has the
    /// same key, else an entry of the shared cache that holds what this build would compile
    /// ([`Session::entry_mismatch`]). Candidates that fail are skipped with a warning naming
    /// the entry, never used; the rebuilt fat binary replaces the entry unless the cache is
    /// read-only. The nvcc warnings stored with the one found are added to `warnings`, marked
    /// as replayed, and returned as stored.
    fn lookup(
        &self,
        job: &Job,
        build_key: &str,
        kernels: &[KernelSignature],
        warnings: &mut Vec<String>,
    ) -> Option<Found> {
        if let Some(mut previous) = self.previous_output(job, build_key) {
            let stored = replay::load(
                &self
                    .settings
                    .out_dir
                    .join(out_dir::warnings_file(&job.module)),
            );
            warnings.extend(replay::marked(&stored, replay::FROM_PREVIOUS));
            previous.nvcc_warnings = stored;
            return Some(previous);
        }
        let cache = self.settings.cache.as_ref()?;
        let bytes = cache.lookup(build_key)?;
        let what = format!("`{}`", job.source.display());
        let Some(mismatch) = self.entry_mismatch(&bytes, job, kernels, &what) else {
            let stored = replay::localized(&cache.warnings(build_key), &job.source);
            warnings.extend(replay::marked(&stored, replay::FROM_CACHE));
            return Some(Found {
                bytes,
                cache: CacheStatus::Hit,
                cross_checked: true,
                nvcc_warnings: stored,
            });
        };
        let then = if cache.writes() {
            "rebuilding it and replacing the entry"
        } else {
            "rebuilding it locally (the cache is read-only, so the entry stays)"
        };
        warnings.push(format!(
            "the cache entry {} for {what} is corrupt or not what its key promises ({mismatch}); \
             {then}",
            cache.entry(build_key).display()
        ));
        None
    }

    /// Why a cache entry's bytes are not what this build would compile, or `None` when they
    /// are: a fat binary sasskit can read, with an image for every target of `job` and no other
    /// ([`verify::exactly`]), whose cubins define the kernels of this build's signatures with
    /// their parameter sizes ([`crosscheck::check`]). Anyone who can write to the cache can put
    /// another well-formed fat binary under a key; this catches every one whose kernels,
    /// signatures or targets differ, and nothing can catch one that differs only in code.
    fn entry_mismatch(
        &self,
        bytes: &[u8],
        job: &Job,
        kernels: &[KernelSignature],
        what: &str,
    ) -> Option<String> {
        let checked = verify::verify(bytes, &job.targets, what)
            .and_then(|fatbin| verify::exactly(&fatbin, &job.targets, what).map(|()| fatbin))
            .and_then(|fatbin| {
                crosscheck::check(
                    &fatbin,
                    kernels,
                    &self.settings.shared,
                    self.settings.reading,
                    what,
                )
            });
        checked.err().map(|error| error.to_string())
    }

    /// The fat binary this build wrote last time, when its manifest has the same build key and
    /// it still verifies: cargo reruns the build script for every file when one header changes,
    /// and only the files whose key changed need nvcc.
    fn previous_output(&self, job: &Job, build_key: &str) -> Option<Found> {
        let text = std::fs::read_to_string(
            self.settings
                .out_dir
                .join(out_dir::manifest_file(&job.module)),
        )
        .ok()?;
        let manifest = Manifest::from_toml(&text).ok()?;
        if manifest.module.build_key != build_key {
            return None;
        }
        let bytes = std::fs::read(self.settings.out_dir.join(&manifest.module.fatbin)).ok()?;
        verify::verify(&bytes, &job.targets, "the previous output").ok()?;
        Some(Found {
            bytes,
            cache: manifest.module.cache,
            cross_checked: false,
            nvcc_warnings: Vec::new(),
        })
    }

    /// One `nvcc --fatbin` for one target of `job` (through the launcher, if one is set), into a
    /// temporary file that is removed again. A build runs one per file and target, so that the
    /// jobserver's tokens stay busy however few files there are (nvcc compiles the targets of
    /// one run one after the other), and the parts are merged into the container one nvcc run
    /// would have written (sccache, too, caches only single-target runs correctly).
    ///
    /// With `keep` (a cold build, [`Session::prepare`]), nvcc also keeps its intermediate files
    /// in a temporary folder, and the unit carries the architecture's translation unit.
    pub(crate) fn compile_unit(
        &self,
        job: &Job,
        unit: &[Target],
        keep: bool,
    ) -> Result<Unit, Error> {
        let mut args = self.base_args();
        args.extend(gencode_args(unit));
        let tmp = fs::temporary_sibling(
            &self
                .settings
                .out_dir
                .join(out_dir::fatbin_file(&job.module)),
        );
        let keep_dir = keep.then(|| tmp.with_extension("keep"));
        if let Some(dir) = &keep_dir {
            fs::create_dir_all(dir)?;
            args.extend([
                "-keep".to_owned(),
                "-keep-dir".to_owned(),
                dir.display().to_string(),
            ]);
        }
        let mut command = if let Some(launcher) = &self.settings.launcher {
            launcher.fatbin_command(self.nvcc.tool.path(), &args, &tmp, &job.source)
        } else {
            let mut command = self.nvcc.tool.command();
            command
                .arg("--fatbin")
                .args(&args)
                .arg("-o")
                .arg(&tmp)
                .arg(&job.source);
            command
        };
        let launched = self.settings.launcher.is_some();
        let written =
            nvcc_run::run_to_file(&mut command, &self.nvcc, &tmp, &job.source, |stderr| {
                if launched {
                    launcher::name_the_source(&stderr, &job.source)
                } else {
                    stderr
                }
            });
        let kept = keep_dir.as_deref().map(kept_translation_unit);
        if let Some(dir) = &keep_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        let written = written?;
        Ok(Unit {
            targets: unit.to_vec(),
            bytes: written.bytes,
            preprocessed: kept.transpose()?,
            warnings: diagnostics::normalize(&String::from_utf8_lossy(&written.stderr)),
        })
    }

    /// The translation units of a cold build, from what its nvcc runs kept, in the order and
    /// with the target names [`Session::preprocess_per_arch`] gives them: the same texts, so
    /// the same signatures and build key.
    fn kept_translation_units(
        &self,
        job: &Job,
        units: &[Unit],
    ) -> Result<Vec<(Vec<String>, String)>, Error> {
        self.passes(job)
            .into_iter()
            .map(|(_, targets)| {
                let text = units
                    .iter()
                    .find(|unit| {
                        unit.targets
                            .iter()
                            .any(|target| targets.contains(&target.to_string()))
                    })
                    .and_then(|unit| unit.preprocessed.clone())
                    .ok_or_else(|| {
                        Error::new(ErrorKind::Verify(format!(
                            "nvcc kept no translation unit of `{}` for {}; this is a sasskit \
                             bug, please report it",
                            job.source.display(),
                            targets.join(", ")
                        )))
                    })?;
                Ok((targets, text))
            })
            .collect()
    }

    /// `nvcc -E` once per architecture of the targets: the translation unit as the device pass
    /// for that architecture sees it (`__CUDA_ARCH__` defined), for signature extraction, with
    /// the names of the targets it stands for (`sm_90` and `compute_90` share a pass).
    /// The nvcc runs a file takes, each a list of targets: one target each, or, with a single
    /// front end, the plain SASS targets together (when there are two or more).
    pub(crate) fn units_of(&self, job: &Job) -> Vec<Vec<Target>> {
        let shared: Vec<Target> = job
            .targets
            .iter()
            .filter(|target| !target.is_ptx() && target.arch().variant == Variant::Plain)
            .collect();
        if !self.settings.single_front_end || shared.len() < 2 {
            return job.targets.iter().map(|target| vec![target]).collect();
        }
        let mut units = vec![shared.clone()];
        units.extend(
            job.targets
                .iter()
                .filter(|target| !shared.contains(target))
                .map(|target| vec![target]),
        );
        units
    }

    /// The virtual architecture every image of the file was compiled from, when one front end
    /// served several targets: `compute_90`.
    pub(crate) fn front_end_of(&self, job: &Job) -> Option<String> {
        self.units_of(job)
            .into_iter()
            .find(|unit| unit.len() > 1)
            .and_then(|unit| front_end(&unit))
            .map(|arch| Target::Ptx(arch).to_string())
    }

    fn preprocess_per_arch(&self, job: &Job) -> Result<Vec<(Vec<String>, String)>, Error> {
        self.passes(job)
            .into_iter()
            .map(|(arch, targets)| Ok((targets, self.preprocess(job, arch)?)))
            .collect()
    }

    /// The preprocessing passes a file needs: one per architecture (with a single front end,
    /// the lowest one stands for the shared run), with the names of the targets it serves.
    fn passes(&self, job: &Job) -> Vec<(Arch, Vec<String>)> {
        let mut passes: Vec<(Arch, Vec<String>)> = Vec::new();
        // With a single front end, every target of the shared run sees the lowest one's
        // `__CUDA_ARCH__`: one pass stands for them all.
        let shared = self
            .units_of(job)
            .into_iter()
            .find(|unit| unit.len() > 1)
            .unwrap_or_default();
        for target in job.targets.iter() {
            let arch = if shared.contains(&target) {
                front_end(&shared).unwrap_or(target.arch())
            } else {
                target.arch()
            };
            match passes.iter_mut().find(|(seen, _)| *seen == arch) {
                Some((_, targets)) => targets.push(target.to_string()),
                None => passes.push((arch, vec![target.to_string()])),
            }
        }
        passes
    }

    fn preprocess(&self, job: &Job, arch: Arch) -> Result<String, Error> {
        let mut command = self.nvcc.tool.command();
        command
            .arg("-E")
            .args(self.base_args())
            .arg("-gencode")
            .arg(Target::Sass(arch).gencode())
            .arg(&job.source);
        nvcc_run::preprocessed(&mut command, &self.nvcc, &job.source)
    }
}

/// The one `*.cpp1.ii` (the device pass's translation unit) nvcc kept in `dir`.
fn kept_translation_unit(dir: &Path) -> Result<String, Error> {
    let entries = std::fs::read_dir(dir).map_err(|error| Error::io("read", dir, error))?;
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.to_string_lossy().ends_with(".cpp1.ii"))
        .collect();
    match (found.pop(), found.is_empty()) {
        (Some(path), true) => Ok(String::from_utf8_lossy(&fs::read(&path)?).into_owned()),
        _ => Err(Error::internal(format_args!(
            "nvcc did not keep exactly one device translation unit (`*.cpp1.ii`) in `{}`",
            dir.display()
        ))),
    }
}

/// The source and every file it includes, over all preprocessing passes, each once.
fn included_files(preprocessed: &[(Vec<String>, String)]) -> Vec<PathBuf> {
    let mut seen: HashSet<PathBuf> = HashSet::new();
    let mut files: Vec<PathBuf> = Vec::new();
    for (_, text) in preprocessed {
        for file in deps::included_files(text) {
            if seen.insert(file.clone()) {
                files.push(file);
            }
        }
    }
    files
}

/// The lowest architecture of a shared run: its virtual architecture compiles them all.
fn front_end(unit: &[Target]) -> Option<Arch> {
    unit.iter()
        .map(|target| target.arch())
        .min_by_key(|arch| arch.sm)
}

/// `-gencode` options for one nvcc run: one target as usual, or several SASS targets from the
/// lowest one's virtual architecture: `arch=compute_90,code=[sm_90,sm_100,sm_121]`.
fn gencode_args(unit: &[Target]) -> Vec<String> {
    match (unit, front_end(unit)) {
        ([single], _) => vec!["-gencode".to_owned(), single.gencode()],
        (_, Some(arch)) => {
            let codes: Vec<String> = unit.iter().map(ToString::to_string).collect();
            vec![
                "-gencode".to_owned(),
                format!("arch={},code=[{}]", Target::Ptx(arch), codes.join(",")),
            ]
        }
        (_, None) => Vec::new(),
    }
}

/// What [`Session::prepare`] found out about one file.
#[derive(Debug)]
pub(crate) struct Prepared<'j> {
    pub(crate) job: &'j Job,
    /// What the translation units say; `None` in a cold build until nvcc has kept them.
    analysis: Option<Analysis>,
    /// The fat binary when no compilation is needed: the previous output or a cache hit.
    found: Option<Found>,
}

/// A fat binary that needs no nvcc: this build's previous output or a cache entry.
#[derive(Debug)]
struct Found {
    bytes: Vec<u8>,
    /// Where it came from, as the manifest records it.
    cache: CacheStatus,
    /// Whether the kernels were already cross-checked against it (a cache entry, before it
    /// was accepted), so that it is not checked twice.
    cross_checked: bool,
    /// nvcc's warnings from its compile: printed by this build, or stored with the output or
    /// the cache entry it was reused from.
    nvcc_warnings: Vec<String>,
}

/// What a file's translation units say.
#[derive(Debug)]
struct Analysis {
    /// The translation unit of each architecture, with the targets it stands for.
    preprocessed: Vec<(Vec<String>, String)>,
    kernels: Vec<KernelSignature>,
    warnings: Vec<String>,
    build_key: String,
}

impl Prepared<'_> {
    /// Whether nvcc must compile the file.
    pub(crate) fn needs_compile(&self) -> bool {
        self.found.is_none()
    }

    /// Whether nvcc must keep the translation units (a cold build: nothing was preprocessed).
    pub(crate) fn keeps_translation_units(&self) -> bool {
        self.analysis.is_none()
    }

    /// How much work compiling `target` is, for scheduling the longest first: the size of the
    /// translation unit of its architecture, or in a cold build the size of the source.
    pub(crate) fn cost(&self, unit: &[Target]) -> usize {
        let Some(analysis) = &self.analysis else {
            let size = std::fs::metadata(&self.job.source).map_or(0, |meta| meta.len());
            return usize::try_from(size).unwrap_or(usize::MAX) * unit.len();
        };
        unit.iter()
            .map(|target| {
                let name = target.to_string();
                analysis
                    .preprocessed
                    .iter()
                    .find(|(targets, _)| targets.contains(&name))
                    .map_or(0, |(_, text)| text.len())
            })
            .sum()
    }
}

/// For a file whose own host code launches kernels (`kernel<<<…>>>`), one warning in place of
/// one per kernel with C++ linkage: a fat binary holds the kernels but not the host functions
/// that launch them, which is what the static-library mode builds.
pub(crate) fn host_launched_warning(
    source: &str,
    launches: &[(String, u32)],
    n_mangled: usize,
) -> Option<String> {
    let own: Vec<u32> = launches
        .iter()
        // A launched nvcc names the source relative to the crate root.
        .filter(|(file, _)| file == source || Path::new(source).ends_with(file))
        .map(|(_, line)| *line)
        .collect();
    let first = own.first()?;
    let more = match own.len() {
        1 => String::new(),
        2 => " and 1 more".to_owned(),
        n => format!(" and {} more", n - 1),
    };
    let unwrapped = match n_mangled {
        0 => String::new(),
        1 => "; its 1 kernel with C++ linkage gets no Rust wrapper".to_owned(),
        n => format!("; its {n} kernels with C++ linkage get no Rust wrapper"),
    };
    Some(format!(
        "{source}:{first}: this file launches its kernels from host code (`<<<…>>>` here{more}), \
         but it is built as a fat binary, which holds the kernels and none of the host code: \
         its `extern \"C\"` launchers are not built{unwrapped}; build it with \
         `Build::static_library(\"<name>\")` and call its host functions through \
         `sasskit::host_functions!(<name>)`"
    ))
}

/// What nvcc made of one target of one file.
#[derive(Debug)]
pub(crate) struct Unit {
    targets: Vec<Target>,
    bytes: Vec<u8>,
    /// The architecture's translation unit, when nvcc was asked to keep it.
    preprocessed: Option<String>,
    warnings: Vec<String>,
}

/// The container one nvcc run for every target would have written, from the single-target
/// parts in target order; and nvcc's warnings, each once, naming the targets that printed it.
fn merge_units(job: &Job, units: Vec<Unit>) -> Result<(Vec<u8>, Vec<String>), Error> {
    let runs: Vec<(Vec<String>, Vec<String>)> = units
        .iter()
        .map(|unit| {
            let targets = unit.targets.iter().map(ToString::to_string).collect();
            (targets, unit.warnings.clone())
        })
        .collect();
    let warnings = diagnostics::once_per_file(&runs);
    if units.len() == 1 {
        let bytes = units
            .into_iter()
            .next()
            .map(|unit| unit.bytes)
            .unwrap_or_default();
        return Ok((bytes, warnings));
    }
    let parsed = units
        .iter()
        .map(|unit| FatBinary::parse(&unit.bytes))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| {
            Error::new(ErrorKind::Verify(format!(
                "nvcc produced a fat binary for `{}` that sasskit cannot read: {error}",
                job.source.display()
            )))
        })?;
    Ok((FatBinary::merge(&parsed).unwrap_or_default(), warnings))
}

/// The shared types the kernels take, each once, in order of first use.
fn used_shared_types(kernels: &[KernelSignature], shared: &Registry) -> Vec<SharedType> {
    let mut used: Vec<SharedType> = Vec::new();
    for param in kernels.iter().flat_map(|kernel| &kernel.params) {
        if let Some(ty) = param.ty.shared_type().and_then(|name| shared.lookup(name))
            && !used.contains(ty)
        {
            used.push(ty.clone());
        }
    }
    used
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_launched_file_gets_one_warning_that_names_static_library() {
        const SOURCE: &str = "# 1 \"/crate/moe.cu\"\n\
            template <typename T> __attribute__((global)) void scale(T* y, T a) {}\n\
            __attribute__((global)) void fill(float* y) {}\n\
            extern \"C\" void launch_scale(float* y, float a, cudaStream_t s) {\n\
            \x20 scale<<<1, 256, 0, s>>>(y, a);\n\
            \x20 fill<<<1, 256, 0, s>>>(y);\n\
            }\n";
        let extracted = crate::signature::extract(SOURCE, &crate::shared::Registry::default());
        assert_eq!(
            extracted.launches,
            [
                ("/crate/moe.cu".to_owned(), 4),
                ("/crate/moe.cu".to_owned(), 5)
            ]
        );
        assert_eq!(extracted.mangled.len(), 2);
        let warning = host_launched_warning(
            "/crate/moe.cu",
            &extracted.launches,
            extracted.mangled.len(),
        );
        assert_eq!(
            warning.as_deref(),
            Some(
                "/crate/moe.cu:4: this file launches its kernels from host code (`<<<…>>>` here \
                 and 1 more), but it is built as a fat binary, which holds the kernels and none \
                 of the host code: its `extern \"C\"` launchers are not built; its 2 kernels with \
                 C++ linkage get no Rust wrapper; build it with `Build::static_library(\"<name>\")` \
                 and call its host functions through `sasskit::host_functions!(<name>)`"
            )
        );
        // Launches in headers (CUB's, a library's) are not the file's own.
        assert_eq!(
            host_launched_warning("/crate/other.cu", &extracted.launches, 0),
            None
        );
    }
}
