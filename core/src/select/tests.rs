use super::*;
use crate::fatbin::Compression;
use crate::fatbin::ImageKind;

fn image(name: &str) -> Image {
    let target: Target = name.parse().unwrap();
    Image {
        kind: if target.is_ptx() {
            ImageKind::Ptx
        } else {
            ImageKind::Sass
        },
        arch: target.arch(),
        compression: Compression::None,
        version: (1, 8),
        flags: 0x11,
        offset: 0,
        header_size: 64,
        payload_size: 0,
        compressed_size: None,
        uncompressed_size: None,
    }
}

fn choose(images: &str, cc: (u32, u32)) -> String {
    let images: Vec<Image> = images.split_whitespace().map(image).collect();
    match select_image(&images, ComputeCapability::new(cc.0, cc.1)) {
        Some(choice) => format!(
            "{} {}",
            images[choice.index].target().unwrap(),
            choice.image_match
        ),
        None => "none".to_owned(),
    }
}

/// The selection rules as a table: a fat binary's contents, a device, and what must be chosen.
/// Rows marked [measured] reproduce what the H100's driver chose (FATBIN.md §4.2).
#[test]
fn selection_table() {
    let table: &[(&str, (u32, u32), &str)] = &[
        // Hopper 9.0
        ("sm_90 sm_100 sm_121", (9, 0), "sm_90 exact"),
        ("compute_90 sm_90", (9, 0), "sm_90 exact"), // [measured] order is irrelevant
        ("sm_90 compute_80", (9, 0), "sm_90 exact"), // [measured]
        ("sm_90 sm_90a", (9, 0), "sm_90a exact"),    // [measured]
        ("sm_80 compute_90 sm_90a", (9, 0), "sm_90a exact"), // [measured]
        ("sm_80 compute_80", (9, 0), "compute_80 jit"), // [measured] sm_80 ignored
        ("compute_80 compute_90", (9, 0), "compute_90 jit"), // [measured]
        ("compute_90a", (9, 0), "compute_90a jit"),  // [measured]
        ("sm_80", (9, 0), "none"),                   // [measured]
        ("sm_89", (9, 0), "none"),                   // [measured]
        ("sm_100 compute_100", (9, 0), "none"),      // [measured] PTX too new
        ("sm_100 sm_121 compute_90", (9, 0), "compute_90 jit"),
        // B200 10.0 and B300 10.3
        ("sm_90 sm_100 sm_121", (10, 0), "sm_100 exact"),
        ("sm_90 sm_100 sm_121", (10, 3), "sm_100 compatible"),
        ("sm_100 sm_103", (10, 3), "sm_103 exact"),
        ("sm_100a", (10, 3), "none"),
        ("sm_100f", (10, 3), "sm_100f compatible"),
        ("sm_100 sm_100f", (10, 3), "sm_100f compatible"),
        ("sm_103f compute_100", (10, 0), "compute_100 jit"),
        ("sm_90", (10, 0), "none"),
        // RTX 50 12.0 and GB10 12.1
        ("sm_90 sm_100 sm_121", (12, 0), "none"),
        ("sm_90 sm_100 sm_121", (12, 1), "sm_121 exact"),
        ("sm_120 compute_121", (12, 1), "sm_120 compatible"),
        ("sm_120f", (12, 1), "sm_120f compatible"),
        ("sm_121a sm_121f sm_121", (12, 1), "sm_121a exact"),
        ("sm_100 sm_100f", (12, 1), "none"),
        // Ampere 8.0 and 8.6
        ("sm_80 sm_86", (8, 0), "sm_80 exact"),
        ("sm_80 sm_86", (8, 6), "sm_86 exact"),
        ("sm_80 sm_90", (8, 6), "sm_80 compatible"),
        ("sm_90 compute_90", (8, 6), "none"),
        // A future 13.0
        ("sm_90 sm_100 sm_121", (13, 0), "none"),
        ("sm_121 compute_90 compute_121", (13, 0), "compute_121 jit"),
        ("compute_121f", (13, 0), "none"),
    ];
    for (images, cc, expected) in table {
        assert_eq!(
            choose(images, *cc),
            *expected,
            "{images} on {}.{}",
            cc.0,
            cc.1
        );
    }
}

#[test]
fn non_executable_kinds_are_never_chosen() {
    let mut lto = image("sm_90");
    lto.kind = ImageKind::LtoIr;
    let mut concat = image("sm_90");
    concat.kind = ImageKind::Other(0x100);
    assert_eq!(
        select_image(&[lto, concat], ComputeCapability::new(9, 0)),
        None
    );
}

#[test]
fn targets_alone_choose_as_images_do() {
    let targets: Vec<Option<Target>> = ["compute_90", "sm_100", "sm_90", "sm_121"]
        .iter()
        .map(|name| name.parse().ok())
        .collect();
    let on = |major, minor| select_target(&targets, ComputeCapability::new(major, minor));
    assert_eq!(
        on(9, 0),
        Some(Choice {
            index: 2,
            image_match: ImageMatch::Exact
        })
    );
    assert_eq!(on(10, 3).map(|choice| choice.index), Some(1));
    assert_eq!(
        on(10, 3).map(|choice| choice.image_match),
        Some(ImageMatch::Compatible)
    );
    assert_eq!(
        on(12, 0).map(|choice| (choice.index, choice.image_match)),
        Some((0, ImageMatch::Jit))
    );
    assert_eq!(select_target(&[None], ComputeCapability::new(9, 0)), None);
}
