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
use crate::{env, fs, replay};

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

    /// Where nvcc's warnings for the entry of `key` are kept: `<key>.warnings` beside it.
    pub(crate) fn warnings_entry(&self, key: &str) -> PathBuf {
        self.entry(key).with_extension("warnings")
    }

    /// Stores verified bytes for `key`, with the warnings nvcc printed when it compiled them.
    /// The warnings go first, so that an entry a reader finds has its warnings in place.
    pub(crate) fn store(&self, key: &str, bytes: &[u8], warnings: &[String]) -> Result<(), Error> {
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
        let cache = Cache { dir: dir.clone() };
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
}
