//! GPU tests of static libraries of host-launched kernels (`Build::static_library`, built by
//! `tests/build.rs`): the start-up check and a launch through the generated wrapper.

use sasskit::cudarc::driver::CudaContext;
use sasskit::{ImageMatch, LaunchError, LoadError};
// The package's build script links its static libraries into the package's library, which an
// integration test links only when it uses it.
use sasskit_tests as _;

sasskit::host_functions!(host_scale);
sasskit::host_functions!(host_scale_blackwell);
sasskit::host_functions!(host_axpy_sm90a);

const GPU: &str =
    "requires a CUDA device: run with --ignored on a GPU machine (cargo xtask gpu-bundle)";

#[test]
#[ignore = "requires a CUDA device: run with --ignored on a GPU machine (cargo xtask gpu-bundle)"]
fn a_host_launched_kernel_runs_through_the_generated_wrapper() {
    assert!(sasskit::driver_present(), "no CUDA driver: {GPU}");
    let ctx = CudaContext::new(0).expect("CUDA device 0");
    let stream = ctx.default_stream();
    let library = host_scale::Library::check(&ctx).unwrap();
    let report = &library.reports()[0];
    println!("{report}");
    assert_eq!(report.chosen.to_string(), "sm_90");
    assert_eq!(report.image_match, ImageMatch::Exact);

    let n: i32 = 1 << 20;
    let host_x: Vec<f32> = (0..n)
        .map(|i| f32::from(i16::try_from(i % 1000).unwrap_or_default()) * 0.25 - 100.0)
        .collect();
    let x = stream.clone_htod(&host_x).unwrap();
    let mut y = stream.alloc_zeros::<f32>(host_x.len()).unwrap();
    // SAFETY: `y` and `x` hold `n` floats; the function launches one thread per element.
    unsafe { library.launch_scale_f32(&mut y, &x, 2.5, n, &stream) }.unwrap();
    let got = stream.clone_dtoh(&y).unwrap();
    let matched = got
        .iter()
        .zip(&host_x)
        // Multiples of 0.25 times 2.5: exact in f32 on both sides.
        .filter(|(gpu, cpu)| gpu.to_bits() == (2.5 * **cpu).to_bits())
        .count();
    println!("launch_scale_f32: {matched} of {n} values equal the CPU's");
    assert_eq!(matched, host_x.len());

    // A launch the runtime refuses comes back as the runtime's error, named.
    // SAFETY: the launch is refused before any thread runs.
    let error = unsafe { library.launch_too_many_threads(&mut y, &stream) }.unwrap_err();
    println!("refused launch: {error}");
    // 1025 threads per block: the CUDA 13 runtime on driver 580 names it
    // cudaErrorInvalidValue (older runtimes said cudaErrorInvalidConfiguration).
    assert!(
        matches!(
            &error,
            LaunchError::Runtime { function, code, name, .. }
                if function == "launch_too_many_threads"
                    && *code != 0
                    && matches!(name.as_str(), "cudaErrorInvalidValue" | "cudaErrorInvalidConfiguration")
        ),
        "{error:?}"
    );
    // The error was read and cleared: the next call is fine.
    // SAFETY: as above.
    unsafe { library.launch_scale_f32(&mut y, &x, 1.0, n, &stream) }.unwrap();
    stream.synchronize().unwrap();
}

