//! What cargo must link for a static library: the archive, the CUDA runtime (statically, from
//! the toolkit of the nvcc that compiled it, by default), the system libraries the runtime
//! needs, and the C++ standard library the host code uses.

use std::path::{Path, PathBuf};

use crate::env;
use crate::error::Error;
use crate::toolkit::Nvcc;

/// How a static library links the CUDA runtime (`cudart`), which its host code calls (every
/// `kernel<<<…>>>` is a runtime call).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Cudart {
    /// `libcudart_static.a` of the toolkit, with `rt`, `dl` and `pthread`: the program needs
    /// only the driver at run time.
    #[default]
    Static,
    /// `libcudart.so` of the toolkit: the program needs it at run time too.
    Shared,
    /// Nothing: the crate links the runtime itself.
    None,
}

/// The target as cargo describes it to build scripts.
#[derive(Debug, Clone, Default)]
pub(super) struct TargetFacts {
    os: String,
    env: String,
    vendor: String,
    triple: String,
}

impl TargetFacts {
    pub(super) fn from_cargo() -> TargetFacts {
        let read = |name: &str| {
            env::cargo(name)
                .and_then(|value| value.into_string().ok())
                .unwrap_or_default()
        };
        TargetFacts {
            os: read("CARGO_CFG_TARGET_OS"),
            env: read("CARGO_CFG_TARGET_ENV"),
            vendor: read("CARGO_CFG_TARGET_VENDOR"),
            triple: read("TARGET"),
        }
    }

    /// MSVC names archives `moe.lib` and links the runtime differently; not done yet.
    /// The target triple, `x86_64-unknown-linux-gnu`.
    pub(super) fn triple(&self) -> &str {
        &self.triple
    }

    pub(super) fn check_supported(&self) -> Result<(), Error> {
        if self.env == "msvc" {
            return Err(Error::config(format!(
                "sasskit's static-library mode does not support MSVC targets yet (target `{}`): \
                 build the kernels as fat binaries with `Build::compile` and launch them from \
                 Rust, or use a GNU target",
                self.triple
            )));
        }
        Ok(())
    }

    /// Flags every object of the library gets: position-independent host code, as cc compiles
    /// for every target but Windows, so the archive links into executables and shared libraries
    /// alike.
    pub(super) fn object_flags(&self) -> Vec<String> {
        if self.os == "windows" {
            Vec::new()
        } else {
            vec!["-Xcompiler".to_owned(), "-fPIC".to_owned()]
        }
    }

    /// The C++ standard library to link: `CXXSTDLIB` (as cc reads it), else the target's.
    fn cpp_stdlib(&self) -> Option<String> {
        let underscored = self.triple.replace('-', "_");
        for var in [
            format!("CXXSTDLIB_{}", self.triple),
            format!("CXXSTDLIB_{underscored}"),
            "TARGET_CXXSTDLIB".to_owned(),
            "CXXSTDLIB".to_owned(),
        ] {
            if let Some(value) = env::tracked(&var) {
                let value = value.to_string_lossy().into_owned();
                return (!value.is_empty()).then_some(value);
            }
        }
        let libcxx = self.vendor == "apple" || matches!(self.os.as_str(), "freebsd" | "openbsd");
        Some(if libcxx { "c++" } else { "stdc++" }.to_owned())
    }
}

impl Cudart {
    /// The runtime's file in the toolkit: `libcudart_static.a`, `libcudart.so`, or none.
    pub(super) fn file(self) -> Option<&'static str> {
        match self {
            Cudart::Static => Some("libcudart_static.a"),
            Cudart::Shared => Some("libcudart.so"),
            Cudart::None => None,
        }
    }

    /// The name in the build's settings and messages.
    pub(super) fn name(self) -> &'static str {
        match self {
            Cudart::Static => "static",
            Cudart::Shared => "shared",
            Cudart::None => "none",
        }
    }

    /// The toolkit folder that holds the runtime's file for `nvcc`; `None` for [`Cudart::None`].
    pub(super) fn toolkit_dir(self, nvcc: &Nvcc) -> Result<Option<PathBuf>, Error> {
        let Some(file) = self.file() else {
            return Ok(None);
        };
        toolkit_library_dir(nvcc.tool.path(), &toolkit_root(nvcc), file).map(Some)
    }
}

/// The `cargo:` lines that link `lib<name>.a` from `out_dir` and what it needs, in link order:
/// the runtime from `runtime_dir` (the toolkit's folder, or the copy a prebuilt library
/// ships).
pub(super) fn lines(
    out_dir: &Path,
    name: &str,
    cudart: Cudart,
    target: &TargetFacts,
    runtime_dir: Option<&Path>,
) -> Vec<String> {
    let mut lines = vec![
        format!("cargo:rustc-link-search=native={}", out_dir.display()),
        format!("cargo:rustc-link-lib=static={name}"),
    ];
    let runtime = match cudart {
        Cudart::Static => Some("static=cudart_static"),
        Cudart::Shared => Some("dylib=cudart"),
        Cudart::None => None,
    };
    if let (Some(lib), Some(dir)) = (runtime, runtime_dir) {
        lines.push(format!("cargo:rustc-link-search=native={}", dir.display()));
        lines.push(format!("cargo:rustc-link-lib={lib}"));
    }
    if cudart == Cudart::Static && target.os == "linux" {
        for system in ["rt", "dl", "pthread"] {
            lines.push(format!("cargo:rustc-link-lib=dylib={system}"));
        }
    }
    if let Some(stdlib) = target.cpp_stdlib() {
        lines.push(format!("cargo:rustc-link-lib=dylib={stdlib}"));
    }
    lines
}

