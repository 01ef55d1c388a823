use super::*;
use crate::BuildFacts;
use crate::ComputeCapability;

static SCALE_SM90: EmbeddedModule = EmbeddedModule {
    name: "scale",
    fatbin: include_bytes!("../../tests/fixtures/scale_sm90.fatbin"),
    build: BuildFacts {
        nvcc_version: "13.0.88",
        ..BuildFacts::UNKNOWN
    },
};

static PTX_ONLY: EmbeddedModule = EmbeddedModule {
    name: "reduce",
    fatbin: include_bytes!("../../tests/fixtures/scale_compute80.fatbin"),
    build: BuildFacts {
        nvcc_version: "13.0.88",
        ..BuildFacts::UNKNOWN
    },
};

fn device(index: usize, name: &str, cc: (u32, u32)) -> DeviceInfo {
    DeviceInfo {
        index,
        name: name.into(),
        compute_capability: ComputeCapability::new(cc.0, cc.1),
    }
}

fn host(driver: &str, devices: Vec<DeviceInfo>) -> Host {
    Host {
        driver: Ok(Release::parse(driver)),
        devices,
        module_loading: ModuleLoading::Lazy,
    }
}

#[test]
fn sass_everywhere_is_ok() {
    let report = DoctorReport::new(
        host("13.0", vec![device(0, "NVIDIA H200", (9, 0))]),
        vec![Subject::of(&SCALE_SM90)],
    );
    assert_eq!(report.severity(), Severity::Ok);
    assert_eq!(
        report.to_string(),
        "driver: CUDA 13.0; module loading lazy (CUDA_MODULE_LOADING); 1 GPU\n\
         modules:\n  \
         scale: sass sm_90; nvcc 13.0\n\
         device 0 \"NVIDIA H200\" (cc 9.0):\n  \
         scale: sass sm_90 (exact)\n\
         ok: every module loads SASS on every GPU"
    );
}

#[test]
fn a_jit_is_slow_and_a_missing_arch_fails() {
    let devices = vec![
        device(0, "NVIDIA H200", (9, 0)),
        device(1, "NVIDIA B200", (10, 0)),
    ];
    let report = DoctorReport::new(
        host("13.0", devices.clone()),
        vec![Subject::of(&SCALE_SM90), Subject::of(&PTX_ONLY)],
    );
    assert_eq!(report.severity(), Severity::Fails, "{report}");
    assert_eq!(report.findings().len(), 4);
    assert!(
        report
            .verdict()
            .starts_with("fails: `scale` on device 1 (cc 10.0)"),
        "{report}"
    );
    let text = report.to_string();
    assert!(
        text.contains("  reduce: ptx compute_80 (zstd); nvcc 13.0; PTX ISA 9.0\n"),
        "{text}"
    );
    assert!(
        text.contains("  reduce: JIT of ptx compute_80 at every load (PTX of CUDA 13.0)"),
        "{text}"
    );

    let report = DoctorReport::new(host("13.0", devices), vec![Subject::of(&PTX_ONLY)]);
    assert_eq!(report.severity(), Severity::Slow, "{report}");
}

#[test]
fn ptx_of_a_newer_nvcc_than_the_driver_fails() {
    let newer = EmbeddedModule {
        build: BuildFacts {
            nvcc_version: "13.5.37",
            ..BuildFacts::UNKNOWN
        },
        ..PTX_ONLY
    };
    let report = DoctorReport::new(
        host("13.0", vec![device(0, "NVIDIA H200", (9, 0))]),
        vec![Subject::of(&newer)],
    );
    assert_eq!(report.severity(), Severity::Fails, "{report}");
    assert!(
        report
            .to_string()
            .contains("CUDA_ERROR_UNSUPPORTED_PTX_VERSION"),
        "{report}"
    );
}

#[test]
fn without_a_driver_only_the_static_part_is_reported() {
    let none = Host {
        driver: Err("no CUDA driver: the dynamic loader found none of libcuda.so.1".to_owned()),
        devices: Vec::new(),
        module_loading: ModuleLoading::Eager,
    };
    let report = DoctorReport::new(none.clone(), vec![Subject::of(&SCALE_SM90)]);
    assert_eq!(report.severity(), Severity::Ok);
    assert!(
        report
            .verdict()
            .starts_with("static only: no driver here, no GPU checked"),
        "{report}"
    );
    assert!(
        report.to_string().contains("module loading eager"),
        "{report}"
    );
    let report = DoctorReport::new(none, vec![Subject::of(&PTX_ONLY)]);
    assert_eq!(report.severity(), Severity::Slow, "{report}");
}

#[test]
fn unreadable_modules_fail() {
    let corrupt = EmbeddedModule {
        fatbin: b"junk",
        ..SCALE_SM90
    };
    let report = DoctorReport::new(
        host("13.0", vec![device(0, "NVIDIA H200", (9, 0))]),
        vec![Subject::of(&corrupt)],
    );
    assert_eq!(report.severity(), Severity::Fails);
    assert!(
        report.verdict().starts_with("fails: cannot read `scale`"),
        "{report}"
    );
}

#[test]
fn the_probe_never_panics() {
    // On a machine without a driver this is the static part; with one, every device.
    let report = doctor(&[&SCALE_SM90]);
    assert!(!report.verdict().is_empty());
}
