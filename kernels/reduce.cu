// Sum of n floats: each block reduces its part in shared memory and adds it to *out.
#include <stddef.h>

#define BLOCK 256

extern "C" __global__ void __launch_bounds__(BLOCK) sum_f32(const float* input, float* out, size_t n) {
    __shared__ float partial[BLOCK];
    float acc = 0.0f;
    for (size_t i = blockIdx.x * (size_t)BLOCK + threadIdx.x; i < n; i += (size_t)gridDim.x * BLOCK) {
        acc += input[i];
    }
    partial[threadIdx.x] = acc;
    __syncthreads();
    for (unsigned stride = BLOCK / 2; stride > 0; stride /= 2) {
        if (threadIdx.x < stride) {
            partial[threadIdx.x] += partial[threadIdx.x + stride];
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        atomicAdd(out, partial[0]);
    }
}
