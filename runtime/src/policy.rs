//! Whether a load may fall back to JIT-compiling PTX, and the environment override.

use std::ffi::OsStr;

/// The environment variable that overrides the [`LoadPolicy`] a program passes.
///
/// `1` (or `true`, `yes`, `on`) allows the PTX JIT, `0` (or `false`, `no`, `off`) forbids it;
/// unset or empty leaves the program's choice alone. It is read once per [`load`](crate::load)
/// (once for all devices in [`load_on_every_device`](crate::load_on_every_device)), and every
/// time it changes the policy the program asked for, a warning naming the variable is logged.
/// Any other value is ignored with a warning.
pub const ALLOW_JIT_ENV: &str = "SASSKIT_ALLOW_JIT";

/// What a load may do when the module holds no SASS for the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LoadPolicy {
    /// Load native code only; a module that would need the PTX JIT is refused with
    /// [`LoadError::JitRefused`](crate::LoadError::JitRefused). The default.
    #[default]
    SassOnly,
    /// Let the driver JIT-compile PTX when no SASS fits the device. The first load in a process
    /// can take seconds, and the code that runs is not the code that was tested.
    AllowJit,
}

impl LoadPolicy {
    /// The policy after the [`ALLOW_JIT_ENV`] override, logging a warning when it differs.
    pub(crate) fn with_env_override(self) -> LoadPolicy {
        let value = allow_jit_env();
        let resolved = self.resolve(value.as_deref());
        if let Some(warning) = &resolved.warning {
            log::warn!("{warning}");
        }
        resolved.policy
    }

    /// The pure part of [`LoadPolicy::with_env_override`]: the policy for a given value of the
    /// variable, and the warning to log, if any.
    pub(crate) fn resolve(self, value: Option<&OsStr>) -> Resolved {
        let unchanged = Resolved {
            policy: self,
            warning: None,
        };
        let Some(value) = value else { return unchanged };
        let text = value.to_string_lossy();
        let wanted = match text.trim().to_ascii_lowercase().as_str() {
            "" => return unchanged,
            "1" | "true" | "yes" | "on" => LoadPolicy::AllowJit,
            "0" | "false" | "no" | "off" => LoadPolicy::SassOnly,
            _ => {
                return Resolved {
                    policy: self,
                    warning: Some(format!(
                        "sasskit: ignoring {ALLOW_JIT_ENV}={text:?}: expected `1` to allow the PTX \
                         JIT or `0` to forbid it; keeping the program's policy ({})",
                        self.describe()
                    )),
                };
            }
        };
        if wanted == self {
            return unchanged;
        }
        let warning = match wanted {
            LoadPolicy::AllowJit => format!(
                "sasskit: {ALLOW_JIT_ENV}={text} ALLOWS THE PTX JIT although the program asked for \
                 SASS only: modules with no SASS for the device will be JIT-compiled; unset \
                 {ALLOW_JIT_ENV} to restore the program's policy"
            ),
            LoadPolicy::SassOnly => format!(
                "sasskit: {ALLOW_JIT_ENV}={text} FORBIDS THE PTX JIT although the program allowed \
                 it: modules with no SASS for the device will fail to load; unset {ALLOW_JIT_ENV} \
                 to restore the program's policy"
            ),
        };
        Resolved {
            policy: wanted,
            warning: Some(warning),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            LoadPolicy::SassOnly => "sass only",
            LoadPolicy::AllowJit => "jit allowed",
        }
    }
}

/// A policy after the environment override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolved {
    pub(crate) policy: LoadPolicy,
    pub(crate) warning: Option<String>,
}

/// Reads [`ALLOW_JIT_ENV`].
// The workspace bans direct env reads so that build scripts track what they read; this is a
// runtime setting, read at load time, which no build depends on.
#[allow(clippy::disallowed_methods)]
fn allow_jit_env() -> Option<std::ffi::OsString> {
    std::env::var_os(ALLOW_JIT_ENV)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(policy: LoadPolicy, value: Option<&str>) -> Resolved {
        policy.resolve(value.map(OsStr::new))
    }

    #[test]
    fn default_is_sass_only() {
        assert_eq!(LoadPolicy::default(), LoadPolicy::SassOnly);
    }

    #[test]
    fn unset_or_empty_keeps_the_policy_silently() {
        for policy in [LoadPolicy::SassOnly, LoadPolicy::AllowJit] {
            for value in [None, Some(""), Some("  ")] {
                assert_eq!(
                    resolve(policy, value),
                    Resolved {
                        policy,
                        warning: None
                    }
                );
            }
        }
    }

    #[test]
    fn one_allows_the_jit_loudly() {
        let resolved = resolve(LoadPolicy::SassOnly, Some("1"));
        assert_eq!(resolved.policy, LoadPolicy::AllowJit);
        let warning = resolved.warning.unwrap();
        assert!(
            warning.contains("SASSKIT_ALLOW_JIT=1 ALLOWS THE PTX JIT"),
            "{warning}"
        );
        for value in ["true", "YES", "on"] {
            assert_eq!(
                resolve(LoadPolicy::SassOnly, Some(value)).policy,
                LoadPolicy::AllowJit
            );
        }
    }

    #[test]
    fn zero_forbids_the_jit_loudly() {
        let resolved = resolve(LoadPolicy::AllowJit, Some("0"));
        assert_eq!(resolved.policy, LoadPolicy::SassOnly);
        assert!(
            resolved
                .warning
                .unwrap()
                .contains("SASSKIT_ALLOW_JIT=0 FORBIDS THE PTX JIT")
        );
    }

    #[test]
    fn agreeing_values_are_silent() {
        assert_eq!(resolve(LoadPolicy::AllowJit, Some("1")).warning, None);
        assert_eq!(resolve(LoadPolicy::SassOnly, Some("0")).warning, None);
    }

    #[test]
    fn other_values_are_ignored_with_a_warning() {
        let resolved = resolve(LoadPolicy::SassOnly, Some("maybe"));
        assert_eq!(resolved.policy, LoadPolicy::SassOnly);
        let warning = resolved.warning.unwrap();
        assert!(
            warning.contains("ignoring SASSKIT_ALLOW_JIT=\"maybe\""),
            "{warning}"
        );
        assert!(warning.contains("expected `1`"), "{warning}");
    }
}
