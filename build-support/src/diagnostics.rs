//! nvcc's diagnostics, with positions in the `file:line` form editors and terminals link, and
//! each shown once per file however many target passes printed it.

use std::collections::HashMap;

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

/// nvcc's diagnostics from the runs over one file, each distinct one once, its first line
/// naming the targets of the runs that printed it: `k.cu:3: warning #177-D: … (nvcc for sm_90,
/// sm_100)`. nvcc repeats a device-side warning once per target architecture, within one run
/// of several `-gencode`s as across runs of one each; a run of several targets cannot tell
/// which of them printed a warning, so it is named with all of them.
///
/// A diagnostic is a line that does not start with a space, with the indented lines after it
/// (the source line, the caret, `detected during …`).
pub(crate) fn once_per_file(runs: &[(Vec<String>, Vec<String>)]) -> Vec<String> {
    let mut seen: Vec<(Vec<String>, Vec<String>)> = Vec::new();
    let mut index: HashMap<Vec<String>, usize> = HashMap::new();
    for (targets, lines) in runs {
        for block in blocks(lines) {
            let at = *index.entry(block.clone()).or_insert_with(|| {
                seen.push((block, Vec::new()));
                seen.len() - 1
            });
            for target in targets {
                if !seen[at].1.contains(target) {
                    seen[at].1.push(target.clone());
                }
            }
        }
    }
    let mut out = Vec::new();
    for (block, targets) in seen {
        let mut lines = block.into_iter();
        if let Some(first) = lines.next() {
            if targets.is_empty() {
                out.push(first);
            } else {
                out.push(format!("{first} (nvcc for {})", targets.join(", ")));
            }
        }
        out.extend(lines);
    }
    out
}

/// The lines grouped into diagnostics: each starts at a line without leading whitespace.
fn blocks(lines: &[String]) -> Vec<Vec<String>> {
    let mut blocks: Vec<Vec<String>> = Vec::new();
    for line in lines {
        match blocks.last_mut() {
            Some(block) if line.starts_with(char::is_whitespace) => block.push(line.clone()),
            _ => blocks.push(vec![line.clone()]),
        }
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        normalize(text)
    }

    #[test]
    fn a_warning_of_every_target_is_shown_once_with_the_targets() {
        let warning = "k.cu(3): warning #177-D: variable \"x\" was declared but never referenced\n\
                       \x20   int x = 1;\n\
                       \x20       ^\n\n\
                       Remark: The warnings can be suppressed with \"-diag-suppress <warning-number>\"\n";
        let only_90 = "k.cu(9): warning #550-D: variable \"y\" was set but never used\n\
                       \x20   int y;\n";
        // Three runs of one target each, as the fat-binary path compiles.
        let runs = [
            (
                vec!["sm_90".to_owned()],
                lines(&format!("{warning}{only_90}")),
            ),
            (vec!["sm_100".to_owned()], lines(warning)),
            (vec!["sm_121".to_owned()], lines(warning)),
        ];
        assert_eq!(
            once_per_file(&runs),
            [
                "k.cu:3: warning #177-D: variable \"x\" was declared but never referenced (nvcc \
                 for sm_90, sm_100, sm_121)",
                "    int x = 1;",
                "        ^",
                "Remark: The warnings can be suppressed with \"-diag-suppress <warning-number>\" \
                 (nvcc for sm_90, sm_100, sm_121)",
                "k.cu:9: warning #550-D: variable \"y\" was set but never used (nvcc for sm_90)",
                "    int y;",
            ]
        );
        // One run of three targets, as the static-library path compiles: nvcc prints each
        // device-side warning once per target.
        let one_run = [(
            vec!["sm_90".to_owned(), "sm_100".to_owned(), "sm_121".to_owned()],
            lines(&warning.repeat(3)),
        )];
        let shown = once_per_file(&one_run);
        assert_eq!(shown.len(), 4, "{shown:#?}");
        assert!(shown[0].ends_with("(nvcc for sm_90, sm_100, sm_121)"));
    }

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
