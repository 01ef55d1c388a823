//! Loading on a machine without a working CUDA driver is an error, not a panic.
//!
//! This is not a GPU test: it asserts only where the driver library is absent, and says that it
//! skipped itself elsewhere. (A stub libcuda is covered by `tests/tests/cudarc_features.rs`.)

use sasskit::{EmbeddedModule, LoadError, LoadPolicy};

static SCALE: EmbeddedModule = EmbeddedModule {
    name: "scale",
    fatbin: include_bytes!("fixtures/scale_sm90.fatbin"),
    build: sasskit::BuildFacts::UNKNOWN,
};

/// Whether the dynamic loader finds any of the names the driver library goes by.
fn some_libcuda_opens() -> bool {
    ["libcuda.so.1", "libcuda.so", "nvcuda.dll"]
        .into_iter()
        .any(|name| {
            // SAFETY: opens and closes the driver library, as sasskit itself does before any call.
            unsafe { libloading::Library::new(name) }.is_ok()
        })
}

#[test]
fn load_without_libcuda_is_no_driver() {
    if some_libcuda_opens() {
        eprintln!("skipped: a CUDA driver library is present on this machine");
        return;
    }
    assert!(!sasskit::driver_present());
    let error = sasskit::load_on_every_device(&SCALE, LoadPolicy::SassOnly).unwrap_err();
    assert!(matches!(error, LoadError::NoDriver), "{error}");
    assert!(error.to_string().contains("libcuda.so.1"), "{error}");
}
