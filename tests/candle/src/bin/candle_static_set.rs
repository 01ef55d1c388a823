//! Links every object of candle's static-library set (`libmoe.a`, built by the port of
//! candle-kernels) into one program, by taking the address of every declared host function, so that
//! `cargo xtask verify` can check the SASS of the whole library in a linked binary; prints how
//! many functions it declares. Runs no GPU code.

use candle_kernels::library::moe;

use std::process::ExitCode;

fn main() -> ExitCode {
    let addresses = moe::ffi::addresses();
    let unresolved: Vec<&str> = addresses
        .iter()
        .filter(|(_, address)| *address == 0)
        .map(|(name, _)| *name)
        .collect();
    if !unresolved.is_empty() {
        println!("unresolved host functions: {}", unresolved.join(", "));
        return ExitCode::FAILURE;
    }
    println!(
        "{} host functions of libmoe.a linked, for {}",
        addresses.len(),
        moe::LIBRARY
            .targets
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    ExitCode::SUCCESS
}
