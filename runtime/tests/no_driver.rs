//! Loading on a machine without the CUDA driver is an error, not a panic.
//!
//! This is not a GPU test: it asserts only where the driver library is absent, and says that it
//! skipped itself elsewhere.

use sasskit::{EmbeddedModule, LoadError, LoadPolicy};

static SCALE: EmbeddedModule = EmbeddedModule {
    name: "scale",
    fatbin: include_bytes!("fixtures/scale_sm90.fatbin"),
    build: sasskit::BuildFacts::UNKNOWN,
};

#[test]
fn load_without_libcuda_is_no_driver() {
    // SAFETY: opens and closes the driver library, as sasskit itself does before any call.
    let present = unsafe { sasskit::cudarc::driver::sys::is_culib_present() };
    assert_eq!(sasskit::driver_present(), present);
    if present {
        eprintln!("skipped: the CUDA driver library is present on this machine");
        return;
    }
    let error = sasskit::load_on_every_device(&SCALE, LoadPolicy::SassOnly).unwrap_err();
    assert!(matches!(error, LoadError::NoDriver), "{error}");
    assert!(error.to_string().contains("libcuda.so.1"), "{error}");
}
