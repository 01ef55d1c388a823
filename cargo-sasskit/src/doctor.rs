//! `doctor`: will this binary run here, and natively? Reads every fat binary embedded in a file
//! (modules and static libraries' objects alike, as [`verify`](crate::verify) does), then asks
//! the driver, when there is one, for its CUDA version and every GPU, and reports how each
//! container would load on each GPU: SASS (exact or compatible), a PTX JIT, or a failure.
//!
//! ```no_run
//! let report = cargo_sasskit::doctor::file("target/release/my-app".as_ref(), &Default::default())?;
//! println!("{report}");
//! std::process::exit(report.severity().exit_code().into());
//! # Ok::<(), cargo_sasskit::Error>(())
//! ```
//!
//! The exit code of `cargo sasskit doctor` is [`Severity::exit_code`]: 0 when every container
//! loads SASS on every GPU (or, without a driver, when every one holds SASS), 1 when one needs
//! a PTX JIT somewhere, 2 when one cannot load somewhere (no image for a GPU, PTX newer than the
//! driver, an unreadable container).
//!
//! The nvcc release of each container is the one its first cubin's tool note records
//! (`Cuda compilation tools, release 13.0`); a container of PTX only is judged by its PTX ISA
//! version (`sasskit_core::doctor`).

use std::fs;
use std::path::Path;

use sasskit::{DoctorReport, Host, Release, Subject};
use sasskit_core::fatbin::{FatBinary, Found, ImageKind};

use crate::Error;
use crate::verify::Origins;

pub use sasskit::Severity;

/// The text that precedes the release in a cubin's `.note.nv.tkinfo` section.
const TOOL_NOTE: &[u8] = b"Cuda compilation tools, release ";

/// Reads `path` and reports its containers on this machine's GPUs, naming each container's
/// build from `origins` (`--manifests`).
pub fn file(path: &Path, origins: &Origins) -> Result<DoctorReport, Error> {
    let data = fs::read(path)
        .map_err(|error| Error::new(format!("failed to read {}: {error}", path.display())))?;
    let found = subjects(&data, origins);
    if found.is_empty() {
        return Err(Error::new(format!(
            "{} embeds no fat binary: no CUDA kernels to check (was it built without its sasskit \
             kernels, or is it the wrong file?)",
            path.display()
        )));
    }
    Ok(DoctorReport::new(Host::probe(), found))
}

/// One [`Subject`] per container in `data`: named by its build when `origins` knows it, else by
/// its offset and first kernels.
pub fn subjects(data: &[u8], origins: &Origins) -> Vec<Subject> {
    sasskit_core::fatbin::find_fat_binaries(data)
        .into_iter()
        .map(|Found { offset, result }| match result {
            Ok(fatbin) => {
                let images = fatbin.images().to_vec();
                let name = origins
                    .name(&images)
                    .unwrap_or_else(|| format!("container {offset:#x}"));
                Subject {
                    name,
                    nvcc: tool_release(&fatbin),
                    images: Ok(images),
                }
            }
            Err(error) => Subject {
                name: format!("container {offset:#x}"),
                images: Err(error.to_string()),
                nvcc: None,
            },
        })
        .collect()
}

/// The toolkit release recorded in the first readable cubin's tool note.
fn tool_release(fatbin: &FatBinary<'_>) -> Option<Release> {
    fatbin
        .images()
        .iter()
        .filter(|image| image.kind == ImageKind::Sass)
        .find_map(|image| {
            let elf = fatbin.contents(image).ok()?;
            release_in_note(&elf)
        })
}

/// The release after [`TOOL_NOTE`] in `bytes`: `13.0` of `…, release 13.0, V13.0.88`.
fn release_in_note(bytes: &[u8]) -> Option<Release> {
    let start = bytes
        .windows(TOOL_NOTE.len())
        .position(|window| window == TOOL_NOTE)?
        + TOOL_NOTE.len();
    let rest = &bytes[start..];
    let end = rest
        .iter()
        .position(|&byte| !(byte.is_ascii_digit() || byte == b'.'))
        .unwrap_or(rest.len());
    Release::parse(std::str::from_utf8(&rest[..end]).ok()?)
}

#[cfg(test)]
mod tests;
