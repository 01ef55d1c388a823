// The example saxpy kernel, built with fat binary compression (--compress-mode=size).
#include "../../kernels/saxpy.cu"
