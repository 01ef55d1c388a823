//! A stand-in for another nvcc release in `cargo xtask sccache`: a copy of the toolkit whose
//! `cicc` and `ptxas` differ from the originals by one appended byte (an ELF program runs the
//! same with trailing bytes). sccache keys every cicc and ptxas step on the digest of the
//! program's file, and another release's programs differ, so none of its steps may hit what
//! the original toolkit stored. Only one release is installed here (the pinned 13.0); a second
//! one would cost 270 MB of downloads per CI run.
//!
//! Files are hard-linked where the file system allows it (copied otherwise), except the two
//! programs, which are always copied before they are changed.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// The programs whose bytes make the copy another toolkit for sccache, relative to the toolkit
/// root (the folder above nvcc's `bin`).
const ALTERED: &[&str] = &["nvvm/bin/cicc", "bin/ptxas"];

/// Writes the altered copy of the toolkit of `nvcc` to `dest` and returns the copy's nvcc.
pub(crate) fn altered_copy(nvcc: &Path, dest: &Path) -> Result<PathBuf> {
    let root = nvcc
        .parent()
        .and_then(Path::parent)
        .with_context(|| format!("{} is not in a toolkit's bin folder", nvcc.display()))?;
    for program in ALTERED {
        if !root.join(program).is_file() {
            bail!(
                "the toolkit at {} has no {program}; the other-release check needs the layout of \
                 a CUDA toolkit (bin/ptxas, nvvm/bin/cicc)",
                root.display()
            );
        }
    }
    if dest.exists() {
        std::fs::remove_dir_all(dest)
            .with_context(|| format!("failed to remove {}", dest.display()))?;
    }
    mirror(root, dest, root)?;
    for program in ALTERED {
        let path = dest.join(program);
        let mut bytes =
            std::fs::read(&path).with_context(|| format!("failed to read {}", path.display()))?;
        bytes.push(0);
        std::fs::write(&path, bytes)
            .with_context(|| format!("failed to write {}", path.display()))?;
    }
    let relative = nvcc.strip_prefix(root).unwrap_or(nvcc);
    Ok(dest.join(relative))
}

/// Recreates the tree `from` at `to`: folders, symbolic links, and files hard-linked or copied
/// (the [`ALTERED`] programs always copied).
fn mirror(from: &Path, to: &Path, root: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("failed to create {}", to.display()))?;
    let entries =
        std::fs::read_dir(from).with_context(|| format!("failed to read {}", from.display()))?;
    for entry in entries {
        let entry = entry?;
        let (source, target) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            let link = std::fs::read_link(&source)?;
            symlink(&link, &target)?;
        } else if kind.is_dir() {
            mirror(&source, &target, root)?;
        } else {
            let altered = ALTERED.iter().any(|program| {
                source
                    .strip_prefix(root)
                    .is_ok_and(|rel| rel == Path::new(program))
            });
            if altered || std::fs::hard_link(&source, &target).is_err() {
                std::fs::copy(&source, &target).with_context(|| {
                    format!(
                        "failed to copy {} to {}",
                        source.display(),
                        target.display()
                    )
                })?;
            }
        }
    }
    Ok(())
}

#[cfg(unix)]
fn symlink(link: &Path, at: &Path) -> Result<()> {
    std::os::unix::fs::symlink(link, at)
        .with_context(|| format!("failed to create the link {}", at.display()))
}

#[cfg(not(unix))]
fn symlink(_link: &Path, at: &Path) -> Result<()> {
    bail!(
        "the toolkit has a symbolic link at {}, which this host cannot recreate",
        at.display()
    )
}
