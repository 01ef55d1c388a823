//! candle's kernels through sasskit on a GPU: candle-kernels' own CUDA sources, built by the
//! port of candle-kernels (`ports/candle/candle-kernels`, a dependency) for sm_90, sm_100 and
//! sm_121, launched through the wrappers `sasskit::kernels!` generates there, and compared with
//! CPU references.
//!
//! Every check prints one line saying how many values matched; the program exits non-zero if
//! any check fails. Without a CUDA driver or device it prints `skipped: …` and exits 0: it never
//! claims a pass it did not see. `cargo xtask gpu-bundle` ships it as `candle_checks`.

mod checks;
mod layout;
mod outcome;
mod startup;

use std::process::ExitCode;
use std::sync::Arc;

use sasskit::LoadError;
use sasskit::cudarc::driver::{CudaContext, DriverError, sys::CUresult};

// candle's kernels as the port of candle-kernels builds them (`ports/candle/candle-kernels`):
// the typed wrappers of its 11 modules and its static MoE/MMVQ/MMQ library, `libmoe.a`.
pub(crate) use candle_kernels::library::moe;
pub(crate) use candle_kernels::typed::{
    affine, binary, cast, conv, fill, indexing, quantized, reduce, sort, ternary, unary,
};

/// What the checks return on a driver or launch error.
pub(crate) type Error = Box<dyn std::error::Error>;

/// The modules the checks launch kernels of.
#[derive(Debug)]
pub(crate) struct Modules {
    affine: affine::Module,
    cast: cast::Module,
    fill: fill::Module,
    quantized: quantized::Module,
    reduce: reduce::Module,
    ternary: ternary::Module,
    unary: unary::Module,
    moe: moe::Library,
}

fn main() -> ExitCode {
    if !sasskit::driver_present() {
        println!("skipped: no CUDA driver on this machine, no candle kernel was run");
        return ExitCode::SUCCESS;
    }
    let ctx = match CudaContext::new(0) {
        Ok(ctx) => ctx,
        Err(DriverError(CUresult::CUDA_ERROR_NO_DEVICE)) => {
            println!("skipped: no CUDA device on this machine, no candle kernel was run");
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            println!("FAILED  creating a CUDA context on device 0: {error}");
            return ExitCode::FAILURE;
        }
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(("startup", rest)) = args
        .split_first()
        .map(|(first, rest)| (first.as_str(), rest))
    {
        return match startup::run(&ctx, rest) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                println!("FAILED  {message}");
                ExitCode::FAILURE
            }
        };
    }
    let modules = match load_all(&ctx) {
        Ok(modules) => modules,
        Err(LoadError::NoDriver) => {
            println!("skipped: no CUDA driver on this machine, no candle kernel was run");
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            println!("FAILED  loading candle's modules: {error}");
            return ExitCode::FAILURE;
        }
    };
    let stream = ctx.default_stream();
    let failed = checks::run_all(&stream, &modules);
    if failed == 0 {
        println!("all candle checks passed");
        ExitCode::SUCCESS
    } else {
        println!("{failed} candle check(s) FAILED");
        ExitCode::FAILURE
    }
}

/// Loads all 11 modules (SASS only: a PTX fallback is refused) and checks the static library,
/// printing each report, and keeps those the checks use.
fn load_all(ctx: &Arc<CudaContext>) -> Result<Modules, LoadError> {
    fn report<M>(module: M, report: impl Fn(&M) -> &sasskit::LoadReport) -> M {
        println!("{}", report(&module));
        module
    }
    report(binary::Module::load(ctx)?, binary::Module::report);
    report(conv::Module::load(ctx)?, conv::Module::report);
    report(indexing::Module::load(ctx)?, indexing::Module::report);
    report(sort::Module::load(ctx)?, sort::Module::report);
    Ok(Modules {
        affine: report(affine::Module::load(ctx)?, affine::Module::report),
        cast: report(cast::Module::load(ctx)?, cast::Module::report),
        fill: report(fill::Module::load(ctx)?, fill::Module::report),
        quantized: report(quantized::Module::load(ctx)?, quantized::Module::report),
        reduce: report(reduce::Module::load(ctx)?, reduce::Module::report),
        ternary: report(ternary::Module::load(ctx)?, ternary::Module::report),
        unary: report(unary::Module::load(ctx)?, unary::Module::report),
        moe: {
            let library = moe::Library::check(ctx)?;
            println!("{}", library.reports()[0]);
            library
        },
    })
}
