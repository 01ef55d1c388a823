// `x` is `const float*`: a buffer of f64 must not compile.
use sasskit::cudarc::driver::{CudaSlice, CudaStream, LaunchConfig};

sasskit::kernels!(saxpy_sm90);

fn launch(module: &saxpy_sm90::Module, stream: &CudaStream, x: &CudaSlice<f64>, y: &mut CudaSlice<f32>) {
    let _ = unsafe { module.saxpy(stream, LaunchConfig::for_num_elems(1), 1, 2.0, x, y) };
}

fn main() {}
