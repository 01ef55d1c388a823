//! The build key: a hash of everything that determines a fat binary's contents, and nothing
//! that only says where the files live.
//!
//! It covers the preprocessed source of every target architecture (so every byte of the source
//! and of every header it includes, the crate's and the toolkit's alike), the nvcc command line
//! except output paths, nvcc's own environment variables, the target list, the nvcc release and
//! the host compiler's version. Two builds with the same key produce the same fat binary, so
//! the shared cache serves it to every checkout, target folder and machine.
//!
//! Paths are taken out where they do not reach the output: the preprocessor's line markers and
//! `-I` options name files relative to the crate root (`$CRATE/kernels/common.cuh`), the
//! toolkit root (`$CUDA/include/cuda_fp16.h`) or the output folder (`$OUT/…`); the nvcc and
//! host compiler are named by their versions. Two things keep the absolute path in the key:
//! a path in the source itself (`__FILE__`, which `assert` uses, expands to a string literal,
//! and literals are never rewritten), and line information (`-lineinfo`, `-G`, which cargo's
//! dev profile turns on): nvcc records the source's folder in the line table, so such builds
//! are keyed on the source's absolute path and hit only within one checkout. (The line table
//! also records the source's modification time, which changes no code and is not keyed.)

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use sasskit_core::{Arch, TargetList};

use crate::toolkit::Nvcc;

/// Bumped when the way sasskit builds changes in a way the inputs do not show.
const KEY_VERSION: &str = "sasskit-build-key-2";

/// A SHA-256 over named, length-prefixed fields, so that no two field lists hash alike.
struct KeyHasher(Sha256);

impl KeyHasher {
    fn new() -> KeyHasher {
        let mut hasher = KeyHasher(Sha256::new());
        hasher.field("version", KEY_VERSION.as_bytes());
        hasher
    }

    fn field(&mut self, name: &str, value: &[u8]) {
        self.0.update(name.as_bytes());
        self.0.update((value.len() as u64).to_le_bytes());
        self.0.update(value);
    }

    /// nvcc's path and version, which every key covers.
    fn nvcc(&mut self, nvcc: &Nvcc) {
        self.field("nvcc", nvcc.tool.path().as_os_str().as_encoded_bytes());
        self.field("nvcc-version", nvcc.version.as_bytes());
    }

    fn args(&mut self, args: &[String]) {
        for arg in args {
            self.field("arg", arg.as_bytes());
        }
    }

    /// The hash in lowercase hex.
    fn finish(self) -> String {
        let mut key = String::with_capacity(64);
        for byte in self.0.finalize() {
            let _ = write!(key, "{byte:02x}");
        }
        key
    }
}

/// The folders a build's paths are relative to in the key.
#[derive(Debug, Clone, Default)]
pub(crate) struct Roots {
    /// `(folder, name)`, most specific first: the output folder, the crate root, the toolkit.
    roots: Vec<(String, &'static str)>,
}

impl Roots {
    /// The crate root (`CARGO_MANIFEST_DIR`), the toolkit root (the folder above nvcc's `bin`)
    /// and the output folder.
    pub(crate) fn new(crate_root: Option<&Path>, nvcc: &Path, out_dir: &Path) -> Roots {
        let toolkit = nvcc.parent().and_then(Path::parent).map(Path::to_path_buf);
        let mut roots: Vec<(PathBuf, &'static str)> = vec![(out_dir.to_owned(), "$OUT")];
        roots.extend(crate_root.map(|root| (root.to_owned(), "$CRATE")));
        roots.extend(toolkit.map(|root| (root, "$CUDA")));
        // The longest first, so that an output folder inside the crate stays `$OUT`.
        roots.sort_by_key(|(root, _)| std::cmp::Reverse(root.as_os_str().len()));
        Roots {
            roots: roots
                .into_iter()
                .filter_map(|(root, name)| {
                    Some((root.to_str()?.trim_end_matches('/').to_owned(), name))
                })
                .filter(|(root, _)| !root.is_empty())
                .collect(),
        }
    }

    /// `text` with a leading root replaced by its name: `/home/me/crate/kernels/a.cuh` →
    /// `$CRATE/kernels/a.cuh`.
    fn relative<'t>(&self, text: &'t str) -> Cow<'t, str> {
        for (root, name) in &self.roots {
            if let Some(rest) = text.strip_prefix(root.as_str())
                && (rest.is_empty() || rest.starts_with('/'))
            {
                return Cow::Owned(format!("{name}{rest}"));
            }
        }
        Cow::Borrowed(text)
    }

