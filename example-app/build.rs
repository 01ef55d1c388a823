//! Compiles the example's kernels into fat binaries with SASS for every configured target.

fn main() {
    sasskit_build::Build::new()
        .files([
            "../kernels/saxpy.cu",
            "../kernels/reduce.cu",
            "../kernels/matmul.cu",
            "../kernels/halfs.cu",
            "../kernels/unary.cu",
            "../kernels/echo.cu",
        ])
        // `Mixed` and `Layout`, which echo.cu's kernels take: Rust types through bindgen.
        .shared_header("../kernels/params.h")
        .compile();
}
