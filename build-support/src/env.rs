//! Every environment variable the build reads, through two accessors, and the overrides of
//! [`Build::env`](crate::Build::env).
//!
//! Variables that change the output are read with [`tracked`], which tells cargo to rerun the
//! build script when they change. Variables that cargo itself sets for build scripts (`OUT_DIR`,
//! `TARGET`, …) are read with [`cargo`]: cargo already reruns when they change.
//!
//! A build's overrides are in force, through [`Overrides::scope`], on the thread that runs the
//! build and on the workers it starts ([`crate::parallel`] carries them over), and the programs
//! it starts get them too ([`crate::command`]): within one build, a variable has one value
//! wherever it is read. Only the `cc` crate, which finds the host compiler, reads the process's
//! own environment.

use std::cell::RefCell;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// Variables set (`Some`) or removed (`None`) for one build, in place of the process's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Overrides(Vec<(OsString, Option<OsString>)>);

thread_local! {
    static IN_FORCE: RefCell<Overrides> = RefCell::new(Overrides::default());
}

impl Overrides {
    /// The overrides, the last of each name winning.
    pub(crate) fn new(pairs: &[(OsString, Option<OsString>)]) -> Overrides {
        Overrides(pairs.to_vec())
    }

    /// The overrides in force on this thread.
    pub(crate) fn current() -> Overrides {
        IN_FORCE.with(|in_force| in_force.borrow().clone())
    }

    /// Runs `work` with these overrides in force on this thread, and restores the previous ones
    /// afterwards (also when `work` panics).
    pub(crate) fn scope<R>(&self, work: impl FnOnce() -> R) -> R {
        struct Restore(Option<Overrides>);
        impl Drop for Restore {
            fn drop(&mut self) {
                if let Some(previous) = self.0.take() {
                    IN_FORCE.with(|in_force| *in_force.borrow_mut() = previous);
                }
            }
        }
        let previous = IN_FORCE.with(|in_force| in_force.replace(self.clone()));
        let _restore = Restore(Some(previous));
        work()
    }

    /// Each override, as a command applies it.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&OsStr, Option<&OsStr>)> {
        self.0
            .iter()
            .map(|(key, value)| (key.as_os_str(), value.as_deref()))
    }
}

/// A variable's value: the override in force, else the process's.
#[allow(clippy::disallowed_methods)] // The one place that may read the environment.
fn read(name: &str) -> Option<OsString> {
    IN_FORCE.with(|in_force| {
        let in_force = in_force.borrow();
        match in_force.0.iter().rev().find(|(key, _)| key == name) {
            Some((_, value)) => value.clone(),
            None => std::env::var_os(name),
        }
    })
}

/// Reads a variable that affects the build and records it for `cargo:rerun-if-env-changed`.
pub(crate) fn tracked(name: &str) -> Option<OsString> {
    crate::cargo_output::rerun_if_env_changed(name);
    read(name).filter(|value| !value.is_empty())
}

/// Reads a variable that cargo sets for build scripts.
pub(crate) fn cargo(name: &str) -> Option<OsString> {
    read(name)
}

/// A program found on `PATH` (as the build sees it), as a shell would find it.
pub(crate) fn which(program: impl AsRef<OsStr>) -> Option<PathBuf> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| Path::new("/").to_owned());
    which::which_in(program, read("PATH"), cwd).ok()
}

/// An on/off variable such as `SASSKIT_REQUIRE_TYPED_KERNELS`, [`tracked`]: `1` or `0`, off when
/// unset.
pub(crate) fn switch(name: &str) -> Result<bool, crate::error::Error> {
    match tracked(name) {
        None => Ok(false),
        Some(value) if value == "1" => Ok(true),
        Some(value) if value == "0" || value.is_empty() => Ok(false),
        Some(value) => Err(crate::error::Error::config(format!(
            "`{name}={}` is not `1` or `0`",
            value.to_string_lossy()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_override_wins_over_the_process_and_ends_with_its_scope() {
        let name = "SASSKIT_TEST_ENV_OVERRIDE";
        let overrides = Overrides::new(&[
            (name.into(), Some("first".into())),
            (name.into(), Some("second".into())),
            ("HOME".into(), None),
        ]);
        overrides.scope(|| {
            assert_eq!(cargo(name), Some("second".into()));
            assert_eq!(cargo("HOME"), None);
            let nested = Overrides::new(&[(name.into(), Some("inner".into()))]);
            nested.scope(|| assert_eq!(cargo(name), Some("inner".into())));
            assert_eq!(cargo(name), Some("second".into()));
        });
        assert_eq!(cargo(name), None);
        assert!(Overrides::current().iter().next().is_none());
    }

    #[test]
    fn which_looks_on_the_overridden_path() {
        let dir = std::env::temp_dir().join(format!("sasskit-env-which-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let program = dir.join("sasskit-test-tool");
        std::fs::write(&program, "#!/bin/sh\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let found = Overrides::new(&[("PATH".into(), Some(dir.clone().into()))])
            .scope(|| which("sasskit-test-tool"));
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(found, Some(program));
    }
}
