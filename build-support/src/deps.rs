//! nvcc's dependency files (`-MD -MF`), in make syntax.

use std::path::PathBuf;

/// The prerequisites of every rule: the source and every header it includes.
pub(crate) fn parse(text: &str) -> Vec<PathBuf> {
    let joined = text.replace("\\\r\n", " ").replace("\\\n", " ");
    let mut paths = Vec::new();
    for rule in joined.lines() {
        let Some((_, prerequisites)) = split_rule(rule) else {
            continue;
        };
        let mut current = String::new();
        let mut chars = prerequisites.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if chars.peek() == Some(&' ') => {
                    current.push(' ');
                    chars.next();
                }
                c if c.is_whitespace() => flush(&mut current, &mut paths),
                c => current.push(c),
            }
        }
        flush(&mut current, &mut paths);
    }
    paths
}

/// Splits `target: prerequisites`, skipping a drive letter colon (`C:\…`).
fn split_rule(rule: &str) -> Option<(&str, &str)> {
    let bytes = rule.as_bytes();
    (0..bytes.len())
        .find(|&i| bytes[i] == b':' && bytes.get(i + 1).is_none_or(u8::is_ascii_whitespace))
        .map(|i| (&rule[..i], &rule[i + 1..]))
}

fn flush(current: &mut String, paths: &mut Vec<PathBuf>) {
    if !current.is_empty() {
        let path = PathBuf::from(std::mem::take(current));
        if !paths.contains(&path) {
            paths.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_continued_rules_and_escaped_spaces() {
        let text = "k.fatbin : /src/k.cu \\\n /src/my\\ dir/a.cuh \\\n /usr/include/stdio.h\n";
        let paths = parse(text);
        assert_eq!(
            paths,
            [
                PathBuf::from("/src/k.cu"),
                PathBuf::from("/src/my dir/a.cuh"),
                PathBuf::from("/usr/include/stdio.h")
            ]
        );
    }
}
