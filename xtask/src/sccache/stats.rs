//! sccache's hit and miss counts of the device steps of nvcc: PTX (cicc) and CUBIN (ptxas),
//! read from `sccache --show-stats`.

use std::fmt;

/// Hits and misses of one kind of step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) hits: u64,
    pub(crate) misses: u64,
}

impl Counts {
    /// `hits/all`, and the share of hits in whole percent, rounded down.
    fn rate(self) -> String {
        let all = self.hits + self.misses;
        if all == 0 {
            return "0/0".to_owned();
        }
        format!("{}/{all} ({}%)", self.hits, self.hits * 100 / all)
    }
}

/// The PTX and CUBIN counts of a server, or of the builds between two readings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Steps {
    pub(crate) ptx: Counts,
    pub(crate) cubin: Counts,
}

impl Steps {
    /// Reads `Cache hits (PTX)`, `Cache misses (CUBIN)`, … of `sccache --show-stats`; a line
    /// that is missing counts zero (sccache leaves out counters that never moved).
    pub(crate) fn parse(text: &str) -> Steps {
        let count = |name: &str| {
            text.lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().last())
                .and_then(|number| number.parse::<u64>().ok())
                .unwrap_or(0)
        };
        Steps {
            ptx: Counts {
                hits: count("Cache hits (PTX)"),
                misses: count("Cache misses (PTX)"),
            },
            cubin: Counts {
                hits: count("Cache hits (CUBIN)"),
                misses: count("Cache misses (CUBIN)"),
            },
        }
    }

    /// What happened since `earlier`.
    pub(crate) fn since(self, earlier: Steps) -> Steps {
        let minus = |now: Counts, then: Counts| Counts {
            hits: now.hits.saturating_sub(then.hits),
            misses: now.misses.saturating_sub(then.misses),
        };
        Steps {
            ptx: minus(self.ptx, earlier.ptx),
            cubin: minus(self.cubin, earlier.cubin),
        }
    }
}

impl fmt::Display for Steps {
    /// `PTX 18/18 (100%) hits, CUBIN 18/18 (100%) hits`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PTX {} hits, CUBIN {} hits",
            self.ptx.rate(),
            self.cubin.rate()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_kind_of_step_apart() {
        let text = "Cache hits                 7\nCache hits (CUBIN)         3\n\
                    Cache hits (PTX)           2\nCache misses (CUBIN)       1\n\
                    Cache hits rate (CUBIN)   75.00 %\n";
        let steps = Steps::parse(text);
        assert_eq!(steps.ptx, Counts { hits: 2, misses: 0 });
        assert_eq!(steps.cubin, Counts { hits: 3, misses: 1 });
        let later = Steps::parse(&text.replace("(PTX)           2", "(PTX)           5"));
        assert_eq!(later.since(steps).ptx, Counts { hits: 3, misses: 0 });
        assert_eq!(
            later.since(steps).to_string(),
            "PTX 3/3 (100%) hits, CUBIN 0/0 hits"
        );
    }
}
