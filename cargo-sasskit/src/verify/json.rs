//! `verify --json`: the report as one JSON object, for CI tools to read instead of the table.
//!
//! ```json
//! {"file": "target/release/app", "required": ["sm_90", "sm_100"], "ok": false,
//!  "containers": [{"offset": 4096, "origin": "module saxpy, source /crate/kernels/saxpy.cu",
//!                  "size": 10240, "kernels": ["saxpy"],
//!                  "images": [{"kind": "sass", "target": "sm_90", "version": "1.8",
//!                              "compression": "none", "stored": 5184, "uncompressed": null}],
//!                  "missing": ["sm_100"], "error": null}],
//!  "problems": ["container at 0x1000 (kernels saxpy) has no SASS for sm_100 …"]}
//! ```
//!
//! Every kernel name is listed (the table cuts them); a container that cannot be read has
//! `error` set and no images.

use std::fmt::Write as _;
use std::path::Path;

use sasskit_core::TargetList;

use super::{Report, satisfies};

impl Report {
    /// The report of `path` against `required` as JSON (see the module docs).
    pub fn to_json(&self, path: &Path, required: &TargetList) -> String {
        let mut out = String::from("{");
        let _ = write!(out, "\"file\": {}", string(&path.display().to_string()));
        let targets: Vec<String> = required.iter().map(|t| string(&t.to_string())).collect();
        let _ = write!(out, ", \"required\": [{}]", targets.join(", "));
        let _ = write!(out, ", \"ok\": {}", self.is_ok());
        out.push_str(", \"containers\": [");
        for (index, container) in self.containers.iter().enumerate() {
            if index > 0 {
                out.push_str(", ");
            }
            let _ = write!(out, "{{\"offset\": {}", container.offset);
            let origin = container
                .origin
                .as_deref()
                .map_or_else(|| "null".to_owned(), string);
            let _ = write!(out, ", \"origin\": {origin}");
            match &container.parsed {
                Err(error) => {
                    let _ = write!(
                        out,
                        ", \"size\": null, \"kernels\": [], \"images\": [], \"missing\": [], \
                         \"error\": {}}}",
                        string(&error.to_string())
                    );
                }
                Ok(parsed) => {
                    let kernels: Vec<String> = parsed.kernels.iter().map(|k| string(k)).collect();
                    let _ = write!(
                        out,
                        ", \"size\": {}, \"kernels\": [{}], \"images\": [",
                        parsed.size,
                        kernels.join(", ")
                    );
                    for (index, image) in parsed.images.iter().enumerate() {
                        if index > 0 {
                            out.push_str(", ");
                        }
                        let target = image
                            .target()
                            .map_or_else(|| image.arch.to_string(), |t| t.to_string());
                        let _ = write!(
                            out,
                            "{{\"kind\": {}, \"target\": {}, \"version\": \"{}.{}\", \
                             \"compression\": {}, \"stored\": {}, \"uncompressed\": {}}}",
                            string(&image.kind.to_string()),
                            string(&target),
                            image.version.0,
                            image.version.1,
                            string(&image.compression.to_string()),
                            image.compressed_size.unwrap_or(image.payload_size),
                            image
                                .uncompressed_size
                                .map_or_else(|| "null".to_owned(), |n| n.to_string()),
                        );
                    }
                    let missing: Vec<String> = required
                        .iter()
                        .filter(|&t| !parsed.images.iter().any(|image| satisfies(image, t)))
                        .map(|t| string(&t.to_string()))
                        .collect();
                    let _ = write!(
                        out,
                        "], \"missing\": [{}], \"error\": null}}",
                        missing.join(", ")
                    );
                }
            }
        }
        out.push_str("], \"problems\": [");
        let problems: Vec<String> = self
            .problems
            .iter()
            .map(|p| string(&p.to_string()))
            .collect();
        out.push_str(&problems.join(", "));
        out.push_str("]}");
        out
    }
}

/// `text` as a JSON string: quotes, backslashes and control characters escaped.
fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        assert_eq!(string("a\"b\\c\nd\u{1}"), "\"a\\\"b\\\\c\\nd\\u0001\"");
    }
}
