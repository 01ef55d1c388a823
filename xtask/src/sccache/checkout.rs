//! A checkout for `cargo xtask sccache`: the example's kernels and a crate that builds them the
//! way the example does (`../kernels/<file>.cu` from the crate's folder), in a folder of its own
//! with its own target folder. Two of them at different paths are two clones of the repository
//! as far as nvcc can tell.
//!
//! ```text
//! <root>/
//!   kernels/     copies of the repository's kernels/*.cu, *.cuh, *.h
//!   example/     Cargo.toml (sasskit-build from this workspace), build.rs, src/main.rs
//!   target/      CARGO_TARGET_DIR, kept between runs so sasskit-build compiles once
//! ```

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::cmd::Cmd;

/// The example's kernels, as `example-app/build.rs` lists them.
pub(crate) const KERNELS: &[&str] = &[
    "saxpy.cu",
    "reduce.cu",
    "matmul.cu",
    "halfs.cu",
    "unary.cu",
    "echo.cu",
];

const PACKAGE: &str = "sasskit-sccache-checkout";

/// One checkout, written by [`Checkout::write`].
#[derive(Debug)]
pub(crate) struct Checkout {
    root: PathBuf,
}

impl Checkout {
    /// Writes the checkout under `root` from the workspace at `workspace`, and removes what an
    /// earlier run's build script left in its target folder, so that the next build runs nvcc.
    pub(crate) fn write(root: &Path, workspace: &Path) -> Result<Checkout> {
        let checkout = Checkout {
            root: root.to_owned(),
        };
        for dir in [checkout.kernels(), checkout.krate()] {
            let _ = std::fs::remove_dir_all(&dir);
            create_dir(&dir)?;
        }
        let source = workspace.join("kernels");
        for entry in read_dir(&source)? {
            let path = entry.path();
            let copied = path.is_file()
                && path
                    .extension()
                    .is_some_and(|ext| ext == "cu" || ext == "cuh" || ext == "h");
            if copied {
                copy(&path, &checkout.kernels().join(entry.file_name()))?;
            }
        }
        let files: Vec<String> = KERNELS
            .iter()
            .map(|file| format!("\"../kernels/{file}\""))
            .collect();
        write(
            &checkout.krate().join("Cargo.toml"),
            &format!(
                "[package]\nname = \"{PACKAGE}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\
                 publish = false\n\n[build-dependencies]\nsasskit-build = {{ path = {:?} }}\n\n\
                 [package.metadata.sasskit]\narchs = [\"sm_90\", \"sm_100\", \"sm_121\"]\n\n\
                 [workspace]\n",
                workspace.join("build-support").display().to_string()
            ),
        )?;
        write(
            &checkout.krate().join("build.rs"),
            &format!(
                "fn main() {{\n    sasskit_build::Build::new()\n        .files([{}])\n        \
                 .compile();\n}}\n",
                files.join(", ")
            ),
        )?;
        create_dir(&checkout.krate().join("src"))?;
        write(&checkout.krate().join("src/main.rs"), "fn main() {}\n")?;
        // The workspace's versions of sasskit-build's dependencies.
        copy(
            &workspace.join("Cargo.lock"),
            &checkout.krate().join("Cargo.lock"),
        )?;
        checkout.forget_build_script_runs()?;
        Ok(checkout)
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    fn kernels(&self) -> PathBuf {
        self.root.join("kernels")
    }

    fn krate(&self) -> PathBuf {
        self.root.join("example")
    }

    fn release(&self) -> PathBuf {
        self.root.join("target").join("release")
    }

    /// `cargo build --release` of the crate with `envs`; without the caller's sasskit cache and
    /// targets, which would change what nvcc is asked to do.
    pub(crate) fn build(&self, envs: &[(&str, std::ffi::OsString)]) -> Result<()> {
        Cmd::cargo()
            .args(["build", "--release", "--quiet"])
            .dir(&self.krate())
            .env_remove("SASSKIT_CACHE_DIR")
            .env_remove("SASSKIT_ARCHS")
            .env("CARGO_TARGET_DIR", self.root.join("target"))
            .envs(envs.iter().cloned())
            .run()
    }

    /// The fat binaries the last build wrote, `(module, path)`, in [`KERNELS`] order.
    pub(crate) fn fatbins(&self) -> Result<Vec<(String, PathBuf)>> {
        let out = read_dir(&self.release().join("build"))?
            .into_iter()
            .map(|entry| entry.path().join("out").join("sasskit"))
            .find(|dir| dir.is_dir())
            .with_context(|| {
                format!(
                    "the build of {} left no OUT_DIR/sasskit folder",
                    self.krate().display()
                )
            })?;
        Ok(KERNELS
            .iter()
            .map(|file| {
                let module = file.trim_end_matches(".cu").to_owned();
                let path = out.join(format!("{module}.fatbin"));
                (module, path)
            })
            .collect())
    }

    /// Removes the build script's outputs and fingerprints from the target folder: the next
    /// build compiles and runs it again, while sasskit-build and its dependencies stay built.
    fn forget_build_script_runs(&self) -> Result<()> {
        let prefix = format!("{PACKAGE}-");
        for dir in ["build", ".fingerprint"] {
            let dir = self.release().join(dir);
            if !dir.is_dir() {
                continue;
            }
            for entry in read_dir(&dir)? {
                if entry.file_name().to_string_lossy().starts_with(&prefix) {
                    std::fs::remove_dir_all(entry.path())
                        .with_context(|| format!("failed to remove {}", entry.path().display()))?;
                }
            }
        }
        Ok(())
    }
}

fn read_dir(dir: &Path) -> Result<Vec<std::fs::DirEntry>> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("failed to read {}", dir.display()))?;
    let mut entries: Vec<std::fs::DirEntry> = entries.flatten().collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    Ok(entries)
}

fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("failed to create {}", dir.display()))
}

fn write(path: &Path, contents: &str) -> Result<()> {
    std::fs::write(path, contents).with_context(|| format!("failed to write {}", path.display()))
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    std::fs::copy(from, to)
        .map(drop)
        .with_context(|| format!("failed to copy {} to {}", from.display(), to.display()))
}
