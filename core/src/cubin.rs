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

mod error;
mod names;

use std::collections::HashSet;

pub use self::error::{CubinError, CubinErrorKind};
use self::names::Names;
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

/// The most parameters a kernel has: its parameter buffer holds at most 32 764 bytes (CUDA
/// 12.1 and later on Volta and newer; 4 096 before), and a parameter takes at least one.
pub const MAX_PARAMS: usize = 32_764;

/// The kernels of an uncompressed cubin, in section order, with their parameter layouts.
///
/// A kernel is a `.nv.info.<kernel>` section whose name is a function symbol marked as an entry
/// point (`st_other & 0x10`): device functions that were not inlined (`-G`) have such a section
/// too, but are not entry points. The cubin-wide `.nv.info` section is skipped.
///
/// Time and memory are linear in `elf.len()`: one symbol table, one info section per kernel,
/// info sections that do not overlap, names read within a budget of a few times the file
/// (`names`), at most [`MAX_PARAMS`] parameters per kernel; kernels number at most the section
/// count, a `u16`.
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
    let shstrndx = u16_at(header, 0x3e);
    let headers = section_headers(elf, header)?;
    if headers.is_empty() {
        return Ok(Vec::new());
    }
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
    let mut names = Names::for_file(elf.len());
    let entries = entry_points(elf, &headers, &mut names)?;
    let mut seen: HashSet<&[u8]> = HashSet::new();
    let mut infos = Vec::new();
    for (index, section) in headers.iter().enumerate() {
        let name = names
            .read(strtab, section.name, section.at)?
            .ok_or_else(|| {
                CubinError::new(
                    section.at,
                    CubinErrorKind::BadSectionName { section: index },
                )
            })?;
        let Some(kernel) = name.strip_prefix(INFO_PREFIX) else {
            continue;
        };
        if !entries.contains(kernel) {
            continue;
        }
        if !seen.insert(kernel) {
            return Err(CubinError::new(
                section.at,
                CubinErrorKind::DuplicateKernel {
                    kernel: String::from_utf8_lossy(kernel).into_owned(),
                    section: index,
                },
            ));
        }
        let data = range(elf, section.offset, section.size, "kernel info section")?;
        infos.push(Info {
            section: index,
            kernel,
            data,
        });
    }
    check_disjoint(&headers, &infos)?;
    let mut kernels = Vec::with_capacity(infos.len());
    for info in infos {
        let mut params = KernelParams {
            name: String::from_utf8_lossy(info.kernel).into_owned(),
            params: Vec::new(),
            buffer_size: None,
        };
        read_records(
            info.data,
            to_usize(headers[info.section].offset),
            &mut params,
        )?;
        params
            .params
            .sort_by_key(|slot| (slot.ordinal, slot.offset));
        kernels.push(params);
    }
    Ok(kernels)
}

/// A kernel's info section, found and not yet read.
struct Info<'a> {
    section: usize,
    kernel: &'a [u8],
    data: &'a [u8],
}

/// The section header table, bounds-checked against the file and reserved fallibly.
fn section_headers(elf: &[u8], header: &[u8]) -> Result<Vec<SectionHeader>, CubinError> {
    let shoff = u64_at(header, 0x28);
    let shentsize = u16_at(header, 0x3a);
    let shnum = usize::from(u16_at(header, 0x3c));
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
    let mut headers = Vec::new();
    headers.try_reserve_exact(shnum).map_err(|_| {
        CubinError::new(
            table_start,
            CubinErrorKind::OutOfMemory {
                what: "section header table",
                count: shnum,
            },
        )
    })?;
    headers.extend(
        table
            .chunks_exact(usize::from(shentsize))
            .enumerate()
            .map(|(index, raw)| SectionHeader {
                at: table_start + index * usize::from(shentsize),
                name: u32_at(raw, 0),
                kind: u32_at(raw, 4),
                link: u32_at(raw, 0x28),
                offset: u64_at(raw, 0x18),
                size: u64_at(raw, 0x20),
            }),
    );
    Ok(headers)
}

/// Refuses kernels' info sections that share bytes: each would read the shared records again.
fn check_disjoint(headers: &[SectionHeader], infos: &[Info<'_>]) -> Result<(), CubinError> {
    let mut spans: Vec<(u64, u64, usize)> = infos
        .iter()
        .filter(|info| !info.data.is_empty())
        .map(|info| {
            let start = headers[info.section].offset;
            (start, start + info.data.len() as u64, info.section)
        })
        .collect();
    spans.sort_unstable();
    for pair in spans.windows(2) {
        let ((_, first_end, first), (second_start, _, second)) = (pair[0], pair[1]);
        if second_start < first_end {
            return Err(CubinError::new(
                headers[second].at,
                CubinErrorKind::OverlappingSections { first, second },
            ));
        }
    }
    Ok(())
}

/// The names of the entry-point function symbols of the symbol table, of which there is one.
fn entry_points<'a>(
    elf: &'a [u8],
    headers: &[SectionHeader],
    names: &mut Names,
) -> Result<HashSet<&'a [u8]>, CubinError> {
    let mut tables = headers
        .iter()
        .enumerate()
        .filter(|(_, header)| header.kind == SHT_SYMTAB);
    let mut entries = HashSet::new();
    let Some((_, symtab)) = tables.next() else {
        return Ok(entries);
    };
    if let Some((section, second)) = tables.next() {
        return Err(CubinError::new(
            second.at,
            CubinErrorKind::SecondSymbolTable { section },
        ));
    }
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
        let at = to_usize(symtab.offset).saturating_add(index * SYMBOL_SIZE);
        let name = names
            .read(strings, u32_at(symbol, 0), at)?
            .ok_or_else(|| CubinError::new(at, CubinErrorKind::BadSymbolName { symbol: index }))?;
        entries.try_reserve(1).map_err(|_| {
            CubinError::new(
                at,
                CubinErrorKind::OutOfMemory {
                    what: "symbol table",
                    count: symbols.len() / SYMBOL_SIZE,
                },
            )
        })?;
        entries.insert(name);
    }
    Ok(entries)
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
                        if out.params.len() == MAX_PARAMS {
                            return Err(CubinError::new(
                                record_at,
                                CubinErrorKind::TooManyParams {
                                    kernel: out.name.clone(),
                                    limit: MAX_PARAMS,
                                },
                            ));
                        }
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
