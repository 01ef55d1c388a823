//! sasskit example: CUDA kernels built ahead of time into fat binaries with SASS for every
//! target GPU, embedded in this program and launched through typed wrappers.
//!
//! Without a GPU it prints what it embedded. With one it loads every module (refusing PTX JIT
//! fallback), runs each kernel on random data and compares the result with the CPU.

mod checks;
mod data;
mod logger;

use std::process::ExitCode;

use sasskit::EmbeddedModule;
use sasskit::cudarc::driver::CudaContext;

sasskit::kernels!(saxpy);
sasskit::kernels!(reduce);
sasskit::kernels!(matmul);
sasskit::kernels!(halfs);
sasskit::kernels!(unary);
// The Rust twins of kernels/params.h, which echo.cu's kernels take.
sasskit::shared_types!(params);
sasskit::kernels!(echo);

/// Every module this program embeds.
const MODULES: [&EmbeddedModule; 6] = [
    &saxpy::EMBEDDED,
    &reduce::EMBEDDED,
    &matmul::EMBEDDED,
    &halfs::EMBEDDED,
    &unary::EMBEDDED,
    &echo::EMBEDDED,
];

fn main() -> ExitCode {
    logger::init();
    println!("embedded fat binaries:");
    for module in MODULES {
        match module.images() {
            Ok(images) => println!(
                "  {:<7} {} bytes: {}",
                module.name,
                module.fatbin.len(),
                images.join(", ")
            ),
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::FAILURE;
            }
        }
    }
    if !sasskit::driver_present() {
        println!("no CUDA driver on this machine: the kernels were not run (skipped)");
        return ExitCode::SUCCESS;
    }
    let ctx = match CudaContext::new(0) {
        Ok(ctx) => ctx,
        Err(error) => {
            println!("no usable CUDA device ({error}): the kernels were not run (skipped)");
            return ExitCode::SUCCESS;
        }
    };
    match checks::run_all(&ctx) {
        Ok(()) => {
            println!("all kernels match the CPU reference");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
