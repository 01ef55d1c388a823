use sasskit_core::kernel::{ParamType, Scalar, ValueType};
use sasskit_core::library::{HostFunction, HostParam, HostParamType};

use super::{check_marks, unmarked_streams};
use crate::signature::Marks;

fn param(name: &str, c_type: &str, ty: HostParamType) -> HostParam {
    HostParam {
        name: name.to_owned(),
        c_type: c_type.to_owned(),
        ty,
    }
}

/// `launch(float* y, int n, int64_t stream)` and `count(const int* ids, void* stream)`, with
/// the marks of `marks` applied as the extraction applies them.
fn functions() -> Vec<HostFunction> {
    let function = |name: &str, line: u32, params: Vec<HostParam>| HostFunction {
        name: name.to_owned(),
        file: "/crate/k.cu".to_owned(),
        line,
        c_return: "void".to_owned(),
        returns: None,
        params,
        untyped: None,
    };
    let i64_ = ParamType::Value(ValueType::Scalar(Scalar::I64));
    vec![
        function(
            "launch",
            3,
            vec![
                param(
                    "y",
                    "float*",
                    HostParamType::Device(ParamType::MutPtr(Scalar::F32.into())),
                ),
                param(
                    "n",
                    "int",
                    HostParamType::Device(ParamType::Value(Scalar::I32.into())),
                ),
                param("stream", "int64_t", HostParamType::Stream(Some(i64_))),
            ],
        ),
        function(
            "count",
            9,
            vec![
                param(
                    "ids",
                    "const int*",
                    HostParamType::Device(ParamType::ConstPtr(Scalar::I32.into())),
                ),
                param(
                    "stream",
                    "void*",
                    HostParamType::Stream(Some(ParamType::MutPtr(ValueType::Void))),
                ),
            ],
        ),
    ]
}

fn marks(streams: &[(&str, &str)], read_only: &[(&str, &str)]) -> Marks {
    let pairs = |list: &[(&str, &str)]| {
        list.iter()
            .map(|(f, p)| ((*f).to_owned(), (*p).to_owned()))
            .collect()
    };
    Marks {
        host_pointers: Vec::new(),
        streams: pairs(streams),
        read_only: pairs(read_only),
    }
}

fn error(streams: &[(&str, &str)], read_only: &[(&str, &str)]) -> String {
    check_marks(&functions(), &marks(streams, read_only))
        .unwrap_err()
        .to_string()
}

#[test]
fn marks_that_match_pass() {
    let marks = marks(&[("*", "stream"), ("launch", "stream")], &[("*", "ids")]);
    assert!(check_marks(&functions(), &marks).is_ok());
}

#[test]
fn a_mark_naming_no_function_is_an_error() {
    assert_eq!(
        error(&[("lunch", "stream")], &[]),
        "`StaticLibrary::stream_parameter(\"lunch\", \"stream\")` matches nothing: the library \
         defines no host function `lunch`; it defines [launch, count]; fix the function name, or \
         remove the call"
    );
}

#[test]
fn a_mark_naming_no_parameter_is_an_error_for_one_function_and_for_all() {
    assert_eq!(
        error(&[("*", "strm")], &[]),
        "`StaticLibrary::stream_parameter(\"*\", \"strm\")` matches nothing: no host function of \
         the library has a parameter of that name; fix the parameter name, or remove the call"
    );
    assert_eq!(
        error(&[("launch", "strm")], &[]),
        "`StaticLibrary::stream_parameter(\"launch\", \"strm\")` matches nothing: `launch` \
         (/crate/k.cu:3) has no parameter `strm`; its parameters are [y, n, stream]; fix the \
         parameter name, or remove the call"
    );
}

#[test]
fn a_mark_on_a_parameter_of_another_type_is_the_same_error_for_one_function_and_for_all() {
    let expected = "marks the parameter `n` of `launch` (/crate/k.cu:3) as a stream, but its \
                    type is `int`; the mark takes `void*`, `int64_t`, `uint64_t`, `intptr_t` or \
                    `uintptr_t` (`cudaStream_t` needs no mark): change the C type, or remove the \
                    call";
    assert_eq!(
        error(&[("*", "n")], &[]),
        format!("`StaticLibrary::stream_parameter(\"*\", \"n\")` {expected}")
    );
    assert_eq!(
        error(&[("launch", "n")], &[]),
        format!("`StaticLibrary::stream_parameter(\"launch\", \"n\")` {expected}")
    );
    assert_eq!(
        error(&[], &[("launch", "n")]),
        "`StaticLibrary::read_only(\"launch\", \"n\")` marks the parameter `n` of `launch` \
         (/crate/k.cu:3) as a read-only device pointer, but its type is `int`; the mark takes a \
         device pointer (`T*`; `const T*` is read-only already): change the C type, or remove \
         the call"
    );
}

#[test]
fn an_unmarked_integer_named_like_a_stream_gets_a_warning() {
    let mut functions = functions();
    assert!(unmarked_streams(&functions).is_empty());
    functions[0].params[2].ty =
        HostParamType::Device(ParamType::Value(ValueType::Scalar(Scalar::I64)));
    assert_eq!(
        unmarked_streams(&functions),
        [
            "/crate/k.cu:3: parameter `stream` of host function `launch` has the type `int64_t` and \
          the name of a stream, but is passed as a plain value: if it is a `cudaStream_t`, mark it \
          with `.stream_parameter(\"launch\", \"stream\")` (or `(\"*\", \"stream\")` for every \
          function), and the wrapper takes a `&CudaStream`"
        ]
    );
}
