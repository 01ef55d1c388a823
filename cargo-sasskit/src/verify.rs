//! `verify`: every fat binary embedded in a file (an executable, a library, an object, a `.fatbin`)
//! holds SASS for every required target, so no GPU of those targets ever needs a PTX JIT.
//!
//! ```no_run
//! use sasskit_core::TargetList;
//!
//! let required = TargetList::parse("sm_90,sm_100,sm_121").unwrap();
//! // Prints the table of what the binary embeds; the error lists every gap.
//! cargo_sasskit::verify::run("target/release/my-app".as_ref(), &required)?;
//! # Ok::<(), cargo_sasskit::Error>(())
//! ```
//!
//! A required `sm_XY` is served by SASS for `sm_XY`, `sm_XYa` or `sm_XYf`: each of them runs on
//! a device of compute capability X.Y. (Only plain `sm_XY` also runs on later X.Z devices;
//! require `sm_XZ` too when those matter.) A required `sm_XYa` or `sm_XYf` needs exactly that
//! SASS, and a required `compute_XY` needs PTX for it, with the same rule for suffixes.
//!
//! Every container found is checked, corrupt ones fail the check, and so does a file with no
//! container at all: a GPU binary that lost its kernels is a broken build, not a pass.

use std::fmt::{self, Write as _};
use std::fs;
use std::path::Path;

use sasskit_core::fatbin::{FatBinary, FatbinError, Found, Image, ImageKind};
use sasskit_core::{Target, TargetList, cubin};

use crate::Error;

mod json;
mod origins;

pub use origins::Origins;

/// The most kernel names a container's line and a problem show; the rest are counted. A
/// static library's object can hold thousands of template instances, whose mangled names made
/// single lines of many kilobytes.
pub const KERNELS_SHOWN: usize = 4;

/// Names longer than this are cut, with `…`: mangled template instances run to hundreds of
/// characters.
pub const KERNEL_NAME_WIDTH: usize = 60;

/// What one file holds and what is wrong with it.
#[derive(Debug)]
pub struct Report {
    /// Every container found, in file order.
    pub containers: Vec<Container>,
    /// Every reason the check fails; empty when it passes.
    pub problems: Vec<Problem>,
}

