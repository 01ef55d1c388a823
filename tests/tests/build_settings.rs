//! `Build` behaves as a `cc::Build` user expects: defines, the host compiler switch, cargo's
//! profile, cargo output that can be turned off, and no rerun for unrelated `PATH` changes.
//! Throwaway crates built with cargo and real nvcc behind a logging wrapper (tier 1).

use std::path::{Path, PathBuf};

use sasskit_tests::throwaway::Throwaway;
use sasskit_tests::toolchain::{Tool, require_or_skip};

const KERNEL: &str = "extern \"C\" __global__ void k(float* x) {\n\
                      #ifdef SCALE\n    x[0] = SCALE;\n#endif\n}\n";
const UNTYPED: &str = "extern \"C\" __global__ void refs(float** rows) {}\n";

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("build_settings")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The suite's one target directory for throwaway crates.
fn shared_target() -> PathBuf {
    sasskit_tests::throwaway::shared_target_dir()
}

fn krate(test: &str, nvcc: &Path, files: &[(&str, &str)]) -> Throwaway {
    Throwaway::new(
        &scratch(test),
        test,
        &shared_target(),
        nvcc,
        files,
        "archs = [\"sm_90\"]",
    )
}

/// The nvcc command lines of the fat binary compilations.
fn compiles(krate: &Throwaway) -> Vec<String> {
    krate.fatbin_compiles()
}

#[test]
fn define_with_a_value_ccbin_and_the_profiles_line_info() {
    let Some(nvcc) = require_or_skip("build_settings: define, ccbin, lineinfo", Tool::Nvcc) else {
        return;
    };
    let krate = krate("settings_flags", &nvcc, &[("kernels/k.cu", KERNEL)]);
    krate.set_build_rs(
        "fn main() {\n    sasskit_build::Build::new().file(\"kernels/k.cu\").define(\"SCALE\", \"2.0f\").compile();\n}\n",
    );
    krate.build_ok(&[]);
    let first = compiles(&krate);
    assert_eq!(first.len(), 1, "{first:?}");
    assert!(first[0].contains("-DSCALE=2.0f"), "{}", first[0]);
    assert!(
        first[0].contains("-ccbin"),
        "cc's host compiler by default: {}",
        first[0]
    );
    assert!(first[0].contains("-lineinfo"), "dev profile: {}", first[0]);
    assert!(
        !first[0].contains(" -G"),
        "never -G unless asked: {}",
        first[0]
    );

    // `debug = false` in the profile: no line information.
    krate.build_ok(&[("CARGO_PROFILE_DEV_DEBUG", "false")]);
    let second = compiles(&krate);
    assert_eq!(second.len(), 2, "a profile change rebuilds: {second:?}");
    assert!(!second[1].contains("-lineinfo"), "{}", second[1]);

    krate.set_build_rs(
        "fn main() {\n    sasskit_build::Build::new().file(\"kernels/k.cu\").define(\"SCALE\", None).ccbin(false).compile();\n}\n",
    );
    krate.build_ok(&[]);
    let third = compiles(&krate);
    let last = third.last().unwrap();
    assert!(!last.contains("-ccbin"), "ccbin(false): {last}");
    assert!(
        last.contains("-DSCALE ") || last.ends_with("-DSCALE"),
        "{last}"
    );
}

#[test]
fn cargo_warnings_can_be_turned_off() {
    let Some(nvcc) = require_or_skip("build_settings: cargo_warnings", Tool::Nvcc) else {
        return;
    };
    let krate = krate("settings_warnings", &nvcc, &[("kernels/refs.cu", UNTYPED)]);
    let build = krate.build_ok(&[]);
    let stderr = String::from_utf8_lossy(&build.stderr);
    assert!(
        stderr.contains("kernel `refs` gets no typed wrapper"),
        "warned by default: {stderr}"
    );
    krate.set_build_rs(
        "fn main() {\n    sasskit_build::Build::new().file(\"kernels/refs.cu\").cargo_warnings(false).compile();\n}\n",
    );
    let build = krate.build_ok(&[]);
    let stderr = String::from_utf8_lossy(&build.stderr);
    assert!(!stderr.contains("gets no typed wrapper"), "{stderr}");
}

#[test]
fn changing_only_path_does_not_rerun_the_build_script() {
    let Some(nvcc) = require_or_skip("build_settings: PATH", Tool::Nvcc) else {
        return;
    };
    let krate = krate("settings_path", &nvcc, &[("kernels/k.cu", KERNEL)]);
    krate.build_ok(&[]);
    let calls = krate.nvcc_calls().len();
    let path = sasskit_tests::process::env_var("PATH").unwrap_or_default();
    let mut dirs = vec![scratch("settings_path_extra")];
    dirs.extend(std::env::split_paths(&path));
    let changed = std::env::join_paths(dirs).unwrap();
    krate.build_ok(&[("PATH", changed.to_str().unwrap())]);
    assert_eq!(
        krate.nvcc_calls().len(),
        calls,
        "a PATH change alone must not rerun the build script (it would preprocess every file)"
    );
}
