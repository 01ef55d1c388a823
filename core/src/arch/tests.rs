use super::*;

fn target(text: &str) -> Target {
    text.parse().unwrap()
}

#[test]
fn every_accepted_spelling_parses() {
    let cases = [
        ("sm_90", Target::Sass(Arch::plain(90))),
        ("90", Target::Sass(Arch::plain(90))),
        ("9.0", Target::Sass(Arch::plain(90))),
        ("SM_90", Target::Sass(Arch::plain(90))),
        ("sm_90a", Target::Sass(Arch::new(90, Variant::Specific))),
        ("sm_100f", Target::Sass(Arch::new(100, Variant::Family))),
        ("12.1", Target::Sass(Arch::plain(121))),
        ("12.1a", Target::Sass(Arch::new(121, Variant::Specific))),
        ("compute_90", Target::Ptx(Arch::plain(90))),
        ("compute_120f", Target::Ptx(Arch::new(120, Variant::Family))),
    ];
    for (text, expected) in cases {
        assert_eq!(target(text), expected, "{text}");
    }
}

#[test]
fn display_round_trips() {
    for text in ["sm_90", "sm_90a", "sm_100f", "compute_90", "compute_121a"] {
        assert_eq!(target(text).to_string(), text);
    }
}

#[test]
fn malformed_spellings_are_syntax_errors() {
    for text in [
        "sm90a1", "sm_", "sm_9x", "compute_", "9.", ".0", "1234", "sm_90b", "9", "a",
    ] {
        let err = text.parse::<Target>().unwrap_err();
        assert!(!err.is_unknown_arch(), "{text}");
        assert!(err.to_string().contains("accepted forms"), "{err}");
        assert!(err.to_string().contains(text), "{err}");
    }
}

#[test]
fn lists_accept_every_separator_and_native() {
    let specs = TargetSpec::parse_list(" sm_90, 100;12.1  native compute_90 ").unwrap();
    assert_eq!(
        specs,
        vec![
            TargetSpec::Target(target("sm_90")),
            TargetSpec::Target(target("sm_100")),
            TargetSpec::Target(target("sm_121")),
            TargetSpec::Native,
            TargetSpec::Target(target("compute_90")),
        ]
    );
}

#[test]
fn empty_list_is_an_error() {
    for text in ["", " ", ",;"] {
        let err = TargetSpec::parse_list(text).unwrap_err();
        assert!(err.to_string().contains("is empty"), "{err}");
    }
}

#[test]
fn unknown_arch_is_named() {
    let err = TargetList::parse("sm_90,sm_999").unwrap_err();
    assert!(err.is_unknown_arch());
    assert!(
        err.to_string()
            .contains("`sm_999` is not a known GPU architecture"),
        "{err}"
    );
    // `a` before Hopper and `f` before Blackwell do not exist.
    assert!(TargetList::parse("sm_80a").unwrap_err().is_unknown_arch());
    assert!(TargetList::parse("sm_90f").unwrap_err().is_unknown_arch());
}

#[test]
fn target_list_dedups_and_keeps_order() {
    let list = TargetList::parse("sm_100 sm_90 100 10.0").unwrap();
    assert_eq!(list.to_string(), "sm_100,sm_90");
    assert_eq!(
        TargetList::default_targets().to_string(),
        "sm_90,sm_100,sm_121"
    );
}

#[test]
fn gencode_never_uses_the_shorthand() {
    assert_eq!(target("sm_90").gencode(), "arch=compute_90,code=sm_90");
    assert_eq!(
        target("sm_100f").gencode(),
        "arch=compute_100f,code=sm_100f"
    );
    assert_eq!(
        target("compute_90").gencode(),
        "arch=compute_90,code=compute_90"
    );
}

/// The compatibility rules as a table: each target against each device, `#` = runs.
#[test]
fn compatibility_table() {
    let devices = [
        ("8.0", ComputeCapability::new(8, 0)),
        ("8.6", ComputeCapability::new(8, 6)),
        ("9.0", ComputeCapability::new(9, 0)),
        ("10.0", ComputeCapability::new(10, 0)),
        ("10.3", ComputeCapability::new(10, 3)),
        ("12.0", ComputeCapability::new(12, 0)),
        ("12.1", ComputeCapability::new(12, 1)),
        ("13.0", ComputeCapability::new(13, 0)),
    ];
    // Columns: 8.0 8.6 9.0 10.0 10.3 12.0 12.1 13.0
    let table = [
        ("sm_80", "##......"),
        ("sm_86", ".#......"),
        ("sm_90", "..#....."),
        ("sm_90a", "..#....."),
        ("sm_100", "...##..."),
        ("sm_100a", "...#...."),
        ("sm_100f", "...##..."),
        ("sm_103f", "....#..."),
        ("sm_120", ".....##."),
        ("sm_120f", ".....##."),
        ("sm_121", "......#."),
        ("sm_121a", "......#."),
        ("compute_80", "########"),
        ("compute_90", "..######"),
        ("compute_90a", "..#....."),
        ("compute_100f", "...##..."),
        ("compute_121", "......##"),
    ];
    for (name, row) in table {
        let code = target(name);
        let actual: String = devices
            .iter()
            .map(|(_, cc)| if code.runs_on(*cc) { '#' } else { '.' })
            .collect();
        assert_eq!(actual, row, "{name} on {:?}", devices.map(|(n, _)| n));
    }
}
