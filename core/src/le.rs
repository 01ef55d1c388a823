//! Little-endian reads from slices whose length the caller has already checked.
//!
//! Both binary formats sasskit reads (fat binary containers and cubin ELF files) check every
//! header's bounds once, then read fixed-offset fields from it with these.

/// The `u16` at `at`; `bytes` must hold `at + 2` bytes.
pub(crate) fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

/// The `u32` at `at`; `bytes` must hold `at + 4` bytes.
pub(crate) fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// The `u64` at `at`; `bytes` must hold `at + 8` bytes.
pub(crate) fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}