#[test]
#[ignore = "requires a CUDA device: run with --ignored on a GPU machine (cargo xtask gpu-bundle)"]
fn a_library_without_sass_for_the_device_is_refused_before_any_call() {
    assert!(sasskit::driver_present(), "no CUDA driver: {GPU}");
    let ctx = CudaContext::new(0).expect("CUDA device 0");
    // Without a checked `Library` no wrapper can be called: the check is the only way to one.
    let error = host_scale_blackwell::Library::check(&ctx).unwrap_err();
    println!("refused: {error}");
    assert!(
        matches!(error, LoadError::NoCompatibleImage { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("embeds [sass sm_100, sass sm_121]")
            && message.contains("add sm_90 to SASSKIT_ARCHS"),
        "{message}"
    );
    let every = host_scale_blackwell::Library::check_every_device().unwrap_err();
    println!("every device: {every}");
    assert!(matches!(every, LoadError::EveryDevice(_)), "{every:?}");
}

#[test]
#[ignore = "requires a CUDA device: run with --ignored on a GPU machine (cargo xtask gpu-bundle)"]
fn an_optional_sm90a_library_runs_on_hopper_and_is_unavailable_elsewhere() {
    assert!(sasskit::driver_present(), "no CUDA driver: {GPU}");
    assert!(host_axpy_sm90a::LIBRARY.optional);
    let ctx = CudaContext::new(0).expect("CUDA device 0");
    let stream = ctx.default_stream();
    // An optional library passes the check on every device; it says where it can run.
    let library = host_axpy_sm90a::Library::check(&ctx).unwrap();
    let every = host_axpy_sm90a::Library::check_every_device().unwrap();
    let (major, minor) = ctx.compute_capability().unwrap();
    println!("device 0: cc {major}.{minor}");

    let n: i64 = 1 << 20;
    let (host_x, host_y) = axpy_inputs(n);
    let x = stream.clone_htod(&host_x).unwrap();
    let mut y = stream.clone_htod(&host_y).unwrap();
    // SAFETY: `y` and `x` hold `n` floats; the function launches one thread per element and
    // only reads `x`, as the build script promises (`read_only`).
    let called = unsafe { library.launch_axpy_f32(&mut y, &x, 2.5, n, &stream) };

    if (major, minor) == (9, 0) {
        // Hopper: the sm_90a SASS runs, the stream passed as `int64_t`.
        assert!(library.is_available() && library.is_available_on(0));
        assert!(every.is_available_on(0));
        let report = &library.reports()[0];
        println!("{report}");
        assert_eq!(report.chosen.to_string(), "sm_90a");
        assert_eq!(report.image_match, ImageMatch::Exact);
        called.unwrap();
        let got = stream.clone_dtoh(&y).unwrap();
        let matched = got
            .iter()
            .zip(host_x.iter().zip(&host_y))
            // Multiples of 0.25 times 2.5 plus multiples of 0.5: exact in f32 on both sides.
            .filter(|(gpu, (x, y))| gpu.to_bits() == (2.5 * **x + **y).to_bits())
            .count();
        println!("launch_axpy_f32: {matched} of {n} values equal the CPU's");
        assert_eq!(matched, host_x.len());
        // The input was only read.
        assert_eq!(stream.clone_dtoh(&x).unwrap(), host_x);
    } else {
        // Any other GPU: the program goes on, and the call is refused without running.
        assert!(!library.is_available() && !library.is_available_on(0));
        println!("{}", library.checked().unavailable()[0]);
        let error = called.unwrap_err();
        println!("refused: {error}");
        assert!(
            matches!(&error, LaunchError::Unavailable { function, device: 0, .. } if function == "launch_axpy_f32"),
            "{error:?}"
        );
        assert_eq!(stream.clone_dtoh(&y).unwrap(), host_y);
    }
    stream.synchronize().unwrap();
}

/// `launch_axpy_f32` takes its stream as `int64_t`: through the wrapper it runs on the stream
/// given (a new, non-default one), in order with the copies on it, and inside a CUDA graph
/// capture on that stream, whose replays each add `2.5 x` again. The capture runs with cudarc's
/// event tracking off, as any cudarc capture on a context with several streams must: the
/// buffers' guards make the stream wait on events recorded before the capture began, and the
/// launch then fails with `cudaErrorStreamCaptureInvalidated`, whose error names the fix (seen
/// on an H100). Hopper only (the library is `sm_90a`); elsewhere the test says it was skipped.
#[test]
#[ignore = "requires a CUDA device: run with --ignored on a GPU machine (cargo xtask gpu-bundle)"]
fn an_integer_stream_runs_on_a_non_default_stream_and_inside_a_graph_capture() {
    use sasskit::cudarc::driver::sys::{CUgraphInstantiate_flags, CUstreamCaptureMode};

    assert!(sasskit::driver_present(), "no CUDA driver: {GPU}");
    let ctx = CudaContext::new(0).expect("CUDA device 0");
    if ctx.compute_capability().unwrap() != (9, 0) {
        println!("skipped: the sm_90a library runs on compute capability 9.0 only");
        return;
    }
    let library = host_axpy_sm90a::Library::check(&ctx).unwrap();
    let stream = ctx.new_stream().unwrap();
    let n: i64 = 1 << 16;
    let (host_x, host_y) = axpy_inputs(n);
    let x = stream.clone_htod(&host_x).unwrap();
    let mut y = stream.clone_htod(&host_y).unwrap();
    let expect = |times: f32| -> Vec<u32> {
        host_x
            .iter()
            .zip(&host_y)
            .map(|(x, y)| (times * 2.5 * x + y).to_bits())
            .collect()
    };
    let bits = |values: Vec<f32>| -> Vec<u32> { values.iter().map(|v| v.to_bits()).collect() };

    // SAFETY: `y` and `x` hold `n` floats; the function only reads `x`.
    unsafe { library.launch_axpy_f32(&mut y, &x, 2.5, n, &stream) }.unwrap();
    assert_eq!(bits(stream.clone_dtoh(&y).unwrap()), expect(1.0));
    println!("launch_axpy_f32 on a non-default stream: {n} of {n} values equal the CPU's");

    ctx.check_err().unwrap();
    // SAFETY: one stream uses the buffers from here on, in order; tracking is back on before
    // the buffers are dropped.
    unsafe { ctx.disable_event_tracking() };
    stream
        .begin_capture(CUstreamCaptureMode::CU_STREAM_CAPTURE_MODE_THREAD_LOCAL)
        .unwrap();
    // SAFETY: as above; captured, not run.
    let launched = unsafe { library.launch_axpy_f32(&mut y, &x, 2.5, n, &stream) };
    let ended = stream
        .end_capture(CUgraphInstantiate_flags::CUDA_GRAPH_INSTANTIATE_FLAG_AUTO_FREE_ON_LAUNCH);
    launched.unwrap();
    let graph = ended.unwrap().expect("the capture recorded the launch");
    assert_eq!(
        bits(stream.clone_dtoh(&y).unwrap()),
        expect(1.0),
        "captured, not run"
    );
    graph.launch().unwrap();
    graph.launch().unwrap();
    assert_eq!(bits(stream.clone_dtoh(&y).unwrap()), expect(3.0));
    ctx.check_err().unwrap();
    println!(
        "launch_axpy_f32 captured in a CUDA graph, replayed twice: {n} of {n} values equal the CPU's"
    );
    drop(graph);
    // SAFETY: every use above has completed (`clone_dtoh` synchronised the stream).
    unsafe { ctx.enable_event_tracking() };
}

/// `n` values of `x` and `y` for `launch_axpy_f32`: multiples of 0.25 and 0.5, so that `2.5 x
/// + y` is exact in f32 on the GPU and the CPU alike.
fn axpy_inputs(n: i64) -> (Vec<f32>, Vec<f32>) {
    let x = (0..n)
        .map(|i| f32::from(i16::try_from(i % 1000).unwrap_or_default()) * 0.25 - 100.0)
        .collect();
    let y = (0..n)
        .map(|i| f32::from(i16::try_from(i % 77).unwrap_or_default()) * 0.5)
        .collect();
    (x, y)
}
