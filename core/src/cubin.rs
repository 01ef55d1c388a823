//! A defensive reader for the kernel parameter layouts that ptxas records in a cubin.
//!
//! A cubin is a 64-bit little-endian ELF file. For every kernel it holds a section named
//! `.nv.info.<kernel>` made of EIATTR records, and two of those describe the parameter buffer
//! the driver copies into constant bank 0 at launch:
//!
//! * `EIATTR_KPARAM_INFO` (attribute `0x17`), one record per parameter, unused parameters
//!   included, in reverse order: `u32` index, `u16` ordinal, `u16` offset in the buffer, and a
//!   `u32` whose top 14 bits (`(word >> 18) & 0x3fff`) are the size in bytes;
//! * `EIATTR_PARAM_CBANK` (`0x0a`): `u32` symbol of `.nv.constant0.<kernel>`, `u16` offset of
//!   the buffer in the bank, `u16` size of the whole buffer. Kernels without parameters have
//!   neither record.
//!
//! Kernels are told from device functions that were not inlined (which get such a section
//! under `-G`) by their symbol: a function with the entry-point bit (`0x10`) of `st_other` set.
//!
//! Every record starts with `u8` format and `u8` attribute. Formats `0x01` (`EIFMT_NVAL`),
//! `0x02` (`EIFMT_BVAL`) and `0x03` (`EIFMT_HVAL`) then carry two bytes of value (zero,
//! a byte and padding, or a `u16`); format `0x04` (`EIFMT_SVAL`) carries a `u16` size and that
//! many bytes of payload. These layouts were checked against `cuobjdump -elf` on cubins built
//! by nvcc 13.0 for `sm_90` (see `core/tests/fixtures/params_sm90.cu`).
//!
//! Every read is bounds-checked: corrupt or truncated input gives a [`CubinError`], never a
//! panic. Only uncompressed cubins are read; the caller decompresses or skips the rest.

use std::fmt;

use crate::le::{u16_at, u32_at, u64_at};

const ELF_MAGIC: &[u8] = b"\x7fELF";
const ELFCLASS64: u8 = 2;
const ELFDATA2LSB: u8 = 1;
const ELF_HEADER_SIZE: usize = 0x40;
const SECTION_HEADER_SIZE: usize = 0x40;
const INFO_PREFIX: &[u8] = b".nv.info.";
const SHT_SYMTAB: u32 = 2;
const SYMBOL_SIZE: usize = 24;
const STT_FUNC: u8 = 2;
/// `st_other` bit that marks a kernel entry point (device functions lack it).
const STO_CUDA_ENTRY: u8 = 0x10;

const EIFMT_NVAL: u8 = 0x01;
const EIFMT_BVAL: u8 = 0x02;
const EIFMT_HVAL: u8 = 0x03;
const EIFMT_SVAL: u8 = 0x04;

const EIATTR_PARAM_CBANK: u8 = 0x0a;
const EIATTR_KPARAM_INFO: u8 = 0x17;
const KPARAM_INFO_SIZE: usize = 12;
const PARAM_CBANK_SIZE: usize = 8;

/// One kernel of a cubin and the layout of its parameter buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelParams {
    /// The symbol name, as stored (C++ kernels stay mangled).
    pub name: String,
    /// One entry per `EIATTR_KPARAM_INFO` record, sorted by ordinal.
    pub params: Vec<ParamSlot>,
    /// The size of the whole parameter buffer from `EIATTR_PARAM_CBANK`, when present.
    pub buffer_size: Option<u16>,
}

