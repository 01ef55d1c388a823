//! Compiling one `.cu` file: preprocess, extract signatures, build the fat binary, verify it,
//! write it and its manifest.

use std::path::{Path, PathBuf};
use std::process::Output;

use sasskit_core::manifest::{CacheStatus, FORMAT, ImageInfo, Manifest, ModuleInfo, ToolkitInfo};
use sasskit_core::{Arch, Target, TargetList};

use crate::command::display;
use crate::error::{Error, ErrorKind};
use crate::toolkit::Nvcc;
use crate::{config, crosscheck, deps, diagnostics, fs, key, signature, verify};

/// What every file of one build shares.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) nvcc: Nvcc,
    /// `-I`, `-D` and user flags, in that order.
    pub(crate) flags: Vec<String>,
    /// The host compiler nvcc should use, if the `cc` crate found one.
    pub(crate) ccbin: Option<PathBuf>,
    pub(crate) out_dir: PathBuf,
}

/// One file to compile.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub(crate) source: PathBuf,
    pub(crate) module: String,
    pub(crate) targets: TargetList,
}

/// The result of compiling one file.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub(crate) manifest: Manifest,
    pub(crate) fatbin_path: PathBuf,
    pub(crate) manifest_path: PathBuf,
    /// The source and every header it includes.
    pub(crate) inputs: Vec<PathBuf>,
    /// Warnings for the user (kernels that get no wrapper, nvcc warnings).
    pub(crate) warnings: Vec<String>,
}

impl Session {
    fn base_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(ccbin) = &self.ccbin {
            args.push("-ccbin".to_owned());
            args.push(ccbin.display().to_string());
        }
        args.extend(self.flags.iter().cloned());
        args
    }

    pub(crate) fn compile(&self, job: &Job) -> Result<Compiled, Error> {
        let source = job.source.display().to_string();
        let preprocessed = self.preprocess(job)?;
        let extracted = signature::extract(&preprocessed);
        if !extracted.errors.is_empty() {
            return Err(Error::new(ErrorKind::Signature(format!(
                "cannot generate Rust wrappers for `{source}`:\n  {}",
                extracted.errors.join("\n  ")
            ))));
        }
        let gencode: Vec<String> = job
            .targets
            .iter()
            .flat_map(|target| ["-gencode".to_owned(), target.gencode()])
            .collect();
        let mut args = self.base_args();
        args.extend(gencode);
        let build_key = key::build_key(&preprocessed, &self.nvcc, &args, &job.targets);

        let fatbin_path = self.out_dir.join(format!("{}.fatbin", job.module));
        let manifest_path = self.out_dir.join(format!("{}.toml", job.module));
        let dep_path = self.out_dir.join(format!("{}.d", job.module));
        let tmp_fatbin = fs::temporary_sibling(&fatbin_path);
        let tmp_dep = fs::temporary_sibling(&dep_path);
        let mut command = self.nvcc.tool.command();
        command
            .arg("--fatbin")
            .args(&args)
            .arg("-MD")
            .arg("-MF")
            .arg(&tmp_dep)
            .arg("-o")
            .arg(&tmp_fatbin)
            .arg(&job.source);
        let output = run(&mut command, &self.nvcc)?;
        let cleanup = || {
            let _ = std::fs::remove_file(&tmp_fatbin);
            let _ = std::fs::remove_file(&tmp_dep);
        };
        if !output.status.success() {
            cleanup();
            return Err(compile_error(&source, &command, &output));
        }
        let result = self.finish(
            job,
            &tmp_fatbin,
            &tmp_dep,
            &fatbin_path,
            build_key,
            &extracted,
        );
        cleanup();
        let (manifest, inputs) = result?;
        fs::write_atomic(&manifest_path, manifest.to_toml().as_bytes())?;
        let mut warnings = extracted.warnings;
        warnings.extend(diagnostics::normalize(&String::from_utf8_lossy(
            &output.stderr,
        )));
        Ok(Compiled {
            manifest,
            fatbin_path,
            manifest_path,
            inputs,
            warnings,
        })
    }

    fn finish(
        &self,
        job: &Job,
        tmp_fatbin: &Path,
        tmp_dep: &Path,
        fatbin_path: &Path,
        build_key: String,
        extracted: &signature::Extracted,
    ) -> Result<(Manifest, Vec<PathBuf>), Error> {
        let bytes = fs::read(tmp_fatbin)?;
        let what = format!("`{}`", job.source.display());
        let fatbin = verify::verify(&bytes, &job.targets, &what)?;
        crosscheck::check(
            &fatbin,
            preprocessed_arch(&job.targets),
            &extracted.kernels,
            &what,
        )?;
        let images = fatbin.images().iter().map(ImageInfo::from_image).collect();
        let inputs = deps::parse(&fs::read_to_string(tmp_dep)?);
        fs::write_atomic(fatbin_path, &bytes)?;
        let manifest = Manifest {
            format: FORMAT,
            module: ModuleInfo {
                name: job.module.clone(),
                source: job.source.display().to_string(),
                fatbin: format!("{}.fatbin", job.module),
                targets: config::names(&job.targets),
                build_key,
                cache: CacheStatus::Off,
            },
            toolkit: ToolkitInfo {
                nvcc: self.nvcc.tool.path().display().to_string(),
                version: self.nvcc.version.clone(),
                flags: self.flags.clone(),
            },
            images,
            kernels: extracted.kernels.clone(),
        };
        Ok((manifest, inputs))
    }

    /// `nvcc -E`: the translation unit as the compiler sees it, for signature extraction. The
    /// first SASS target's virtual architecture is used, so `__CUDA_ARCH__` is defined as in a
    /// real device pass of the host side.
    fn preprocess(&self, job: &Job) -> Result<String, Error> {
        let mut command = self.nvcc.tool.command();
        command.arg("-E").args(self.base_args());
        if let Some(arch) = preprocessed_arch(&job.targets) {
            command.arg("-gencode").arg(Target::Sass(arch).gencode());
        }
        command.arg(&job.source);
        let output = run(&mut command, &self.nvcc)?;
        if !output.status.success() {
            return Err(compile_error(
                &job.source.display().to_string(),
                &command,
                &output,
            ));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

/// The architecture `nvcc -E` preprocesses for: the first target's.
fn preprocessed_arch(targets: &TargetList) -> Option<Arch> {
    targets.iter().next().map(Target::arch)
}

fn run(command: &mut std::process::Command, nvcc: &Nvcc) -> Result<Output, Error> {
    command.output().map_err(|source| {
        Error::new(ErrorKind::Spawn {
            program: nvcc.tool.path().to_owned(),
            source,
        })
    })
}

fn compile_error(source: &str, command: &std::process::Command, output: &Output) -> Error {
    let mut lines = diagnostics::normalize(&String::from_utf8_lossy(&output.stderr));
    lines.extend(diagnostics::normalize(&String::from_utf8_lossy(
        &output.stdout,
    )));
    Error::new(ErrorKind::Compile(format!(
        "nvcc failed to compile `{source}` ({}):\n  {}\ncommand: {}",
        output.status,
        lines.join("\n  "),
        display(command)
    )))
}

/// The module name for a source file: its stem as a Rust identifier (`saxpy-v2.cu` → `saxpy_v2`).
pub(crate) fn module_name(source: &Path) -> String {
    let stem = source
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_are_identifiers() {
        assert_eq!(module_name(Path::new("kernels/saxpy.cu")), "saxpy");
        assert_eq!(module_name(Path::new("Tiled-MatMul.cu")), "tiled_matmul");
        assert_eq!(module_name(Path::new("3d.cu")), "_3d");
    }
}
