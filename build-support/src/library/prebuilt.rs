//! A static library shipped prebuilt in the crate's prebuilt folder: built once by the crate's
//! author for one target triple, and used by every build for that triple whose inputs are still
//! the ones it was built from, with no nvcc and no toolkit.
//!
//! `<folder>/<name>.<triple>/` holds:
//!
//! * `lib<name>.a`: the objects, compiled with `--compress-mode=size`;
//! * `<name>.library.toml`: the library's manifest, with the [`PrebuiltInputs`] it was built
//!   from (the settings, the target triple, and the SHA-256 of every `.cu` file and crate header
//!   the objects read);
//! * `libcudart_static.a`, when the runtime is linked statically ([`Cudart::Static`]): the CUDA
//!   runtime of the toolkit that compiled the objects, which NVIDIA's CUDA EULA lists as
//!   distributable (its Attachment A). The build links this copy, so that the objects always
//!   meet the runtime release they were compiled against.
//!
//! The host code in the objects is the target's machine code, hence one folder per triple; a
//! refresh writes the triple it builds for and leaves the others.

use std::path::{Path, PathBuf};

use sasskit_core::fatbin::find_fat_binaries;
use sasskit_core::library::LibraryManifest;
use sasskit_core::manifest::{CacheStatus, MAX_MANIFEST_SIZE, Origin, PrebuiltInputs};
use sasskit_core::{Image, TargetList, out_dir};

use super::Cudart;
use crate::error::{Error, ErrorKind};
use crate::fs;
use crate::prebuilt_folder::{Folder, REFRESH_HINT, relative};

/// The first bytes of every `ar` archive.
const ARCHIVE_MAGIC: &[u8] = b"!<arch>\n";

/// The prebuilt library `name` for one target triple, in the crate's prebuilt folder.
#[derive(Debug)]
pub(super) struct Prebuilt<'a> {
    folder: &'a Folder,
    name: &'a str,
    /// `<folder>/<name>.<triple>`.
    dir: PathBuf,
}

/// What the folder offers the library.
#[derive(Debug)]
pub(super) enum Lookup {
    /// Built from exactly the crate's current inputs and settings, and verified.
    Current(Box<Found>),
    /// There, but built from something else (the first difference), or not there at all.
    Stale(String),
}

/// A current prebuilt library, read and verified.
#[derive(Debug)]
pub(super) struct Found {
    manifest: LibraryManifest,
    archive: Vec<u8>,
    runtime: Option<Vec<u8>>,
    /// The recorded inputs, absolute, for cargo's rerun lines.
    inputs: Vec<PathBuf>,
}

impl Found {
    /// The nvcc release that built it.
    pub(super) fn nvcc_version(&self) -> &str {
        &self.manifest.toolkit.version
    }
}

/// The library as installed in the build's output folder.
#[derive(Debug)]
pub(super) struct Installed {
    pub(super) manifest: LibraryManifest,
    /// The folder holding the runtime's copy, when the library ships one.
    pub(super) runtime_dir: Option<PathBuf>,
    /// The recorded inputs, absolute, for cargo's rerun lines.
    pub(super) inputs: Vec<PathBuf>,
}

