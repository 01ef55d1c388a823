//! The items of the families: the sealed traits with one impl per member, each family's table
//! field, and its generic method.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};
use sasskit_core::kernel::ParamType;

use super::{Family, trait_name};
use crate::names::{ident, param_ident};
use crate::type_paths::TypePaths;
use crate::wrapper::{argument, scalar_type, value_type};

/// The field of `Module` that holds the family's table: one `OnceLock` per member.
pub(crate) fn family_field(family: &Family<'_>) -> Ident {
    format_ident!("family_{}", family.name)
}

/// The module-level items of every family of `module`: the sealing traits and each family's
/// public trait with its impls.
pub(crate) fn trait_items(families: &[Family<'_>], module: &str) -> TokenStream {
    if families.is_empty() {
        return TokenStream::new();
    }
    let seals = families
        .iter()
        .map(|family| format_ident!("{}", trait_name(&family.name)));
    let traits = families.iter().map(|family| family_trait(family, module));
    quote! {
        /// Keeps the family traits implemented for the types the module has kernels for only.
        mod sealed {
            #(pub trait #seals {})*
        }

        #(#traits)*
    }
}

fn family_trait(family: &Family<'_>, module: &str) -> TokenStream {
    let trait_ident = format_ident!("{}", trait_name(&family.name));
    let name = &family.name;
    let type_list: Vec<String> = family
        .members
        .iter()
        .map(|member| types_text(&member.types))
        .collect();
    let doc = format!(
        " The element types of the kernel family `{name}` of `{module}` (`{}`), which \
         `Module::{name}` takes: {}.\n\n Sealed: implemented for the types that have a kernel \
         only.",
        family.pattern,
        family
            .members
            .iter()
            .zip(&type_list)
            .map(|(member, types)| format!("`{types}` (`{}`)", member.kernel.name))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let what = if family.slots == 1 {
        "this type"
    } else {
        "these types"
    };
    let message = format!("the kernel family `{name}` of `{module}` has no kernel for `{{Self}}`");
    let label = format!("no `{name}` kernel for {what}");
    let note = format!("`{name}` has kernels for: {}", type_list.join(", "));
    let impls = family.members.iter().enumerate().map(|(index, member)| {
        let types: Vec<TokenStream> = member.types.iter().map(|ty| scalar_type(*ty)).collect();
        let self_ty = if family.slots == 1 {
            quote!(#(#types)*)
        } else {
            quote!((#(#types),*))
        };
        let kernel = &member.kernel.name;
        quote! {
            impl sealed::#trait_ident for #self_ty {}
            impl #trait_ident for #self_ty {
                const INDEX: usize = #index;
                const KERNEL: &'static str = #kernel;
            }
        }
    });
    // One type is a kernel argument's type: generic code then needs no bound but the trait.
    let private = quote!(::sasskit::__private);
    let repr = (family.slots == 1).then(|| quote!(+ #private::cudarc::driver::DeviceRepr));
    quote! {
        #[doc = #doc]
        #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
        pub trait #trait_ident: sealed::#trait_ident #repr {
            /// The member's place in the family's table.
            #[doc(hidden)]
            const INDEX: usize;
            /// The member's kernel.
            #[doc(hidden)]
            const KERNEL: &'static str;
        }

        #(#impls)*
    }
}

/// The generic method of `family`, a method of `Module`.
pub(crate) fn generic_method(family: &Family<'_>, types: &TypePaths) -> TokenStream {
    let private = quote!(::sasskit::__private);
    let method = ident(&family.name);
    let field = family_field(family);
    let trait_ident = format_ident!("{}", trait_name(&family.name));
    let type_params: Vec<Ident> = if family.slots == 1 {
        vec![format_ident!("T")]
    } else {
        (1..=family.slots)
            .map(|k| format_ident!("T{}", k))
            .collect()
    };
    let self_ty = if family.slots == 1 {
        quote!(#(#type_params)*)
    } else {
        quote!((#(#type_params),*))
    };
    let member = quote!(<#self_ty as #trait_ident>);
    let mut params = Vec::new();
    let mut pushes = Vec::new();
    let mut by_value = Vec::new();
    for param in &family.params {
        let arg = param_ident(param.name);
        let element = match param.slot {
            Some(slot) => {
                let ty = &type_params[slot];
                // A one-type family's trait has `DeviceRepr` as a supertrait.
                if family.slots > 1
                    && matches!(param.first, ParamType::Value(_))
                    && !by_value.contains(&slot)
                {
                    by_value.push(slot);
                }
                quote!(#ty)
            }
            None => value_type(param.first.value_type(), types),
        };
        let (ty, push) = argument(&arg, param.first, &element);
        params.push(quote!(#arg: #ty));
        pushes.push(push);
    }
    let value_bounds = by_value.iter().map(|slot| {
        let ty = &type_params[*slot];
        quote!(#ty: #private::cudarc::driver::DeviceRepr,)
    });
    let doc = method_doc(family, &type_params);
    quote! {
        #[doc = #doc]
        #[allow(clippy::too_many_arguments)]
        pub unsafe fn #method<#(#type_params),*>(
            &self,
            stream: &#private::cudarc::driver::CudaStream,
            config: #private::cudarc::driver::LaunchConfig,
            #(#params),*
        ) -> ::core::result::Result<(), #private::LaunchError>
        where
            #self_ty: #trait_ident,
            #(#value_bounds)*
        {
            let function = #private::resolve(
                &self.loaded,
                &self.#field[#member::INDEX],
                #member::KERNEL,
            )?;
            let mut args = stream.launch_builder(function);
            #(#pushes)*
            // SAFETY: the caller upholds the kernel's contract (see `# Safety`); the argument
            // types match the parameters of the kernel the types select, checked when the
            // family was formed.
            let launched = unsafe { args.launch(config) }.map(|_| ());
            #private::launched(&self.loaded, #member::KERNEL, launched)
        }
    }
}

fn method_doc(family: &Family<'_>, type_params: &[Ident]) -> String {
    let params = type_params
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let first = &family.members[0].kernel;
    let mut lines = vec![
        format!(
            " Launches the kernel of the family `{}` (`{}`) that `{params}` select{}:",
            family.name,
            family.pattern,
            if type_params.len() == 1 { "s" } else { "" }
        ),
        String::new(),
    ];
    for member in &family.members {
        lines.push(format!(
            " * `{}`: `{}` ({}:{})",
            types_text(&member.types),
            member.kernel.name,
            member.kernel.file,
            member.kernel.line
        ));
    }
    lines.extend([
        String::new(),
        format!(
            " Other types are a compile error. The parameters are those of each kernel, with `{params}` where the"
        ),
        " element types of the name stand; for example:".to_owned(),
        String::new(),
        " ```c".to_owned(),
        format!(" {}", first.c_declaration()),
        " ```".to_owned(),
        String::new(),
        " Each kernel is looked up the first time it runs, here or through its own method.".to_owned(),
        String::new(),
        " # Safety".to_owned(),
        String::new(),
        " The kernel runs unchecked device code: `config` and the arguments must satisfy its contract".to_owned(),
        " (grid and block sizes, buffer lengths it indexes, values it assumes), as for any cudarc launch.".to_owned(),
    ]);
    lines.join("\n")
}

/// `f32`, or `(f32, bf16)` for more than one type.
fn types_text(types: &[sasskit_core::kernel::Scalar]) -> String {
    let names: Vec<&str> = types.iter().map(|ty| ty.rust_name()).collect();
    if names.len() == 1 {
        names[0].to_owned()
    } else {
        format!("({})", names.join(", "))
    }
}
