use std::path::PathBuf;

use proc_macro2::Span;
use sasskit_core::family::FamilySettings;
use sasskit_core::kernel::{KernelSignature, Param, ParamType, Scalar, ValueType};
use sasskit_core::manifest::{CacheStatus, FORMAT, Manifest, ModuleInfo, Origin, ToolkitInfo};

use super::*;

fn param(name: &str, c_type: &str, ty: ParamType) -> Param {
    Param {
        name: name.into(),
        c_type: c_type.into(),
        ty,
    }
}

fn located(kernels: Vec<KernelSignature>) -> Located {
    Located {
        manifest: Manifest {
            format: FORMAT,
            module: ModuleInfo {
                name: "saxpy".into(),
                source: "/src/kernels/saxpy.cu".into(),
                fatbin: "saxpy.fatbin".into(),
                targets: vec!["sm_90".into(), "sm_100".into(), "sm_121".into()],
                build_key: "0123".into(),
                cache: CacheStatus::Off,
                front_end: None,
                origin: Origin::Built,
                unavailable: None,
            },
            toolkit: ToolkitInfo {
                nvcc: "/cuda/bin/nvcc".into(),
                version: "13.0.88".into(),
                flags: vec![],
            },
            images: vec![],
            kernels,
            types: vec![],
            prebuilt: None,
            families: FamilySettings::default(),
        },
        manifest_path: PathBuf::from("/out/sasskit/saxpy.toml"),
        fatbin_path: PathBuf::from("/out/sasskit/saxpy.fatbin"),
    }
}

fn saxpy() -> KernelSignature {
    KernelSignature {
        name: "saxpy".into(),
        file: "/src/kernels/saxpy.cu".into(),
        line: 2,
        params: vec![
            param("n", "int", ParamType::Value(ValueType::Scalar(Scalar::I32))),
            param(
                "a",
                "float",
                ParamType::Value(ValueType::Scalar(Scalar::F32)),
            ),
            param(
                "x",
                "const float* __restrict__",
                ParamType::ConstPtr(ValueType::Scalar(Scalar::F32)),
            ),
            param(
                "y",
                "float* __restrict__",
                ParamType::MutPtr(ValueType::Scalar(Scalar::F32)),
            ),
        ],
        targets: every_target(),
        untyped: None,
    }
}

fn every_target() -> Vec<String> {
    vec!["sm_90".into(), "sm_100".into(), "sm_121".into()]
}

fn expand_to_string(input: &str, located: &Located) -> String {
    let input: KernelsInput = syn::parse_str(input).unwrap();
    let tokens = generate(&input, located).unwrap();
    let file: syn::File = syn::parse2(tokens).expect("the expansion parses as Rust");
    prettyplease::unparse(&file)
}

#[test]
fn saxpy_expansion() {
    let mut half = KernelSignature {
        name: "scale_f16".into(),
        file: "/src/kernels/saxpy.cu".into(),
        line: 9,
        params: vec![
            param(
                "x",
                "const __half*",
                ParamType::ConstPtr(ValueType::Scalar(Scalar::F16)),
            ),
            param(
                "type",
                "__nv_bfloat16",
                ParamType::Value(ValueType::Scalar(Scalar::Bf16)),
            ),
            param(
                "stream",
                "unsigned int",
                ParamType::Value(ValueType::Scalar(Scalar::U32)),
            ),
        ],
        targets: every_target(),
        untyped: None,
    };
    half.params.push(param(
        "arg3",
        "size_t",
        ParamType::Value(ValueType::Scalar(Scalar::Usize)),
    ));
    insta::assert_snapshot!(expand_to_string("pub saxpy", &located(vec![saxpy(), half])));
}

/// candle's types: `size_t`, fp8, `void*`, vector types, `long`; a kernel guarded by
/// `#if __CUDA_ARCH__` and one that cannot be typed.
#[test]
fn candle_types_partial_and_untyped_kernels() {
    use sasskit_core::kernel::Vector;
    let scalar = |s: Scalar| ValueType::Scalar(s);
    let cast = KernelSignature {
        name: "cast_f32_f8_e4m3".into(),
        file: "/src/cast.cu".into(),
        line: 12,
        params: vec![
            param(
                "numel",
                "const size_t",
                ParamType::Value(scalar(Scalar::Usize)),
            ),
            param(
                "info",
                "const size_t*",
                ParamType::ConstPtr(scalar(Scalar::Usize)),
            ),
            param(
                "inp",
                "const float*",
                ParamType::ConstPtr(scalar(Scalar::F32)),
            ),
            param(
                "out",
                "__nv_fp8_e4m3*",
                ParamType::MutPtr(scalar(Scalar::F8E4M3)),
            ),
        ],
        targets: every_target(),
        untyped: None,
    };
    let dequant = KernelSignature {
        name: "dequantize".into(),
        file: "/src/quantized.cu".into(),
        line: 40,
        params: vec![
            param(
                "vx",
                "const void* __restrict__",
                ParamType::ConstPtr(ValueType::Void),
            ),
            param("scratch", "void*", ParamType::MutPtr(ValueType::Void)),
            param("n", "long", ParamType::Value(scalar(Scalar::CLong))),
            param(
                "v",
                "float4",
                ParamType::Value(ValueType::Vector(Vector::from_c("float4").unwrap())),
            ),
            param(
                "h",
                "const __half2*",
                ParamType::ConstPtr(ValueType::Vector(Vector::from_c("__half2").unwrap())),
            ),
        ],
        targets: vec!["sm_100".into(), "sm_121".into()],
        untyped: None,
    };
    let untyped = KernelSignature {
        name: "by_reference".into(),
        file: "/src/quantized.cu".into(),
        line: 77,
        params: vec![],
        targets: every_target(),
        untyped: Some(
            "parameter `r` has the type `int&`, references cannot be kernel parameters".into(),
        ),
    };
    insta::assert_snapshot!(expand_to_string(
        "saxpy",
        &located(vec![cast, dequant, untyped])
    ));
}

