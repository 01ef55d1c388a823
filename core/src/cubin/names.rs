//! Names read from string tables within one budget for the whole cubin.
//!
//! A name is read up to its NUL. Names may overlap (a linker merges `.rel.text.k` and
//! `.text.k`), so a crafted file can point many symbols at the start of one long name and have
//! it read again for each. The budget, a few times the file's size, is far more than real
//! cubins use (each name is also stored once, next to section headers and code) and bounds the
//! bytes examined by a multiple of the input.

use super::error::{CubinError, CubinErrorKind};

/// Bytes of names that may be read per byte of the cubin.
const BYTES_PER_FILE_BYTE: usize = 4;
/// Bytes of names that may be read in any cubin, however small.
const SLACK: usize = 64 << 10;

/// What is left of a cubin's names budget.
pub(super) struct Names {
    left: usize,
    limit: usize,
}

impl Names {
    /// The budget of a cubin of `len` bytes.
    pub(super) fn for_file(len: usize) -> Names {
        let limit = len
            .saturating_mul(BYTES_PER_FILE_BYTE)
            .saturating_add(SLACK);
        Names { left: limit, limit }
    }

    /// The NUL-terminated name at `start` of `table`: `None` when it starts or ends outside the
    /// table, an error naming `at` (the record that points to it) when the budget runs out.
    pub(super) fn read<'a>(
        &mut self,
        table: &'a [u8],
        start: u32,
        at: usize,
    ) -> Result<Option<&'a [u8]>, CubinError> {
        let Some(rest) = usize::try_from(start)
            .ok()
            .and_then(|start| table.get(start..))
        else {
            return Ok(None);
        };
        let window = &rest[..rest.len().min(self.left)];
        match window.iter().position(|&b| b == 0) {
            Some(end) => {
                self.left -= end + 1;
                Ok(Some(&rest[..end]))
            }
            None if window.len() == rest.len() => {
                self.left -= window.len();
                Ok(None)
            }
            None => Err(CubinError::new(
                at,
                CubinErrorKind::NamesTooLong { limit: self.limit },
            )),
        }
    }
}
