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
