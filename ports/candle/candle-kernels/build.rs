//! Builds candle's CUDA kernels with sasskit: the 11 PTX-set files into fat binaries with SASS
//! for every target (sm_90, sm_100, sm_121 unless `SASSKIT_ARCHS`, `[package.metadata.sasskit]`
//! say otherwise), and the MoE/MMVQ/MMQ set into the static library `libmoe.a` for the same
//! targets; both taken from `prebuilt/` when it is current.

include!("files.rs");

fn main() {
    let missing: Vec<String> = MODULE_FILES
        .iter()
        .map(|stem| format!("src/{stem}.cu"))
        .chain(LIBRARY_FILES.iter().map(|file| format!("src/{file}")))
        .filter(|file| !std::path::Path::new(file).is_file())
        .collect();
    if !missing.is_empty() {
        // Only sasskit's files are kept in its repository; candle's own come from its release.
        eprintln!(
            "error: candle's CUDA sources are missing from {}/src ({}): in the sasskit \
             repository, `cargo xtask candle-port sources` copies them from candle-kernels 0.11.1",
            env!("CARGO_MANIFEST_DIR"),
            missing.join(", ")
        );
        std::process::exit(1);
    }
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
        .debug(false)
        // The library ships too, for this target triple, with the CUDA runtime it links: with
        // both, building candle with the port needs nothing but Rust.
        .prebuilt("prebuilt");
    if std::env::var_os("CARGO_FEATURE_CUTILE").is_some() {
        library.file(format!("src/{CUTILE_FILE}"));
    }
    // The MMVQ and MMQ launchers take their stream as `void* stream`: their checked wrappers
    // in `library::moe` take a `&CudaStream`; `ffi` keeps the C types, as candle-kernels
    // declares them by hand.
    library
        .static_library("moe")
        .stream_parameter("*", "stream")
        .compile();
}
