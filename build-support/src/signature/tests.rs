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
            ParamType::Value(ValueType::Scalar(Scalar::U64))
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
    assert!(extracted.errors.is_empty(), "{:?}", extracted.errors);
}

#[test]
fn warns_about_kernels_with_mangled_names() {
    let extracted = extract(SOURCE, &Registry::default());
    assert_eq!(extracted.warnings.len(), 2, "{:?}", extracted.warnings);
    assert!(extracted.warnings[0].contains("k.cu:8: kernel template `tmpl`"));
    assert!(extracted.warnings[1].contains("k.cu:9: kernel `mangled`"));
    assert!(extracted.warnings[1].contains("extern \"C\" __global__"));
}

#[test]
fn unsupported_types_name_kernel_parameter_type_and_position() {
    let source = "# 3 \"bad.cu\"\nstruct P { int a; };\nextern \"C\" __attribute__((global)) void k(P p, float** q, int& r) {}\n";
    let extracted = extract(source, &Registry::default());
    assert!(extracted.kernels.is_empty());
    assert_eq!(extracted.errors.len(), 3, "{:?}", extracted.errors);
    assert!(
        extracted.errors[0].starts_with("bad.cu:4: kernel `k`: parameter `p` has the type `P`"),
        "{}",
        extracted.errors[0]
    );
    assert!(
        extracted.errors[1].contains("pointer to a pointer"),
        "{}",
        extracted.errors[1]
    );
    assert!(
        extracted.errors[2].contains("references"),
        "{}",
        extracted.errors[2]
    );
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
    assert_eq!(extracted.errors.len(), 1, "{:?}", extracted.errors);
    let error = &extracted.errors[0];
    assert!(
        error.contains("parameter `l` has the type `Local`, a struct defined in `k.cu`"),
        "{error}"
    );
    assert!(error.contains("move it into a header"), "{error}");
}

#[test]
fn a_struct_without_a_shared_header_names_the_header_and_the_feature() {
    let extracted = extract(WITH_STRUCTS, &Registry::default());
    assert!(extracted.kernels.is_empty());
    let error = &extracted.errors[0];
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
