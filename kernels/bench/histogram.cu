// Histograms with per-block privatized bins in shared memory, merged into global bins with atomics.
#include "common.cuh"

#define HIST_BLOCK 256
#define HIST_MAX_BINS 1024  // shared-memory privatization limit; larger bin counts use the global path

namespace {

// Byte histogram: 256 bins, one private copy per warp to reduce shared-atomic contention.
__device__ __forceinline__ void histogram_u8_impl(const uint8_t* __restrict__ data, uint32_t* __restrict__ bins,
                                                  size_t n) {
    constexpr int WARPS = HIST_BLOCK / WARP_SIZE;
    __shared__ uint32_t local[WARPS][256];
    const int warp = threadIdx.x / WARP_SIZE;
    for (int i = threadIdx.x; i < WARPS * 256; i += HIST_BLOCK) {
        (&local[0][0])[i] = 0u;
    }
    __syncthreads();

    GRID_STRIDE_LOOP(i, n) {
        atomicAdd(&local[warp][data[i]], 1u);
    }
    __syncthreads();

    for (int b = threadIdx.x; b < 256; b += HIST_BLOCK) {
        uint32_t total = 0;
#pragma unroll
        for (int w = 0; w < WARPS; ++w) {
            total += local[w][b];
        }
        if (total != 0) {
            atomicAdd(&bins[b], total);
        }
    }
}

// Fixed-width bins over [lo, hi); values outside the range are dropped. Optional per-sample weights.
template <typename T, bool WEIGHTED>
__device__ __forceinline__ void histogram_range_impl(const T* __restrict__ data, const float* __restrict__ weights,
                                                     float* __restrict__ bins, size_t n, uint32_t num_bins,
                                                     float lo, float hi) {
    __shared__ float local[HIST_MAX_BINS];
    const bool privatized = num_bins <= HIST_MAX_BINS;
    if (privatized) {
        for (uint32_t b = threadIdx.x; b < num_bins; b += HIST_BLOCK) {
            local[b] = 0.0f;
        }
    }
    __syncthreads();

    const float scale = (float)num_bins / (hi - lo);
    GRID_STRIDE_LOOP(i, n) {
        const float v = bench::to_float(data[i]);
        if (v >= lo && v < hi) {
            uint32_t b = (uint32_t)((v - lo) * scale);
            b = min(b, num_bins - 1);  // guard rounding at the top edge
            const float w = WEIGHTED ? weights[i] : 1.0f;
            if (privatized) {
                atomicAdd(&local[b], w);
            } else {
                atomicAdd(&bins[b], w);
            }
        }
    }
    __syncthreads();

    if (privatized) {
        for (uint32_t b = threadIdx.x; b < num_bins; b += HIST_BLOCK) {
            const float c = local[b];
            if (c != 0.0f) {
                atomicAdd(&bins[b], c);
            }
        }
    }
}

// Integer-key counting (e.g. token ids / class labels); keys outside [0, num_bins) are counted in *overflow.
__device__ __forceinline__ void bincount_impl(const int32_t* __restrict__ keys, unsigned long long* __restrict__ counts,
                                              unsigned long long* __restrict__ overflow, size_t n, uint32_t num_bins) {
    __shared__ unsigned int local[HIST_MAX_BINS];
    __shared__ unsigned int local_overflow;
    const bool privatized = num_bins <= HIST_MAX_BINS;
    if (privatized) {
        for (uint32_t b = threadIdx.x; b < num_bins; b += HIST_BLOCK) {
            local[b] = 0u;
        }
    }
    if (threadIdx.x == 0) {
        local_overflow = 0u;
    }
    __syncthreads();

    GRID_STRIDE_LOOP(i, n) {
        const int32_t k = keys[i];
        if (k < 0 || (uint32_t)k >= num_bins) {
            atomicAdd(&local_overflow, 1u);
        } else if (privatized) {
            atomicAdd(&local[k], 1u);
        } else {
            atomicAdd(&counts[k], 1ull);
        }
    }
    __syncthreads();

    if (privatized) {
        for (uint32_t b = threadIdx.x; b < num_bins; b += HIST_BLOCK) {
            if (local[b] != 0u) {
                atomicAdd(&counts[b], (unsigned long long)local[b]);
            }
        }
    }
    if (threadIdx.x == 0 && local_overflow != 0u) {
        atomicAdd(overflow, (unsigned long long)local_overflow);
    }
}

}  // namespace

extern "C" __global__ void __launch_bounds__(HIST_BLOCK)
histogram_u8(const uint8_t* data, uint32_t* bins, size_t n) {
    histogram_u8_impl(data, bins, n);
}

extern "C" __global__ void __launch_bounds__(HIST_BLOCK)
histogram_f32(const float* data, float* bins, size_t n, uint32_t num_bins, float lo, float hi) {
    histogram_range_impl<float, false>(data, nullptr, bins, n, num_bins, lo, hi);
}

extern "C" __global__ void __launch_bounds__(HIST_BLOCK)
histogram_f16(const __half* data, float* bins, size_t n, uint32_t num_bins, float lo, float hi) {
    histogram_range_impl<__half, false>(data, nullptr, bins, n, num_bins, lo, hi);
}

extern "C" __global__ void __launch_bounds__(HIST_BLOCK)
histogram_weighted_f32(const float* data, const float* weights, float* bins, size_t n, uint32_t num_bins,
                       float lo, float hi) {
    histogram_range_impl<float, true>(data, weights, bins, n, num_bins, lo, hi);
}

extern "C" __global__ void __launch_bounds__(HIST_BLOCK)
bincount_i32(const int32_t* keys, unsigned long long* counts, unsigned long long* overflow, size_t n,
             uint32_t num_bins) {
    bincount_impl(keys, counts, overflow, n, num_bins);
}