impl<'a> Prebuilt<'a> {
    pub(super) fn new(folder: &'a Folder, name: &'a str, triple: &str) -> Prebuilt<'a> {
        Prebuilt {
            folder,
            name,
            dir: folder.dir.join(format!("{name}.{triple}")),
        }
    }

    /// The library's folder as the crate names it, for messages: `prebuilt/moe.x86_64-…`.
    pub(super) fn display(&self) -> String {
        relative(&self.dir, self.folder.crate_root())
            .unwrap_or_else(|| self.dir.display().to_string())
    }

    /// What the folder holds for the library, built with `settings` for `targets`; an error
    /// when a current library fails verification.
    pub(super) fn lookup(
        &self,
        settings: &[String],
        targets: &TargetList,
        cudart: Cudart,
    ) -> Result<Lookup, Error> {
        match self.read(settings, cudart) {
            Ok(found) => {
                verify(&found, targets).map_err(|message| {
                    Error::new(ErrorKind::Verify(format!(
                        "the prebuilt library `{}` in `{}`: {message}; {REFRESH_HINT}",
                        self.name,
                        self.display()
                    )))
                })?;
                Ok(Lookup::Current(Box::new(found)))
            }
            Err(reason) => Ok(Lookup::Stale(reason)),
        }
    }

    fn read(&self, settings: &[String], cudart: Cudart) -> Result<Found, String> {
        let manifest_path = self.dir.join(out_dir::library_manifest_file(self.name));
        crate::cargo_output::rerun_if_changed(&manifest_path);
        // Checked before reading: a corrupt or crafted manifest never reaches the TOML parser.
        let bytes = match fs::read_at_most(&manifest_path, MAX_MANIFEST_SIZE as u64) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(format!("the folder has no `{}`", self.display()));
            }
            Err(error) => {
                return Err(format!(
                    "its manifest `{}` cannot be read: {error}",
                    manifest_path.display()
                ));
            }
        };
        let manifest = String::from_utf8(bytes)
            .map_err(|error| error.to_string())
            .and_then(|text| LibraryManifest::from_toml(&text).map_err(|error| error.to_string()))
            .map_err(|error| {
                format!(
                    "its manifest `{}` cannot be read: {error}",
                    manifest_path.display()
                )
            })?;
        let Some(recorded) = &manifest.prebuilt else {
            return Err(format!(
                "its manifest `{}` records no inputs",
                manifest_path.display()
            ));
        };
        let inputs = self.folder.current_inputs(recorded, settings)?;
        let archive_path = self.dir.join(out_dir::archive_file(self.name));
        crate::cargo_output::rerun_if_changed(&archive_path);
        let archive = fs::read_at_most(&archive_path, fs::MAX_FATBIN_FILE).map_err(|error| {
            format!(
                "its archive `{}` cannot be read: {error}",
                archive_path.display()
            )
        })?;
        let runtime = match cudart {
            Cudart::Static => {
                let path = self.dir.join(Cudart::Static.file().unwrap_or_default());
                crate::cargo_output::rerun_if_changed(&path);
                let bytes = fs::read_at_most(&path, fs::MAX_FATBIN_FILE).map_err(|error| {
                    format!(
                        "its CUDA runtime `{}` cannot be read: {error}",
                        path.display()
                    )
                })?;
                Some(bytes)
            }
            Cudart::Shared | Cudart::None => None,
        };
        Ok(Found {
            manifest,
            archive,
            runtime,
            inputs,
        })
    }

    /// Installs a current library as this build's output: the archive, the runtime's copy (in
    /// `library_dir`) and the manifest, with the crate's paths made absolute again.
    pub(super) fn install(
        &self,
        found: Found,
        out_dir: &Path,
        library_dir: &Path,
        manifest_path: &Path,
        optional: bool,
    ) -> Result<Installed, Error> {
        let Found {
            mut manifest,
            archive,
            runtime,
            inputs,
        } = found;
        let root = self.folder.crate_root();
        let absolute = |path: &mut String| {
            if !Path::new(path.as_str()).is_absolute() {
                *path = root.join(path.as_str()).display().to_string();
            }
        };
        for object in &mut manifest.objects {
            absolute(&mut object.source);
        }
        for function in &mut manifest.functions {
            absolute(&mut function.file);
        }
        for ty in &mut manifest.types {
            absolute(&mut ty.header);
        }
        manifest.library.origin = Origin::Prebuilt;
        manifest.library.optional = optional;
        manifest.prebuilt = None;
        fs::write_atomic(&out_dir.join(out_dir::archive_file(self.name)), &archive)?;
        let runtime_dir = match runtime {
            Some(bytes) => {
                fs::write_atomic(
                    &library_dir.join(Cudart::Static.file().unwrap_or_default()),
                    &bytes,
                )?;
                Some(library_dir.to_owned())
            }
            None => None,
        };
        // The archive is in place before the manifest that names it.
        fs::write_atomic(manifest_path, manifest.to_toml().as_bytes())?;
        Ok(Installed {
            manifest,
            runtime_dir,
            inputs,
        })
    }

    /// Writes the library nvcc just built (with `--compress-mode=size`) into the folder: the
    /// archive, the runtime's file `runtime` when there is one, and the manifest with the
    /// crate's paths relative and the inputs `recorded`. Returns the size of what it wrote.
    pub(super) fn write(
        &self,
        manifest: &LibraryManifest,
        archive: &Path,
        runtime: Option<&Path>,
        recorded: PrebuiltInputs,
    ) -> Result<u64, Error> {
        fs::create_dir_all(&self.dir)?;
        let root = self.folder.crate_root();
        let relative_to_crate = |path: &mut String| {
            if let Some(relative) = relative(Path::new(path.as_str()), root) {
                *path = relative;
            }
        };
        let mut manifest = manifest.clone();
        for object in &mut manifest.objects {
            relative_to_crate(&mut object.source);
            object.cache = CacheStatus::Off;
            // The stamp is this machine's: every other build checks the recorded inputs.
            object.inputs = None;
        }
        for function in &mut manifest.functions {
            relative_to_crate(&mut function.file);
        }
        for ty in &mut manifest.types {
            relative_to_crate(&mut ty.header);
        }
        manifest.library.origin = Origin::Prebuilt;
        manifest.library.cache = CacheStatus::Off;
        manifest.library.optional = false;
        "nvcc".clone_into(&mut manifest.toolkit.nvcc);
        manifest.prebuilt = Some(recorded);
        let archive_bytes = fs::read(archive)?;
        let mut size = archive_bytes.len() as u64;
        fs::write_atomic(
            &self.dir.join(out_dir::archive_file(self.name)),
            &archive_bytes,
        )?;
        let runtime_path = self.dir.join(Cudart::Static.file().unwrap_or_default());
        match runtime {
            Some(runtime) => {
                let bytes = fs::read(runtime)?;
                size += bytes.len() as u64;
                fs::write_atomic(&runtime_path, &bytes)?;
            }
            None => {
                let _ = std::fs::remove_file(&runtime_path);
            }
        }
        let text = manifest.to_toml();
        size += text.len() as u64;
        fs::write_atomic(
            &self.dir.join(out_dir::library_manifest_file(self.name)),
            text.as_bytes(),
        )?;
        Ok(size)
    }
}

