//! Runs every kernel through its typed wrapper and compares with a CPU reference.

use std::sync::Arc;

use sasskit::cudarc::driver::{CudaContext, CudaStream, LaunchConfig};
use sasskit::half::{bf16, f16};

use crate::data::{compare, random};
use crate::params::{ECHO_FIELDS, Layout, Mixed};
use crate::{echo, halfs, matmul, reduce, saxpy, unary};

/// Why a check failed: a load, a driver call, or a wrong result.
type CheckResult = Result<(), String>;

fn driver<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> String + '_ {
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
    let echo = echo::Module::load(ctx).map_err(load_error)?;
    check_echo_fields(&stream, &echo)?;
    check_bump_all(&stream, &echo)?;
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
    unsafe { module.sum_f32(stream, config, &d_input, &mut d_out, N) }
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

/// A `Mixed` whose every field has a value that a wrong offset, width or sign would change.
fn sample_mixed() -> Mixed {
    Mixed {
        tag: 0xA5,
        scale: -1_234.567_890_123_456_7,
        delta: -12_345,
        bias: 3.25e-3,
        dims: [1, (1 << 31) + 7, u32::MAX],
        enabled: true,
        layout: Layout::LAYOUT_COL_MAJOR,
        offset: -(1 << 62) + 3,
        count: u64::MAX - 11,
    }
}

/// Passes a padded struct by value and checks that every field arrives bit for bit, both as
/// the kernel reads it and as a struct copied back through a device buffer.
fn check_echo_fields(stream: &Arc<CudaStream>, module: &echo::Module) -> CheckResult {
    let sent = sample_mixed();
    let extra = Layout::LAYOUT_ROW_MAJOR;
    let mut fields = stream
        .alloc_zeros::<u64>(ECHO_FIELDS as usize)
        .map_err(driver("alloc fields"))?;
    let mut copy = stream
        .alloc_zeros::<Mixed>(1)
        .map_err(driver("alloc copy"))?;
    // SAFETY: one thread; `fields` holds ECHO_FIELDS values and `copy` one `Mixed`.
    unsafe {
        module.echo_fields(
            stream,
            LaunchConfig::for_num_elems(1),
            sent,
            extra,
            &mut fields,
            &mut copy,
        )
    }
    .map_err(driver("echo_fields"))?;
    let got = stream
        .clone_dtoh(&fields)
        .map_err(driver("copy fields back"))?;
    #[allow(clippy::cast_sign_loss)] // The kernel sign-extends; so does `as u64`.
    let want: [(&str, u64); ECHO_FIELDS as usize] = [
        ("tag", u64::from(sent.tag)),
        ("scale", sent.scale.to_bits()),
        ("delta", i64::from(sent.delta) as u64),
        ("bias", u64::from(sent.bias.to_bits())),
        ("dims[0]", u64::from(sent.dims[0])),
        ("dims[1]", u64::from(sent.dims[1])),
        ("dims[2]", u64::from(sent.dims[2])),
        ("enabled", u64::from(sent.enabled)),
        ("layout", u64::from(sent.layout.0)),
        ("offset", sent.offset as u64),
        ("count", sent.count),
        ("extra", u64::from(extra.0)),
    ];
    for ((field, want), got) in want.iter().zip(&got) {
        if want != got {
            return Err(format!(
                "echo_fields: field `{field}` arrived as {got:#x}, sent {want:#x}"
            ));
        }
    }
    let copied = stream
        .clone_dtoh(&copy)
        .map_err(driver("copy struct back"))?;
    if copied[0] != sent {
        return Err(format!(
            "echo_fields: the struct copied back differs: sent {sent:?}, got {:?}",
            copied[0]
        ));
    }
    println!(
        "  ok  echo_fields (struct by value): all {ECHO_FIELDS} fields of a 64-byte padded struct \
         round-trip bit for bit"
    );
    Ok(())
}

/// A device buffer of structs, read and written by the kernel.
#[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)] // N is small.
fn check_bump_all(stream: &Arc<CudaStream>, module: &echo::Module) -> CheckResult {
    const N: usize = 1000;
    let input: Vec<Mixed> = (0..N)
        .map(|i| Mixed {
            count: i as u64,
            scale: i as f64 * 0.5,
            tag: i as u8,
            ..sample_mixed()
        })
        .collect();
    let d_in = stream.clone_htod(&input).map_err(driver("copy structs"))?;
    let mut d_out = stream
        .alloc_zeros::<Mixed>(N)
        .map_err(driver("alloc structs"))?;
    // SAFETY: one thread per element, guarded by `n`; both buffers hold N structs.
    unsafe {
        module.bump_all(
            stream,
            LaunchConfig::for_num_elems(N as u32),
            &d_in,
            &mut d_out,
            N as u32,
        )
    }
    .map_err(driver("bump_all"))?;
    let got = stream
        .clone_dtoh(&d_out)
        .map_err(driver("copy structs back"))?;
    for (i, (got, sent)) in got.iter().zip(&input).enumerate() {
        let want = Mixed {
            count: sent.count + 1,
            scale: sent.scale * 2.0,
            ..*sent
        };
        if *got != want {
            return Err(format!("bump_all: element {i}: want {want:?}, got {got:?}"));
        }
    }
    println!("  ok  bump_all (device buffers of structs): {N} structs match the CPU reference");
    Ok(())
}
