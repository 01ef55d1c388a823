//! A tokenizer for preprocessed C++ that keeps each token's file and line from the line markers.

/// One token and where the preprocessor says it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    /// The token's text: a slice of the translation unit, except a raw string literal, which
    /// stands as its prefix and two quotes (`R""`), its body dropped.
    pub(crate) text: &'a str,
    /// Index into [`Tokens::files`].
    pub(crate) file: usize,
    pub(crate) line: u32,
}

impl Token<'_> {
    pub(crate) fn is_ident(&self) -> bool {
        self.text
            .starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
    }
}

/// The tokens of a translation unit and the files its line markers name.
#[derive(Debug, Default)]
pub(crate) struct Tokens<'a> {
    pub(crate) tokens: Vec<Token<'a>>,
    pub(crate) files: Vec<String>,
}

/// Splits preprocessed source into tokens. Line markers (`# 12 "file.cu"`, `#line 12 "file.cu"`)
/// set the position of what follows; other directives (`#pragma`) are skipped.
///
/// Tokens borrow their text from `source`: a translation unit of CUDA's headers is megabytes
/// and hundreds of thousands of tokens, and a build script runs unoptimized unless its crate
/// asks otherwise, so the lexer allocates nothing per token and works on bytes.
pub(crate) fn tokenize(source: &str) -> Tokens<'_> {
    let mut out = Tokens::default();
    let mut file = intern(&mut out.files, "<unknown>");
    let mut line: u32 = 1;
    let mut open = Open::Nothing;
    for text in source.lines() {
        let trimmed = text.trim_start();
        if open == Open::Nothing && trimmed.starts_with('#') {
            if let Some((marker_line, marker_file)) = line_marker(trimmed) {
                line = marker_line;
                if let Some(name) = marker_file {
                    file = intern(&mut out.files, &name);
                }
                continue;
            }
            line += 1;
            continue;
        }
        open = lex_line(text, file, line, open, &mut out.tokens);
        line += 1;
    }
    out
}

/// What a line leaves open for the next: nothing, a block comment, or a raw string literal
/// (`R"delim(…)delim"`, as CUDA's headers put PTX in `asm` statements) with its terminator.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Open {
    Nothing,
    Comment,
    RawString(Vec<u8>),
}

/// The prefixes of a raw string literal (`R"(…)"`, `LR"…"`, `u8R"…"`), each with the token that
/// stands for the whole literal.
const RAW_PREFIXES: &[(&str, &str)] = &[
    ("R", "R\"\""),
    ("LR", "LR\"\""),
    ("uR", "uR\"\""),
    ("UR", "UR\"\""),
    ("u8R", "u8R\"\""),
];

/// The index just past `terminator` in `bytes` from `from`, if it is there.
fn find_end(bytes: &[u8], from: usize, terminator: &[u8]) -> Option<usize> {
    let from = from.min(bytes.len());
    bytes[from..]
        .windows(terminator.len())
        .position(|window| window == terminator)
        .map(|at| from + at + terminator.len())
}

fn intern(files: &mut Vec<String>, name: &str) -> usize {
    if let Some(index) = files.iter().position(|file| file == name) {
        return index;
    }
    files.push(name.to_owned());
    files.len() - 1
}

/// `# 12 "file"` or `#line 12 "file"` → the line number of the next line and the file.
pub(crate) fn line_marker(directive: &str) -> Option<(u32, Option<String>)> {
    let rest = directive[1..].trim_start();
    let rest = rest.strip_prefix("line").unwrap_or(rest).trim_start();
    let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let number = rest[..digits].parse().ok()?;
    let rest = rest[digits..].trim_start();
    let file = rest.strip_prefix('"').and_then(|quoted| {
        let end = quoted.find('"')?;
        Some(quoted[..end].replace("\\\\", "\\"))
    });
    Some((number, file))
}

