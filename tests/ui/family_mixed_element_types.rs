// Without turbofish the buffers choose the type: one of f32 and one of f64 must not compile.
use sasskit::cudarc::driver::{CudaSlice, CudaStream, LaunchConfig};

sasskit::kernels!(unary);

fn launch(module: &unary::Module, stream: &CudaStream, x: &CudaSlice<f32>, y: &mut CudaSlice<f64>) {
    let _ = unsafe { module.neg(stream, LaunchConfig::for_num_elems(1), x, y, 1) };
}

fn main() {}
