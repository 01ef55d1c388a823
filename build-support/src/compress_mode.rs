//! How the fat binaries store their SASS images: nvcc's `--compress-mode`, resolved from the
//! builder, `SASSKIT_COMPRESS_MODE`, `compress-mode` in `[package.metadata.sasskit]` or the
//! default, and turned into nvcc flags for the nvcc that builds.

use std::fmt;
use std::str::FromStr;

use crate::config::Metadata;
use crate::env;
use crate::error::Error;

/// Set to `none`, `speed`, `balance` or `size` to choose how the fat binaries store their SASS,
/// as [`Build::compress_mode`](crate::Build::compress_mode) does.
pub const COMPRESS_MODE_ENV: &str = "SASSKIT_COMPRESS_MODE";

/// How the fat binaries store their SASS images (nvcc's `--compress-mode`, with every image
/// compressed, not only the large ones).
///
/// A compressed image is decompressed by the driver when the module loads; the runtime hands
/// it over still compressed. The README's "Compressed fat binaries" section gives the sizes, the
/// first-load times and the rule that picked the default, [`CompressMode::None`]: no mode kept
/// the first load of candle's 11 modules within 1.1x of the raw images' (H200 and H100, 25 and
/// 10 fresh processes: `speed` 1.17x for a sixth of the bytes, `balance` and `size` 1.5–1.6x).
/// Choose [`CompressMode::Speed`] where bytes matter more than about 2 ms per 11 modules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CompressMode {
    /// SASS stored raw, as nvcc stores it without `--compress-mode` (PTX is compressed
    /// either way).
    None,
    /// `--compress-mode=speed`: LZ4, the fastest to decompress and the largest of the three
    /// (candle's 11 modules: 5.4 MB, against 31.8 MB raw).
    Speed,
    /// `--compress-mode=balance`: zstd (candle's 11 modules: 2.6 MB).
    Balance,
    /// `--compress-mode=size`: zstd at a higher level, the smallest (candle's 11 modules:
    /// 2.0 MB).
    Size,
}

impl CompressMode {
    /// The mode of a build that sets none.
    pub const DEFAULT: CompressMode = CompressMode::None;

    /// Every mode, in the order of the documentation.
    pub const ALL: [CompressMode; 4] = [
        CompressMode::None,
        CompressMode::Speed,
        CompressMode::Balance,
        CompressMode::Size,
    ];

    /// The name in settings and nvcc's spelling: `none`, `speed`, `balance`, `size`.
    pub fn name(self) -> &'static str {
        match self {
            CompressMode::None => "none",
            CompressMode::Speed => "speed",
            CompressMode::Balance => "balance",
            CompressMode::Size => "size",
        }
    }

    /// What nvcc is given for this mode: nothing for [`CompressMode::None`]; otherwise
    /// `--compress-mode` and `-Xfatbin=-compress-all`, without which nvcc leaves small images
    /// raw.
    fn flags(self) -> Vec<String> {
        match self {
            CompressMode::None => Vec::new(),
            mode => vec![
                "-Xfatbin=-compress-all".to_owned(),
                format!("--compress-mode={}", mode.name()),
            ],
        }
    }
}

impl fmt::Display for CompressMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for CompressMode {
    type Err = String;

    fn from_str(text: &str) -> Result<CompressMode, String> {
        CompressMode::ALL
            .into_iter()
            .find(|mode| mode.name() == text)
            .ok_or_else(|| {
                format!("`{text}` is not a compress mode; use none, speed, balance or size")
            })
    }
}

/// The compress mode of a build and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Compression {
    pub(crate) mode: CompressMode,
    /// Set by the builder, the environment or the metadata (not the default): an nvcc that
    /// cannot do it is then an error, where the default falls back to [`CompressMode::None`].
    pub(crate) explicit: bool,
}

