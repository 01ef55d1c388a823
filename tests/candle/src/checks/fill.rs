//! fill.cu: `fill_f32(buf, value, numel)` and `const_set_f32(numel, num_dims, info, inp, out)`.

use std::sync::Arc;

use sasskit::cudarc::driver::{CudaStream, LaunchConfig};

use crate::layout::Layout;
use crate::outcome::Outcome;
use crate::{Error, fill};

const VALUE: f32 = 7.25;

/// `fill_f32` over a whole buffer; `const_set_f32` contiguous (`info = null`) and through a
/// strided view (every fifth element), which must leave the rest of the buffer alone.
pub(crate) fn fill_f32(
    stream: &Arc<CudaStream>,
    module: &fill::Module,
) -> Result<Vec<Outcome>, Error> {
    let mut outcomes = Vec::new();

    let n = 5000;
    let mut buffer = stream.clone_htod(&vec![f32::NAN; n])?;
    // SAFETY: a grid-stride loop over `n` elements of `buffer`.
    unsafe {
        module.fill_f32(
            stream,
            LaunchConfig::for_num_elems(n as u32),
            &mut buffer,
            VALUE,
            n,
        )
    }?;
    let got = stream.clone_dtoh(&buffer)?;
    outcomes.push(Outcome::exact("fill_f32", &got, &vec![VALUE; n]));

    let mut buffer = stream.clone_htod(&vec![f32::NAN; n])?;
    // SAFETY: as above; without info the kernel writes `out[0..numel]`.
    unsafe {
        module.const_set_f32(
            stream,
            LaunchConfig::for_num_elems(n as u32),
            n,
            1,
            &sasskit::Null,
            VALUE,
            &mut buffer,
        )
    }?;
    let got = stream.clone_dtoh(&buffer)?;
    outcomes.push(Outcome::exact(
        "const_set_f32, info = null (contiguous)",
        &got,
        &vec![VALUE; n],
    ));

    // Four elements, five apart, of a 20-element buffer of zeros.
    let view = Layout {
        dims: vec![4],
        strides: vec![5],
    };
    let len = 20;
    let mut buffer = stream.clone_htod(&vec![0.0_f32; len])?;
    let info = stream.clone_htod(&view.info())?;
    let numel = view.numel();
    // SAFETY: a grid-stride loop over `numel`; every strided index is below `storage_len`.
    unsafe {
        module.const_set_f32(
            stream,
            LaunchConfig::for_num_elems(numel as u32),
            numel,
            1,
            &info,
            VALUE,
            &mut buffer,
        )
    }?;
    let got = stream.clone_dtoh(&buffer)?;
    let mut want = vec![0.0; len];
    for i in 0..numel {
        want[view.strided_index(i)] = VALUE;
    }
    outcomes.push(Outcome::exact(
        "const_set_f32, info = dims + strides (every fifth element)",
        &got,
        &want,
    ));
    Ok(outcomes)
}
