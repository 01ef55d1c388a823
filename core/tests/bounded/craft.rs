//! Inputs built byte by byte: fat binary containers and entries, zstd frames of RLE blocks,
//! ELF cubins with arbitrary section tables, and manifests of any number of kernels.

use std::fmt::Write as _;

use sasskit_core::fatbin::MAGIC;

/// Entry flag of an LZ4 payload.
pub(crate) const FLAG_LZ4: u64 = 0x2000;
/// Entry flag of a zstd payload.
pub(crate) const FLAG_ZSTD: u64 = 0x8000;

/// One entry: kind, SM number, flags and payload (padded to 8), with a 64-byte header.
pub(crate) fn entry(kind: u16, sm: u32, flags: u64, payload: &[u8]) -> Vec<u8> {
    let padded = payload.len().div_ceil(8) * 8;
    let mut out = vec![0u8; 64];
    out[0..2].copy_from_slice(&kind.to_le_bytes());
    out[2..4].copy_from_slice(&0x0101u16.to_le_bytes());
    out[4..8].copy_from_slice(&64u32.to_le_bytes());
    out[8..16].copy_from_slice(&(padded as u64).to_le_bytes());
    out[0x18..0x1a].copy_from_slice(&8u16.to_le_bytes());
    out[0x1a..0x1c].copy_from_slice(&1u16.to_le_bytes());
    out[0x1c..0x20].copy_from_slice(&sm.to_le_bytes());
    out[0x28..0x30].copy_from_slice(&flags.to_le_bytes());
    out.extend_from_slice(payload);
    out.resize(64 + padded, 0);
    out
}

/// An SM 90 ELF entry stored compressed (`flags`), whose header claims `uncompressed` bytes.
pub(crate) fn compressed_entry(flags: u64, payload: &[u8], uncompressed: u64) -> Vec<u8> {
    let mut out = entry(2, 90, flags, payload);
    out[0x10..0x14].copy_from_slice(&(payload.len() as u32).to_le_bytes());
    out[0x38..0x40].copy_from_slice(&uncompressed.to_le_bytes());
    out
}

/// A container holding `entries`.
pub(crate) fn container(entries: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = entries.concat();
    let mut out = container_header(body.len() as u64);
    out.extend_from_slice(&body);
    out
}

