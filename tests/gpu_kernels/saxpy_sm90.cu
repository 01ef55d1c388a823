// The example saxpy kernel, built with the target mix that tests/build.rs gives this file.
#include "../../kernels/saxpy.cu"
