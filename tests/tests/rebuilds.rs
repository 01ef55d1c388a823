//! Rebuild triggers and caches that never serve the wrong architecture: throwaway crates built
//! with cargo and real nvcc behind a wrapper that logs every invocation.

use std::path::{Path, PathBuf};

use sasskit_tests::throwaway::Throwaway;
use sasskit_tests::toolchain::{Tool, require_or_skip, workspace_root};

const KERNEL_A: &str =
    "#include \"common.cuh\"\nextern \"C\" __global__ void a(float* x) { x[0] = SCALE; }\n";
const KERNEL_B: &str = "extern \"C\" __global__ void b(int* x) { x[0] = 1; }\n";
const HEADER: &str = "#pragma once\n#define SCALE 2.0f\n";

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("rebuilds")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The suite's one target directory for throwaway crates.
fn shared_target() -> PathBuf {
    sasskit_tests::throwaway::shared_target_dir()
}

fn two_kernel_crate(
    root: &Path,
    name: &str,
    nvcc: &Path,
    target: &Path,
    metadata: &str,
) -> Throwaway {
    Throwaway::new(
        root,
        name,
        target,
        nvcc,
        &[
            ("kernels/a.cu", KERNEL_A),
            ("kernels/common.cuh", HEADER),
            ("kernels/b.cu", KERNEL_B),
        ],
        metadata,
    )
}

#[test]
fn no_change_means_no_nvcc_and_a_header_change_recompiles_only_its_includers() {
    let Some(nvcc) = require_or_skip("rebuilds: header and no-op", Tool::Nvcc) else {
        return;
    };
    let root = scratch("header");
    let krate = two_kernel_crate(
        &root,
        "header_crate",
        &nvcc,
        &shared_target(),
        "archs = [\"sm_90\"]",
    );
    krate.build_ok(&[]);
    assert_eq!(
        krate.fatbin_compiles().len(),
        2,
        "first build compiles both files"
    );
    let calls = krate.nvcc_calls().len();

    krate.build_ok(&[]);
    assert_eq!(
        krate.nvcc_calls().len(),
        calls,
        "no change: nvcc must not run at all"
    );

    std::fs::write(
        krate.dir().join("kernels/common.cuh"),
        HEADER.replace("2.0f", "3.0f"),
    )
    .unwrap();
    let before = krate.fatbin_compiles().len();
    krate.build_ok(&[]);
    let compiles = krate.fatbin_compiles();
    let new: Vec<&String> = compiles[before..].iter().collect();
    assert_eq!(
        new.len(),
        1,
        "only the file that includes the header recompiles: {new:?}"
    );
    assert!(new[0].contains("kernels/a.cu"), "{new:?}");
}

#[test]
fn a_cold_build_preprocesses_nothing_and_records_the_keys_a_rerun_computes() {
    let Some(nvcc) = require_or_skip("rebuilds: cold build", Tool::Nvcc) else {
        return;
    };
    let root = scratch("cold");
    let krate = two_kernel_crate(
        &root,
        "cold_crate",
        &nvcc,
        &shared_target(),
        "archs = [\"sm_90\", \"sm_100\"]",
    );
    let first = krate.build_ok(&[]);
    let calls = krate.nvcc_calls();
    assert!(
        !calls.iter().any(|call| call.starts_with("-E ")),
        "a cold build takes the translation units from its compilations: {calls:#?}"
    );
    let compiles = krate.fatbin_compiles();
    assert_eq!(compiles.len(), 4, "two files, two targets: {compiles:#?}");
    assert!(
        compiles.iter().all(|call| call.contains("-keep")),
        "{compiles:#?}"
    );
    let kernels = krate.module(&first, "a").manifest.kernels;
    assert_eq!(
        kernels.len(),
        1,
        "signatures from the kept translation units"
    );
    let cold_key = krate.module(&first, "b").manifest.module.build_key;

    // The build script runs again (both sources rewritten, unchanged): it preprocesses, and
    // the keys it computes are the ones the cold build recorded, so nothing compiles.
    for file in ["kernels/a.cu", "kernels/b.cu"] {
        let path = krate.dir().join(file);
        let text = std::fs::read(&path).unwrap();
        std::fs::write(&path, text).unwrap();
    }
    let second = krate.build_ok(&[]);
    let calls = krate.nvcc_calls();
    assert!(
        calls.iter().any(|call| call.starts_with("-E ")),
        "{calls:#?}"
    );
    assert_eq!(
        krate.fatbin_compiles().len(),
        4,
        "the rerun reuses both outputs: its keys equal the cold build's"
    );
    assert_eq!(
        cold_key,
        krate.module(&second, "b").manifest.module.build_key
    );
}

