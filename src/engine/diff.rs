//! Plans: the actions, the steps, the pure diff (`plan`, `plan_with`) and
//! how a changed value is shown (`value_diffs`: maps key by key, secrets
//! masked).

use super::fingerprint_matches;
use crate::kind::{Ctx, Desired, Known, Props, Read};
use crate::model::Res;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Same,
    Create,
    Update,
    Replace,
    Delete,
}

impl Action {
    pub fn verb(self) -> &'static str {
        match self {
            Action::Same => "unchanged",
            Action::Create => "create",
            Action::Update => "update",
            Action::Replace => "replace",
            Action::Delete => "delete",
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Step {
    pub key: String,
    pub action: Action,
    /// The settings that differ (names only: values may be secret).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changed: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A delete that happens with its parent's (no call of its own).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub with_parent: bool,
    /// A delete that leaves the resource in AWS (`retain_on_delete`): its
    /// deployer tags are removed and the state forgets it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub retain: bool,
    /// Each changed value, old -> new (secrets masked; a map's changed keys
    /// one by one).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub diffs: Vec<Change>,
    /// Why it changes: the program changed, AWS drifted from the last
    /// apply, or both (None when the state has no record of the last apply).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<Cause>,
}

/// Why a step changes something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Cause {
    /// The program declares something else than it did at the last apply.
    Program,
    /// AWS no longer holds what the last apply set (changed or deleted
    /// outside deployer); the program did not change.
    Drift,
    /// Both, for different settings or the same one.
    Both,
}

impl Cause {
    fn join(a: Option<Cause>, b: Cause) -> Cause {
        match a {
            None => b,
            Some(a) if a == b => a,
            Some(_) => Cause::Both,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Cause::Program => "program changed",
            Cause::Drift => "drift: changed in AWS since the last apply",
            Cause::Both => "program changed, and drift in AWS",
        }
    }
}

/// Setting by setting: why does `desired` differ from `observed`, given
/// what the last apply set (`applied`).
fn cause_of(
    setting: &str,
    desired: &Desired,
    observed: &Props,
    applied: &BTreeMap<String, String>,
    key: &crate::state::FingerprintKey,
) -> Option<Cause> {
    let last = applied.get(setting)?;
    if desired.is_unknown(setting) {
        // It follows a dependency the plan creates or replaces.
        return Some(Cause::Program);
    }
    let desired = &desired.props;
    let was = |p: &Props| {
        fingerprint_matches(
            key,
            p.get(setting).unwrap_or(&serde_json::Value::Null),
            last,
        )
    };
    Some(if was(desired) {
        Cause::Drift
    } else if was(observed) {
        Cause::Program
    } else {
        Cause::Both
    })
}

/// One changed value of a plan step.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Change {
    /// `setting`, or `setting.KEY` for a key of a map (environment, tags).
    pub setting: String,
    /// None: absent before (added) / after (removed).
    pub old: Option<String>,
    pub new: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<Cause>,
}

pub const SENSITIVE: &str = "(sensitive)";

/// How a plan shows a value not known until apply.
pub const KNOWN_AFTER_APPLY: &str = "(known after apply)";

fn is_secret(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    // A pool's password policy says what a password must be: not secret.
    n.contains("secret") || (n.contains("password") && !n.starts_with("password_policy"))
}

fn render(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The value diff of the settings that differ: maps key by key, secrets
/// (a setting built from a secret input, or named like a secret or
/// password) as `(sensitive)`, a value not known yet as `(known after apply)`.
pub fn value_diffs(
    desired: &Desired,
    observed: &Props,
    changed: &[String],
    sensitive: &BTreeSet<String>,
) -> Vec<Change> {
    let mut out = vec![];
    let after_apply = || Some(KNOWN_AFTER_APPLY.to_string());
    for k in changed {
        let new = desired
            .props
            .get(k)
            .cloned()
            .unwrap_or(serde_json::Value::Null);
        let old = observed.get(k).cloned().unwrap_or(serde_json::Value::Null);
        let mask = |name: &str, v: Option<String>| {
            v.map(|v| {
                if is_secret(name) || sensitive.contains(name) {
                    SENSITIVE.to_string()
                } else {
                    v
                }
            })
        };
        match (&old, &new) {
            (serde_json::Value::Object(o), serde_json::Value::Object(n)) => {
                let keys: BTreeSet<&String> = o.keys().chain(n.keys()).collect();
                for key in keys {
                    let name = format!("{k}.{key}");
                    let unknown = desired.unknown.contains(&name);
                    let (a, b) = (o.get(key), n.get(key));
                    if a != b || unknown {
                        out.push(Change {
                            old: mask(&name, a.map(render)),
                            new: if unknown {
                                after_apply()
                            } else {
                                mask(&name, b.map(render))
                            },
                            setting: name,
                            cause: None,
                        });
                    }
                }
            }
            _ => out.push(Change {
                setting: k.clone(),
                old: mask(k, (!old.is_null()).then(|| render(&old))),
                new: if desired.unknown.contains(k) {
                    after_apply()
                } else {
                    mask(k, (!new.is_null()).then(|| render(&new)))
                },
                cause: None,
            }),
        }
    }
    out
}

/// One resource as the planner sees it.
#[derive(Clone)]
pub struct Node {
    pub res: Res,
    pub declared: bool,
}

pub(super) fn topo(nodes: &[Node]) -> Vec<usize> {
    let keys: BTreeMap<String, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.res.key(), i))
        .collect();
    let mut order = vec![];
    let mut seen = vec![false; nodes.len()];
    fn visit(
        i: usize,
        nodes: &[Node],
        keys: &BTreeMap<String, usize>,
        seen: &mut [bool],
        order: &mut Vec<usize>,
    ) {
        if seen[i] {
            return;
        }
        seen[i] = true;
        for d in nodes[i].res.deps() {
            if let Some(&j) = keys.get(&d) {
                visit(j, nodes, keys, seen, order);
            }
        }
        order.push(i);
    }
    for i in 0..nodes.len() {
        visit(i, nodes, &keys, &mut seen, &mut order);
    }
    order
}

