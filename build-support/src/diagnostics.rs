//! nvcc's diagnostics, with positions in the `file:line` form editors and terminals link.

/// Rewrites `kernels/k.cu(12): error: …` as `kernels/k.cu:12: error: …`; other lines are kept.
pub(crate) fn normalize_line(line: &str) -> String {
    let Some(open) = line.find('(') else {
        return line.to_owned();
    };
    let rest = &line[open + 1..];
    let Some(close) = rest.find("): ") else {
        return line.to_owned();
    };
    let number = &rest[..close];
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) || open == 0 {
        return line.to_owned();
    }
    format!("{}:{number}: {}", &line[..open], &rest[close + 3..])
}

/// All lines of nvcc's output, normalized, without empty lines.
pub(crate) fn normalize(output: &str) -> Vec<String> {
    output
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(normalize_line)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_nvcc_positions() {
        assert_eq!(
            normalize_line(
                "kernels/bad.cu(1): error: this declaration has no storage class or type specifier"
            ),
            "kernels/bad.cu:1: error: this declaration has no storage class or type specifier"
        );
        assert_eq!(
            normalize_line("1 error detected in the compilation of \"bad.cu\"."),
            "1 error detected in the compilation of \"bad.cu\"."
        );
        assert_eq!(
            normalize_line("f(x): not a position"),
            "f(x): not a position"
        );
    }
}
