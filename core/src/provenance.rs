//! Where a module's fat binary or a library's archive came from, and whether the build cache
//! served it: recorded by the build in its manifest, and handed to the runtime as these types
//! (the generated constants name the variants), so that the load report compares no strings.

use std::fmt;
use std::str::FromStr;

/// Where a fat binary (or a static library's archive) came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(
    feature = "manifest",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "lowercase")
)]
pub enum Origin {
    /// nvcc built it in this build (or the build cache served it).
    #[default]
    Built,
    /// It is the crate's prebuilt fat binary, whose inputs match the crate's files.
    Prebuilt,
    /// There is none: a metadata-only build (docs.rs, `SASSKIT_METADATA_ONLY=1`) with no nvcc
    /// and no current prebuilt fat binary. The wrappers exist; loading the module is an error.
    Unavailable,
}

impl Origin {
    /// Every origin, in declaration order.
    pub const ALL: [Origin; 3] = [Origin::Built, Origin::Prebuilt, Origin::Unavailable];

    /// The name manifests and reports use: `built`, `prebuilt`, `unavailable`.
    pub const fn name(self) -> &'static str {
        match self {
            Origin::Built => "built",
            Origin::Prebuilt => "prebuilt",
            Origin::Unavailable => "unavailable",
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Origin {
    type Err = UnknownName;

    fn from_str(text: &str) -> Result<Origin, UnknownName> {
        Origin::ALL
            .into_iter()
            .find(|origin| origin.name() == text)
            .ok_or_else(|| UnknownName::new("origin", text))
    }
}

/// Whether the build cache served a fat binary or object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(
    feature = "manifest",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "lowercase")
)]
pub enum CacheStatus {
    /// No shared cache is configured; nvcc compiled it.
    #[default]
    Off,
    /// A cache is configured and held a verified entry for the build key.
    Hit,
    /// A cache is configured but had no usable entry; nvcc compiled it and the cache stored it.
    Miss,
}

impl CacheStatus {
    /// Every status, in declaration order.
    pub const ALL: [CacheStatus; 3] = [CacheStatus::Off, CacheStatus::Hit, CacheStatus::Miss];

    /// The name manifests and reports use: `off`, `hit`, `miss`.
    pub const fn name(self) -> &'static str {
        match self {
            CacheStatus::Off => "off",
            CacheStatus::Hit => "hit",
            CacheStatus::Miss => "miss",
        }
    }
}

impl fmt::Display for CacheStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for CacheStatus {
    type Err = UnknownName;

    fn from_str(text: &str) -> Result<CacheStatus, UnknownName> {
        CacheStatus::ALL
            .into_iter()
            .find(|status| status.name() == text)
            .ok_or_else(|| UnknownName::new("cache status", text))
    }
}

/// A name that is no [`Origin`] or [`CacheStatus`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    what: &'static str,
    text: String,
}

impl UnknownName {
    fn new(what: &'static str, text: &str) -> UnknownName {
        UnknownName {
            what,
            text: text.to_owned(),
        }
    }
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is no {}", self.text, self.what)
    }
}

impl std::error::Error for UnknownName {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back_and_unknown_ones_are_refused() {
        for origin in Origin::ALL {
            assert_eq!(origin.to_string().parse::<Origin>(), Ok(origin));
        }
        for status in CacheStatus::ALL {
            assert_eq!(status.to_string().parse::<CacheStatus>(), Ok(status));
        }
        assert_eq!(
            "cached".parse::<CacheStatus>().unwrap_err().to_string(),
            "`cached` is no cache status"
        );
        assert!("Built".parse::<Origin>().is_err());
    }
}
