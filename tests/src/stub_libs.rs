//! Stand-ins for the CUDA libraries, so that a program that links them (cudarc's
//! `dynamic-linking`, as candle uses it) can be linked and started on a machine without CUDA.
//!
//! NVIDIA's toolkit ships the same idea for libcuda (`lib64/stubs/libcuda.so`, for linking
//! without a driver); here every library cudarc links is generated from cudarc's own bindings:
//! one C function per function that `sys` module declares, returning the library's "not
//! available" status, compiled with the system C compiler into a shared library with the real
//! library's `SONAME`. A program linked against the stubs records the real names
//! (`libcuda.so.1`, `libcublas.so.13`, …), so on a GPU machine it starts with the real libraries;
//! here, with `LD_LIBRARY_PATH` pointing at the stubs, every call fails cleanly.
//!
//! ```text
//! <root>/lib64/
//!   libcuda.so.1          SONAME libcuda.so.1, every function returns 34 (CUDA_ERROR_STUB_LIBRARY)
//!   libcuda.so -> libcuda.so.1   for the linker's `-lcuda`
//!   libcuda.c             the generated source, kept to skip recompiling an unchanged one
//!   …                     the same for nvrtc, cublas, cublasLt and curand
//! ```
//!
//! `CUDA_HOME=<root>` makes cudarc's build script pass `<root>/lib64` to the linker.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use crate::process::{command, env_var, failure, output};

/// One library cudarc links under `dynamic-linking`.
#[derive(Debug, Clone, Copy)]
pub struct StubLibrary {
    /// The real library's `SONAME` (CUDA 13), which the stub takes.
    pub soname: &'static str,
    /// The name the linker is given (`-lcuda`).
    pub link_name: &'static str,
    /// The folder of cudarc's `src/` whose `sys/mod.rs` declares the library's functions.
    pub bindings: &'static str,
    /// The C type of the library's status codes, as cudarc's bindings name it.
    pub status_type: &'static str,
    /// The status every stub function returns, and its name in the library's header.
    pub status: (i32, &'static str),
}

/// The libraries of candle's cudarc features (`driver`, `nvrtc`, `cublas`, `cublaslt`,
/// `curand`), with the `SONAME`s of CUDA 13.0.
pub const CANDLE_LIBRARIES: &[StubLibrary] = &[
    StubLibrary {
        soname: "libcuda.so.1",
        link_name: "cuda",
        bindings: "driver",
        status_type: "CUresult",
        status: (34, "CUDA_ERROR_STUB_LIBRARY"),
    },
    StubLibrary {
        soname: "libnvrtc.so.13",
        link_name: "nvrtc",
        bindings: "nvrtc",
        status_type: "nvrtcResult",
        status: (11, "NVRTC_ERROR_INTERNAL_ERROR"),
    },
    StubLibrary {
        soname: "libcublas.so.13",
        link_name: "cublas",
        bindings: "cublas",
        status_type: "cublasStatus_t",
        status: (1, "CUBLAS_STATUS_NOT_INITIALIZED"),
    },
    StubLibrary {
        soname: "libcublasLt.so.13",
        link_name: "cublasLt",
        bindings: "cublaslt",
        status_type: "cublasStatus_t",
        status: (1, "CUBLAS_STATUS_NOT_INITIALIZED"),
    },
    StubLibrary {
        soname: "libcurand.so.10",
        link_name: "curand",
        bindings: "curand",
        status_type: "curandStatus_t",
        status: (203, "CURAND_STATUS_INITIALIZATION_FAILED"),
    },
];

/// A folder of stub libraries, built.
#[derive(Debug, Clone)]
pub struct Stubs {
    root: PathBuf,
}

impl Stubs {
    /// Generates and compiles `libraries` under `root` from the bindings of the cudarc whose
    /// source folder is `cudarc_src` (the folder of its `Cargo.toml`). A library whose generated
    /// source is unchanged is not compiled again.
    pub fn build(
        root: &Path,
        cudarc_src: &Path,
        libraries: &[StubLibrary],
    ) -> Result<Stubs, String> {
        let lib_dir = root.join("lib64");
        fs::create_dir_all(&lib_dir)
            .map_err(|error| format!("creating {}: {error}", lib_dir.display()))?;
        for library in libraries {
            let bindings = cudarc_src
                .join("src")
                .join(library.bindings)
                .join("sys")
                .join("mod.rs");
            let text = fs::read_to_string(&bindings).map_err(|error| {
                format!("reading cudarc's bindings {}: {error}", bindings.display())
            })?;
            let functions = declared_functions(&text);
            if functions.is_empty() {
                return Err(format!(
                    "{} declares no `extern \"C\"` functions; has cudarc's layout changed?",
                    bindings.display()
                ));
            }
            compile(&lib_dir, library, &c_source(library, &functions))?;
        }
        Ok(Stubs {
            root: root.to_owned(),
        })
    }

