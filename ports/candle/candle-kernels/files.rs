// candle-kernels 0.11.1's CUDA files and flags, as its own build.rs has them; included by this
// crate's build.rs (and by sasskit's candle corpus test, so that both build the same set).

/// The files candle compiles to PTX (every `src/*.cu` but the statically linked
/// `mmvq_gguf.cu`): here, one fat binary each. Stems, in `src/`.
pub(crate) const MODULE_FILES: [&str; 11] = [
    "affine",
    "binary",
    "cast",
    "conv",
    "fill",
    "indexing",
    "quantized",
    "reduce",
    "sort",
    "ternary",
    "unary",
];

/// The static-library set (MoE, MMVQ, MMQ), whose host code launches its kernels: `libmoe.a`,
/// in candle's order. Paths in `src/`.
pub(crate) const LIBRARY_FILES: [&str; 15] = [
    "moe/moe_gguf.cu",
    "moe/moe_wmma.cu",
    "moe/moe_wmma_gguf.cu",
    "mmvq_gguf.cu",
    "mmq_gguf/mmq_quantize.cu",
    "mmq_gguf/mmq_instance_q4_0.cu",
    "mmq_gguf/mmq_instance_q4_1.cu",
    "mmq_gguf/mmq_instance_q5_0.cu",
    "mmq_gguf/mmq_instance_q5_1.cu",
    "mmq_gguf/mmq_instance_q8_0.cu",
    "mmq_gguf/mmq_instance_q2_k.cu",
    "mmq_gguf/mmq_instance_q3_k.cu",
    "mmq_gguf/mmq_instance_q4_k.cu",
    "mmq_gguf/mmq_instance_q5_k.cu",
    "mmq_gguf/mmq_instance_q6_k.cu",
];

/// The file the `cutile` feature adds to the static library.
pub(crate) const CUTILE_FILE: &str = "moe/moe_align.cu";

/// candle's nvcc flags for both sets (candle adds `-Xcompiler -fPIC` for the library, which
/// sasskit's static-library mode passes itself).
pub(crate) const FLAGS: [&str; 3] = ["--expt-relaxed-constexpr", "-std=c++17", "-O3"];
