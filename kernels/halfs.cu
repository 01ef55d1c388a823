// Half-precision kernels: f16 and bf16 inputs, accumulated in f32.
#include <cuda_fp16.h>
#include <cuda_bf16.h>

extern "C" __global__ void scale_f16(const __half* x, __half* y, __half factor, unsigned int n) {
    unsigned int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        y[i] = __hmul(x[i], factor);
    }
}

extern "C" __global__ void bf16_to_f32_axpy(const __nv_bfloat16* x, float* y, float a, unsigned int n) {
    unsigned int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        y[i] += a * __bfloat162float(x[i]);
    }
}
