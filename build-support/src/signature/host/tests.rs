use sasskit_core::kernel::{ParamType, Scalar, ValueType};
use sasskit_core::library::HostParamType;

use super::*;
use crate::shared::Registry;

const SOURCE: &str = r#"# 1 "/usr/include/stdlib.h"
extern "C" { int atoi_like(const char* s) { return 0; } }
# 1 "/crate/k.cu"
typedef struct CUstream_st* cudaStream_t;
typedef int int32_t;
typedef long int64_t;
template <typename T> __attribute__((global)) void scale(T* y, const T* x, T a, int n) {}
extern "C" __attribute__((global)) void kernel_itself(float* y) {}
extern "C" __attribute__((device)) float helper(float x) { return x; }
static void hidden(int n) { launch(n); }
extern "C" inline void inlined(int n) {}
extern "C" void launch_scale_f32(float* y, const float* x, float a, int32_t n, cudaStream_t stream) {
  scale<<<(n + 255) / 256, 256, 0, stream>>>(y, x, a, n);
}
extern "C" {
int count_experts(const int32_t* expert_ids, int n, const cudaStream_t s) { return n; }
void declared_only(int n);
void launch_void_stream(const void* x, void* raw_stream) {}
void launch_int_stream(float* x, int64_t n, int64_t raw_stream) {}
__attribute__((visibility("default"))) void no_args(void) {}
}
extern "C" float* returns_pointer(float* x) { return x; }
extern "C" void by_reference(int& r) {}
namespace inner { extern "C" void in_namespace(int n) {} }
void cpp_linkage(int n) {}
"#;

fn own(file: &str) -> bool {
    file.starts_with("/crate/")
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(f, p)| ((*f).to_owned(), (*p).to_owned()))
        .collect()
}

fn extract(host_pointers: &[(&str, &str)]) -> HostExtracted {
    extract_marked(host_pointers, &[])
}

fn extract_marked(host_pointers: &[(&str, &str)], read_only: &[(&str, &str)]) -> HostExtracted {
    let marks = Marks {
        host_pointers: pairs(host_pointers),
        streams: pairs(&[("*", "raw_stream")]),
        read_only: pairs(read_only),
    };
    extract_host_functions(SOURCE, &Registry::default(), &own, &marks)
}

#[test]
fn finds_exported_extern_c_definitions_of_the_crates_files() {
    let extracted = extract(&[]);
    let names: Vec<&str> = extracted
        .functions
        .iter()
        .map(|function| function.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "launch_scale_f32",
            "count_experts",
            "launch_void_stream",
            "launch_int_stream",
            "no_args",
            "returns_pointer",
            "by_reference"
        ]
    );
    let launch = &extracted.functions[0];
    assert_eq!((launch.file.as_str(), launch.line), ("/crate/k.cu", 9));
    assert_eq!(launch.returns, None);
    let types: Vec<HostParamType> = launch.params.iter().map(|p| p.ty.clone()).collect();
    assert_eq!(
        types,
        [
            HostParamType::Device(ParamType::MutPtr(ValueType::Scalar(Scalar::F32))),
            HostParamType::Device(ParamType::ConstPtr(ValueType::Scalar(Scalar::F32))),
            HostParamType::Device(ParamType::Value(ValueType::Scalar(Scalar::F32))),
            HostParamType::Device(ParamType::Value(ValueType::Scalar(Scalar::I32))),
            HostParamType::Stream(None),
        ]
    );
    assert_eq!(
        launch.c_declaration(),
        "extern \"C\" void launch_scale_f32(float* y, const float* x, float a, int32_t n, \
         cudaStream_t stream)"
    );
    let count = &extracted.functions[1];
    assert_eq!(
        count.returns,
        Some(ParamType::Value(ValueType::Scalar(Scalar::I32)))
    );
    assert_eq!(count.params[2].ty, HostParamType::Stream(None));
    let void_stream = &extracted.functions[2];
    // A marked stream keeps the C type it is declared with, for the declaration.
    assert_eq!(
        void_stream.params[1].ty,
        HostParamType::Stream(Some(ParamType::MutPtr(ValueType::Void)))
    );
    assert_eq!(
        void_stream.params[0].ty,
        HostParamType::Device(ParamType::ConstPtr(ValueType::Void))
    );
    let int_stream = &extracted.functions[3];
    assert_eq!(
        int_stream.params[2].ty,
        HostParamType::Stream(Some(ParamType::Value(ValueType::Scalar(Scalar::I64))))
    );
    assert_eq!(int_stream.params[2].c_type, "int64_t");
    // The same type unmarked stays an integer.
    assert_eq!(
        int_stream.params[1].ty,
        HostParamType::Device(ParamType::Value(ValueType::Scalar(Scalar::I64)))
    );
    assert!(extracted.functions[4].params.is_empty());
    assert!(extracted.functions[4].untyped.is_none());
}

#[test]
fn functions_that_cannot_cross_are_kept_untyped_with_a_warning() {
    let extracted = extract(&[]);
    let untyped: Vec<(&str, &str)> = extracted
        .functions
        .iter()
        .filter_map(|f| Some((f.name.as_str(), f.untyped.as_deref()?)))
        .collect();
    assert_eq!(untyped.len(), 2, "{untyped:?}");
    assert!(untyped[0].1.contains("returns `float*`"), "{untyped:?}");
    assert!(untyped[1].1.contains("references"), "{untyped:?}");
    assert_eq!(extracted.warnings.len(), 2);
    assert!(
        extracted.warnings[0].starts_with("/crate/k.cu:19: host function `returns_pointer`"),
        "{:?}",
        extracted.warnings
    );
}

#[test]
fn host_pointers_are_marked_by_the_crate() {
    let extracted = extract(&[("count_experts", "expert_ids"), ("launch_scale_f32", "n")]);
    let count = &extracted.functions[1];
    assert_eq!(
        count.params[0].ty,
        HostParamType::Host(ParamType::ConstPtr(ValueType::Scalar(Scalar::I32)))
    );
    // A mark on a parameter of another kind is not applied here; the library-wide check
    // (`library::functions`) makes it an error.
    let launch = &extracted.functions[0];
    assert!(launch.untyped.is_none(), "{launch:?}");
    assert_eq!(
        launch.params[3].ty,
        HostParamType::Device(ParamType::Value(ValueType::Scalar(Scalar::I32)))
    );
}

#[test]
fn read_only_marks_apply_to_non_const_device_pointers() {
    let extracted = extract_marked(&[], &[("*", "x"), ("launch_scale_f32", "y")]);
    let launch = &extracted.functions[0];
    assert_eq!(
        launch.params[0].ty,
        HostParamType::ReadOnly(ParamType::MutPtr(ValueType::Scalar(Scalar::F32)))
    );
    // `const float* x` is read-only already: the mark leaves it as it is.
    assert_eq!(
        launch.params[1].ty,
        HostParamType::Device(ParamType::ConstPtr(ValueType::Scalar(Scalar::F32)))
    );
    let int_stream = &extracted.functions[3];
    assert_eq!(
        int_stream.params[0].ty,
        HostParamType::ReadOnly(ParamType::MutPtr(ValueType::Scalar(Scalar::F32)))
    );
}
