//! A compiler launcher for nvcc, such as sccache, which caches and distributes compilations.
//!
//! `SASSKIT_NVCC_LAUNCHER=sccache` (or a path, or [`Build::nvcc_launcher`](crate::Build::nvcc_launcher))
//! runs each fat binary compilation as `sccache nvcc --fatbin …`. Without it, a `RUSTC_WRAPPER`
//! whose file name is `sccache` is taken as the launcher too: sccache understands nvcc (it
//! splits a `--fatbin` build into its cicc and ptxas steps and caches each under a key that
//! includes the full command line, so every architecture is cached apart), which makes reusing
//! the wrapper safe. Other `RUSTC_WRAPPER`s are never used for nvcc: they wrap rustc only.
//! `SASSKIT_NVCC_LAUNCHER=none` turns the launcher off.
//!
//! The launcher runs only the compilation. Preprocessing, signature extraction, verification of
//! every fat binary and the rerun lines are sasskit's own and stay as they are.
//!
//! # A command line that names no checkout
//!
//! sccache hashes each cicc (PTX) step's arguments verbatim, and nvcc gives cicc the source's
//! absolute path twice (`--orig_src_file_name`, `--orig_src_path_name`; sccache makes a relative
//! input absolute first). `SCCACHE_BASEDIRS` strips folders from the preprocessed input only,
//! not from arguments, so the same source in two checkouts at different paths missed every
//! PTX step. So a launched nvcc runs in the crate root and compiles the source as a
//! pre-included file of an empty input, with the paths under the crate root relative:
//!
//! ```text
//! cd <crate root> && sccache nvcc --fatbin … -Ikernels -o <out> -include ../kernels/k.cu -x cu /dev/null
//! ```
//!
//! cicc is then told the input is `/dev/null`, its input's line markers name
//! `../kernels/k.cu` and the headers it includes relative to the crate root, and every
//! checkout hashes alike; the fat binary is the one the plain command builds, byte for byte,
//! except where the source expands `__FILE__` (now relative) or `__BASE_FILE__` (`/dev/null`).
//! That is why this form is part of the build key. Paths outside the crate root (the toolkit's
//! headers, other `-I` folders) stay absolute: list the folders that differ between machines in
//! `SCCACHE_BASEDIRS`, which sccache strips from the preprocessed input.
//!
//! The plain command (the source's own path, nvcc in the build script's folder) stays where
//! the other form does not fit: on hosts without `/dev/null`, and for builds with line
//! information (`-lineinfo`, `-G`), whose line tables record the folder cicc ran in (under
//! sccache, a temporary folder of its own, `/tmp/sccache_nvcc…/./kernels/k.cu`, was measured):
//! such builds keep the source's real path and share only within one checkout, as in
//! sasskit's own cache.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::command::Tool;
use crate::{env, key};

/// The variable that names the launcher.
pub const LAUNCHER_ENV: &str = "SASSKIT_NVCC_LAUNCHER";

/// The empty input a launched nvcc compiles, the source being pre-included into it.
const EMPTY_INPUT: &str = "/dev/null";

/// A configured launcher and the folder its nvcc runs in.
#[derive(Debug, Clone)]
pub(crate) struct Launcher {
    tool: Tool,
    /// The crate root: the current folder of every launched nvcc, and what paths are relative to.
    base: PathBuf,
}

impl Launcher {
    /// The configured launcher: the builder's, else `SASSKIT_NVCC_LAUNCHER`, else an sccache
    /// `RUSTC_WRAPPER`; `none` in the variable means no launcher. Its nvcc runs in `crate_root`,
    /// else in the build script's current folder.
    pub(crate) fn configured(
        builder: Option<&Path>,
        crate_root: Option<&Path>,
    ) -> Option<Launcher> {
        let tool = configured_tool(builder)?;
        let base = crate_root
            .map(Path::to_path_buf)
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_default();
        Some(Launcher { tool, base })
    }

    /// The launcher alone, for a command that names nvcc and its arguments as they are (the
    /// objects of a static library).
    pub(crate) fn command(&self) -> Command {
        self.tool.command()
    }