/// The toolkit's root as nvcc itself reports it (`#$ TOP=…` of a dry run), so that a wrapper
/// script standing in for nvcc leads to the real toolkit; else the folder above nvcc's `bin`.
pub(super) fn toolkit_root(nvcc: &Nvcc) -> PathBuf {
    let dry_run = nvcc
        .tool
        .command()
        .args(["--dryrun", "-c", "-x", "cu", "-o"])
        .arg(std::env::temp_dir().join("sasskit-dry-run.o"))
        .arg("/dev/null")
        .output();
    let reported = dry_run.ok().and_then(|output| {
        String::from_utf8_lossy(&output.stderr)
            .lines()
            .find_map(|line| line.strip_prefix("#$ TOP="))
            .map(|top| PathBuf::from(top.trim()))
    });
    reported.unwrap_or_else(|| {
        nvcc.tool
            .path()
            .parent()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default()
    })
}

/// The folder of the toolkit under `root` that holds `file`: `lib64` (a CUDA installation),
/// `lib` (NVIDIA's Python wheels) or `targets/<platform>/lib`.
fn toolkit_library_dir(nvcc: &Path, root: &Path, file: &str) -> Result<PathBuf, Error> {
    let mut candidates = vec![root.join("lib64"), root.join("lib")];
    if let Ok(platforms) = std::fs::read_dir(root.join("targets")) {
        let mut found: Vec<PathBuf> = platforms
            .flatten()
            .map(|platform| platform.path().join("lib"))
            .collect();
        found.sort();
        candidates.extend(found);
    }
    if let Some(dir) = candidates.iter().find(|dir| dir.join(file).is_file()) {
        return Ok(dir.clone());
    }
    let looked: Vec<String> = candidates
        .iter()
        .map(|dir| dir.display().to_string())
        .collect();
    Err(Error::config(format!(
        "the CUDA toolkit of `{}` has no `{file}` (looked in {}): install the CUDA runtime next \
         to nvcc (the toolkit's cudart package, or `pip install nvidia-cuda-runtime` into the \
         same folder as `nvidia-cuda-nvcc`, at the same release), or link the runtime yourself \
         with `StaticLibrary::cudart(Cudart::None)`",
        nvcc.display(),
        looked.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linux() -> TargetFacts {
        TargetFacts {
            os: "linux".into(),
            env: "gnu".into(),
            vendor: "unknown".into(),
            triple: "x86_64-unknown-linux-gnu".into(),
        }
    }

    #[test]
    fn static_runtime_comes_from_the_toolkit_with_its_system_libraries() {
        let root = std::env::temp_dir().join(format!("sasskit-link-{}", std::process::id()));
        std::fs::create_dir_all(root.join("bin")).unwrap();
        std::fs::create_dir_all(root.join("lib")).unwrap();
        std::fs::write(root.join("lib/libcudart_static.a"), b"!<arch>\n").unwrap();
        let nvcc = Nvcc::for_tests(&root.join("bin/nvcc").display().to_string(), "13.0.88");
        let dir = Cudart::Static.toolkit_dir(&nvcc).unwrap();
        let lines = lines(
            Path::new("/out/sasskit"),
            "moe",
            Cudart::Static,
            &linux(),
            dir.as_deref(),
        );
        let expected_dir = format!(
            "cargo:rustc-link-search=native={}",
            root.join("lib").display()
        );
        assert_eq!(lines[0], "cargo:rustc-link-search=native=/out/sasskit");
        assert_eq!(lines[1], "cargo:rustc-link-lib=static=moe");
        assert_eq!(lines[2], expected_dir);
        assert_eq!(lines[3], "cargo:rustc-link-lib=static=cudart_static");
        assert_eq!(
            lines[4..7],
            [
                "cargo:rustc-link-lib=dylib=rt",
                "cargo:rustc-link-lib=dylib=dl",
                "cargo:rustc-link-lib=dylib=pthread"
            ]
        );
        let error = Cudart::Shared.toolkit_dir(&nvcc).unwrap_err().to_string();
        assert!(error.contains("has no `libcudart.so`"), "{error}");
        assert!(error.contains("Cudart::None"), "{error}");
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn msvc_is_refused_and_windows_objects_get_no_fpic() {
        let msvc = TargetFacts {
            os: "windows".into(),
            env: "msvc".into(),
            vendor: "pc".into(),
            triple: "x86_64-pc-windows-msvc".into(),
        };
        assert!(msvc.check_supported().is_err());
        assert!(msvc.object_flags().is_empty());
        assert_eq!(linux().object_flags(), ["-Xcompiler", "-fPIC"]);
    }
}
