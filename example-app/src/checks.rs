//! Runs every kernel through its typed wrapper and compares with a CPU reference.

use std::sync::Arc;

use sasskit::cudarc::driver::{CudaContext, CudaStream, DriverError, LaunchConfig};
use sasskit::half::{bf16, f16};

use crate::data::{compare, random};
use crate::{halfs, matmul, reduce, saxpy, unary};

/// Why a check failed: a load, a driver call, or a wrong result.
type CheckResult = Result<(), String>;

fn driver(what: &str) -> impl FnOnce(DriverError) -> String + '_ {
    move |error| format!("{what}: {error}")
}

fn widen(values: &[f32]) -> Vec<f64> {
    values.iter().map(|&v| f64::from(v)).collect()
}

/// Loads every module on `ctx`'s device and checks every kernel family.
pub(crate) fn run_all(ctx: &Arc<CudaContext>) -> CheckResult {
    let stream = ctx.default_stream();
    let load_error = |error: sasskit::LoadError| error.to_string();
    check_saxpy(&stream, &saxpy::Module::load(ctx).map_err(load_error)?)?;
    check_reduce(&stream, &reduce::Module::load(ctx).map_err(load_error)?)?;
    check_matmul(&stream, &matmul::Module::load(ctx).map_err(load_error)?)?;
    check_halfs(&stream, &halfs::Module::load(ctx).map_err(load_error)?)?;
    check_unary(&stream, &unary::Module::load(ctx).map_err(load_error)?)?;
    Ok(())
}

#[allow(clippy::cast_possible_wrap)] // N is a small constant.
fn check_saxpy(stream: &Arc<CudaStream>, module: &saxpy::Module) -> CheckResult {
    const N: usize = 1 << 20;
    let (x, y, a) = (random(N, 1), random(N, 2), 1.5f32);
    let dx = stream.clone_htod(&x).map_err(driver("copy x"))?;
    let mut dy = stream.clone_htod(&y).map_err(driver("copy y"))?;
    // SAFETY: one thread per element, guarded by `n`; both buffers hold N floats.
    unsafe {
        module.saxpy(
            stream,
            LaunchConfig::for_num_elems(N as u32),
            N as i32,
            a,
            &dx,
            &mut dy,
        )
    }
    .map_err(driver("saxpy"))?;
    let got = stream.clone_dtoh(&dy).map_err(driver("copy back"))?;
    let want: Vec<f32> = x.iter().zip(&y).map(|(&x, &y)| a.mul_add(x, y)).collect();
    compare("saxpy (f32)", &widen(&got), &widen(&want), 1e-6)
}

fn check_reduce(stream: &Arc<CudaStream>, module: &reduce::Module) -> CheckResult {
    const N: usize = (1 << 20) + 37;
    const BLOCK: u32 = 256;
    let input = random(N, 3);
    let d_input = stream.clone_htod(&input).map_err(driver("copy input"))?;
    let mut d_out = stream.alloc_zeros::<f32>(1).map_err(driver("alloc"))?;
    let config = LaunchConfig {
        grid_dim: (1024, 1, 1),
        block_dim: (BLOCK, 1, 1),
        shared_mem_bytes: 0,
    };
    // SAFETY: BLOCK threads per block as the kernel's shared array expects; grid-stride loop over n.
    unsafe { module.sum_f32(stream, config, &d_input, &mut d_out, N as u64) }
        .map_err(driver("sum_f32"))?;
    let got = stream.clone_dtoh(&d_out).map_err(driver("copy back"))?;
    let want: f64 = input.iter().map(|&v| f64::from(v)).sum();
    compare("sum_f32 reduction", &[f64::from(got[0])], &[want], 1e-3)
}

fn check_matmul(stream: &Arc<CudaStream>, module: &matmul::Module) -> CheckResult {
    const TILE: u32 = 16;
    let (rows, cols, inner) = (130usize, 97usize, 70usize);
    let (a, b) = (random(rows * inner, 4), random(inner * cols, 5));
    let da = stream.clone_htod(&a).map_err(driver("copy a"))?;
    let db = stream.clone_htod(&b).map_err(driver("copy b"))?;
    let mut dc = stream
        .alloc_zeros::<f32>(rows * cols)
        .map_err(driver("alloc c"))?;
    let config = LaunchConfig {
        grid_dim: (
            (cols as u32).div_ceil(TILE),
            (rows as u32).div_ceil(TILE),
            1,
        ),
        block_dim: (TILE, TILE, 1),
        shared_mem_bytes: 0,
    };
    // SAFETY: TILE x TILE blocks as the kernel requires; the grid covers m x n; sizes match.
    unsafe {
        module.matmul_tiled(
            stream,
            config,
            &da,
            &db,
            &mut dc,
            rows as u32,
            cols as u32,
            inner as u32,
        )
    }
    .map_err(driver("matmul_tiled"))?;
    let got = stream.clone_dtoh(&dc).map_err(driver("copy back"))?;
    let mut want = vec![0f64; rows * cols];
    for row in 0..rows {
        for col in 0..cols {
            want[row * cols + col] = (0..inner)
                .map(|i| f64::from(a[row * inner + i]) * f64::from(b[i * cols + col]))
                .sum();
        }
    }
    compare("matmul_tiled 130x70 * 70x97", &widen(&got), &want, 1e-4)
}

