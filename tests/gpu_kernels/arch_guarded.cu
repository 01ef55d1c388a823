// One kernel for every target, one that the source defines only for Blackwell and later: the
// sm_90 image lacks it, and its wrapper must say so on a Hopper GPU instead of the driver's
// "named symbol not found".
extern "C" __global__ void fill_everywhere(float* out, float value, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = value;
}

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 1000
extern "C" __global__ void fill_blackwell_only(float* out, float value, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = value;
}
#endif
