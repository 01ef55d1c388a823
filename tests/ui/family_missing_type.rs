// `unary.cu` defines `neg_f32` and `neg_f64` only: the family method must refuse `f16`.
use sasskit::cudarc::driver::{CudaSlice, CudaStream, LaunchConfig};
use sasskit::half::f16;

sasskit::kernels!(unary);

fn launch(module: &unary::Module, stream: &CudaStream, x: &CudaSlice<f16>, y: &mut CudaSlice<f16>) {
    let _ = unsafe { module.neg::<f16>(stream, LaunchConfig::for_num_elems(1), x, y, 1) };
}

fn main() {}