impl Report {
    /// Whether every container serves every required target.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// One container found in the file.
#[derive(Debug)]
pub struct Container {
    /// Where it starts in the file.
    pub offset: usize,
    /// The build that made it, when a manifest given to [`check_with`] has its images:
    /// `library moe, object moe/mmq.o, source …` or `module saxpy, source …`.
    pub origin: Option<String>,
    /// The container's bytes, or why it could not be parsed.
    pub parsed: Result<Parsed, FatbinError>,
}

/// A container the parser could read.
#[derive(Debug)]
pub struct Parsed {
    /// Its size in bytes.
    pub size: usize,
    /// Its images, in file order.
    pub images: Vec<Image>,
    /// Kernel names read from the first cubin (decompressed if need be), to tell containers
    /// apart; empty when no cubin could be read.
    pub kernels: Vec<String>,
}

/// One reason the check fails.
#[derive(Debug, PartialEq, Eq)]
pub enum Problem {
    /// The file holds no fat binary at all.
    NoFatBinary,
    /// A container that cannot be read.
    Corrupt {
        /// Where it starts.
        offset: usize,
        /// What is wrong with it.
        error: FatbinError,
    },
    /// A container with no image for a required target.
    Missing {
        /// Where it starts.
        offset: usize,
        /// The build that made it, when known ([`Container::origin`]).
        origin: Option<String>,
        /// The kernels of its first cubin, to tell containers apart.
        kernels: Vec<String>,
        /// The required target it lacks.
        target: Target,
        /// The images it holds.
        holds: Vec<String>,
    },
}

/// Reads `path` and checks it against `required`.
pub fn file(path: &Path, required: &TargetList) -> Result<Report, Error> {
    file_with(path, required, &Origins::default())
}

/// [`file()`], naming each container's build from `origins`.
pub fn file_with(path: &Path, required: &TargetList, origins: &Origins) -> Result<Report, Error> {
    let data = fs::read(path)
        .map_err(|error| Error::new(format!("failed to read {}: {error}", path.display())))?;
    Ok(check_with(&data, required, origins))
}

/// `cargo sasskit verify --json`: prints the report as one JSON object ([`Report::to_json`]),
/// then fails, as [`run`] does, when there is a problem.
pub fn run_json(path: &Path, required: &TargetList, origins: &Origins) -> Result<(), Error> {
    let report = file_with(path, required, origins)?;
    println!("{}", report.to_json(path, required));
    if report.is_ok() {
        return Ok(());
    }
    Err(Error::new(format!(
        "{} fails verification: {} problem{}",
        path.display(),
        report.problems.len(),
        if report.problems.len() == 1 { "" } else { "s" }
    )))
}

/// `cargo sasskit verify`: prints the table of what `path` embeds, then fails listing every
/// problem.
pub fn run(path: &Path, required: &TargetList) -> Result<(), Error> {
    run_with(path, required, &Origins::default())
}

/// [`run`], naming each container's build from `origins` (`verify --manifests`).
pub fn run_with(path: &Path, required: &TargetList, origins: &Origins) -> Result<(), Error> {
    let report = file_with(path, required, origins)?;
    println!("{}: required {}", path.display(), required);
    print!("{}", report.table(required));
    if report.problems.is_empty() {
        let n = report.containers.len();
        let noun = if n == 1 { "fat binary" } else { "fat binaries" };
        println!("verify: ok, {n} {noun}, each serving {required}");
        return Ok(());
    }
    let mut message = format!("{} fails verification:", path.display());
    for problem in &report.problems {
        let _ = write!(message, "\n  {problem}");
    }
    Err(Error::new(message))
}

/// Finds every container in `data` and checks it against `required`.
pub fn check(data: &[u8], required: &TargetList) -> Report {
    check_with(data, required, &Origins::default())
}

/// [`check`], naming each container's build from `origins`.
pub fn check_with(data: &[u8], required: &TargetList, origins: &Origins) -> Report {
    let containers: Vec<Container> = sasskit_core::fatbin::find_fat_binaries(data)
        .into_iter()
        .map(|Found { offset, result }| {
            let parsed = result.map(|f| parse(&f));
            let origin = parsed
                .as_ref()
                .ok()
                .and_then(|parsed| origins.name(&parsed.images));
            Container {
                offset,
                origin,
                parsed,
            }
        })
        .collect();
    let mut problems = Vec::new();
    if containers.is_empty() {
        problems.push(Problem::NoFatBinary);
    }
    for container in &containers {
        match &container.parsed {
            Err(error) => {
                problems.push(Problem::Corrupt {
                    offset: container.offset,
                    error: error.clone(),
                });
            }
            Ok(parsed) => {
                for target in required.iter() {
                    if !parsed.images.iter().any(|image| satisfies(image, target)) {
                        problems.push(Problem::Missing {
                            offset: container.offset,
                            origin: container.origin.clone(),
                            kernels: parsed.kernels.clone(),
                            target,
                            holds: parsed.images.iter().map(Image::to_string).collect(),
                        });
                    }
                }
            }
        }
    }
    Report {
        containers,
        problems,
    }
}

/// Whether `image` serves the required `target` (see the module docs): [`Image::serves`].
pub fn satisfies(image: &Image, target: Target) -> bool {
    image.serves(target)
}

fn parse(fatbin: &FatBinary<'_>) -> Parsed {
    let kernels = fatbin
        .images()
        .iter()
        .filter(|image| image.kind == ImageKind::Sass)
        .find_map(|image| {
            let elf = fatbin.contents(image).ok()?;
            let kernels = cubin::kernels(&elf).ok()?;
            Some(kernels.into_iter().map(|kernel| kernel.name).collect())
        })
        .unwrap_or_default();
    Parsed {
        size: fatbin.as_bytes().len(),
        images: fatbin.images().to_vec(),
        kernels,
    }
}

impl Report {
    /// One block per container: its offset, size and kernels, then one row per image.
    pub fn table(&self, required: &TargetList) -> String {
        let mut out = String::new();
        for container in &self.containers {
            let parsed = match &container.parsed {
                Ok(parsed) => parsed,
                Err(error) => {
                    let _ = writeln!(out, "container {:#010x}: {error}", container.offset);
                    continue;
                }
            };
            if let Some(origin) = &container.origin {
                let _ = writeln!(out, "container {:#010x}: {origin}", container.offset);
            }
            let _ = writeln!(
                out,
                "container {:#010x}: {} bytes, {} image{}, kernels: {}",
                container.offset,
                parsed.size,
                parsed.images.len(),
                if parsed.images.len() == 1 { "" } else { "s" },
                if parsed.kernels.is_empty() {
                    "?".to_owned()
                } else {
                    Kernels(&parsed.kernels).to_string()
                },
            );
            let _ = writeln!(
                out,
                "  {:<7} {:<12} {:<8} {:<8} {:>8}  uncompressed",
                "kind", "target", "version", "storage", "bytes"
            );
            for image in &parsed.images {
                let target = image
                    .target()
                    .map_or_else(|| image.arch.to_string(), |t| t.to_string());
                let stored = image.compressed_size.unwrap_or(image.payload_size);
                let unpacked = image
                    .uncompressed_size
                    .map(|n| n.to_string())
                    .unwrap_or_default();
                let row = format!(
                    "  {:<7} {:<12} {:<8} {:<8} {:>8}  {}",
                    image.kind.to_string(),
                    target,
                    format!("{}.{}", image.version.0, image.version.1),
                    image.compression.to_string(),
                    stored,
                    unpacked,
                );
                let _ = writeln!(out, "{}", row.trim_end());
            }
            let missing: Vec<String> = required
                .iter()
                .filter(|&target| !parsed.images.iter().any(|image| satisfies(image, target)))
                .map(|target| target.to_string())
                .collect();
            if missing.is_empty() {
                let _ = writeln!(out, "  ok: serves {required}");
            } else {
                let _ = writeln!(out, "  MISSING: {}", missing.join(", "));
            }
        }
        out
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::NoFatBinary => f.write_str(
                "no fat binary found: the file embeds no CUDA kernels (was it built without its \
                 sasskit kernels, or is it the wrong file?)",
            ),
            Problem::Corrupt { offset, error } => {
                write!(
                    f,
                    "the container candidate at {offset:#x} cannot be read: {error}"
                )
            }
            Problem::Missing {
                offset,
                origin,
                kernels,
                target,
                holds,
            } => {
                write!(f, "container at {offset:#x}")?;
                if let Some(origin) = origin {
                    write!(f, " ({origin})")?;
                }
                if !kernels.is_empty() {
                    write!(f, " (kernels {})", Kernels(kernels))?;
                }
                let what = if target.is_ptx() { "PTX" } else { "SASS" };
                write!(f, " has no {what} for {target}")?;
                if holds.is_empty() {
                    f.write_str(" (it holds no image)")?;
                } else {
                    write!(f, " (it holds {})", holds.join(", "))?;
                }
                write!(
                    f,
                    ": add {target} to SASSKIT_ARCHS, to `[package.metadata.sasskit] archs` or to \
                     the build.rs target list, and rebuild"
                )
            }
        }
    }
}

/// At most [`KERNELS_SHOWN`] kernel names, each cut to [`KERNEL_NAME_WIDTH`], then how many
/// more: `a, b, c, d and 1250 more`.
struct Kernels<'a>(&'a [String]);

impl fmt::Display for Kernels<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, name) in self.0.iter().take(KERNELS_SHOWN).enumerate() {
            if index > 0 {
                f.write_str(", ")?;
            }
            if name.chars().count() > KERNEL_NAME_WIDTH {
                let cut: String = name.chars().take(KERNEL_NAME_WIDTH - 1).collect();
                write!(f, "{cut}…")?;
            } else {
                f.write_str(name)?;
            }
        }
        if self.0.len() > KERNELS_SHOWN {
            write!(f, " and {} more", self.0.len() - KERNELS_SHOWN)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