/// Where one parameter lives in a kernel's parameter buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ParamSlot {
    /// The parameter's position in the C signature, from 0.
    pub ordinal: u16,
    /// The byte offset in the parameter buffer.
    pub offset: u16,
    /// The size in bytes.
    pub size: u16,
}

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
    fn new(offset: usize, kind: CubinErrorKind) -> CubinError {
        CubinError { offset, kind }
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

/// The kernels of an uncompressed cubin, in section order, with their parameter layouts.
///
/// A kernel is a `.nv.info.<kernel>` section whose name is a function symbol marked as an entry
/// point (`st_other & 0x10`): device functions that were not inlined (`-G`) have such a section
/// too, but are not entry points. The cubin-wide `.nv.info` section is skipped.
pub fn kernels(elf: &[u8]) -> Result<Vec<KernelParams>, CubinError> {
    if elf.get(..4).is_some_and(|magic| magic != ELF_MAGIC) {
        return Err(CubinError::new(0, CubinErrorKind::NotElf));
    }
    let header = bytes(elf, 0, ELF_HEADER_SIZE, "ELF header")?;
    if header[4] != ELFCLASS64 || header[5] != ELFDATA2LSB {
        return Err(CubinError::new(
            4,
            CubinErrorKind::UnsupportedClass {
                class: header[4],
                data: header[5],
            },
        ));
    }
    let shoff = u64_at(header, 0x28);
    let shentsize = u16_at(header, 0x3a);
    let shnum = usize::from(u16_at(header, 0x3c));
    let shstrndx = u16_at(header, 0x3e);
    if shnum == 0 {
        return Ok(Vec::new());
    }
    if usize::from(shentsize) < SECTION_HEADER_SIZE {
        return Err(CubinError::new(
            0x3a,
            CubinErrorKind::BadSectionHeaderSize { found: shentsize },
        ));
    }
    let table_len = (shnum as u64) * u64::from(shentsize);
    let table = range(elf, shoff, table_len, "section header table")?;
    let table_start = to_usize(shoff);
    let headers: Vec<SectionHeader> = table
        .chunks_exact(usize::from(shentsize))
        .enumerate()
        .map(|(index, raw)| SectionHeader {
            at: table_start + index * usize::from(shentsize),
            name: u32_at(raw, 0),
            kind: u32_at(raw, 4),
            link: u32_at(raw, 0x28),
            offset: u64_at(raw, 0x18),
            size: u64_at(raw, 0x20),
        })
        .collect();
    let Some(strtab_header) = headers.get(usize::from(shstrndx)) else {
        return Err(CubinError::new(
            0x3e,
            CubinErrorKind::BadStringTable { index: shstrndx },
        ));
    };
    let strtab = range(
        elf,
        strtab_header.offset,
        strtab_header.size,
        "section name string table",
    )?;
    let entries = entry_points(elf, &headers)?;
    let mut kernels = Vec::new();
    for (index, section) in headers.iter().enumerate() {
        let name = c_string(strtab, section.name).ok_or_else(|| {
            CubinError::new(
                section.at,
                CubinErrorKind::BadSectionName { section: index },
            )
        })?;
        let Some(kernel) = name.strip_prefix(INFO_PREFIX) else {
            continue;
        };
        if !entries.contains(&kernel) {
            continue;
        }
        let data = range(elf, section.offset, section.size, "kernel info section")?;
        let mut params = KernelParams {
            name: String::from_utf8_lossy(kernel).into_owned(),
            params: Vec::new(),
            buffer_size: None,
        };
        read_records(data, to_usize(section.offset), &mut params)?;
        params
            .params
            .sort_by_key(|slot| (slot.ordinal, slot.offset));
        kernels.push(params);
    }
    Ok(kernels)
}

/// The names of the entry-point function symbols of every symbol table.
fn entry_points<'a>(elf: &'a [u8], headers: &[SectionHeader]) -> Result<Vec<&'a [u8]>, CubinError> {
    let mut entries = Vec::new();
    for symtab in headers.iter().filter(|header| header.kind == SHT_SYMTAB) {
        let symbols = range(elf, symtab.offset, symtab.size, "symbol table")?;
        let Some(strings) = headers.get(to_usize(u64::from(symtab.link))) else {
            return Err(CubinError::new(
                symtab.at,
                CubinErrorKind::BadSymbolStringTable { index: symtab.link },
            ));
        };
        let strings = range(elf, strings.offset, strings.size, "symbol string table")?;
        for (index, symbol) in symbols.chunks_exact(SYMBOL_SIZE).enumerate() {
            if symbol[4] & 0xf != STT_FUNC || symbol[5] & STO_CUDA_ENTRY == 0 {
                continue;
            }
            let name = c_string(strings, u32_at(symbol, 0)).ok_or_else(|| {
                CubinError::new(
                    to_usize(symtab.offset).saturating_add(index * SYMBOL_SIZE),
                    CubinErrorKind::BadSymbolName { symbol: index },
                )
            })?;
            entries.push(name);
        }
    }
    Ok(entries)
}

