// A kernel launched by C++ host code, built into a static library (`Build::static_library`):
// the GPU tests call `launch_scale_f32` through the wrapper `sasskit::host_functions!`
// generates and compare with the CPU.
#include <cstdint>
#include <cuda_runtime.h>

template <typename T>
__global__ void scale_kernel(T* y, const T* x, T a, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i];
}

extern "C" void launch_scale_f32(float* y, const float* x, float a, int32_t n, cudaStream_t stream) {
    scale_kernel<<<(n + 255) / 256, 256, 0, stream>>>(y, x, a, n);
}

// Returns the CUDA runtime's error of an impossible launch (1025 threads per block), which the
// wrapper reports as `LaunchError::Runtime`.
extern "C" void launch_too_many_threads(float* y, cudaStream_t stream) {
    scale_kernel<<<1, 1025, 0, stream>>>(y, y, 1.0f, 1);
}
