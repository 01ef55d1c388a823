//! Detection on the manifests sasskit wrote for candle-kernels 0.11.1's eleven `.cu` files
//! (`fixtures/`, images and paths left out), and the declared families.

use std::fmt::Write as _;

use sasskit_core::family::{DeclaredFamily, FamilySettings};
use sasskit_core::manifest::Manifest;

use super::*;

const CANDLE: &[(&str, &str)] = &[
    ("affine", include_str!("fixtures/affine.toml")),
    ("binary", include_str!("fixtures/binary.toml")),
    ("cast", include_str!("fixtures/cast.toml")),
    ("conv", include_str!("fixtures/conv.toml")),
    ("fill", include_str!("fixtures/fill.toml")),
    ("indexing", include_str!("fixtures/indexing.toml")),
    ("quantized", include_str!("fixtures/quantized.toml")),
    ("reduce", include_str!("fixtures/reduce.toml")),
    ("sort", include_str!("fixtures/sort.toml")),
    ("ternary", include_str!("fixtures/ternary.toml")),
    ("unary", include_str!("fixtures/unary.toml")),
];

fn manifest(module: &str) -> Manifest {
    let (_, text) = CANDLE
        .iter()
        .find(|(name, _)| *name == module)
        .expect("a fixture");
    Manifest::from_toml(text).expect("the fixture is a valid manifest")
}

fn families_of(manifest: &Manifest, settings: &FamilySettings) -> Result<String, String> {
    let kernels: Vec<_> = manifest
        .kernels
        .iter()
        .filter(|kernel| kernel.untyped.is_none())
        .collect();
    let found = detect(&kernels, settings)?;
    Ok(summary(&found, kernels.len()))
}

/// One line per family (name, pattern, signature, types) and per kernel left out.
fn summary(found: &Families<'_>, n_kernels: usize) -> String {
    let covered: usize = found.families.iter().map(|f| f.members.len()).sum();
    let mut text = format!(
        "{} families over {covered} of {n_kernels} typed kernels\n",
        found.families.len()
    );
    for family in &found.families {
        let params: Vec<String> = family
            .params
            .iter()
            .map(|param| match param.slot {
                Some(slot) => param.first.to_string().replace(
                    &param.first.value_type().to_string(),
                    &if family.slots == 1 {
                        "T".to_owned()
                    } else {
                        format!("T{}", slot + 1)
                    },
                ),
                None => param.first.to_string(),
            })
            .collect();
        let types: Vec<String> = family
            .members
            .iter()
            .map(|member| {
                let names: Vec<&str> = member.types.iter().map(|ty| ty.rust_name()).collect();
                names.join("/")
            })
            .collect();
        let _ = writeln!(
            text,
            "{} ({}) [{}]: {}",
            family.name,
            family.pattern,
            params.join(", "),
            types.join(" ")
        );
    }
    for left in &found.left_out {
        let _ = writeln!(
            text,
            "left out: {} ({}): {}",
            left.kernels.join(", "),
            left.pattern,
            left.reason
        );
    }
    text
}

fn candle(module: &str) -> String {
    families_of(&manifest(module), &FamilySettings::default()).unwrap()
}