    /// The folder to hand cudarc's build script as `CUDA_HOME`.
    pub fn cuda_home(&self) -> &Path {
        &self.root
    }

    /// The folder of the libraries, for `LD_LIBRARY_PATH`.
    pub fn lib_dir(&self) -> PathBuf {
        self.root.join("lib64")
    }
}

/// A function declared in an `extern "C"` block of cudarc's bindings.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Declared {
    /// Its C name.
    pub name: String,
    /// Its Rust return type, `CUresult`; `None` for none.
    pub returns: Option<String>,
}

/// Every function cudarc's bindings declare for linking: the `fn` line that follows each
/// `extern "C" {`. The bindings hold one declaration per CUDA version that has the function,
/// so this is the union over every version cudarc supports.
pub fn declared_functions(bindings: &str) -> BTreeSet<Declared> {
    let mut functions = BTreeSet::new();
    let mut lines = bindings.lines();
    while let Some(line) = lines.next() {
        if line.trim() != "extern \"C\" {" {
            continue;
        }
        // A declaration may be wrapped over several lines; it ends with the first `;`.
        let mut declaration = String::new();
        for next in lines.by_ref() {
            declaration.push_str(next.trim());
            declaration.push(' ');
            if next.trim_end().ends_with(';') {
                break;
            }
        }
        if let Some(function) = parse_declaration(declaration.trim()) {
            functions.insert(function);
        }
    }
    functions
}

/// `fn cuInit(Flags: ::core::ffi::c_uint) -> CUresult;` → `cuInit`, `CUresult`.
fn parse_declaration(declaration: &str) -> Option<Declared> {
    let rest = declaration
        .strip_prefix("pub fn ")
        .or_else(|| declaration.strip_prefix("fn "))?;
    let name = &rest[..rest.find('(')?];
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let signature = rest.strip_suffix(';')?.trim_end();
    let returns = signature
        .rfind(") -> ")
        .map(|at| signature[at + 5..].trim().to_owned());
    Some(Declared {
        name: name.to_owned(),
        returns,
    })
}

/// The C source of `library`'s stub: every function takes nothing and returns the library's
/// status, a pointer to a message, or zero, whichever its return type is. The arguments do not
/// matter: nothing is read, and the caller cleans up its own (x86-64 and AArch64 C ABIs).
pub fn c_source(library: &StubLibrary, functions: &BTreeSet<Declared>) -> String {
    let (code, code_name) = library.status;
    let mut text = format!(
        "/* Generated by sasskit's tests from cudarc's bindings: a stand-in for {soname} that links\n   \
         and loads like it, and whose every function fails with {code_name} ({code}). */\n\
         static const char stub_message[] = \"{soname} is sasskit's test stub, not the CUDA library\";\n",
        soname = library.soname
    );
    for function in functions {
        let name = &function.name;
        let _ = match function.returns.as_deref() {
            None => writeln!(text, "void {name}(void) {{}}"),
            Some(ty) if ty == library.status_type => {
                writeln!(text, "int {name}(void) {{ return {code}; }}")
            }
            Some(ty) if ty.starts_with('*') => {
                writeln!(text, "const char *{name}(void) {{ return stub_message; }}")
            }
            Some(_) => writeln!(text, "unsigned long {name}(void) {{ return 0; }}"),
        };
    }
    text
}

