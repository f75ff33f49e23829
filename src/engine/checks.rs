//! Pure checks before any change: what AWS would refuse (`preflight`),
//! what protection forbids (`check_protected`), what this stack does not
//! own (`foreign`).

use super::diff::topo;
use super::{Action, Node, Step};
use crate::error::{Error, Result};
use crate::kind::{Ctx, Known, Owner, Read};
use crate::state::State;
use std::collections::{BTreeMap, BTreeSet};

/// What AWS would refuse of the declared resources, knowable before any
/// call (`Kind::preflight`), given what was read and the account's facts.
/// Pure. Empty: nothing known to be refused.
pub fn preflight(
    nodes: &[Node],
    ctx: &Ctx,
    reads: &BTreeMap<String, Read>,
    facts: &crate::kind::Facts,
) -> Vec<String> {
    let mut known = Known::default();
    for (k, r) in reads {
        if let Read::Found(o) = r {
            known.outputs.insert(k.clone(), o.outputs.clone());
        }
    }
    let declared: BTreeMap<String, crate::kind::Planned> = nodes
        .iter()
        .filter(|n| n.declared)
        .map(|n| {
            let planned = crate::kind::Planned {
                kind: n.res.kind_name(),
                desired: n.res.desired(ctx, &known),
                deps: n.res.deps(),
            };
            (n.res.key(), planned)
        })
        .collect();
    let view = crate::kind::Preflight {
        declared: &declared,
        reads,
        facts,
    };
    nodes
        .iter()
        .filter(|n| n.declared)
        .flat_map(|n| n.res.preflight(&view))
        .collect()
}

/// The refusals of `preflight` as one error.
pub fn preflight_error(refused: &[String]) -> Error {
    Error::Other(format!(
        "AWS would refuse this program (nothing was changed):\n  - {}",
        refused.join("\n  - ")
    ))
}

/// The steps a resource's protection forbids, unless `--unprotect KEY`
/// names it: a replace (a create of a resource that exists, inside a new
/// parent, is one) of a protected resource, a delete of a fully protected
/// one. Pure; an error names each and the flag.
pub fn check_protected(
    nodes: &[Node],
    steps: &[Step],
    reads: &BTreeMap<String, Read>,
    unprotect: &[String],
) -> Result<()> {
    use crate::model::Protect;
    let known: BTreeSet<String> = nodes.iter().map(|n| n.res.key()).collect();
    if let Some(k) = unprotect.iter().find(|k| !known.contains(*k)) {
        return Err(Error::Other(format!(
            "--unprotect {k}: the stack has no resource {k:?}; its keys are {}",
            known.into_iter().collect::<Vec<_>>().join(", ")
        )));
    }
    let mut refused = vec![];
    for s in steps {
        let Some(n) = nodes.iter().find(|n| n.res.key() == s.key) else {
            continue;
        };
        let found = match reads.get(&s.key) {
            Some(Read::Found(o)) => o,
            _ => continue,
        };
        let replaced = matches!(s.action, Action::Replace | Action::Create);
        let deleted = s.action == Action::Delete && !s.retain;
        let what = match n.res.lifecycle().protect {
            Protect::Replace | Protect::All if replaced => {
                let why = match (&s.reason, s.changed.is_empty()) {
                    (Some(r), _) => r.clone(),
                    (None, false) => format!("{} cannot change in place", s.changed.join(", ")),
                    (None, true) => "it must be made again".into(),
                };
                format!("would be replaced ({why}): the new one starts empty and the old one is deleted with all it holds")
            }
            Protect::All if deleted => "would be deleted".to_string(),
            _ => continue,
        };
        if unprotect.contains(&s.key) {
            continue;
        }
        refused.push((
            s.key.clone(),
            format!("  {} ({} {}) {what}", s.key, n.res.kind_name(), found.id),
        ));
    }
    if refused.is_empty() {
        return Ok(());
    }
    let flags: Vec<String> = refused
        .iter()
        .map(|(k, _)| format!("--unprotect {k}"))
        .collect();
    Err(Error::Other(format!(
        "protected resources would be lost:\n{}\nNothing was changed. If that is what you want, run again with {}",
        refused.into_iter().map(|(_, l)| l).collect::<Vec<_>>().join("\n"),
        flags.join(" ")
    )))
}

