//! Kernel names from a cubin's ELF symbol table, so that `verify` can say which module a
//! container holds (a Rust binary keeps no name next to the fat binaries it embeds).
//!
//! Kernels are the global `STT_FUNC` symbols of the cubin's `.symtab`; device functions that
//! were not inlined are local. Names are printed as they are stored (C++ kernels stay mangled).

const ELF_MAGIC: &[u8] = b"\x7fELF";
const SHT_SYMTAB: u32 = 2;
const STT_FUNC: u8 = 2;
const STB_GLOBAL: u8 = 1;
const SYM_SIZE: usize = 24;

/// The kernels of an uncompressed 64-bit little-endian ELF cubin, or `None` when the bytes are
/// not one or its tables are out of bounds.
pub(crate) fn kernel_names(elf: &[u8]) -> Option<Vec<String>> {
    if elf.get(..4)? != ELF_MAGIC || elf.get(4..6)? != [2, 1] {
        return None;
    }
    let shoff = usize::try_from(u64_at(elf, 0x28)?).ok()?;
    let shentsize = usize::from(u16_at(elf, 0x3a)?);
    let shnum = usize::from(u16_at(elf, 0x3c)?);
    if shentsize < 0x40 {
        return None;
    }
    let section = |idx: usize| -> Option<&[u8]> {
        elf.get(shoff.checked_add(idx.checked_mul(shentsize)?)?..)?
            .get(..0x40)
    };
    let mut names = Vec::new();
    for idx in 0..shnum {
        let header = section(idx)?;
        if u32_at(header, 4)? != SHT_SYMTAB {
            continue;
        }
        let symbols = slice(elf, u64_at(header, 0x18)?, u64_at(header, 0x20)?)?;
        let strtab_header = section(usize::try_from(u32_at(header, 0x28)?).ok()?)?;
        let strings = slice(
            elf,
            u64_at(strtab_header, 0x18)?,
            u64_at(strtab_header, 0x20)?,
        )?;
        for symbol in symbols.chunks_exact(SYM_SIZE) {
            let info = symbol[4];
            if info & 0xf != STT_FUNC || info >> 4 != STB_GLOBAL {
                continue;
            }
            let start = usize::try_from(u32_at(symbol, 0)?).ok()?;
            let name = strings.get(start..)?;
            let end = name.iter().position(|&b| b == 0)?;
            names.push(String::from_utf8_lossy(&name[..end]).into_owned());
        }
    }
    names.sort();
    names.dedup();
    Some(names)
}

fn slice(data: &[u8], offset: u64, len: u64) -> Option<&[u8]> {
    let start = usize::try_from(offset).ok()?;
    let len = usize::try_from(len).ok()?;
    data.get(start..start.checked_add(len)?)
}

fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(data: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(data.get(at..at + 8)?.try_into().ok()?))
}

/// A minimal ELF64 with a symbol table, for the tests here and in `verify`.
#[cfg(test)]
pub(crate) fn test_elf(symbols: &[(&str, u8)]) -> Vec<u8> {
    let mut strings = vec![0u8];
    let mut symtab = vec![0u8; SYM_SIZE];
    for (name, info) in symbols {
        let mut symbol = [0u8; SYM_SIZE];
        symbol[..4].copy_from_slice(&(strings.len() as u32).to_le_bytes());
        symbol[4] = *info;
        symtab.extend_from_slice(&symbol);
        strings.extend_from_slice(name.as_bytes());
        strings.push(0);
    }
    let strtab_off = 0x40;
    let symtab_off = strtab_off + strings.len();
    let shoff = symtab_off + symtab.len();
    let mut elf = vec![0u8; 0x40];
    elf[..4].copy_from_slice(ELF_MAGIC);
    elf[4] = 2;
    elf[5] = 1;
    elf[0x28..0x30].copy_from_slice(&(shoff as u64).to_le_bytes());
    elf[0x3a..0x3c].copy_from_slice(&0x40u16.to_le_bytes());
    elf[0x3c..0x3e].copy_from_slice(&3u16.to_le_bytes());
    elf.extend_from_slice(&strings);
    elf.extend_from_slice(&symtab);
    let section = |kind: u32, offset: usize, len: usize, link: u32| {
        let mut header = [0u8; 0x40];
        header[4..8].copy_from_slice(&kind.to_le_bytes());
        header[0x18..0x20].copy_from_slice(&(offset as u64).to_le_bytes());
        header[0x20..0x28].copy_from_slice(&(len as u64).to_le_bytes());
        header[0x28..0x2c].copy_from_slice(&link.to_le_bytes());
        header
    };
    elf.extend_from_slice(&[0u8; 0x40]);
    elf.extend_from_slice(&section(3, strtab_off, strings.len(), 0));
    elf.extend_from_slice(&section(SHT_SYMTAB, symtab_off, symtab.len(), 1));
    elf
}

#[cfg(test)]
mod tests {
    use super::{kernel_names, test_elf};

    const GLOBAL_FUNC: u8 = 0x12;
    const LOCAL_FUNC: u8 = 0x02;
    const GLOBAL_OBJECT: u8 = 0x11;

    #[test]
    fn lists_global_functions_only() {
        let elf = test_elf(&[
            ("saxpy", GLOBAL_FUNC),
            ("$saxpy$helper", LOCAL_FUNC),
            ("table", GLOBAL_OBJECT),
            ("_Z4tmplIfEvPT_", GLOBAL_FUNC),
        ]);
        assert_eq!(kernel_names(&elf).unwrap(), ["_Z4tmplIfEvPT_", "saxpy"]);
    }

    #[test]
    fn refuses_non_elf_and_truncated_data() {
        assert_eq!(kernel_names(b"\x28\xb5\x2f\xfd zstd frame"), None);
        let elf = test_elf(&[("saxpy", GLOBAL_FUNC)]);
        for len in [0, 3, 0x30, elf.len() - 1] {
            assert_eq!(kernel_names(&elf[..len]), None, "{len} bytes");
        }
    }
}
