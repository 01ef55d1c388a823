//! Running bindgen on one shared header and writing what it generated.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use bindgen::callbacks::ParseCallbacks;
use sasskit_core::kernel::is_scalar_name;
use sasskit_core::shared::{SharedType, SharedTypes, TYPES_FORMAT};

use super::layout::{self, Declared};
use super::prebuilt::{Bindings, Lookup};
use super::{CLANG_ARGS, Header, Probe, probe};
use crate::error::{Error, ErrorKind};
use crate::fs;

/// What one shared header produced.
pub(crate) struct HeaderOutput {
    /// The types and their layouts, as written to `<module>.types.toml`.
    pub(crate) types: SharedTypes,
    /// `pub type Alias = Target;` items of the Rust code.
    pub(crate) aliases: Vec<(String, String)>,
    /// The check of the layouts on the device.
    pub(crate) probe: Probe,
    /// What the build warns about: prebuilt bindings that were stale.
    pub(crate) warnings: Vec<String>,
}

/// Generates `<module>.types.rs` and `<module>.types.toml` in `out_dir` for `header`: from
/// the crate's prebuilt bindings when they are current, else with bindgen (written to the
/// prebuilt folder under `SASSKIT_PREBUILD=refresh`).
pub(crate) fn generate(
    header: &Header,
    defines_and_includes: &[String],
    out_dir: &Path,
    prebuilt: Option<&Bindings>,
) -> Result<HeaderOutput, Error> {
    let path = &header.path;
    if !path.is_file() {
        return Err(Error::config(format!(
            "the shared header `{}` does not exist",
            path.display()
        )));
    }
    let absolute = path
        .canonicalize()
        .map_err(|error| Error::io("resolve", path, error))?;
    let lookup = match prebuilt {
        Some(bindings) => bindings.lookup(&header.module, path)?,
        None => Lookup::Generate(None),
    };
    let mut warnings = Vec::new();
    let (rust, inputs) = match lookup {
        Lookup::Current { rust, inputs } => (rust, inputs),
        Lookup::Generate(stale) => {
            if let Err(missing) = load_libclang(&absolute) {
                return Err(match (prebuilt, &stale) {
                    (Some(bindings), Some(reason)) => {
                        bindings.stale_without_libclang(path, reason, &missing)
                    }
                    _ => missing,
                });
            }
            if let (Some(bindings), Some(reason)) = (prebuilt, &stale) {
                warnings.push(bindings.stale_warning(path, reason));
            }
            let (rust, inputs) = run_bindgen(path, &absolute, defines_and_includes)?;
            if let Some(bindings) = prebuilt.filter(|bindings| bindings.refreshing()) {
                bindings.write(&header.module, &rust, &inputs)?;
            }
            (rust, inputs)
        }
    };
    let mut output = read_back(header, &absolute, &rust, inputs, out_dir)?;
    output.warnings = warnings;
    Ok(output)
}

/// bindgen's Rust code for the header, and the files it read.
fn run_bindgen(
    path: &Path,
    absolute: &Path,
    defines_and_includes: &[String],
) -> Result<(String, Vec<PathBuf>), Error> {
    let inputs: Rc<RefCell<Vec<PathBuf>>> = Rc::default();
    let bindings = bindgen::Builder::default()
        .header(absolute.display().to_string())
        .clang_args(CLANG_ARGS.iter().copied())
        .clang_args(defines_and_includes)
        // The header's own items and what they need; not the system headers it includes.
        .allowlist_file(format!(
            "^{}$",
            escape_regex(&absolute.display().to_string())
        ))
        // Host functions cannot be called on the device, nor device functions from Rust.
        .ignore_functions()
        .ignore_methods()
        .default_enum_style(bindgen::EnumVariation::NewType {
            is_bitfield: false,
            is_global: false,
        })
        .prepend_enum_name(false)
        .derive_default(true)
        .derive_debug(true)
        .derive_partialeq(true)
        .use_core()
        .layout_tests(true)
        .formatter(bindgen::Formatter::Prettyplease)
        .parse_callbacks(Box::new(Reruns {
            inputs: Rc::clone(&inputs),
        }))
        .generate()
        .map_err(|error| {
            Error::new(ErrorKind::Header(format!(
                "bindgen could not read the shared header `{}`:\n  {}",
                path.display(),
                error.to_string().trim_end().replace('\n', "\n  ")
            )))
        })?;
    let mut inputs = inputs.take();
    if !inputs.iter().any(|input| input == absolute) {
        inputs.insert(0, absolute.to_owned());
    }
    Ok((bindings.to_string(), inputs))
}

