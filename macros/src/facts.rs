//! Build facts as Rust expressions of core's types: the targets, origin and cache status the
//! manifest recorded cross into the runtime typed, so that the runtime parses no name.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use sasskit_core::provenance::{CacheStatus, Origin};
use sasskit_core::{Target, Variant};

/// `::sasskit::__private::Target::Sass(…)` for a target the manifest names (`sm_90a`,
/// `compute_90`); an error at `span` for a name that is no target.
pub(crate) fn target(name: &str, span: Span) -> syn::Result<TokenStream> {
    let parsed: Target = name.parse().map_err(|error| {
        syn::Error::new(
            span,
            format!("the build manifest names the target `{name}`, which sasskit cannot read ({error}); rebuild the crate"),
        )
    })?;
    let private = quote!(::sasskit::__private);
    let arch = parsed.arch();
    let sm = arch.sm;
    let variant = match arch.variant {
        Variant::Plain => quote!(Plain),
        Variant::Family => quote!(Family),
        Variant::Specific => quote!(Specific),
    };
    let arch = quote!(#private::Arch::new(#sm, #private::Variant::#variant));
    Ok(match parsed {
        Target::Sass(_) => quote!(#private::Target::Sass(#arch)),
        Target::Ptx(_) => quote!(#private::Target::Ptx(#arch)),
    })
}

/// `&[target, …]` for the manifest's target names.
pub(crate) fn targets(names: &[String], span: Span) -> syn::Result<TokenStream> {
    let targets = names
        .iter()
        .map(|name| target(name, span))
        .collect::<syn::Result<Vec<_>>>()?;
    Ok(quote!(&[#(#targets),*]))
}

/// `Some(Origin::Prebuilt)`.
pub(crate) fn origin(origin: Origin) -> TokenStream {
    let variant = match origin {
        Origin::Built => quote!(Built),
        Origin::Prebuilt => quote!(Prebuilt),
        Origin::Unavailable => quote!(Unavailable),
    };
    quote!(::core::option::Option::Some(::sasskit::__private::Origin::#variant))
}

/// `Some(CacheStatus::Hit)`.
pub(crate) fn cache(status: CacheStatus) -> TokenStream {
    let variant = match status {
        CacheStatus::Off => quote!(Off),
        CacheStatus::Hit => quote!(Hit),
        CacheStatus::Miss => quote!(Miss),
    };
    quote!(::core::option::Option::Some(::sasskit::__private::CacheStatus::#variant))
}