#[test]
fn changing_targets_rebuilds_and_switching_back_is_a_verified_cache_hit() {
    let Some(nvcc) = require_or_skip("rebuilds: SASSKIT_ARCHS and the cache", Tool::Nvcc) else {
        return;
    };
    let root = scratch("archs");
    let cache = root.join("cache");
    let cache = cache.to_str().unwrap();
    let krate = Throwaway::new(
        &root,
        "archs_crate",
        &shared_target(),
        &nvcc,
        &[("kernels/b.cu", KERNEL_B)],
        "",
    );

    let build = krate.build_ok(&[("SASSKIT_ARCHS", "sm_90"), ("SASSKIT_CACHE_DIR", cache)]);
    let module = krate.module(&build, "b");
    assert_eq!(module.images, ["sass sm_90"]);
    assert_eq!(module.manifest.module.cache.to_string(), "miss");

    let build = krate.build_ok(&[("SASSKIT_ARCHS", "sm_100"), ("SASSKIT_CACHE_DIR", cache)]);
    let module = krate.module(&build, "b");
    assert_eq!(module.images, ["sass sm_100"], "no stale sm_90 reuse");
    assert_eq!(module.manifest.module.cache.to_string(), "miss");

    let compiles = krate.fatbin_compiles().len();
    let build = krate.build_ok(&[("SASSKIT_ARCHS", "sm_90"), ("SASSKIT_CACHE_DIR", cache)]);
    let module = krate.module(&build, "b");
    assert_eq!(module.images, ["sass sm_90"], "back to exactly sm_90");
    assert_eq!(module.manifest.module.cache.to_string(), "hit");
    assert_eq!(
        krate.fatbin_compiles().len(),
        compiles,
        "a cache hit runs no nvcc --fatbin"
    );
}

/// A kernel with a device-side warning (an unused variable), which nvcc prints when it compiles.
const KERNEL_WARNS: &str =
    "extern \"C\" __global__ void w(float* x) {\n    int unused = 3;\n    x[0] = 1.0f;\n}\n";

