// The same host-launched kernel, built into a static library for Blackwell only (sm_100,
// sm_121): on a Hopper GPU `Library::check` must refuse it before any of its functions runs.
#include <cstdint>
#include <cuda_runtime.h>

__global__ void scale_blackwell_kernel(float* y, const float* x, float a, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i];
}

extern "C" void launch_scale_blackwell_f32(float* y, const float* x, float a, int32_t n, cudaStream_t stream) {
    scale_blackwell_kernel<<<(n + 255) / 256, 256, 0, stream>>>(y, x, a, n);
}
