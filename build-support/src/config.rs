//! Which targets to build, from the builder, the environment, the crate's metadata or the
//! defaults, in that order of precedence.
//!
//! | precedence | where | example |
//! | --- | --- | --- |
//! | 1 | [`Build::archs`](crate::Build::archs) in `build.rs` | `.archs("sm_90,sm_100")` |
//! | 2 | the `SASSKIT_ARCHS` environment variable | `SASSKIT_ARCHS="sm_90 sm_100"` |
//! | 3 | `archs` in `[package.metadata.sasskit]` | `archs = ["sm_90", "sm_100"]` |
//! | 4 | the defaults | `sm_90`, `sm_100`, `sm_121` |
//!
//! The first place that sets a list wins; lists are never merged.
//!
//! A file can have a list of its own, which wins over all of the above because it states what
//! the source needs (a Hopper-only `wgmma` kernel builds for `sm_90a` alone):
//! [`Build::file_with_archs`](crate::Build::file_with_archs), else its entry in
//! `[package.metadata.sasskit.files]` (`"kernels/wgmma.cu" = ["sm_90a"]`).

use std::fmt;
use std::path::{Path, PathBuf};

use sasskit_core::arch::{ACCEPTED_FORMS, ArchError, TargetSpec};
use sasskit_core::{Target, TargetList};

use crate::error::Error;
use crate::{env, fs, native};

/// The environment variable that overrides the metadata and the defaults.
pub const ARCHS_ENV: &str = "SASSKIT_ARCHS";

/// Where the target list came from, for messages and the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    Builder,
    Env,
    Metadata(String),
    Default,
    /// `Build::file_with_archs` for one file.
    BuilderFile(String),
    /// `[package.metadata.sasskit.files]` for one file.
    MetadataFile {
        file: String,
        cargo_toml: String,
    },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Builder => f.write_str("`Build::archs` in build.rs"),
            Origin::Env => write!(f, "the environment variable `{ARCHS_ENV}`"),
            Origin::Metadata(path) => write!(f, "`archs` in [package.metadata.sasskit] of {path}"),
            Origin::Default => f.write_str("the defaults"),
            Origin::BuilderFile(file) => write!(f, "`Build::file_with_archs` for `{file}`"),
            Origin::MetadataFile { file, cargo_toml } => write!(
                f,
                "`\"{file}\"` in [package.metadata.sasskit.files] of {cargo_toml}"
            ),
        }
    }
}

/// The resolved target list and where it came from.
#[derive(Debug, Clone)]
pub(crate) struct Targets {
    pub(crate) list: TargetList,
    pub(crate) origin: Origin,
}

/// `[package.metadata.sasskit]` of the crate's `Cargo.toml`, read and parsed once per build.
#[derive(Debug, Default)]
pub(crate) struct Metadata {
    /// The `Cargo.toml` and its `[package.metadata.sasskit]` table, when there is one.
    found: Option<(PathBuf, Option<toml::Value>)>,
}

impl Metadata {
    /// Reads `manifest_dir/Cargo.toml` (a rerun trigger); nothing when there is no such file (a
    /// build outside cargo).
    pub(crate) fn read(manifest_dir: Option<&Path>) -> Result<Metadata, Error> {
        let Some(dir) = manifest_dir else {
            return Ok(Metadata::default());
        };
        let cargo_toml = dir.join("Cargo.toml");
        crate::cargo_output::rerun_if_changed(&cargo_toml);
        let Some(mut document) = read_toml(&cargo_toml)? else {
            return Ok(Metadata::default());
        };
        let sasskit = document
            .remove("package")
            .and_then(|package| match package {
                toml::Value::Table(mut package) => package.remove("metadata"),
                _ => None,
            })
            .and_then(|metadata| match metadata {
                toml::Value::Table(mut metadata) => metadata.remove("sasskit"),
                _ => None,
            });
        Ok(Metadata {
            found: Some((cargo_toml, sasskit)),
        })
    }

    /// `prebuilt = "kernels/prebuilt"`: the crate's prebuilt folder, relative to the crate.
    pub(crate) fn prebuilt_dir(&self) -> Result<Option<PathBuf>, Error> {
        match self.get("prebuilt") {
            None => Ok(None),
            Some((_, toml::Value::String(dir))) if !dir.is_empty() => Ok(Some(PathBuf::from(dir))),
            Some((cargo_toml, other)) => Err(Error::config(format!(
                "`prebuilt` in [package.metadata.sasskit] of {} must be a folder relative to the \
                 crate, such as \"kernels/prebuilt\", found `{other}`",
                cargo_toml.display()
            ))),
        }
    }

