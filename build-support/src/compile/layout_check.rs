//! The device side of the shared-type layout check: each shared header's probe (static
//! asserts of the size, alignment and field offsets bindgen saw on the host) compiled by nvcc
//! for every target architecture, with the build's flags.

use sasskit_core::{Arch, Target};

use super::Session;
use crate::error::{Error, ErrorKind};
use crate::nvcc_run::{compile_error, run};
use crate::{diagnostics, fs, key};

impl Session<'_> {
    /// Compiles each shared header's layout probe (device code for every architecture in
    /// `archs`, with this build's flags; PTX only, no ptxas), so that a type nvcc lays out
    /// differently from what bindgen saw on the host fails the build. The probe stays in the
    /// output folder as `<header>.layout.cu`, for the error to point at.
    pub(crate) fn check_device_layouts(&self, archs: &[Arch]) -> Result<(), Error> {
        if archs.is_empty() {
            return Ok(());
        }
        let virtual_archs: Vec<String> = archs
            .iter()
            .map(|arch| Target::Ptx(*arch).to_string())
            .collect();
        let args = self.base_args();
        for probe in self.settings.shared.probes() {
            let source = self
                .settings
                .out_dir
                .join(format!("{}.layout.cu", probe.module));
            let stamp = self
                .settings
                .out_dir
                .join(format!("{}.layout.ok", probe.module));
            let probe_key =
                key::layout_probe_key(&probe.source, &probe.inputs, &self.nvcc, &args, archs);
            if std::fs::read_to_string(&stamp).is_ok_and(|passed| passed == probe_key) {
                continue;
            }
            let _ = std::fs::remove_file(&stamp);
            fs::write_atomic(&source, probe.source.as_bytes())?;
            let fatbin = fs::temporary_sibling(
                &self
                    .settings
                    .out_dir
                    .join(format!("{}.layout.fatbin", probe.module)),
            );
            let mut command = self.nvcc.tool.command();
            command.arg("--fatbin").args(&args);
            for arch in archs {
                command.arg("-gencode").arg(Target::Ptx(*arch).gencode());
            }
            command.arg("-o").arg(&fatbin).arg(&source);
            let output = run(&mut command, &self.nvcc);
            let _ = std::fs::remove_file(&fatbin);
            let output = output?;
            if output.status.success() {
                fs::write_atomic(&stamp, probe_key.as_bytes())?;
                continue;
            }
            let lines = diagnostics::normalize(&String::from_utf8_lossy(&output.stderr));
            let layout: Vec<&String> = lines
                .iter()
                .filter(|line| line.contains(crate::shared::PROBE_MARKER))
                .collect();
            if layout.is_empty() {
                return Err(compile_error(
                    &format!(
                        "{} (the layout check of the shared header `{}`)",
                        source.display(),
                        probe.header
                    ),
                    &command,
                    &output,
                ));
            }
            return Err(Error::new(ErrorKind::Layout(format!(
                "the shared header `{}` lays out its types differently on the device (nvcc for \
                 {}, with this build's flags) than on the host (clang, which bindgen used for \
                 the Rust types), so kernels would read other bytes than Rust wrote:\n  {}\n\
                 make the layout the same for host and device (fixed-width fields, explicit \
                 `alignas`), and check the `-D`/`-I` options and the `#ifdef __CUDACC__` blocks \
                 that differ between the two; the checks are in `{}`",
                probe.header,
                virtual_archs.join(", "),
                layout
                    .iter()
                    .map(|line| line.as_str())
                    .collect::<Vec<_>>()
                    .join("\n  "),
                source.display()
            ))));
        }
        Ok(())
    }
}
