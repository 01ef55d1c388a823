//! Rust identifiers for C names.

use proc_macro2::{Ident, Span};
use sasskit_core::kernel::RUST_KEYWORDS;

/// Methods of the generated `Module` that a kernel may not shadow.
pub(crate) const RESERVED_METHODS: &[&str] = &[
    "load",
    "load_with",
    "from_loaded",
    "resolve_all",
    "report",
    "loaded",
];

/// Parameters every wrapper takes before the kernel's own.
pub(crate) const WRAPPER_PARAMS: &[&str] = &["stream", "config"];

/// An identifier for a C name: a raw identifier for Rust keywords, `name_` for the few that
/// cannot be raw.
pub(crate) fn ident(name: &str) -> Ident {
    match name {
        "self" | "Self" | "super" | "crate" | "_" => {
            Ident::new(&format!("{name}_"), Span::call_site())
        }
        _ if RUST_KEYWORDS.contains(&name) => Ident::new_raw(name, Span::call_site()),
        _ => Ident::new(name, Span::call_site()),
    }
}

/// The identifier of a kernel parameter, renamed if it collides with a wrapper parameter.
pub(crate) fn param_ident(name: &str) -> Ident {
    if WRAPPER_PARAMS.contains(&name) {
        ident(&format!("{name}_arg"))
    } else {
        ident(name)
    }
}
