//! The shared build cache: fat binaries addressed by their build key.
//!
//! Set `SASSKIT_CACHE_DIR` (or [`Build::cache_dir`](crate::Build::cache_dir)) to a directory
//! that many workspaces, users or machines share. An entry is `<dir>/<k0k1>/<key>.fatbin`, where
//! the key hashes everything that determines the fat binary (see `key`), so a build for other
//! architectures, flags, sources or toolkits never finds it. Entries are written under a
//! temporary name unique to the host, process and moment, then renamed into place, which is
//! atomic on local and network filesystems; concurrent builds of the same key write the same
//! bytes. Every entry is parsed and verified before use: a truncated or foreign entry is
//! rebuilt and replaced, never loaded.

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::{env, fs};

/// The variable that names the shared cache directory.
pub const CACHE_DIR_ENV: &str = "SASSKIT_CACHE_DIR";

/// A cache directory.
#[derive(Debug, Clone)]
pub(crate) struct Cache {
    dir: PathBuf,
}

impl Cache {
    /// The configured cache: the builder's directory, else `SASSKIT_CACHE_DIR`, else none.
    pub(crate) fn configured(builder: Option<&Path>) -> Option<Cache> {
        let dir = match builder {
            Some(dir) => dir.to_owned(),
            None => PathBuf::from(env::tracked(CACHE_DIR_ENV)?),
        };
        Some(Cache { dir })
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

    /// Stores verified bytes for `key`.
    pub(crate) fn store(&self, key: &str, bytes: &[u8]) -> Result<(), Error> {
        let entry = self.entry(key);
        if let Some(shard) = entry.parent() {
            fs::create_dir_all(shard)?;
        }
        fs::write_atomic(&entry, bytes)
    }
}
