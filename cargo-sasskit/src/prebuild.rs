//! `prebuild`: refresh a crate's prebuilt fat binaries, or check that they are current.
//!
//! Both run `cargo check` on the crate with `SASSKIT_PREBUILD` set for the named packages only
//! (`refresh=<package>,…` or `check=<package>,…`), so that `sasskit_build::Build` does the work
//! in the crate's own build script, with the crate's own settings: a refresh builds every module
//! with nvcc and rewrites the folder (printing the sizes); a check fails the build, naming every
//! stale module and the first input that changed, without writing anything. Dependencies that
//! ship prebuilt folders of their own are left alone.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use sasskit_build::PREBUILD_ENV;

use crate::Error;

/// A refresh or a check of the prebuilt folders of some packages.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Prebuild {
    manifest_path: Option<PathBuf>,
    packages: Vec<String>,
    check: bool,
    cargo_args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
}

impl Prebuild {
    /// A refresh of the package in the current folder.
    pub fn new() -> Prebuild {
        Prebuild::default()
    }

    /// The `Cargo.toml` of the crate (or workspace); the current folder's otherwise.
    pub fn manifest_path(mut self, path: impl AsRef<Path>) -> Prebuild {
        self.manifest_path = Some(path.as_ref().to_owned());
        self
    }

    /// A package to refresh or check; without any, the package of the manifest.
    pub fn package(mut self, name: impl Into<String>) -> Prebuild {
        self.packages.push(name.into());
        self
    }

    /// Check instead of refreshing: fail while a prebuilt folder is stale.
    pub fn check(mut self, check: bool) -> Prebuild {
        self.check = check;
        self
    }

    /// More arguments for `cargo check` (`--features`, `--target`, …).
    pub fn cargo_arg(mut self, arg: impl Into<OsString>) -> Prebuild {
        self.cargo_args.push(arg.into());
        self
    }

    /// An environment variable for cargo (`NVCC`, `CUDARC_CUDA_VERSION`, …).
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Prebuild {
        self.envs.push((key.into(), value.into()));
        self
    }

    /// The value of `SASSKIT_PREBUILD` this runs with.
    pub fn env_value(&self) -> Result<String, Error> {
        let packages = self.packages()?;
        let mode = if self.check { "check" } else { "refresh" };
        Ok(format!("{mode}={}", packages.join(",")))
    }

    /// Runs `cargo check` with `SASSKIT_PREBUILD` set; cargo's output goes to this process's.
    // A command-line tool, not a build script: no rerun lines to print, and this is its one
    // command.
    #[allow(clippy::disallowed_methods)]
    pub fn run(&self) -> Result<(), Error> {
        let value = self.env_value()?;
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(&cargo);
        command.arg("check");
        if let Some(path) = &self.manifest_path {
            command.arg("--manifest-path").arg(path);
        }
        for package in self.packages()? {
            command.arg("-p").arg(package);
        }
        command
            .args(&self.cargo_args)
            .envs(self.envs.iter().map(|(key, value)| (key, value)))
            .env(PREBUILD_ENV, &value);
        let status = command.status().map_err(|error| {
            Error::new(format!(
                "failed to run `{}`: {error}",
                Path::new(&cargo).display()
            ))
        })?;
        if status.success() {
            return Ok(());
        }
        Err(Error::new(if self.check {
            "the prebuilt fat binaries are stale or could not be checked (cargo's output above \
             names each module and the first input that changed); refresh them with `cargo \
             sasskit prebuild` on a machine with nvcc"
        } else {
            "refreshing the prebuilt fat binaries failed (see cargo's output above)"
        }))
    }

    /// The packages named, else the one of the manifest.
    fn packages(&self) -> Result<Vec<String>, Error> {
        if !self.packages.is_empty() {
            return Ok(self.packages.clone());
        }
        let path = self
            .manifest_path
            .clone()
            .unwrap_or_else(|| PathBuf::from("Cargo.toml"));
        let text = std::fs::read_to_string(&path)
            .map_err(|error| Error::new(format!("failed to read {}: {error}", path.display())))?;
        package_name(&text).map(|name| vec![name]).ok_or_else(|| {
            Error::new(format!(
                "{} has no [package] name (a virtual workspace?): name the packages whose \
                 prebuilt folders to refresh with `-p <package>`",
                path.display()
            ))
        })
    }
}

/// `name` of `[package]` in a `Cargo.toml`.
fn package_name(cargo_toml: &str) -> Option<String> {
    let document: toml::Table = cargo_toml.parse().ok()?;
    document
        .get("package")?
        .get("name")?
        .as_str()
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variable_names_the_packages() {
        let refresh = Prebuild::new().package("a").package("b");
        assert_eq!(refresh.env_value().unwrap(), "refresh=a,b");
        assert_eq!(refresh.check(true).env_value().unwrap(), "check=a,b");
    }

    #[test]
    fn the_package_is_the_manifests_own() {
        assert_eq!(
            package_name("[package]\nname = \"kernels\"\nversion = \"0.1.0\"\n").as_deref(),
            Some("kernels")
        );
        assert_eq!(package_name("[workspace]\nmembers = [\"a\"]\n"), None);
    }
}
