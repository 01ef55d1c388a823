//! Why a cubin could not be read.

use std::fmt;

/// A cubin that is not a 64-bit little-endian ELF, or whose tables or records are corrupt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CubinError {
    offset: usize,
    kind: CubinErrorKind,
}

/// What was wrong, with the values that were found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CubinErrorKind {
    /// Fewer bytes than a header, table or record needs.
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Bytes needed from the offset.
        needed: u64,
        /// Bytes available from the offset.
        available: u64,
    },
    /// The first four bytes are not `7f 45 4c 46`.
    NotElf,
    /// An ELF file that is not 64-bit little-endian.
    UnsupportedClass {
        /// `EI_CLASS`.
        class: u8,
        /// `EI_DATA`.
        data: u8,
    },
    /// A section header entry size smaller than an ELF64 section header.
    BadSectionHeaderSize {
        /// The size found.
        found: u16,
    },
    /// The section name string table index is not a section.
    BadStringTable {
        /// The index found.
        index: u16,
    },
    /// A section name that does not end inside the string table.
    BadSectionName {
        /// The section index.
        section: usize,
    },
    /// A symbol table whose string table index is not a section.
    BadSymbolStringTable {
        /// The index found.
        index: u32,
    },
    /// A symbol name that does not end inside its string table.
    BadSymbolName {
        /// The symbol index.
        symbol: usize,
    },
    /// An EIATTR record of a format this reader does not know.
    UnknownRecordFormat {
        /// The format byte.
        format: u8,
        /// The attribute byte.
        attribute: u8,
    },
    /// A second symbol table: a cubin has one, and each would be read in full.
    SecondSymbolTable {
        /// The section index of the second one.
        section: usize,
    },
    /// A second `.nv.info.<kernel>` section for the same kernel.
    DuplicateKernel {
        /// The kernel.
        kernel: String,
        /// The section index of the second one.
        section: usize,
    },
    /// Two kernels' info sections that share bytes, which each would read again.
    OverlappingSections {
        /// The section index of the one that starts first.
        first: usize,
        /// The section index of the other.
        second: usize,
    },
    /// More parameters in one kernel than a parameter buffer holds.
    TooManyParams {
        /// The kernel.
        kernel: String,
        /// The most a kernel can have.
        limit: usize,
    },
    /// Section and symbol names that add up to more bytes than the names budget of the file
    /// (names that overlap, each read again to its end).
    NamesTooLong {
        /// The budget, in bytes.
        limit: usize,
    },
    /// Memory for a table the file describes could not be reserved.
    OutOfMemory {
        /// What was being read.
        what: &'static str,
        /// How many entries it has.
        count: usize,
    },
    /// A parameter record whose payload is not the expected size.
    BadRecordSize {
        /// The attribute byte.
        attribute: u8,
        /// The payload size expected.
        expected: usize,
        /// The payload size found.
        found: usize,
    },
}

impl CubinError {
    pub(super) fn new(offset: usize, kind: CubinErrorKind) -> CubinError {
        CubinError { offset, kind }
    }

    /// The same error with its offset moved by `base`, for errors found in a slice of the file.
    pub(super) fn rebase(mut self, base: usize) -> CubinError {
        self.offset = self.offset.saturating_add(base);
        self
    }

    /// The byte offset in the cubin where the problem was found.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// What was wrong.
    pub fn kind(&self) -> &CubinErrorKind {
        &self.kind
    }
}

impl fmt::Display for CubinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.offset;
        match &self.kind {
            CubinErrorKind::Truncated {
                what,
                needed,
                available,
            } => write!(
                f,
                "truncated cubin: {what} at offset {at:#x} needs {needed} bytes, {available} left"
            ),
            CubinErrorKind::NotElf => write!(f, "not an ELF cubin (offset {at:#x})"),
            CubinErrorKind::UnsupportedClass { class, data } => write!(
                f,
                "unsupported ELF class {class} / data encoding {data}: cubins are 64-bit \
                 little-endian"
            ),
            CubinErrorKind::BadSectionHeaderSize { found } => write!(
                f,
                "section header entries of {found} bytes at offset {at:#x}: ELF64 needs 64"
            ),
            CubinErrorKind::BadStringTable { index } => write!(
                f,
                "section name string table index {index} is not a section (offset {at:#x})"
            ),
            CubinErrorKind::BadSectionName { section } => write!(
                f,
                "the name of section {section} is outside its string table (offset {at:#x})"
            ),
            CubinErrorKind::BadSymbolStringTable { index } => write!(
                f,
                "symbol table at offset {at:#x} names string table {index}, which is not a \
                 section"
            ),
            CubinErrorKind::BadSymbolName { symbol } => write!(
                f,
                "the name of symbol {symbol} is outside its string table (offset {at:#x})"
            ),
            CubinErrorKind::SecondSymbolTable { section } => write!(
                f,
                "section {section} is a second symbol table (header at offset {at:#x}): a cubin \
                 has one"
            ),
            CubinErrorKind::DuplicateKernel { kernel, section } => write!(
                f,
                "section {section} (header at offset {at:#x}) is a second `.nv.info.{kernel}`: \
                 a kernel has one"
            ),
            CubinErrorKind::OverlappingSections { first, second } => write!(
                f,
                "the info sections {first} and {second} share bytes (offset {at:#x}): each \
                 kernel's records are its own"
            ),
            CubinErrorKind::TooManyParams { kernel, limit } => write!(
                f,
                "kernel `{kernel}` records more than {limit} parameters (offset {at:#x}), more \
                 than a parameter buffer holds"
            ),
            CubinErrorKind::NamesTooLong { limit } => write!(
                f,
                "the section and symbol names add up to more than {limit} bytes (at offset \
                 {at:#x}): names that overlap, as no compiler writes them"
            ),
            CubinErrorKind::OutOfMemory { what, count } => write!(
                f,
                "cannot reserve memory for the {count} entries of the {what} at offset {at:#x}"
            ),
            CubinErrorKind::UnknownRecordFormat { format, attribute } => write!(
                f,
                "EIATTR record of unknown format {format:#04x} (attribute {attribute:#04x}) at \
                 offset {at:#x}"
            ),
            CubinErrorKind::BadRecordSize {
                attribute,
                expected,
                found,
            } => write!(
                f,
                "EIATTR record {attribute:#04x} at offset {at:#x} has {found} bytes of payload, \
                 expected {expected}"
            ),
        }
    }
}

impl std::error::Error for CubinError {}