#[test]
fn reserved_kernel_names_are_refused() {
    let mut kernel = saxpy();
    kernel.name = "load".into();
    let input: KernelsInput = syn::parse_str("saxpy").unwrap();
    let error = generate(&input, &located(vec![kernel]))
        .unwrap_err()
        .to_string();
    assert!(error.contains("the kernel `load`"), "{error}");
}

#[test]
fn unknown_modules_list_the_known_ones() {
    let dir = std::env::temp_dir().join(format!("sasskit-macro-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("saxpy.toml"), located(vec![]).manifest.to_toml()).unwrap();
    let Err(error) = crate::manifest_file::locate_in(&dir, "saxpi", Span::call_site()) else {
        panic!("found a module that does not exist");
    };
    let message = error.to_string();
    assert!(message.contains("no CUDA module `saxpi`"), "{message}");
    assert!(message.contains("compiled: saxpy"), "{message}");
}

fn echo_with_shared_types() -> Located {
    use sasskit_core::shared::{SharedType, TypeKind};
    let shared = |name: &str| ValueType::Shared(name.into());
    let mut located = located(vec![KernelSignature {
        name: "echo".into(),
        file: "/src/kernels/echo.cu".into(),
        line: 4,
        params: vec![
            param("m", "Mixed", ParamType::Value(shared("Mixed"))),
            param("out", "Mixed*", ParamType::MutPtr(shared("Mixed"))),
            param("modes", "const Mode*", ParamType::ConstPtr(shared("Mode"))),
        ],
        targets: every_target(),
        untyped: None,
    }]);
    located.manifest.types = vec![
        SharedType {
            name: "Mixed".into(),
            kind: TypeKind::Struct,
            module: "params".into(),
            header: "/src/kernels/params.h".into(),
            size: 48,
            align: 8,
        },
        SharedType {
            name: "Mode".into(),
            kind: TypeKind::Enum,
            module: "modes".into(),
            header: "/src/kernels/modes.h".into(),
            size: 4,
            align: 4,
        },
    ];
    located
}

#[test]
fn shared_types_resolve_next_to_the_module_or_where_the_input_says() {
    insta::assert_snapshot!(expand_to_string(
        "saxpy, modes = crate::gpu::modes",
        &echo_with_shared_types()
    ));
}

#[test]
fn paths_for_headers_no_kernel_uses_are_refused() {
    let input: KernelsInput = syn::parse_str("saxpy, other = crate::other").unwrap();
    let error = generate(&input, &echo_with_shared_types())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("no kernel of `saxpy` takes a type of the shared header `other`"),
        "{error}"
    );
    assert!(error.contains("`params`, `modes`"), "{error}");
}

#[test]
fn shared_types_without_a_layout_are_refused() {
    let mut located = echo_with_shared_types();
    located.manifest.types.pop();
    let input: KernelsInput = syn::parse_str("saxpy").unwrap();
    let error = generate(&input, &located).unwrap_err().to_string();
    assert!(error.contains("no layout for `Mode`"), "{error}");
}

/// `affine_f32`/`affine_f16` (a type passed by value too) and `cast_f32_f16`/`cast_f16_f32`
/// (two types): a generic method and a sealed trait each, the per-type methods sharing the
/// family's table.
#[test]
fn kernel_families_expansion() {
    let scalar = |s: Scalar| ValueType::Scalar(s);
    let affine = |suffix: &str, c: &str, ty: Scalar, line: u32| KernelSignature {
        name: format!("affine_{suffix}"),
        file: "/src/affine.cu".into(),
        line,
        params: vec![
            param(
                "numel",
                "const size_t",
                ParamType::Value(scalar(Scalar::Usize)),
            ),
            param(
                "inp",
                &format!("const {c}*"),
                ParamType::ConstPtr(scalar(ty)),
            ),
            param("out", &format!("{c}*"), ParamType::MutPtr(scalar(ty))),
            param("mul", &format!("const {c}"), ParamType::Value(scalar(ty))),
        ],
        targets: every_target(),
        untyped: None,
    };
    let cast = |from: (&str, &str, Scalar), to: (&str, &str, Scalar), line: u32| KernelSignature {
        name: format!("cast_{}_{}", from.0, to.0),
        file: "/src/cast.cu".into(),
        line,
        params: vec![
            param(
                "numel",
                "const size_t",
                ParamType::Value(scalar(Scalar::Usize)),
            ),
            param(
                "inp",
                &format!("const {}*", from.1),
                ParamType::ConstPtr(scalar(from.2)),
            ),
            param(
                "out",
                &format!("{}*", to.1),
                ParamType::MutPtr(scalar(to.2)),
            ),
        ],
        targets: every_target(),
        untyped: None,
    };
    let f32_ = ("f32", "float", Scalar::F32);
    let f16_ = ("f16", "__half", Scalar::F16);
    let kernels = vec![
        affine("f32", "float", Scalar::F32, 10),
        affine("f16", "__half", Scalar::F16, 11),
        cast(f32_, f16_, 20),
        cast(f16_, f32_, 21),
        saxpy(),
    ];
    insta::assert_snapshot!(expand_to_string("saxpy", &located(kernels)));
}
