//! The shared types of a build, by the names kernels may use for them.

use sasskit_core::shared::{SharedType, SharedTypes};

/// Every type generated from the build's shared headers, the `typedef`s that name them, and
/// the device-side layout probe of each header.
#[derive(Debug, Default, Clone)]
pub(crate) struct Registry {
    headers: Vec<SharedTypes>,
    /// `typedef struct Foo {…} Foo_t;` → (`Foo_t`, `Foo`).
    aliases: Vec<(String, String)>,
    probes: Vec<Probe>,
}

/// A translation unit that nvcc must compile for one header's host layouts to hold on the
/// device.
#[derive(Debug, Clone)]
pub(crate) struct Probe {
    /// The header's module name.
    pub(crate) module: String,
    /// The header, absolute.
    pub(crate) header: String,
    /// The `.cu` source.
    pub(crate) source: String,
    /// The header and every file it includes, as clang read them: what the probe's result
    /// depends on besides nvcc and its flags.
    pub(crate) inputs: Vec<std::path::PathBuf>,
}

impl Registry {
    /// Adds one header's types and the aliases bindgen generated for them.
    #[cfg_attr(not(feature = "bindgen"), allow(dead_code))]
    pub(crate) fn add(&mut self, header: SharedTypes, aliases: Vec<(String, String)>) {
        self.headers.push(header);
        self.aliases.extend(aliases);
    }

    /// Adds the layout probe of a header.
    #[cfg_attr(not(feature = "bindgen"), allow(dead_code))]
    pub(crate) fn add_probe(&mut self, probe: Probe) {
        self.probes.push(probe);
    }

    /// The layout probes, one per header.
    pub(crate) fn probes(&self) -> &[Probe] {
        &self.probes
    }

    /// The type `name` names, following aliases.
    pub(crate) fn lookup(&self, name: &str) -> Option<&SharedType> {
        let mut name = name;
        for _ in 0..16 {
            if let Some(found) = self.headers.iter().find_map(|header| header.get(name)) {
                return Some(found);
            }
            name = &self.aliases.iter().find(|(alias, _)| alias == name)?.1;
        }
        None
    }
}

/// A registry of one header, `/k/shared.h` (module `shared`), declaring the structs
/// `(name, size, align)`, with `(alias, target)` typedefs: the fixture of the unit tests.
#[cfg(test)]
pub(crate) fn test_registry(structs: &[(&str, u64, u64)], aliases: &[(&str, &str)]) -> Registry {
    use sasskit_core::shared::{TYPES_FORMAT, TypeKind};
    let mut registry = Registry::default();
    registry.add(
        SharedTypes {
            format: TYPES_FORMAT,
            header: "/k/shared.h".into(),
            module: "shared".into(),
            rust: "shared.types.rs".into(),
            types: structs
                .iter()
                .map(|&(name, size, align)| SharedType {
                    name: name.into(),
                    kind: TypeKind::Struct,
                    module: "shared".into(),
                    header: "/k/shared.h".into(),
                    size,
                    align,
                })
                .collect(),
        },
        aliases
            .iter()
            .map(|(alias, target)| ((*alias).into(), (*target).into()))
            .collect(),
    );
    registry
}

#[cfg(test)]
mod tests {
    use sasskit_core::shared::TypeKind;

    use super::*;

    #[test]
    fn looks_up_types_through_aliases() {
        let ty = SharedType {
            name: "Foo".into(),
            kind: TypeKind::Struct,
            module: "shared".into(),
            header: "/k/shared.h".into(),
            size: 8,
            align: 4,
        };
        let registry = test_registry(
            &[("Foo", 8, 4)],
            &[("Foo_t", "Foo"), ("FooAlias", "Foo_t"), ("Loop", "Loop")],
        );
        assert_eq!(registry.lookup("Foo"), Some(&ty));
        assert_eq!(registry.lookup("FooAlias"), Some(&ty));
        assert_eq!(registry.lookup("Bar"), None);
        assert_eq!(registry.lookup("Loop"), None);
    }
}
