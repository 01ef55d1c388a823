//! `fast_sum_f32` of reduce.cu, launched as candle launches its fast reductions.

use std::sync::Arc;

use sasskit::cudarc::driver::{CudaStream, LaunchConfig};

use crate::layout::Layout;
use crate::outcome::Outcome;
use crate::{Error, reduce};

/// Rows of the view; one block sums each.
const ROWS: usize = 8;
/// Elements summed per row.
const COLS: usize = 1000;

/// `fast_sum_f32(src_numel, el_to_sum_per_block, num_dims, info, src, dst)`: `info` holds the
/// dims with the summed ones last and the strides; one block per output element, with
/// `min(1024, el_to_sum_per_block).next_power_of_two()` threads (candle's `FastReduce`). The
/// kernel reads `info` whether or not the input is contiguous, so candle never passes null.
/// Small integers make every sum exact.
pub(crate) fn fast_sum_f32(
    stream: &Arc<CudaStream>,
    module: &reduce::Module,
) -> Result<Vec<Outcome>, Error> {
    let mut outcomes = Vec::new();
    for (layout, how) in [
        (
            Layout::contiguous(&[ROWS, COLS]),
            "info = dims + strides (contiguous, vectorized path)",
        ),
        (
            Layout::transposed(&[ROWS, COLS]),
            "info = dims + strides (summing down the columns of a 1000x8 buffer)",
        ),
    ] {
        let storage: Vec<f32> = (0..layout.storage_len())
            .map(|i| (i * 7 % 13) as f32 - 6.0)
            .collect();
        let src = stream.clone_htod(&storage)?;
        let info = stream.clone_htod(&layout.info())?;
        let mut dst = stream.clone_htod(&[f32::NAN; ROWS])?;
        let config = LaunchConfig {
            grid_dim: (ROWS as u32, 1, 1),
            block_dim: (COLS.min(1024).next_power_of_two() as u32, 1, 1),
            shared_mem_bytes: 0,
        };
        // SAFETY: one block per row with a power-of-two block of at most 1024 threads, which the
        // kernel's shared array and warp reduction expect; `info` holds 2 * num_dims values.
        unsafe {
            module.fast_sum_f32(
                stream,
                config,
                layout.numel(),
                COLS,
                layout.dims.len(),
                &info,
                &src,
                &mut dst,
            )
        }?;
        let got = stream.clone_dtoh(&dst)?;
        let want: Vec<f32> = layout
            .gather(&storage)
            .chunks(COLS)
            .map(|row| row.iter().sum())
            .collect();
        outcomes.push(Outcome::exact(format!("fast_sum_f32, {how}"), &got, &want));
    }
    Ok(outcomes)
}
