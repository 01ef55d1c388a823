// No `.cu` file of that name was compiled.
sasskit::kernels!(saxpy_sm91);

fn main() {}