/// The NUL-terminated string at `start` of a string table.
fn c_string(table: &[u8], start: u32) -> Option<&[u8]> {
    let rest = table.get(to_usize(u64::from(start))..)?;
    rest.iter().position(|&b| b == 0).map(|end| &rest[..end])
}

struct SectionHeader {
    /// Where the header itself is, for error offsets.
    at: usize,
    name: u32,
    kind: u32,
    link: u32,
    offset: u64,
    size: u64,
}

/// Walks the EIATTR records of one `.nv.info.<kernel>` section.
fn read_records(data: &[u8], base: usize, out: &mut KernelParams) -> Result<(), CubinError> {
    let mut at = 0;
    while at < data.len() {
        let record_at = base + at;
        let head = bytes(data, at, 4, "EIATTR record").map_err(|e| e.rebase(base))?;
        let (format, attribute) = (head[0], head[1]);
        match format {
            EIFMT_NVAL | EIFMT_BVAL | EIFMT_HVAL => at += 4,
            EIFMT_SVAL => {
                let size = usize::from(u16_at(head, 2));
                let payload =
                    bytes(data, at + 4, size, "EIATTR payload").map_err(|e| e.rebase(base))?;
                match attribute {
                    EIATTR_KPARAM_INFO => {
                        check_size(payload, KPARAM_INFO_SIZE, attribute, record_at)?;
                        let word = u32_at(payload, 8);
                        out.params.push(ParamSlot {
                            ordinal: u16_at(payload, 4),
                            offset: u16_at(payload, 6),
                            size: ((word >> 18) & 0x3fff) as u16,
                        });
                    }
                    EIATTR_PARAM_CBANK => {
                        check_size(payload, PARAM_CBANK_SIZE, attribute, record_at)?;
                        out.buffer_size = Some(u16_at(payload, 6));
                    }
                    _ => {}
                }
                at += 4 + size;
            }
            _ => {
                return Err(CubinError::new(
                    record_at,
                    CubinErrorKind::UnknownRecordFormat { format, attribute },
                ));
            }
        }
    }
    Ok(())
}

fn check_size(payload: &[u8], expected: usize, attribute: u8, at: usize) -> Result<(), CubinError> {
    if payload.len() == expected {
        Ok(())
    } else {
        Err(CubinError::new(
            at,
            CubinErrorKind::BadRecordSize {
                attribute,
                expected,
                found: payload.len(),
            },
        ))
    }
}

impl CubinError {
    fn rebase(mut self, base: usize) -> CubinError {
        self.offset = self.offset.saturating_add(base);
        self
    }
}

/// `len` bytes at `at`, or a `Truncated` error naming `what`.
fn bytes<'a>(
    data: &'a [u8],
    at: usize,
    len: usize,
    what: &'static str,
) -> Result<&'a [u8], CubinError> {
    at.checked_add(len)
        .and_then(|end| data.get(at..end))
        .ok_or_else(|| {
            CubinError::new(
                at,
                CubinErrorKind::Truncated {
                    what,
                    needed: len as u64,
                    available: data.len().saturating_sub(at) as u64,
                },
            )
        })
}

/// Like [`bytes`], for 64-bit offsets and sizes read from the file.
fn range<'a>(
    data: &'a [u8],
    offset: u64,
    len: u64,
    what: &'static str,
) -> Result<&'a [u8], CubinError> {
    match (usize::try_from(offset), usize::try_from(len)) {
        (Ok(offset), Ok(len)) => bytes(data, offset, len, what),
        _ => Err(CubinError::new(
            to_usize(offset),
            CubinErrorKind::Truncated {
                what,
                needed: len,
                available: 0,
            },
        )),
    }
}

fn to_usize(value: u64) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests;
