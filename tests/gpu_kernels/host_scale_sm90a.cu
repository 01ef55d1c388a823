// An optional static library built for `sm_90a` only (`StaticLibrary::optional`), with the C API
// style of LLM engines: the stream cast to `int64_t`, an input left non-const
// (`StaticLibrary::read_only`). On an H100/H200 the GPU test runs it through the wrapper and
// compares with the CPU; elsewhere the check passes and reports it unavailable.
#include <cstdint>
#include <cuda_runtime.h>

__global__ void axpy_kernel(float* y, float* x, float a, int64_t n) {
    int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < n) y[i] += a * x[i];
}

extern "C" void launch_axpy_f32(float* y, float* x, float a, int64_t n, int64_t stream) {
    axpy_kernel<<<unsigned((n + 255) / 256), 256, 0, (cudaStream_t)stream>>>(y, x, a, n);
}