    /// A preprocessed translation unit with the paths of its line markers (`# 12 "/…/a.cuh"`)
    /// made relative; every other line as it is.
    fn translation_unit(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for line in text.split_inclusive('\n') {
            let marker = line.starts_with("# ") || line.starts_with("#line");
            match (marker, line.find('"')) {
                (true, Some(open)) => {
                    out.push_str(&line[..=open]);
                    out.push_str(&self.relative(&line[open + 1..]));
                }
                _ => out.push_str(line),
            }
        }
        out
    }

    /// An nvcc argument with its path made relative: `-I/home/me/crate/kernels` →
    /// `-I$CRATE/kernels`; a `-ccbin` value is replaced by the host compiler's version, which
    /// the key holds on its own.
    fn argument<'t>(&self, arg: &'t str) -> Cow<'t, str> {
        for prefix in ["-I", "-isystem", "--include-path="] {
            if let Some(path) = arg.strip_prefix(prefix) {
                return Cow::Owned(format!("{prefix}{}", self.relative(path)));
            }
        }
        self.relative(arg)
    }
}

/// Whether an nvcc option turns on line information, whose line table names the source's
/// folder.
pub(crate) fn is_line_info_flag(arg: &str) -> bool {
    matches!(
        arg,
        "-lineinfo" | "-G" | "--generate-line-info" | "--device-debug"
    )
}

/// The key of one fat binary; `preprocessed` are the translation units of every preprocessing
/// pass (one per target architecture), in target order; `source` is the `.cu` file.
pub(crate) fn build_key<'a>(
    preprocessed: impl IntoIterator<Item = &'a str>,
    nvcc: &Nvcc,
    host_compiler: &str,
    args: &[String],
    targets: &TargetList,
    roots: &Roots,
    source: &Path,
) -> String {
    let mut hasher = KeyHasher::new();
    hasher.field("nvcc-version", nvcc.version.as_bytes());
    hasher.field("host-compiler", host_compiler.as_bytes());
    hasher.field("targets", targets.to_string().as_bytes());
    let mut args = args.iter().map(String::as_str);
    let mut line_info = false;
    while let Some(arg) = args.next() {
        if arg == "-ccbin" {
            // The compiler's path; its version is the field above.
            args.next();
            continue;
        }
        line_info |= is_line_info_flag(arg);
        hasher.field("arg", roots.argument(arg).as_bytes());
    }
    if line_info {
        // The line table names the source's folder: never share it with another checkout.
        hasher.field("source-path", source.as_os_str().as_encoded_bytes());
    }
    for text in preprocessed {
        hasher.field("source", roots.translation_unit(text).as_bytes());
    }
    hasher.finish()
}

/// One key for several: a static library's, from its objects' keys in file order.
pub(crate) fn combine(keys: &[&str]) -> String {
    let mut hasher = KeyHasher::new();
    for key in keys {
        hasher.field("part", key.as_bytes());
    }
    hasher.finish()
}

/// The key of a shared header's layout probe: the probe, the content of every file it reads,
/// the nvcc command line and the architectures. A probe that passed under a key need not run
/// again under the same key.
pub(crate) fn layout_probe_key(
    source: &str,
    inputs: &[std::path::PathBuf],
    nvcc: &Nvcc,
    args: &[String],
    archs: &[Arch],
) -> String {
    let mut hasher = KeyHasher::new();
    hasher.nvcc(nvcc);
    for arch in archs {
        hasher.field("arch", arch.to_string().as_bytes());
    }
    hasher.args(args);
    hasher.field("probe", source.as_bytes());
    for input in inputs {
        hasher.field("input", input.as_os_str().as_encoded_bytes());
        match std::fs::read(input) {
            Ok(bytes) => hasher.field("content", &bytes),
            Err(_) => hasher.field("missing", &[]),
        }
    }
    hasher.finish()
}

