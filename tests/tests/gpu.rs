//! GPU tests: checked loads and launches on a real device.
//!
//! They are `#[ignore]`d with a reason, so on a machine without a GPU `cargo test` lists them
//! as ignored, never as passed. On a GPU machine, `cargo xtask gpu-bundle` builds them and its
//! `run.sh` runs them with `--ignored`. The modules come from `tests/build.rs`; without nvcc at
//! build time they are compiled out and one ignored test says so.

#[cfg(not(sasskit_gpu_modules))]
#[test]
#[ignore = "GPU test modules were not built: nvcc was not found when this crate was built (run `cargo xtask setup`)"]
fn gpu_tests_need_nvcc_at_build_time() {}

#[cfg(sasskit_gpu_modules)]
#[path = "gpu/library.rs"]
mod library;

#[cfg(sasskit_gpu_modules)]
// Sizes are small constants and random values use 24 bits: the casts are exact.
#[allow(clippy::cast_precision_loss, clippy::cast_possible_wrap)]
mod gpu {
    use std::sync::Arc;

    use sasskit::cudarc::driver::{CudaContext, CudaSlice, CudaStream, LaunchConfig};
    use sasskit::{EmbeddedModule, ImageMatch, LaunchError, LoadError, LoadPolicy};
    use sasskit_core::manifest::Manifest;

    sasskit::kernels!(saxpy_sm90);
    sasskit::kernels!(saxpy_sm90a);
    sasskit::kernels!(saxpy_blackwell_ptx90);
    sasskit::kernels!(saxpy_blackwell_only);
    sasskit::kernels!(saxpy_compressed);
    sasskit::kernels!(arch_guarded);

    const GPU: &str =
        "requires a CUDA device: run with --ignored on a GPU machine (cargo xtask gpu-bundle)";
    const N: usize = 1 << 20;

    fn context() -> Arc<CudaContext> {
        assert!(
            sasskit::driver_present(),
            "no CUDA driver on this machine: {GPU}"
        );
        CudaContext::new(0).expect("CUDA device 0")
    }

    /// Deterministic pseudo-random floats in [-1, 1).
    fn random(n: usize, seed: u64) -> Vec<f32> {
        let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    type Launch<'a> = dyn Fn(
            &CudaStream,
            LaunchConfig,
            i32,
            f32,
            &CudaSlice<f32>,
            &mut CudaSlice<f32>,
        ) -> Result<(), LaunchError>
        + 'a;

    /// Runs saxpy through `launch` on random data and compares with the CPU.
    fn check_saxpy(ctx: &Arc<CudaContext>, launch: &Launch<'_>) {
        let stream = ctx.default_stream();
        let (x, y) = (random(N, 1), random(N, 2));
        let a = 1.5f32;
        let dx = stream.clone_htod(&x).unwrap();
        let mut dy = stream.clone_htod(&y).unwrap();
        launch(
            &stream,
            LaunchConfig::for_num_elems(N as u32),
            N as i32,
            a,
            &dx,
            &mut dy,
        )
        .unwrap();
        let got = stream.clone_dtoh(&dy).unwrap();
        for i in 0..N {
            let want = a.mul_add(x[i], y[i]);
            assert!(
                (got[i] - want).abs() <= 1e-6 * want.abs().max(1.0),
                "element {i}: got {}, want {want}",
                got[i]
            );
        }
    }

    /// Needs no GPU: the build recorded which images define each kernel.
    #[test]
    fn a_kernel_guarded_by_cuda_arch_is_listed_for_blackwell_images_only() {
        let path = sasskit_core::out_dir::folder(std::path::Path::new(env!("OUT_DIR")))
            .join(sasskit_core::out_dir::manifest_file("arch_guarded"));
        let manifest = Manifest::from_toml(&std::fs::read_to_string(path).unwrap()).unwrap();
        let targets: Vec<(&str, Vec<String>)> = manifest
            .kernels
            .iter()
            .map(|kernel| (kernel.name.as_str(), kernel.targets.clone()))
            .collect();
        assert_eq!(
            targets,
            [
                (
                    "fill_everywhere",
                    vec!["sm_90".into(), "sm_100".into(), "sm_121".into()]
                ),
                (
                    "fill_blackwell_only",
                    vec!["sm_100".into(), "sm_121".into()]
                ),
            ]
        );
        // What the program itself knows, without parsing the manifest.
        let facts: Vec<(&str, Vec<String>)> = arch_guarded::EMBEDDED
            .build
            .kernels
            .iter()
            .map(|kernel| {
                let only_in = kernel.only_in.iter().map(ToString::to_string).collect();
                (kernel.name, only_in)
            })
            .collect();
        assert_eq!(
            facts,
            [
                ("fill_everywhere", vec![]),
                (
                    "fill_blackwell_only",
                    vec!["sm_100".to_owned(), "sm_121".to_owned()]
                )
            ]
        );
    }

