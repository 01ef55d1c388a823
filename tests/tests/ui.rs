//! Compile errors of the generated wrappers and of `kernels!` itself (trybuild), and code a
//! downstream crate writes against them (`ui/pass`).
//!
//! The UI crates have no build script, so they are pointed at this crate's `OUT_DIR`, where
//! `tests/build.rs` put the GPU test modules. Regenerate the `.stderr` files with
//! `TRYBUILD=overwrite cargo test -p sasskit-tests --test ui` and review the diff.

#[cfg(sasskit_gpu_modules)]
#[test]
fn wrapper_and_macro_errors() {
    // SAFETY: set before trybuild starts cargo, while this test is the only thread touching the
    // environment.
    unsafe { std::env::set_var("OUT_DIR", env!("OUT_DIR")) };
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui/*.rs");
    cases.pass("ui/pass/*.rs");
}

#[cfg(not(sasskit_gpu_modules))]
#[test]
fn wrapper_and_macro_errors() {
    let _ = sasskit_tests::toolchain::require_or_skip(
        "wrapper_and_macro_errors (its modules are built by nvcc)",
        sasskit_tests::toolchain::Tool::Nvcc,
    );
}