/// Compiles `source` into `lib_dir/<soname>` (unless an identical source was compiled there
/// before) and links `lib<link_name>.so` to it.
fn compile(lib_dir: &Path, library: &StubLibrary, source: &str) -> Result<(), String> {
    let c_file = lib_dir.join(format!("lib{}.c", library.link_name));
    let shared = lib_dir.join(library.soname);
    let unchanged = fs::read_to_string(&c_file).is_ok_and(|old| old == source);
    if !unchanged || !shared.is_file() {
        fs::write(&c_file, source)
            .map_err(|error| format!("writing {}: {error}", c_file.display()))?;
        let partial = lib_dir.join(format!(
            ".{}.partial-{}",
            library.soname,
            std::process::id()
        ));
        let compiler = env_var("CC").unwrap_or_else(|| "cc".into());
        let mut cc = command(&compiler);
        cc.args(["-shared", "-fPIC", "-w"])
            .arg(format!("-Wl,-soname,{}", library.soname))
            .arg("-o")
            .arg(&partial)
            .arg(&c_file);
        let result = output(&mut cc);
        if !result.status.success() {
            return Err(format!(
                "compiling the stub {} failed (set CC to a working C compiler): {}",
                library.soname,
                failure(&cc, &result)
            ));
        }
        fs::rename(&partial, &shared)
            .map_err(|error| format!("renaming {} into place: {error}", partial.display()))?;
    }
    let link = lib_dir.join(format!("lib{}.so", library.link_name));
    if link != shared {
        let _ = fs::remove_file(&link);
        link_or_copy(Path::new(library.soname), &shared, &link)
            .map_err(|error| format!("creating {}: {error}", link.display()))?;
    }
    Ok(())
}

#[cfg(unix)]
fn link_or_copy(relative: &Path, _: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(relative, link)
}

#[cfg(not(unix))]
fn link_or_copy(_: &Path, target: &Path, link: &Path) -> std::io::Result<()> {
    fs::copy(target, link).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BINDINGS: &str = r#"
pub unsafe fn cuInit(Flags: ::core::ffi::c_uint) -> CUresult {
    #[cfg(not(feature = "dynamic-loading"))]
    {
        extern "C" {
            fn cuInit(Flags: ::core::ffi::c_uint) -> CUresult;
        }
        cuInit(Flags)
    }
}
        extern "C" {
            fn cuGetErrorString(error: CUresult,
                pStr: *mut *const ::core::ffi::c_char) -> CUresult;
        }
        extern "C" {
            fn cuInit(Flags: ::core::ffi::c_uint) -> CUresult;
        }
        extern "C" {
            fn nameOf(status: CUresult) -> *const ::core::ffi::c_char;
        }
        extern "C" {
            fn versionOf() -> usize;
        }
        extern "C" {
            fn xerbla(srName: *const ::core::ffi::c_char, info: ::core::ffi::c_int);
        }
"#;

    #[test]
    fn reads_every_declaration_once_with_its_return_type() {
        let functions = declared_functions(BINDINGS);
        let names: Vec<(&str, Option<&str>)> = functions
            .iter()
            .map(|f| (f.name.as_str(), f.returns.as_deref()))
            .collect();
        assert_eq!(
            names,
            [
                ("cuGetErrorString", Some("CUresult")),
                ("cuInit", Some("CUresult")),
                ("nameOf", Some("*const ::core::ffi::c_char")),
                ("versionOf", Some("usize")),
                ("xerbla", None),
            ]
        );
    }

    #[test]
    fn stubs_return_the_status_a_message_or_zero() {
        let source = c_source(&CANDLE_LIBRARIES[0], &declared_functions(BINDINGS));
        assert!(
            source.contains("int cuInit(void) { return 34; }"),
            "{source}"
        );
        assert!(
            source.contains("const char *nameOf(void) { return stub_message; }"),
            "{source}"
        );
        assert!(
            source.contains("unsigned long versionOf(void) { return 0; }"),
            "{source}"
        );
        assert!(source.contains("void xerbla(void) {}"), "{source}");
    }
}
