//! The load decision on real nvcc 13.0 fat binaries (`tests/fixtures`, built from `scale.cu`)
//! and on synthetic containers for the cases no single GPU can show.

use proptest::prelude::*;
use sasskit_core::FatBinary;
use sasskit_core::fatbin::MAGIC;

use super::*;
use crate::ComputeCapability;

const SM90: &[u8] = include_bytes!("../../tests/fixtures/scale_sm90.fatbin");
const SM90_COMPUTE90: &[u8] = include_bytes!("../../tests/fixtures/scale_sm90_compute90.fatbin");
const COMPUTE80: &[u8] = include_bytes!("../../tests/fixtures/scale_compute80.fatbin");
const COMPUTE80_ISA95: &[u8] = include_bytes!("../../tests/fixtures/scale_compute80_isa95.fatbin");
/// `scale.cu` built with `--compress-mode=size`: its one SASS entry is zstd-compressed.
const SM90_COMPRESSED: &[u8] = include_bytes!("../../tests/fixtures/scale_compressed_sm90.fatbin");
const SM100_COMPUTE100: &[u8] =
    include_bytes!("../../tests/fixtures/scale_sm100_compute100.fatbin");

const FACTS: crate::BuildFacts = crate::BuildFacts {
    nvcc_version: "13.0.88",
    build_key: "5f0c12ab9d8e",
    cache: Some(crate::CacheStatus::Off),
    kernels: &[],
    front_end: None,
    origin: Some(crate::Origin::Built),
    unavailable: None,
};

fn module(fatbin: &'static [u8]) -> EmbeddedModule {
    EmbeddedModule {
        name: "scale",
        fatbin,
        build: FACTS,
    }
}

fn device(major: u32, minor: u32) -> DeviceInfo {
    DeviceInfo {
        index: 0,
        name: "NVIDIA Test GPU".into(),
        compute_capability: ComputeCapability::new(major, minor),
    }
}

fn decide(fatbin: &'static [u8], cc: (u32, u32), policy: LoadPolicy) -> Result<Plan, LoadError> {
    check(&module(fatbin), &device(cc.0, cc.1), policy)
}

/// The images a plan hands the driver: the one whose payload it hands in place inside `fatbin`
/// (the embedded container), or those of the container it hands.
fn handed(plan: &Plan, fatbin: &[u8]) -> Vec<String> {
    let bytes = plan.image();
    let embedded = FatBinary::parse(fatbin).unwrap();
    if let Some(image) = embedded.images().iter().find(|image| {
        embedded
            .payload(image)
            .is_some_and(|payload| std::ptr::eq(payload, bytes))
    }) {
        return vec![image.to_string()];
    }
    FatBinary::parse(bytes)
        .unwrap()
        .images()
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// Leaks a synthetic container so that it can stand in for an embedded `&'static [u8]`.
fn synthetic(entries: &[(u16, u32, u64)]) -> &'static [u8] {
    let mut body = Vec::new();
    for &(kind, sm, flags) in entries {
        let mut entry = vec![0u8; 64];
        entry[0..2].copy_from_slice(&kind.to_le_bytes());
        entry[2..4].copy_from_slice(&0x0101u16.to_le_bytes());
        entry[4..8].copy_from_slice(&64u32.to_le_bytes());
        entry[8..16].copy_from_slice(&8u64.to_le_bytes());
        entry[0x18..0x1a].copy_from_slice(&5u16.to_le_bytes());
        entry[0x1a..0x1c].copy_from_slice(&9u16.to_le_bytes());
        entry[0x1c..0x20].copy_from_slice(&sm.to_le_bytes());
        entry[0x28..0x30].copy_from_slice(&flags.to_le_bytes());
        entry.extend_from_slice(b"payload!");
        body.extend_from_slice(&entry);
    }
    let mut out = Vec::new();
    out.extend_from_slice(&MAGIC.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&body);
    Vec::leak(out)
}

const SASS: u16 = 2;
const PTX: u16 = 1;
const LTO: u16 = 8;
const A: u64 = 0x10_0000;
const F: u64 = 0x20_0000;

