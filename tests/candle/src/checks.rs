//! Every check: candle's kernels launched through the generated wrappers, against the CPU.

mod dequantize;
mod elementwise;
mod families;
mod fill;
mod quantize;
mod sum;

use std::sync::Arc;

use sasskit::cudarc::driver::CudaStream;

use crate::outcome::Outcome;
use crate::{Error, Modules};

/// One check: a name for the line that reports an error, and what runs it.
type Check = (
    &'static str,
    fn(&Arc<CudaStream>, &Modules) -> Result<Vec<Outcome>, Error>,
);

const CHECKS: [Check; 9] = [
    ("affine", |stream, m| elementwise::affine(stream, &m.affine)),
    ("ugelu_f16", |stream, m| {
        elementwise::gelu_f16(stream, &m.unary)
    }),
    ("cast f32 <-> f8_e4m3", |stream, m| {
        elementwise::cast_f8(stream, &m.cast)
    }),
    ("where_u8_f32", |stream, m| {
        elementwise::where_u8_f32(stream, &m.ternary)
    }),
    (
        "kernel families: affine::<T>, cast::<f32, bf16>",
        |stream, m| families::generic_affine_and_cast(stream, &m.affine, &m.cast),
    ),
    ("fast_sum_f32", |stream, m| {
        sum::fast_sum_f32(stream, &m.reduce)
    }),
    ("fill", |stream, m| fill::fill_f32(stream, &m.fill)),
    ("dequantize q8_0", |stream, m| {
        dequantize::q8_0_f32(stream, &m.quantized)
    }),
    ("quantize q8_1 (static library)", |stream, m| {
        quantize::q8_1_f32(stream, &m.moe)
    }),
];

/// Runs every check, printing one line per comparison; returns the number of failed lines.
pub(crate) fn run_all(stream: &Arc<CudaStream>, modules: &Modules) -> usize {
    let mut failed = 0;
    for (name, check) in CHECKS {
        match check(stream, modules) {
            Ok(outcomes) => {
                for outcome in outcomes {
                    println!("{outcome}");
                    failed += usize::from(!outcome.passed());
                }
            }
            Err(error) => {
                println!("FAILED  {name}: {error}");
                failed += 1;
            }
        }
    }
    match families::launch_cost(stream, &modules.affine) {
        Ok(line) => println!("{line}"),
        Err(error) => {
            println!("FAILED  launch cost of affine::<f32>: {error}");
            failed += 1;
        }
    }
    failed
}
