//! Throwaway crates that use `sasskit-build` in their build script, built with real cargo and
//! a logging nvcc wrapper, for the rebuild and cache tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sasskit_core::FatBinary;
use sasskit_core::manifest::Manifest;

use crate::process::{command, failure, output};
use crate::toolchain::workspace_root;

/// A crate in a scratch directory with its own target directory and nvcc log.
#[derive(Debug)]
pub struct Throwaway {
    dir: PathBuf,
    target_dir: PathBuf,
    log: PathBuf,
    nvcc: PathBuf,
}

/// One compiled module as the build left it in `OUT_DIR`.
#[derive(Debug)]
pub struct Built {
    /// The manifest.
    pub manifest: Manifest,
    /// The images of the fat binary, as `sass sm_90`.
    pub images: Vec<String>,
    /// The fat binary's bytes.
    pub fatbin: Vec<u8>,
}

impl Throwaway {
    /// Writes a crate named `name` under `root`: `files` are (path, contents) pairs relative to
    /// the crate root; `build_rs_files` are the `.cu` files its build script compiles; `metadata`
    /// is appended to `Cargo.toml` under `[package.metadata.sasskit]`. `target_dir` may be
    /// shared between crates that never build at the same time.
    ///
    /// # Panics
    ///
    /// When the files cannot be written.
    pub fn new(
        root: &Path,
        name: &str,
        target_dir: &Path,
        real_nvcc: &Path,
        files: &[(&str, &str)],
        metadata: &str,
    ) -> Throwaway {
        Throwaway::with_dependencies(root, name, target_dir, real_nvcc, "", files, metadata)
    }

