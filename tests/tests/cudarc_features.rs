//! sasskit composes with other crates' cudarc lines: a crate with exactly candle's cudarc
//! features (`dynamic-linking` among them) builds and passes its own tests, linked against and
//! run on stub CUDA libraries; a crate with cudarc's default features builds. See
//! `tests/src/cudarc_features.rs` for the crates and `tests/README.md` for the stubs.

use std::process::Output;
use std::sync::OnceLock;

use sasskit_tests::cudarc_features::{self, CANDLE, DEFAULTS, EXPECT_STUBS_ENV, Written};
use sasskit_tests::process::{describe, output};
use sasskit_tests::stub_libs::Stubs;
use sasskit_tests::toolchain::{Tool, require_or_skip};

/// The stub libraries, built once for both tests.
fn stubs() -> Stubs {
    static STUBS: OnceLock<Result<Stubs, String>> = OnceLock::new();
    STUBS
        .get_or_init(cudarc_features::stubs)
        .clone()
        .unwrap_or_else(|error| panic!("building the stub libraries: {error}"))
}

/// The crate `spec` with nvcc, or `None` (said) when the test must skip.
fn written(test: &str, spec: &cudarc_features::FeatureCrate) -> Option<Written> {
    let nvcc = require_or_skip(test, Tool::Nvcc)?;
    if !cfg!(target_os = "linux") {
        eprintln!("skipped: {test} links ELF stub libraries, which needs Linux");
        return None;
    }
    Some(Written::new(spec, &nvcc, stubs()).unwrap_or_else(|error| panic!("{error}")))
}

fn succeeded(what: &str, result: &Output) -> String {
    let stdout = String::from_utf8_lossy(&result.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        result.status.success(),
        "{what} failed with {}:\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        result.status
    );
    stdout
}

#[test]
fn a_crate_with_candles_cudarc_features_builds_and_passes_its_tests() {
    let Some(krate) = written(
        "a_crate_with_candles_cudarc_features_builds_and_passes_its_tests",
        &CANDLE,
    ) else {
        return;
    };
    let mut test = krate.cargo(&["test"]);
    test.env(EXPECT_STUBS_ENV, "1");
    let stdout = succeeded(&describe(&test), &output(&mut test));
    for name in [
        "tests::the_embedded_module_is_checked_without_a_driver",
        "tests::sasskits_float8_and_half_are_cudarcs_device_reprs",
        "tests::without_a_working_driver_everything_is_an_error_not_a_panic",
    ] {
        assert!(
            stdout.contains(&format!("test {name} ... ok")),
            "{name} did not pass:\n{stdout}"
        );
    }

    // The program itself, on the stubs: the exit status it gives for "no driver", no panic.
    let mut run = krate.cargo(&["run", "--quiet"]);
    let result = output(&mut run);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(
        result.status.code(),
        Some(2),
        "{}:\n{stderr}",
        describe(&run)
    );
    assert!(
        stderr.contains("no CUDA driver: libcuda.so.1 was found, but it is a stub"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_crate_with_cudarcs_default_features_builds() {
    let Some(krate) = written("a_crate_with_cudarcs_default_features_builds", &DEFAULTS) else {
        return;
    };
    // It opens libcuda at run time (cudarc's `dynamic-loading`) and finds the stub first.
    let mut run = krate.cargo(&["run", "--quiet"]);
    let stdout = succeeded(&describe(&run), &output(&mut run));
    assert!(
        stdout.starts_with("no CUDA driver: libcuda.so.1 was found, but it is a stub"),
        "{stdout}"
    );
}