    /// The `Cargo.toml` and the value of `key` in its `[package.metadata.sasskit]`.
    pub(crate) fn get(&self, key: &str) -> Option<(&Path, &toml::Value)> {
        let (path, sasskit) = self.found.as_ref()?;
        Some((path.as_path(), sasskit.as_ref()?.get(key)?))
    }
}

/// Resolves the targets: `builder` is what `Build::archs` was given, if anything.
pub(crate) fn resolve(builder: Option<&str>, metadata: &Metadata) -> Result<Targets, Error> {
    if let Some(text) = builder {
        return parse(text, &Origin::Builder);
    }
    if let Some(value) = env::tracked(ARCHS_ENV) {
        let text = value.to_str().ok_or_else(|| {
            Error::config(format!(
                "`{ARCHS_ENV}` is not valid UTF-8; accepted forms: {ACCEPTED_FORMS}"
            ))
        })?;
        return parse(text, &Origin::Env);
    }
    if let Some((text, origin)) = metadata_archs(metadata)? {
        return parse(&text, &origin);
    }
    Ok(Targets {
        list: TargetList::default_targets(),
        origin: Origin::Default,
    })
}

/// Parses a list, expanding `native` to the build host's GPUs.
pub(crate) fn parse(text: &str, origin: &Origin) -> Result<Targets, Error> {
    let specs = TargetSpec::parse_list(text).map_err(|error| bad_value(origin, text, &error))?;
    let mut list = TargetList::new();
    for spec in specs {
        match spec {
            TargetSpec::Target(target) => list.push(target),
            TargetSpec::Native => {
                for target in native::host_targets()? {
                    list.push(target);
                }
            }
        }
    }
    Ok(Targets {
        list,
        origin: origin.clone(),
    })
}

fn bad_value(origin: &Origin, text: &str, error: &ArchError) -> Error {
    Error::config(format!("invalid target list `{text}` in {origin}: {error}"))
}

/// The per-file target lists of `[package.metadata.sasskit.files]`: file (relative to the
/// crate root) → list, each an array of strings or one string.
pub(crate) fn metadata_file_archs(metadata: &Metadata) -> Result<Vec<(PathBuf, Targets)>, Error> {
    let Some((cargo_toml, files)) = metadata.get("files") else {
        return Ok(Vec::new());
    };
    let toml::Value::Table(files) = files else {
        return Err(Error::config(format!(
            "[package.metadata.sasskit.files] of {} must be a table of file = [\"sm_90a\"] \
             entries, found `{files}`",
            cargo_toml.display()
        )));
    };
    let mut lists = Vec::new();
    for (file, value) in files {
        let origin = Origin::MetadataFile {
            file: file.clone(),
            cargo_toml: cargo_toml.display().to_string(),
        };
        let text = list_text(value).map_err(|found| {
            Error::config(format!(
                "{origin} must be an array of strings such as [\"sm_90a\"], found {found}"
            ))
        })?;
        let targets = parse(&text, &origin)?;
        check_not_empty(&targets)?;
        let crate_root = cargo_toml.parent().unwrap_or(Path::new("."));
        lists.push((crate_root.join(file), targets));
    }
    Ok(lists)
}

/// A list setting as text: a string as is, an array of strings joined by commas; otherwise
/// what was found instead, for the message.
fn list_text(value: &toml::Value) -> Result<String, String> {
    match value {
        toml::Value::String(text) => Ok(text.clone()),
        toml::Value::Array(items) => {
            let mut names = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    toml::Value::String(name) => names.push(name.as_str()),
                    other => return Err(format!("an element `{other}`")),
                }
            }
            Ok(names.join(","))
        }
        other => Err(format!("`{other}` ({})", other.type_str())),
    }
}

/// The crate's `Cargo.toml`, or `None` if there is none (a build outside cargo).
fn read_toml(cargo_toml: &Path) -> Result<Option<toml::Table>, Error> {
    if !cargo_toml.is_file() {
        return Ok(None);
    }
    let text = fs::read_to_string(cargo_toml)?;
    toml::from_str(&text).map(Some).map_err(|error| {
        Error::config(format!(
            "failed to parse `{}`: {error}",
            cargo_toml.display()
        ))
    })
}

/// Reads `archs` from `[package.metadata.sasskit]`: an array of strings or one string.
fn metadata_archs(metadata: &Metadata) -> Result<Option<(String, Origin)>, Error> {
    let Some((cargo_toml, archs)) = metadata.get("archs") else {
        return Ok(None);
    };
    let text = list_text(archs).map_err(|found| {
        Error::config(format!(
            "`archs` in [package.metadata.sasskit] of {} must be an array of strings such as \
             [\"sm_90\", \"sm_100\"], found {found}",
            cargo_toml.display()
        ))
    })?;
    Ok(Some((
        text,
        Origin::Metadata(cargo_toml.display().to_string()),
    )))
}

