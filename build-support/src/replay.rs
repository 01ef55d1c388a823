//! nvcc's warnings kept with the fat binary they came from, so that a module reused from the
//! cache or from this build's previous output shows them again, once per build, marked as
//! replayed: `k.cu:3: warning #177-D: … (nvcc for sm_90) (replayed from the build cache)`.
//!
//! They are stored as text, one line per line of the diagnostics, next to the cache entry
//! (`<key>.warnings`) and next to the manifest (`<module>.warnings`); no file when there are
//! none.

use std::io;
use std::path::Path;

use crate::error::Error;
use crate::fs;

/// Where warnings replayed from the shared cache come from.
pub(crate) const FROM_CACHE: &str = "replayed from the build cache";

/// Where warnings replayed from this build's previous output come from.
pub(crate) const FROM_PREVIOUS: &str = "replayed from an earlier build";

/// What stands for the source file's path in the cache, which checkouts at other paths share.
const SOURCE: &str = "<sasskit:source>";

/// The most bytes of stored warnings read back: far more than nvcc prints for one file; a
/// larger file is not replayed.
const MAX_WARNINGS_FILE: u64 = 1 << 20;

/// Stores `lines` at `path`, or removes the file when there are none.
pub(crate) fn store(path: &Path, lines: &[String]) -> Result<(), Error> {
    if lines.is_empty() {
        return match std::fs::remove_file(path) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => {
                Err(Error::io("remove", path, error))
            }
            _ => Ok(()),
        };
    }
    let mut text = lines.join("\n");
    text.push('\n');
    fs::write_atomic(path, text.as_bytes())
}

/// The lines stored at `path`; none when there is no file (or an unreadable one).
pub(crate) fn load(path: &Path) -> Vec<String> {
    let Ok(bytes) = fs::read_at_most(path, MAX_WARNINGS_FILE) else {
        return Vec::new();
    };
    String::from_utf8_lossy(&bytes)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// `lines` as the shared cache keeps them: the source's path, which differs between checkouts
/// that share the entry, replaced by a placeholder.
pub(crate) fn portable(lines: &[String], source: &Path) -> Vec<String> {
    let path = source.display().to_string();
    lines
        .iter()
        .map(|line| line.replace(&path, SOURCE))
        .collect()
}

/// Lines from the shared cache with the placeholder for the source's path replaced by `source`,
/// the path in this checkout.
pub(crate) fn localized(lines: &[String], source: &Path) -> Vec<String> {
    let path = source.display().to_string();
    lines
        .iter()
        .map(|line| line.replace(SOURCE, &path))
        .collect()
}

/// `lines` with the first line of each diagnostic (a line that does not start with a space)
/// marked as replayed `from` where.
pub(crate) fn marked(lines: &[String], from: &str) -> Vec<String> {
    lines
        .iter()
        .map(|line| {
            if line.starts_with(char::is_whitespace) {
                line.clone()
            } else {
                format!("{line} ({from})")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_loads_and_marks_warnings() {
        let dir = std::env::temp_dir().join(format!("sasskit-replay-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("k.warnings");
        let lines = vec![
            "k.cu:3: warning #177-D: variable \"x\" was declared but never referenced (nvcc for \
             sm_90)"
                .to_owned(),
            "    int x;".to_owned(),
        ];
        store(&path, &lines).unwrap();
        assert_eq!(load(&path), lines);
        assert_eq!(
            marked(&lines, FROM_CACHE),
            [
                format!("{} (replayed from the build cache)", lines[0]),
                lines[1].clone()
            ]
        );
        store(&path, &[]).unwrap();
        assert!(!path.exists());
        assert!(load(&path).is_empty());
        store(&path, &[]).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_cache_keeps_warnings_free_of_the_checkout_path() {
        let here = Path::new("/home/a/krate/kernels/k.cu");
        let there = Path::new("/home/b/clone/kernels/k.cu");
        let lines = vec![format!(
            "{}:3: warning #177-D: … (nvcc for sm_90)",
            here.display()
        )];
        let stored = portable(&lines, here);
        assert_eq!(
            stored,
            ["<sasskit:source>:3: warning #177-D: … (nvcc for sm_90)"]
        );
        assert_eq!(
            localized(&stored, there),
            ["/home/b/clone/kernels/k.cu:3: warning #177-D: … (nvcc for sm_90)"]
        );
    }
}