/// The pure diff. `reads` holds what `read_all` found for every node.
pub fn plan(nodes: &[Node], ctx: &Ctx, reads: &BTreeMap<String, Read>) -> Vec<Step> {
    // No fingerprints to compare: any key will do.
    let key = crate::state::FingerprintKey([0; 32]);
    plan_with(nodes, ctx, reads, &BTreeMap::new(), &key)
}

/// The pure diff, each change labelled by its cause: `applied` holds, by
/// key, the fingerprints of what the last apply set (the state's), made
/// with `key` (the store's, `Store::fingerprint_key`).
pub fn plan_with(
    nodes: &[Node],
    ctx: &Ctx,
    reads: &BTreeMap<String, Read>,
    applied: &BTreeMap<String, BTreeMap<String, String>>,
    fp_key: &crate::state::FingerprintKey,
) -> Vec<Step> {
    let none = BTreeMap::new();
    let order = topo(nodes);
    let mut actions: BTreeMap<String, Action> = BTreeMap::new();
    let mut known = Known::default();
    let mut steps = vec![];
    for &i in &order {
        let n = &nodes[i];
        let key = n.res.key();
        if !n.declared {
            continue;
        }
        let parent_new = n
            .res
            .parent()
            .and_then(|p| actions.get(&p))
            .is_some_and(|a| matches!(a, Action::Create | Action::Replace));
        let read = reads.get(&key).cloned().unwrap_or(Read::Missing);
        let mut step = Step {
            key: key.clone(),
            action: Action::Same,
            changed: vec![],
            reason: None,
            with_parent: false,
            retain: false,
            diffs: vec![],
            cause: None,
        };
        let last = applied.get(&key).unwrap_or(&none);
        match (&read, parent_new) {
            (_, true) => {
                step.action = Action::Create;
                step.reason = Some(format!("{} is new", n.res.parent().unwrap_or_default()));
            }
            (Read::Missing, _) => {
                step.action = Action::Create;
                // Applied before and gone now: deleted outside deployer.
                if !last.is_empty() {
                    step.cause = Some(Cause::Drift);
                    step.reason = Some("deleted outside deployer".into());
                }
            }
            (Read::Found(o), _) => {
                let desired = n.res.desired(ctx, &known);
                step.changed = desired.diff(&o.props);
                step.diffs = value_diffs(&desired, &o.props, &step.changed, &n.res.sensitive());
                for d in step.diffs.iter_mut() {
                    let setting = d.setting.split('.').next().unwrap_or_default();
                    d.cause = cause_of(setting, &desired, &o.props, last, fp_key);
                }
                for c in &step.changed {
                    if let Some(x) = cause_of(c, &desired, &o.props, last, fp_key) {
                        step.cause = Some(Cause::join(step.cause, x));
                    }
                }
                if step
                    .changed
                    .iter()
                    .any(|c| n.res.replace_on().contains(&c.as_str()))
                {
                    step.action = Action::Replace;
                } else if !step.changed.is_empty() {
                    step.action = Action::Update;
                    if !desired.unknown.is_empty() {
                        step.reason = Some("depends on values known after apply".into());
                    }
                }
                if matches!(step.action, Action::Same | Action::Update) {
                    known.outputs.insert(key.clone(), o.outputs.clone());
                }
            }
        }
        actions.insert(key, step.action);
        steps.push(step);
    }
    // Deletes: what exists but is no longer declared, dependants first.
    for &i in order.iter().rev() {
        let n = &nodes[i];
        if n.declared {
            continue;
        }
        let key = n.res.key();
        if let Some(Read::Found(_)) = reads.get(&key) {
            let with_parent = n.res.parent().is_some_and(|p| {
                nodes.iter().any(|m| {
                    m.res.key() == p && !m.declared && matches!(reads.get(&p), Some(Read::Found(_)))
                })
            });
            steps.push(Step {
                key: key.clone(),
                action: Action::Delete,
                changed: vec![],
                reason: None,
                with_parent,
                retain: n.res.lifecycle().retain_on_delete,
                diffs: vec![],
                cause: Some(Cause::Program),
            });
            actions.insert(key, Action::Delete);
        }
    }
    steps
}
