//! candle's elementwise kernels (`affine`, `unary`, `cast`, `where`) through the generated
//! wrappers, contiguous with `info = null` as candle launches them, and strided with a real
//! `info` buffer.

use std::sync::Arc;

use sasskit::LaunchError;
use sasskit::cudarc::driver::{CudaSlice, CudaStream, DeviceRepr, LaunchConfig};
use sasskit::float8::F8E4M3;
use sasskit::half::{bf16, f16};

use crate::layout::{Layout, info_of};
use crate::outcome::Outcome;
use crate::{Error, affine, cast, ternary, unary};

/// The operands of one launch of a kernel `(numel, num_dims, info, inp, out, …)`.
struct Launch<'a, S, D> {
    config: LaunchConfig,
    numel: usize,
    num_dims: usize,
    /// `None`: the launch passes `info = &sasskit::Null`.
    info: Option<&'a CudaSlice<usize>>,
    input: &'a CudaSlice<S>,
    output: &'a mut CudaSlice<D>,
}

/// Expands `$call` with `$info` bound to `&sasskit::Null` when `$launch` has no info buffer,
/// else to the buffer: the wrappers take either, as different types.
macro_rules! with_info {
    ($launch:expr, $info:ident => $call:expr) => {
        match $launch.info {
            None => {
                let $info = &sasskit::Null;
                $call
            }
            Some($info) => $call,
        }
    };
}

