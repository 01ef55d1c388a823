//! Which kernels form families: grouping by pattern, the signature every member must have, and
//! what is left out and why.

use std::collections::HashMap;

use sasskit_core::family::{FamilySettings, Pattern};
use sasskit_core::kernel::{KernelSignature, ParamType, Scalar, ValueType};

use crate::names::RESERVED_METHODS;

/// One family: a generic method over the kernels of one pattern.
#[derive(Debug)]
pub(crate) struct Family<'k> {
    /// The generic method's name.
    pub(crate) name: String,
    pub(crate) pattern: Pattern,
    /// Whether `Build::kernel_family` declared it.
    pub(crate) declared: bool,
    /// How many element types each member's name has.
    pub(crate) slots: usize,
    /// The parameters every member has, with the family's type parameters where the types of
    /// the names stand.
    pub(crate) params: Vec<FamilyParam<'k>>,
    /// The members, in source order; the index of each is its place in the family's table.
    pub(crate) members: Vec<Member<'k>>,
}

/// A kernel of a family and the types its name has.
#[derive(Debug)]
pub(crate) struct Member<'k> {
    pub(crate) kernel: &'k KernelSignature,
    pub(crate) types: Vec<Scalar>,
}

/// A parameter of a family's generic method.
#[derive(Debug)]
pub(crate) struct FamilyParam<'k> {
    /// The first member's parameter (its name and how it is passed).
    pub(crate) first: &'k ParamType,
    pub(crate) name: &'k str,
    /// `Some(k)`: the element type is the family's `k`-th type parameter; `None`: the type is
    /// the same in every member.
    pub(crate) slot: Option<usize>,
}

/// A kernel the family of its name does not take, or a pattern that made no family.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct LeftOut {
    /// The kernel, or every kernel of the pattern.
    pub(crate) kernels: Vec<String>,
    /// The family's pattern.
    pub(crate) pattern: String,
    pub(crate) reason: String,
}

/// The families of a module and what was left out.
#[derive(Debug, Default)]
pub(crate) struct Families<'k> {
    pub(crate) families: Vec<Family<'k>>,
    pub(crate) left_out: Vec<LeftOut>,
}

/// A group of kernels that share a pattern, before their signatures are compared.
struct Group<'k> {
    pattern: Pattern,
    declared: Option<String>,
    members: Vec<Member<'k>>,
}

/// Groups the typed `kernels` into families under `settings`. Errors are problems of declared
/// families, which the crate's author can fix in the build script.
pub(crate) fn detect<'k>(
    kernels: &[&'k KernelSignature],
    settings: &FamilySettings,
) -> Result<Families<'k>, String> {
    let groups = group(kernels, settings);
    let kernel_names: Vec<&str> = kernels.iter().map(|kernel| kernel.name.as_str()).collect();
    let mut result = Families::default();
    for group in groups {
        let declared = group.declared.is_some();
        let pattern = group.pattern.to_string();
        let Some(name) = group
            .declared
            .clone()
            .or_else(|| group.pattern.family_name())
        else {
            result.left_out.push(LeftOut {
                kernels: names(&group.members),
                pattern,
                reason: "the name has nothing but element types, so the family has no name; \
                         name it with `Build::kernel_family`"
                    .to_owned(),
            });
            continue;
        };
        match signature(group.pattern, name.clone(), declared, &group.members) {
            Ok((family, left_out)) => {
                result.left_out.extend(left_out);
                result.families.push(family);
            }
            Err(left_out) if declared => {
                return Err(format!(
                    "the kernel family `{name}` (`{}`, kernels `{}`) {}; change the pattern \
                     given to `Build::kernel_family`",
                    left_out.pattern,
                    left_out.kernels.join("`, `"),
                    left_out.reason
                ));
            }
            Err(left_out) => result.left_out.push(left_out),
        }
    }
    check_names(&mut result, &kernel_names)?;
    Ok(result)
}

/// Declared families first (a kernel goes to the first that matches it), then the automatic
/// rule over the rest; groups in the order of their first kernel.
fn group<'k>(kernels: &[&'k KernelSignature], settings: &FamilySettings) -> Vec<Group<'k>> {
    let mut groups: Vec<Group<'k>> = settings
        .declared
        .iter()
        .map(|family| Group {
            pattern: family.pattern.clone(),
            declared: Some(family.name.clone()),
            members: Vec::new(),
        })
        .collect();
    let mut by_pattern: HashMap<Pattern, usize> = HashMap::new();
    for kernel in kernels {
        let declared = groups.iter_mut().find_map(|group| {
            let types = group.pattern.match_name(&kernel.name)?;
            Some((group, types))
        });
        if let Some((group, types)) = declared {
            group.members.push(Member { kernel, types });
            continue;
        }
        if !settings.detect {
            continue;
        }
        let Some((pattern, types)) = Pattern::detect(&kernel.name) else {
            continue;
        };
        let index = *by_pattern.entry(pattern.clone()).or_insert_with(|| {
            groups.push(Group {
                pattern,
                declared: None,
                members: Vec::new(),
            });
            groups.len() - 1
        });
        groups[index].members.push(Member { kernel, types });
    }
    // A declared pattern that matches nothing here is for another file of the `Build`; an
    // automatic pattern with one kernel is no family.
    groups.retain(|group| {
        if group.declared.is_some() {
            !group.members.is_empty()
        } else {
            group.members.len() > 1
        }
    });
    groups
}