/// Whether `byte` continues an identifier or a number.
fn is_word_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// Lexes one line; returns what is still open at its end (a block comment, a raw string).
///
/// Every boundary the lexer cuts at is an ASCII byte, so each token is a valid `str` slice also
/// when the line holds other UTF-8 (in comments and string literals).
fn lex_line<'a>(
    text: &'a str,
    file: usize,
    line: u32,
    mut open: Open,
    out: &mut Vec<Token<'a>>,
) -> Open {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut push = |token: &'a str| {
        out.push(Token {
            text: token,
            file,
            line,
        });
    };
    while i < bytes.len() {
        match &open {
            Open::Comment => {
                match find_end(bytes, i, b"*/") {
                    Some(end) => {
                        open = Open::Nothing;
                        i = end;
                    }
                    None => i = bytes.len(),
                }
                continue;
            }
            Open::RawString(terminator) => {
                match find_end(bytes, i, terminator) {
                    Some(end) => {
                        open = Open::Nothing;
                        i = end;
                    }
                    None => i = bytes.len(),
                }
                continue;
            }
            Open::Nothing => {}
        }
        let c = bytes[i];
        let next = bytes.get(i + 1).copied();
        if c.is_ascii_whitespace() || c == b'\x0b' {
            i += 1;
        } else if !c.is_ascii() {
            // One character of other UTF-8, a token of its own.
            let start = i;
            i += 1;
            while i < bytes.len() && !text.is_char_boundary(i) {
                i += 1;
            }
            if !text[start..i].chars().all(char::is_whitespace) {
                push(&text[start..i]);
            }
        } else if c == b'/' && next == Some(b'/') {
            break;
        } else if c == b'/' && next == Some(b'*') {
            open = Open::Comment;
            i += 2;
        } else if is_word_byte(c) {
            let start = i;
            while i < bytes.len()
                && (is_word_byte(bytes[i]) || (bytes[i] == b'.' && c.is_ascii_digit()))
            {
                i += 1;
            }
            let word = &text[start..i];
            let raw = RAW_PREFIXES.iter().find(|(prefix, _)| *prefix == word);
            if let (Some((_, token)), Some(b'"')) = (raw, bytes.get(i)) {
                // `R"delim(` … `)delim"`, possibly over several lines: one string token.
                let delimiter_len = bytes[i + 1..]
                    .iter()
                    .take_while(|byte| **byte != b'(')
                    .count();
                let mut terminator = vec![b')'];
                terminator.extend_from_slice(&bytes[i + 1..i + 1 + delimiter_len]);
                terminator.push(b'"');
                push(token);
                let body = i + 1 + delimiter_len + 1;
                if let Some(end) = find_end(bytes, body, &terminator) {
                    i = end;
                } else {
                    open = Open::RawString(terminator);
                    i = bytes.len();
                }
                continue;
            }
            push(word);
        } else if c == b'"' || c == b'\'' {
            let start = i;
            i += 1;
            while i < bytes.len() && bytes[i] != c {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(bytes.len());
            push(&text[start..i]);
        } else if c == b':' && next == Some(b':') {
            push("::");
            i += 2;
        } else {
            push(&text[i..=i]);
            i += 1;
        }
    }
    open
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_line_markers() {
        let tokens = tokenize("# 1 \"a.cu\"\nint x;\n# 7 \"b.cuh\" 2\n/* c */ float y; // z\n");
        let positions: Vec<(&str, &str, u32)> = tokens
            .tokens
            .iter()
            .map(|token| (token.text, tokens.files[token.file].as_str(), token.line))
            .collect();
        assert_eq!(
            positions,
            [
                ("int", "a.cu", 1),
                ("x", "a.cu", 1),
                (";", "a.cu", 1),
                ("float", "b.cuh", 7),
                ("y", "b.cuh", 7),
                (";", "b.cuh", 7)
            ]
        );
    }

    #[test]
    fn keeps_strings_and_scopes_whole() {
        let tokens = tokenize("extern \"C\" std::size_t 1.5f");
        let texts: Vec<&str> = tokens.tokens.iter().map(|token| token.text).collect();
        assert_eq!(texts, ["extern", "\"C\"", "std", "::", "size_t", "1.5f"]);
    }

    #[test]
    fn raw_strings_over_several_lines_are_one_token() {
        let source = "# 1 \"a.h\"\nvoid f() { asm volatile(R\"YYY(\nmov.b128 {%0, %1}, _d;\n)YYY\" : \"=l\"(x)); }\nint g;\n";
        let tokens = tokenize(source);
        let texts: Vec<&str> = tokens.tokens.iter().map(|t| t.text).collect();
        assert_eq!(texts.iter().filter(|t| **t == "{").count(), 1, "{texts:?}");
        assert_eq!(texts.iter().filter(|t| **t == "}").count(), 1, "{texts:?}");
        assert!(texts.contains(&"R\"\""), "{texts:?}");
        assert_eq!(texts[texts.len() - 2..], ["g", ";"]);
        let one_line = tokenize("x = R\"(a \"quoted\" { brace)\"; y;\n");
        let texts: Vec<&str> = one_line.tokens.iter().map(|t| t.text).collect();
        assert_eq!(texts, ["x", "=", "R\"\"", ";", "y", ";"]);
    }

    #[test]
    fn other_utf8_stays_whole() {
        let source = "/* größe { */ int x = 'ä'; const char* s = \"{ é\";\nfloat µ; // ü {\n";
        let texts: Vec<&str> = tokenize(source).tokens.iter().map(|t| t.text).collect();
        assert_eq!(
            texts,
            [
                "int", "x", "=", "'ä'", ";", "const", "char", "*", "s", "=", "\"{ é\"", ";",
                "float", "µ", ";"
            ]
        );
    }
}
