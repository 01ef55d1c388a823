//! candle-kernels 0.11.1's CUDA sources as sasskit builds them: which files, with which flags,
//! for which targets. One list for everything that builds them: the port's build script
//! (`ports/candle/candle-kernels/files.rs`, where the lists live), `tests/candle`'s build
//! script, the corpus test, and `cargo xtask bench-build candle` / `candle-library`, each of
//! which includes this file with `#[path]`.

#[allow(dead_code, reason = "each includer uses some of the port's lists")]
mod port {
    include!("../../ports/candle/candle-kernels/files.rs");
}

/// candle's PTX set: its build.rs compiles every `src/*.cu` but the statically linked
/// `moe_*`, `mmvq_gguf` and `mmq_*` files. File stems, in `src/`.
#[allow(unused_imports, reason = "each includer uses some of the lists")]
pub(crate) use port::MODULE_FILES as PTX_FILES;

/// candle's static-library set (the MoE, MMVQ and MMQ files whose host code launches their
/// kernels), from its build.rs without the `cutile` feature's `moe/moe_align.cu`. Paths in
/// `src/`.
#[allow(unused_imports, reason = "each includer uses some of the lists")]
pub(crate) use port::LIBRARY_FILES as STATIC_FILES;

/// candle's nvcc flags, from its build.rs (the same for both sets).
#[allow(unused_imports, reason = "each includer uses some of the lists")]
pub(crate) use port::FLAGS;

/// Hopper, Blackwell B200/GB200 and GB10: the targets every module and the library must hold
/// SASS for.
pub(crate) const ARCHS: [&str; 3] = ["sm_90", "sm_100", "sm_121"];
