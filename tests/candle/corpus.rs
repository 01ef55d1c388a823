//! candle-kernels 0.11.1's CUDA sources as sasskit builds them: which files, with which flags,
//! for which targets. One list for everything that builds them: `tests/candle`'s build script,
//! the corpus test, and `cargo xtask bench-build candle` / `candle-library`, each of which
//! includes this file with `#[path]`.

/// candle's PTX set: its build.rs compiles every `src/*.cu` to PTX but the statically linked
/// `moe_*`, `mmvq_gguf` and `mmq_*` files. File stems, in `src/`.
pub(crate) const PTX_FILES: [&str; 11] = [
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

/// candle's static-library set (the MoE, MMVQ and MMQ files whose host code launches their
/// kernels), from its build.rs without the `cutile` feature's `moe/moe_align.cu`. Paths in
/// `src/`.
pub(crate) const STATIC_FILES: [&str; 15] = [
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

/// candle's nvcc flags, from its build.rs (the same for both sets).
pub(crate) const FLAGS: [&str; 3] = ["--expt-relaxed-constexpr", "-std=c++17", "-O3"];

/// Hopper, Blackwell B200/GB200 and GB10: the targets every module and the library must hold
/// SASS for.
pub(crate) const ARCHS: [&str; 3] = ["sm_90", "sm_100", "sm_121"];
