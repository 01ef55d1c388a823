//! A tokenizer for preprocessed C++ that keeps each token's file and line from the line markers.

/// One token and where the preprocessor says it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) text: String,
    /// Index into [`Tokens::files`].
    pub(crate) file: usize,
    pub(crate) line: u32,
}

impl Token {
    pub(crate) fn is_ident(&self) -> bool {
        self.text
            .starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
    }
}

/// The tokens of a translation unit and the files its line markers name.
#[derive(Debug, Default)]
pub(crate) struct Tokens {
    pub(crate) tokens: Vec<Token>,
    pub(crate) files: Vec<String>,
}

/// Splits preprocessed source into tokens. Line markers (`# 12 "file.cu"`, `#line 12 "file.cu"`)
/// set the position of what follows; other directives (`#pragma`) are skipped.
pub(crate) fn tokenize(source: &str) -> Tokens {
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
    RawString(Vec<char>),
}

/// The prefixes of a raw string literal: `R"(…)"`, `LR"…"`, `u8R"…"`.
const RAW_PREFIXES: &[&str] = &["R", "LR", "uR", "UR", "u8R"];

/// The index just past `terminator` in `chars` from `from`, if it is there.
fn find_end(chars: &[char], from: usize, terminator: &[char]) -> Option<usize> {
    (from..=chars.len().saturating_sub(terminator.len()))
        .find(|&at| chars[at..].starts_with(terminator))
        .map(|at| at + terminator.len())
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
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let number = digits.parse().ok()?;
    let rest = rest[digits.len()..].trim_start();
    let file = rest.strip_prefix('"').and_then(|quoted| {
        let end = quoted.find('"')?;
        Some(quoted[..end].replace("\\\\", "\\"))
    });
    Some((number, file))
}

/// Lexes one line; returns what is still open at its end (a block comment, a raw string).
fn lex_line(text: &str, file: usize, line: u32, mut open: Open, out: &mut Vec<Token>) -> Open {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let push = |out: &mut Vec<Token>, text: String| out.push(Token { text, file, line });
    while i < chars.len() {
        match &open {
            Open::Comment => {
                if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    open = Open::Nothing;
                    i += 2;
                } else {
                    i += 1;
                }
                continue;
            }
            Open::RawString(terminator) => {
                match find_end(&chars, i, terminator) {
                    Some(end) => {
                        open = Open::Nothing;
                        i = end;
                    }
                    None => i = chars.len(),
                }
                continue;
            }
            Open::Nothing => {}
        }
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && chars.get(i + 1) == Some(&'/') {
            break;
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            open = Open::Comment;
            i += 2;
        } else if c.is_ascii_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric()
                    || chars[i] == '_'
                    || (chars[i] == '.' && c.is_ascii_digit()))
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            if chars.get(i) == Some(&'"') && RAW_PREFIXES.contains(&word.as_str()) {
                // `R"delim(` … `)delim"`, possibly over several lines: one string token.
                let delimiter: Vec<char> = chars[i + 1..]
                    .iter()
                    .take_while(|c| **c != '(')
                    .copied()
                    .collect();
                let mut terminator = vec![')'];
                terminator.extend(&delimiter);
                terminator.push('"');
                push(out, format!("{word}\"\""));
                let body = i + 1 + delimiter.len() + 1;
                if let Some(end) = find_end(&chars, body.min(chars.len()), &terminator) {
                    i = end;
                } else {
                    open = Open::RawString(terminator);
                    i = chars.len();
                }
                continue;
            }
            push(out, word);
        } else if c == '"' || c == '\'' {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i] != c {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i = (i + 1).min(chars.len());
            push(out, chars[start..i].iter().collect());
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            push(out, "::".to_owned());
            i += 2;
        } else {
            push(out, c.to_string());
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
            .map(|token| {
                (
                    token.text.as_str(),
                    tokens.files[token.file].as_str(),
                    token.line,
                )
            })
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
        let texts: Vec<&str> = tokens
            .tokens
            .iter()
            .map(|token| token.text.as_str())
            .collect();
        assert_eq!(texts, ["extern", "\"C\"", "std", "::", "size_t", "1.5f"]);
    }

    #[test]
    fn raw_strings_over_several_lines_are_one_token() {
        let source = "# 1 \"a.h\"\nvoid f() { asm volatile(R\"YYY(\nmov.b128 {%0, %1}, _d;\n)YYY\" : \"=l\"(x)); }\nint g;\n";
        let tokens = tokenize(source);
        let texts: Vec<&str> = tokens.tokens.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(texts.iter().filter(|t| **t == "{").count(), 1, "{texts:?}");
        assert_eq!(texts.iter().filter(|t| **t == "}").count(), 1, "{texts:?}");
        assert!(texts.contains(&"R\"\""), "{texts:?}");
        assert_eq!(texts[texts.len() - 2..], ["g", ";"]);
        let one_line = tokenize("x = R\"(a \"quoted\" { brace)\"; y;\n");
        let texts: Vec<&str> = one_line.tokens.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(texts, ["x", "=", "R\"\"", ";", "y", ";"]);
    }
}