fn container_header(fat_size: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(16);
    out.extend_from_slice(&MAGIC.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(&fat_size.to_le_bytes());
    out
}

/// A zstd frame of `blocks` RLE blocks of 128 KiB each (4 bytes apiece that decompress to
/// 128 KiB), declaring `content_size` in its header when given.
pub(crate) fn zstd_rle_frame(blocks: usize, content_size: Option<u64>) -> Vec<u8> {
    const BLOCK: u32 = 128 << 10;
    let mut out = vec![0x28, 0xb5, 0x2f, 0xfd];
    // Frame header descriptor: an 8-byte content size (flag 3) or none, one segment or not
    // (no), no checksum, no dictionary; then the window descriptor, 128 KiB (log 17).
    out.push(if content_size.is_some() { 0xc0 } else { 0x00 });
    out.push((17 - 10) << 3);
    if let Some(size) = content_size {
        out.extend_from_slice(&size.to_le_bytes());
    }
    for index in 0..blocks {
        let last = u32::from(index + 1 == blocks);
        let header = last | (1 << 1) | (BLOCK << 3);
        out.extend_from_slice(&header.to_le_bytes()[..3]);
        out.push(0x5a);
    }
    out
}

/// A file of `blocks` 64-byte blocks, each a container header followed by an entry header:
/// every container claims the rest of the file, and each entry's header reaches over the next
/// block's container header to the next block's entry, so that every candidate walks the chain
/// to the end, where a few non-zero bytes make it corrupt.
pub(crate) fn hidden_container_chain(blocks: usize) -> Vec<u8> {
    let len = blocks * 64 + 8;
    let mut out = Vec::with_capacity(len);
    for index in 0..blocks {
        let start = index * 64;
        out.extend_from_slice(&container_header((len - start - 16) as u64));
        let mut header = entry(2, 90, 0, &[]);
        // The entry header is 64 bytes, but only 48 fit in the block: the rest of it is the
        // next block's container header.
        header.truncate(48);
        out.extend_from_slice(&header);
    }
    out.extend_from_slice(&[0xff; 8]);
    out
}

/// A 64-bit little-endian ELF file built section by section.
#[derive(Debug, Default)]
pub(crate) struct Elf {
    data: Vec<u8>,
    section_names: Vec<u8>,
    sections: Vec<[u64; 5]>,
}

/// ELF section type of a symbol table.
pub(crate) const SHT_SYMTAB: u64 = 2;
/// ELF section type of a string table.
pub(crate) const SHT_STRTAB: u64 = 3;
/// ELF section type of `.nv.info.*` sections.
pub(crate) const SHT_NV_INFO: u64 = 0x7000_0000;

impl Elf {
    /// Stores `bytes` after the ELF header; returns their offset and size.
    pub(crate) fn blob(&mut self, bytes: &[u8]) -> (u64, u64) {
        let offset = 64 + self.data.len() as u64;
        self.data.extend_from_slice(bytes);
        (offset, bytes.len() as u64)
    }

    /// Adds `name` to the section name string table; returns its offset there.
    pub(crate) fn name(&mut self, name: &str) -> u64 {
        if self.section_names.is_empty() {
            self.section_names.push(0);
        }
        let at = self.section_names.len() as u64;
        self.section_names.extend_from_slice(name.as_bytes());
        self.section_names.push(0);
        at
    }

    /// Adds a section header: name offset, type, data offset and size, link.
    pub(crate) fn section(&mut self, name: u64, kind: u64, (offset, size): (u64, u64), link: u64) {
        self.sections.push([name, kind, offset, size, link]);
    }

    /// The file: header, blobs, section names, section header table (null section first, the
    /// section names last).
    pub(crate) fn build(mut self) -> Vec<u8> {
        let mut names = std::mem::take(&mut self.section_names);
        if names.is_empty() {
            names.push(0);
        }
        let names_name = names.len() as u64;
        names.extend_from_slice(b".shstrtab\0");
        let names_blob = self.blob(&names);
        self.sections
            .push([names_name, SHT_STRTAB, names_blob.0, names_blob.1, 0]);
        let shoff = 64 + self.data.len() as u64;
        let shnum = self.sections.len() + 1;
        let mut out = vec![0u8; 64];
        out[..4].copy_from_slice(b"\x7fELF");
        out[4] = 2;
        out[5] = 1;
        out[0x28..0x30].copy_from_slice(&shoff.to_le_bytes());
        out[0x3a..0x3c].copy_from_slice(&64u16.to_le_bytes());
        out[0x3c..0x3e].copy_from_slice(&(shnum as u16).to_le_bytes());
        out[0x3e..0x40].copy_from_slice(&((shnum - 1) as u16).to_le_bytes());
        out.extend_from_slice(&self.data);
        out.extend_from_slice(&[0u8; 64]);
        for [name, kind, offset, size, link] in self.sections {
            let mut header = [0u8; 64];
            header[..4].copy_from_slice(&(name as u32).to_le_bytes());
            header[4..8].copy_from_slice(&(kind as u32).to_le_bytes());
            header[0x18..0x20].copy_from_slice(&offset.to_le_bytes());
            header[0x20..0x28].copy_from_slice(&size.to_le_bytes());
            header[0x28..0x2c].copy_from_slice(&(link as u32).to_le_bytes());
            out.extend_from_slice(&header);
        }
        out
    }
}

/// A symbol table of `count` entry-point functions whose names all start at `name` in their
/// string table.
pub(crate) fn entry_symbols(count: usize, name: u32) -> Vec<u8> {
    let mut symbol = [0u8; 24];
    symbol[..4].copy_from_slice(&name.to_le_bytes());
    symbol[4] = 0x12; // STB_GLOBAL, STT_FUNC
    symbol[5] = 0x10; // the entry-point bit
    symbol.repeat(count)
}

/// `count` `EIATTR_KPARAM_INFO` records, one 4-byte parameter each.
pub(crate) fn kparam_records(count: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(count * 16);
    for index in 0..count {
        out.extend_from_slice(&[0x04, 0x17, 12, 0]);
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(index as u16).to_le_bytes());
        out.extend_from_slice(&((index * 4) as u16).to_le_bytes());
        out.extend_from_slice(&(4u32 << 18).to_le_bytes());
    }
    out
}

/// A build manifest of `kernels` kernels with one pointer parameter each, as TOML.
pub(crate) fn manifest(kernels: usize) -> String {
    let mut text = format!(
        "format = {}\n\n[module]\nname = \"big\"\nsource = \"/src/big.cu\"\n\
         fatbin = \"big.fatbin\"\ntargets = [\"sm_90\"]\nbuild_key = \"abc\"\ncache = \"off\"\n\n\
         [toolkit]\nnvcc = \"/usr/local/cuda/bin/nvcc\"\nversion = \"13.0.88\"\nflags = []\n",
        sasskit_core::manifest::FORMAT
    );
    for index in 0..kernels {
        let _ = write!(
            text,
            "\n[[kernels]]\nname = \"kernel_{index}\"\nfile = \"/src/big.cu\"\nline = {index}\n\
             targets = [\"sm_90\"]\n\n[[kernels.params]]\nname = \"x\"\n\
             c_type = \"const float*\"\nty = \"*const f32\"\n"
        );
    }
    text
}
