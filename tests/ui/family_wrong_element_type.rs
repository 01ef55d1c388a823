// `neg::<f32>` takes buffers of f32: a buffer of f64 must not compile.
use sasskit::cudarc::driver::{CudaSlice, CudaStream, LaunchConfig};

sasskit::kernels!(unary);

fn launch(module: &unary::Module, stream: &CudaStream, x: &CudaSlice<f64>, y: &mut CudaSlice<f32>) {
    let _ = unsafe { module.neg::<f32>(stream, LaunchConfig::for_num_elems(1), x, y, 1) };
}

fn main() {}
