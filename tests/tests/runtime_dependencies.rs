//! The runtime crate parses nothing at load time: it does not even depend on a TOML or serde
//! crate (the macro, which runs in the compiler, reads the manifest and writes constants), so no
//! load path can parse it.

use sasskit_tests::process::{command, run};
use sasskit_tests::toolchain::workspace_root;

#[test]
fn the_runtime_depends_on_no_toml_or_serde_crate() {
    let tree = run(command(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "--locked",
            "-p",
            "sasskit",
            "-e",
            "normal,no-proc-macro",
        ])
        .args(["--prefix", "none", "--format", "{p}"])
        .current_dir(workspace_root()));
    let crates: Vec<&str> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert!(crates.contains(&"sasskit-core"), "{tree}");
    for forbidden in ["toml", "toml_edit", "toml_parser", "serde", "serde_core"] {
        assert!(
            !crates.contains(&forbidden),
            "the runtime depends on `{forbidden}`, so a load path could parse TOML:\n{tree}"
        );
    }
}
