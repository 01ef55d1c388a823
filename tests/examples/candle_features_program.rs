//! Builds the throwaway crate with candle's cudarc features (`dynamic-linking` among them; see
//! `sasskit_tests::cudarc_features`) in release, linked against the stub CUDA libraries, and
//! copies its program to the path given. `cargo xtask gpu-bundle` runs this to carry the program
//! to the GPU machine, where it starts with the real libraries and checks saxpy there.

use std::path::Path;
use std::process::ExitCode;

use sasskit_tests::cudarc_features::build_candle_program;
use sasskit_tests::toolchain::nvcc;

fn main() -> ExitCode {
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    let [to] = args.as_slice() else {
        eprintln!("usage: candle_features_program <path to copy the program to>");
        return ExitCode::FAILURE;
    };
    let Some(nvcc) = nvcc() else {
        eprintln!("error: the crate's build needs nvcc: set NVCC, or run `cargo xtask setup`");
        return ExitCode::FAILURE;
    };
    match build_candle_program(&nvcc, Path::new(to)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: building the crate with candle's cudarc features: {error}");
            ExitCode::FAILURE
        }
    }
}
