//! File operations whose errors name the path, and atomic writes.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::error::Error;

/// The largest fat binary file the build reads from a prebuilt folder or the cache: 2 GiB,
/// beyond what `include_bytes!` embeds in a Rust binary.
pub(crate) const MAX_FATBIN_FILE: u64 = 2 << 30;

pub(crate) fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|error| Error::io("read", path, error))
}

pub(crate) fn read_to_string(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|error| Error::io("read", path, error))
}

/// The bytes of `path` if it holds at most `limit`, checked before reading and while reading
/// (should it grow); a larger file is an [`io::ErrorKind::FileTooLarge`] error that says so.
pub(crate) fn read_at_most(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let too_large = |len: u64| {
        io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("it holds {len} bytes, more than the {limit} sasskit reads"),
        )
    };
    let file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    if len > limit {
        return Err(too_large(len));
    }
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(usize::try_from(len).unwrap_or(usize::MAX))
        .map_err(io::Error::other)?;
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

pub(crate) fn create_dir_all(path: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(path).map_err(|error| Error::io("create directory", path, error))
}

/// Writes `contents` to a temporary file next to `path` and renames it into place, so a reader
/// sees the old file or the new one, never half of one. Skips the write when the file already
/// holds exactly these bytes, so cargo does not see a change.
pub(crate) fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), Error> {
    if std::fs::read(path).is_ok_and(|existing| existing == contents) {
        return Ok(());
    }
    let tmp = temporary_sibling(path);
    std::fs::write(&tmp, contents).map_err(|error| Error::io("write", &tmp, error))?;
    std::fs::rename(&tmp, path).map_err(|error| {
        let _ = std::fs::remove_file(&tmp);
        Error::io("rename into place", path, error)
    })
}

/// A name in the same directory (so the rename stays on one filesystem) that no other process
/// uses at the same time.
pub(crate) fn temporary_sibling(path: &Path) -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Process id, time and a counter: unique on this host, and unlikely to meet another host's
    // name in a shared cache directory.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    path.with_file_name(format!(".{name}.{}.{nanos}.{n}.tmp", std::process::id()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn read_at_most_refuses_a_larger_file_naming_both_sizes() {
        let path =
            std::env::temp_dir().join(format!("sasskit-read-at-most-{}", std::process::id()));
        std::fs::write(&path, [7u8; 100]).unwrap();
        assert_eq!(super::read_at_most(&path, 100).unwrap(), [7u8; 100]);
        let error = super::read_at_most(&path, 99).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::FileTooLarge);
        assert!(
            error.to_string().contains("100 bytes, more than the 99"),
            "{error}"
        );
        std::fs::remove_file(&path).unwrap();
    }
}
