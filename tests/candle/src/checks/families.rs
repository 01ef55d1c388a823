//! candle's kernel families through the generic methods `kernels!` generates: `affine::<T>` for
//! f32, f16, bf16 and u32, and `cast::<f32, bf16>`, against the CPU; and the launch cost of a
//! generic call against the per-type method it shares its function table with.

use std::sync::Arc;
use std::time::Instant;

use sasskit::cudarc::driver::{CudaStream, DeviceRepr, LaunchConfig, ValidAsZeroBits};
use sasskit::half::{bf16, f16};

use crate::outcome::Outcome;
use crate::{Error, affine, cast};

/// Elements per launch.
const N: usize = 81;

/// `affine::<T>` over `N` values, contiguous (`info` null): `out = inp * mul + add`.
fn affine_generic<T>(
    stream: &Arc<CudaStream>,
    module: &affine::Module,
    input: &[T],
    mul: T,
    add: T,
) -> Result<Vec<T>, Error>
where
    T: affine::AffineTypes + DeviceRepr + ValidAsZeroBits + Copy + Default + Unpin,
{
    let inp = stream.clone_htod(input)?;
    let mut out = stream.alloc_zeros::<T>(input.len())?;
    // SAFETY: a grid-stride loop over `input.len()` elements of `inp` and `out`; no info.
    unsafe {
        module.affine::<T>(
            stream,
            LaunchConfig::for_num_elems(input.len() as u32),
            input.len(),
            1,
            &sasskit::Null,
            &inp,
            &mut out,
            mul,
            add,
        )
    }?;
    Ok(stream.clone_dtoh(&out)?)
}

/// Values whose products and sums are exact in every element type checked: `k / 4`.
fn quarters() -> Vec<f32> {
    (0..N).map(|k| (k as f32 - 40.0) / 4.0).collect()
}

pub(crate) fn generic_affine_and_cast(
    stream: &Arc<CudaStream>,
    affine: &affine::Module,
    cast: &cast::Module,
) -> Result<Vec<Outcome>, Error> {
    let (mul, add) = (1.5f32, -0.75f32);
    let x = quarters();
    let want: Vec<f32> = x.iter().map(|x| x * mul + add).collect();
    let mut outcomes = vec![Outcome::exact(
        "affine::<f32> (generic, family affine)",
        &affine_generic(stream, affine, &x, mul, add)?,
        &want,
    )];
    let halves: Vec<f16> = x.iter().map(|&x| f16::from_f32(x)).collect();
    let got = affine_generic(
        stream,
        affine,
        &halves,
        f16::from_f32(mul),
        f16::from_f32(add),
    )?;
    let expected: Vec<f16> = want.iter().map(|&x| f16::from_f32(x)).collect();
    outcomes.push(Outcome::exact("affine::<f16> (generic)", &got, &expected));
    let xb: Vec<bf16> = x.iter().map(|&x| bf16::from_f32(x)).collect();
    let got = affine_generic(
        stream,
        affine,
        &xb,
        bf16::from_f32(mul),
        bf16::from_f32(add),
    )?;
    let expected: Vec<bf16> = want.iter().map(|&x| bf16::from_f32(x)).collect();
    outcomes.push(Outcome::exact("affine::<bf16> (generic)", &got, &expected));
    let integers: Vec<u32> = (0..N as u32).collect();
    let expected: Vec<u32> = integers.iter().map(|x| x * 3 + 7).collect();
    let got = affine_generic(stream, affine, &integers, 3, 7)?;
    outcomes.push(Outcome::exact("affine::<u32> (generic)", &got, &expected));

    let inp = stream.clone_htod(&x)?;
    let mut out = stream.alloc_zeros::<bf16>(N)?;
    // SAFETY: a grid-stride loop over `N` elements of `inp` and `out`; no info.
    unsafe {
        cast.cast::<f32, bf16>(
            stream,
            LaunchConfig::for_num_elems(N as u32),
            N,
            1,
            &sasskit::Null,
            &inp,
            &mut out,
        )
    }?;
    outcomes.push(Outcome::exact(
        "cast::<f32, bf16> (generic, family cast)",
        &stream.clone_dtoh(&out)?,
        &xb,
    ));
    Ok(outcomes)
}

/// Launches per way and round.
const LAUNCHES: usize = 2000;

/// The launch cost of `affine::<f32>` against `affine_f32`, side by side: rounds alternate the
/// two ways, each round `LAUNCHES` launches and one synchronisation; the median round of each.
pub(crate) fn launch_cost(
    stream: &Arc<CudaStream>,
    module: &affine::Module,
) -> Result<String, Error> {
    let x = quarters();
    let inp = stream.clone_htod(&x)?;
    let mut out = stream.alloc_zeros::<f32>(N)?;
    let config = LaunchConfig::for_num_elems(N as u32);
    let mut per_type = Vec::new();
    let mut generic = Vec::new();
    for round in 0..11 {
        for way in [false, true] {
            stream.synchronize()?;
            let start = Instant::now();
            for _ in 0..LAUNCHES {
                // SAFETY: as in `affine_generic`.
                unsafe {
                    if way {
                        module.affine::<f32>(
                            stream,
                            config,
                            N,
                            1,
                            &sasskit::Null,
                            &inp,
                            &mut out,
                            1.5,
                            -0.75,
                        )
                    } else {
                        module.affine_f32(
                            stream,
                            config,
                            N,
                            1,
                            &sasskit::Null,
                            &inp,
                            &mut out,
                            1.5,
                            -0.75,
                        )
                    }
                }?;
            }
            stream.synchronize()?;
            let per_launch = start.elapsed().as_secs_f64() * 1e6 / LAUNCHES as f64;
            // The first round warms both ways up and is not counted.
            if round > 0 {
                if way {
                    generic.push(per_launch);
                } else {
                    per_type.push(per_launch);
                }
            }
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (per_type, generic) = (median(&mut per_type), median(&mut generic));
    Ok(format!(
        "bench   affine::<f32> {generic:.2} us/launch vs affine_f32 {per_type:.2} us/launch \
         (launch and stream time, median of 10 rounds of {LAUNCHES}): generic / per-type = {:.3}",
        generic / per_type
    ))
}
