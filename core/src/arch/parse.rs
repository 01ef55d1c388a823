//! Parsing one architecture spelling: `sm_90`, `90`, `9.0`, `sm_90a`, `sm_100f`, `compute_90`.

use std::fmt;
use std::str::FromStr;

use super::{Arch, Target, Variant};

/// The spellings every sasskit setting accepts, for error messages.
pub const ACCEPTED_FORMS: &str = "`sm_90`, `90` or `9.0` (SASS), `sm_90a` (arch-specific), \
`sm_100f` (family-specific), `compute_90` (PTX, JIT-compiled at load), `native` (the GPUs of the \
build host), separated by `,`, `;` or spaces";

/// An architecture setting that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchError {
    input: String,
    reason: ArchErrorReason,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ArchErrorReason {
    Syntax,
    Empty,
    Unknown,
    NativeNotAllowed,
}

impl ArchError {
    pub(crate) fn syntax(input: &str) -> ArchError {
        ArchError {
            input: input.to_owned(),
            reason: ArchErrorReason::Syntax,
        }
    }

    pub(crate) fn empty(input: &str) -> ArchError {
        ArchError {
            input: input.to_owned(),
            reason: ArchErrorReason::Empty,
        }
    }

    /// An architecture that is well-formed but that no published GPU has.
    pub fn unknown(input: &str) -> ArchError {
        ArchError {
            input: input.to_owned(),
            reason: ArchErrorReason::Unknown,
        }
    }

    pub(crate) fn native_not_allowed() -> ArchError {
        ArchError {
            input: "native".to_owned(),
            reason: ArchErrorReason::NativeNotAllowed,
        }
    }

    /// The text that was rejected.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// Whether the input was well-formed but names no known architecture.
    pub fn is_unknown_arch(&self) -> bool {
        self.reason == ArchErrorReason::Unknown
    }
}

impl fmt::Display for ArchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason {
            ArchErrorReason::Syntax => write!(
                f,
                "`{}` is not an architecture; accepted forms: {ACCEPTED_FORMS}",
                self.input
            ),
            ArchErrorReason::Empty => write!(
                f,
                "the architecture list `{}` is empty; name at least one, in these forms: \
                 {ACCEPTED_FORMS}",
                self.input
            ),
            ArchErrorReason::Unknown => write!(
                f,
                "`{}` is not a known GPU architecture (known SM numbers: {}); accepted forms: \
                 {ACCEPTED_FORMS}",
                self.input,
                super::KNOWN_SMS
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            ArchErrorReason::NativeNotAllowed => write!(
                f,
                "`native` names the GPUs of the machine that builds, so it cannot be used here; \
                 name the architectures instead, such as `sm_90`"
            ),
        }
    }
}

impl std::error::Error for ArchError {}

impl FromStr for Target {
    type Err = ArchError;

    /// Parses one target. Numeric forms (`90`, `9.0`, `90a`) mean SASS; `compute_` means PTX.
    /// Case and surrounding whitespace are ignored. Syntax only: see [`Arch::is_known`].
    fn from_str(input: &str) -> Result<Target, ArchError> {
        let text = input.trim().to_ascii_lowercase();
        let (is_ptx, rest) = if let Some(rest) = text.strip_prefix("compute_") {
            (true, rest)
        } else if let Some(rest) = text.strip_prefix("sm_") {
            (false, rest)
        } else {
            (false, text.as_str())
        };
        let arch = parse_arch_body(rest).ok_or_else(|| ArchError::syntax(input.trim()))?;
        Ok(if is_ptx {
            Target::Ptx(arch)
        } else {
            Target::Sass(arch)
        })
    }
}

/// Parses `90`, `90a`, `100f`, `9.0`, `12.1a`.
fn parse_arch_body(body: &str) -> Option<Arch> {
    let (digits, variant) = match body.as_bytes().last()? {
        b'a' => (&body[..body.len() - 1], Variant::Specific),
        b'f' => (&body[..body.len() - 1], Variant::Family),
        _ => (body, Variant::Plain),
    };
    let sm = if let Some((major, minor)) = digits.split_once('.') {
        let major = parse_digits(major, 2)?;
        let minor = parse_digits(minor, 1)?;
        major * 10 + minor
    } else {
        parse_digits(digits, 3)?
    };
    (sm >= 10).then_some(Arch::new(sm, variant))
}

fn parse_digits(text: &str, max_len: usize) -> Option<u32> {
    if text.is_empty() || text.len() > max_len || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}
