//! Start-up cost of candle's 11 modules, side by side in one process on a GPU: the generated
//! `Module::load` of each against raw `cuModuleLoadData` of the same embedded bytes and of a
//! copy of them, and (given candle's PTX) the same kernels JIT-compiled from PTX.
//!
//! `candle_checks startup first <generated|sasskit|raw|raw-copy>` times the first load of all
//! 11 in a fresh process (run once per way, each in its own process);
//! `candle_checks startup file <folder> <sasskit|raw>` does the same for the 11 fat binaries
//! `<module>.fatbin` of a folder, read into memory first (untimed): the same kernels stored
//! another way, such as another `--compress-mode` (`cargo xtask gpu-bundle` packs them);
//! `candle_checks startup median [<ptx folder>]` times repeated loads (medians) and
//! `load_on_every_device`, and the cold JIT of the PTX files in the folder, if one is given
//! (run it with `CUDA_CACHE_DISABLE=1`).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sasskit::cudarc::driver::{CudaContext, result};
use sasskit::{EmbeddedModule, LoadPolicy};

use crate::{affine, binary, cast, conv, fill, indexing, quantized, reduce, sort, ternary, unary};

/// The embedded modules, in the order candle lists them.
const MODULES: [&EmbeddedModule; 11] = [
    &affine::EMBEDDED,
    &binary::EMBEDDED,
    &cast::EMBEDDED,
    &conv::EMBEDDED,
    &fill::EMBEDDED,
    &indexing::EMBEDDED,
    &quantized::EMBEDDED,
    &reduce::EMBEDDED,
    &sort::EMBEDDED,
    &ternary::EMBEDDED,
    &unary::EMBEDDED,
];

const ROUNDS: usize = 15;

/// One way of loading all 11 modules.
type Way<'a> = (&'static str, &'a dyn Fn() -> Result<(), String>);

/// Runs `candle_checks startup …`; `Err` is a message for the user.
pub(crate) fn run(ctx: &Arc<CudaContext>, args: &[String]) -> Result<(), String> {
    match args {
        [mode, folder, way] if mode == "file" => from_files(ctx, Path::new(folder), way),
        [mode, way] if mode == "first" => {
            let spent = match way.as_str() {
                "generated" => {
                    let mut split = Split::default();
                    let spent = timed(|| generated(ctx, &mut split))?;
                    println!(
                        "  in sasskit before the driver: {:.2?}; copy and cuModuleLoadData: {:.2?}",
                        split.setup, split.load
                    );
                    spent
                }
                "sasskit" => timed(|| through_sasskit(ctx))?,
                "raw" => timed(|| raw(ctx, false))?,
                "raw-copy" => timed(|| raw(ctx, true))?,
                other => return Err(format!("unknown way `{other}`")),
            };
            println!("first load of candle's 11 modules in this process, {way}: {spent:.2?}");
            Ok(())
        }
        [mode, rest @ ..] if mode == "median" && rest.len() <= 1 => {
            median(ctx, rest.first().map(Path::new))
        }
        _ => Err(
            "usage: candle_checks startup first <generated|sasskit|raw|raw-copy> | \
             candle_checks startup file <folder> <sasskit|raw> | \
             candle_checks startup median [<ptx folder>]"
                .to_owned(),
        ),
    }
}

fn timed(load: impl FnOnce() -> Result<(), String>) -> Result<Duration, String> {
    let started = Instant::now();
    load()?;
    Ok(started.elapsed())
}

/// Where the time of loads went, from their reports.
#[derive(Debug, Default)]
struct Split {
    /// Before the driver: device queries, the fat binary read, the image chosen.
    setup: Duration,
    /// The copy cudarc needs and `cuModuleLoadData`.
    load: Duration,
}

impl Split {
    fn add(&mut self, report: &sasskit::LoadReport) {
        self.setup += report.setup_time;
        self.load += report.load_time;
    }
}

/// The first load of all 11 modules as stored in `folder` (`<module>.fatbin`, read first and
/// untimed), through `sasskit::load` or raw `cuModuleLoadData`.
fn from_files(ctx: &Arc<CudaContext>, folder: &Path, way: &str) -> Result<(), String> {
    let mut modules = Vec::new();
    let mut bytes = 0;
    for module in MODULES {
        let path = folder.join(format!("{}.fatbin", module.name));
        let fatbin = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        bytes += fatbin.len();
        modules.push(EmbeddedModule {
            name: module.name,
            // Lives as long as the process, as an embedded fat binary does.
            fatbin: Vec::leak(fatbin),
            build: module.build,
        });
    }
    let mut split = Split::default();
    let spent = match way {
        "sasskit" => timed(|| {
            for module in &modules {
                let loaded =
                    sasskit::load(ctx, module, LoadPolicy::SassOnly).map_err(|e| e.to_string())?;
                split.add(loaded.report());
            }
            Ok(())
        })?,
        "raw" => timed(|| {
            ctx.bind_to_thread().map_err(|e| e.to_string())?;
            modules
                .iter()
                .try_for_each(|module| load_and_unload(module.fatbin))
        })?,
        other => return Err(format!("unknown way `{other}`")),
    };
    println!(
        "first load of candle's 11 modules in this process, {} ({bytes} bytes), {way}: {spent:.2?}",
        folder.display()
    );
    if way == "sasskit" {
        println!(
            "  in sasskit before the driver: {:.2?}; copy and cuModuleLoadData: {:.2?}",
            split.setup, split.load
        );
    }
    Ok(())
}

