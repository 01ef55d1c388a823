//! Builds the stub CUDA libraries (`sasskit_tests::stub_libs`: libcuda, libnvrtc, libcublas,
//! libcublasLt, libcurand with the real `SONAME`s) and prints the folder to use as `CUDA_HOME`
//! when linking a crate with cudarc's `dynamic-linking`, as `cargo xtask candle-port` does.

use std::process::ExitCode;

fn main() -> ExitCode {
    match sasskit_tests::cudarc_features::stubs() {
        Ok(stubs) => {
            println!("{}", stubs.cuda_home().display());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: building the stub CUDA libraries: {error}");
            ExitCode::FAILURE
        }
    }
}
