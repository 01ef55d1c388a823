// C = A * B for row-major m x k and k x n matrices, with TILE x TILE shared-memory tiles.
#include "tile.cuh"

extern "C" __global__ void matmul_tiled(const float* a, const float* b, float* c, unsigned int m, unsigned int n, unsigned int k) {
    __shared__ float tile_a[TILE][TILE];
    __shared__ float tile_b[TILE][TILE];
    unsigned int row = blockIdx.y * TILE + threadIdx.y;
    unsigned int col = blockIdx.x * TILE + threadIdx.x;
    float acc = 0.0f;
    for (unsigned int t = 0; t < (k + TILE - 1) / TILE; ++t) {
        unsigned int a_col = t * TILE + threadIdx.x;
        unsigned int b_row = t * TILE + threadIdx.y;
        tile_a[threadIdx.y][threadIdx.x] = (row < m && a_col < k) ? a[row * k + a_col] : 0.0f;
        tile_b[threadIdx.y][threadIdx.x] = (b_row < k && col < n) ? b[b_row * n + col] : 0.0f;
        __syncthreads();
        for (unsigned int i = 0; i < TILE; ++i) {
            acc += tile_a[threadIdx.y][i] * tile_b[i][threadIdx.x];
        }
        __syncthreads();
    }
    if (row < m && col < n) {
        c[row * n + col] = acc;
    }
}