    /// Like [`Throwaway::new`], with `dependencies` (TOML lines) under `[dependencies]`. A
    /// `src/main.rs` or `src/lib.rs` among `files` replaces the empty `main` written by default.
    ///
    /// # Panics
    ///
    /// When the files cannot be written.
    pub fn with_dependencies(
        root: &Path,
        name: &str,
        target_dir: &Path,
        real_nvcc: &Path,
        dependencies: &str,
        files: &[(&str, &str)],
        metadata: &str,
    ) -> Throwaway {
        let dir = root.join(name);
        let _ = std::fs::remove_dir_all(&dir);
        let sasskit_build = workspace_root().join("build-support");
        let cu_files: Vec<String> = files
            .iter()
            .filter(|(path, _)| Path::new(path).extension().is_some_and(|ext| ext == "cu"))
            .map(|(path, _)| format!("{path:?}"))
            .collect();
        let cargo_toml = format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\n{dependencies}\n\n\
             [build-dependencies]\nsasskit-build = {{ path = {:?} }}\n\n[package.metadata.sasskit]\n{metadata}\n\n[workspace]\n",
            sasskit_build.display().to_string()
        );
        let build_rs = format!(
            "fn main() {{\n    sasskit_build::Build::new().files([{}]).compile();\n}}\n",
            cu_files.join(", ")
        );
        write(&dir.join("Cargo.toml"), &cargo_toml);
        // The workspace's versions of every dependency they share: the same builds in the
        // shared target folder, and no resolution against a newer index.
        std::fs::copy(workspace_root().join("Cargo.lock"), dir.join("Cargo.lock"))
            .expect("the workspace's Cargo.lock is readable");
        write(&dir.join("build.rs"), &build_rs);
        write(&dir.join("src/main.rs"), "fn main() {}\n");
        for (path, contents) in files {
            write(&dir.join(path), contents);
        }
        let log = dir.join("nvcc.log");
        let nvcc = dir.join("nvcc-logging");
        write(
            &nvcc,
            &format!(
                "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
                log.display(),
                real_nvcc.display()
            ),
        );
        make_executable(&nvcc);
        let krate = Throwaway {
            dir,
            target_dir: target_dir.to_owned(),
            log,
            nvcc,
        };
        krate.clean();
        krate
    }

    /// Removes what an earlier run of the same test left of this crate's build script in the
    /// target directory (its `OUT_DIR`s), so that every run starts from a first build.
    fn clean(&self) {
        let prefix = format!("{}-", self.dir.file_name().unwrap().to_string_lossy());
        let Ok(entries) = std::fs::read_dir(self.target_dir.join("debug").join("build")) else {
            return;
        };
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(&prefix) {
                std::fs::remove_dir_all(entry.path()).unwrap();
            }
        }
    }

    /// The crate's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Replaces the crate's `build.rs` (by default one `Build` of every `.cu` file).
    ///
    /// # Panics
    ///
    /// When the file cannot be written.
    pub fn set_build_rs(&self, contents: &str) {
        write(&self.dir.join("build.rs"), contents);
    }

    /// The crate's target directory.
    pub fn target_dir(&self) -> &Path {
        &self.target_dir
    }

    /// `cargo <args>` in the crate, with its target directory, the logging nvcc, and none of
    /// `SASSKIT_ARCHS`, `SASSKIT_CACHE_DIR` and `SASSKIT_CACHE_MODE` from the test's
    /// environment.
    pub fn cargo(&self, args: &[&str]) -> Command {
        let mut cargo = command(env!("CARGO"));
        cargo
            .args(args)
            .current_dir(&self.dir)
            .env("CARGO_TARGET_DIR", &self.target_dir)
            .env("NVCC", &self.nvcc)
            .env_remove("SASSKIT_ARCHS")
            .env_remove("SASSKIT_CACHE_DIR")
            .env_remove("SASSKIT_CACHE_MODE");
        cargo
    }

    /// Runs `cargo build` with the logging nvcc and `envs`; returns cargo's output.
    pub fn build(&self, envs: &[(&str, &str)]) -> Output {
        let mut cargo = self.cargo(&["build", "--message-format=json"]);
        for (key, value) in envs {
            cargo.env(key, value);
        }
        output(&mut cargo)
    }

    /// Like [`Throwaway::build`], and fails the test if the build fails.
    ///
    /// # Panics
    ///
    /// When the build fails.
    pub fn build_ok(&self, envs: &[(&str, &str)]) -> Output {
        let result = self.build(envs);
        assert!(
            result.status.success(),
            "{}",
            failure(&command("cargo build"), &result)
        );
        result
    }

    /// The nvcc command lines run so far, one per invocation.
    pub fn nvcc_calls(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .map(|log| log.lines().map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// The nvcc invocations that compiled a fat binary (not `-E`, not the version queries).
    pub fn fatbin_compiles(&self) -> Vec<String> {
        self.nvcc_calls()
            .into_iter()
            .filter(|call| call.contains("--fatbin"))
            .collect()
    }

    /// The `OUT_DIR/sasskit` folder of the crate's build script, as cargo reported it in
    /// `build`'s JSON messages.
    ///
    /// # Panics
    ///
    /// When the build output names no `OUT_DIR` for the crate.
    pub fn outputs(&self, build: &Output) -> PathBuf {
        let stdout = String::from_utf8_lossy(&build.stdout);
        let name = self.dir.file_name().unwrap().to_string_lossy().into_owned();
        let out_dir = stdout
            .lines()
            .filter(|line| line.contains("\"reason\":\"build-script-executed\""))
            .filter(|line| {
                line.contains(&format!("/{name}#"))
                    || line.contains(&self.dir.display().to_string())
            })
            .find_map(|line| {
                let rest = &line[line.find("\"out_dir\":\"")? + 11..];
                Some(PathBuf::from(&rest[..rest.find('"')?]))
            })
            .expect("cargo reported the build script's OUT_DIR");
        sasskit_core::out_dir::folder(&out_dir)
    }

    /// The module `name` of the last build, read from the `OUT_DIR` that cargo reported.
    ///
    /// # Panics
    ///
    /// When the build output names no `OUT_DIR` or the module is missing or invalid.
    pub fn module(&self, build: &Output, name: &str) -> Built {
        let dir = self.outputs(build);
        let manifest = Manifest::from_toml(
            &std::fs::read_to_string(dir.join(sasskit_core::out_dir::manifest_file(name))).unwrap(),
        )
        .unwrap();
        let bytes = std::fs::read(dir.join(&manifest.module.fatbin)).unwrap();
        let images = FatBinary::parse(&bytes)
            .unwrap()
            .images()
            .iter()
            .map(ToString::to_string)
            .collect();
        Built {
            manifest,
            images,
            fatbin: bytes,
        }
    }
}

/// The one target directory of the test suite's throwaway crates (`target/throwaway`), kept
/// between runs: sasskit's crates and their dependencies compile once for all of them, once
/// per feature set. Test executables run one after another, and cargo's lock orders the builds
/// of one executable's tests.
pub fn shared_target_dir() -> PathBuf {
    workspace_root().join("target").join("throwaway")
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[cfg(unix)]
fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[cfg(not(unix))]
fn make_executable(_: &Path) {}
