//! The fat binary and build facts that `kernels!` embeds in the program.

use sasskit_core::FatBinary;

use crate::build_info::BuildFacts;
use crate::error::LoadError;

/// A fat binary and what its build recorded, embedded in the program by `kernels!`.
///
/// The generated code writes one `static` of this type per `.cu` file. Programs may also build
/// one by hand, for example around a fat binary produced by `nvcc --fatbin`:
///
/// ```
/// use sasskit::EmbeddedModule;
///
/// static SCALE: EmbeddedModule = EmbeddedModule {
///     name: "scale",
///     fatbin: include_bytes!("../tests/fixtures/scale_sm90.fatbin"),
///     build: sasskit::BuildFacts::UNKNOWN,
/// };
/// # let _ = SCALE;
/// ```
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedModule {
    /// The module name: the file stem of the `.cu` source, as a Rust identifier.
    pub name: &'static str,
    /// The fat binary nvcc built (`nvcc --fatbin`), exactly as written to `OUT_DIR`.
    ///
    /// The bytes need no particular alignment: the runtime copies what it hands the driver.
    pub fatbin: &'static [u8],
    /// What the build recorded: nvcc, build key, cache, kernels and the images that define
    /// them; [`BuildFacts::UNKNOWN`] for a fat binary embedded by hand.
    pub build: BuildFacts,
}

impl EmbeddedModule {
    /// The images of the fat binary, in file order: `sass sm_90`, `ptx compute_90 (zstd)`.
    ///
    /// Reads the embedded bytes only; no driver is needed. A corrupt fat binary is
    /// [`LoadError::CorruptFatbin`].
    ///
    /// ```
    /// # let module = sasskit::EmbeddedModule {
    /// #     name: "scale",
    /// #     fatbin: include_bytes!("../tests/fixtures/scale_sm90_compute90.fatbin"),
    /// #     build: sasskit::BuildFacts::UNKNOWN,
    /// # };
    /// assert_eq!(module.images()?, ["ptx compute_90 (zstd)", "sass sm_90"]);
    /// # Ok::<(), sasskit::LoadError>(())
    /// ```
    pub fn images(&self) -> Result<Vec<String>, LoadError> {
        let fatbin = FatBinary::parse(self.fatbin).map_err(|error| LoadError::CorruptFatbin {
            module: self.name.to_owned(),
            error,
        })?;
        Ok(fatbin.images().iter().map(ToString::to_string).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_images_or_reports_corruption() {
        let module = EmbeddedModule {
            name: "scale",
            fatbin: include_bytes!("../tests/fixtures/scale_sm100_compute100.fatbin"),
            build: BuildFacts::UNKNOWN,
        };
        assert_eq!(
            module.images().unwrap(),
            ["ptx compute_100 (zstd)", "sass sm_100"]
        );
        let corrupt = EmbeddedModule {
            fatbin: b"junk",
            ..module
        };
        assert!(matches!(
            corrupt.images(),
            Err(LoadError::CorruptFatbin { .. })
        ));
    }
}
