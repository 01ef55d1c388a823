//! Checks the signatures extracted from the preprocessed source against the code nvcc compiled.
//!
//! The wrappers pass one pointer per parameter to `cuLaunchKernel`, and the driver copies as
//! many bytes from each as the compiled kernel declares. A parameter the extractor got wrong
//! would therefore corrupt the launch silently; ptxas records the size of every parameter in
//! the cubin (`EIATTR_KPARAM_INFO`, see [`sasskit_core::cubin`]), so the build compares them and
//! fails instead.
//!
//! Every SASS image is read and compared with the kernels whose signature says that image's
//! target defines them (kernels guarded by `#if __CUDA_ARCH__` are in some images only).
//! Untyped kernels are only looked for, since they have no wrapper whose arguments could be
//! wrong. Compressed images (`--compress-mode=size`) are decompressed and checked like the
//! others: the check never switches off.

use sasskit_core::cubin::{self, KernelParams};
use sasskit_core::kernel::{KernelSignature, LongSize};
use sasskit_core::{FatBinary, ImageKind};

use crate::error::{Error, ErrorKind};
use crate::shared::Registry;

/// How the cross-check reads compiled code, resolved once per build.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reading {
    /// The width of C's `long` on the target.
    pub(crate) long: LongSize,
    /// The largest image decompressed, in bytes ([`MAX_IMAGE_SIZE_ENV`](crate::MAX_IMAGE_SIZE_ENV)).
    pub(crate) max_image_size: u64,
}

/// Compares `kernels` with every SASS image of `fatbin`, read as `reading` says; `what` names
/// the source for messages.
pub(crate) fn check(
    fatbin: &FatBinary<'_>,
    kernels: &[KernelSignature],
    shared: &Registry,
    reading: Reading,
    what: &str,
) -> Result<(), Error> {
    if kernels.is_empty() {
        return Ok(());
    }
    let mut problems = Vec::new();
    let sass = fatbin
        .images()
        .iter()
        .filter(|image| image.kind == ImageKind::Sass);
    for image in sass {
        let Some(target) = image.target() else {
            continue;
        };
        let elf = fatbin
            .contents_within(image, reading.max_image_size)
            .map_err(|error| {
                Error::new(ErrorKind::Verify(format!(
                    "cannot read the {} cubin nvcc produced for {what} to check the kernel \
                 signatures: {error}",
                    image.arch
                )))
            })?;
        let compiled = cubin::kernels(&elf).map_err(|error| {
            Error::new(ErrorKind::Verify(format!(
                "cannot read the {} cubin nvcc produced for {what} to check the kernel \
                 signatures: {error}; {REPORT}",
                image.arch
            )))
        })?;
        let target = target.to_string();
        let expected: Vec<&KernelSignature> = kernels
            .iter()
            .filter(|kernel| kernel.targets.contains(&target))
            .collect();
        problems.extend(compare(&expected, &compiled, shared, reading.long, &target));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::new(ErrorKind::Signature(format!(
            "the kernel signatures sasskit extracted from {what} do not match the code nvcc \
             compiled; the generated wrappers would pass corrupt arguments:\n  {}",
            problems.join("\n  ")
        ))))
    }
}

const REPORT: &str = "this is a sasskit bug or a construct sasskit does not support; please \
                      report it with the kernel's declaration";

