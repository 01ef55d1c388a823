//! Finding nvcc, reading what it can build, and refusing targets it cannot.
//!
//! Search order: see [`nvcc_candidates`]. [`Toolkit`] is the public face of a found nvcc, for
//! tools (this repository's `cargo xtask setup` among them) that pick one the way a build does.

use std::fmt;
use std::path::{Path, PathBuf};

use sasskit_core::{Target, TargetList};

use crate::command::{Tool, display};
use crate::env;
use crate::error::{Error, ErrorKind};

/// A found nvcc and what it supports.
#[derive(Debug, Clone)]
pub(crate) struct Nvcc {
    pub(crate) tool: Tool,
    /// How it was found, for messages: "`NVCC`", "`PATH`", ….
    pub(crate) found_via: String,
    /// `13.0.88`.
    pub(crate) version: String,
    /// SM numbers of `--list-gpu-code` (real architectures).
    pub(crate) real: Vec<u32>,
    /// SM numbers of `--list-gpu-arch` (virtual architectures).
    pub(crate) virtual_: Vec<u32>,
}

impl fmt::Display for Nvcc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "nvcc {} at `{}` (found through {})",
            self.version,
            self.tool.path().display(),
            self.found_via
        )
    }
}

impl Nvcc {
    /// An nvcc that was never run, for tests of what derives from its path and version.
    #[cfg(test)]
    pub(crate) fn for_tests(path: &str, version: &str) -> Nvcc {
        Nvcc {
            tool: Tool::new(path),
            found_via: "a test".to_owned(),
            version: version.to_owned(),
            real: Vec::new(),
            virtual_: Vec::new(),
        }
    }

    /// Finds nvcc and queries it.
    pub(crate) fn find(target_triple: Option<&str>) -> Result<Nvcc, Error> {
        let (path, found_via) = locate(target_triple)?;
        Nvcc::query(Tool::new(path), found_via)
    }

    /// Runs `--version`, `--list-gpu-code` and `--list-gpu-arch`.
    pub(crate) fn query(tool: Tool, found_via: String) -> Result<Nvcc, Error> {
        let run = |arg: &str| -> Result<String, Error> {
            let mut command = tool.command();
            command.arg(arg);
            let output = command.output().map_err(|source| {
                Error::new(ErrorKind::NvccNotFound(format!(
                    "found nvcc at `{}` through {found_via}, but it could not be run: {source}; \
                     point `NVCC` at a working nvcc",
                    tool.path().display()
                )))
            })?;
            if !output.status.success() {
                return Err(Error::new(ErrorKind::NvccNotFound(format!(
                    "`{}` failed ({}): {}",
                    display(&command),
                    output.status,
                    String::from_utf8_lossy(&output.stderr).trim()
                ))));
            }
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        };
        // Three process start-ups of nvcc's driver at the start of every build script run: run
        // at once, not one after the other.
        let (version, real, virtual_) = std::thread::scope(|scope| {
            let real = scope.spawn(|| run("--list-gpu-code"));
            let virtual_ = scope.spawn(|| run("--list-gpu-arch"));
            let version = run("--version");
            let joined = |handle: std::thread::ScopedJoinHandle<'_, Result<String, Error>>| {
                handle
                    .join()
                    .unwrap_or_else(|_| Err(Error::internal("querying nvcc panicked")))
            };
            (version, joined(real), joined(virtual_))
        });
        let version = parse_version(&version?).ok_or_else(|| {
            Error::new(ErrorKind::NvccNotFound(format!(
                "`{} --version` did not print a version such as `V13.0.88`",
                tool.path().display()
            )))
        })?;
        let real = parse_arch_list(&real?, "sm_");
        let virtual_ = parse_arch_list(&virtual_?, "compute_");
        Ok(Nvcc {
            tool,
            found_via,
            version,
            real,
            virtual_,
        })
    }

    /// Checks that every target can be built by this nvcc.
    pub(crate) fn check_targets(&self, targets: &TargetList) -> Result<(), Error> {
        for target in targets.iter() {
            let arch = target.arch();
            let listed = if target.is_ptx() {
                &self.virtual_
            } else {
                &self.real
            };
            if listed.contains(&arch.sm) && variant_supported(target) {
                continue;
            }
            if !arch.is_known() {
                return Err(Error::config(format!(
                    "unknown GPU architecture `{target}`: neither sasskit nor {self} knows it; \
                     {} supports {}; use one of those (`sm_XY` for SASS, `compute_XY` for PTX)",
                    self.tool.path().display(),
                    self.supported()
                )));
            }
            return Err(Error::new(ErrorKind::NvccTooOld(format!(
                "{self} cannot build `{target}`: it supports {}; install a CUDA toolkit that \
                 supports {target} (sm_100/sm_120 need CUDA 12.8 or later, sm_121 needs 12.9 or \
                 later) and point `NVCC` or `CUDA_HOME` at it, or remove `{target}` from the \
                 target list",
                self.supported()
            ))));
        }
        Ok(())
    }

    fn supported(&self) -> String {
        let names: Vec<String> = self.real.iter().map(|sm| format!("sm_{sm}")).collect();
        names.join(", ")
    }
}