/// The stamp of a static library object's preprocessing: nvcc, the host compiler, the targets,
/// the object's arguments, the crate's marks (`settings`) and the path and content of every file
/// the passes read. Under an unchanged stamp the passes would print the same text, so their key
/// and host functions can be taken from the last build. (As with a `-MD` dependency file, a new
/// header that shadows an included one on the include path goes unseen until a listed file
/// changes.)
pub(crate) fn inputs_stamp(
    files: &[std::path::PathBuf],
    nvcc: &Nvcc,
    host_compiler: &str,
    args: &[String],
    targets: &TargetList,
    settings: &str,
) -> String {
    let mut hasher = KeyHasher::new();
    hasher.nvcc(nvcc);
    hasher.field("host-compiler", host_compiler.as_bytes());
    hasher.field("targets", targets.to_string().as_bytes());
    hasher.args(args);
    hasher.field("settings", settings.as_bytes());
    for file in files {
        hasher.field("input", file.as_os_str().as_encoded_bytes());
        match std::fs::read(file) {
            Ok(bytes) => hasher.field("content", &bytes),
            Err(_) => hasher.field("missing", &[]),
        }
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roots(crate_root: &str) -> Roots {
        Roots::new(
            Some(Path::new(crate_root)),
            Path::new("/opt/cuda-13.0/bin/nvcc"),
            Path::new(&format!("{crate_root}/target/debug/build/x-1/out/sasskit")),
        )
    }

    #[test]
    fn an_inputs_stamp_changes_with_any_file_and_setting() {
        let dir = std::env::temp_dir().join(format!("sasskit-stamp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let header = dir.join("common.cuh");
        std::fs::write(&header, "#define N 1\n").unwrap();
        let nvcc = Nvcc::for_tests("/opt/cuda/bin/nvcc", "13.0.88");
        let targets = TargetList::parse("sm_90").unwrap();
        let files = [header.clone()];
        let stamp = |settings: &str| {
            inputs_stamp(
                &files,
                &nvcc,
                "gcc 13",
                &["-O3".to_owned()],
                &targets,
                settings,
            )
        };
        let before = stamp("marks");
        assert_eq!(stamp("marks"), before);
        assert_ne!(stamp("other marks"), before);
        std::fs::write(&header, "#define N 2\n").unwrap();
        assert_ne!(stamp("marks"), before);
        std::fs::remove_file(&header).unwrap();
        assert_ne!(stamp("marks"), before);
        let _ = std::fs::remove_dir_all(&dir);
    }

    const UNIT: &str = "# 1 \"/home/a/crate/kernels/k.cu\"\n\
                        # 1 \"/opt/cuda-13.0/include/cuda_fp16.h\" 1 3\n\
                        static const char* where = \"/home/a/crate/kernels/k.cu\";\n\
                        # 4 \"/home/a/crate/kernels/k.cu\" 2\n";

    #[test]
    fn line_markers_and_include_options_are_relative_to_their_root() {
        let a = roots("/home/a/crate");
        let unit = a.translation_unit(UNIT);
        assert!(unit.contains("# 1 \"$CRATE/kernels/k.cu\"\n"), "{unit}");
        assert!(
            unit.contains("# 1 \"$CUDA/include/cuda_fp16.h\" 1 3\n"),
            "{unit}"
        );
        // A path inside the code (`__FILE__`) is part of what nvcc compiles: never rewritten.
        assert!(unit.contains("= \"/home/a/crate/kernels/k.cu\";"), "{unit}");
        assert_eq!(a.argument("-I/home/a/crate/include"), "-I$CRATE/include");
        assert_eq!(a.argument("-I/usr/include/eigen3"), "-I/usr/include/eigen3");
        assert_eq!(
            a.argument("/home/a/crate/target/debug/build/x-1/out/sasskit/gen"),
            "$OUT/gen"
        );
        assert_eq!(a.relative("/home/a/crate2/k.cu"), "/home/a/crate2/k.cu");
    }

    #[test]
    fn the_same_build_in_two_checkouts_has_one_key_unless_line_info_names_the_folder() {
        let nvcc_a = Nvcc::for_tests("/opt/cuda-13.0/bin/nvcc", "13.0.88");
        let targets = TargetList::default_targets();
        let key = |root: &str, args: &[&str]| {
            let args: Vec<String> = args
                .iter()
                .map(|arg| (*arg).replace("ROOT", root))
                .collect();
            // Without the `__FILE__`-like literal, which is the checkout's own path.
            let unit: String = UNIT
                .replace("/home/a/crate", root)
                .split_inclusive('\n')
                .filter(|line| !line.contains("where"))
                .collect();
            build_key(
                [unit.as_str()],
                &nvcc_a,
                "c++ (Debian 12.2.0-14) 12.2.0",
                &args,
                &targets,
                &roots(root),
                Path::new(&format!("{root}/kernels/k.cu")),
            )
        };
        let args = ["-ccbin", "/usr/bin/c++", "-IROOT/include", "-O3"];
        assert_eq!(key("/home/a/crate", &args), key("/srv/ci/b/crate", &args));
        // A path inside the code itself keeps checkouts apart.
        let with_literal = |root: &str| {
            build_key(
                [UNIT.replace("/home/a/crate", root).as_str()],
                &nvcc_a,
                "cc",
                &[],
                &targets,
                &roots(root),
                Path::new("k.cu"),
            )
        };
        assert_ne!(
            with_literal("/home/a/crate"),
            with_literal("/srv/ci/b/crate")
        );
        let line_info = ["-IROOT/include", "-lineinfo"];
        assert_ne!(
            key("/home/a/crate", &line_info),
            key("/srv/ci/b/crate", &line_info)
        );
        assert_ne!(key("/home/a/crate", &args), key("/home/a/crate", &["-O2"]));
    }

    #[test]
    fn the_toolkits_path_is_not_keyed_but_its_release_and_the_targets_are() {
        let nvcc_a = Nvcc::for_tests("/opt/cuda-13.0/bin/nvcc", "13.0.88");
        let targets = TargetList::default_targets();
        // The toolkit installed elsewhere: its headers' paths differ, their bytes do not.
        let nvcc_b = Nvcc::for_tests("/usr/local/cuda/bin/nvcc", "13.0.88");
        let elsewhere = build_key(
            [UNIT.replace("/opt/cuda-13.0", "/usr/local/cuda").as_str()],
            &nvcc_b,
            "c++ (Debian 12.2.0-14) 12.2.0",
            &[],
            &targets,
            &Roots::new(
                Some(Path::new("/home/a/crate")),
                Path::new("/usr/local/cuda/bin/nvcc"),
                Path::new("/out"),
            ),
            Path::new("/home/a/crate/kernels/k.cu"),
        );
        let here = build_key(
            [UNIT],
            &nvcc_a,
            "c++ (Debian 12.2.0-14) 12.2.0",
            &[],
            &targets,
            &roots("/home/a/crate"),
            Path::new("/home/a/crate/kernels/k.cu"),
        );
        assert_eq!(here, elsewhere, "the toolkit's install path is not keyed");
        let newer = Nvcc::for_tests("/opt/cuda-13.0/bin/nvcc", "13.1.0");
        let with = |nvcc: &Nvcc| {
            build_key(
                [UNIT],
                nvcc,
                "cc",
                &[],
                &targets,
                &roots("/home/a/crate"),
                Path::new("k.cu"),
            )
        };
        assert_ne!(
            with(&nvcc_a),
            with(&newer),
            "another nvcc release never hits"
        );
        let other_targets = TargetList::parse("sm_90,sm_100").unwrap();
        assert_ne!(
            with(&nvcc_a),
            build_key(
                [UNIT],
                &nvcc_a,
                "cc",
                &[],
                &other_targets,
                &roots("/home/a/crate"),
                Path::new("k.cu")
            ),
            "another target set never hits"
        );
    }
}