#[test]
fn exact_sass_is_chosen_and_handed_over_alone() {
    let plan = decide(SM90, (9, 0), LoadPolicy::SassOnly).unwrap();
    assert_eq!(plan.chosen().to_string(), "sm_90");
    assert_eq!(plan.chosen_label().to_string(), "sass sm_90");
    assert_eq!(plan.image_match(), ImageMatch::Exact);
    assert!(!plan.is_jit());
    assert_eq!(plan.embedded(), ["sass sm_90"]);
    assert_eq!(handed(&plan, SM90), ["sass sm_90"]);
    assert_eq!(plan.module(), "scale");
    assert_eq!(
        plan.device().compute_capability,
        ComputeCapability::new(9, 0)
    );
}

/// An uncompressed cubin is handed over where it lies: nothing is built, and the bytes are the
/// ELF image itself, which the driver loads like a `.cubin` file.
#[test]
fn uncompressed_sass_is_handed_over_in_place_as_a_bare_cubin() {
    let plan = decide(SM90_COMPUTE90, (9, 0), LoadPolicy::SassOnly).unwrap();
    let embedded = SM90_COMPUTE90.as_ptr_range();
    assert!(embedded.contains(&plan.image().as_ptr()));
    assert!(plan.image().starts_with(b"\x7fELF"));
    let contents = FatBinary::parse(SM90_COMPUTE90).unwrap();
    let sm90 = contents
        .images()
        .iter()
        .find(|image| image.to_string() == "sass sm_90")
        .unwrap();
    assert_eq!(&*contents.contents(sm90).unwrap(), plan.image());
}

/// A compressed cubin is handed over in a container of its own entry, still compressed: the
/// driver decompresses it, as it would in the embedded container.
#[test]
fn compressed_sass_is_handed_over_in_a_container_of_its_entry() {
    let plan = decide(SM90_COMPRESSED, (9, 0), LoadPolicy::SassOnly).unwrap();
    assert_eq!(plan.embedded(), ["sass sm_90 (zstd)"]);
    let handed = FatBinary::parse(plan.image()).unwrap();
    assert_eq!(
        handed
            .images()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["sass sm_90 (zstd)"]
    );
    assert!(
        handed
            .contents(&handed.images()[0])
            .unwrap()
            .starts_with(b"\x7fELF")
    );
}

#[test]
fn ptx_next_to_sass_is_never_handed_to_the_driver() {
    for policy in [LoadPolicy::SassOnly, LoadPolicy::AllowJit] {
        let plan = decide(SM90_COMPUTE90, (9, 0), policy).unwrap();
        assert_eq!(plan.embedded(), ["ptx compute_90 (zstd)", "sass sm_90"]);
        assert_eq!(plan.image_match(), ImageMatch::Exact);
        assert_eq!(handed(&plan, SM90_COMPUTE90), ["sass sm_90"], "{policy:?}");
        assert!(plan.image().len() < SM90_COMPUTE90.len());
    }
}

#[test]
fn older_minor_sass_is_compatible() {
    let plan = decide(SM100_COMPUTE100, (10, 3), LoadPolicy::SassOnly).unwrap();
    assert_eq!(plan.chosen_label().to_string(), "sass sm_100");
    assert_eq!(plan.image_match(), ImageMatch::Compatible);
    assert_eq!(handed(&plan, SM100_COMPUTE100), ["sass sm_100"]);
}

#[test]
fn ptx_only_is_refused_by_default() {
    let error = decide(COMPUTE80, (9, 0), LoadPolicy::SassOnly).unwrap_err();
    let LoadError::JitRefused {
        module,
        device,
        ptx,
        embedded,
        required,
        static_library: false,
    } = &error
    else {
        panic!("expected JitRefused, got {error}");
    };
    assert_eq!(module, "scale");
    assert_eq!(device.index, 0);
    assert_eq!(ptx.to_string(), "compute_80");
    assert_eq!(embedded, &["ptx compute_80 (zstd)"]);
    assert_eq!(required.to_string(), "sm_90");
}