    #[test]
    #[ignore = "requires a CUDA device: run with --ignored on a GPU machine (cargo xtask gpu-bundle)"]
    fn a_kernel_the_loaded_image_lacks_returns_a_clear_error() {
        let ctx = context();
        let stream = ctx.default_stream();
        let module = arch_guarded::Module::load(&ctx).unwrap();
        let report = module.report().to_string();
        println!("{report}");
        let cc = ctx.compute_capability().unwrap();
        let mut out = stream.alloc_zeros::<f32>(N).unwrap();
        let config = LaunchConfig::for_num_elems(N as u32);
        unsafe { module.fill_everywhere(&stream, config, &mut out, 3.0, N as i32) }.unwrap();
        let got = stream.clone_dtoh(&out).unwrap();
        // The kernel stores the exact value it was given.
        let matched = got
            .iter()
            .filter(|&&value| value.to_bits() == 3.0f32.to_bits())
            .count();
        println!("fill_everywhere: {matched}/{N} values matched");
        assert_eq!(matched, N);
        let result =
            unsafe { module.fill_blackwell_only(&stream, config, &mut out, 4.0, N as i32) };
        if cc.0 >= 10 {
            result.unwrap();
            return;
        }
        assert!(report.contains("1 kernel not in this image"), "{report}");
        assert!(!module.loaded().has_kernel("fill_blackwell_only"));
        let error = result.unwrap_err();
        println!("refused as it must: {error}");
        assert!(
            matches!(
                &error,
                LaunchError::Lookup(LoadError::KernelNotInImage { kernel, .. })
                    if kernel == "fill_blackwell_only"
            ),
            "{error:?}"
        );
        let message = error.to_string();
        for part in [
            "`fill_blackwell_only`",
            "sm_90 image",
            "device 0",
            "sm_100, sm_121",
        ] {
            assert!(message.contains(part), "`{part}` not in {message}");
        }
        module.resolve_all().unwrap();
    }

    #[test]
    #[ignore = "requires a CUDA device: run with --ignored on a GPU machine (cargo xtask gpu-bundle)"]
    fn sm_90_loads_as_exact_sass_and_computes_saxpy() {
        let ctx = context();
        let module = saxpy_sm90::Module::load(&ctx).unwrap();
        println!("{}", module.report());
        assert_eq!(module.report().image_match, ImageMatch::Exact);
        assert_eq!(module.report().chosen.to_string(), "sm_90");
        check_saxpy(&ctx, &|s, c, n, a, x, y| unsafe {
            module.saxpy(s, c, n, a, x, y)
        });
    }

    #[test]
    #[ignore = "requires a CUDA device: run with --ignored on a GPU machine (cargo xtask gpu-bundle)"]
    fn sm_90a_loads_on_the_h100() {
        let ctx = context();
        let module = saxpy_sm90a::Module::load(&ctx).unwrap();
        println!("{}", module.report());
        assert_eq!(module.report().chosen.to_string(), "sm_90a");
        assert_eq!(module.report().image_match, ImageMatch::Exact);
        check_saxpy(&ctx, &|s, c, n, a, x, y| unsafe {
            module.saxpy(s, c, n, a, x, y)
        });
    }

    #[test]
    #[ignore = "requires a CUDA device: run with --ignored on a GPU machine (cargo xtask gpu-bundle)"]
    fn compressed_sass_loads_and_computes() {
        let ctx = context();
        let images = saxpy_compressed::EMBEDDED.images().unwrap();
        assert!(
            images
                .iter()
                .all(|image| image.ends_with("(zstd)") || image.ends_with("(lz4)")),
            "{images:?}"
        );
        let module = saxpy_compressed::Module::load(&ctx).unwrap();
        println!("{}", module.report());
        assert_eq!(module.report().image_match, ImageMatch::Exact);
        check_saxpy(&ctx, &|s, c, n, a, x, y| unsafe {
            module.saxpy(s, c, n, a, x, y)
        });
    }

