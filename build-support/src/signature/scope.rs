//! Where a scan of preprocessed tokens is: inside which braces, each an `extern "C"` block or
//! not, and where the current statement began. The one brace scanner of the kernel and the
//! host-function extraction.

use super::tokens::Token;

/// The braces open at a token, and the start of the statement it is in.
#[derive(Debug, Default)]
pub(super) struct Scope {
    /// For each open brace: whether it opened an `extern "C"` block.
    braces: Vec<bool>,
    /// The first token of the current statement.
    pub(super) statement_start: usize,
}

impl Scope {
    /// Takes token `i` into account; `true` when it was a brace or a `;`, which end a
    /// statement and are nothing else.
    pub(super) fn step(&mut self, tokens: &[Token<'_>], i: usize) -> bool {
        match tokens[i].text {
            "{" => {
                let extern_c_block =
                    i >= 2 && tokens[i - 2].text == "extern" && tokens[i - 1].text == "\"C\"";
                self.braces.push(extern_c_block);
            }
            "}" => {
                self.braces.pop();
            }
            ";" => {}
            _ => return false,
        }
        self.statement_start = i + 1;
        true
    }

    /// Whether every open brace is an `extern "C"` block: the file's own scope.
    pub(super) fn at_file_scope(&self) -> bool {
        self.braces.iter().all(|&block| block)
    }

    /// Whether a declaration whose tokens before its name are `prefix` has C linkage: inside an
    /// `extern "C"` block, or declared `extern "C"` itself.
    pub(super) fn extern_c(&self, prefix: &[Token<'_>]) -> bool {
        self.braces.iter().any(|&block| block)
            || prefix
                .windows(2)
                .any(|pair| pair[0].text == "extern" && pair[1].text == "\"C\"")
    }
}
