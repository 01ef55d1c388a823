// Types shared by the host and the kernels of echo.cu. sasskit-build generates their Rust twins
// with bindgen (`Build::shared_header`), and the example includes them with
// `sasskit::shared_types!(params)`.
#pragma once

#include <stdint.h>

/// How a matrix is stored.
enum Layout { LAYOUT_ROW_MAJOR = 0, LAYOUT_COL_MAJOR = 1 };

/// Fields of every width, ordered so that the compiler pads after `tag`, `delta`, `enabled`
/// and `layout`: 64 bytes, 8-byte aligned, on the host and on the device.
typedef struct {
    uint8_t tag;        // offset 0, then 7 bytes of padding
    double scale;       // offset 8
    int16_t delta;      // offset 16, then 2 bytes of padding
    float bias;         // offset 20
    uint32_t dims[3];   // offset 24
    bool enabled;       // offset 36, then 3 bytes of padding
    enum Layout layout; ///< offset 40, then 4 bytes of padding
    int64_t offset;     // offset 48
    uint64_t count;     // offset 56
} Mixed;

/// How many values `echo_fields` writes: one per scalar of `Mixed`, then the extra layout.
#define ECHO_FIELDS 12
