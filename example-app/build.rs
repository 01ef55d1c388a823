//! Compiles the example's kernels into fat binaries with SASS for every configured target.

fn main() {
    sasskit_build::Build::new()
        .files([
            "../kernels/saxpy.cu",
            "../kernels/reduce.cu",
            "../kernels/matmul.cu",
            "../kernels/halfs.cu",
            "../kernels/unary.cu",
        ])
        .compile();
}