/// Reads the types and layouts out of the header's Rust code, and writes the code and its
/// manifest into `out_dir`.
fn read_back(
    header: &Header,
    absolute: &Path,
    rust: &str,
    inputs: Vec<PathBuf>,
    out_dir: &Path,
) -> Result<HeaderOutput, Error> {
    let path = &header.path;
    let declared = layout::declared(rust).map_err(|error| {
        Error::new(ErrorKind::Verify(format!(
            "cannot read the Rust code bindgen generated for `{}`: {error}; this is a sasskit \
             bug, please report it with the header",
            path.display()
        )))
    })?;
    let types = shared_types(header, absolute, &declared)?;
    let rust_file = sasskit_core::out_dir::types_rust_file(&header.module);
    let contents = format!(
        "// Generated by sasskit-build with bindgen from {}; do not edit.\n\n{rust}",
        absolute.display()
    );
    fs::write_atomic(&out_dir.join(&rust_file), contents.as_bytes())?;
    let manifest = SharedTypes {
        format: TYPES_FORMAT,
        header: absolute.display().to_string(),
        module: header.module.clone(),
        rust: rust_file,
        types,
    };
    fs::write_atomic(
        &out_dir.join(sasskit_core::out_dir::types_manifest_file(&header.module)),
        manifest.to_toml().as_bytes(),
    )?;
    let probe = Probe {
        module: header.module.clone(),
        header: absolute.display().to_string(),
        source: probe::source(absolute, &declared.types),
        inputs,
    };
    Ok(HeaderOutput {
        types: manifest,
        aliases: declared.aliases,
        probe,
        warnings: Vec::new(),
    })
}

fn shared_types(
    header: &Header,
    absolute: &Path,
    declared: &Declared,
) -> Result<Vec<SharedType>, Error> {
    let mut types = Vec::with_capacity(declared.types.len());
    for generated in &declared.types {
        if is_scalar_name(&generated.name) {
            return Err(Error::config(format!(
                "the shared header `{}` declares a type named `{}`, which sasskit reads as the \
                 Rust scalar of that name; rename the type",
                header.path.display(),
                generated.name
            )));
        }
        types.push(SharedType {
            name: generated.name.clone(),
            kind: generated.kind,
            module: header.module.clone(),
            header: absolute.display().to_string(),
            size: generated.size,
            align: generated.align,
        });
    }
    Ok(types)
}

/// Loads libclang for bindgen, or says how to install it (bindgen itself would panic).
fn load_libclang(header: &Path) -> Result<(), Error> {
    if clang_sys::is_loaded() {
        return Ok(());
    }
    clang_sys::load().map_err(|why| {
        Error::new(ErrorKind::LibclangNotFound(format!(
            "bindgen needs libclang to read the shared header `{}`, and none was found ({why}); \
             install it (Debian/Ubuntu: `apt install libclang-dev`, Fedora: `dnf install \
             clang-devel`, macOS: `brew install llvm`) or set LIBCLANG_PATH to the folder that \
             holds libclang",
            header.display()
        )))
    })
}

/// Escapes every character a regular expression gives a meaning to.
fn escape_regex(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Tells cargo to rerun the build script when the header, a header it includes, or an
/// environment variable clang reads changes, and collects those files.
#[derive(Debug)]
struct Reruns {
    inputs: Rc<RefCell<Vec<PathBuf>>>,
}

impl Reruns {
    fn input(&self, filename: &str) {
        let path = PathBuf::from(filename);
        crate::cargo_output::rerun_if_changed(&path);
        let mut inputs = self.inputs.borrow_mut();
        if !inputs.contains(&path) {
            inputs.push(path);
        }
    }
}

impl ParseCallbacks for Reruns {
    fn header_file(&self, filename: &str) {
        self.input(filename);
    }

    fn include_file(&self, filename: &str) {
        self.input(filename);
    }

    fn read_env_var(&self, key: &str) {
        crate::cargo_output::rerun_if_env_changed(key);
    }
}

#[cfg(test)]
mod tests {
    use super::escape_regex;

    #[test]
    fn escapes_paths_for_the_allowlist() {
        assert_eq!(
            escape_regex("/a/b-c/x.h"),
            "/a/b\\-c/x\\.h",
            "a path with regex characters must match only itself"
        );
    }
}
