//! Which build made each container: the manifests sasskit-build wrote (`OUT_DIR/sasskit`) name
//! the module or the static library's object behind a set of images, so `verify` can say
//! `library moe, object moe/mmq_q4.o, source kernels/mmq_q4.cu` instead of an offset alone.
//!
//! A container is matched by its images, each described as the manifest records it (kind,
//! target, compression, entry size): an object's fat binary and a module's are recorded exactly
//! as nvcc embedded them.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use sasskit_core::Image;
use sasskit_core::library::LibraryManifest;
use sasskit_core::manifest::{ImageInfo, Manifest};

use crate::Error;

/// How deep below a folder given to [`Origins::from_folders`] manifests are looked for: deep
/// enough for `target/release/build/<package>-<hash>/out/sasskit`.
const MAX_DEPTH: usize = 6;

/// The builds whose manifests were found, by their images.
#[derive(Debug, Default)]
pub struct Origins {
    /// Every build with these images: one file built twice (as a module and into a library, or
    /// by two crates) makes the same images.
    by_images: HashMap<String, Vec<String>>,
}

impl Origins {
    /// Reads every manifest in the `sasskit` folders at or below each of `folders` (an
    /// `OUT_DIR/sasskit`, or a `target/<profile>/build` holding many). Files that are not
    /// manifests (the shared types' `.types.toml`) are skipped.
    pub fn from_folders(folders: &[PathBuf]) -> Result<Origins, Error> {
        let mut origins = Origins::default();
        for folder in folders {
            if !folder.is_dir() {
                return Err(Error::new(format!(
                    "`{}` is not a folder: `--manifests` takes an `OUT_DIR/sasskit` folder, or a \
                     folder above such folders (`target/release/build`)",
                    folder.display()
                )));
            }
            origins.scan(folder, 0);
        }
        Ok(origins)
    }

    /// How many builds are known.
    pub fn len(&self) -> usize {
        self.by_images.len()
    }

    /// Whether no build is known.
    pub fn is_empty(&self) -> bool {
        self.by_images.is_empty()
    }

    /// The build that made a container of these images: `module saxpy, source …` or
    /// `library moe, object moe/mmq.o, source …`; builds that made the same images are all
    /// named, joined by ` or `.
    pub fn name(&self, images: &[Image]) -> Option<String> {
        let infos: Vec<ImageInfo> = images.iter().map(ImageInfo::from_image).collect();
        self.by_images
            .get(&key(&infos))
            .map(|names| names.join(" or "))
    }

    /// Records one build's images under its name.
    pub fn insert(&mut self, images: &[ImageInfo], name: String) {
        let names = self.by_images.entry(key(images)).or_default();
        if !names.contains(&name) {
            names.push(name);
        }
    }

    fn scan(&mut self, folder: &Path, depth: usize) {
        let Ok(entries) = fs::read_dir(folder) else {
            return;
        };
        let in_sasskit = folder.file_name().is_some_and(|name| name == "sasskit");
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if depth < MAX_DEPTH {
                    self.scan(&path, depth + 1);
                }
            } else if in_sasskit && path.extension().is_some_and(|ext| ext == "toml") {
                self.read(&path);
            }
        }
    }

    fn read(&mut self, path: &Path) {
        let Ok(text) = fs::read_to_string(path) else {
            return;
        };
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or("");
        if name.ends_with(".library.toml") {
            let Ok(library) = LibraryManifest::from_toml(&text) else {
                return;
            };
            for object in &library.objects {
                self.insert(
                    &object.images,
                    format!(
                        "library {}, object {}, source {}",
                        library.library.name, object.object, object.source
                    ),
                );
            }
        } else if let Ok(module) = Manifest::from_toml(&text) {
            self.insert(
                &module.images,
                format!(
                    "module {}, source {}",
                    module.module.name, module.module.source
                ),
            );
        }
    }
}

/// The images as one string, in order: two containers match when every image does.
fn key(images: &[ImageInfo]) -> String {
    images
        .iter()
        .map(|image| {
            format!(
                "{} {} {} {}",
                image.kind, image.arch, image.compression, image.size
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}