/// The lines of a build's output that carry nvcc's warning.
fn unused_warnings(build: &std::process::Output) -> Vec<String> {
    String::from_utf8_lossy(&build.stderr)
        .lines()
        .filter(|line| line.contains("warning #177-D"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_cache_hit_replays_the_warnings_nvcc_printed() {
    let Some(nvcc) = require_or_skip("rebuilds: replayed warnings", Tool::Nvcc) else {
        return;
    };
    let root = scratch("warned");
    let cache = root.join("cache");
    let cache = cache.to_str().unwrap();
    let krate = Throwaway::new(
        &root,
        "warned_crate",
        &shared_target(),
        &nvcc,
        &[("kernels/w.cu", KERNEL_WARNS)],
        "",
    );

    let build = krate.build_ok(&[("SASSKIT_ARCHS", "sm_90"), ("SASSKIT_CACHE_DIR", cache)]);
    let shown = unused_warnings(&build);
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert!(!shown[0].contains("(replayed from"), "{shown:?}");

    krate.build_ok(&[("SASSKIT_ARCHS", "sm_100"), ("SASSKIT_CACHE_DIR", cache)]);
    let build = krate.build_ok(&[("SASSKIT_ARCHS", "sm_90"), ("SASSKIT_CACHE_DIR", cache)]);
    assert_eq!(cache_status(&krate, &build, "w"), "hit");
    let shown = unused_warnings(&build);
    assert_eq!(shown.len(), 1, "shown once: {shown:?}");
    assert!(
        shown[0].contains("w.cu:2: warning #177-D: variable \"unused\" was declared but never referenced (nvcc for sm_90) (replayed from the build cache)"),
        "{shown:?}"
    );
}

#[test]
fn concurrent_builds_share_a_cache_and_a_corrupt_entry_is_rebuilt() {
    let Some(nvcc) = require_or_skip("rebuilds: concurrent builds", Tool::Nvcc) else {
        return;
    };
    let root = scratch("concurrent");
    let cache = root.join("cache");
    let cache_str = cache.to_str().unwrap().to_owned();
    let hopper = Throwaway::new(
        &root,
        "hopper",
        &root.join("target-hopper"),
        &nvcc,
        &[("kernels/b.cu", KERNEL_B)],
        "archs = [\"sm_90\"]",
    );
    let spark = Throwaway::new(
        &root,
        "spark",
        &root.join("target-spark"),
        &nvcc,
        &[("kernels/b.cu", KERNEL_B)],
        "archs = [\"sm_121\"]",
    );
    let envs = [("SASSKIT_CACHE_DIR", cache_str.as_str())];
    let (hopper_build, spark_build) = std::thread::scope(|scope| {
        let first = scope.spawn(|| hopper.build_ok(&envs));
        let second = scope.spawn(|| spark.build_ok(&envs));
        (first.join().unwrap(), second.join().unwrap())
    });
    assert_eq!(hopper.module(&hopper_build, "b").images, ["sass sm_90"]);
    assert_eq!(spark.module(&spark_build, "b").images, ["sass sm_121"]);

    // Truncate hopper's cache entry, then make hopper rebuild from the cache.
    let key = hopper.module(&hopper_build, "b").manifest.module.build_key;
    let entry = cache.join(&key[..2]).join(format!("{key}.fatbin"));
    let bytes = std::fs::read(&entry).unwrap();
    std::fs::write(&entry, &bytes[..bytes.len() / 2]).unwrap();
    let out_dir_manifest = std::fs::read_dir(root.join("target-hopper/debug/build"))
        .unwrap()
        .flatten()
        .map(|entry| sasskit_core::out_dir::folder(&entry.path().join("out")).join("b.toml"))
        .find(|path| path.is_file())
        .unwrap();
    std::fs::remove_file(out_dir_manifest).unwrap();
    std::fs::write(hopper.dir().join("kernels/b.cu"), KERNEL_B).unwrap(); // a new mtime
    let compiles = hopper.fatbin_compiles().len();
    let build = hopper.build_ok(&[("SASSKIT_CACHE_DIR", cache_str.as_str())]);
    let stderr = String::from_utf8_lossy(&build.stderr);
    assert!(
        stderr.contains("is corrupt or not what its key promises"),
        "the corrupt entry is reported: {stderr}"
    );
    assert_eq!(hopper.fatbin_compiles().len(), compiles + 1, "and rebuilt");
    let module = hopper.module(&build, "b");
    assert_eq!(module.images, ["sass sm_90"]);
    assert_eq!(module.manifest.module.cache.to_string(), "miss");
    // Not byte-equal to the first entry: with `-lineinfo` (cargo's dev profile) the line
    // table records the source file's modification time, which the rewrite above changed.
    let rewritten = std::fs::read(&entry).unwrap();
    let parsed = sasskit_core::FatBinary::parse(&rewritten).expect("the entry is whole again");
    let images: Vec<String> = parsed.images().iter().map(ToString::to_string).collect();
    assert_eq!(images, ["sass sm_90"], "the entry is whole again");
    assert_eq!(rewritten.len(), bytes.len());
}

/// Removes the outputs of `krate`'s last builds, so that its next build looks in the cache
/// instead of reusing them.
fn forget_previous_outputs(krate: &Throwaway, name: &str) {
    let build = krate.target_dir().join("debug").join("build");
    for entry in std::fs::read_dir(build).unwrap().flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with(&format!("{name}-"))
        {
            let outputs = sasskit_core::out_dir::folder(&entry.path().join("out"));
            let _ = std::fs::remove_dir_all(outputs);
        }
    }
    // A new mtime, so that cargo runs the build script again.
    for file in ["kernels/a.cu", "kernels/b.cu"] {
        let path = krate.dir().join(file);
        if let Ok(text) = std::fs::read(&path) {
            std::fs::write(&path, text).unwrap();
        }
    }
}

fn cache_entry(cache: &Path, key: &str) -> PathBuf {
    cache.join(&key[..2]).join(format!("{key}.fatbin"))
}

const READ_ONLY: (&str, &str) = ("SASSKIT_CACHE_MODE", "read-only");
const NO_LINE_INFO: (&str, &str) = ("CARGO_PROFILE_DEV_DEBUG", "false");

/// Anyone who can write to the cache can put another well-formed fat binary under a key: one
/// whose kernel takes other parameters is rejected with a warning naming the entry and
/// rebuilt; a read-only build leaves the entry, a read-write build replaces it.
#[test]
fn a_cache_entry_of_another_source_is_rejected_rebuilt_and_replaced() {
    let Some(nvcc) = require_or_skip("rebuilds: poisoned cache entry", Tool::Nvcc) else {
        return;
    };
    let root = scratch("poisoned");
    let cache = root.join("cache");
    let cache_str = cache.to_str().unwrap();
    let envs = [("SASSKIT_CACHE_DIR", cache_str), NO_LINE_INFO];
    let victim = Throwaway::new(
        &root,
        "poisoned_victim",
        &shared_target(),
        &nvcc,
        &[("kernels/b.cu", KERNEL_B)],
        "archs = [\"sm_90\"]",
    );
    let other = Throwaway::new(
        &root,
        "poisoned_other",
        &shared_target(),
        &nvcc,
        &[(
            "kernels/b.cu",
            "extern \"C\" __global__ void b(int* x, int n) { x[n] = 2; }\n",
        )],
        "archs = [\"sm_90\"]",
    );
    let build = victim.build_ok(&envs);
    let key = victim.module(&build, "b").manifest.module.build_key;
    let entry = cache_entry(&cache, &key);
    let build = other.build_ok(&envs);
    let other_key = other.module(&build, "b").manifest.module.build_key;
    assert_ne!(key, other_key);
    let poison = std::fs::read(cache_entry(&cache, &other_key)).unwrap();
    std::fs::write(&entry, &poison).unwrap();

    for (mode, replaced) in [("read-only", false), ("read-write", true)] {
        forget_previous_outputs(&victim, "poisoned_victim");
        let compiles = victim.fatbin_compiles().len();
        let build = victim.build_ok(&[
            ("SASSKIT_CACHE_DIR", cache_str),
            NO_LINE_INFO,
            ("SASSKIT_CACHE_MODE", mode),
        ]);
        let stderr = String::from_utf8_lossy(&build.stderr);
        assert!(
            stderr.contains(&entry.display().to_string())
                && stderr.contains("not what its key promises"),
            "{mode}: the entry is named: {stderr}"
        );
        assert_eq!(
            victim.fatbin_compiles().len(),
            compiles + 1,
            "{mode}: rebuilt"
        );
        let module = victim.module(&build, "b");
        assert_eq!(module.manifest.module.cache.to_string(), "miss");
        assert_eq!(module.manifest.kernels.len(), 1);
        assert_eq!(
            module.manifest.kernels[0].params.len(),
            1,
            "the victim's own kernel"
        );
        let stored = std::fs::read(&entry).unwrap();
        if replaced {
            assert_eq!(stored, module.fatbin, "{mode}: the entry is replaced");
        } else {
            assert_eq!(stored, poison, "{mode}: the entry stays");
        }
    }
}

/// The same source built for one more target, placed under the key of a build for one: every
/// kernel and signature matches, and the extra image still rejects it.
#[test]
fn a_cache_entry_with_an_image_for_another_target_is_rejected() {
    let Some(nvcc) = require_or_skip("rebuilds: cache entry for other targets", Tool::Nvcc) else {
        return;
    };
    let root = scratch("other_targets");
    let cache = root.join("cache");
    let cache_str = cache.to_str().unwrap();
    let envs = [("SASSKIT_CACHE_DIR", cache_str), NO_LINE_INFO];
    let victim = Throwaway::new(
        &root,
        "other_targets_victim",
        &shared_target(),
        &nvcc,
        &[("kernels/b.cu", KERNEL_B)],
        "archs = [\"sm_90\"]",
    );
    let wider = Throwaway::new(
        &root,
        "other_targets_wider",
        &shared_target(),
        &nvcc,
        &[("kernels/b.cu", KERNEL_B)],
        "archs = [\"sm_90\", \"sm_100\"]",
    );
    let build = victim.build_ok(&envs);
    let entry = cache_entry(
        &cache,
        &victim.module(&build, "b").manifest.module.build_key,
    );
    let build = wider.build_ok(&envs);
    let wide = wider.module(&build, "b");
    assert_eq!(wide.images, ["sass sm_90", "sass sm_100"]);
    std::fs::write(&entry, &wide.fatbin).unwrap();

    forget_previous_outputs(&victim, "other_targets_victim");
    let compiles = victim.fatbin_compiles().len();
    let build = victim.build_ok(&envs);
    let stderr = String::from_utf8_lossy(&build.stderr);
    assert!(
        stderr.contains(&entry.display().to_string()) && stderr.contains("sass sm_100"),
        "the entry and the extra image are named: {stderr}"
    );
    assert_eq!(victim.fatbin_compiles().len(), compiles + 1, "rebuilt");
    let module = victim.module(&build, "b");
    assert_eq!(module.images, ["sass sm_90"]);
    assert_eq!(
        std::fs::read(&entry).unwrap(),
        module.fatbin,
        "and replaced"
    );
}

/// A static library's objects go through the same cache: a read-only build that misses
/// compiles them and stores nothing, and one that hits runs no `nvcc -c` and changes nothing.
#[test]
fn a_read_only_static_library_build_reads_objects_and_writes_none() {
    let Some(nvcc) = require_or_skip("rebuilds: read-only static library", Tool::Nvcc) else {
        return;
    };
    let root = scratch("read_only_library");
    let cache = root.join("cache");
    std::fs::create_dir_all(&cache).unwrap();
    let cache_str = cache.to_str().unwrap();
    let krate = Throwaway::new(
        &root,
        "read_only_library",
        &shared_target(),
        &nvcc,
        &[(
            "kernels/b.cu",
            "#include <cuda_runtime.h>\n__global__ void twice_kernel(float* y) { y[threadIdx.x] \
             *= 2.0f; }\nextern \"C\" void launch_twice(float* y, cudaStream_t stream) {\n    \
             twice_kernel<<<1, 32, 0, stream>>>(y);\n}\n",
        )],
        "archs = [\"sm_90\"]",
    );
    krate.set_build_rs(
        "fn main() {\n    sasskit_build::Build::new().file(\"kernels/b.cu\").static_library(\"twice\").compile();\n}\n",
    );
    // `cargo check` runs the build script and links nothing.
    let check = |envs: &[(&str, &str)]| {
        let mut cargo = krate.cargo(&["check"]);
        cargo.envs(envs.iter().copied());
        let result = cargo.output().unwrap();
        assert!(
            result.status.success(),
            "{}",
            String::from_utf8_lossy(&result.stderr)
        );
    };
    let object_compiles = || {
        krate
            .nvcc_calls()
            .iter()
            .filter(|call| call.starts_with("-c "))
            .count()
    };
    let read_only = [("SASSKIT_CACHE_DIR", cache_str), NO_LINE_INFO, READ_ONLY];

    check(&read_only);
    assert_eq!(object_compiles(), 1, "a miss compiles the object");
    assert!(
        sasskit_tests::snapshot::files(&cache).is_empty(),
        "and stores nothing"
    );

    forget_previous_outputs(&krate, "read_only_library");
    check(&[("SASSKIT_CACHE_DIR", cache_str), NO_LINE_INFO]);
    assert_eq!(object_compiles(), 2);
    let before = sasskit_tests::snapshot::files(&cache);
    assert_eq!(
        before.len(),
        2,
        "a read-write build stores the object: {before:#?}"
    );

    forget_previous_outputs(&krate, "read_only_library");
    check(&read_only);
    assert_eq!(object_compiles(), 2, "a hit runs no nvcc -c");
    assert_eq!(
        sasskit_tests::snapshot::files(&cache),
        before,
        "files and mtimes unchanged"
    );
}

/// Two clones of one crate at different paths, with their own target folders, share one cache:
/// the second builds every module from it without nvcc compiling anything, and a header change
/// misses for exactly the files that include it, in both. With line information (cargo's dev
/// profile default), whose line tables name the source folder, they never share.
#[test]
fn checkouts_at_different_paths_share_the_cache() {
    let Some(nvcc) = require_or_skip("rebuilds: checkouts share the cache", Tool::Nvcc) else {
        return;
    };
    let root = scratch("checkouts");
    let cache = root.join("cache");
    let cache = cache.to_str().unwrap();
    let first = two_kernel_crate(
        &root.join("alice"),
        "checkout",
        &nvcc,
        &shared_target(),
        "archs = [\"sm_90\", \"sm_100\"]",
    );
    let second = two_kernel_crate(
        &root.join("ci").join("runner-7"),
        "checkout",
        &nvcc,
        &workspace_root()
            .join("target")
            .join("throwaway-rebuilds-second"),
        "archs = [\"sm_90\", \"sm_100\"]",
    );
    let no_line_info = [
        ("SASSKIT_CACHE_DIR", cache),
        ("CARGO_PROFILE_DEV_DEBUG", "false"),
    ];
    let build = first.build_ok(&no_line_info);
    for module in ["a", "b"] {
        assert_eq!(
            first
                .module(&build, module)
                .manifest
                .module
                .cache
                .to_string(),
            "miss"
        );
    }
    let build = second.build_ok(&no_line_info);
    for module in ["a", "b"] {
        let from_cache = second.module(&build, module);
        assert_eq!(
            from_cache.manifest.module.cache.to_string(),
            "hit",
            "{module}"
        );
        assert_eq!(from_cache.images, ["sass sm_90", "sass sm_100"]);
    }
    assert_eq!(
        second.fatbin_compiles(),
        Vec::<String>::new(),
        "no nvcc --fatbin at all"
    );

    header_byte_misses_for_its_includer_only(&first, &second, &no_line_info);

    // With `-lineinfo` the output names the source folder: no sharing across checkouts.
    let with_line_info = [("SASSKIT_CACHE_DIR", cache)];
    first.build_ok(&with_line_info);
    let build = second.build_ok(&with_line_info);
    for module in ["a", "b"] {
        assert_eq!(
            second
                .module(&build, module)
                .manifest
                .module
                .cache
                .to_string(),
            "miss"
        );
    }
}

/// One header byte: a miss for exactly its includer `a` in the first checkout, then a hit for
/// it in the second; `b` is left alone in both. Another byte in the second checkout first: a
/// miss for `a` alone there.
fn header_byte_misses_for_its_includer_only(
    first: &Throwaway,
    second: &Throwaway,
    envs: &[(&str, &str)],
) {
    for krate in [first, second] {
        std::fs::write(
            krate.dir().join("kernels/common.cuh"),
            HEADER.replace("2.0f", "4.0f"),
        )
        .unwrap();
    }
    let before = first.fatbin_compiles().len();
    let build = first.build_ok(envs);
    let compiles = first.fatbin_compiles();
    assert!(
        !compiles[before..].is_empty()
            && compiles[before..]
                .iter()
                .all(|call| call.contains("kernels/a.cu")),
        "only a.cu recompiles: {:?}",
        &compiles[before..]
    );
    assert_eq!(cache_status(first, &build, "a"), "miss");
    let build = second.build_ok(envs);
    assert_eq!(cache_status(second, &build, "a"), "hit");
    assert_eq!(second.fatbin_compiles(), Vec::<String>::new());
    // Another byte, this time in the second checkout first: it misses for `a` alone there.
    std::fs::write(
        second.dir().join("kernels/common.cuh"),
        HEADER.replace("2.0f", "5.0f"),
    )
    .unwrap();
    let build = second.build_ok(envs);
    let compiles = second.fatbin_compiles();
    assert!(
        !compiles.is_empty() && compiles.iter().all(|call| call.contains("kernels/a.cu")),
        "only a.cu recompiles in the second checkout: {compiles:?}"
    );
    assert_eq!(cache_status(second, &build, "a"), "miss");
    assert_eq!(
        cache_status(second, &build, "b"),
        "hit",
        "b's previous output, itself a cache hit, is kept"
    );
}

fn cache_status(krate: &Throwaway, build: &std::process::Output, module: &str) -> String {
    krate
        .module(build, module)
        .manifest
        .module
        .cache
        .to_string()
}

/// A nvcc compile error through a launcher names the source at file:line, as without one.
#[cfg(unix)]
#[test]
fn a_launched_compile_error_names_the_source() {
    let Some(nvcc) = require_or_skip("rebuilds: launched compile error", Tool::Nvcc) else {
        return;
    };
    let root = scratch("launched_error");
    // Preprocessing passes; only the compilation finds the undefined name.
    let krate = Throwaway::new(
        &root,
        "launched_error",
        &shared_target(),
        &nvcc,
        &[(
            "kernels/bad.cu",
            "extern \"C\" __global__ void k(float* x) { x[0] = undefined_name; }\n",
        )],
        "archs = [\"sm_90\"]",
    );
    let (script, _) = logging_launcher(&root, "launcher");
    let result = krate.build(&[
        ("CARGO_PROFILE_DEV_DEBUG", "false"),
        ("SASSKIT_NVCC_LAUNCHER", script.to_str().unwrap()),
    ]);
    assert!(!result.status.success());
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains("kernels/bad.cu:1: error: identifier \"undefined_name\" is undefined"),
        "{stderr}"
    );
    let source = krate.dir().join("kernels/bad.cu");
    assert!(
        stderr.contains(&format!("in the compilation of \"{}\"", source.display())),
        "{stderr}"
    );
    assert!(!stderr.contains("compilation of \"/dev/null\""), "{stderr}");
}

/// A launcher script that logs its current folder and arguments (`folder|args`) to the
/// returned log, then runs them.
#[cfg(unix)]
fn logging_launcher(root: &Path, name: &str) -> (PathBuf, PathBuf) {
    let log = root.join(format!("{name}.log"));
    let script = root.join(format!("{name}-launcher"));
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s|%s\\n' \"$PWD\" \"$*\" >> '{}'\nexec \"$@\"\n",
            log.display()
        ),
    )
    .unwrap();
    make_executable(&script);
    (script, log)
}

#[cfg(unix)]
fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}
