//! One `.cu` file of a static library: preprocess it (per target architecture and for the host
//! pass), read its host functions, key it, reuse or compile its object, and prove that the fat
//! binary nvcc embedded in the object has an image for every target.

use std::path::{Path, PathBuf};

use sasskit_core::fatbin::find_fat_binaries;
use sasskit_core::library::{HostFunction, LibraryManifest, ObjectInfo, ObjectInputs};
use sasskit_core::manifest::{CacheStatus, ImageInfo};
use sasskit_core::{Arch, Image, Target, TargetList, out_dir};

use crate::compile::Session;
use crate::error::{Error, ErrorKind};
use crate::job::Job;
use crate::{deps, diagnostics, fs, key, nvcc_run, replay, signature};

/// What every file of one library shares.
#[derive(Debug)]
pub(super) struct Context<'a> {
    pub(super) session: &'a Session<'a>,
    pub(super) library: &'a str,
    /// Flags for objects on this target (`-Xcompiler -fPIC`).
    pub(super) extra_args: Vec<String>,
    pub(super) marks: &'a signature::Marks,
    /// Host functions of files under this folder (and of the `.cu` file itself) are the
    /// library's.
    pub(super) crate_root: Option<&'a Path>,
    /// The manifest this build wrote last time, for objects whose key has not changed.
    pub(super) previous: Option<&'a LibraryManifest>,
}

/// One file, preprocessed (or found unchanged since the last build) and keyed.
#[derive(Debug)]
pub(super) struct Prepared<'j> {
    job: &'j Job,
    /// The size of the preprocessing passes, the measure of the compile's work; 0 when they
    /// were skipped.
    cost: usize,
    /// What the passes read, and its stamp.
    inputs: ObjectInputs,
    functions: Vec<HostFunction>,
    warnings: Vec<String>,
    build_key: String,
    path: PathBuf,
}

/// One object, in place and verified.
#[derive(Debug)]
pub(super) struct Built {
    pub(super) info: ObjectInfo,
    pub(super) path: PathBuf,
    pub(super) functions: Vec<HostFunction>,
    pub(super) warnings: Vec<String>,
    /// The source and every header it includes.
    pub(super) inputs: Vec<PathBuf>,
}

