//! The shared build cache: fat binaries addressed by their build key.
//!
//! Set `SASSKIT_CACHE_DIR` (or [`Build::cache_dir`](crate::Build::cache_dir)) to a directory
//! that many workspaces, users or machines share. An entry is `<dir>/<k0k1>/<key>.fatbin`, where
//! the key hashes everything that determines the fat binary (see `key`), so a build for other
//! architectures, flags, sources or toolkits never finds it. Entries are written under a
//! temporary name unique to the host, process and moment, then renamed into place, which is
//! atomic on local and network filesystems; concurrent builds of the same key write the same
//! bytes. Every entry is parsed and verified before use (`compile`: exactly the build's targets,
//! and the kernels of its signatures with their parameter sizes): a truncated or foreign entry
//! is rebuilt and replaced, never loaded.
//!
//! Whoever can write to the directory decides what every reader runs, so a reader can be made
//! read-only ([`CacheMode::ReadOnly`], `SASSKIT_CACHE_MODE=read-only`): it uses the entries it
//! finds and compiles the others locally, and never writes an entry.

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::{env, fs, replay};

/// The variable that names the shared cache directory.
pub const CACHE_DIR_ENV: &str = "SASSKIT_CACHE_DIR";

/// The variable that makes a build read the shared cache without writing to it: `read-write`
/// (the default) or `read-only`.
pub const CACHE_MODE_ENV: &str = "SASSKIT_CACHE_MODE";

/// Whether a build writes the entries it compiles to the shared cache
/// ([`Build::cache_mode`](crate::Build::cache_mode), else `SASSKIT_CACHE_MODE`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CacheMode {
    /// Use the entries found and store every fat binary or object compiled (the default).
    #[default]
    ReadWrite,
    /// Use the entries found and compile the others locally, never writing to the cache: for
    /// every build but the trusted ones, since whoever writes an entry decides what its readers
    /// run.
    ReadOnly,
}

impl CacheMode {
    /// The value of `SASSKIT_CACHE_MODE` for this mode.
    pub fn as_str(self) -> &'static str {
        match self {
            CacheMode::ReadWrite => "read-write",
            CacheMode::ReadOnly => "read-only",
        }
    }

    /// Reads a value of `SASSKIT_CACHE_MODE`.
    fn parse(value: &str) -> Result<CacheMode, Error> {
        match value {
            "read-write" => Ok(CacheMode::ReadWrite),
            "read-only" => Ok(CacheMode::ReadOnly),
            other => Err(Error::config(format!(
                "{CACHE_MODE_ENV} is `{other}`, expected `read-write` (the default: use the \
                 shared cache and store what this build compiles) or `read-only` (use it, never \
                 write to it); set one of them or unset the variable"
            ))),
        }
    }
}

/// A cache directory and whether this build may write to it.
#[derive(Debug, Clone)]
pub(crate) struct Cache {
    dir: PathBuf,
    mode: CacheMode,
}

impl Cache {
    /// The configured cache: the builder's directory, else `SASSKIT_CACHE_DIR`, else none; in
    /// the builder's mode, else `SASSKIT_CACHE_MODE`'s, else read-write.
    pub(crate) fn configured(
        builder_dir: Option<&Path>,
        builder_mode: Option<CacheMode>,
    ) -> Result<Option<Cache>, Error> {
        let dir = match builder_dir {
            Some(dir) => dir.to_owned(),
            None => match env::tracked(CACHE_DIR_ENV) {
                Some(dir) => PathBuf::from(dir),
                None => return Ok(None),
            },
        };
        let mode = match builder_mode {
            Some(mode) => mode,
            None => match env::tracked(CACHE_MODE_ENV) {
                Some(value) => CacheMode::parse(&value.to_string_lossy())?,
                None => CacheMode::ReadWrite,
            },
        };
        Ok(Some(Cache { dir, mode }))
    }

    /// Whether this build writes to the cache.
    pub(crate) fn writes(&self) -> bool {
        self.mode == CacheMode::ReadWrite
    }

    /// Where the entry for `key` lives.
    pub(crate) fn entry(&self, key: &str) -> PathBuf {
        let shard = key.get(..2).unwrap_or("00");
        self.dir.join(shard).join(format!("{key}.fatbin"))
    }