    /// `launcher nvcc --fatbin <args> -o <output> <source>`, in the form described in the
    /// module documentation.
    pub(crate) fn fatbin_command(
        &self,
        nvcc: &Path,
        args: &[String],
        output: &Path,
        source: &Path,
    ) -> Command {
        let mut command = self.tool.command();
        if !self.neutral(args) {
            command
                .arg(nvcc)
                .arg("--fatbin")
                .args(args)
                .arg("-o")
                .arg(output)
                .arg(source);
            return command;
        }
        // Paths the launched nvcc reads or writes must not depend on its current folder.
        let absolute = |path: &Path| std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
        command
            .current_dir(&self.base)
            .arg(absolute(nvcc))
            .arg("--fatbin")
            .args(self.arguments(args))
            .arg("-o")
            .arg(absolute(output))
            .args(self.source_args(source));
        command
    }

    /// What [`Launcher::fatbin_command`] with `args` names the source by, where it differs from
    /// a plain nvcc command: part of the build key, since it decides what `__FILE__` and
    /// `__BASE_FILE__` expand to. Empty for the plain form.
    pub(crate) fn key_args(&self, source: &Path, args: &[String]) -> Vec<String> {
        if self.neutral(args) {
            self.source_args(source)
        } else {
            Vec::new()
        }
    }

    /// `-include <source> -x cu /dev/null`, the source relative to the crate root.
    fn source_args(&self, source: &Path) -> Vec<String> {
        let source = self.relative(source).display().to_string();
        ["-include", &source, "-x", "cu", EMPTY_INPUT]
            .map(str::to_owned)
            .to_vec()
    }

    /// Whether the command names no checkout: where the empty input exists, and not with line
    /// information, whose line tables record the source's folder (cicc's current folder, which
    /// would be sccache's temporary one): such builds keep the source's own path, and share
    /// only within one checkout, as in sasskit's cache.
    fn neutral(&self, args: &[String]) -> bool {
        cfg!(unix)
            && !self.base.as_os_str().is_empty()
            && !args.iter().any(|arg| key::is_line_info_flag(arg))
    }

    /// `path` relative to the crate root when it is under it (`../` included, as in
    /// `<crate>/../kernels/k.cu`), else absolute.
    fn relative(&self, path: &Path) -> PathBuf {
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
        match path.strip_prefix(&self.base) {
            Ok(rest) if !rest.as_os_str().is_empty() => rest.to_owned(),
            _ => path,
        }
    }

    /// nvcc options with their include folders made relative: `-I<root>/kernels` → `-Ikernels`.
    fn arguments(&self, args: &[String]) -> Vec<String> {
        const SEPARATE: &[&str] = &["-I", "-isystem", "--include-path", "--system-include"];
        const JOINED: &[&str] = &["--include-path=", "--system-include=", "-isystem", "-I"];
        let mut out = Vec::with_capacity(args.len());
        let mut path_follows = false;
        for arg in args {
            if path_follows {
                out.push(self.relative(Path::new(arg)).display().to_string());
                path_follows = false;
                continue;
            }
            if SEPARATE.contains(&arg.as_str()) {
                path_follows = true;
                out.push(arg.clone());
                continue;
            }
            let joined = JOINED
                .iter()
                .find_map(|prefix| Some((*prefix, arg.strip_prefix(prefix)?)));
            out.push(match joined {
                Some((prefix, path)) => {
                    format!("{prefix}{}", self.relative(Path::new(path)).display())
                }
                None => arg.clone(),
            });
        }
        out
    }
}

/// nvcc's messages with the empty input's name replaced by the source's: nvcc closes its
/// errors with `1 error detected in the compilation of "/dev/null".`
pub(crate) fn name_the_source(messages: &[u8], source: &Path) -> Vec<u8> {
    let quoted = format!("\"{EMPTY_INPUT}\"");
    String::from_utf8_lossy(messages)
        .replace(&quoted, &format!("\"{}\"", source.display()))
        .into_bytes()
}

fn configured_tool(builder: Option<&Path>) -> Option<Tool> {
    if let Some(path) = builder {
        return Some(Tool::new(path));
    }
    if let Some(value) = env::tracked(LAUNCHER_ENV) {
        return (value != "none").then(|| Tool::new(resolve(PathBuf::from(value))));
    }
    let wrapper = PathBuf::from(env::tracked("RUSTC_WRAPPER")?);
    is_sccache(&wrapper).then(|| Tool::new(resolve(wrapper)))
}

