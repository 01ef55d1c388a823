//! Start-up and launch costs on a GPU, each comparison measured side by side in one process:
//!
//! * start-up: the 52 `unary` kernels loaded (a) through `sasskit::load` (checked SASS),
//!   (b) as a raw `cuModuleLoadData` of the same embedded bytes, (c) as a raw
//!   `cuModuleLoadData` of the same kernels with only PTX for this GPU, so the driver JIT-compiles
//!   them (run with `CUDA_CACHE_DISABLE=1` for a cold JIT cache, as `run.sh` does);
//! * launch: a one-thread kernel launched 100 000 times through the typed wrapper and through
//!   cudarc's launch builder, alternating blocks of 10 000.
//!
//! Run by `run.sh` of `cargo xtask gpu-bundle`.

#[cfg(sasskit_gpu_modules)]
sasskit::kernels!(unary);
#[cfg(sasskit_gpu_modules)]
sasskit::kernels!(unary_ptx);

#[cfg(not(sasskit_gpu_modules))]
fn main() {
    println!("gpu_bench skipped: the GPU test modules were not built (nvcc missing at build time)");
}

#[cfg(sasskit_gpu_modules)]
fn main() {
    use sasskit::cudarc::driver::CudaContext;

    if !sasskit::driver_present() {
        println!("gpu_bench skipped: no CUDA driver on this machine");
        return;
    }
    let ctx = CudaContext::new(0).expect("CUDA device 0");
    startup(&ctx);
    launch(&ctx);
}

#[cfg(sasskit_gpu_modules)]
fn median(mut samples: Vec<std::time::Duration>) -> std::time::Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

#[cfg(sasskit_gpu_modules)]
fn startup(ctx: &std::sync::Arc<sasskit::cudarc::driver::CudaContext>) {
    use std::time::Instant;

    use sasskit::LoadPolicy;
    use sasskit::cudarc::driver::result;

    let raw = |bytes: &[u8]| {
        ctx.bind_to_thread().expect("bind context");
        let start = Instant::now();
        // SAFETY: embedded fat binaries are 8-byte aligned and outlive the call; the module is
        // unloaded right away.
        unsafe {
            let handle =
                result::module::load_data(bytes.as_ptr().cast()).expect("cuModuleLoadData");
            let spent = start.elapsed();
            result::module::unload(handle).expect("cuModuleUnload");
            spent
        }
    };
    let checked = || {
        let start = Instant::now();
        let module =
            sasskit::load(ctx, &unary::EMBEDDED, LoadPolicy::SassOnly).expect("sasskit::load");
        let spent = start.elapsed();
        drop(module);
        spent
    };
    let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..50 {
        a.push(checked());
        b.push(raw(unary::EMBEDDED.fatbin));
        if round < 3 {
            c.push(raw(unary_ptx::EMBEDDED.fatbin));
        }
    }
    let cache = sasskit_tests::process::env_var("CUDA_CACHE_DISABLE").map_or_else(
        || "unset".to_owned(),
        |value| value.to_string_lossy().into_owned(),
    );
    let (a, b, c) = (median(a), median(b), median(c));
    println!("start-up, 52 kernels (module unary), CUDA_CACHE_DISABLE={cache}; medians:");
    println!("  (a) sasskit::load, SASS sm_90         {a:>12.1?}  (50 rounds)");
    println!("  (b) raw cuModuleLoadData, same bytes  {b:>12.1?}  (50 rounds)");
    println!("  (c) raw cuModuleLoadData, PTX JIT     {c:>12.1?}  (3 rounds)");
    println!(
        "  (a)/(b) = {:.3}   (c)/(a) = {:.0}",
        a.as_secs_f64() / b.as_secs_f64(),
        c.as_secs_f64() / a.as_secs_f64()
    );
}

#[cfg(sasskit_gpu_modules)]
fn launch(ctx: &std::sync::Arc<sasskit::cudarc::driver::CudaContext>) {
    use std::time::{Duration, Instant};

    use sasskit::cudarc::driver::{LaunchConfig, PushKernelArg};

    const BLOCK: usize = 10_000;
    const BLOCKS: usize = 10;
    let module = unary::Module::load(ctx).expect("load unary");
    let function = module.loaded().function("neg_f32").expect("neg_f32");
    let stream = ctx.default_stream();
    let x = stream.clone_htod(&[1.0f32]).expect("copy");
    let mut y_typed = stream.alloc_zeros::<f32>(1).expect("alloc");
    let mut y_raw = stream.alloc_zeros::<f32>(1).expect("alloc");
    let config = LaunchConfig {
        grid_dim: (1, 1, 1),
        block_dim: (1, 1, 1),
        shared_mem_bytes: 0,
    };
    let n = 1u32;
    let mut wrapper = || {
        // SAFETY: one thread, one element, n = 1.
        unsafe { module.neg_f32(&stream, config, &x, &mut y_typed, n) }.expect("launch");
    };
    let mut raw = || {
        let mut args = stream.launch_builder(&function);
        args.arg(&x).arg(&mut y_raw).arg(&n);
        // SAFETY: as above.
        unsafe { args.launch(config) }.expect("launch");
    };
    let time_block = |launch: &mut dyn FnMut()| -> Duration {
        stream.synchronize().expect("sync");
        let start = Instant::now();
        for _ in 0..BLOCK {
            launch();
        }
        stream.synchronize().expect("sync");
        start.elapsed() / u32::try_from(BLOCK).unwrap_or(u32::MAX)
    };
    time_block(&mut wrapper);
    time_block(&mut raw);
    let (mut typed, mut builder) = (Vec::new(), Vec::new());
    for _ in 0..BLOCKS {
        typed.push(time_block(&mut wrapper));
        builder.push(time_block(&mut raw));
    }
    let (typed, builder) = (median(typed), median(builder));
    println!(
        "launch of a one-thread kernel, {} launches each in blocks of {BLOCK}, per launch (median of blocks):",
        BLOCK * BLOCKS
    );
    println!("  typed wrapper (unary::Module::neg_f32)  {typed:>10.2?}");
    println!("  cudarc launch builder                   {builder:>10.2?}");
    println!(
        "  ratio wrapper / builder: {:.3}",
        typed.as_secs_f64() / builder.as_secs_f64()
    );
}