/// Checks that a list is usable at all: not empty, at least one SASS target.
pub(crate) fn check_not_empty(targets: &Targets) -> Result<(), Error> {
    if targets.list.sass().next().is_some() {
        return Ok(());
    }
    let what = if targets.list.is_empty() {
        "is empty"
    } else {
        "holds only PTX targets"
    };
    Err(Error::config(format!(
        "the target list from {} {what}: sasskit builds SASS for at least one architecture; \
         add one, e.g. `sm_90` (accepted forms: {ACCEPTED_FORMS})",
        targets.origin
    )))
}

/// The targets as strings, for the manifest.
pub(crate) fn names(list: &TargetList) -> Vec<String> {
    list.iter()
        .map(|target: Target| target.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A crate folder whose `Cargo.toml` ends in `body`.
    fn crate_with(body: &str, kind: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "sasskit-config-{kind}-{}-{}",
            std::process::id(),
            body.len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("Cargo.toml"),
            format!("[package]\nname = \"x\"\n{body}"),
        )
        .unwrap();
        dir
    }

    fn metadata(body: &str) -> Result<Option<(String, Origin)>, Error> {
        metadata_archs(&Metadata::read(Some(&crate_with(body, "archs")))?)
    }

    fn file_metadata(body: &str) -> Result<Vec<(PathBuf, Targets)>, Error> {
        metadata_file_archs(&Metadata::read(Some(&crate_with(body, "files")))?)
    }

    #[test]
    fn per_file_metadata_is_read_and_checked() {
        let lists =
            file_metadata("[package.metadata.sasskit.files]\n\"k/wgmma.cu\" = [\"sm_90a\"]\n")
                .unwrap();
        assert_eq!(lists.len(), 1);
        assert!(lists[0].0.ends_with("k/wgmma.cu"));
        assert_eq!(lists[0].1.list.to_string(), "sm_90a");
        let error =
            file_metadata("[package.metadata.sasskit.files]\n\"k/wgmma.cu\" = 90\n").unwrap_err();
        assert!(
            error
                .to_string()
                .contains("\"k/wgmma.cu\"` in [package.metadata.sasskit.files]"),
            "{error}"
        );
        let error = file_metadata("[package.metadata.sasskit]\nfiles = [\"sm_90\"]\n").unwrap_err();
        assert!(error.to_string().contains("must be a table"), "{error}");
        let error = file_metadata("[package.metadata.sasskit.files]\n\"k.cu\" = []\n").unwrap_err();
        assert!(error.to_string().contains("is empty"), "{error}");
    }

    #[test]
    fn metadata_accepts_arrays_and_strings() {
        let (text, _) = metadata("[package.metadata.sasskit]\narchs = [\"sm_90\", \"100\"]\n")
            .unwrap()
            .unwrap();
        assert_eq!(text, "sm_90,100");
        let (text, _) = metadata("[package.metadata.sasskit]\narchs = \"sm_90a\"\n")
            .unwrap()
            .unwrap();
        assert_eq!(text, "sm_90a");
        assert!(metadata("").unwrap().is_none());
    }

    #[test]
    fn metadata_of_the_wrong_type_names_the_key() {
        let error = metadata("[package.metadata.sasskit]\narchs = 90\n").unwrap_err();
        assert!(
            error
                .to_string()
                .contains("`archs` in [package.metadata.sasskit]"),
            "{error}"
        );
        assert!(error.to_string().contains("integer"), "{error}");
        let error = metadata("[package.metadata.sasskit]\narchs = [90]\n").unwrap_err();
        assert!(error.to_string().contains("element `90`"), "{error}");
    }

    #[test]
    fn bad_values_name_the_origin_and_the_forms() {
        let error = parse("sm90a1", &Origin::Env).unwrap_err().to_string();
        assert!(error.contains("SASSKIT_ARCHS"), "{error}");
        assert!(error.contains("sm90a1"), "{error}");
        assert!(error.contains("sm_90a"), "{error}");
    }

    #[test]
    fn empty_and_ptx_only_lists_are_refused() {
        let empty = Targets {
            list: TargetList::new(),
            origin: Origin::Env,
        };
        assert!(
            check_not_empty(&empty)
                .unwrap_err()
                .to_string()
                .contains("is empty")
        );
        let ptx = parse("compute_90", &Origin::Builder).unwrap();
        assert!(
            check_not_empty(&ptx)
                .unwrap_err()
                .to_string()
                .contains("only PTX")
        );
    }
}
