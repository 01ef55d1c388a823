//! candle's 11 modules stored every way nvcc can store them, for the GPU bundle's measurement
//! of binary size against first-load time (`candle_checks startup file`): the SASS images of
//! the port's prebuilt fat binaries, repacked by the toolkit's `fatbinary` under each
//! `--compress-mode`, and uncompressed.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sasskit_core::{FatBinary, ImageKind};

use crate::cmd::Cmd;

/// The ways of storing the images: a folder name and `fatbinary`'s flags. `none` is what nvcc
/// writes without `--compress-mode` (it compresses PTX, not SASS).
pub(crate) const MODES: [(&str, &[&str]); 4] = [
    ("none", &["--compress=false"]),
    ("speed", &["--compress-all", "--compress-mode=speed"]),
    ("balance", &["--compress-all", "--compress-mode=balance"]),
    ("size", &["--compress-all", "--compress-mode=size"]),
];

/// Writes `<into>/<mode>/<module>.fatbin` for every mode and every `.fatbin` in `prebuilt`,
/// and returns the total bytes per mode.
pub(crate) fn write(nvcc: &Path, prebuilt: &Path, into: &Path) -> Result<Vec<(&'static str, u64)>> {
    let fatbinary = nvcc.with_file_name("fatbinary");
    if !fatbinary.is_file() {
        bail!(
            "no `fatbinary` next to {}: the toolkit's fat binary tool packs the variants",
            nvcc.display()
        );
    }
    let cubins = into.join("cubins");
    fs::create_dir_all(&cubins).with_context(|| format!("creating {}", cubins.display()))?;
    let mut modules: Vec<(String, Vec<String>)> = Vec::new();
    for entry in
        fs::read_dir(prebuilt).with_context(|| format!("reading {}", prebuilt.display()))?
    {
        let path = entry?.path();
        if path.extension().is_none_or(|ext| ext != "fatbin") {
            continue;
        }
        let name = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .context("a module file name that is not UTF-8")?
            .to_owned();
        let bytes = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let fatbin = FatBinary::parse(&bytes)
            .with_context(|| format!("reading the fat binary {}", path.display()))?;
        let mut images = Vec::new();
        for image in fatbin
            .images()
            .iter()
            .filter(|image| image.kind == ImageKind::Sass)
        {
            let arch = &image.arch;
            let cubin = cubins.join(format!("{name}.{arch}.cubin"));
            let contents = fatbin
                .contents(image)
                .with_context(|| format!("decompressing {arch} of {}", path.display()))?;
            fs::write(&cubin, &*contents)
                .with_context(|| format!("writing {}", cubin.display()))?;
            images.push(format!(
                "--image3=kind=elf,sm={}{},file={}",
                arch.sm,
                arch.variant.suffix(),
                cubin.display()
            ));
        }
        modules.push((name, images));
    }
    if modules.is_empty() {
        bail!("no fat binaries in {}", prebuilt.display());
    }
    let mut totals = Vec::new();
    for (mode, flags) in MODES {
        let folder = into.join(mode);
        fs::create_dir_all(&folder).with_context(|| format!("creating {}", folder.display()))?;
        let mut total = 0;
        for (name, images) in &modules {
            let out: PathBuf = folder.join(format!("{name}.fatbin"));
            Cmd::new(&fatbinary)
                .arg("--64")
                .arg(format!("--create={}", out.display()))
                .args(images)
                .args(flags)
                .run()
                .with_context(|| format!("packing {name} with {}", flags.join(" ")))?;
            total += fs::metadata(&out)?.len();
        }
        totals.push((mode, total));
    }
    fs::remove_dir_all(&cubins).with_context(|| format!("removing {}", cubins.display()))?;
    Ok(totals)
}
