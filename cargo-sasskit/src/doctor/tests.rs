use super::*;
use sasskit::{ComputeCapability, DeviceInfo, ModuleLoading};

const SM90: &[u8] = include_bytes!("../../../runtime/tests/fixtures/scale_sm90.fatbin");
const PTX80: &[u8] = include_bytes!("../../../runtime/tests/fixtures/scale_compute80.fatbin");
const PTX80_ISA95: &[u8] =
    include_bytes!("../../../runtime/tests/fixtures/scale_compute80_isa95.fatbin");

/// A file holding `containers` between other bytes, as an executable does.
fn binary(containers: &[&[u8]]) -> Vec<u8> {
    let mut data = b"\x7fELF host code".to_vec();
    for container in containers {
        while !data.len().is_multiple_of(8) {
            data.push(0);
        }
        data.extend_from_slice(container);
        data.extend_from_slice(b"more host code");
    }
    data
}

fn h200_on(driver: &str) -> Host {
    Host {
        driver: Ok(Release::parse(driver)),
        devices: vec![DeviceInfo {
            index: 0,
            name: "NVIDIA H200".into(),
            compute_capability: ComputeCapability::new(9, 0),
        }],
        module_loading: ModuleLoading::Lazy,
    }
}

#[test]
fn reads_the_nvcc_release_from_the_cubin_tool_note() {
    let found = subjects(&binary(&[SM90]), &Origins::default());
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].nvcc, Some(Release::new(13, 0)));
    assert!(
        found[0].name.starts_with("container 0x"),
        "{}",
        found[0].name
    );
    assert_eq!(
        release_in_note(b"x Cuda compilation tools, release 12.9, V12.9.86"),
        Some(Release::new(12, 9))
    );
    assert_eq!(release_in_note(b"Cuda compilation tools, release "), None);
    assert_eq!(release_in_note(b"nothing"), None);
}

#[test]
fn sass_and_ptx_containers_on_one_gpu() {
    let found = subjects(&binary(&[SM90, PTX80]), &Origins::default());
    let report = DoctorReport::new(h200_on("13.0"), found);
    assert_eq!(report.severity(), Severity::Slow, "{report}");
    assert_eq!(report.severity().exit_code(), 1);
    let text = report.to_string();
    assert!(text.contains(": sass sm_90 (exact)"), "{text}");
    assert!(
        text.contains(": JIT of ptx compute_80 at every load (PTX of CUDA 13.0)"),
        "{text}"
    );
}

#[test]
fn ptx_newer_than_the_driver_fails_by_its_isa() {
    let found = subjects(&binary(&[PTX80_ISA95]), &Origins::default());
    assert_eq!(
        found[0].nvcc, None,
        "a PTX-only container has no cubin tool note"
    );
    let report = DoctorReport::new(h200_on("13.0"), found.clone());
    assert_eq!(report.severity().exit_code(), 2, "{report}");
    assert!(
        report
            .to_string()
            .contains("from CUDA 13.5, newer than the driver's CUDA 13.0"),
        "{report}"
    );
    let report = DoctorReport::new(h200_on("13.5"), found);
    assert_eq!(report.severity(), Severity::Slow, "{report}");
}

#[test]
fn a_corrupt_container_fails() {
    let mut corrupt = SM90.to_vec();
    corrupt.truncate(SM90.len() - 100);
    let found = subjects(&binary(&[&corrupt]), &Origins::default());
    assert!(
        found.iter().any(|subject| subject.images.is_err()),
        "{found:?}"
    );
    let report = DoctorReport::new(h200_on("13.0"), found);
    assert_eq!(report.severity(), Severity::Fails, "{report}");
}

#[test]
fn a_file_without_kernels_is_an_error() {
    let dir = std::env::temp_dir().join(format!("cargo-sasskit-doctor-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join("plain");
    fs::write(&path, b"\x7fELF no kernels here").unwrap();
    let error = file(&path, &Origins::default()).unwrap_err();
    assert!(
        error.to_string().contains("embeds no fat binary"),
        "{error}"
    );
    let missing = file(&dir.join("missing"), &Origins::default()).unwrap_err();
    assert!(
        missing.to_string().starts_with("failed to read"),
        "{missing}"
    );
    fs::remove_dir_all(&dir).unwrap();
}
