use sasskit_core::kernel::{ParamType, Scalar, ValueType};

use super::*;
use crate::shared::Registry;

const SOURCE: &str = r#"# 1 "k.cu"
typedef float real;
typedef unsigned long size_t;
extern "C" __attribute__((global)) void copy_f32(const float* __restrict__ x, float* y, size_t n) { y[0] = x[0]; }
extern "C" {
__attribute__((global)) void __attribute__((launch_bounds(256))) scale(float const* x, float* __restrict__ const y, int n, __half h) {}
__attribute__((global)) void declared_only(int n);
}
template <typename T> __attribute__((global)) void tmpl(T* x) {}
__attribute__((global)) void mangled(int* x) {}
extern "C" __attribute__((global)) void no_args() {}
extern "C" __attribute__((global)) void aliased(real r, unsigned long long big, const signed char* c) {}
"#;

#[test]
fn finds_extern_c_definitions_with_their_types() {
    let extracted = extract(SOURCE, &Registry::default());
    let names: Vec<&str> = extracted
        .kernels
        .iter()
        .map(|kernel| kernel.name.as_str())
        .collect();
    assert_eq!(names, ["copy_f32", "scale", "no_args", "aliased"]);
    let copy = &extracted.kernels[0];
    assert_eq!((copy.file.as_str(), copy.line), ("k.cu", 3));
    let types: Vec<ParamType> = copy.params.iter().map(|param| param.ty.clone()).collect();
    assert_eq!(
        types,
        [
            ParamType::ConstPtr(ValueType::Scalar(Scalar::F32)),
            ParamType::MutPtr(ValueType::Scalar(Scalar::F32)),
            ParamType::Value(ValueType::Scalar(Scalar::Usize))
        ]
    );
    assert_eq!(copy.params[0].c_type, "const float* __restrict__");
    assert_eq!(copy.params[0].name, "x");
    let scale: Vec<ParamType> = extracted.kernels[1]
        .params
        .iter()
        .map(|param| param.ty.clone())
        .collect();
    assert_eq!(
        scale,
        [
            ParamType::ConstPtr(ValueType::Scalar(Scalar::F32)),
            ParamType::MutPtr(ValueType::Scalar(Scalar::F32)),
            ParamType::Value(ValueType::Scalar(Scalar::I32)),
            ParamType::Value(ValueType::Scalar(Scalar::F16))
        ]
    );
    assert!(extracted.kernels[2].params.is_empty());
    let aliased: Vec<ParamType> = extracted.kernels[3]
        .params
        .iter()
        .map(|param| param.ty.clone())
        .collect();
    assert_eq!(
        aliased,
        [
            ParamType::Value(ValueType::Scalar(Scalar::F32)),
            ParamType::Value(ValueType::Scalar(Scalar::U64)),
            ParamType::ConstPtr(ValueType::Scalar(Scalar::I8))
        ]
    );
    assert!(untyped(&extracted).is_empty(), "{:?}", untyped(&extracted));
}

/// `file:line: kernel `name`: why` for every untyped kernel.
fn untyped(extracted: &Extracted) -> Vec<String> {
    extracted
        .kernels
        .iter()
        .filter_map(|kernel| {
            let why = kernel.untyped.as_deref()?;
            Some(format!(
                "{}:{}: kernel `{}`: {why}",
                kernel.file, kernel.line, kernel.name
            ))
        })
        .collect()
}

#[test]
fn warns_about_kernels_with_mangled_names() {
    let extracted = extract(SOURCE, &Registry::default());
    assert_eq!(extracted.mangled.len(), 2, "{:?}", extracted.mangled);
    assert!(extracted.mangled[0].contains("k.cu:8: kernel template `tmpl`"));
    assert!(extracted.mangled[1].contains("k.cu:9: kernel `mangled`"));
    assert!(extracted.mangled[1].contains("extern \"C\" __global__"));
}

#[test]
fn unsupported_types_name_kernel_parameter_type_and_position() {
    let source = "# 3 \"bad.cu\"\nstruct P { int a; };\nextern \"C\" __attribute__((global)) void k(P p, float** q, int& r) {}\n";
    let extracted = extract(source, &Registry::default());
    assert_eq!(extracted.kernels.len(), 1, "the kernel is kept, untyped");
    assert!(extracted.kernels[0].params.is_empty());
    let errors = untyped(&extracted);
    assert_eq!(errors.len(), 1, "{errors:?}");
    let problems: Vec<&str> = errors[0].split("; ").collect();
    assert!(
        problems[0].starts_with("bad.cu:4: kernel `k`: parameter `p` has the type `P`"),
        "{}",
        errors[0]
    );
    for part in ["pointer to a pointer", "references"] {
        assert!(errors[0].contains(part), "`{part}` not in {}", errors[0]);
    }
}

fn registry(types: &[&str], aliases: &[(&str, &str)]) -> Registry {
    let structs: Vec<(&str, u64, u64)> = types.iter().map(|name| (*name, 16, 8)).collect();
    crate::shared::test_registry(&structs, aliases)
}

const WITH_STRUCTS: &str = r#"# 1 "/k/shared.h"
typedef struct { unsigned char tag; double scale; } Mixed;
struct Shape { int rows; int cols; };
typedef struct Shape Shape_t;
# 1 "k.cu"
struct Local { int a; };
extern "C" __attribute__((global)) void echo(Mixed m, const Mixed* in, struct Shape* out, Shape_t s, const struct Shape) {}
extern "C" __attribute__((global)) void local(Local l) {}
"#;

