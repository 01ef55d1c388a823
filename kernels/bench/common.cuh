// Shared helpers for the bench kernels: warp/block reductions, grid-stride loops, type conversions.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <cuda_fp16.h>
#include <cuda_bf16.h>

#define WARP_SIZE 32
#define FULL_MASK 0xffffffffu

// Grid-stride loop over [0, n) with a 64-bit index.
#define GRID_STRIDE_LOOP(i, n)                                                        \
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (size_t)(n);   \
         i += (size_t)gridDim.x * blockDim.x)

#define CEIL_DIV(a, b) (((a) + (b) - 1) / (b))

namespace bench {

struct SumOp {
    template <typename T>
    __device__ __forceinline__ T operator()(T a, T b) const { return a + b; }
};

struct MaxOp {
    template <typename T>
    __device__ __forceinline__ T operator()(T a, T b) const { return a > b ? a : b; }
};

// Butterfly reduction: every lane of the warp ends with the result.
template <typename T, typename Op>
__device__ __forceinline__ T warp_reduce(T v, Op op) {
#pragma unroll
    for (int offset = WARP_SIZE / 2; offset > 0; offset >>= 1) {
        v = op(v, __shfl_xor_sync(FULL_MASK, v, offset));
    }
    return v;
}

template <typename T>
__device__ __forceinline__ T warp_sum(T v) { return warp_reduce(v, SumOp()); }

template <typename T>
__device__ __forceinline__ T warp_max(T v) { return warp_reduce(v, MaxOp()); }

// Block-wide reduction through one shared slot per warp. `scratch` must hold
// at least blockDim.x / 32 elements. Every thread gets the result.
template <typename T, typename Op>
__device__ __forceinline__ T block_reduce(T v, Op op, T identity, T* scratch) {
    const int lane = threadIdx.x & (WARP_SIZE - 1);
    const int warp = threadIdx.x / WARP_SIZE;
    const int num_warps = CEIL_DIV((int)blockDim.x, WARP_SIZE);
    v = warp_reduce(v, op);
    if (lane == 0) {
        scratch[warp] = v;
    }
    __syncthreads();
    v = lane < num_warps ? scratch[lane] : identity;
    v = warp_reduce(v, op);
    __syncthreads();  // scratch may be reused by the caller right after
    return v;
}

// Loads and stores through float for the storage types used by the bench kernels.
template <typename T> __device__ __forceinline__ float to_float(T v);
template <> __device__ __forceinline__ float to_float<float>(float v) { return v; }
template <> __device__ __forceinline__ float to_float<__half>(__half v) { return __half2float(v); }
template <> __device__ __forceinline__ float to_float<__nv_bfloat16>(__nv_bfloat16 v) { return __bfloat162float(v); }

template <typename T> __device__ __forceinline__ T from_float(float v);
template <> __device__ __forceinline__ float from_float<float>(float v) { return v; }
template <> __device__ __forceinline__ __half from_float<__half>(float v) { return __float2half_rn(v); }
template <> __device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

}  // namespace bench
