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
    claim_name(out_dir, module, source).map_err(|other| {
        Error::config(format!(
            "`{}` and `{}` would both be the module `{module}` in `{}` (two `sasskit_build::Build`s \
             of this build script compile them): rename one of the files, or give one `Build` \
             another `out_dir`",
            other.display(),
            source.display(),
            out_dir.display()
        ))
    })
}

/// Claims the static library `library` in `out_dir` for the library whose first file is
/// `first_source`; an error naming both libraries' first files when another library holds the
/// name. The fix is another library name: the name, not a file, makes `lib<name>.a`.
pub(crate) fn claim_library(
    out_dir: &Path,
    library: &str,
    first_source: &Path,
) -> Result<(), Error> {
    // Modules and libraries are separate names: `saxpy.fatbin` and `libsaxpy.a` can coexist.
    let key = sasskit_core::out_dir::archive_file(library);
    claim_name(out_dir, &key, first_source).map_err(|other| {
        Error::config(format!(
            "two static libraries of this build script are named `{library}` (one built from `{}`, \
             one from `{}`), and both would be `{key}` in `{}`: rename one library \
             (`.static_library(\"<another name>\")`, and `sasskit::host_functions!(<another \
             name>)` in the crate)",
            other.display(),
            first_source.display(),
            out_dir.display()
        ))
    })
}

/// Claims `name` in `out_dir` for `source`, or returns the other source that holds it.
fn claim_name(out_dir: &Path, name: &str, source: &Path) -> Result<(), PathBuf> {
    let mut claims = CLAIMS.lock().unwrap_or_else(PoisonError::into_inner);
    let held = claims
        .iter()
        .find(|(dir, held, _)| dir == out_dir && held == name);
    match held {
        Some((_, _, other)) if other != source => Err(other.clone()),
        Some(_) => Ok(()),
        None => {
            claims.push((out_dir.to_owned(), name.to_owned(), source.to_owned()));
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

    #[test]
    fn a_second_library_of_one_name_is_refused_asking_for_another_name() {
        let out = Path::new("/claims-test/libraries/sasskit");
        claim_library(out, "moe", Path::new("/crate/kernels/moe.cu")).unwrap();
        claim_library(out, "moe", Path::new("/crate/kernels/moe.cu")).unwrap();
        // A module of the same name is another output.
        claim(out, "moe", Path::new("/crate/kernels/other.cu")).unwrap();
        let error = claim_library(out, "moe", Path::new("/crate/kernels/mmq.cu")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "two static libraries of this build script are named `moe` (one built from \
             `/crate/kernels/moe.cu`, one from `/crate/kernels/mmq.cu`), and both would be \
             `libmoe.a` in `/claims-test/libraries/sasskit`: rename one library \
             (`.static_library(\"<another name>\")`, and `sasskit::host_functions!(<another \
             name>)` in the crate)"
        );
    }
}