fn check_halfs(stream: &Arc<CudaStream>, module: &halfs::Module) -> CheckResult {
    const N: usize = 100_003;
    let x: Vec<f16> = random(N, 6).into_iter().map(f16::from_f32).collect();
    let dx = stream.clone_htod(&x).map_err(driver("copy x"))?;
    let mut dy = stream.alloc_zeros::<f16>(N).map_err(driver("alloc y"))?;
    let factor = f16::from_f32(0.5);
    // SAFETY: one thread per element, guarded by `n`.
    unsafe {
        module.scale_f16(
            stream,
            LaunchConfig::for_num_elems(N as u32),
            &dx,
            &mut dy,
            factor,
            N as u32,
        )
    }
    .map_err(driver("scale_f16"))?;
    let got: Vec<f64> = stream
        .clone_dtoh(&dy)
        .map_err(driver("copy back"))?
        .iter()
        .map(|v| f64::from(v.to_f32()))
        .collect();
    let want: Vec<f64> = x
        .iter()
        .map(|v| f64::from((*v * factor).to_f32()))
        .collect();
    compare("scale_f16 (f16)", &got, &want, 0.0)?;

    let xb: Vec<bf16> = random(N, 7).into_iter().map(bf16::from_f32).collect();
    let y = random(N, 8);
    let dxb = stream.clone_htod(&xb).map_err(driver("copy x"))?;
    let mut dy = stream.clone_htod(&y).map_err(driver("copy y"))?;
    // SAFETY: one thread per element, guarded by `n`.
    unsafe {
        module.bf16_to_f32_axpy(
            stream,
            LaunchConfig::for_num_elems(N as u32),
            &dxb,
            &mut dy,
            2.0,
            N as u32,
        )
    }
    .map_err(driver("bf16_to_f32_axpy"))?;
    let got = stream.clone_dtoh(&dy).map_err(driver("copy back"))?;
    let want: Vec<f32> = xb
        .iter()
        .zip(&y)
        .map(|(x, &y)| 2.0f32.mul_add(x.to_f32(), y))
        .collect();
    compare(
        "bf16_to_f32_axpy (bf16 in, f32 out)",
        &widen(&got),
        &widen(&want),
        1e-6,
    )
}

fn check_unary(stream: &Arc<CudaStream>, module: &unary::Module) -> CheckResult {
    const N: usize = 65_536;
    let x = random(N, 9);
    let config = LaunchConfig::for_num_elems(N as u32);
    let dx = stream.clone_htod(&x).map_err(driver("copy x"))?;
    let mut dy = stream.alloc_zeros::<f32>(N).map_err(driver("alloc"))?;
    // SAFETY (all launches below): one thread per element, guarded by `n`; N elements each.
    unsafe { module.relu_f32(stream, config, &dx, &mut dy, N as u32) }
        .map_err(driver("relu_f32"))?;
    let got = stream.clone_dtoh(&dy).map_err(driver("copy back"))?;
    compare(
        "relu_f32 (macro-generated)",
        &widen(&got),
        &x.iter().map(|&v| f64::from(v.max(0.0))).collect::<Vec<_>>(),
        0.0,
    )?;

    let x64: Vec<f64> = widen(&x);
    let input64 = stream.clone_htod(&x64).map_err(driver("copy x"))?;
    let mut output64 = stream.alloc_zeros::<f64>(N).map_err(driver("alloc"))?;
    unsafe { module.sigmoid_f64(stream, config, &input64, &mut output64, N as u32) }
        .map_err(driver("sigmoid_f64"))?;
    let got = stream.clone_dtoh(&output64).map_err(driver("copy back"))?;
    let want: Vec<f64> = x64.iter().map(|v| 1.0 / (1.0 + (-v).exp())).collect();
    compare("sigmoid_f64 (macro-generated)", &got, &want, 1e-12)?;

    unsafe { module.sqr_f64(stream, config, &input64, &mut output64, N as u32) }
        .map_err(driver("sqr_f64"))?;
    let got = stream.clone_dtoh(&output64).map_err(driver("copy back"))?;
    compare(
        "sqr_f64 (macro-generated)",
        &got,
        &x64.iter().map(|v| v * v).collect::<Vec<_>>(),
        0.0,
    )?;
    Ok(())
}