/// One message per mismatch between the extracted `kernels` and the `compiled` ones; `arch`
/// names the cubin's architecture.
fn compare(
    kernels: &[&KernelSignature],
    compiled: &[KernelParams],
    shared: &Registry,
    long: LongSize,
    arch: &str,
) -> Vec<String> {
    let mut problems = Vec::new();
    for kernel in kernels {
        let at = format!("{}:{}", kernel.file, kernel.line);
        let name = &kernel.name;
        let Some(found) = compiled.iter().find(|found| found.name == *name) else {
            problems.push(format!(
                "{at}: kernel `{name}` is not in the {arch} cubin nvcc compiled; {REPORT}"
            ));
            continue;
        };
        if kernel.untyped.is_some() {
            continue;
        }
        let ordinals_ok = found
            .params
            .iter()
            .enumerate()
            .all(|(index, slot)| usize::from(slot.ordinal) == index);
        if !ordinals_ok || found.params.len() != kernel.params.len() {
            problems.push(format!(
                "{at}: kernel `{name}` has {} parameters in the Rust wrapper but {} in the {arch} \
                 cubin nvcc compiled; {REPORT}",
                kernel.params.len(),
                found.params.len()
            ));
            continue;
        }
        for (index, (param, slot)) in kernel.params.iter().zip(&found.params).enumerate() {
            let theirs = usize::from(slot.size);
            let shared_type = param.ty.shared_type().and_then(|name| shared.lookup(name));
            let ours = param
                .ty
                .size_with(long)
                .or_else(|| shared_type.and_then(|ty| usize::try_from(ty.size).ok()));
            if let (None, Some(ty)) = (param.ty.size_with(long), shared_type)
                && ours != Some(theirs)
            {
                problems.push(format!(
                    "{at}: kernel `{name}` parameter {index} `{}` has the type `{}`, which is {} \
                     bytes in Rust (bindgen's layout of `{}` from `{}`, as the host compiler lays \
                     it out) but {theirs} bytes in the {arch} cubin nvcc compiled; make the layout \
                     the same for host and device (fixed-width fields, explicit `alignas`), and \
                     check the `-D`/`-I` options and `#ifdef`s that differ between the two",
                    param.name, param.c_type, ty.size, ty.name, ty.header
                ));
                continue;
            }
            let Some(ours) = ours else {
                problems.push(format!(
                    "{at}: kernel `{name}` parameter {index} `{}` has the type `{}`, which no \
                     shared header declares; {REPORT}",
                    param.name, param.c_type
                ));
                continue;
            };
            if ours != theirs {
                problems.push(format!(
                    "{at}: kernel `{name}` parameter {index} `{}` (`{}`, Rust `{}`) is {ours} \
                     bytes in the Rust wrapper but {theirs} bytes in the {arch} cubin nvcc \
                     compiled; {REPORT}",
                    param.name, param.c_type, param.ty
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use sasskit_core::cubin::{KernelParams, ParamSlot};
    use sasskit_core::kernel::{KernelSignature, LongSize, Param, ParamType, Scalar, ValueType};

    use crate::shared::Registry;

    /// [`super::compare`] on an LP64 target, for kernels that every image defines.
    fn compare(
        kernels: &[KernelSignature],
        compiled: &[KernelParams],
        shared: &Registry,
        arch: &str,
    ) -> Vec<String> {
        let kernels: Vec<&KernelSignature> = kernels.iter().collect();
        super::compare(&kernels, compiled, shared, LongSize::LP64, arch)
    }

    fn signature(name: &str, params: &[(&str, ParamType)]) -> KernelSignature {
        KernelSignature {
            name: name.to_owned(),
            file: "kernels/k.cu".to_owned(),
            line: 7,
            params: params
                .iter()
                .map(|(c_type, ty)| Param {
                    name: format!("p_{c_type}"),
                    c_type: (*c_type).to_owned(),
                    ty: ty.clone(),
                })
                .collect(),
            targets: vec!["sm_90".to_owned()],
            untyped: None,
        }
    }

    fn compiled(name: &str, sizes: &[u16]) -> KernelParams {
        let mut offset = 0u16;
        let params = sizes
            .iter()
            .enumerate()
            .map(|(ordinal, &size)| {
                offset = offset.next_multiple_of(size.max(1));
                let slot = ParamSlot {
                    ordinal: ordinal as u16,
                    offset,
                    size,
                };
                offset += size;
                slot
            })
            .collect();
        KernelParams {
            name: name.to_owned(),
            params,
            buffer_size: None,
        }
    }

    const F32: ParamType = ParamType::Value(ValueType::Scalar(Scalar::F32));
    const F16: ParamType = ParamType::Value(ValueType::Scalar(Scalar::F16));
    const BOOL: ParamType = ParamType::Value(ValueType::Scalar(Scalar::Bool));
    const PTR: ParamType = ParamType::ConstPtr(ValueType::Scalar(Scalar::F32));

    #[test]
    fn matching_signatures_pass() {
        let kernels = [
            signature("saxpy", &[("float", F32), ("const float*", PTR)]),
            signature("flags", &[("__half", F16), ("bool", BOOL)]),
            signature("none", &[]),
        ];
        let cubin = [
            compiled("other", &[4]),
            compiled("saxpy", &[4, 8]),
            compiled("flags", &[2, 1]),
            compiled("none", &[]),
        ];
        assert_eq!(
            compare(&kernels, &cubin, &Registry::default(), "sm_90"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn size_mismatch_names_file_kernel_parameter_and_sizes() {
        let kernels = [signature("scale", &[("float", F32), ("weird_t", F32)])];
        let problems = compare(
            &kernels,
            &[compiled("scale", &[4, 8])],
            &Registry::default(),
            "sm_90",
        );
        assert_eq!(problems.len(), 1, "{problems:?}");
        let message = &problems[0];
        for part in [
            "kernels/k.cu:7",
            "`scale`",
            "parameter 1 `p_weird_t`",
            "`weird_t`",
            "4 bytes in the Rust wrapper",
            "8 bytes in the sm_90 cubin",
            "sasskit bug",
        ] {
            assert!(message.contains(part), "`{part}` not in {message}");
        }
    }

    #[test]
    fn count_mismatch_and_missing_kernel() {
        let kernels = [
            signature("two", &[("float", F32), ("float", F32)]),
            signature("gone", &[]),
        ];
        let problems = compare(
            &kernels,
            &[compiled("two", &[4, 4, 4])],
            &Registry::default(),
            "sm_80",
        );
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("2 parameters in the Rust wrapper but 3"));
        assert!(problems[1].contains("`gone` is not in the sm_80 cubin"));
    }

    #[test]
    fn names_match_exactly() {
        let kernels = [signature("saxpy", &[])];
        let problems = compare(
            &kernels,
            &[compiled("_Z5saxpyv", &[])],
            &Registry::default(),
            "sm_90",
        );
        assert_eq!(problems.len(), 1);
    }

    #[test]
    fn gaps_in_ordinals_are_a_count_mismatch() {
        let kernels = [signature("k", &[("float", F32), ("float", F32)])];
        let mut found = compiled("k", &[4, 4]);
        found.params[1].ordinal = 2;
        let problems = compare(&kernels, &[found], &Registry::default(), "sm_90");
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("parameters"));
    }

    fn registry_with_mixed(size: u64) -> Registry {
        crate::shared::test_registry(&[("Mixed", size, 8)], &[])
    }

    #[test]
    fn shared_types_by_value_are_checked_against_their_layout() {
        let mixed = ParamType::Value(ValueType::Shared("Mixed".into()));
        let pointer = ParamType::MutPtr(ValueType::Shared("Mixed".into()));
        let kernels = [signature("echo", &[("Mixed", mixed), ("Mixed*", pointer)])];
        let cubin = [compiled("echo", &[48, 8])];
        assert_eq!(
            compare(&kernels, &cubin, &registry_with_mixed(48), "sm_90"),
            Vec::<String>::new()
        );
        let problems = compare(&kernels, &cubin, &registry_with_mixed(40), "sm_90");
        assert_eq!(problems.len(), 1, "{problems:?}");
        for part in [
            "parameter 0 `p_Mixed`",
            "40 bytes in Rust",
            "bindgen's layout of `Mixed` from `/k/shared.h`",
            "48 bytes in the sm_90 cubin",
        ] {
            assert!(
                problems[0].contains(part),
                "`{part}` not in {}",
                problems[0]
            );
        }
        let problems = compare(&kernels, &cubin, &Registry::default(), "sm_90");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("no shared header declares"),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn long_is_checked_at_the_targets_width() {
        let long = ParamType::Value(ValueType::Scalar(Scalar::CLong));
        let kernels = [signature("k", &[("long", long)])];
        let refs: Vec<&KernelSignature> = kernels.iter().collect();
        let registry = Registry::default();
        let linux = [compiled("k", &[8])];
        assert!(super::compare(&refs, &linux, &registry, LongSize::LP64, "sm_90").is_empty());
        let problems = super::compare(&refs, &linux, &registry, LongSize::LLP64, "sm_90");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("4 bytes in the Rust wrapper but 8"));
    }

    #[test]
    fn untyped_kernels_are_only_looked_for() {
        let mut untyped = signature("raw", &[]);
        untyped.untyped = Some("parameter `p` has the type `weird`".to_owned());
        let kernels = [untyped];
        let present = [compiled("raw", &[8, 4, 16])];
        assert!(compare(&kernels, &present, &Registry::default(), "sm_90").is_empty());
        let problems = compare(&kernels, &[], &Registry::default(), "sm_90");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("`raw` is not in the sm_90 cubin"));
    }

    /// `tests/fixtures/scale_compressed_sm90.fatbin`: nvcc 13.0 `--compress-mode=size`, so its
    /// only cubin is a zstd frame.
    const COMPRESSED: &[u8] = include_bytes!("../tests/fixtures/scale_compressed_sm90.fatbin");

    fn check_compressed(kernels: &[KernelSignature]) -> Result<(), crate::error::Error> {
        check_compressed_within(kernels, sasskit_core::fatbin::DEFAULT_MAX_IMAGE_SIZE)
    }

    fn check_compressed_within(
        kernels: &[KernelSignature],
        max_image_size: u64,
    ) -> Result<(), crate::error::Error> {
        let fatbin = sasskit_core::FatBinary::parse(COMPRESSED).unwrap();
        assert!(
            fatbin
                .images()
                .iter()
                .all(|image| image.compression == sasskit_core::Compression::Zstd),
            "the fixture must hold compressed images only"
        );
        super::check(
            &fatbin,
            kernels,
            &Registry::default(),
            super::Reading {
                long: LongSize::LP64,
                max_image_size,
            },
            "`scale.cu`",
        )
    }

    #[test]
    fn an_image_above_the_ceiling_fails_naming_the_setting() {
        let kernels = [signature("scale", &[])];
        let error = check_compressed_within(&kernels, 1000)
            .unwrap_err()
            .to_string();
        assert!(error.contains("SASSKIT_MAX_IMAGE_SIZE"), "{error}");
    }

    #[test]
    fn compressed_images_are_checked_too() {
        const I32: ParamType = ParamType::Value(ValueType::Scalar(Scalar::I32));
        const MUT: ParamType = ParamType::MutPtr(ValueType::Scalar(Scalar::F32));
        const F64: ParamType = ParamType::Value(ValueType::Scalar(Scalar::F64));
        let good = [signature(
            "scale",
            &[("float*", MUT), ("float", F32), ("int", I32)],
        )];
        check_compressed(&good).unwrap();
        let wrong = [signature(
            "scale",
            &[("float*", MUT), ("double", F64), ("int", I32)],
        )];
        let message = check_compressed(&wrong).unwrap_err().to_string();
        assert!(
            message.contains("8 bytes in the Rust wrapper but 4 bytes in the sm_90 cubin"),
            "{message}"
        );
    }
}
