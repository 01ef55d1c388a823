//! The cost of sasskit's checked load next to a raw `cuModuleLoadData` of the same embedded
//! bytes, measured side by side in one process on a GPU machine.
//!
//! Run by `run.sh` of `cargo xtask gpu-bundle`; prints medians and their ratio. Without a GPU it
//! says it was skipped.

#[cfg(sasskit_gpu_modules)]
sasskit::kernels!(saxpy_sm90);

#[cfg(not(sasskit_gpu_modules))]
fn main() {
    println!("load_cost skipped: the GPU test modules were not built (nvcc missing at build time)");
}

#[cfg(sasskit_gpu_modules)]
fn main() {
    use std::time::{Duration, Instant};

    use sasskit::LoadPolicy;
    use sasskit::cudarc::driver::{CudaContext, result};

    const ROUNDS: usize = 500;

    fn median(mut samples: Vec<Duration>) -> Duration {
        samples.sort_unstable();
        samples[samples.len() / 2]
    }

    if !sasskit::driver_present() {
        println!("load_cost skipped: no CUDA driver on this machine");
        return;
    }
    let ctx = CudaContext::new(0).expect("CUDA device 0");
    let module = &saxpy_sm90::EMBEDDED;
    let raw_load = || {
        ctx.bind_to_thread().expect("bind context");
        // SAFETY: the embedded fat binary is 8-byte aligned (`__private::Aligned`) and outlives
        // the call; the module is unloaded right away.
        unsafe {
            let handle =
                result::module::load_data(module.fatbin.as_ptr().cast()).expect("cuModuleLoadData");
            result::module::unload(handle).expect("cuModuleUnload");
        }
    };
    let checked_load =
        || drop(sasskit::load(&ctx, module, LoadPolicy::SassOnly).expect("sasskit::load"));
    let device = sasskit::DeviceInfo {
        index: 0,
        name: ctx.name().unwrap_or_default(),
        compute_capability: {
            let (major, minor) = ctx.compute_capability().expect("compute capability");
            sasskit::ComputeCapability::new(major.unsigned_abs(), minor.unsigned_abs())
        },
    };
    let check_only = || drop(sasskit::check(module, &device, LoadPolicy::SassOnly).expect("check"));
    for _ in 0..20 {
        raw_load();
        checked_load();
    }
    let (mut raw, mut checked, mut check) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let start = Instant::now();
        raw_load();
        raw.push(start.elapsed());
        let start = Instant::now();
        checked_load();
        checked.push(start.elapsed());
        let start = Instant::now();
        check_only();
        check.push(start.elapsed());
    }
    let (raw, checked, check) = (median(raw), median(checked), median(check));
    println!(
        "load cost, {ROUNDS} rounds interleaved, module saxpy_sm90 ({} bytes), {}:",
        module.fatbin.len(),
        device
    );
    println!("  raw cuModuleLoadData + unload       median {raw:>10.1?}");
    println!("  sasskit::load (check + load)        median {checked:>10.1?}");
    println!("  sasskit::check alone (parse+select) median {check:>10.1?}");
    println!(
        "  ratio checked / raw: {:.3}",
        checked.as_secs_f64() / raw.as_secs_f64()
    );
}