#[test]
fn ptx_for_a_newer_device_is_refused_without_sass_for_it() {
    // A B200 (10.0) can JIT compute_90 PTX, but has no SASS here.
    let error = decide(SM90_COMPUTE90, (10, 0), LoadPolicy::SassOnly).unwrap_err();
    assert!(matches!(error, LoadError::JitRefused { .. }), "{error}");
}

#[test]
fn ptx_only_is_jitted_when_allowed() {
    let plan = decide(COMPUTE80, (9, 0), LoadPolicy::AllowJit).unwrap();
    assert!(plan.is_jit());
    assert_eq!(plan.image_match(), ImageMatch::Jit);
    assert_eq!(plan.chosen_label().to_string(), "ptx compute_80");
    assert_eq!(plan.image(), COMPUTE80);
    assert_eq!(plan.chosen_version, (9, 0), "PTX ISA version of nvcc 13.0");
}

#[test]
fn the_ptx_isa_version_is_kept_for_the_ptx_too_new_message() {
    let plan = decide(COMPUTE80_ISA95, (9, 0), LoadPolicy::AllowJit).unwrap();
    assert!(plan.is_jit());
    assert_eq!(plan.chosen_version, (9, 5));
}

#[test]
fn nothing_compatible_is_refused_whatever_the_policy() {
    for policy in [LoadPolicy::SassOnly, LoadPolicy::AllowJit] {
        // compute_100 PTX cannot be JIT-compiled for 9.0, and sm_100 does not run there.
        let error = decide(SM100_COMPUTE100, (9, 0), policy).unwrap_err();
        let LoadError::NoCompatibleImage {
            embedded, required, ..
        } = &error
        else {
            panic!("expected NoCompatibleImage, got {error}");
        };
        assert_eq!(embedded, &["ptx compute_100 (zstd)", "sass sm_100"]);
        assert_eq!(required.to_string(), "sm_90");
    }
    let error = decide(SM90, (12, 1), LoadPolicy::AllowJit).unwrap_err();
    assert!(
        error.to_string().contains("add sm_121 to SASSKIT_ARCHS"),
        "{error}"
    );
}

#[test]
fn build_facts_reach_the_plan() {
    let plan = decide(SM90, (9, 0), LoadPolicy::SassOnly).unwrap();
    assert_eq!(plan.nvcc_version(), "13.0.88");
    assert_eq!(plan.build_key(), "5f0c12ab9d8e");
    let bare = check(
        &EmbeddedModule {
            name: "scale",
            fatbin: SM90,
            build: crate::BuildFacts::UNKNOWN,
        },
        &device(9, 0),
        LoadPolicy::SassOnly,
    )
    .unwrap();
    assert_eq!(bare.nvcc_version(), "unknown");
}

