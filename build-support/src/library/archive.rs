//! `lib<name>.a` from the objects, with the archiver the `cc` crate picks for the target
//! (`AR`, `AR_<target>`, `TARGET_AR`, cross toolchains), written under a temporary name and
//! renamed into place.

use std::path::Path;

use crate::command::display;
use crate::error::{Error, ErrorKind};
use crate::{env, fs};

/// Archives `objects` into `archive`; leaves the file untouched when the new archive has the
/// same bytes, so cargo sees no change.
pub(super) fn create(archive: &Path, objects: &[&Path]) -> Result<(), Error> {
    if let Some(host) = env::cargo("TARGET").and_then(|target| target.into_string().ok()) {
        // cc reads these without telling cargo (its metadata is off here).
        for var in [
            format!("AR_{host}"),
            format!("AR_{}", host.replace('-', "_")),
            "TARGET_AR".to_owned(),
            "AR".to_owned(),
        ] {
            env::tracked(&var);
        }
    }
    let mut command = cc::Build::new()
        .cargo_metadata(false)
        .try_get_archiver()
        .map_err(|error| {
            Error::config(format!(
                "cannot find an archiver for the static library `{}`: {error}; set `AR` to \
                 the `ar` of the target's toolchain",
                archive.display()
            ))
        })?;
    let tmp = fs::temporary_sibling(archive);
    // `ar` adds to an existing archive; the name is unique, but start from nothing anyway.
    let _ = std::fs::remove_file(&tmp);
    // Deterministic member headers on Apple's ar too (GNU ar is deterministic by default).
    command.env("ZERO_AR_DATE", "1");
    command.arg("crs").arg(&tmp).args(objects);
    let output = command.output().map_err(|source| {
        Error::new(ErrorKind::Spawn {
            program: command.get_program().into(),
            source,
        })
    })?;
    if !output.status.success() {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::new(ErrorKind::Compile(format!(
            "the archiver failed to write `{}` ({}): {}\ncommand: {}",
            archive.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim(),
            display(&command)
        ))));
    }
    let unchanged = match (std::fs::read(&tmp), std::fs::read(archive)) {
        (Ok(new), Ok(old)) => new == old,
        _ => false,
    };
    if unchanged {
        let _ = std::fs::remove_file(&tmp);
        return Ok(());
    }
    std::fs::rename(&tmp, archive).map_err(|error| {
        let _ = std::fs::remove_file(&tmp);
        Error::io("rename into place", archive, error)
    })
}
