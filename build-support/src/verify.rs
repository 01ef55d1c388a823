//! Checks a freshly built fat binary with the parser: every requested target must be there.

use sasskit_core::{FatBinary, TargetList};

use crate::error::{Error, ErrorKind};

/// Parses `bytes` and checks that it holds an image for every target in `targets`.
pub(crate) fn verify<'a>(
    bytes: &'a [u8],
    targets: &TargetList,
    what: &str,
) -> Result<FatBinary<'a>, Error> {
    let fatbin = FatBinary::parse(bytes).map_err(|error| {
        Error::new(ErrorKind::Verify(format!(
            "nvcc produced a fat binary for {what} that sasskit cannot read: {error}"
        )))
    })?;
    let missing: Vec<String> = targets
        .iter()
        .filter(|target| {
            !fatbin
                .images()
                .iter()
                .any(|image| image.target() == Some(*target))
        })
        .map(|target| target.to_string())
        .collect();
    if missing.is_empty() {
        return Ok(fatbin);
    }
    let found: Vec<String> = fatbin.images().iter().map(ToString::to_string).collect();
    Err(Error::new(ErrorKind::Verify(format!(
        "the fat binary built for {what} lacks {}: it holds [{}]; check the nvcc flags for options \
         that override the target list (such as `-arch`)",
        missing.join(", "),
        found.join(", ")
    ))))
}
