//! Which source each module name in an output folder belongs to, across every [`Build`] of one
//! build script: two `Build`s that write the same module name into one `OUT_DIR` would
//! overwrite each other's fat binary and manifest, and `kernels!` would embed whichever came
//! last.
//!
//! [`Build`]: crate::Build

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use crate::error::Error;

/// (output folder, module name, source) for every module built in this process.
static CLAIMS: Mutex<Vec<(PathBuf, String, PathBuf)>> = Mutex::new(Vec::new());

/// Claims `module` in `out_dir` for `source`; an error naming both sources when another source
/// holds it. Building the same source again (a second `compile` of the same `Build`) is fine.
pub(crate) fn claim(out_dir: &Path, module: &str, source: &Path) -> Result<(), Error> {
    let mut claims = CLAIMS.lock().unwrap_or_else(PoisonError::into_inner);
    let held = claims
        .iter()
        .find(|(dir, name, _)| dir == out_dir && name == module);
    match held {
        Some((_, _, other)) if other != source => Err(Error::config(format!(
            "`{}` and `{}` would both be the module `{module}` in `{}` (two `sasskit_build::Build`s \
             of this build script compile them): rename one of the files, or give one `Build` \
             another `out_dir`",
            other.display(),
            source.display(),
            out_dir.display()
        ))),
        Some(_) => Ok(()),
        None => {
            claims.push((out_dir.to_owned(), module.to_owned(), source.to_owned()));
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_source_for_a_module_is_refused_naming_both() {
        let out = Path::new("/claims-test/out/sasskit");
        claim(out, "saxpy", Path::new("/crate/kernels/saxpy.cu")).unwrap();
        claim(out, "saxpy", Path::new("/crate/kernels/saxpy.cu")).unwrap();
        claim(
            Path::new("/claims-test/other"),
            "saxpy",
            Path::new("/crate/v2/saxpy.cu"),
        )
        .unwrap();
        let error = claim(out, "saxpy", Path::new("/crate/v2/saxpy.cu")).unwrap_err();
        let message = error.to_string();
        for part in [
            "/crate/kernels/saxpy.cu",
            "/crate/v2/saxpy.cu",
            "module `saxpy`",
        ] {
            assert!(message.contains(part), "`{part}` not in {message}");
        }
    }
}