/// An nvcc and what it can build: what a build would use, for tools.
#[derive(Debug, Clone)]
pub struct Toolkit {
    nvcc: Nvcc,
}

impl Toolkit {
    /// The nvcc a [`Build`](crate::Build) would use (see [`nvcc_candidates`]), queried.
    pub fn find() -> Result<Toolkit, Error> {
        let triple = env::cargo("TARGET").and_then(|triple| triple.into_string().ok());
        Nvcc::find(triple.as_deref()).map(|nvcc| Toolkit { nvcc })
    }

    /// Queries the nvcc at `path` (`--version`, `--list-gpu-code`, `--list-gpu-arch`).
    pub fn at(path: impl AsRef<Path>) -> Result<Toolkit, Error> {
        let path = path.as_ref();
        Nvcc::query(Tool::new(path), format!("`{}`", path.display())).map(|nvcc| Toolkit { nvcc })
    }

    /// The nvcc executable.
    pub fn path(&self) -> &Path {
        self.nvcc.tool.path()
    }

    /// Its version, `13.0.88`.
    pub fn version(&self) -> &str {
        &self.nvcc.version
    }

    /// Checks that it can build every target; the error names what it supports and the fix.
    pub fn check_targets(&self, targets: &TargetList) -> Result<(), Error> {
        self.nvcc.check_targets(targets)
    }
}

/// `a` needs SM 90 or later and `f` SM 100 or later, whatever nvcc lists.
fn variant_supported(target: Target) -> bool {
    let arch = target.arch();
    match arch.variant {
        sasskit_core::Variant::Plain => true,
        sasskit_core::Variant::Specific => arch.sm >= 90,
        sasskit_core::Variant::Family => arch.sm >= 100,
    }
}

/// One place nvcc may be, in search order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NvccCandidate {
    /// Where it came from, for messages: "`NVCC`", "`CUDA_HOME`", "`PATH`", "the default
    /// location".
    pub origin: String,
    /// The path to try.
    pub path: PathBuf,
    /// Whether a variable named this nvcc explicitly (the `NVCC` family): a build uses it or
    /// fails, it never looks further.
    pub explicit: bool,
}