/// A bare program name is looked up on `PATH`, so messages can name the file that runs.
fn resolve(program: PathBuf) -> PathBuf {
    if program.components().count() == 1 {
        env::which(&program).unwrap_or(program)
    } else {
        program
    }
}

fn is_sccache(path: &Path) -> bool {
    path.file_stem().is_some_and(|stem| stem == "sccache")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn launcher(base: &str) -> Launcher {
        Launcher {
            tool: Tool::new("/usr/bin/sccache"),
            base: PathBuf::from(base),
        }
    }

    #[test]
    fn only_sccache_wrappers_are_reused() {
        assert!(is_sccache(Path::new("/usr/bin/sccache")));
        assert!(is_sccache(Path::new("sccache.exe")));
        assert!(!is_sccache(Path::new("/usr/bin/clippy-driver")));
        assert!(!is_sccache(Path::new("cachepot")));
    }

    #[cfg(unix)]
    #[test]
    fn the_launched_command_is_the_same_in_every_checkout() {
        let command = |root: &str| {
            let command = launcher(root).fatbin_command(
                Path::new("/opt/cuda/bin/nvcc"),
                &[
                    format!("-I{root}/include"),
                    "-I".to_owned(),
                    format!("{root}/../shared"),
                    "-isystem/usr/include/eigen3".to_owned(),
                    "-gencode".to_owned(),
                    "arch=compute_90,code=sm_90".to_owned(),
                ],
                Path::new("/tmp/out.fatbin"),
                &Path::new(root).join("../kernels/k.cu"),
            );
            let args: Vec<String> = command
                .get_args()
                .map(|arg| arg.to_string_lossy().into_owned())
                .collect();
            (args, command.get_current_dir().map(Path::to_path_buf))
        };
        let (args, dir) = command("/home/a/crate");
        assert_eq!(
            args,
            [
                "/opt/cuda/bin/nvcc",
                "--fatbin",
                "-Iinclude",
                "-I",
                "../shared",
                "-isystem/usr/include/eigen3",
                "-gencode",
                "arch=compute_90,code=sm_90",
                "-o",
                "/tmp/out.fatbin",
                "-include",
                "../kernels/k.cu",
                "-x",
                "cu",
                "/dev/null",
            ]
        );
        assert_eq!(dir.as_deref(), Some(Path::new("/home/a/crate")));
        assert_eq!(command("/srv/ci/b/crate").0, args);
    }

    #[cfg(unix)]
    #[test]
    fn a_source_outside_the_crate_keeps_its_path() {
        assert_eq!(
            launcher("/home/a/crate").key_args(Path::new("/opt/k/k.cu"), &[]),
            ["-include", "/opt/k/k.cu", "-x", "cu", "/dev/null"]
        );
    }

    #[test]
    fn messages_name_the_source_instead_of_the_empty_input() {
        let messages =
            b"kernels/k.cu(1): error: identifier \"y\" is undefined\n\n1 error detected \
                         in the compilation of \"/dev/null\".\n";
        let named = name_the_source(messages, Path::new("/home/a/crate/kernels/k.cu"));
        assert_eq!(
            String::from_utf8(named).unwrap(),
            "kernels/k.cu(1): error: identifier \"y\" is undefined\n\n1 error detected in the \
             compilation of \"/home/a/crate/kernels/k.cu\".\n"
        );
    }

    #[test]
    fn line_information_keeps_the_plain_command() {
        let flags = ["-I/home/a/crate/include".to_owned(), "-lineinfo".to_owned()];
        let command = launcher("/home/a/crate").fatbin_command(
            Path::new("/opt/cuda/bin/nvcc"),
            &flags,
            Path::new("/tmp/out.fatbin"),
            Path::new("/home/a/crate/kernels/k.cu"),
        );
        let args: Vec<String> = command
            .get_args()
            .map(|arg| arg.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args,
            [
                "/opt/cuda/bin/nvcc",
                "--fatbin",
                "-I/home/a/crate/include",
                "-lineinfo",
                "-o",
                "/tmp/out.fatbin",
                "/home/a/crate/kernels/k.cu",
            ]
        );
        assert_eq!(command.get_current_dir(), None);
        assert_eq!(
            launcher("/home/a/crate").key_args(Path::new("/home/a/crate/k.cu"), &flags),
            Vec::<String>::new(),
            "the plain form is keyed as a plain nvcc run"
        );
    }
}