#[test]
fn a_module_that_was_never_built_is_refused_with_the_builds_reason() {
    let module = EmbeddedModule {
        name: "scale",
        fatbin: &[],
        build: crate::BuildFacts {
            unavailable: Some("a metadata-only build with no nvcc"),
            ..FACTS
        },
    };
    let error = check(&module, &device(9, 0), LoadPolicy::SassOnly).unwrap_err();
    assert!(matches!(error, LoadError::NotBuilt { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.starts_with(
            "module `scale` was not built, so it cannot be loaded: a metadata-only build with no nvcc;"
        ),
        "{message}"
    );
    assert!(message.contains("cargo sasskit prebuild"), "{message}");
}

#[test]
fn arch_specific_sass_runs_only_on_its_own_capability() {
    let fatbin = synthetic(&[(SASS, 90, A), (SASS, 90, 0), (PTX, 90, 0)]);
    let plan = decide(fatbin, (9, 0), LoadPolicy::SassOnly).unwrap();
    assert_eq!(plan.chosen_label().to_string(), "sass sm_90a");
    // The driver is handed the chosen image only.
    assert_eq!(handed(&plan, fatbin), ["sass sm_90a"]);

    let only_a = synthetic(&[(SASS, 100, A)]);
    let error = decide(only_a, (10, 3), LoadPolicy::AllowJit).unwrap_err();
    assert!(
        matches!(error, LoadError::NoCompatibleImage { .. }),
        "{error}"
    );
}

#[test]
fn family_sass_runs_across_its_family() {
    let fatbin = synthetic(&[(SASS, 100, F), (SASS, 120, F)]);
    let plan_103 = decide(fatbin, (10, 3), LoadPolicy::SassOnly).unwrap();
    assert_eq!(plan_103.chosen_label().to_string(), "sass sm_100f");
    assert_eq!(plan_103.image_match(), ImageMatch::Compatible);
    let plan_121 = decide(fatbin, (12, 1), LoadPolicy::SassOnly).unwrap();
    assert_eq!(plan_121.chosen_label().to_string(), "sass sm_120f");
    let error = decide(fatbin, (9, 0), LoadPolicy::SassOnly).unwrap_err();
    assert!(
        matches!(error, LoadError::NoCompatibleImage { .. }),
        "{error}"
    );
}

#[test]
fn lto_ir_and_empty_containers_have_nothing_to_run() {
    let lto = synthetic(&[(LTO, 90, 0)]);
    let error = decide(lto, (9, 0), LoadPolicy::AllowJit).unwrap_err();
    let LoadError::NoCompatibleImage { embedded, .. } = &error else {
        panic!("{error}")
    };
    assert_eq!(embedded, &["lto-ir sm_90"]);

    let empty = synthetic(&[]);
    let error = decide(empty, (9, 0), LoadPolicy::AllowJit).unwrap_err();
    assert!(error.to_string().contains("it embeds no images"), "{error}");
}

#[test]
fn the_driver_gets_the_chosen_sass_image_alone() {
    let fatbin = synthetic(&[(PTX, 90, 0), (SASS, 90, 0), (LTO, 90, 0), (SASS, 100, 0)]);
    let plan = decide(fatbin, (9, 0), LoadPolicy::AllowJit).unwrap();
    assert_eq!(handed(&plan, fatbin), ["sass sm_90"]);
    let plan = decide(fatbin, (10, 0), LoadPolicy::SassOnly).unwrap();
    assert_eq!(handed(&plan, fatbin), ["sass sm_100"]);
}

#[test]
fn corrupt_fat_binaries_are_errors() {
    let truncated: &'static [u8] = &SM90[..SM90.len() - 1];
    for fatbin in [&[][..], b"not a fat binary at all", truncated, &SM90[..20]] {
        let error = decide(fatbin, (9, 0), LoadPolicy::SassOnly).unwrap_err();
        let LoadError::CorruptFatbin { module, .. } = &error else {
            panic!("{error}")
        };
        assert_eq!(module, "scale");
        assert!(
            error
                .to_string()
                .starts_with("the fat binary embedded for module `scale`")
        );
    }
}

proptest! {
    /// Whatever the bytes, `check` returns; it never panics.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let fatbin: &'static [u8] = Vec::leak(bytes);
        let _ = decide(fatbin, (9, 0), LoadPolicy::AllowJit);
    }

    /// Damaging any byte of a real fat binary gives a plan or an error, never a panic.
    #[test]
    fn damaged_real_fat_binaries_never_panic(at in 0..SM90_COMPUTE90.len(), value in any::<u8>()) {
        let mut bytes = SM90_COMPUTE90.to_vec();
        bytes[at] = value;
        let fatbin: &'static [u8] = Vec::leak(bytes);
        for cc in [(9, 0), (10, 0), (8, 6)] {
            let _ = decide(fatbin, cc, LoadPolicy::AllowJit);
        }
    }
}

/// The selection is made once per module and capability: a second check of the same module
/// for the same capability reuses the image list and the container it hands the driver.
#[test]
fn the_selection_is_computed_once_per_module_and_capability() {
    let first = decide(SM90_COMPUTE90, (9, 0), LoadPolicy::SassOnly).unwrap();
    let again = decide(SM90_COMPUTE90, (9, 0), LoadPolicy::SassOnly).unwrap();
    assert!(std::sync::Arc::ptr_eq(&first.embedded, &again.embedded));
    assert!(std::ptr::eq(first.image(), again.image()));
    let other = decide(SM90_COMPUTE90, (9, 2), LoadPolicy::SassOnly).unwrap();
    assert!(!std::sync::Arc::ptr_eq(&first.embedded, &other.embedded));
    assert_eq!(first.image(), other.image());
}