#[test]
fn shared_types_pass_by_value_and_through_pointers() {
    let shared = registry(&["Mixed", "Shape"], &[("Shape_t", "Shape")]);
    let extracted = extract(WITH_STRUCTS, &shared);
    let echo = &extracted.kernels[0];
    let types: Vec<String> = echo
        .params
        .iter()
        .map(|param| param.ty.to_string())
        .collect();
    assert_eq!(
        types,
        ["Mixed", "*const Mixed", "*mut Shape", "Shape", "Shape"]
    );
    let names: Vec<&str> = echo
        .params
        .iter()
        .map(|param| param.name.as_str())
        .collect();
    assert_eq!(names, ["m", "in", "out", "s", "arg4"]);
    assert_eq!(echo.params[3].c_type, "Shape_t");
    let errors = untyped(&extracted);
    assert_eq!(errors.len(), 1, "{errors:?}");
    let error = &errors[0];
    assert!(
        error.contains("parameter `l` has the type `Local`, a struct defined in `k.cu`"),
        "{error}"
    );
    assert!(error.contains("move it into a header"), "{error}");
}

#[test]
fn a_struct_without_a_shared_header_names_the_header_and_the_feature() {
    let extracted = extract(WITH_STRUCTS, &Registry::default());
    assert!(
        extracted
            .kernels
            .iter()
            .all(|kernel| kernel.untyped.is_some())
    );
    let errors = untyped(&extracted);
    let error = &errors[0];
    assert!(
        error.starts_with("k.cu:2: kernel `echo`: parameter `m` has the type `Mixed`, a struct defined in `/k/shared.h`"),
        "{error}"
    );
    assert!(
        error.contains("`Build::shared_header(\"/k/shared.h\")`"),
        "{error}"
    );
    assert_eq!(
        error.contains("needs the `bindgen` feature of sasskit-build"),
        cfg!(not(feature = "bindgen")),
        "{error}"
    );
}

const CANDLE_LIKE: &str = r#"# 1 "k.cu"
typedef unsigned long size_t;
struct __nv_fp8_e4m3 { unsigned char __x; };
struct __align__(16) float4 { float x, y, z, w; };
typedef struct float4 float4;
extern "C" __attribute__((global)) void cast_f32_f8_e4m3(const size_t numel, const size_t num_dims, const size_t *info, const float *inp, __nv_fp8_e4m3 *out) {}
extern "C" __attribute__((global)) void dequant(const void * __restrict__ vx, float * __restrict__ y, void* scratch, long n, unsigned long m, ptrdiff_t d) {}
extern "C" __attribute__((global)) void vectors(float4 v, const __half2* h, int2* i) {}
extern "C" __attribute__((global)) void by_value_void(void v) {}
"#;

#[test]
fn candles_types_map_to_rust() {
    let extracted = extract(CANDLE_LIKE, &Registry::default());
    let types = |index: usize| -> Vec<String> {
        extracted.kernels[index]
            .params
            .iter()
            .map(|param| param.ty.to_string())
            .collect()
    };
    assert_eq!(
        types(0),
        [
            "usize",
            "usize",
            "*const usize",
            "*const f32",
            "*mut F8E4M3"
        ]
    );
    assert_eq!(
        types(1),
        [
            "*const void",
            "*mut f32",
            "*mut void",
            "c_long",
            "c_ulong",
            "isize"
        ]
    );
    assert_eq!(types(2), ["float4", "*const __half2", "*mut int2"]);
    assert_eq!(extracted.kernels[3].params, []);
    let errors = untyped(&extracted);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("kernel `by_value_void`"),
        "{}",
        errors[0]
    );
}

fn pass(targets: &[&str], source: &str) -> Pass {
    Pass {
        targets: targets.iter().map(|target| (*target).to_owned()).collect(),
        extracted: extract(source, &Registry::default()),
    }
}

#[test]
fn merged_passes_record_the_targets_of_each_kernel() {
    let hopper = "# 1 \"k.cu\"\nextern \"C\" __attribute__((global)) void both(int n) {}\n";
    let blackwell = "# 1 \"k.cu\"\nextern \"C\" __attribute__((global)) void both(int n) {}\n\
                     extern \"C\" __attribute__((global)) void tcgen05(float* x) {}\n";
    let merged = merge(vec![
        pass(&["sm_90", "compute_90"], hopper),
        pass(&["sm_100"], blackwell),
    ])
    .unwrap();
    let targets: Vec<(&str, Vec<String>)> = merged
        .kernels
        .iter()
        .map(|kernel| (kernel.name.as_str(), kernel.targets.clone()))
        .collect();
    assert_eq!(
        targets,
        [
            (
                "both",
                vec!["sm_90".into(), "compute_90".into(), "sm_100".into()]
            ),
            ("tcgen05", vec!["sm_100".into()]),
        ]
    );
}

#[test]
fn a_signature_that_differs_between_architectures_names_both() {
    let hopper = "# 1 \"k.cu\"\nextern \"C\" __attribute__((global)) void k(int n) {}\n";
    let blackwell = "# 7 \"k.cu\"\nextern \"C\" __attribute__((global)) void k(float x) {}\n";
    let error = merge(vec![pass(&["sm_90"], hopper), pass(&["sm_100"], blackwell)]).unwrap_err();
    for part in [
        "kernel `k` has different signatures",
        "void k(int n)` at k.cu:1 for sm_90",
        "void k(float x)` at k.cu:7 for sm_100",
    ] {
        assert!(error.contains(part), "`{part}` not in {error}");
    }
}