/// Every place a build looks for nvcc, in order: `NVCC_<target triple>` (with `-` and `_`),
/// `TARGET_NVCC`, `HOST_NVCC`, `NVCC` (cc's precedence; nvcc runs on the host, `TARGET_NVCC`
/// names the one for cross builds), `CUDA_HOME/bin/nvcc`, `CUDA_PATH/bin/nvcc`, `nvcc` on
/// `PATH`, `/usr/local/cuda/bin/nvcc`. Only the ones that are set or exist are listed.
///
/// [`Build`](crate::Build) uses the first; a tool that wants the first *usable* one (such as
/// a setup step that needs sm_121) can try them in turn with [`Toolkit::at`].
pub fn nvcc_candidates(target_triple: Option<&str>) -> Vec<NvccCandidate> {
    let mut candidates = Vec::new();
    let mut vars = Vec::new();
    if let Some(triple) = target_triple {
        vars.push(format!("NVCC_{triple}"));
        vars.push(format!("NVCC_{}", triple.replace('-', "_")));
    }
    vars.extend(["TARGET_NVCC", "HOST_NVCC", "NVCC"].map(str::to_owned));
    for var in &vars {
        if let Some(value) = env::tracked(var) {
            let path = PathBuf::from(value);
            // A bare name is looked up on PATH, as a shell would.
            let path = if path.components().count() == 1 {
                env::which(&path).unwrap_or(path)
            } else {
                path
            };
            candidates.push(NvccCandidate {
                origin: format!("`{var}`"),
                path,
                explicit: true,
            });
        }
    }
    for var in ["CUDA_HOME", "CUDA_PATH"] {
        if let Some(home) = env::tracked(var) {
            candidates.push(NvccCandidate {
                origin: format!("`{var}`"),
                path: Path::new(&home).join("bin").join(exe("nvcc")),
                explicit: false,
            });
        }
    }
    // `PATH` itself is not a rerun trigger: shells and editors change it for unrelated reasons,
    // and a rerun preprocesses every file. The nvcc found is one (`rerun-if-changed`).
    if let Some(path) = env::which("nvcc") {
        candidates.push(NvccCandidate {
            origin: "`PATH`".to_owned(),
            path,
            explicit: false,
        });
    }
    candidates.push(NvccCandidate {
        origin: "the default location".to_owned(),
        path: Path::new("/usr/local/cuda/bin").join(exe("nvcc")),
        explicit: false,
    });
    candidates
}

fn locate(target_triple: Option<&str>) -> Result<(PathBuf, String), Error> {
    let mut tried = Vec::new();
    for candidate in nvcc_candidates(target_triple) {
        if candidate.explicit || candidate.path.is_file() {
            return Ok((candidate.path, candidate.origin));
        }
        tried.push(format!(
            "`{}` (from {})",
            candidate.path.display(),
            candidate.origin
        ));
    }
    Err(Error::new(ErrorKind::NvccNotFound(format!(
        "nvcc was not found (tried {}); install the CUDA toolkit (12.9 or later) and set `NVCC` to \
         its nvcc or `CUDA_HOME` to its root, or run `cargo xtask setup` in the sasskit repository \
         to install the pinned compiler from the Python package index",
        tried.join(", ")
    ))))
}

/// nvcc runs on the host that runs the build script, so the host's conventions apply.
fn exe(name: &str) -> String {
    if cfg!(windows) {
        format!("{name}.exe")
    } else {
        name.to_owned()
    }
}

/// Reads `13.0.88` from `Cuda compilation tools, release 13.0, V13.0.88`.
fn parse_version(text: &str) -> Option<String> {
    let line = text.lines().find(|line| line.contains("release"))?;
    let version = line.rsplit_once(", V")?.1.trim();
    version
        .split('.')
        .all(|part| part.parse::<u32>().is_ok())
        .then(|| version.to_owned())
}

/// SM numbers from `--list-gpu-code`/`--list-gpu-arch` output: `sm_90` lines; suffixed entries
/// count for their number.
fn parse_arch_list(text: &str, prefix: &str) -> Vec<u32> {
    let mut sms: Vec<u32> = text
        .split_whitespace()
        .filter_map(|word| word.strip_prefix(prefix))
        .filter_map(|body| body.trim_end_matches(['a', 'f']).parse().ok())
        .collect();
    sms.sort_unstable();
    sms.dedup();
    sms
}

/// The first line of the host compiler's `--version`, for the build key: a compiler upgrade
/// changes nvcc's output through the host-side headers it parses.
pub(crate) fn host_compiler_version(ccbin: Option<&Path>) -> String {
    let Some(ccbin) = ccbin else {
        return "nvcc's default host compiler".to_owned();
    };
    let output = Tool::new(ccbin).command().arg("--version").output();
    let first_line = output.ok().and_then(|output| {
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.lines().next().map(str::to_owned)
    });
    // The version, not the path: the same compiler installed elsewhere builds the same code.
    first_line.unwrap_or_else(|| format!("`{}` (no version)", ccbin.display()))
}

