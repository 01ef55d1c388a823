// The example unary kernels, built with no SASS for the H100 (sm_100 + compute_90 PTX) for the start-up benchmark.
#include "../../kernels/unary.cu"