/// A resource found under this stack's names that is not this stack's.
#[derive(Debug, Clone, PartialEq)]
pub struct Foreign {
    pub key: String,
    pub kind: &'static str,
    pub id: String,
    pub owner: Owner,
    /// Left alone because the resource it belongs to is not this stack's
    /// (not named in the message: its parent is).
    pub through_parent: bool,
}

/// What was found that this stack does not own: a resource that carries
/// another stack's ID, or none and is not recorded in this stack's state,
/// or (for an untagged kind) that belongs to a resource that is not this
/// stack's. The children of such a resource follow it. Pure: no AWS call.
pub fn foreign(
    nodes: &[Node],
    ctx: &Ctx,
    state: &State,
    reads: &BTreeMap<String, Read>,
) -> Vec<Foreign> {
    let recorded = |key: &str, id: &str| {
        state.id(key) == Some(id) || state.retired.iter().any(|r| r.key == key && r.id == id)
    };
    let mut out: Vec<Foreign> = vec![];
    for &i in &topo(nodes) {
        let res = &nodes[i].res;
        let key = res.key();
        let Some(Read::Found(o)) = reads.get(&key) else {
            continue;
        };
        let parent_foreign = res.parent().is_some_and(|p| out.iter().any(|f| f.key == p));
        let owner = if parent_foreign {
            Some(Owner::Nobody)
        } else {
            match ctx.owner_of(&o.props) {
                Some(Owner::This) => None,
                Some(Owner::Nobody) if recorded(&key, &o.id) => None,
                Some(other) => Some(other),
                None => match res.belongs_through() {
                    Some((setting, holder)) => {
                        let held_by = crate::kind::s(&o.props, setting);
                        let holder_ours = !out.iter().any(|f| f.key == holder)
                            && (matches!(reads.get(&holder), Some(Read::Found(h)) if h.id == held_by)
                                || recorded(&holder, &held_by));
                        (!holder_ours && !recorded(&key, &o.id)).then_some(Owner::Through {
                            setting,
                            id: held_by,
                        })
                    }
                    None => None,
                },
            }
        };
        if let Some(owner) = owner {
            out.push(Foreign {
                key,
                kind: res.kind_name(),
                id: o.id.clone(),
                owner,
                through_parent: parent_foreign,
            });
        }
    }
    out
}

/// The error for `up` and `plan` when a resource is another's: named, with
/// its owner and what to do. Nothing has been written when it is raised.
pub fn foreign_error(stack: &str, found: &[Foreign]) -> Error {
    let lines: Vec<String> = found
        .iter()
        .filter(|f| !f.through_parent)
        .map(|f| format!("  {} ({} {}) belongs to {}", f.key, f.kind, f.id, f.owner))
        .collect();
    let same_name = found
        .iter()
        .any(|f| matches!(&f.owner, Owner::Stack { name: Some(n), .. } if n == stack));
    let mut hint = String::from(
        "Nothing was changed. Give this stack names of its own (another name_prefix in its config file), or remove the resource from its owner first.",
    );
    if let Some(f) = found
        .iter()
        .find(|f| !f.through_parent && f.owner == Owner::Nobody)
    {
        hint.push_str(&format!(
            " A resource no stack owns (made by hand or by another tool) can be adopted: `deployer --stack {stack} import {} {}`, then `deployer plan`.",
            f.key, f.id
        ));
    }
    if same_name {
        hint.push_str(&format!(
            " A resource of a stack named {stack:?} with another ID was made by another checkout of this stack, or by this one before its state was lost: if the state was lost, restore it (its .bak copy), or take that ID back with `deployer --stack {stack} state claim ID` and run `up` again."
        ));
    }
    Error::Other(format!(
        "stack {stack:?} does not own what its program names:\n{}\n{hint}",
        lines.join("\n")
    ))
}
