//! A folder's files as they are now, to prove a build left them alone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Every file and folder under `dir` with its bytes (none for a folder) and modification time:
/// what a read-only build must leave exactly as it was.
///
/// # Panics
///
/// When `dir` or something in it cannot be read.
pub fn files(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, SystemTime)> {
    let mut files = BTreeMap::new();
    let mut folders = vec![dir.to_owned()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap().flatten() {
            let path = entry.path();
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                folders.push(path.clone());
                files.insert(path, (Vec::new(), meta.modified().unwrap()));
            } else {
                let bytes = std::fs::read(&path).unwrap();
                files.insert(path, (bytes, meta.modified().unwrap()));
            }
        }
    }
    files
}
