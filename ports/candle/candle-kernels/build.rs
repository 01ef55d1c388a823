//! Builds candle's CUDA kernels with sasskit: the 11 PTX-set files into fat binaries with SASS
//! for every target (sm_90, sm_100, sm_121 unless `SASSKIT_ARCHS`, `[package.metadata.sasskit]`
//! say otherwise), taken from `prebuilt/` when it is current, and the MoE/MMVQ/MMQ set into the
//! static library `libmoe.a` for the same targets.

include!("files.rs");

fn main() {
    let mut modules = sasskit_build::Build::new();
    modules
        .files(MODULE_FILES.map(|stem| format!("src/{stem}.cu")))
        .flags(FLAGS)
        // candle's flags in every profile, as its own build has them: no `-lineinfo` in dev.
        .debug(false)
        // Fat binaries for the default targets ship in the crate: building candle with it needs
        // no CUDA toolkit for them (`SASSKIT_PREBUILD=refresh` rewrites the folder).
        .prebuilt("prebuilt");
    modules.compile();

    let mut library = sasskit_build::Build::new();
    library
        .files(LIBRARY_FILES.map(|file| format!("src/{file}")))
        .flags(FLAGS)
        .debug(false);
    if std::env::var_os("CARGO_FEATURE_CUTILE").is_some() {
        library.file(format!("src/{CUTILE_FILE}"));
    }
    // The launchers keep candle's C types (`void* stream`, `int64_t stream`): `ffi` is declared
    // exactly as candle-kernels declares it by hand.
    library.static_library("moe").compile();
}