#[test]
fn candle_affine() {
    let text = candle("affine");
    assert!(text.starts_with("1 families over 10 of 10"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn candle_binary() {
    insta::assert_snapshot!(candle("binary"));
}

#[test]
fn candle_cast() {
    let text = candle("cast");
    assert!(text.contains("cast (cast_{}_{}) [usize, usize, *const usize, *const T1, *mut T2]"));
    insta::assert_snapshot!(text);
}

#[test]
fn candle_ternary() {
    let text = candle("ternary");
    // candle spells fp8 `fp8_e4m3` here and `f8_e4m3` elsewhere: both are the same type.
    assert!(text.contains("i16/F8E4M3"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn candle_unary() {
    insta::assert_snapshot!(candle("unary"));
}

#[test]
fn candle_reduce() {
    insta::assert_snapshot!(candle("reduce"));
}

/// The count over all eleven files, and the kernels of the other five files.
#[test]
fn candle_all_files() {
    let mut text = String::new();
    let (mut n_families, mut covered, mut total) = (0, 0, 0);
    for (module, _) in CANDLE {
        let manifest = manifest(module);
        let kernels: Vec<_> = manifest
            .kernels
            .iter()
            .filter(|kernel| kernel.untyped.is_none())
            .collect();
        let found = detect(&kernels, &FamilySettings::default()).unwrap();
        n_families += found.families.len();
        covered += found
            .families
            .iter()
            .map(|f| f.members.len())
            .sum::<usize>();
        total += kernels.len();
        let _ = writeln!(text, "== {module}: {}", summary(&found, kernels.len()));
    }
    insta::assert_snapshot!(format!(
        "{n_families} families over {covered} of {total} typed kernels\n\n{text}"
    ));
}

#[test]
fn declared_families_rename_and_detection_turns_off() {
    let settings = FamilySettings {
        detect: false,
        declared: vec![DeclaredFamily::new("select", "where_{}_{}").unwrap()],
    };
    let text = families_of(&manifest("ternary"), &settings).unwrap();
    assert!(text.starts_with("1 families over 26 of 26"), "{text}");
    assert!(text.contains("select (where_{}_{})"), "{text}");
    let off = FamilySettings {
        detect: false,
        declared: Vec::new(),
    };
    let text = families_of(&manifest("unary"), &off).unwrap();
    assert!(text.starts_with("0 families"), "{text}");
}

#[test]
fn declared_patterns_match_tokens_without_underscores() {
    let mut manifest = manifest("affine");
    for kernel in &mut manifest.kernels {
        kernel.name = kernel.name.replace("affine_", "affine");
    }
    let settings = FamilySettings {
        detect: true,
        declared: vec![DeclaredFamily::new("affine", "affine{}").unwrap()],
    };
    let text = families_of(&manifest, &settings).unwrap();
    assert!(text.starts_with("1 families over 10 of 10"), "{text}");
}

#[test]
fn a_declared_family_whose_name_is_taken_is_an_error() {
    let settings = FamilySettings {
        detect: true,
        declared: vec![DeclaredFamily::new("load", "affine_{}").unwrap()],
    };
    let error = families_of(&manifest("affine"), &settings).unwrap_err();
    assert!(
        error.contains("has the name of a method of the generated `Module` (`load`)"),
        "{error}"
    );
    assert!(error.contains("`Build::kernel_family`"), "{error}");
}

#[test]
fn an_automatic_family_whose_name_is_taken_is_left_out() {
    let mut manifest = manifest("affine");
    let mut plain = manifest.kernels[0].clone();
    plain.name = "affine".into();
    manifest.kernels.push(plain);
    let text = families_of(&manifest, &FamilySettings::default()).unwrap();
    assert!(text.starts_with("0 families"), "{text}");
    assert!(
        text.contains("its name `affine` is the method of the kernel `affine`"),
        "{text}"
    );
}

#[test]
fn a_member_with_other_parameters_is_left_out_of_its_family() {
    let mut manifest = manifest("affine");
    manifest.kernels[3].params.pop();
    let name = manifest.kernels[3].name.clone();
    let text = families_of(&manifest, &FamilySettings::default()).unwrap();
    assert!(text.starts_with("1 families over 9 of 10"), "{text}");
    assert!(
        text.contains(&format!(
            "left out: {name} (affine_{{}}): its parameters differ"
        )),
        "{text}"
    );
}

#[test]
fn trait_names_keep_numbers_apart() {
    assert_eq!(trait_name("fast_sum"), "FastSumTypes");
    assert_eq!(
        trait_name("dequantize_block_q4_0"),
        "DequantizeBlockQ4_0Types"
    );
    assert_eq!(trait_name("where"), "WhereTypes");
}

/// The whole expansion of every candle file is valid Rust, with one generic method per family.
#[test]
fn candle_modules_expand_to_valid_rust() {
    use std::path::PathBuf;

    use crate::expand::generate;
    use crate::input::KernelsInput;
    use crate::manifest_file::Located;

    for (module, _) in CANDLE {
        let located = Located {
            manifest: manifest(module),
            manifest_path: PathBuf::from(format!("/out/sasskit/{module}.toml")),
            fatbin_path: PathBuf::from(format!("/out/sasskit/{module}.fatbin")),
        };
        let input: KernelsInput = syn::parse_str(module).unwrap();
        let tokens = generate(&input, &located).unwrap();
        let file: syn::File = syn::parse2(tokens).expect("the expansion parses as Rust");
        let text = prettyplease::unparse(&file);
        if *module == "ternary" {
            assert!(text.contains("pub unsafe fn r#where<T1, T2>("), "{module}");
            assert!(
                text.contains("impl WhereTypes for (i16, ::sasskit::__private::float8::F8E4M3)")
            );
        }
        if *module == "affine" {
            assert!(text.contains("pub unsafe fn affine<T>("), "{module}");
        }
    }
}
