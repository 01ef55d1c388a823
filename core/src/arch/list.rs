//! Lists of targets, as written in settings: `sm_90,sm_100 sm_121;compute_90`.

use std::fmt;

use super::{ArchError, DEFAULT_TARGETS, Target};

/// One item of a target list as a user wrote it, before `native` is resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TargetSpec {
    /// An explicit target.
    Target(Target),
    /// `native`: the GPUs of the build host, resolved by build-support.
    Native,
}

impl TargetSpec {
    /// Parses a list separated by `,`, `;` or whitespace. An empty list is an error.
    pub fn parse_list(input: &str) -> Result<Vec<TargetSpec>, ArchError> {
        let items: Vec<&str> = input
            .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
            .filter(|item| !item.is_empty())
            .collect();
        if items.is_empty() {
            return Err(ArchError::empty(input));
        }
        items
            .into_iter()
            .map(|item| {
                if item.eq_ignore_ascii_case("native") {
                    Ok(TargetSpec::Native)
                } else {
                    item.parse().map(TargetSpec::Target)
                }
            })
            .collect()
    }
}

/// An ordered set of targets, without duplicates.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct TargetList {
    targets: Vec<Target>,
}

impl TargetList {
    /// An empty list.
    pub fn new() -> TargetList {
        TargetList::default()
    }

    /// sasskit's default: `sm_90`, `sm_100`, `sm_121`.
    pub fn default_targets() -> TargetList {
        DEFAULT_TARGETS.iter().copied().collect()
    }

    /// Parses a list of explicit, known targets (`native` is refused: it needs a build host).
    pub fn parse(input: &str) -> Result<TargetList, ArchError> {
        let mut list = TargetList::new();
        for spec in TargetSpec::parse_list(input)? {
            match spec {
                TargetSpec::Target(target) if target.arch().is_known() => list.push(target),
                TargetSpec::Target(target) => return Err(ArchError::unknown(&target.to_string())),
                TargetSpec::Native => return Err(ArchError::native_not_allowed()),
            }
        }
        Ok(list)
    }

    /// Adds a target unless it is already present.
    pub fn push(&mut self, target: Target) {
        if !self.targets.contains(&target) {
            self.targets.push(target);
        }
    }

    /// The targets, in the order they were first given.
    pub fn as_slice(&self) -> &[Target] {
        &self.targets
    }

    /// Iterates over the targets in order.
    pub fn iter(&self) -> impl Iterator<Item = Target> + '_ {
        self.targets.iter().copied()
    }

    /// The SASS targets only.
    pub fn sass(&self) -> impl Iterator<Item = Target> + '_ {
        self.iter().filter(|target| !target.is_ptx())
    }

    /// Whether the list holds no target.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// Number of targets.
    pub fn len(&self) -> usize {
        self.targets.len()
    }
}

impl FromIterator<Target> for TargetList {
    fn from_iter<I: IntoIterator<Item = Target>>(iter: I) -> TargetList {
        let mut list = TargetList::new();
        for target in iter {
            list.push(target);
        }
        list
    }
}

impl fmt::Display for TargetList {
    /// Formats as a comma-separated list that [`TargetList::parse`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.targets.iter().map(Target::to_string).collect();
        f.write_str(&names.join(","))
    }
}
