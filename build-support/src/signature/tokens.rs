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
    let mut in_comment = false;
    for text in source.lines() {
        let trimmed = text.trim_start();
        if !in_comment && trimmed.starts_with('#') {
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
        in_comment = lex_line(text, file, line, in_comment, &mut out.tokens);
        line += 1;
    }
    out
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

/// Lexes one line; returns whether a block comment is still open at its end.
fn lex_line(
    text: &str,
    file: usize,
    line: u32,
    mut in_comment: bool,
    out: &mut Vec<Token>,
) -> bool {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let push = |out: &mut Vec<Token>, text: String| out.push(Token { text, file, line });
    while i < chars.len() {
        if in_comment {
            if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                in_comment = false;
                i += 2;
            } else {
                i += 1;
            }
            continue;
        }
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && chars.get(i + 1) == Some(&'/') {
            break;
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            in_comment = true;
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
            push(out, chars[start..i].iter().collect());
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
    in_comment
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
}