    /// `sasskit::doctor` on this GPU says, without loading, what the loads above find: SASS for
    /// the sm_90 module, a JIT for the one with only PTX for Hopper, nothing for Blackwell's.
    #[test]
    #[ignore = "requires a CUDA device: run with --ignored on a GPU machine (cargo xtask gpu-bundle)"]
    fn doctor_on_this_gpu_agrees_with_the_loads() {
        use sasskit::{Outcome, Severity};
        let ctx = context();
        let report = sasskit::doctor(&[
            &saxpy_sm90::EMBEDDED,
            &saxpy_blackwell_ptx90::EMBEDDED,
            &saxpy_blackwell_only::EMBEDDED,
        ]);
        println!("{report}");
        let on_device_0 = |module: &str| {
            report
                .findings()
                .iter()
                .find(|finding| finding.module == module && finding.device.starts_with("device 0"))
                .map_or_else(
                    || panic!("no finding for {module} on device 0:\n{report}"),
                    |finding| finding.outcome,
                )
        };
        assert!(
            matches!(
                on_device_0("saxpy_sm90"),
                Outcome::Sass {
                    image_match: ImageMatch::Exact,
                    ..
                }
            ),
            "{report}"
        );
        assert!(
            matches!(on_device_0("saxpy_blackwell_ptx90"), Outcome::Jit { .. }),
            "{report}"
        );
        assert!(
            matches!(on_device_0("saxpy_blackwell_only"), Outcome::NoImage { .. }),
            "{report}"
        );
        assert_eq!(report.severity(), Severity::Fails, "{report}");
        // The verdict matches what the loads do.
        saxpy_sm90::Module::load(&ctx).unwrap();
        assert!(matches!(
            saxpy_blackwell_ptx90::Module::load(&ctx),
            Err(LoadError::JitRefused { .. })
        ));
        assert!(matches!(
            saxpy_blackwell_only::Module::load(&ctx),
            Err(LoadError::NoCompatibleImage { .. })
        ));
    }

    #[test]
    #[ignore = "requires a CUDA device: run with --ignored on a GPU machine (cargo xtask gpu-bundle)"]
    fn ptx_only_for_this_device_is_refused_unless_jit_is_allowed() {
        let ctx = context();
        let error = saxpy_blackwell_ptx90::Module::load(&ctx).unwrap_err();
        println!("refused: {error}");
        assert!(matches!(error, LoadError::JitRefused { .. }), "{error:?}");
        let message = error.to_string();
        assert!(
            message.contains("sm_90"),
            "names the missing target: {message}"
        );
        assert!(
            message.contains("SASSKIT_ARCHS"),
            "names the fix: {message}"
        );
        let module = saxpy_blackwell_ptx90::Module::load_with(&ctx, LoadPolicy::AllowJit).unwrap();
        println!("{}", module.report());
        assert_eq!(module.report().image_match, ImageMatch::Jit);
        check_saxpy(&ctx, &|s, c, n, a, x, y| unsafe {
            module.saxpy(s, c, n, a, x, y)
        });
    }

    #[test]
    #[ignore = "requires a CUDA device: run with --ignored on a GPU machine (cargo xtask gpu-bundle)"]
    fn no_image_for_this_device_is_an_error_before_the_driver_loads() {
        let ctx = context();
        let error =
            saxpy_blackwell_only::Module::load_with(&ctx, LoadPolicy::AllowJit).unwrap_err();
        println!("refused: {error}");
        assert!(
            matches!(error, LoadError::NoCompatibleImage { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("sm_90"), "{error}");
    }

    #[test]
    #[ignore = "requires a CUDA device: run with --ignored on a GPU machine (cargo xtask gpu-bundle)"]
    fn a_corrupt_embedded_fat_binary_is_an_error() {
        let ctx = context();
        for cut in [0, 7, 100, saxpy_sm90::EMBEDDED.fatbin.len() - 8] {
            let bytes: &'static [u8] = Box::leak(
                saxpy_sm90::EMBEDDED.fatbin[..cut]
                    .to_vec()
                    .into_boxed_slice(),
            );
            let corrupt = EmbeddedModule {
                fatbin: bytes,
                ..saxpy_sm90::EMBEDDED
            };
            let error = sasskit::load(&ctx, &corrupt, LoadPolicy::AllowJit).unwrap_err();
            println!("cut at {cut}: {error}");
            assert!(
                matches!(error, LoadError::CorruptFatbin { .. }),
                "{error:?}"
            );
        }
    }

    #[test]
    #[ignore = "requires a CUDA device: run with --ignored on a GPU machine (cargo xtask gpu-bundle)"]
    fn every_device_is_checked_before_any_loads() {
        let loaded =
            sasskit::load_on_every_device(&saxpy_sm90::EMBEDDED, LoadPolicy::SassOnly).unwrap();
        assert!(!loaded.is_empty());
        for module in &loaded {
            println!("{}", module.report());
        }
        let error =
            sasskit::load_on_every_device(&saxpy_blackwell_only::EMBEDDED, LoadPolicy::SassOnly)
                .unwrap_err();
        println!("refused: {error}");
        assert!(
            matches!(
                error,
                LoadError::EveryDevice(_) | LoadError::NoCompatibleImage { .. }
            ),
            "{error:?}"
        );
    }
}