/// The C++ compiler the `cc` crate picks for the host, which nvcc uses for host-side parsing.
pub(crate) fn host_compiler() -> Option<PathBuf> {
    let host = env::cargo("HOST")?.into_string().ok()?;
    // cc reads these itself, without telling cargo (its metadata is off here); a change of
    // compiler changes the build key, so the build must rerun.
    for var in [
        format!("CXX_{host}"),
        format!("CXX_{}", host.replace('-', "_")),
        "HOST_CXX".to_owned(),
        "CXX".to_owned(),
    ] {
        env::tracked(&var);
    }
    let compiler = cc::Build::new()
        .cpp(true)
        .cargo_metadata(false)
        .target(&host)
        .host(&host)
        .opt_level(2)
        .try_get_compiler()
        .ok()?;
    Some(compiler.path().to_owned())
}

/// The variables nvcc itself reads that change what it compiles (`NVCC_PREPEND_FLAGS`,
/// `NVCC_APPEND_FLAGS`, `NVCC_CCBIN`), as `NAME=value` for the build key; each is a rerun
/// trigger.
pub(crate) fn nvcc_environment() -> Vec<String> {
    ["NVCC_PREPEND_FLAGS", "NVCC_APPEND_FLAGS", "NVCC_CCBIN"]
        .into_iter()
        .filter_map(|name| {
            let value = env::tracked(name)?;
            Some(format!("{name}={}", value.to_string_lossy()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(text: &str) -> TargetList {
        text.split(',')
            .map(|target| target.parse::<Target>().unwrap())
            .collect()
    }

    fn nvcc_13_0() -> Nvcc {
        Nvcc {
            tool: Tool::new("/opt/cuda/bin/nvcc"),
            found_via: "`NVCC`".into(),
            version: "13.0.88".into(),
            real: vec![75, 80, 86, 87, 88, 89, 90, 100, 103, 110, 120, 121],
            virtual_: vec![75, 80, 86, 87, 88, 89, 90, 100, 103, 110, 120, 121],
        }
    }

    #[test]
    fn reads_version_and_lists() {
        let text = "nvcc: NVIDIA (R) Cuda compiler driver\nCuda compilation tools, release 13.0, V13.0.88\nBuild cuda_13.0\n";
        assert_eq!(parse_version(text).as_deref(), Some("13.0.88"));
        assert_eq!(
            parse_arch_list("sm_75\nsm_90\nsm_90a\nsm_100f\n", "sm_"),
            [75, 90, 100]
        );
    }

    #[test]
    fn unknown_arch_names_what_nvcc_supports() {
        let error = nvcc_13_0().check_targets(&list("sm_999")).unwrap_err();
        let message = error.to_string();
        assert!(error.is_config(), "{message}");
        assert!(
            message.contains("unknown GPU architecture `sm_999`"),
            "{message}"
        );
        assert!(message.contains("sm_121"), "{message}");
    }

    #[test]
    fn too_old_nvcc_names_its_version_and_the_fix() {
        let mut old = nvcc_13_0();
        old.version = "12.8.93".into();
        old.real.retain(|&sm| sm != 121);
        let error = old
            .check_targets(&TargetList::default_targets())
            .unwrap_err();
        let message = error.to_string();
        assert!(error.is_toolkit(), "{message}");
        assert!(
            message.contains("nvcc 12.8.93 at `/opt/cuda/bin/nvcc`"),
            "{message}"
        );
        assert!(message.contains("cannot build `sm_121`"), "{message}");
        assert!(message.contains("12.9"), "{message}");
    }

    #[test]
    fn variants_follow_their_floors() {
        let nvcc = nvcc_13_0();
        assert!(
            nvcc.check_targets(&list("sm_90a,sm_100f,compute_90"))
                .is_ok()
        );
        assert!(nvcc.check_targets(&list("sm_90f")).is_err());
    }
}
