//! Checks a fat binary with the parser: every requested target must be there, and in a cache
//! entry no other.

use sasskit_core::{FatBinary, Image, TargetList};

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
    let missing: Vec<String> = Image::missing_targets(fatbin.images(), targets.iter())
        .iter()
        .map(ToString::to_string)
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

/// Checks that `fatbin` holds no image for a target outside `targets`: a fat binary built for
/// them has none, so an entry of the shared cache that does was built for other targets.
pub(crate) fn exactly(
    fatbin: &FatBinary<'_>,
    targets: &TargetList,
    what: &str,
) -> Result<(), Error> {
    let extra: Vec<String> = fatbin
        .images()
        .iter()
        .filter(|image| {
            !image
                .target()
                .is_some_and(|target| targets.as_slice().contains(&target))
        })
        .map(ToString::to_string)
        .collect();
    if extra.is_empty() {
        return Ok(());
    }
    let expected: Vec<String> = targets.iter().map(|target| target.to_string()).collect();
    Err(Error::new(ErrorKind::Verify(format!(
        "the fat binary for {what} holds {}, which its targets [{}] do not ask for; a fat binary \
         built for these targets holds one image for each and nothing else",
        extra.join(", "),
        expected.join(", ")
    ))))
}
