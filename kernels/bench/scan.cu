// Block-level inclusive prefix sum (warp-shuffle scan) plus the pass that adds scanned block totals back in.
#include <stddef.h>
#include <stdint.h>

#define SCAN_BLOCK 512
#define SCAN_WARP 32
#define SCAN_WARPS (SCAN_BLOCK / SCAN_WARP)

namespace {

// Inclusive scan within a warp using up-shuffles (Kogge-Stone).
template <typename T>
__device__ __forceinline__ T warp_inclusive_scan(T v, uint32_t lane) {
#pragma unroll
    for (int offset = 1; offset < SCAN_WARP; offset <<= 1) {
        const T up = __shfl_up_sync(0xffffffffu, v, offset);
        if (lane >= (uint32_t)offset) {
            v += up;
        }
    }
    return v;
}

// Pass 1: each block scans its SCAN_BLOCK-element chunk and writes the chunk total to block_sums.
template <typename T>
__device__ __forceinline__ void block_scan_impl(const T* __restrict__ in, T* __restrict__ out,
                                                T* __restrict__ block_sums, size_t n) {
    __shared__ T warp_totals[SCAN_WARPS];
    const uint32_t lane = threadIdx.x % SCAN_WARP;
    const uint32_t warp = threadIdx.x / SCAN_WARP;
    const size_t i = (size_t)blockIdx.x * SCAN_BLOCK + threadIdx.x;

    T v = i < n ? in[i] : T(0);
    v = warp_inclusive_scan(v, lane);
    if (lane == SCAN_WARP - 1) {
        warp_totals[warp] = v;
    }
    __syncthreads();

    // The first warp scans the per-warp totals (SCAN_WARPS <= 32).
    if (warp == 0) {
        T t = lane < SCAN_WARPS ? warp_totals[lane] : T(0);
        t = warp_inclusive_scan(t, lane);
        if (lane < SCAN_WARPS) {
            warp_totals[lane] = t;
        }
    }
    __syncthreads();

    if (warp > 0) {
        v += warp_totals[warp - 1];
    }
    if (i < n) {
        out[i] = v;
    }
    if (block_sums != nullptr && threadIdx.x == SCAN_BLOCK - 1) {
        block_sums[blockIdx.x] = v;
    }
}

// Pass 3 (after block_sums itself was scanned): add the total of all earlier blocks to each element.
template <typename T>
__device__ __forceinline__ void add_block_sums_impl(T* __restrict__ out, const T* __restrict__ scanned_sums,
                                                    size_t n) {
    if (blockIdx.x == 0) {
        return;
    }
    __shared__ T carry;
    if (threadIdx.x == 0) {
        carry = scanned_sums[blockIdx.x - 1];
    }
    __syncthreads();
    const size_t i = (size_t)blockIdx.x * SCAN_BLOCK + threadIdx.x;
    if (i < n) {
        out[i] += carry;
    }
}

}  // namespace

#define DEFINE_SCAN(SUFFIX, T)                                                                  \
    extern "C" __global__ void __launch_bounds__(SCAN_BLOCK)                                   \
    block_scan_##SUFFIX(const T* in, T* out, T* block_sums, size_t n) {                         \
        block_scan_impl<T>(in, out, block_sums, n);                                            \
    }                                                                                           \
    extern "C" __global__ void __launch_bounds__(SCAN_BLOCK)                                   \
    add_block_sums_##SUFFIX(T* out, const T* scanned_sums, size_t n) {                          \
        add_block_sums_impl<T>(out, scanned_sums, n);                                          \
    }

DEFINE_SCAN(f32, float)
DEFINE_SCAN(f64, double)
DEFINE_SCAN(i32, int32_t)
DEFINE_SCAN(u32, uint32_t)
DEFINE_SCAN(i64, int64_t)

#undef DEFINE_SCAN
