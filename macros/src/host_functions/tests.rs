use sasskit_core::library::LibraryManifest;

use super::*;

const MANIFEST: &str = r#"format = 1

[library]
name = "scale"
archive = "libscale.a"
targets = ["sm_90", "sm_100"]
build_key = "9c1e2f3a4b5c6d7e"
cache = "off"

[toolkit]
nvcc = "/usr/local/cuda/bin/nvcc"
version = "13.0.88"

[[functions]]
name = "launch_scale_f32"
file = "/crate/kernels/scale.cu"
line = 9
c_return = "void"
params = [
  { name = "y", c_type = "float*", ty = "*mut f32" },
  { name = "x", c_type = "const float*", ty = "*const f32" },
  { name = "raw", c_type = "const void*", ty = "*const void" },
  { name = "ids", c_type = "const int32_t*", ty = "host *const i32" },
  { name = "a", c_type = "float", ty = "f32" },
  { name = "stream", c_type = "cudaStream_t", ty = "stream" },
]

[[functions]]
name = "library_answer"
file = "/crate/kernels/scale.cu"
line = 14
c_return = "int"
returns = "i32"

[[functions]]
name = "by_reference"
file = "/crate/kernels/scale.cu"
line = 15
c_return = "void"
untyped = "parameter 1 `int & r`: references cannot be kernel parameters"
"#;

fn expanded() -> String {
    let input: KernelsInput = syn::parse_str("pub scale").unwrap();
    let located = LocatedLibrary {
        manifest: LibraryManifest::from_toml(MANIFEST).unwrap(),
        manifest_path: PathBuf::from("/out/sasskit/scale.library.toml"),
    };
    let tokens = generate(&input, &located).unwrap();
    let file: syn::File = syn::parse2(tokens).unwrap();
    prettyplease::unparse(&file)
}

#[test]
fn declarations_and_wrappers() {
    insta::assert_snapshot!(expanded());
}

#[test]
fn a_function_named_like_a_method_is_refused() {
    let input: KernelsInput = syn::parse_str("scale").unwrap();
    let located = LocatedLibrary {
        manifest: LibraryManifest::from_toml(
            &MANIFEST.replace("name = \"library_answer\"", "name = \"check\""),
        )
        .unwrap(),
        manifest_path: PathBuf::from("/out/sasskit/scale.library.toml"),
    };
    let error = generate(&input, &located).unwrap_err().to_string();
    assert!(error.contains("has the name of a method"), "{error}");
}

/// An optional library whose functions take streams as integers and as `void*`, and a
/// non-const input declared read-only.
const MARKED: &str = r#"format = 1

[library]
name = "rope"
archive = "librope.a"
targets = ["sm_90a"]
build_key = "9c1e2f3a4b5c6d7e"
cache = "off"
optional = true

[toolkit]
nvcc = "/usr/local/cuda/bin/nvcc"
version = "13.0.88"

[[functions]]
name = "rope_f32"
file = "/crate/kernels/rope.cu"
line = 4
c_return = "void"
params = [
  { name = "dst", c_type = "float*", ty = "*mut f32" },
  { name = "cos", c_type = "float*", ty = "readonly *mut f32" },
  { name = "raw", c_type = "void*", ty = "readonly *mut void" },
  { name = "n", c_type = "int64_t", ty = "i64" },
  { name = "stream", c_type = "int64_t", ty = "stream as i64" },
]

[[functions]]
name = "copy_u8"
file = "/crate/kernels/rope.cu"
line = 11
c_return = "void"
params = [
  { name = "src", c_type = "const void*", ty = "*const void" },
  { name = "stream", c_type = "void*", ty = "stream as *mut void" },
]
"#;

fn expanded_marked() -> String {
    let input: KernelsInput = syn::parse_str("pub rope").unwrap();
    let located = LocatedLibrary {
        manifest: LibraryManifest::from_toml(MARKED).unwrap(),
        manifest_path: PathBuf::from("/out/sasskit/rope.library.toml"),
    };
    let tokens = generate(&input, &located).unwrap();
    let file: syn::File = syn::parse2(tokens).unwrap();
    prettyplease::unparse(&file)
}

#[test]
fn integer_and_pointer_streams_read_only_pointers_and_an_optional_library() {
    let expanded = expanded_marked();
    let flat = expanded.split_whitespace().collect::<Vec<_>>().join(" ");
    // The declarations keep the C types; only the wrappers convert.
    for declaration in [
        "pub fn rope_f32( dst: *mut f32, cos: *mut f32, raw: *mut ::core::ffi::c_void, n: i64, \
         stream: i64, );",
        "pub fn copy_u8( src: *const ::core::ffi::c_void, stream: *mut ::core::ffi::c_void, );",
    ] {
        assert!(
            flat.contains(declaration),
            "{declaration} not in {expanded}"
        );
    }
    assert!(!expanded.contains("takes no stream"), "{expanded}");
    insta::assert_snapshot!(expanded);
}

#[test]
fn a_stream_passed_as_void_pointer_keeps_its_c_type_in_ffi() {
    // candle-kernels' launchers take `void* stream`; crates coerce `ffi`'s functions to their own
    // `unsafe extern "C" fn(…, *mut c_void)` types, so the declaration must keep the C type,
    // while the wrapper takes a `&CudaStream` and converts its handle.
    let input: KernelsInput = syn::parse_str("scale").unwrap();
    let located = LocatedLibrary {
        manifest: LibraryManifest::from_toml(&MANIFEST.replace(
            r#"{ name = "stream", c_type = "cudaStream_t", ty = "stream" }"#,
            r#"{ name = "stream", c_type = "void*", ty = "stream" }"#,
        ))
        .unwrap(),
        manifest_path: PathBuf::from("/out/sasskit/scale.library.toml"),
    };
    let tokens = generate(&input, &located).unwrap();
    let code = prettyplease::unparse(&syn::parse2(tokens).unwrap());
    assert!(
        code.contains("a: f32,\n                stream: *mut ::core::ffi::c_void,\n            );"),
        "{code}"
    );
    assert!(
        code.contains("stream: &::sasskit::__private::cudarc::driver::CudaStream"),
        "{code}"
    );
    assert!(code.contains("stream.cu_stream() as _"), "{code}");
}
