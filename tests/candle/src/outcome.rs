//! What one check found: how many values the GPU got right, and the first it got wrong.

use std::fmt;

/// The result of comparing a kernel's output with the CPU reference.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    name: String,
    matched: usize,
    total: usize,
    /// How values are compared, e.g. `exactly` or `within 1e-2 + 1%`.
    rule: &'static str,
    first_mismatch: Option<String>,
}

impl Outcome {
    /// Compares `got` with `want` element by element with `same`; a missing or extra element
    /// counts as a mismatch.
    pub(crate) fn compare<T: Copy + fmt::Debug>(
        name: impl Into<String>,
        got: &[T],
        want: &[T],
        rule: &'static str,
        same: impl Fn(T, T) -> bool,
    ) -> Outcome {
        let matched = got
            .iter()
            .zip(want)
            .filter(|&(&got, &want)| same(got, want))
            .count();
        let first_mismatch = got
            .iter()
            .zip(want)
            .position(|(&got, &want)| !same(got, want))
            .map(|index| format!("at {index}: got {:?}, want {:?}", got[index], want[index]))
            .or_else(|| {
                (got.len() != want.len())
                    .then(|| format!("got {} values, want {}", got.len(), want.len()))
            });
        Outcome {
            name: name.into(),
            matched,
            total: want.len().max(got.len()),
            rule,
            first_mismatch,
        }
    }

    /// Compares with `==`.
    pub(crate) fn exact<T: Copy + fmt::Debug + PartialEq>(
        name: impl Into<String>,
        got: &[T],
        want: &[T],
    ) -> Outcome {
        Outcome::compare(name, got, want, "exactly", |got, want| got == want)
    }

    /// Whether every value matched (and there were some).
    pub(crate) fn passed(&self) -> bool {
        self.total > 0 && self.matched == self.total && self.first_mismatch.is_none()
    }
}

impl fmt::Display for Outcome {
    /// `ok      affine_f32, info = null (contiguous): 10000 of 10000 values match exactly`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = if self.passed() { "ok" } else { "FAILED" };
        write!(
            f,
            "{status:<7} {}: {} of {} values match {}",
            self.name, self.matched, self.total, self.rule
        )?;
        if let Some(mismatch) = &self.first_mismatch {
            write!(f, "; first mismatch {mismatch}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Outcome;

    #[test]
    fn counts_matches_and_names_the_first_mismatch() {
        let outcome = Outcome::exact("k", &[1, 2, 3, 4], &[1, 0, 3, 0]);
        assert!(!outcome.passed());
        assert_eq!(
            outcome.to_string(),
            "FAILED  k: 2 of 4 values match exactly; first mismatch at 1: got 2, want 0"
        );
        assert!(Outcome::exact("k", &[1, 2], &[1, 2]).passed());
        assert!(!Outcome::exact("k", &[1], &[1, 2]).passed());
        assert!(!Outcome::exact::<i32>("k", &[], &[]).passed());
    }
}
