//! Mutated real inputs under the same bounds.