/// The generated `Module::load` of every module, each dropped (so unloaded) before the next
/// loads, as the other ways do.
fn generated(ctx: &Arc<CudaContext>, split: &mut Split) -> Result<(), String> {
    let error = |error: sasskit::LoadError| error.to_string();
    macro_rules! load_and_drop {
        ($($module:ident),*) => {$(
            let loaded = $module::Module::load(ctx).map_err(error)?;
            split.add(loaded.loaded().report());
            drop(loaded);
        )*};
    }
    load_and_drop!(
        affine, binary, cast, conv, fill, indexing, quantized, reduce, sort, ternary, unary
    );
    Ok(())
}

fn through_sasskit(ctx: &Arc<CudaContext>) -> Result<(), String> {
    for module in MODULES {
        drop(sasskit::load(ctx, module, LoadPolicy::SassOnly).map_err(|e| e.to_string())?);
    }
    Ok(())
}

/// Raw `cuModuleLoadData` of each module's embedded bytes (or of a fresh copy), then unload.
fn raw(ctx: &Arc<CudaContext>, copy: bool) -> Result<(), String> {
    ctx.bind_to_thread().map_err(|e| e.to_string())?;
    for module in MODULES {
        let copied;
        let bytes: &[u8] = if copy {
            copied = module.fatbin.to_vec();
            &copied
        } else {
            module.fatbin
        };
        load_and_unload(bytes)?;
    }
    Ok(())
}

fn load_and_unload(bytes: &[u8]) -> Result<(), String> {
    // SAFETY: `bytes` is a complete fat binary or NUL-terminated PTX that outlives the call,
    // and the module is unloaded right away.
    unsafe {
        let handle =
            result::module::load_data(bytes.as_ptr().cast()).map_err(|e| format!("{e:?}"))?;
        result::module::unload(handle).map_err(|e| format!("{e:?}"))
    }
}

fn median(ctx: &Arc<CudaContext>, ptx: Option<&Path>) -> Result<(), String> {
    let ways: [Way<'_>; 4] = [
        ("(a) generated Module::load", &|| {
            generated(ctx, &mut Split::default())
        }),
        ("(a') sasskit::load", &|| through_sasskit(ctx)),
        ("(b) raw cuModuleLoadData, embedded bytes", &|| {
            raw(ctx, false)
        }),
        ("(b') raw cuModuleLoadData of a copy", &|| raw(ctx, true)),
    ];
    for (_, load) in &ways {
        load()?; // warm-up
    }
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); ways.len()];
    for _ in 0..ROUNDS {
        // Interleaved, so that drift hits every way alike.
        for (index, (_, load)) in ways.iter().enumerate() {
            samples[index].push(timed(load)?);
        }
    }
    let medians: Vec<Duration> = samples
        .into_iter()
        .map(|mut times| {
            times.sort_unstable();
            times[times.len() / 2]
        })
        .collect();
    println!(
        "candle's 11 modules, all loaded then unloaded, medians of {ROUNDS} interleaved rounds:"
    );
    for ((name, _), median) in ways.iter().zip(&medians) {
        println!("  {name:<44} {median:>10.2?}");
    }
    let ratio = |a: usize, b: usize| medians[a].as_secs_f64() / medians[b].as_secs_f64();
    println!(
        "  (a)/(b') = {:.3}   (a)/(b) = {:.3}   (a')/(b') = {:.3}",
        ratio(0, 3),
        ratio(0, 2),
        ratio(1, 3)
    );
    let every = timed(|| {
        for module in MODULES {
            drop(
                sasskit::load_on_every_device(module, LoadPolicy::SassOnly)
                    .map_err(|e| e.to_string())?,
            );
        }
        Ok(())
    })?;
    println!("  load_on_every_device of all 11 (once)             {every:>10.2?}");
    if let Some(folder) = ptx {
        let mut files: Vec<_> = std::fs::read_dir(folder)
            .map_err(|e| format!("{}: {e}", folder.display()))?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "ptx"))
            .collect();
        files.sort();
        ctx.bind_to_thread().map_err(|e| e.to_string())?;
        let mut jit = Duration::ZERO;
        for file in &files {
            let mut text = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
            text.push(0);
            jit += timed(|| load_and_unload(&text))?;
        }
        println!(
            "  (c) PTX JIT of the same kernels, {} files, cold (once)  {jit:>10.2?}",
            files.len()
        );
        println!(
            "  (c)/(a) = {:.0}",
            jit.as_secs_f64() / medians[0].as_secs_f64()
        );
    }
    Ok(())
}
