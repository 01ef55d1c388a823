//! The files a translation unit was made of, from the line markers of its preprocessed text.
//!
//! `nvcc -E` marks every switch between files (`# 12 "kernels/tile.cuh" 1`); the files named
//! are the source and every header it includes, system headers too. Using the preprocessed text
//! that the build needs anyway gives the same list as a `-MD` dependency file without asking
//! nvcc for one, also when the fat binary comes from a cache and nvcc does not compile at all.

use std::collections::HashSet;
use std::path::PathBuf;

use crate::signature::line_marker;

/// Every existing file named by a line marker, in order of first appearance; pseudo-files such
/// as `<built-in>` and `<command-line>` are left out.
///
/// A translation unit has thousands of markers naming a few hundred files, so each name is
/// looked at (and the file system asked about it) once.
pub(crate) fn included_files(preprocessed: &str) -> Vec<PathBuf> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut files: Vec<PathBuf> = Vec::new();
    for line in preprocessed.lines() {
        let line = line.trim_start();
        if !line.starts_with('#') {
            continue;
        }
        let Some((_, Some(name))) = line_marker(line) else {
            continue;
        };
        if seen.contains(&name) {
            continue;
        }
        let path = PathBuf::from(&name);
        seen.insert(name);
        if path.is_file() {
            files.push(path);
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_each_existing_file_once() {
        let dir = std::env::temp_dir().join(format!("sasskit-deps-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (source, header) = (dir.join("k.cu"), dir.join("my dir").join("a.cuh"));
        std::fs::create_dir_all(header.parent().unwrap()).unwrap();
        std::fs::write(&source, "").unwrap();
        std::fs::write(&header, "").unwrap();
        let text = format!(
            "# 1 \"{0}\"\n# 1 \"<built-in>\"\n# 1 \"{1}\" 1\nint x;\n# 3 \"{0}\" 2\n#pragma once\n",
            source.display(),
            header.display()
        );
        assert_eq!(included_files(&text), [source, header]);
    }
}