/// Runs one kernel over `storage` seen through `layout` (`None`: contiguous, `info = null`)
/// with an output first filled with `sentinel`; returns the output and the input values in the
/// order the kernel must read them.
fn run<S: DeviceRepr + Copy, D: DeviceRepr + Copy>(
    stream: &Arc<CudaStream>,
    layout: Option<&Layout>,
    storage: &[S],
    sentinel: D,
    launch: impl FnOnce(Launch<'_, S, D>) -> Result<(), LaunchError>,
) -> Result<(Vec<D>, Vec<S>), Error> {
    let (numel, num_dims, inputs) = match layout {
        None => (storage.len(), 1, storage.to_vec()),
        Some(layout) => (layout.numel(), layout.dims.len(), layout.gather(storage)),
    };
    let input = stream.clone_htod(storage)?;
    let info = layout
        .map(|layout| stream.clone_htod(&layout.info()))
        .transpose()?;
    let mut output = stream.clone_htod(&vec![sentinel; numel])?;
    launch(Launch {
        config: LaunchConfig::for_num_elems(numel as u32),
        numel,
        num_dims,
        info: info.as_ref(),
        input: &input,
        output: &mut output,
    })?;
    Ok((stream.clone_dtoh(&output)?, inputs))
}

/// The two layouts every elementwise check runs: contiguous with `info = null`, and a
/// transpose of three axes with a real `info`.
fn layouts() -> [(Option<Layout>, &'static str); 2] {
    [
        (None, "info = null (contiguous)"),
        (
            Some(Layout::transposed(&[3, 4, 5])),
            "info = dims + strides (transposed 3x4x5)",
        ),
    ]
}

/// Values that `x * 1.5 - 0.75` keeps exact in f32 and bf16 alike (multiples of 1/8 below 16),
/// so that the reference needs no tolerance whether the GPU fuses the multiply-add or not;
/// distinct for the first 64.
fn exact_values(n: usize) -> Vec<f32> {
    (0..n).map(|i| (i % 64) as f32 * 0.25 - 8.0).collect()
}

const MUL: f32 = 1.5;
const ADD: f32 = -0.75;

/// `affine_f32` and `affine_bf16`: `out = inp * mul + add`, and `affine_f32` in place
/// (`inp = null`).
pub(crate) fn affine(
    stream: &Arc<CudaStream>,
    module: &affine::Module,
) -> Result<Vec<Outcome>, Error> {
    let mut outcomes = Vec::new();
    for (layout, how) in layouts() {
        let storage = exact_values(layout.as_ref().map_or(10_000, Layout::storage_len));
        let (got, inputs) = run(stream, layout.as_ref(), &storage, f32::NAN, |l| {
            with_info!(l, info =>
                // SAFETY: a grid-stride loop over `numel`; `info` holds 2 * num_dims values.
                unsafe { module.affine_f32(stream, l.config, l.numel, l.num_dims, info, l.input, l.output, MUL, ADD) })
        })?;
        let want: Vec<f32> = inputs.iter().map(|x| x * MUL + ADD).collect();
        outcomes.push(Outcome::exact(format!("affine_f32, {how}"), &got, &want));

        let storage: Vec<bf16> = storage.iter().map(|&x| bf16::from_f32(x)).collect();
        let (mul, add) = (bf16::from_f32(MUL), bf16::from_f32(ADD));
        let (got, inputs) = run(stream, layout.as_ref(), &storage, bf16::NAN, |l| {
            with_info!(l, info =>
                // SAFETY: as for affine_f32.
                unsafe { module.affine_bf16(stream, l.config, l.numel, l.num_dims, info, l.input, l.output, mul, add) })
        })?;
        let want: Vec<bf16> = inputs
            .iter()
            .map(|x| bf16::from_f32(x.to_f32() * MUL + ADD))
            .collect();
        outcomes.push(Outcome::exact(format!("affine_bf16, {how}"), &got, &want));
    }
    // In place: candle passes `inp = nullptr` and the kernel reads `out`.
    let values = exact_values(1000);
    let mut buffer = stream.clone_htod(&values)?;
    let config = LaunchConfig::for_num_elems(1000);
    // SAFETY: a grid-stride loop over 1000 elements of `buffer`; no info, no input.
    unsafe {
        module.affine_f32(
            stream,
            config,
            1000,
            1,
            &sasskit::Null,
            &sasskit::Null,
            &mut buffer,
            MUL,
            ADD,
        )
    }?;
    let got = stream.clone_dtoh(&buffer)?;
    let want: Vec<f32> = values.iter().map(|x| x * MUL + ADD).collect();
    outcomes.push(Outcome::exact(
        "affine_f32, info = null, inp = null (in place)",
        &got,
        &want,
    ));
    Ok(outcomes)
}

/// The tanh approximation of GELU that candle's `gelu_fwd` computes, in f64.
fn gelu(x: f64) -> f64 {
    let sqrt_2_over_pi = (2.0 / std::f64::consts::PI).sqrt();
    0.5 * x * (1.0 + (sqrt_2_over_pi * (x + 0.044_715 * x * x * x)).tanh())
}

/// `ugelu_f16`, which computes in half precision: within 1e-2 + 1% of an f64 reference.
pub(crate) fn gelu_f16(
    stream: &Arc<CudaStream>,
    module: &unary::Module,
) -> Result<Vec<Outcome>, Error> {
    let mut outcomes = Vec::new();
    for (layout, how) in layouts() {
        let n = layout.as_ref().map_or(10_000, Layout::storage_len);
        // -4 to 4 in steps of 0.05, distinct for the first 161.
        let storage: Vec<f16> = (0..n)
            .map(|i| f16::from_f32(((i % 161) as f32 - 80.0) / 20.0))
            .collect();
        let (got, inputs) = run(stream, layout.as_ref(), &storage, f16::NAN, |l| {
            with_info!(l, info =>
                // SAFETY: a grid-stride loop over `numel`; `info` holds 2 * num_dims values.
                unsafe { module.ugelu_f16(stream, l.config, l.numel, l.num_dims, info, l.input, l.output) })
        })?;
        let want: Vec<f16> = inputs
            .iter()
            .map(|x| f16::from_f64(gelu(x.to_f64())))
            .collect();
        outcomes.push(Outcome::compare(
            format!("ugelu_f16, {how}"),
            &got,
            &want,
            "within 1e-2 + 1% of f64",
            |got, want| {
                let (got, want) = (got.to_f64(), want.to_f64());
                (got - want).abs() <= 1e-2 + 1e-2 * want.abs()
            },
        ));
    }
    Ok(outcomes)
}

/// The f32 inputs of the f32 → f8 check: every finite E4M3 value, the midpoints between
/// neighbours (ties, rounded to even), and values beyond 448 (saturated, as CUDA's
/// `__nv_fp8_e4m3(float)` does with `__NV_SATFINITE`).
fn f8_inputs() -> Vec<f32> {
    let finite: Vec<f32> = (0..=0x7e_u8)
        .map(|bits| F8E4M3::from_bits(bits).to_f32())
        .collect();
    let mut values = Vec::new();
    for pair in finite.windows(2) {
        values.extend([
            pair[0],
            -pair[0],
            f32::midpoint(pair[0], pair[1]),
            -f32::midpoint(pair[0], pair[1]),
        ]);
    }
    values.extend([
        448.0, -448.0, 460.0, 470.0, 500.0, -1.0e4, 3.0e38, 1.0e-3, -1.0e-4,
    ]);
    values
}

/// `cast_f32_f8_e4m3` and back (`cast_f8_e4m3_f32`), bit for bit against the `float8` crate,
/// a port of CUDA's own conversion.
pub(crate) fn cast_f8(
    stream: &Arc<CudaStream>,
    module: &cast::Module,
) -> Result<Vec<Outcome>, Error> {
    let same_f8 = |got: F8E4M3, want: F8E4M3| got.to_bits() == want.to_bits();
    let same_f32 =
        |got: f32, want: f32| got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan());
    let mut outcomes = Vec::new();
    let values = f8_inputs();
    // Every byte, NaNs included; the strided view reads them as a transposed 16x16 matrix.
    let codes: Vec<F8E4M3> = (0..=u8::MAX).map(F8E4M3::from_bits).collect();
    let sentinel = F8E4M3::from_bits(0x7f);
    for (layout, how) in [
        (None, "info = null (contiguous)"),
        (
            Some(Layout::transposed(&[16, 16])),
            "info = dims + strides (transposed 16x16)",
        ),
    ] {
        let storage = &values[..layout.as_ref().map_or(values.len(), Layout::storage_len)];
        let (got, inputs) = run(stream, layout.as_ref(), storage, sentinel, |l| {
            with_info!(l, info =>
                // SAFETY: a grid-stride loop over `numel`; `info` holds 2 * num_dims values.
                unsafe { module.cast_f32_f8_e4m3(stream, l.config, l.numel, l.num_dims, info, l.input, l.output) })
        })?;
        let want: Vec<F8E4M3> = inputs.iter().map(|&x| F8E4M3::from_f32(x)).collect();
        outcomes.push(Outcome::compare(
            format!("cast_f32_f8_e4m3, {how}"),
            &got,
            &want,
            "bit for bit",
            same_f8,
        ));

        let (got, inputs) = run(stream, layout.as_ref(), &codes, -12_345.0_f32, |l| {
            with_info!(l, info =>
                // SAFETY: as above.
                unsafe { module.cast_f8_e4m3_f32(stream, l.config, l.numel, l.num_dims, info, l.input, l.output) })
        })?;
        let want: Vec<f32> = inputs.iter().map(F8E4M3::to_f32).collect();
        outcomes.push(Outcome::compare(
            format!("cast_f8_e4m3_f32 (all 256 codes), {how}"),
            &got,
            &want,
            "bit for bit (NaN as NaN)",
            same_f32,
        ));
    }
    Ok(outcomes)
}

/// `where_u8_f32`: `out = ids ? t : f`. Its `info` is never null in candle (dims, then the
/// strides of `ids`, `t` and `f`); contiguous strides first, then `t` broadcast along the first
/// axis (stride 0) and `f` transposed.
pub(crate) fn where_u8_f32(
    stream: &Arc<CudaStream>,
    module: &ternary::Module,
) -> Result<Vec<Outcome>, Error> {
    let dims = [4, 5, 6];
    let contiguous = Layout::contiguous(&dims);
    let broadcast = Layout {
        dims: dims.to_vec(),
        strides: vec![0, 6, 1],
    };
    let transposed = Layout::transposed(&dims);
    let mut outcomes = Vec::new();
    for ([ids_layout, t_layout, f_layout], how) in [
        ([&contiguous; 3], "info = dims + 3 contiguous strides"),
        (
            [&contiguous, &broadcast, &transposed],
            "info = dims + strides (t broadcast, f transposed)",
        ),
    ] {
        let ids: Vec<u8> = (0..ids_layout.storage_len())
            .map(|i| u8::from(i * 7 % 3 == 0))
            .collect();
        let t: Vec<f32> = (0..t_layout.storage_len()).map(|i| i as f32).collect();
        let f: Vec<f32> = (0..f_layout.storage_len())
            .map(|i| -(i as f32) - 1.0)
            .collect();
        let numel = contiguous.numel();
        let d_ids = stream.clone_htod(&ids)?;
        let d_t = stream.clone_htod(&t)?;
        let d_f = stream.clone_htod(&f)?;
        let d_info = stream.clone_htod(&info_of(&[ids_layout, t_layout, f_layout]))?;
        let mut d_out = stream.clone_htod(&vec![f32::NAN; numel])?;
        let config = LaunchConfig::for_num_elems(numel as u32);
        // SAFETY: a grid-stride loop over `numel`; `info` holds 4 * num_dims values, and every
        // strided index stays inside its buffer (`storage_len`).
        unsafe {
            module.where_u8_f32(
                stream,
                config,
                numel,
                dims.len(),
                &d_info,
                &d_ids,
                &d_t,
                &d_f,
                &mut d_out,
            )
        }?;
        let got = stream.clone_dtoh(&d_out)?;
        let (ids, t, f) = (
            ids_layout.gather(&ids),
            t_layout.gather(&t),
            f_layout.gather(&f),
        );
        let want: Vec<f32> = (0..numel)
            .map(|i| if ids[i] == 0 { f[i] } else { t[i] })
            .collect();
        outcomes.push(Outcome::exact(format!("where_u8_f32, {how}"), &got, &want));
    }
    Ok(outcomes)
}
