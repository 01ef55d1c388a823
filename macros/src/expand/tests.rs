use std::path::PathBuf;

use proc_macro2::Span;
use sasskit_core::kernel::{KernelSignature, Param, ParamType, Scalar, ValueType};
use sasskit_core::manifest::{CacheStatus, FORMAT, Manifest, ModuleInfo, ToolkitInfo};

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
            },
            toolkit: ToolkitInfo {
                nvcc: "/cuda/bin/nvcc".into(),
                version: "13.0.88".into(),
                flags: vec![],
            },
            images: vec![],
            kernels,
            types: vec![],
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
    }
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
    };
    half.params.push(param(
        "arg3",
        "size_t",
        ParamType::Value(ValueType::Scalar(Scalar::U64)),
    ));
    insta::assert_snapshot!(expand_to_string("pub saxpy", &located(vec![saxpy(), half])));
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
