//! A host function of candle's static-library set through the wrapper `host_functions!`
//! generates: mmvq_gguf.cu's `launch_mmvq_gguf_quantize_q8_1_f32(const void* x, void* vy, int
//! kx, int kx_padded, int num_rows, void* stream)`, which launches the kernel that quantizes f32
//! rows into GGML q8_1 blocks.

use std::sync::Arc;

use sasskit::cudarc::driver::CudaStream;
use sasskit::half::f16;

use crate::outcome::Outcome;
use crate::{Error, moe};

/// Values per q8_1 block: GGML's `QK8_1`.
const QK8_1: usize = 32;
/// Bytes per `block_q8_1`: `half2 ds` (the scale `d` and the block's sum), then 32 `int8_t`.
const BLOCK_BYTES: usize = 4 + QK8_1;
/// candle's `MATRIX_ROW_PADDING`: rows are padded with zeros to a multiple of it.
const ROW_PADDING: usize = 512;
const COLUMNS: usize = 1000;
const ROWS: usize = 4;

/// Multiples of 1/8 up to ±16: every sum of a block is exact in f32 in any order, and every
/// value exact in f16, so the GPU's blocks must equal the CPU's byte for byte.
fn input() -> Vec<f32> {
    (0..ROWS * COLUMNS)
        .map(|i| ((i * 37 + 11) % 257) as f32 / 8.0 - 16.0)
        .collect()
}

/// The q8_1 blocks of `x` as the kernel computes them: per 32 values (zeros past the row's
/// end), `d = max|x| / 127`, `q = round(x / d)` (0 for an all-zero block), and the halves of
/// `d` and of the block's sum.
fn quantize_on_cpu(x: &[f32], padded: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(ROWS * padded / QK8_1 * BLOCK_BYTES);
    for row in 0..ROWS {
        for block in 0..padded / QK8_1 {
            let values: Vec<f32> = (0..QK8_1)
                .map(|lane| {
                    let column = block * QK8_1 + lane;
                    if column < COLUMNS {
                        x[row * COLUMNS + column]
                    } else {
                        0.0
                    }
                })
                .collect();
            let amax = values
                .iter()
                .fold(0.0f32, |max, value| max.max(value.abs()));
            let sum: f32 = values.iter().sum();
            let d = amax / 127.0;
            out.extend_from_slice(&f16::from_f32(d).to_le_bytes());
            out.extend_from_slice(&f16::from_f32(sum).to_le_bytes());
            for value in values {
                let q = if amax == 0.0 {
                    0
                } else {
                    (value / d).round() as i8
                };
                out.push(q.cast_unsigned());
            }
        }
    }
    out
}

pub(crate) fn q8_1_f32(
    stream: &Arc<CudaStream>,
    library: &moe::Library,
) -> Result<Vec<Outcome>, Error> {
    let x = input();
    let padded = COLUMNS.div_ceil(ROW_PADDING) * ROW_PADDING;
    let want = quantize_on_cpu(&x, padded);
    let x_device = stream.clone_htod(&x)?;
    let mut blocks = stream.clone_htod(&vec![0xAAu8; want.len()])?;
    // SAFETY: `x_device` holds ROWS rows of COLUMNS floats and `blocks` ROWS * padded / 32
    // q8_1 blocks, what the launcher writes for these sizes.
    unsafe {
        library.launch_mmvq_gguf_quantize_q8_1_f32(
            &x_device,
            &mut blocks,
            i32::try_from(COLUMNS)?,
            i32::try_from(padded)?,
            i32::try_from(ROWS)?,
            stream,
        )
    }?;
    let got = stream.clone_dtoh(&blocks)?;
    Ok(vec![Outcome::exact(
        "launch_mmvq_gguf_quantize_q8_1_f32 (static library moe, host-launched, void* stream: &CudaStream), bytes of the q8_1 blocks",
        &got,
        &want,
    )])
}
