// Kernels that take the shared types of params.h by value and through pointers, and write
// every field back, so that the host can check that each one crossed intact.
#include <string.h>

#include "params.h"

__device__ uint64_t bits_of_double(double value) {
    uint64_t bits;
    memcpy(&bits, &value, sizeof bits);
    return bits;
}

__device__ uint64_t bits_of_float(float value) {
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    return bits;
}

// Writes each field of `m`, widened to 64 bits (floats as their bit patterns, signed values
// sign-extended), then `extra`, into `fields[0..ECHO_FIELDS]`, and copies `m` to `*copy`.
extern "C" __global__ void echo_fields(Mixed m, enum Layout extra, uint64_t* fields, Mixed* copy) {
    if (blockIdx.x != 0 || threadIdx.x != 0) {
        return;
    }
    fields[0] = m.tag;
    fields[1] = bits_of_double(m.scale);
    fields[2] = (uint64_t)(int64_t)m.delta;
    fields[3] = bits_of_float(m.bias);
    fields[4] = m.dims[0];
    fields[5] = m.dims[1];
    fields[6] = m.dims[2];
    fields[7] = m.enabled ? 1 : 0;
    fields[8] = (uint64_t)m.layout;
    fields[9] = (uint64_t)m.offset;
    fields[10] = m.count;
    fields[11] = (uint64_t)extra;
    *copy = m;
}

// One thread per element: `out[i]` is `in[i]` with `count` incremented and `scale` doubled, a
// device buffer of structs read and written.
extern "C" __global__ void bump_all(const Mixed* in, Mixed* out, unsigned int n) {
    unsigned int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        Mixed m = in[i];
        m.count += 1;
        m.scale *= 2.0;
        out[i] = m;
    }
}
