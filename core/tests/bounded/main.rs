//! Resource bounds on hostile input: every reader of `sasskit-core` must take time and memory
//! linear in what it is given (ARCHITECTURE.md, "Bounded by the input").
//!
//! This test binary counts every allocation of the thread that runs an input (a global
//! allocator, so it is this binary's alone) and runs each input against a time limit:
//!
//! * `regressions`: one crafted input per known way to make a reader allocate or work without
//!   bound, each built here, with its peak allocation and time asserted;
//! * `fuzz`: proptest over mutated fat binaries (raw, zstd, LZ4), cubins and manifests, each
//!   case under the same bounds. `PROPTEST_CASES` raises the number of cases (default 64 per
//!   property, a few seconds in all).

mod craft;
mod fuzz;
mod measure;
mod regressions;

#[global_allocator]
static ALLOCATOR: measure::Counting = measure::Counting;
