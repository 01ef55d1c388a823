//! The crate that ships prebuilt fat binaries (`sasskit_tests::prebuilt_crate`), as its users
//! get it: refreshed with nvcc, packaged with `cargo package`, unpacked and built with no nvcc
//! anywhere; its program (both kernels against the CPU) is copied to the path given. `cargo
//! xtask gpu-bundle` runs this to carry the program to the GPU machine.

use std::path::Path;
use std::process::ExitCode;

use sasskit_tests::prebuilt_crate::{Author, Consumer};
use sasskit_tests::toolchain::{nvcc, workspace_root};

fn main() -> ExitCode {
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    let [to] = args.as_slice() else {
        eprintln!("usage: prebuilt_crate_program <path to copy the program to>");
        return ExitCode::FAILURE;
    };
    let Some(nvcc) = nvcc() else {
        eprintln!(
            "error: refreshing the prebuilt folder needs nvcc: set NVCC, or run `cargo xtask setup`"
        );
        return ExitCode::FAILURE;
    };
    let work = workspace_root().join("target").join("prebuilt-program");
    let target = sasskit_tests::throwaway::shared_target_dir();
    let author = Author::write(&work.join("author"), &target);
    if let Err(error) = author.prebuild(&nvcc, false) {
        eprintln!("error: refreshing the prebuilt folder: {error}");
        return ExitCode::FAILURE;
    }
    let unpacked =
        std::env::temp_dir().join(format!("sasskit-prebuilt-program-{}", std::process::id()));
    let consumer = Consumer::unpack(&author.package(), &unpacked, &target);
    let built = consumer.build(&[]);
    let _ = std::fs::remove_dir_all(&unpacked);
    if !built.status.success() {
        eprintln!(
            "error: building the unpacked crate without nvcc:\n{}",
            String::from_utf8_lossy(&built.stderr)
        );
        return ExitCode::FAILURE;
    }
    match std::fs::copy(consumer.binary(), Path::new(to)) {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: copying {}: {error}", consumer.binary().display());
            ExitCode::FAILURE
        }
    }
}
