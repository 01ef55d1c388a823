//! The cost of sasskit's checked load next to a raw `cuModuleLoadData` of the same embedded
//! bytes, measured side by side in one process on a GPU machine, for a small module (one
//! kernel, one image) and a large one (52 kernels, three images).
//!
//! Run by `run.sh` of `cargo xtask gpu-bundle`; prints medians and their ratio. Without a GPU it
//! measures only the check (parse, select) for a 9.0 device.

#[cfg(sasskit_gpu_modules)]
sasskit::kernels!(saxpy_sm90);
#[cfg(sasskit_gpu_modules)]
sasskit::kernels!(unary);

#[cfg(not(sasskit_gpu_modules))]
fn main() {
    println!("load_cost skipped: the GPU test modules were not built (nvcc missing at build time)");
}

#[cfg(sasskit_gpu_modules)]
fn main() {
    use sasskit::cudarc::driver::CudaContext;
    use sasskit::{ComputeCapability, DeviceInfo, EmbeddedModule, LoadPolicy};

    let modules: [&EmbeddedModule; 2] = [&saxpy_sm90::EMBEDDED, &unary::EMBEDDED];
    if !sasskit::driver_present() {
        let device = DeviceInfo {
            index: 0,
            name: "no device".into(),
            compute_capability: ComputeCapability::new(9, 0),
        };
        println!("no CUDA driver: measuring sasskit::check alone for a cc 9.0 device");
        for module in modules {
            let first = timed(|| drop(sasskit::check(module, &device, LoadPolicy::SassOnly)));
            let median = median_of(|| drop(sasskit::check(module, &device, LoadPolicy::SassOnly)));
            println!(
                "  {:<10} {:>7} bytes: first check {first:>9.1?}, then median {median:>9.1?}",
                module.name,
                module.fatbin.len()
            );
        }
        return;
    }
    let ctx = CudaContext::new(0).expect("CUDA device 0");
    for module in modules {
        measure(&ctx, module);
    }
}

#[cfg(sasskit_gpu_modules)]
const ROUNDS: usize = 300;

#[cfg(sasskit_gpu_modules)]
fn timed(f: impl FnOnce()) -> std::time::Duration {
    let start = std::time::Instant::now();
    f();
    start.elapsed()
}

#[cfg(sasskit_gpu_modules)]
fn median_of(mut f: impl FnMut()) -> std::time::Duration {
    median((0..ROUNDS).map(|_| timed(&mut f)).collect())
}

#[cfg(sasskit_gpu_modules)]
fn median(mut samples: Vec<std::time::Duration>) -> std::time::Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

#[cfg(sasskit_gpu_modules)]
fn measure(
    ctx: &std::sync::Arc<sasskit::cudarc::driver::CudaContext>,
    module: &sasskit::EmbeddedModule,
) {
    use sasskit::LoadPolicy;
    use sasskit::cudarc::driver::result;

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
    // The same raw load of a fresh copy of the bytes, as any loader that goes through cudarc's
    // `load_module(Ptx::from_binary(Vec<u8>))` must make: separates the cost of the copy from
    // the cost of sasskit's own work.
    let raw_load_of_copy = || {
        let copy = module.fatbin.to_vec();
        ctx.bind_to_thread().expect("bind context");
        // SAFETY: as above; `copy` outlives the call.
        unsafe {
            let handle = result::module::load_data(copy.as_ptr().cast()).expect("cuModuleLoadData");
            result::module::unload(handle).expect("cuModuleUnload");
        }
    };
    // Two ways of handing the driver the chosen image alone: its bare cubin (what sasskit hands
    // over for an uncompressed image), or a fat binary container of that one entry.
    let device = sasskit::DeviceInfo {
        index: 0,
        name: "".into(),
        compute_capability: {
            let (major, minor) = ctx.compute_capability().expect("compute capability");
            let number = |value: i32| u32::try_from(value).expect("a compute capability");
            sasskit::ComputeCapability::new(number(major), number(minor))
        },
    };
    let plan = sasskit::check(module, &device, LoadPolicy::SassOnly).expect("a SASS image");
    let handed = plan.image().to_vec();
    let parsed = sasskit_core::FatBinary::parse(module.fatbin).expect("the embedded fat binary");
    let chosen = plan.chosen();
    let only_chosen = parsed.filter(|image| image.target() == Some(chosen));
    let raw_load_of = |bytes: &[u8]| {
        let copy = bytes.to_vec();
        ctx.bind_to_thread().expect("bind context");
        // SAFETY: as above; `copy` is a complete container that outlives the call.
        unsafe {
            let handle = result::module::load_data(copy.as_ptr().cast()).expect("cuModuleLoadData");
            result::module::unload(handle).expect("cuModuleUnload");
        }
    };
    let checked_load =
        || drop(sasskit::load(ctx, module, LoadPolicy::SassOnly).expect("sasskit::load"));
    let first_checked = timed(checked_load);
    for _ in 0..20 {
        raw_load();
        checked_load();
    }
    // Interleaved, so that clock and driver state drift hit both alike.
    let mut raw = Vec::with_capacity(ROUNDS);
    let mut copied = Vec::with_capacity(ROUNDS);
    let mut checked = Vec::with_capacity(ROUNDS);
    let mut cubin_copy = Vec::with_capacity(ROUNDS);
    let mut container_copy = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        raw.push(timed(raw_load));
        copied.push(timed(raw_load_of_copy));
        checked.push(timed(checked_load));
        cubin_copy.push(timed(|| raw_load_of(&handed)));
        container_copy.push(timed(|| raw_load_of(&only_chosen)));
    }
    let (raw, copied, checked) = (median(raw), median(copied), median(checked));
    let (cubin_copy, container_copy) = (median(cubin_copy), median(container_copy));
    println!(
        "module {} ({} bytes), {ROUNDS} interleaved rounds:",
        module.name,
        module.fatbin.len()
    );
    println!("  first sasskit::load in this process      {first_checked:>10.1?}");
    println!("  raw cuModuleLoadData + unload    median  {raw:>10.1?}");
    println!("  raw load of a fresh copy         median  {copied:>10.1?}");
    println!("  sasskit::load (check + load)     median  {checked:>10.1?}");
    println!(
        "  raw load of a copy of what sasskit hands over ({} bytes)  median  {cubin_copy:>10.1?}",
        handed.len()
    );
    println!(
        "  raw load of a copy of a container of the chosen entry ({} bytes)  median  {container_copy:>10.1?}",
        only_chosen.len()
    );
    println!(
        "  ratio checked / raw: {:.3}",
        checked.as_secs_f64() / raw.as_secs_f64()
    );
    println!(
        "  ratio checked / raw of a copy: {:.3}",
        checked.as_secs_f64() / copied.as_secs_f64()
    );
}
