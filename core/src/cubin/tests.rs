//! Tests on a real cubin: `core/tests/fixtures/params_sm90.cubin`, built by nvcc 13.0 from
//! `params_sm90.cu` with `nvcc -cubin -gencode arch=compute_90,code=sm_90`. The expected
//! layouts are the ones `cuobjdump -elf` prints for it.

use proptest::prelude::*;

use super::*;

const FIXTURE: &[u8] = include_bytes!("../../tests/fixtures/params_sm90.cubin");

fn slot(ordinal: u16, offset: u16, size: u16) -> ParamSlot {
    ParamSlot {
        ordinal,
        offset,
        size,
    }
}

fn kernel<'a>(kernels: &'a [KernelParams], name: &str) -> &'a KernelParams {
    kernels
        .iter()
        .find(|kernel| kernel.name == name)
        .unwrap_or_else(|| panic!("no kernel `{name}`"))
}

#[test]
fn lists_every_kernel() {
    let kernels = kernels(FIXTURE).unwrap();
    let names: Vec<&str> = kernels.iter().map(|kernel| kernel.name.as_str()).collect();
    assert_eq!(names, ["big", "unused", "empty", "mix"]);
}

#[test]
fn scalar_pointer_and_half_sizes() {
    // mix(int, float, double, float*, __half, bool, char, const int*)
    let kernels = kernels(FIXTURE).unwrap();
    let mix = kernel(&kernels, "mix");
    assert_eq!(
        mix.params,
        [
            slot(0, 0x00, 4),
            slot(1, 0x04, 4),
            slot(2, 0x08, 8),
            slot(3, 0x10, 8),
            slot(4, 0x18, 2),
            slot(5, 0x1a, 1),
            slot(6, 0x1b, 1),
            slot(7, 0x20, 8),
        ]
    );
    assert_eq!(mix.buffer_size, Some(0x28));
}

#[test]
fn unused_parameters_are_recorded() {
    // unused(int, double, __nv_bfloat16, short, const float*) with an empty body
    let kernels = kernels(FIXTURE).unwrap();
    let unused = kernel(&kernels, "unused");
    assert_eq!(
        unused.params,
        [
            slot(0, 0x00, 4),
            slot(1, 0x08, 8),
            slot(2, 0x10, 2),
            slot(3, 0x12, 2),
            slot(4, 0x18, 8),
        ]
    );
    assert_eq!(unused.buffer_size, Some(0x20));
}

#[test]
fn structs_by_value_and_no_parameters() {
    let kernels = kernels(FIXTURE).unwrap();
    // big(struct { int x[5]; }, short, long long)
    let big = kernel(&kernels, "big");
    assert_eq!(
        big.params,
        [slot(0, 0x00, 20), slot(1, 0x14, 2), slot(2, 0x18, 8)]
    );
    assert_eq!(big.buffer_size, Some(0x20));
    let empty = kernel(&kernels, "empty");
    assert!(empty.params.is_empty());
    assert_eq!(empty.buffer_size, None);
}

#[test]
fn refuses_non_elf_and_other_classes() {
    assert_eq!(
        kernels(b"\x28\xb5\x2f\xfd zstd frame, long enough for an ELF header .........")
            .unwrap_err()
            .kind(),
        &CubinErrorKind::NotElf
    );
    let mut elf32 = FIXTURE.to_vec();
    elf32[4] = 1;
    assert!(matches!(
        kernels(&elf32).unwrap_err().kind(),
        CubinErrorKind::UnsupportedClass { class: 1, data: 1 }
    ));
}

#[test]
fn every_truncation_is_an_error_or_loses_nothing() {
    let full = kernels(FIXTURE).unwrap();
    for len in 0..FIXTURE.len() {
        // The program headers follow the section header table; cutting only those loses
        // nothing this reader looks at.
        match kernels(&FIXTURE[..len]) {
            Ok(found) => assert_eq!(found, full, "{len} bytes"),
            Err(error) => assert!(
                matches!(error.kind(), CubinErrorKind::Truncated { .. }),
                "{len} bytes: {error}"
            ),
        }
    }
    let shoff = usize::try_from(u64_at(FIXTURE, 0x28)).unwrap();
    assert!(kernels(&FIXTURE[..shoff]).is_err());
}

#[test]
fn bad_record_size_is_reported() {
    // The first KPARAM_INFO of the first kernel section (`big`): make its payload 11 bytes.
    let needle = [EIFMT_SVAL, EIATTR_KPARAM_INFO, 12, 0];
    let at = FIXTURE
        .windows(4)
        .position(|window| window == needle)
        .unwrap();
    let mut data = FIXTURE.to_vec();
    data[at + 2] = 11;
    let error = kernels(&data).unwrap_err();
    assert!(
        matches!(
            error.kind(),
            CubinErrorKind::BadRecordSize { .. } | CubinErrorKind::UnknownRecordFormat { .. }
        ),
        "{error}"
    );
    assert_eq!(error.offset(), at);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn mutated_input_never_panics(
        mutations in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut data = FIXTURE.to_vec();
        for (index, byte) in mutations {
            let at = index.index(data.len());
            data[at] = byte;
        }
        let truncated = &data[..cut.index(data.len() + 1)];
        if let Err(error) = kernels(truncated) {
            let _ = error.to_string();
        }
        let _ = kernels(&data);
    }

    #[test]
    fn mutated_headers_never_panic(
        mutations in prop::collection::vec((0usize..0x40, any::<u8>()), 1..4),
    ) {
        let mut data = FIXTURE.to_vec();
        for (at, byte) in mutations {
            data[at] = byte;
        }
        let _ = kernels(&data);
    }
}

#[test]
fn device_functions_with_info_sections_are_not_kernels() {
    // Under `-G`, the non-inlined `twice` gets a `.nv.info._Z5twicef` section too.
    let debug = include_bytes!("../../tests/fixtures/noinline_debug_sm90.cubin");
    assert_eq!(
        kernels(debug).unwrap(),
        [KernelParams {
            name: "scale".to_owned(),
            params: vec![slot(0, 0, 8), slot(1, 8, 4)],
            buffer_size: Some(12),
        }]
    );
}