impl Compression {
    /// The mode from `builder` (`Build::compress_mode`), else [`COMPRESS_MODE_ENV`], else
    /// `compress-mode` in the metadata, else [`CompressMode::DEFAULT`].
    pub(crate) fn resolve(
        builder: Option<CompressMode>,
        metadata: &Metadata,
    ) -> Result<Compression, Error> {
        if let Some(mode) = builder {
            return Ok(Compression {
                mode,
                explicit: true,
            });
        }
        if let Some(value) = env::tracked(COMPRESS_MODE_ENV) {
            let text = value.to_string_lossy();
            let mode = text
                .parse()
                .map_err(|error| Error::config(format!("`{COMPRESS_MODE_ENV}={text}`: {error}")))?;
            return Ok(Compression {
                mode,
                explicit: true,
            });
        }
        if let Some((cargo_toml, value)) = metadata.get("compress-mode") {
            let mode = value
                .as_str()
                .ok_or_else(|| format!("found `{value}`"))
                .and_then(str::parse)
                .map_err(|error| {
                    Error::config(format!(
                        "`compress-mode` in [package.metadata.sasskit] of {} must be one of \
                         \"none\", \"speed\", \"balance\", \"size\": {error}",
                        cargo_toml.display()
                    ))
                })?;
            return Ok(Compression {
                mode,
                explicit: true,
            });
        }
        Ok(Compression {
            mode: CompressMode::DEFAULT,
            explicit: false,
        })
    }

    /// The flags for an nvcc of `version` (`13.0.88`), given the user's `flags`: none when
    /// the user passes `--compress-mode` themselves (theirs wins). `--compress-mode` came with
    /// CUDA 12.8: an older nvcc builds the default uncompressed, and refuses a mode that was
    /// asked for, naming the fix.
    pub(crate) fn nvcc_flags(
        &self,
        version: &str,
        user_flags: &[String],
    ) -> Result<Vec<String>, Error> {
        if user_flags
            .iter()
            .any(|flag| flag.starts_with("--compress-mode") || flag.starts_with("-compress-mode"))
        {
            return Ok(Vec::new());
        }
        if self.mode == CompressMode::None || supports_compress_mode(version) {
            return Ok(self.mode.flags());
        }
        if !self.explicit {
            return Ok(Vec::new());
        }
        Err(Error::config(format!(
            "compress mode `{}` needs nvcc 12.8 or later (`--compress-mode`), and nvcc is \
             {version}: install CUDA 12.8 or later, or set `{COMPRESS_MODE_ENV}=none`",
            self.mode
        )))
    }
}

/// Whether nvcc `version` (`12.8.93`) has `--compress-mode`: 12.8 and later. A version that
/// does not parse is taken as new.
fn supports_compress_mode(version: &str) -> bool {
    let mut parts = version.split('.').map(str::parse::<u32>);
    match (parts.next(), parts.next()) {
        (Some(Ok(major)), Some(Ok(minor))) => (major, minor) >= (12, 8),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn explicit(mode: CompressMode) -> Compression {
        Compression {
            mode,
            explicit: true,
        }
    }

    #[test]
    fn every_mode_parses_from_its_name() {
        for mode in CompressMode::ALL {
            assert_eq!(mode.name().parse::<CompressMode>(), Ok(mode));
        }
        let error = "smallest".parse::<CompressMode>().unwrap_err();
        assert!(error.contains("none, speed, balance or size"), "{error}");
    }

    #[test]
    fn a_mode_compresses_every_image_and_none_passes_nothing() {
        assert_eq!(
            explicit(CompressMode::Speed)
                .nvcc_flags("13.0.88", &[])
                .unwrap(),
            ["-Xfatbin=-compress-all", "--compress-mode=speed"]
        );
        assert!(
            explicit(CompressMode::None)
                .nvcc_flags("13.0.88", &[])
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn the_users_own_compress_mode_flag_wins() {
        let user = ["--compress-mode=balance".to_owned()];
        assert!(
            explicit(CompressMode::Size)
                .nvcc_flags("13.0.88", &user)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn an_nvcc_before_12_8_builds_the_default_raw_and_refuses_an_asked_mode() {
        let default = Compression {
            mode: CompressMode::Size,
            explicit: false,
        };
        assert!(default.nvcc_flags("12.6.77", &[]).unwrap().is_empty());
        assert!(!default.nvcc_flags("12.8.93", &[]).unwrap().is_empty());
        let message = explicit(CompressMode::Size)
            .nvcc_flags("12.6.77", &[])
            .unwrap_err()
            .to_string();
        assert!(message.contains("needs nvcc 12.8 or later"), "{message}");
        assert!(message.contains("SASSKIT_COMPRESS_MODE=none"), "{message}");
        assert!(
            explicit(CompressMode::None)
                .nvcc_flags("12.6.77", &[])
                .unwrap()
                .is_empty()
        );
    }
}
