//! `native`: the compute capabilities of the build host's GPUs, from `nvidia-smi`.

use sasskit_core::{Arch, Target};

use crate::command::Tool;
use crate::error::Error;

/// One SASS target per distinct GPU of the build host, in device order.
pub(crate) fn host_targets() -> Result<Vec<Target>, Error> {
    let smi = Tool::new("nvidia-smi");
    let output = smi
        .command()
        .args(["--query-gpu=compute_cap", "--format=csv,noheader"])
        .output()
        .map_err(|error| {
            Error::config(format!(
                "the target `native` asks for the GPUs of the build host, but `nvidia-smi` could \
                 not be run ({error}); name the targets instead, e.g. SASSKIT_ARCHS=sm_90"
            ))
        })?;
    if !output.status.success() {
        return Err(Error::config(format!(
            "the target `native` asks for the GPUs of the build host, but `nvidia-smi` failed \
             ({}): {}; name the targets instead, e.g. SASSKIT_ARCHS=sm_90",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    let targets = parse_compute_caps(&String::from_utf8_lossy(&output.stdout))?;
    if targets.is_empty() {
        return Err(Error::config(
            "the target `native` asks for the GPUs of the build host, but `nvidia-smi` lists \
             none; name the targets instead, e.g. SASSKIT_ARCHS=sm_90",
        ));
    }
    Ok(targets)
}

/// Parses `nvidia-smi --query-gpu=compute_cap --format=csv,noheader`: one `9.0` per line.
fn parse_compute_caps(text: &str) -> Result<Vec<Target>, Error> {
    let mut targets = Vec::new();
    for line in text.lines().map(str::trim).filter(|line| !line.is_empty()) {
        let parsed = line.split_once('.').and_then(|(major, minor)| {
            Some(Arch::plain(
                major.parse::<u32>().ok()? * 10 + minor.parse::<u32>().ok()?,
            ))
        });
        let arch = parsed.ok_or_else(|| {
            Error::config(format!(
                "`nvidia-smi` reported the compute capability `{line}`, expected `9.0`"
            ))
        })?;
        if !targets.contains(&Target::Sass(arch)) {
            targets.push(Target::Sass(arch));
        }
    }
    Ok(targets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_one_target_per_distinct_gpu() {
        let targets = parse_compute_caps("9.0\n9.0\n12.1\n").unwrap();
        assert_eq!(
            targets,
            [
                Target::Sass(Arch::plain(90)),
                Target::Sass(Arch::plain(121))
            ]
        );
        assert!(parse_compute_caps("[N/A]\n").is_err());
    }
}