impl Context<'_> {
    /// The nvcc arguments of the object's compilation, without input and output.
    fn args(&self, targets: &TargetList) -> Vec<String> {
        let mut args = self.session.base_args();
        args.extend(self.extra_args.iter().cloned());
        for target in targets.iter() {
            args.push("-gencode".to_owned());
            args.push(target.gencode());
        }
        args
    }

    pub(super) fn prepare<'j>(&self, job: &'j Job) -> Result<Prepared<'j>, Error> {
        let path = self
            .session
            .settings
            .out_dir
            .join(out_dir::object_file(self.library, &job.module));
        if let Some(unchanged) = self.unchanged(job, &path) {
            return Ok(unchanged);
        }
        let mut archs: Vec<Arch> = Vec::new();
        for target in job.targets.iter() {
            if !archs.contains(&target.arch()) {
                archs.push(target.arch());
            }
        }
        let mut passes = Vec::with_capacity(archs.len() + 1);
        for &arch in &archs {
            passes.push(self.preprocess(job, arch, false)?);
        }
        // The host pass: what the host compiler sees, where the host functions are.
        let host = self.preprocess(job, archs[0], true)?;
        let source = job.source.display().to_string();
        let own_file = |file: &str| {
            file == source
                || self
                    .crate_root
                    .is_some_and(|root| Path::new(file).starts_with(root))
        };
        let extracted = signature::extract_host_functions(
            &host,
            &self.session.settings.shared,
            &own_file,
            self.marks,
        );
        passes.push(host);
        let build_key = key::build_key(
            passes.iter().map(String::as_str),
            &self.session.nvcc,
            &self.session.host_compiler,
            &self.key_args(job),
            &job.targets,
            &self.session.roots,
            &job.source,
        );
        let mut files: Vec<PathBuf> = Vec::new();
        for pass in &passes {
            for file in deps::included_files(pass) {
                if !files.contains(&file) {
                    files.push(file);
                }
            }
        }
        let inputs = ObjectInputs {
            stamp: self.stamp(job, &files),
            files: files
                .iter()
                .map(|file| file.display().to_string())
                .collect(),
            functions: extracted
                .functions
                .iter()
                .map(|function| function.name.clone())
                .collect(),
        };
        Ok(Prepared {
            job,
            cost: passes.iter().map(String::len).sum(),
            inputs,
            functions: extracted.functions,
            warnings: extracted.warnings,
            build_key,
            path,
        })
    }

    /// The arguments the build key covers: the object's, `-c` and nvcc's environment.
    fn key_args(&self, job: &Job) -> Vec<String> {
        let mut key_args = self.args(&job.targets);
        key_args.push("-c".to_owned());
        key_args.extend(self.session.nvcc_environment.iter().cloned());
        key_args
    }

    /// The stamp of `files` under this build's settings ([`key::inputs_stamp`]).
    fn stamp(&self, job: &Job, files: &[PathBuf]) -> String {
        key::inputs_stamp(
            files,
            &self.session.nvcc,
            &self.session.host_compiler,
            &self.key_args(job),
            &job.targets,
            &format!("{:?}", self.marks),
        )
    }

    /// The file as the last build prepared it, when the manifest it wrote has the object with
    /// inputs whose stamp is unchanged: its key and host functions without running nvcc.
    fn unchanged<'j>(&self, job: &'j Job, path: &Path) -> Option<Prepared<'j>> {
        let previous = self.previous?;
        let object = out_dir::object_file(self.library, &job.module);
        let info = previous
            .objects
            .iter()
            .find(|info| info.object == object && Path::new(&info.source) == job.source)?;
        let inputs = info.inputs.as_ref()?;
        let files: Vec<PathBuf> = inputs.files.iter().map(PathBuf::from).collect();
        if self.stamp(job, &files) != inputs.stamp {
            return None;
        }
        let functions = inputs
            .functions
            .iter()
            .map(|name| previous.functions.iter().find(|f| f.name == *name).cloned())
            .collect::<Option<Vec<HostFunction>>>()?;
        let warnings = functions
            .iter()
            .filter_map(signature::untyped_warning)
            .collect();
        Some(Prepared {
            job,
            cost: 0,
            inputs: inputs.clone(),
            functions,
            warnings,
            build_key: info.build_key.clone(),
            path: path.to_owned(),
        })
    }

    /// The object for a prepared file: this build's previous one or a cache entry when either
    /// has the key and verifies, else a new one from nvcc (stored in the cache once verified).
    pub(super) fn finish(&self, prepared: &Prepared<'_>) -> Result<Built, Error> {
        let job = prepared.job;
        let what = format!("the object of `{}`", job.source.display());
        let mut warnings = prepared.warnings.clone();
        let stored_warnings = prepared.path.with_extension("warnings");
        let (bytes, cache, nvcc_warnings) = if let Some((bytes, cache, stored, from)) =
            self.reuse(prepared, &stored_warnings, &mut warnings)
        {
            warnings.extend(replay::marked(&stored, from));
            (bytes, cache, stored)
        } else {
            let (bytes, nvcc_warnings) = self.compile(job, &prepared.path)?;
            warnings.extend(nvcc_warnings.iter().cloned());
            let status = match &self.session.settings.cache {
                Some(_) => CacheStatus::Miss,
                None => CacheStatus::Off,
            };
            (bytes, status, nvcc_warnings)
        };
        let images = embedded_images(&bytes, &job.targets, &what)?;
        if let (CacheStatus::Miss, Some(store)) = (cache, &self.session.settings.cache) {
            let portable = replay::portable(&nvcc_warnings, &job.source);
            store.store(&prepared.build_key, &bytes, &portable)?;
        }
        replay::store(&stored_warnings, &nvcc_warnings)?;
        fs::write_atomic(&prepared.path, &bytes)?;
        let inputs = prepared.inputs.files.iter().map(PathBuf::from).collect();
        Ok(Built {
            info: ObjectInfo {
                source: job.source.display().to_string(),
                object: out_dir::object_file(self.library, &job.module),
                build_key: prepared.build_key.clone(),
                cache,
                images: images.iter().map(ImageInfo::from_image).collect(),
                inputs: Some(prepared.inputs.clone()),
            },
            path: prepared.path.clone(),
            functions: prepared.functions.clone(),
            warnings,
            inputs,
        })
    }

    /// The previous object or a cache entry, with the nvcc warnings stored with it and where
    /// they are replayed from.
    fn reuse(
        &self,
        prepared: &Prepared<'_>,
        stored_warnings: &Path,
        warnings: &mut Vec<String>,
    ) -> Option<(Vec<u8>, CacheStatus, Vec<String>, &'static str)> {
        let job = prepared.job;
        let previous = self.previous.and_then(|manifest| {
            manifest.objects.iter().find(|object| {
                object.build_key == prepared.build_key
                    && object.object == out_dir::object_file(self.library, &job.module)
            })
        });
        if let Some(previous) = previous
            && let Ok(bytes) = std::fs::read(&prepared.path)
            && embedded_images(&bytes, &job.targets, "the previous object").is_ok()
        {
            let stored = replay::load(stored_warnings);
            return Some((bytes, previous.cache, stored, replay::FROM_PREVIOUS));
        }
        let cache = self.session.settings.cache.as_ref()?;
        let bytes = cache.lookup(&prepared.build_key)?;
        if embedded_images(&bytes, &job.targets, "a cache entry").is_ok() {
            let stored = replay::localized(&cache.warnings(&prepared.build_key), &job.source);
            return Some((bytes, CacheStatus::Hit, stored, replay::FROM_CACHE));
        }
        warnings.push(format!(
            "the cache entry {} for the object of `{}` is corrupt or not what its key promises; \
             rebuilding it",
            cache.entry(&prepared.build_key).display(),
            job.source.display()
        ));
        None
    }

    /// `nvcc -c` into a temporary file next to the object, which is removed again.
    fn compile(&self, job: &Job, object: &Path) -> Result<(Vec<u8>, Vec<String>), Error> {
        let tmp = fs::temporary_sibling(object);
        let mut command = match &self.session.settings.launcher {
            Some(launcher) => {
                let mut command = launcher.command();
                command.arg(self.session.nvcc.tool.path());
                command
            }
            None => self.session.nvcc.tool.command(),
        };
        command
            .arg("-c")
            .args(self.args(&job.targets))
            .arg("-o")
            .arg(&tmp)
            .arg(&job.source);
        let written = nvcc_run::run_to_file(
            &mut command,
            &self.session.nvcc,
            &tmp,
            &job.source,
            |stderr| stderr,
        )?;
        // One run for every target: nvcc prints a device-side warning once per target.
        let targets = job
            .targets
            .iter()
            .map(|target| target.to_string())
            .collect();
        let lines = diagnostics::normalize(&String::from_utf8_lossy(&written.stderr));
        Ok((
            written.bytes,
            diagnostics::once_per_file(&[(targets, lines)]),
        ))
    }

    /// `nvcc -E` for the device pass of `arch`, or, with `host`, for the host pass
    /// (`__CUDA_ARCH__` undefined, as the host compiler sees the file).
    fn preprocess(&self, job: &Job, arch: Arch, host: bool) -> Result<String, Error> {
        let mut command = self.session.nvcc.tool.command();
        command
            .arg("-E")
            .args(self.session.base_args())
            .args(&self.extra_args)
            .arg("-gencode")
            .arg(Target::Sass(arch).gencode());
        if host {
            command.arg("-U__CUDA_ARCH__");
        }
        command.arg(&job.source);
        nvcc_run::preprocessed(&mut command, &self.session.nvcc, &job.source)
    }
}

