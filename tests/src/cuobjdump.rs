//! cuobjdump's listings, parsed into plain strings so that the check of sasskit's parser does not
//! go through sasskit's own types.
//!
//! `cuobjdump <file>` prints one block per fat binary entry (measured with cuobjdump 13.2):
//!
//! ```text
//! Fatbin elf code:          kind: `elf` (SASS), `ptx` or `nvvm` (LTO-IR)
//! ================
//! arch = sm_90a             the entry's arch with its a/f suffix, `sm_` for PTX too
//! code version = [1,8]
//! host = linux
//! compile_size = 64bit
//! compressed                only when the payload is compressed (LZ4 or ZSTD alike)
//! ```
//!
//! `--list-elf` and `--list-ptx` print one `ELF file    1: k.1.sm_90a.cubin` line per image;
//! the arch there comes from the cubin itself, which does not record the `f` suffix.

use std::path::Path;

use crate::process::{command, failure, output, run};

/// One entry of `cuobjdump <file>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `elf`, `ptx` or `nvvm`, as in the `Fatbin … code:` line.
    pub kind: String,
    /// The `arch = …` value, such as `sm_90a`.
    pub arch: String,
    /// Whether the block has a `compressed` line.
    pub compressed: bool,
}

/// Extracts every ELF (`ptx == false`) or PTX image of `file` with `cuobjdump -xelf all` /
/// `-xptx all` into `dir` and returns their contents in listing order: decompressed, as the
/// driver sees them.
///
/// # Panics
///
/// When cuobjdump fails or the files it names cannot be read.
pub fn extracted(cuobjdump: &Path, file: &Path, dir: &Path, ptx: bool) -> Vec<Vec<u8>> {
    let (flag, kind) = if ptx {
        ("-xptx", "PTX")
    } else {
        ("-xelf", "ELF")
    };
    std::fs::create_dir_all(dir).unwrap();
    let mut cmd = command(cuobjdump);
    cmd.arg(flag).arg("all").arg(file).current_dir(dir);
    let out = output(&mut cmd);
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .filter(|line| {
            line.trim_start()
                .starts_with(&format!("Extracting {kind} file"))
        })
        .filter_map(|line| line.split(": ").nth(1)?.split_whitespace().next())
        .map(|name| {
            std::fs::read(dir.join(name))
                .unwrap_or_else(|error| panic!("cuobjdump extracted `{name}`: {error}"))
        })
        .collect()
}

/// Runs `cuobjdump file` and parses its listing.
///
/// # Panics
///
/// When cuobjdump fails.
pub fn entries(cuobjdump: &Path, file: &Path) -> Vec<Entry> {
    parse_entries(&run(command(cuobjdump).arg(file)))
}

/// Runs `cuobjdump --list-elf` (`ptx == false`) or `--list-ptx` and returns the arch of each
/// listed image, in order.
///
/// # Panics
///
/// When cuobjdump fails, other than by finding no image of that kind.
pub fn listed_archs(cuobjdump: &Path, file: &Path, ptx: bool) -> Vec<String> {
    let (flag, kind) = if ptx {
        ("--list-ptx", "PTX")
    } else {
        ("--list-elf", "ELF")
    };
    let mut cmd = command(cuobjdump);
    cmd.arg(flag).arg(file);
    let out = output(&mut cmd);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let archs = parse_list(&stdout, kind);
    // With no image of the kind, cuobjdump says so (on stdout or stderr); accept a failing exit
    // status then, should a version report it that way.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let none_found = format!("No {kind} file found");
    let none_found = stdout.contains(&none_found) || stderr.contains(&none_found);
    assert!(
        out.status.success() || (archs.is_empty() && none_found),
        "{}",
        failure(&cmd, &out)
    );
    archs
}

/// Parses the default listing of cuobjdump.
pub fn parse_entries(text: &str) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(kind) = line
            .strip_prefix("Fatbin ")
            .and_then(|l| l.strip_suffix(" code:"))
        {
            entries.push(Entry {
                kind: kind.to_owned(),
                arch: String::new(),
                compressed: false,
            });
        } else if let Some(entry) = entries.last_mut() {
            if let Some(arch) = line.strip_prefix("arch = ") {
                arch.clone_into(&mut entry.arch);
            } else if line == "compressed" {
                entry.compressed = true;
            }
        }
    }
    entries
}

/// Parses `--list-elf`/`--list-ptx` output: `ELF file    1: k.1.sm_90.cubin` gives `sm_90`.
pub fn parse_list(text: &str, kind: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.strip_prefix(kind)?.trim_start().strip_prefix("file"))
        .filter_map(|rest| {
            let (_, name) = rest.split_once(':')?;
            let mut parts = name.trim().rsplit('.');
            parts.next()?;
            parts.next().map(str::to_owned)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{Entry, parse_entries, parse_list};

    #[test]
    fn parses_the_default_listing() {
        let text = "\nFatbin elf code:\n================\narch = sm_90a\ncode version = [1,8]\n\
                    host = linux\ncompile_size = 64bit\n\nFatbin ptx code:\n================\n\
                    arch = sm_100f\ncode version = [9,0]\nhost = linux\ncompile_size = 64bit\n\
                    compressed\nptxasOptions = \n\nFatbin nvvm code:\n=================\n\
                    arch = sm_90\ncode version = [1,65]\ncompressed\nnvvmOptions = -ftz=0\n";
        let entry = |kind: &str, arch: &str, compressed| Entry {
            kind: kind.to_owned(),
            arch: arch.to_owned(),
            compressed,
        };
        assert_eq!(
            parse_entries(text),
            [
                entry("elf", "sm_90a", false),
                entry("ptx", "sm_100f", true),
                entry("nvvm", "sm_90", true)
            ]
        );
    }

    #[test]
    fn parses_the_lists() {
        let text = "ELF file    1: k.1.sm_90.cubin\nELF file    2: my.kernel.2.sm_100.cubin\n";
        assert_eq!(parse_list(text, "ELF"), ["sm_90", "sm_100"]);
        assert_eq!(
            parse_list("PTX file    1: af.1.sm_100f.ptx\n", "PTX"),
            ["sm_100f"]
        );
        let none = "cuobjdump info    : No ELF file found to extract from 'k.fatbin'.\n";
        assert_eq!(parse_list(none, "ELF"), Vec::<String>::new());
    }
}
