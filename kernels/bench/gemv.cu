// Matrix-vector products y = alpha*A*x + beta*y (warp per row) and y = A^T*x (atomics), f32/f16/bf16 storage, f32 accumulate.
#include "common.cuh"

#define GEMV_WARPS 8  // rows per block
#define GEMV_X_CHUNK 1024  // elements of x staged in shared memory per iteration

namespace {

// A: [rows, cols] row-major with leading dimension lda. One warp per row; x is staged through shared
// memory in chunks so the block's warps share the loads.
template <typename T>
__device__ __forceinline__ void gemv_warp_per_row(const T* __restrict__ A, const T* __restrict__ x,
                                                  T* __restrict__ y, uint32_t rows, uint32_t cols,
                                                  uint32_t lda, float alpha, float beta) {
    __shared__ float xs[GEMV_X_CHUNK];
    const uint32_t lane = threadIdx.x & (WARP_SIZE - 1);
    const uint32_t row = blockIdx.x * GEMV_WARPS + threadIdx.x / WARP_SIZE;
    const bool active = row < rows;
    const T* a_row = A + (size_t)row * lda;

    float acc = 0.0f;
    for (uint32_t base = 0; base < cols; base += GEMV_X_CHUNK) {
        const uint32_t chunk = min((uint32_t)GEMV_X_CHUNK, cols - base);
        __syncthreads();  // previous chunk fully consumed
        for (uint32_t c = threadIdx.x; c < chunk; c += GEMV_WARPS * WARP_SIZE) {
            xs[c] = bench::to_float(x[base + c]);
        }
        __syncthreads();
        if (active) {
#pragma unroll 4
            for (uint32_t c = lane; c < chunk; c += WARP_SIZE) {
                acc = fmaf(bench::to_float(a_row[base + c]), xs[c], acc);
            }
        }
    }
    acc = bench::warp_sum(acc);
    if (active && lane == 0) {
        float out = alpha * acc;
        if (beta != 0.0f) {
            out = fmaf(beta, bench::to_float(y[row]), out);
        }
        y[row] = bench::from_float<T>(out);
    }
}

// y[cols] += A^T x: thread per column over a slab of rows, partial sums merged with atomicAdd on f32 output.
// grid = (ceil(cols / blockDim.x), row_slabs).
template <typename T>
__device__ __forceinline__ void gemv_t_atomic(const T* __restrict__ A, const T* __restrict__ x,
                                              float* __restrict__ y, uint32_t rows, uint32_t cols,
                                              uint32_t lda, uint32_t rows_per_slab) {
    const uint32_t col = blockIdx.x * blockDim.x + threadIdx.x;
    const uint32_t r0 = blockIdx.y * rows_per_slab;
    const uint32_t r1 = min(rows, r0 + rows_per_slab);
    if (col >= cols) {
        return;
    }
    float acc = 0.0f;
    for (uint32_t r = r0; r < r1; ++r) {
        acc = fmaf(bench::to_float(A[(size_t)r * lda + col]), bench::to_float(x[r]), acc);
    }
    atomicAdd(&y[col], acc);
}

}  // namespace

extern "C" __global__ void __launch_bounds__(GEMV_WARPS * WARP_SIZE)
gemv_f32(const float* A, const float* x, float* y, uint32_t rows, uint32_t cols, uint32_t lda, float alpha,
         float beta) {
    gemv_warp_per_row<float>(A, x, y, rows, cols, lda, alpha, beta);
}

extern "C" __global__ void __launch_bounds__(GEMV_WARPS * WARP_SIZE)
gemv_f16(const __half* A, const __half* x, __half* y, uint32_t rows, uint32_t cols, uint32_t lda, float alpha,
         float beta) {
    gemv_warp_per_row<__half>(A, x, y, rows, cols, lda, alpha, beta);
}

extern "C" __global__ void __launch_bounds__(GEMV_WARPS * WARP_SIZE)
gemv_bf16(const __nv_bfloat16* A, const __nv_bfloat16* x, __nv_bfloat16* y, uint32_t rows, uint32_t cols,
          uint32_t lda, float alpha, float beta) {
    gemv_warp_per_row<__nv_bfloat16>(A, x, y, rows, cols, lda, alpha, beta);
}

extern "C" __global__ void gemv_t_f32(const float* A, const float* x, float* y, uint32_t rows, uint32_t cols,
                                      uint32_t lda, uint32_t rows_per_slab) {
    gemv_t_atomic<float>(A, x, y, rows, cols, lda, rows_per_slab);
}

extern "C" __global__ void gemv_t_f16(const __half* A, const __half* x, float* y, uint32_t rows, uint32_t cols,
                                      uint32_t lda, uint32_t rows_per_slab) {
    gemv_t_atomic<__half>(A, x, y, rows, cols, lda, rows_per_slab);
}

extern "C" __global__ void gemv_t_bf16(const __nv_bfloat16* A, const __nv_bfloat16* x, float* y, uint32_t rows,
                                       uint32_t cols, uint32_t lda, uint32_t rows_per_slab) {
    gemv_t_atomic<__nv_bfloat16>(A, x, y, rows, cols, lda, rows_per_slab);
}
