// Depthwise 1-D convolution along the last axis with a shared-memory halo tile, templated on filter radius.
#include "common.cuh"

#define CONV_BLOCK 256

namespace {

// x: [channels, len], w: [channels, 2*RADIUS+1], y: [channels, len]. grid = (ceil(len/CONV_BLOCK), channels).
// Zero padding at both ends; "same" output length.
template <int RADIUS, typename T>
__device__ __forceinline__ void conv1d_depthwise(const T* __restrict__ x, const T* __restrict__ w,
                                                 const T* __restrict__ bias, T* __restrict__ y,
                                                 uint32_t len, int32_t dilation) {
    constexpr int TAPS = 2 * RADIUS + 1;
    extern __shared__ float smem[];  // CONV_BLOCK + 2 * RADIUS * dilation floats
    __shared__ float taps[TAPS];

    const uint32_t channel = blockIdx.y;
    const T* row = x + (size_t)channel * len;
    const int halo = RADIUS * dilation;
    const int tile_start = (int)(blockIdx.x * CONV_BLOCK) - halo;
    const int tile_len = CONV_BLOCK + 2 * halo;

    if (threadIdx.x < TAPS) {
        taps[threadIdx.x] = bench::to_float(w[(size_t)channel * TAPS + threadIdx.x]);
    }
    for (int t = threadIdx.x; t < tile_len; t += CONV_BLOCK) {
        const int src = tile_start + t;
        smem[t] = (src >= 0 && src < (int)len) ? bench::to_float(row[src]) : 0.0f;
    }
    __syncthreads();

    const uint32_t out_idx = blockIdx.x * CONV_BLOCK + threadIdx.x;
    if (out_idx >= len) {
        return;
    }
    float acc = bias ? bench::to_float(bias[channel]) : 0.0f;
#pragma unroll
    for (int k = 0; k < TAPS; ++k) {
        acc = fmaf(taps[k], smem[threadIdx.x + k * dilation], acc);
    }
    y[(size_t)channel * len + out_idx] = bench::from_float<T>(acc);
}

// Gradient w.r.t. the filter: each block reduces over a slice of positions for one channel and
// accumulates into dw with atomics.
template <int RADIUS>
__device__ __forceinline__ void conv1d_depthwise_wgrad(const float* __restrict__ x, const float* __restrict__ dy,
                                                       float* __restrict__ dw, uint32_t len, int32_t dilation) {
    constexpr int TAPS = 2 * RADIUS + 1;
    __shared__ float scratch[CONV_BLOCK / WARP_SIZE];
    const uint32_t channel = blockIdx.y;
    const float* xr = x + (size_t)channel * len;
    const float* gr = dy + (size_t)channel * len;
    const uint32_t pos = blockIdx.x * CONV_BLOCK + threadIdx.x;

#pragma unroll
    for (int k = 0; k < TAPS; ++k) {
        float partial = 0.0f;
        if (pos < len) {
            const int src = (int)pos + (k - RADIUS) * dilation;
            if (src >= 0 && src < (int)len) {
                partial = gr[pos] * xr[src];
            }
        }
        const float total = bench::block_reduce(partial, bench::SumOp(), 0.0f, scratch);
        if (threadIdx.x == 0) {
            atomicAdd(&dw[(size_t)channel * TAPS + k], total);
        }
    }
}

}  // namespace

#define DEFINE_CONV1D(R)                                                                          \
    extern "C" __global__ void __launch_bounds__(CONV_BLOCK)                                     \
    conv1d_depthwise_r##R##_f32(const float* x, const float* w, const float* bias, float* y,      \
                                uint32_t len, int32_t dilation) {                                 \
        conv1d_depthwise<R, float>(x, w, bias, y, len, dilation);                                 \
    }                                                                                             \
    extern "C" __global__ void __launch_bounds__(CONV_BLOCK)                                     \
    conv1d_depthwise_r##R##_f16(const __half* x, const __half* w, const __half* bias, __half* y,  \
                                uint32_t len, int32_t dilation) {                                 \
        conv1d_depthwise<R, __half>(x, w, bias, y, len, dilation);                                \
    }                                                                                             \
    extern "C" __global__ void __launch_bounds__(CONV_BLOCK)                                     \
    conv1d_depthwise_wgrad_r##R##_f32(const float* x, const float* dy, float* dw, uint32_t len,   \
                                      int32_t dilation) {                                         \
        conv1d_depthwise_wgrad<R>(x, dy, dw, len, dilation);                                      \
    }

DEFINE_CONV1D(1)
DEFINE_CONV1D(3)
DEFINE_CONV1D(7)

#undef DEFINE_CONV1D