/// A prebuilt library's archive holds a fat binary for each of its objects, each with an image
/// for every target, and its runtime copy is an archive too; else what is wrong.
fn verify(found: &Found, targets: &TargetList) -> Result<(), String> {
    if !found.archive.starts_with(ARCHIVE_MAGIC) {
        return Err("its archive is not an `ar` archive".to_owned());
    }
    if let Some(runtime) = &found.runtime
        && !runtime.starts_with(ARCHIVE_MAGIC)
    {
        return Err("its CUDA runtime copy is not an `ar` archive".to_owned());
    }
    let containers = find_fat_binaries(&found.archive);
    let objects = found.manifest.objects.len();
    if containers.len() < objects {
        return Err(format!(
            "its archive holds {} fat binaries for {objects} objects",
            containers.len()
        ));
    }
    for container in containers {
        let fatbin = container.result.map_err(|error| {
            format!(
                "its archive holds a fat binary at offset {} that sasskit cannot read: {error}",
                container.offset
            )
        })?;
        let missing: Vec<String> = Image::missing_targets(fatbin.images(), targets.iter())
            .iter()
            .map(ToString::to_string)
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "the fat binary at offset {} of its archive lacks {}",
                container.offset,
                missing.join(", ")
            ));
        }
    }
    Ok(())
}
