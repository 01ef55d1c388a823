// Row-wise softmax (and log-softmax) over a row-major [rows, cols] matrix, one block per row, f32 and f16 storage.
#include "common.cuh"

#define SOFTMAX_BLOCK 256

namespace {

// One block handles one row: max pass, exp-sum pass, normalize pass. Math in f32.
template <typename T, int BLOCK, bool LOG>
__device__ __forceinline__ void softmax_row(const T* __restrict__ x, T* __restrict__ y, uint32_t cols) {
    __shared__ float scratch[BLOCK / WARP_SIZE];
    const size_t row = blockIdx.x;
    const T* in = x + row * cols;
    T* out = y + row * cols;

    float local_max = -INFINITY;
    for (uint32_t c = threadIdx.x; c < cols; c += BLOCK) {
        local_max = fmaxf(local_max, bench::to_float(in[c]));
    }
    const float row_max = bench::block_reduce(local_max, bench::MaxOp(), -INFINITY, scratch);

    float local_sum = 0.0f;
    for (uint32_t c = threadIdx.x; c < cols; c += BLOCK) {
        local_sum += __expf(bench::to_float(in[c]) - row_max);
    }
    const float row_sum = bench::block_reduce(local_sum, bench::SumOp(), 0.0f, scratch);

    if (LOG) {
        const float log_sum = __logf(row_sum);
        for (uint32_t c = threadIdx.x; c < cols; c += BLOCK) {
            out[c] = bench::from_float<T>(bench::to_float(in[c]) - row_max - log_sum);
        }
    } else {
        const float inv_sum = 1.0f / row_sum;
        for (uint32_t c = threadIdx.x; c < cols; c += BLOCK) {
            out[c] = bench::from_float<T>(__expf(bench::to_float(in[c]) - row_max) * inv_sum);
        }
    }
}

// Backward of softmax: dx = y * (dy - sum(dy * y)).
template <typename T, int BLOCK>
__device__ __forceinline__ void softmax_backward_row(const T* __restrict__ y, const T* __restrict__ dy,
                                                     T* __restrict__ dx, uint32_t cols) {
    __shared__ float scratch[BLOCK / WARP_SIZE];
    const size_t base = (size_t)blockIdx.x * cols;

    float local_dot = 0.0f;
    for (uint32_t c = threadIdx.x; c < cols; c += BLOCK) {
        local_dot += bench::to_float(y[base + c]) * bench::to_float(dy[base + c]);
    }
    const float dot = bench::block_reduce(local_dot, bench::SumOp(), 0.0f, scratch);

    for (uint32_t c = threadIdx.x; c < cols; c += BLOCK) {
        const float yv = bench::to_float(y[base + c]);
        dx[base + c] = bench::from_float<T>(yv * (bench::to_float(dy[base + c]) - dot));
    }
}

}  // namespace

extern "C" __global__ void __launch_bounds__(SOFTMAX_BLOCK)
softmax_f32(const float* x, float* y, uint32_t cols) {
    softmax_row<float, SOFTMAX_BLOCK, false>(x, y, cols);
}

extern "C" __global__ void __launch_bounds__(SOFTMAX_BLOCK)
softmax_f16(const __half* x, __half* y, uint32_t cols) {
    softmax_row<__half, SOFTMAX_BLOCK, false>(x, y, cols);
}

extern "C" __global__ void __launch_bounds__(SOFTMAX_BLOCK)
log_softmax_f32(const float* x, float* y, uint32_t cols) {
    softmax_row<float, SOFTMAX_BLOCK, true>(x, y, cols);
}

extern "C" __global__ void __launch_bounds__(SOFTMAX_BLOCK)
log_softmax_f16(const __half* x, __half* y, uint32_t cols) {
    softmax_row<__half, SOFTMAX_BLOCK, true>(x, y, cols);
}

extern "C" __global__ void __launch_bounds__(SOFTMAX_BLOCK)
softmax_backward_f32(const float* y, const float* dy, float* dx, uint32_t cols) {
    softmax_backward_row<float, SOFTMAX_BLOCK>(y, dy, dx, cols);
}

extern "C" __global__ void __launch_bounds__(SOFTMAX_BLOCK)
softmax_backward_f16(const __half* y, const __half* dy, __half* dx, uint32_t cols) {
    softmax_backward_row<__half, SOFTMAX_BLOCK>(y, dy, dx, cols);
}
