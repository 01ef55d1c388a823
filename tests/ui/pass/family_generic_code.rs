// A downstream crate writes code generic over a family's element types and calls the
// generic method; `main` instantiates it for both types the module has (launching needs a GPU).
use sasskit::cudarc::driver::{CudaSlice, CudaStream, LaunchConfig};
use sasskit::LaunchError;

sasskit::kernels!(unary);

fn negate<T: unary::NegTypes>(
    module: &unary::Module,
    stream: &CudaStream,
    x: &CudaSlice<T>,
    y: &mut CudaSlice<T>,
    n: u32,
) -> Result<(), LaunchError> {
    // SAFETY: one thread per element of `x` and `y`, which hold `n` elements.
    unsafe { module.neg(stream, LaunchConfig::for_num_elems(n), x, y, n) }
}

fn main() {
    let _f32 = negate::<f32>;
    let _f64 = negate::<f64>;
}
