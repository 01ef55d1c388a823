//! `cargo sasskit`: `verify`, `doctor` and `prebuild` from the command line.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use cargo_sasskit::prebuild::Prebuild;
use sasskit_core::TargetList;

const USAGE: &str = "\
usage:
  cargo sasskit verify <file> [--require <targets>] [--manifests <folder>]... [--json]
      every fat binary in <file> carries SASS for every target (default sm_90,sm_100,sm_121);
      --manifests names each container's module or library object and source from the build
      manifests at or below <folder> (an OUT_DIR/sasskit, or target/release/build);
      --json prints the report as one JSON object instead of the table
  cargo sasskit doctor <file> [--manifests <folder>]...
      how every fat binary in <file> would load on every GPU of this machine (SASS, PTX JIT or
      failure), with the driver's CUDA version and CUDA_MODULE_LOADING; without a driver, what
      each one embeds; exit code 0 ok, 1 slow (a PTX JIT somewhere), 2 fails
  cargo sasskit prebuild [--check] [--manifest-path <Cargo.toml>] [-p <package>]... [-- <cargo args>]
      refresh the package's prebuilt fat binaries with nvcc, or (--check) fail while they are stale";

fn main() -> ExitCode {
    let mut args: Vec<OsString> = std::env::args_os().skip(1).collect();
    // `cargo sasskit …` runs `cargo-sasskit sasskit …`.
    if args.first().is_some_and(|arg| arg == "sasskit") {
        args.remove(0);
    }
    if args.first().is_some_and(|arg| arg == "doctor") {
        return match doctor(&args[1..]) {
            Ok(code) => ExitCode::from(code),
            Err(message) => {
                eprintln!("error: {message}");
                // Above the verdict's codes, so a script can tell a usage error from `fails`.
                ExitCode::from(3)
            }
        };
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[OsString]) -> Result<(), String> {
    let Some((command, rest)) = args.split_first() else {
        return Err(USAGE.to_owned());
    };
    match command.to_str() {
        Some("verify") => verify(rest),
        Some("prebuild") => prebuild(rest),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(format!(
            "unknown command `{}`\n{USAGE}",
            command.to_string_lossy()
        )),
    }
}

fn verify(args: &[OsString]) -> Result<(), String> {
    let mut file: Option<PathBuf> = None;
    let mut required = TargetList::default_targets();
    let mut json = false;
    let mut manifests: Vec<PathBuf> = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("--json") => json = true,
            Some("--manifests") => {
                let folder = args.next().ok_or(
                    "`--manifests` takes a folder: an OUT_DIR/sasskit, or target/release/build",
                )?;
                manifests.push(PathBuf::from(folder));
            }
            Some("--require") => {
                let list = args
                    .next()
                    .and_then(|list| list.to_str())
                    .ok_or("`--require` takes a target list such as sm_90,sm_100,sm_121")?;
                required = TargetList::parse(list).map_err(|error| error.to_string())?;
            }
            Some(option) if option.starts_with('-') => {
                return Err(format!("unknown option `{option}` for `verify`\n{USAGE}"));
            }
            _ if file.is_some() => {
                return Err(format!(
                    "`verify` takes one file, got a second one: `{}`",
                    arg.to_string_lossy()
                ));
            }
            _ => file = Some(PathBuf::from(arg)),
        }
    }
    let file = file.ok_or_else(|| format!("`verify` needs a file\n{USAGE}"))?;
    let origins = cargo_sasskit::verify::Origins::from_folders(&manifests)
        .map_err(|error| error.to_string())?;
    let verified = if json {
        cargo_sasskit::verify::run_json(&file, &required, &origins)
    } else {
        cargo_sasskit::verify::run_with(&file, &required, &origins)
    };
    verified.map_err(|error| error.to_string())
}

/// `doctor`: prints the report and returns its exit code.
fn doctor(args: &[OsString]) -> Result<u8, String> {
    let mut file: Option<PathBuf> = None;
    let mut manifests: Vec<PathBuf> = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("--manifests") => {
                let folder = args.next().ok_or(
                    "`--manifests` takes a folder: an OUT_DIR/sasskit, or target/release/build",
                )?;
                manifests.push(PathBuf::from(folder));
            }
            Some(option) if option.starts_with('-') => {
                return Err(format!("unknown option `{option}` for `doctor`\n{USAGE}"));
            }
            _ if file.is_some() => {
                return Err(format!(
                    "`doctor` takes one file, got a second one: `{}`",
                    arg.to_string_lossy()
                ));
            }
            _ => file = Some(PathBuf::from(arg)),
        }
    }
    let file = file.ok_or_else(|| format!("`doctor` needs a file\n{USAGE}"))?;
    let origins = cargo_sasskit::verify::Origins::from_folders(&manifests)
        .map_err(|error| error.to_string())?;
    let report = cargo_sasskit::doctor::file(&file, &origins).map_err(|error| error.to_string())?;
    println!("{}\n{report}", file.display());
    Ok(report.severity().exit_code())
}

fn prebuild(args: &[OsString]) -> Result<(), String> {
    let mut prebuild = Prebuild::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |what: &str| {
            args.next()
                .cloned()
                .ok_or_else(|| format!("`{what}` needs a value\n{USAGE}"))
        };
        match arg.to_str() {
            Some("--check") => prebuild = prebuild.check(true),
            Some("--manifest-path") => prebuild = prebuild.manifest_path(value("--manifest-path")?),
            Some("-p" | "--package") => {
                let name = value("-p")?;
                prebuild = prebuild.package(name.to_string_lossy().into_owned());
            }
            Some("--") => {
                for rest in args.by_ref() {
                    prebuild = prebuild.cargo_arg(rest.clone());
                }
            }
            _ => {
                return Err(format!(
                    "unknown argument `{}` for `prebuild`\n{USAGE}",
                    arg.to_string_lossy()
                ));
            }
        }
    }
    prebuild.run().map_err(|error| error.to_string())
}
