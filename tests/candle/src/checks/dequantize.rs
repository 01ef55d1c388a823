//! quantized.cu's `dequantize_block_q8_0_f32(const void* vx, float* y, int k)`: a kernel that
//! takes its input as `const void*`, here a `CudaSlice<u8>` of GGML q8_0 blocks.

use std::sync::Arc;

use sasskit::cudarc::driver::{CudaStream, LaunchConfig};
use sasskit::half::f16;

use crate::outcome::Outcome;
use crate::{Error, quantized};

/// Values per q8_0 block: GGML's `QK8_0`.
const QK8_0: usize = 32;
/// Blocks in the check.
const BLOCKS: usize = 64;

/// q8_0 blocks as GGML lays them out (`block_q8_0`: an f16 scale `d`, then 32 `int8_t`
/// quants; 34 bytes, no padding) and the values they stand for, `d * q`.
fn q8_0_blocks() -> (Vec<u8>, Vec<f32>) {
    let mut bytes = Vec::with_capacity(BLOCKS * (2 + QK8_0));
    let mut values = Vec::with_capacity(BLOCKS * QK8_0);
    for block in 0..BLOCKS {
        let d = f16::from_f32(0.5 + block as f32 / 16.0);
        bytes.extend_from_slice(&d.to_le_bytes());
        for j in 0..QK8_0 {
            let q = ((block * 7 + j * 13) % 256) as u8;
            bytes.push(q);
            values.push(d.to_f32() * f32::from(q.cast_signed()));
        }
    }
    (bytes, values)
}

/// Launched as candle's `dequantize_f32` does for q8_0: 32 threads per block, a block per 256
/// values, `k` = the number of 32-value blocks. The kernel multiplies in f32, so the result is
/// exact.
pub(crate) fn q8_0_f32(
    stream: &Arc<CudaStream>,
    module: &quantized::Module,
) -> Result<Vec<Outcome>, Error> {
    let (bytes, want) = q8_0_blocks();
    let blocks = stream.clone_htod(&bytes)?;
    let mut out = stream.clone_htod(&vec![f32::NAN; want.len()])?;
    let config = LaunchConfig {
        grid_dim: (want.len().div_ceil(256) as u32, 1, 1),
        block_dim: (32, 1, 1),
        shared_mem_bytes: 0,
    };
    // SAFETY: `blocks` holds BLOCKS q8_0 blocks and `out` their 32 * BLOCKS values; the kernel
    // skips blocks past `k`.
    unsafe {
        module.dequantize_block_q8_0_f32(stream, config, &blocks, &mut out, i32::try_from(BLOCKS)?)
    }?;
    let got = stream.clone_dtoh(&out)?;
    Ok(vec![Outcome::exact(
        "dequantize_block_q8_0_f32 (const void* input: CudaSlice<u8> of q8_0 blocks)",
        &got,
        &want,
    )])
}