    /// The entry's bytes, unverified, if it exists and is no larger than
    /// [`fs::MAX_FATBIN_FILE`] (a larger one is rebuilt and replaced).
    pub(crate) fn lookup(&self, key: &str) -> Option<Vec<u8>> {
        fs::read_at_most(&self.entry(key), fs::MAX_FATBIN_FILE).ok()
    }

    /// Where nvcc's warnings for the entry of `key` are kept: `<key>.warnings` beside it.
    pub(crate) fn warnings_entry(&self, key: &str) -> PathBuf {
        self.entry(key).with_extension("warnings")
    }

    /// Stores verified bytes for `key`, replacing any entry there, with the warnings nvcc
    /// printed when it compiled them (first, so that an entry a reader finds has its warnings
    /// in place); a read-only build stores nothing.
    pub(crate) fn store(&self, key: &str, bytes: &[u8], warnings: &[String]) -> Result<(), Error> {
        if !self.writes() {
            return Ok(());
        }
        let entry = self.entry(key);
        if let Some(shard) = entry.parent() {
            fs::create_dir_all(shard)?;
        }
        replay::store(&self.warnings_entry(key), warnings)?;
        fs::write_atomic(&entry, bytes)
    }

    /// The warnings nvcc printed when it compiled the entry of `key`, as stored.
    pub(crate) fn warnings(&self, key: &str) -> Vec<String> {
        replay::load(&self.warnings_entry(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cache_hit_replays_the_stored_warning() {
        let dir = std::env::temp_dir().join(format!("sasskit-cache-{}", std::process::id()));
        let cache = Cache {
            dir: dir.clone(),
            mode: CacheMode::ReadWrite,
        };
        let warning = "k.cu:3: warning #177-D: variable \"x\" was declared but never referenced \
                       (nvcc for sm_90)"
            .to_owned();
        cache
            .store("ab12", b"fat binary", std::slice::from_ref(&warning))
            .unwrap();
        assert_eq!(cache.lookup("ab12").as_deref(), Some(&b"fat binary"[..]));
        assert_eq!(
            replay::marked(&cache.warnings("ab12"), replay::FROM_CACHE),
            [format!("{warning} (replayed from the build cache)")]
        );
        // An entry compiled without warnings replays none.
        cache.store("cd34", b"other", &[]).unwrap();
        assert!(cache.warnings("cd34").is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_mode_reads_both_values_and_names_them_for_anything_else() {
        assert_eq!(
            CacheMode::parse("read-write").unwrap(),
            CacheMode::ReadWrite
        );
        assert_eq!(CacheMode::parse("read-only").unwrap(), CacheMode::ReadOnly);
        assert_eq!(CacheMode::default(), CacheMode::ReadWrite);
        for mode in [CacheMode::ReadWrite, CacheMode::ReadOnly] {
            assert_eq!(CacheMode::parse(mode.as_str()).unwrap(), mode);
        }
        let error = CacheMode::parse("readonly").unwrap_err();
        assert!(error.is_config());
        let message = error.to_string();
        for part in [
            "SASSKIT_CACHE_MODE",
            "`readonly`",
            "`read-write`",
            "`read-only`",
        ] {
            assert!(message.contains(part), "{part} in {message}");
        }
    }

    #[test]
    fn a_read_only_cache_reads_entries_and_stores_nothing() {
        let dir = std::env::temp_dir().join(format!("sasskit-cache-mode-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let key = "ab0123";
        let writer = Cache {
            dir: dir.clone(),
            mode: CacheMode::ReadWrite,
        };
        writer.store(key, b"first", &[]).unwrap();
        let reader = Cache {
            dir: dir.clone(),
            mode: CacheMode::ReadOnly,
        };
        assert_eq!(reader.lookup(key).as_deref(), Some(&b"first"[..]));
        reader.store(key, b"second", &[]).unwrap();
        reader.store("cd4567", b"new", &[]).unwrap();
        assert_eq!(reader.lookup(key).as_deref(), Some(&b"first"[..]));
        assert!(!reader.entry("cd4567").exists());
        assert!(!dir.join("cd").exists(), "not even the shard folder");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