/// The signature that fits the most members, and the members it leaves out; `Err` when there
/// is no family.
fn signature<'k>(
    pattern: Pattern,
    name: String,
    declared: bool,
    members: &[Member<'k>],
) -> Result<(Family<'k>, Vec<LeftOut>), LeftOut> {
    let pattern_text = pattern.to_string();
    let slots = pattern.slots();
    let candidates: Vec<Vec<Option<usize>>> = members.iter().map(template).collect();
    let best = candidates
        .iter()
        .enumerate()
        .map(|(index, candidate)| {
            let fits = members
                .iter()
                .filter(|member| fits(candidate, &members[index], member))
                .count();
            let generic = candidate.iter().filter(|slot| slot.is_some()).count();
            (fits, generic, std::cmp::Reverse(index))
        })
        .max()
        .map(|(_, _, std::cmp::Reverse(index))| index);
    let no_family = |reason: &str| LeftOut {
        kernels: names(members),
        pattern: pattern_text.clone(),
        reason: reason.to_owned(),
    };
    let Some(best) = best else {
        return Err(no_family("has no kernels"));
    };
    let template = &candidates[best];
    let model = &members[best];
    if let Some(missing) = (0..slots).find(|slot| !template.contains(&Some(*slot))) {
        return Err(no_family(&format!(
            "is no family: the element type {} of the names is the type of no parameter",
            missing + 1
        )));
    }
    let mut kept: Vec<Member<'k>> = Vec::new();
    let mut left_out = Vec::new();
    for member in members {
        let reason = if fits(template, model, member) {
            kept.iter()
                .find(|other| other.types == member.types)
                .map(|other| format!("the same types as `{}`", other.kernel.name))
        } else {
            Some(format!(
                "its parameters differ from the family's beyond the element types (`{}`)",
                model.kernel.name
            ))
        };
        match reason {
            Some(reason) => left_out.push(LeftOut {
                kernels: vec![member.kernel.name.clone()],
                pattern: pattern_text.clone(),
                reason,
            }),
            None => kept.push(Member {
                kernel: member.kernel,
                types: member.types.clone(),
            }),
        }
    }
    if kept.len() < 2 && !declared {
        return Err(no_family(
            "is no family: fewer than two of its kernels have the same parameters up to the \
             element types",
        ));
    }
    let params = model
        .kernel
        .params
        .iter()
        .zip(template)
        .map(|(param, slot)| FamilyParam {
            first: &param.ty,
            name: &param.name,
            slot: *slot,
        })
        .collect();
    Ok((
        Family {
            name,
            pattern,
            declared,
            slots,
            params,
            members: kept,
        },
        left_out,
    ))
}

/// A member's parameters as a family signature: each element type that is one of the name's
/// types becomes that slot (the first, where two slots have the same type).
fn template(member: &Member<'_>) -> Vec<Option<usize>> {
    member
        .kernel
        .params
        .iter()
        .map(|param| match param.ty.value_type() {
            ValueType::Scalar(scalar) => member.types.iter().position(|ty| ty == scalar),
            _ => None,
        })
        .collect()
}

/// Whether `member` has the signature `template` (taken from `model`) with its own types.
fn fits(template: &[Option<usize>], model: &Member<'_>, member: &Member<'_>) -> bool {
    let (mine, theirs) = (&member.kernel.params, &model.kernel.params);
    mine.len() == theirs.len()
        && template.len() == mine.len()
        && mine
            .iter()
            .zip(theirs)
            .zip(template)
            .all(|((param, model_param), slot)| {
                let expected = match slot {
                    Some(slot) => {
                        with_value(&model_param.ty, ValueType::Scalar(member.types[*slot]))
                    }
                    None => model_param.ty.clone(),
                };
                param.ty == expected
            })
}

fn with_value(ty: &ParamType, value: ValueType) -> ParamType {
    match ty {
        ParamType::Value(_) => ParamType::Value(value),
        ParamType::ConstPtr(_) => ParamType::ConstPtr(value),
        ParamType::MutPtr(_) => ParamType::MutPtr(value),
    }
}

fn names(members: &[Member<'_>]) -> Vec<String> {
    members
        .iter()
        .map(|member| member.kernel.name.clone())
        .collect()
}

/// Families whose method name is taken: by a `Module` method, a kernel's method or another
/// family. An automatic family is left out (its kernels keep their methods); a declared one is
/// an error.
fn check_names(result: &mut Families<'_>, kernels: &[&str]) -> Result<(), String> {
    let mut taken: Vec<(usize, String)> = Vec::new();
    for (index, family) in result.families.iter().enumerate() {
        let name = family.name.as_str();
        let clash = if RESERVED_METHODS.contains(&name) {
            Some(format!("a method of the generated `Module` (`{name}`)"))
        } else if kernels.contains(&name) {
            Some(format!("the method of the kernel `{name}`"))
        } else if let Some(other) = result
            .families
            .iter()
            .enumerate()
            .find(|(other, family)| *other != index && family.name == name)
        {
            Some(format!("the family `{}` (`{}`)", name, other.1.pattern))
        } else {
            let trait_name = super::trait_name(name);
            result
                .families
                .iter()
                .take(index)
                .find(|other| super::trait_name(&other.name) == trait_name)
                .map(|other| format!("the trait `{trait_name}` of the family `{}`", other.name))
        };
        if let Some(clash) = clash {
            if family.declared {
                return Err(format!(
                    "the kernel family `{name}` (`{}`) has the name of {clash}; give \
                     `Build::kernel_family` another name",
                    family.pattern
                ));
            }
            taken.push((index, clash));
        }
    }
    for (index, clash) in taken.into_iter().rev() {
        let family = result.families.remove(index);
        result.left_out.push(LeftOut {
            kernels: family
                .members
                .iter()
                .map(|member| member.kernel.name.clone())
                .collect(),
            pattern: family.pattern.to_string(),
            reason: format!(
                "is no family: its name `{}` is {clash}; name it with `Build::kernel_family`",
                family.name
            ),
        });
    }
    Ok(())
}