impl Prepared<'_> {
    /// How much work compiling the file is: the size of its translation units (0 for a file
    /// unchanged since the last build, whose object is there to reuse).
    pub(super) fn cost(&self) -> usize {
        self.cost
    }
}

/// The images of every fat binary container in an object (nvcc puts one in `.nv_fatbin`),
/// checked to hold an image for every target; an error naming what is missing otherwise.
pub(super) fn embedded_images(
    bytes: &[u8],
    targets: &TargetList,
    what: &str,
) -> Result<Vec<Image>, Error> {
    let found = find_fat_binaries(bytes);
    if found.is_empty() {
        return Err(Error::new(ErrorKind::Verify(format!(
            "{what} holds no fat binary: nvcc embeds one in every object it compiles from a `.cu` \
             file; check the flags for options that change the output kind (`-rdc`, `-lib`)"
        ))));
    }
    let mut images = Vec::new();
    for container in found {
        let fatbin = container.result.map_err(|error| {
            Error::new(ErrorKind::Verify(format!(
                "{what} holds a fat binary at offset {} that sasskit cannot read: {error}",
                container.offset
            )))
        })?;
        images.extend(fatbin.images().iter().cloned());
    }
    let missing: Vec<String> = Image::missing_targets(&images, targets.iter())
        .iter()
        .map(ToString::to_string)
        .collect();
    if missing.is_empty() {
        return Ok(images);
    }
    let held: Vec<String> = images.iter().map(ToString::to_string).collect();
    Err(Error::new(ErrorKind::Verify(format!(
        "the fat binary in {what} lacks {}: it holds [{}]; check the nvcc flags for options that \
         override the target list (such as `-arch`)",
        missing.join(", "),
        held.join(", ")
    ))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_without_a_fat_binary_is_refused() {
        let targets = TargetList::parse("sm_90").unwrap();
        let error = embedded_images(
            b"\x7fELF not a cuda object",
            &targets,
            "the object of `a.cu`",
        )
        .unwrap_err();
        assert!(error.to_string().contains("holds no fat binary"), "{error}");
    }
}
