// `y` is `float*`, which the kernel writes: a shared reference must not compile.
use sasskit::cudarc::driver::{CudaSlice, CudaStream, LaunchConfig};

sasskit::kernels!(saxpy_sm90);

fn launch(module: &saxpy_sm90::Module, stream: &CudaStream, x: &CudaSlice<f32>, y: &CudaSlice<f32>) {
    let _ = unsafe { module.saxpy(stream, LaunchConfig::for_num_elems(1), 1, 2.0, x, y) };
}

fn main() {}
