//! The engine: reads what exists, plans a pure diff, applies it as a graph.
//!
//! - `read_all` reads every resource concurrently (children of a pool or an
//!   API whose ID the state does not know wait for it to be found).
//! - `plan` is a pure function of (declared, state, observed) -> steps.
//! - `apply` runs each step once its dependencies are done (deletes once
//!   their dependants are done), saving the state after every mutating step.

use crate::error::{Error, Result};
use crate::kind::{Ctx, Cx, Desired, Known, Observed, Owner, Prior, Props, Read};
use crate::model::Res;
use crate::state::{Entry, Retired, State, Store};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

/// A fingerprint of a setting's value as applied: what the state keeps
/// (`Entry::applied`) to tell a program change from drift, without holding
/// the value (it may be secret: a function's environment with an API key).
///
/// HMAC-SHA256 under the stack's random key (`FingerprintKey`, 256 bits,
/// kept beside the state and never in it), cut to 128 bits and marked
/// `k1:`. Why a key and not a slow salted hash (argon2 with a salt in the
/// state): whoever reads the state alone (a copy, `state show --json`, a
/// CI artifact, a pasted bug report) cannot test a single guess of a
/// value, whereas a salt in the state only slows each guess down, and a
/// human-chosen key is guessed all the same; and a keyed hash costs
/// microseconds, where argon2 at a safe cost would add seconds to every
/// plan (every setting of every resource is fingerprinted).
pub fn fingerprint(key: &crate::state::FingerprintKey, v: &serde_json::Value) -> String {
    use hmac::Mac;
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(&key.0).expect("HMAC takes a key of any size");
    mac.update(canonical_json(v).as_bytes());
    let h = mac.finalize().into_bytes();
    let hex: String = h.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("{KEYED}{hex}")
}

/// The mark of a keyed fingerprint (`fingerprint`).
const KEYED: &str = "k1:";

/// A value as one canonical JSON text: a map's keys in order, whatever
/// order AWS listed them in.
fn canonical_json(v: &serde_json::Value) -> String {
    fn canonical(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => {
                let sorted: BTreeMap<&String, serde_json::Value> =
                    m.iter().map(|(k, v)| (k, canonical(v))).collect();
                serde_json::json!(sorted)
            }
            serde_json::Value::Array(a) => {
                serde_json::Value::Array(a.iter().map(canonical).collect())
            }
            other => other.clone(),
        }
    }
    serde_json::to_string(&canonical(v)).unwrap_or_default()
}

/// The unkeyed fingerprint of states written before `fingerprint` was
/// keyed (8 bytes of SHA-256, 16 hex digits): only compared, once, and
/// replaced by a keyed one by the run that reads it (`rekeyed`).
fn legacy_fingerprint(v: &serde_json::Value) -> String {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(canonical_json(v).as_bytes());
    h.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// True when `fp`, as the state holds it (keyed, or of an older state),
/// is the fingerprint of `v`.
pub fn fingerprint_matches(
    key: &crate::state::FingerprintKey,
    v: &serde_json::Value,
    fp: &str,
) -> bool {
    if fp.starts_with(KEYED) {
        fingerprint(key, v) == fp
    } else {
        legacy_fingerprint(v) == fp
    }
}

/// The fingerprints of every setting of `p`.
pub fn fingerprints(key: &crate::state::FingerprintKey, p: &Props) -> BTreeMap<String, String> {
    p.iter()
        .map(|(k, v)| (k.clone(), fingerprint(key, v)))
        .collect()
}

/// The fingerprints of an unchanged resource with the old (unkeyed) ones
/// replaced by keyed ones of what it holds now (what the program declares:
/// nothing differs), or None when it has no old one.
pub fn rekeyed(
    key: &crate::state::FingerprintKey,
    applied: &BTreeMap<String, String>,
    observed: &Props,
) -> Option<BTreeMap<String, String>> {
    if applied.values().all(|fp| fp.starts_with(KEYED)) {
        return None;
    }
    Some(
        applied
            .iter()
            .map(|(k, fp)| {
                if fp.starts_with(KEYED) {
                    (k.clone(), fp.clone())
                } else {
                    let v = observed.get(k).unwrap_or(&serde_json::Value::Null);
                    (k.clone(), fingerprint(key, v))
                }
            })
            .collect(),
    )
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

/// How long an interrupted create is given to become visible.
pub const PENDING_GRACE: Duration = Duration::from_secs(3);

/// How many times a create whose answer was lost is looked for and tried again.
pub const MAX_AMBIGUOUS_CREATES: u32 = 4;

/// Reads a resource whose create may have happened (an interrupted run, a
/// lost answer) until it shows, for up to `PENDING_GRACE`: a create in
/// flight can land after the first look. None when it never showed.
async fn look_again(res: &Res, cx: &Cx, prior: &Prior) -> Result<Option<Read>> {
    let found = crate::aws::with_backoff(
        "find a create that may have happened",
        PENDING_GRACE,
        |e: &Option<Error>| e.is_none(),
        || async {
            match res.read(cx, prior).await {
                Ok(Read::Missing) => Err(None),
                Ok(other) => Ok(other),
                Err(e) => Err(Some(e)),
            }
        },
    )
    .await;
    match found {
        Ok(read) => Ok(Some(read)),
        Err(None) => Ok(None),
        Err(Some(e)) => Err(e),
    }
}

fn debug() -> bool {
    std::env::var_os("DEPLOYER_DEBUG").is_some()
}

/// One resource as the planner sees it.
#[derive(Clone)]
pub struct Node {
    pub res: Res,
    pub declared: bool,
}

fn topo(nodes: &[Node]) -> Vec<usize> {
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

/// Now, in Unix seconds (`Entry::made_at`).
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
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

/// Progress of a run, for the CLI to render.
#[derive(Debug, Clone)]
pub enum Event {
    /// The run's changes are about to start: how many.
    Begin {
        steps: usize,
    },
    Started {
        key: String,
        action: Action,
    },
    Finished {
        key: String,
        action: Action,
        changed: Vec<String>,
        took: Duration,
    },
}

pub type Sink = Arc<dyn Fn(Event) + Send + Sync>;

/// A finished step, for a run's report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StepReport {
    pub key: String,
    pub action: Action,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changed: Vec<String>,
    pub seconds: f64,
}

pub struct Engine {
    pub cx: Arc<Cx>,
    pub store: Arc<Store>,
    pub state: Arc<Mutex<State>>,
    pub sink: Sink,
    /// The providers of the run's kinds: what deletes a retired resource
    /// whose key no node has.
    pub providers: crate::kind::Providers,
    /// Strays listed beside the reads (see [`Engine::sweep_strays`]).
    pub strays_seen: Mutex<BTreeMap<String, StrayList>>,
    /// At most this many steps in flight (0: no limit).
    pub parallelism: usize,
}

/// What a stray listing was made for (the parent's ID, the ID kept) and
/// what it found.
#[derive(Clone, Debug, PartialEq)]
pub struct StrayList {
    parent_id: Option<String>,
    keep: String,
    strays: Vec<String>,
}

impl Engine {
    fn snapshot(&self) -> State {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    async fn mutate_state(&self, f: impl FnOnce(&mut State)) -> Result<()> {
        self.store.update(&self.state, f).await
    }

    /// Reads every node: one concurrent round when the state knows the IDs
    /// (a child whose parent the state does not know is read in a second).
    /// The strays of the resources the state records are listed meanwhile.
    pub async fn read_all(&self, nodes: &[Node]) -> Result<BTreeMap<String, Read>> {
        let (reads, seen) = tokio::join!(self.read_nodes(nodes), self.list_strays(nodes));
        *self.strays_seen.lock().unwrap() = seen?;
        reads
    }

    /// The stray listings for the state as it is now.
    async fn list_strays(&self, nodes: &[Node]) -> Result<BTreeMap<String, StrayList>> {
        let st = self.snapshot();
        let jobs: Vec<_> = nodes
            .iter()
            .filter_map(|n| self.stray_listing(&st, n))
            .collect();
        futures::future::join_all(jobs).await.into_iter().collect()
    }

    /// A resource's stray listing, as a task of its own: for a kind whose
    /// name AWS does not keep unique, the IDs carrying its name and this
    /// stack's tag but another ID than the one `st` keeps. None for a kind
    /// whose names are unique, a declared resource `st` has no ID for (not
    /// made yet), or a child whose parent it has no ID for.
    fn stray_listing(
        &self,
        st: &State,
        n: &Node,
    ) -> Option<impl std::future::Future<Output = Result<(String, StrayList)>> + Send + 'static>
    {
        if !n.res.non_unique_name() {
            return None;
        }
        let key = n.res.key();
        let keep = st.id(&key).unwrap_or_default().to_string();
        if n.declared && keep.is_empty() {
            return None;
        }
        let parent_id = match n.res.parent() {
            Some(p) => Some(st.id(&p)?.to_string()),
            None => None,
        };
        let entry = st.resources.get(&key);
        if n.res.untagged() && !entry.is_some_and(|e| e.lost_create) {
            return None;
        }
        let made_at = entry.and_then(|e| e.made_at);
        let (cx, res) = (self.cx.clone(), n.res.clone());
        Some(async move {
            let strays = res
                .strays(&cx, parent_id.as_deref(), &keep, made_at)
                .await?;
            Ok((
                key,
                StrayList {
                    parent_id,
                    keep,
                    strays,
                },
            ))
        })
    }

    /// Reads every node, and lists no strays: for `down`, after which
    /// every ID has changed and the strays are listed then.
    pub async fn read_nodes(&self, nodes: &[Node]) -> Result<BTreeMap<String, Read>> {
        let st = self.snapshot();
        let recorded = Known {
            outputs: st
                .resources
                .iter()
                .map(|(k, e)| (k.clone(), e.outputs.clone()))
                .collect(),
        };
        let prior_of = |key: &str, res: &Res, parent_id: Option<String>| {
            let e = st.resources.get(key).cloned().unwrap_or_default();
            let parent_id = parent_id
                .or_else(|| e.outputs.get("parent_id").cloned())
                .or_else(|| res.parent().and_then(|p| st.id(&p).map(String::from)));
            Prior {
                id: e.id,
                pending_create: e.pending_create,
                made_at: e.made_at,
                parent_id,
                outputs: e.outputs,
                known: recorded.clone(),
            }
        };
        // The round's list reads (`crate::listing`): the names each kind's
        // reads may look for, the state's IDs and the declared names.
        let mut names: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        for n in nodes {
            let key = n.res.key();
            let entry = names.entry(n.res.kind_name()).or_default();
            entry.extend(st.id(&key).filter(|i| !i.is_empty()).map(String::from));
            let d = n.res.desired(&self.cx.ctx, &recorded);
            if let Some(serde_json::Value::String(name)) = d.props.get("name") {
                if !d.unknown.contains("name") && !name.is_empty() {
                    entry.push(name.clone());
                }
            }
        }
        let listed = Arc::new(Cx {
            listing: Some(Arc::new(crate::listing::Listing::new(names))),
            ..Cx::new(self.cx.aws.clone(), self.cx.ctx.clone())
        });
        let read_set = |items: Vec<(String, Res, Prior)>| {
            let cx = listed.clone();
            async move {
                let futs = items.into_iter().map(|(k, r, p)| {
                    let cx = cx.clone();
                    async move { (k, r.read(&cx, &p).await) }
                });
                futures::future::join_all(futs).await
            }
        };
        let mut first = vec![];
        let mut later = vec![];
        for n in nodes {
            let key = n.res.key();
            match n.res.parent() {
                Some(p) if st.id(&p).is_none() => later.push(n.res.clone()),
                _ => first.push((key.clone(), n.res.clone(), prior_of(&key, &n.res, None))),
            }
        }
        let mut out = BTreeMap::new();
        for (k, r) in read_set(first).await {
            out.insert(k, r?);
        }
        // Children whose parent was only found now, or found under a new ID.
        let parent_id = |p: &str, out: &BTreeMap<String, Read>| match out.get(p) {
            Some(Read::Found(o)) => Some(o.id.clone()),
            _ => None,
        };
        for n in nodes {
            let key = n.res.key();
            if let Some(p) = n.res.parent() {
                if later.iter().any(|r| r.key() == key) {
                    continue;
                }
                if st.id(&p).map(String::from) != parent_id(&p, &out) {
                    later.push(n.res.clone());
                }
            }
        }
        let second: Vec<_> = later
            .into_iter()
            .map(|r| {
                let key = r.key();
                let pid = parent_id(&r.parent().unwrap_or_default(), &out);
                let mut prior = prior_of(&key, &r, pid.clone());
                prior.parent_id = pid;
                (key, r, prior)
            })
            .collect();
        for (k, r) in read_set(second).await {
            let r = r?;
            out.insert(k, r);
        }
        // An interrupted create may still land after this run has looked
        // (the request was in flight when the process died): where an intent
        // was recorded and nothing is found, look again before creating.
        let pending: Vec<Res> = nodes
            .iter()
            .filter(|n| {
                st.resources
                    .get(&n.res.key())
                    .is_some_and(|e| e.pending_create)
                    && matches!(out.get(&n.res.key()), Some(Read::Missing))
            })
            .map(|n| n.res.clone())
            .collect();
        let again = pending.into_iter().map(|r| {
            let key = r.key();
            let pid = r
                .parent()
                .and_then(|p| parent_id(&p, &out))
                .or_else(|| r.parent().and_then(|p| st.id(&p).map(String::from)));
            let mut prior = prior_of(&key, &r, pid.clone());
            prior.parent_id = pid;
            let cx = self.cx.clone();
            async move { (key, look_again(&r, &cx, &prior).await) }
        });
        for (k, r) in futures::future::join_all(again).await {
            if let Some(read) = r? {
                out.insert(k, read);
            }
        }
        Ok(out)
    }

    /// Runs the plan. Steps run as soon as what they need is done.
    pub async fn apply(
        &self,
        nodes: &[Node],
        steps: &[Step],
        reads: &BTreeMap<String, Read>,
    ) -> Result<Known> {
        let res_of: BTreeMap<String, Res> =
            nodes.iter().map(|n| (n.res.key(), n.res.clone())).collect();
        let known = Arc::new(Mutex::new(Known::default()));
        let mut waits: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let step_keys: BTreeSet<String> = steps.iter().map(|s| s.key.clone()).collect();
        for s in steps {
            let r = &res_of[&s.key];
            let w: BTreeSet<String> = if s.action == Action::Delete {
                // Dependants go first.
                nodes
                    .iter()
                    .filter(|m| m.res.deps().contains(&s.key) && step_keys.contains(&m.res.key()))
                    .map(|m| m.res.key())
                    .collect()
            } else {
                r.deps()
                    .into_iter()
                    .filter(|d| step_keys.contains(d))
                    .collect()
            };
            if std::env::var_os("DEPLOYER_DEBUG").is_some() {
                eprintln!("deployer: step {} {:?} waits for {:?}", s.key, s.action, w);
            }
            waits.insert(s.key.clone(), w);
        }
        // Unchanged resources need no task: their outputs are known now.
        let mut done: BTreeSet<String> = BTreeSet::new();
        let mut created: BTreeSet<String> = BTreeSet::new();
        for s in steps.iter().filter(|s| s.action == Action::Same) {
            if let Some(Read::Found(o)) = reads.get(&s.key) {
                known
                    .lock()
                    .unwrap()
                    .outputs
                    .insert(s.key.clone(), o.outputs.clone());
            }
            (self.sink)(Event::Finished {
                key: s.key.clone(),
                action: Action::Same,
                changed: vec![],
                took: Duration::ZERO,
            });
            done.insert(s.key.clone());
        }
        // The fingerprints of older states (unkeyed, which let anyone who
        // reads the state guess a secret offline) are replaced by keyed
        // ones; a resource this run changes gets them with its record,
        // an unchanged one here (what it holds is what was declared).
        let key = self.store.fingerprint_key();
        let rekeyed: Vec<(String, BTreeMap<String, String>)> = {
            let st = self.snapshot();
            steps
                .iter()
                .filter(|s| s.action == Action::Same)
                .filter_map(|s| {
                    let Some(Read::Found(o)) = reads.get(&s.key) else {
                        return None;
                    };
                    let e = st.resources.get(&s.key)?;
                    rekeyed(&key, &e.applied, &o.props).map(|fps| (s.key.clone(), fps))
                })
                .collect()
        };
        if !rekeyed.is_empty() {
            self.store.update_later(&self.state, move |st| {
                for (k, fps) in rekeyed {
                    if let Some(e) = st.resources.get_mut(&k) {
                        e.applied = fps;
                    }
                }
            });
        }
        // Every create's intent in one write before the first call (a crash
        // after a create is then found by the next run), not one write on
        // the critical path before each create; a create whose step never
        // starts has its intent taken back before the run ends.
        let intents: Vec<(String, String, Option<String>, crate::model::Lifecycle)> = steps
            .iter()
            .filter(|s| s.action == Action::Create)
            .filter(|s| !matches!(reads.get(&s.key), Some(Read::Found(_))))
            .map(|s| {
                let r = &res_of[&s.key];
                (
                    s.key.clone(),
                    r.kind_name().to_string(),
                    r.parent(),
                    r.lifecycle(),
                )
            })
            .collect();
        // Key -> whether the run added its entry (else it had one).
        let mut intended: BTreeMap<String, bool> = BTreeMap::new();
        if !intents.is_empty() {
            let added = &mut intended;
            self.mutate_state(move |st| {
                for (key, kind, parent, lifecycle) in intents {
                    let e = st.resources.entry(key.clone());
                    let new = matches!(e, std::collections::btree_map::Entry::Vacant(_));
                    let e = e.or_default();
                    if !e.pending_create {
                        added.insert(key, new);
                    }
                    e.pending_create = true;
                    e.made_at = Some(unix_now());
                    e.id = None;
                    e.kind = Some(kind);
                    e.parent = parent;
                    e.lifecycle = lifecycle;
                }
            })
            .await?;
        }
        let mut started: BTreeSet<String> = BTreeSet::new();
        let mut todo: Vec<&Step> = steps.iter().filter(|s| s.action != Action::Same).collect();
        // A step on the longest chain of steps left goes first: started
        // first, and first at the gates of AWS's quotas (`pace`).
        let chains = crate::pace::chain_lengths(
            &waits
                .iter()
                .filter(|(k, _)| !done.contains(*k))
                .map(|(k, w)| {
                    (
                        k.clone(),
                        w.iter().filter(|d| !done.contains(*d)).cloned().collect(),
                    )
                })
                .collect(),
        );
        let chain = |k: &str| chains.get(k).copied().unwrap_or(1);
        todo.sort_by_key(|s| std::cmp::Reverse(chain(&s.key)));
        (self.sink)(Event::Begin { steps: todo.len() });
        let mut running = tokio::task::JoinSet::new();
        // A resource's strays are listed as soon as its step is done,
        // beside the steps that follow (off the critical path).
        let mut listings = tokio::task::JoinSet::new();
        let mut first_error: Option<Error> = None;
        loop {
            // A state write that failed stops the run before its next
            // change (the steps under way finish and are recorded).
            if first_error.is_none() {
                if let Err(e) = self.store.check() {
                    first_error = Some(e);
                }
            }
            if first_error.is_none() {
                let (mut ready, mut rest): (Vec<&Step>, Vec<&Step>) = todo
                    .into_iter()
                    .partition(|s| waits[&s.key].iter().all(|w| done.contains(w)));
                if self.parallelism > 0 {
                    let room = self.parallelism.saturating_sub(running.len());
                    if ready.len() > room {
                        rest.extend(ready.split_off(room));
                        rest.sort_by_key(|s| std::cmp::Reverse(chain(&s.key)));
                    }
                }
                todo = rest;
                for s in ready {
                    started.insert(s.key.clone());
                    let r = res_of[&s.key].clone();
                    let parent_new = r.parent().is_some_and(|p| created.contains(&p));
                    let job = Job {
                        cx: self.cx.clone(),
                        store: self.store.clone(),
                        state: self.state.clone(),
                        known: known.clone(),
                        sink: self.sink.clone(),
                        step: s.clone(),
                        res: r,
                        read: reads.get(&s.key).cloned().unwrap_or(Read::Missing),
                        parent_new,
                    };
                    let priority = chain(&s.key);
                    running.spawn(async move {
                        let key = job.step.key.clone();
                        let run = crate::aws::STEP.scope(key.clone(), job.run());
                        let r = crate::pace::PRIORITY.scope(priority, run).await;
                        crate::aws::clear_wait(&key);
                        (key, r)
                    });
                }
            }
            let Some(joined) = running.join_next().await else {
                break;
            };
            // A step that panicked stops the run like one that failed: the
            // others under way finish and what they did is written.
            let (key, r) = match joined {
                Ok(done) => done,
                Err(e) => {
                    if first_error.is_none() {
                        first_error = Some(Error::Other(format!(
                            "a step stopped on an internal error ({e}): the state holds every step that finished; run the command again to go on"
                        )));
                    }
                    continue;
                }
            };
            match r {
                Ok(new) => {
                    if new {
                        created.insert(key.clone());
                    }
                    // (Not for a resource it deleted: listed at the end.)
                    let st = self.snapshot();
                    if st.id(&key).is_some() {
                        let node = nodes.iter().find(|n| n.res.key() == key);
                        if let Some(list) = node.and_then(|n| self.stray_listing(&st, n)) {
                            listings.spawn(list);
                        }
                    }
                    done.insert(key);
                }
                Err(e) => {
                    if first_error.is_none() {
                        first_error = Some(Error::Other(format!("{key}: {e}")));
                    }
                }
            }
        }
        // The intents of creates that never started (a step before them
        // failed) are taken back: nothing was sent for them.
        let unsent: Vec<(String, bool)> = intended
            .into_iter()
            .filter(|(k, _)| !started.contains(k))
            .collect();
        if !unsent.is_empty() {
            self.store.update_later(&self.state, move |st| {
                for (k, added) in unsent {
                    if added {
                        st.resources.remove(&k);
                    } else if let Some(e) = st.resources.get_mut(&k) {
                        e.pending_create = false;
                    }
                }
            });
        }
        // What the steps wrote in the background is written before the run
        // goes on or stops (and before its lock is released).
        let flushed = self.store.flush(&self.state).await;
        if let Some(e) = first_error {
            return Err(e);
        }
        flushed?;
        if !todo.is_empty() {
            return Err(Error::Other(format!(
                "steps could not run (dependency cycle?): {:?}",
                todo.iter().map(|s| &s.key).collect::<Vec<_>>()
            )));
        }
        while let Some(l) = listings.join_next().await {
            let (key, list) =
                l.map_err(|e| Error::Other(format!("a stray listing panicked: {e}")))??;
            self.strays_seen.lock().unwrap().insert(key, list);
        }
        self.delete_retired(nodes).await?;
        self.sweep_strays(nodes).await?;
        let k = known.lock().unwrap().clone();
        Ok(k)
    }

    /// Keeps "exactly one of each": a resource with the name and stack tag of
    /// one this stack tracks, but another ID (a create whose answer was lost
    /// and whose lookup came too early), is deleted. After `down`, when
    /// nothing is tracked, every such resource goes. A listing made beside
    /// the reads is used again where the run left the resource's ID and its
    /// parent's as they were (a run makes strays only where it creates);
    /// the others are listed again now.
    pub async fn sweep_strays(&self, nodes: &[Node]) -> Result<()> {
        let seen = std::mem::take(&mut *self.strays_seen.lock().unwrap());
        let now = self.snapshot();
        let fresh: Vec<Node> = nodes
            .iter()
            .filter(|n| {
                let key = n.res.key();
                let keep = now.id(&key).unwrap_or_default();
                let parent = n.res.parent().map(|p| now.id(&p).map(String::from));
                !seen.get(&key).is_some_and(|l| {
                    l.keep == keep && parent.is_none_or(|p| p.is_some() && p == l.parent_id)
                })
            })
            .cloned()
            .collect();
        let mut lists = self.list_strays(&fresh).await?;
        for (k, l) in seen {
            lists.entry(k).or_insert(l);
        }
        let res_of: BTreeMap<String, &Node> = nodes.iter().map(|n| (n.res.key(), n)).collect();
        let jobs = lists.into_iter().filter_map(|(key, l)| {
            let res = res_of.get(&key)?.res.clone();
            Some(async move {
                for id in l.strays {
                    let t = Instant::now();
                    let label = format!("{key} (stray {id}: another of its name this stack made)");
                    (self.sink)(Event::Started {
                        key: label.clone(),
                        action: Action::Delete,
                    });
                    res.delete(&self.cx, &id, l.parent_id.as_deref()).await?;
                    (self.sink)(Event::Finished {
                        key: label,
                        action: Action::Delete,
                        changed: vec![],
                        took: t.elapsed(),
                    });
                }
                // Looked for: a lost create's strays are gone.
                let lost =
                    (self.state.lock().unwrap().resources.get(&key)).is_some_and(|e| e.lost_create);
                if lost {
                    self.mutate_state(|st| {
                        if let Some(e) = st.resources.get_mut(&key) {
                            e.lost_create = false;
                        }
                    })
                    .await?;
                }
                Ok::<(), Error>(())
            })
        });
        for r in futures::future::join_all(jobs).await {
            r?;
        }
        Ok(())
    }

    /// Deletes the old copies of replaced resources, children first.
    pub async fn delete_retired(&self, nodes: &[Node]) -> Result<()> {
        let retired = self.snapshot().retired;
        if retired.is_empty() {
            return Ok(());
        }
        let order = topo(nodes);
        let rank = |k: &str| {
            order
                .iter()
                .position(|&i| nodes[i].res.key() == k)
                .unwrap_or(0)
        };
        let mut items = retired.clone();
        items.sort_by_key(|r| std::cmp::Reverse(rank(&r.key)));
        for r in items {
            let res = nodes
                .iter()
                .find(|n| n.res.key() == r.key)
                .map(|n| n.res.clone())
                .or_else(|| {
                    let (kind, parent) = crate::state::legacy_kind(&r.key)?;
                    let k = crate::kind::Orphan::new(
                        self.providers.get(kind)?,
                        parent.map(String::from),
                    );
                    Some(crate::model::Declared::new(r.key.clone(), Arc::new(k)))
                });
            let Some(res) = res else {
                continue;
            };
            let t = Instant::now();
            (self.sink)(Event::Started {
                key: format!("{} (old {})", r.key, r.id),
                action: Action::Delete,
            });
            res.delete(&self.cx, &r.id, r.parent_id.as_deref()).await?;
            self.mutate_state(|st| st.retired.retain(|x| x != &r))
                .await?;
            (self.sink)(Event::Finished {
                key: format!("{} (old {})", r.key, r.id),
                action: Action::Delete,
                changed: vec![],
                took: t.elapsed(),
            });
        }
        Ok(())
    }
}

struct Job {
    cx: Arc<Cx>,
    store: Arc<Store>,
    state: Arc<Mutex<State>>,
    known: Arc<Mutex<Known>>,
    sink: Sink,
    step: Step,
    res: Res,
    read: Read,
    parent_new: bool,
}

impl Job {
    async fn save(&self, f: impl FnOnce(&mut State)) -> Result<()> {
        self.store.update(&self.state, f).await
    }

    async fn record(&self, o: &Observed, desired: &Props) -> Result<()> {
        self.known
            .lock()
            .unwrap()
            .outputs
            .insert(self.step.key.clone(), o.outputs.clone());
        // When its create started and whether one lost its answer, kept.
        let (made_at, lost_create) = (self.state.lock().unwrap())
            .resources
            .get(&self.step.key)
            .map_or((None, false), |e| (e.made_at, e.lost_create));
        let entry = Entry {
            id: Some(o.id.clone()),
            pending_create: false,
            made_at,
            lost_create,
            outputs: o.state_outputs(),
            kind: Some(self.res.kind_name().to_string()),
            parent: self.res.parent(),
            lifecycle: self.res.lifecycle(),
            applied: fingerprints(&self.store.fingerprint_key(), desired),
        };
        let key = self.step.key.clone();
        // In the background: the step is done, its dependants start now. A
        // crash before the write loses nothing: the intent written before
        // the create (or the entry of a resource found) makes the next run
        // find it again.
        self.store.update_later(&self.state, move |st| {
            st.resources.insert(key, entry);
        });
        Ok(())
    }

    async fn create(&self, desired: &Props, known: &Known) -> Result<Observed> {
        // Intent first: a crash after the call is found on the next run, even
        // by a `down` that comes while the new resource is not yet visible
        // (a new IAM role is invisible to GetRole for a moment).
        // (Written already when the run wrote every create's intent at its
        // start, or a run before this one did.)
        let key = self.step.key.clone();
        let written = self
            .state
            .lock()
            .unwrap()
            .resources
            .get(&key)
            .is_some_and(|e| e.pending_create && e.id.is_none());
        if !written {
            let (kind, parent) = (self.res.kind_name(), self.res.parent());
            let lifecycle = self.res.lifecycle();
            self.save(move |st| {
                let e = st.resources.entry(key).or_default();
                e.pending_create = true;
                e.made_at = Some(unix_now());
                e.id = None;
                e.kind = Some(kind.to_string());
                e.parent = parent;
                e.lifecycle = lifecycle;
            })
            .await?;
        }
        // A create whose answer was lost may have been applied: look for
        // what it made (by name and stack tag, or inside its parent) before
        // trying again, so that a lost response never makes a duplicate.
        let mut attempts = 0;
        let o = loop {
            match self.res.create(&self.cx, desired, known).await {
                Ok(o) => break o,
                Err(e) if e.is_ambiguous() && attempts < MAX_AMBIGUOUS_CREATES => {
                    attempts += 1;
                    // It may have made one: its strays are looked for.
                    let key = self.step.key.clone();
                    self.save(move |st| {
                        if let Some(e) = st.resources.get_mut(&key) {
                            e.lost_create = true;
                        }
                    })
                    .await?;
                    if debug() {
                        eprintln!("deployer: {}: {e}; looking for it", self.step.key);
                    }
                    if let Some(o) = self.find_after_ambiguous(known).await? {
                        let o = if crate::kind::diff(desired, &o.props).is_empty() {
                            o
                        } else {
                            self.res.update(&self.cx, desired, &o, known).await?
                        };
                        break o;
                    }
                }
                Err(e) => return Err(e),
            }
        };
        self.record(&o, desired).await?;
        Ok(o)
    }

    /// Looks for what an ambiguous create made, giving it the time an
    /// interrupted create gets to become visible.
    async fn find_after_ambiguous(&self, known: &Known) -> Result<Option<Observed>> {
        let made_at = (self.state.lock().unwrap())
            .resources
            .get(&self.step.key)
            .and_then(|e| e.made_at);
        let prior = Prior {
            id: None,
            pending_create: true,
            made_at,
            parent_id: self.res.parent().and_then(|p| known.get(&p, "id")),
            outputs: BTreeMap::new(),
            known: known.clone(),
        };
        Ok(match look_again(&self.res, &self.cx, &prior).await? {
            Some(Read::Found(o)) => Some(o),
            _ => None,
        })
    }

    /// Retain on delete: the resource stays in AWS with its deployer tags
    /// removed, so that no stack claims it (it can be imported again).
    async fn release(&self, o: &Observed, known: &Known) -> Result<()> {
        let Some(serde_json::Value::Object(tags)) = o.props.get("tags") else {
            return Ok(());
        };
        let mut d = o.props.clone();
        let kept: serde_json::Map<String, serde_json::Value> = tags
            .iter()
            .filter(|(k, _)| {
                k.as_str() != crate::kind::STACK_TAG && k.as_str() != crate::kind::STACK_ID_TAG
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if kept.len() == tags.len() {
            return Ok(());
        }
        d.insert("tags".into(), serde_json::Value::Object(kept));
        self.res.update(&self.cx, &d, o, known).await.map(|_| ())
    }

    async fn delete(&self, o: &Observed) -> Result<()> {
        self.res
            .delete(
                &self.cx,
                &o.id,
                o.outputs.get("parent_id").map(String::as_str),
            )
            .await
    }

    /// Returns whether the resource is new (its dependants must be created).
    async fn run(self) -> Result<bool> {
        let t = Instant::now();
        let key = self.step.key.clone();
        // Not one change after a failed state write (`Store::check`).
        self.store.check()?;
        let known = self.known.lock().unwrap().clone();
        // What it is sent: only known settings (its dependencies are done).
        let desired = if self.step.action == Action::Delete {
            Props::new()
        } else {
            self.res.desired(&self.cx.ctx, &known).known().map_err(|paths| {
                Error::Other(format!("internal error: {key} would be sent {} before it is known (a missing dependency); nothing was sent", paths.join(", ")))
            })?
        };
        let mut action = self.step.action;
        let mut changed = self.step.changed.clone();
        (self.sink)(Event::Started {
            key: key.clone(),
            action,
        });
        let new = match (action, &self.read) {
            (Action::Delete, Read::Found(o)) => {
                if self.step.retain {
                    self.release(o, &known).await?;
                    changed = vec!["retained in AWS".into()];
                } else if !self.step.with_parent {
                    self.delete(o).await?;
                }
                // In the background: a crash before the write leaves an
                // entry the next run reads as gone.
                let k = key.clone();
                self.store.update_later(&self.state, move |st| {
                    st.resources.remove(&k);
                });
                false
            }
            (Action::Delete, _) => false,
            (_, Read::Found(o)) if !self.parent_new => {
                changed = crate::kind::diff(&desired, &o.props);
                let replace = action == Action::Replace
                    || changed
                        .iter()
                        .any(|c| self.res.replace_on().contains(&c.as_str()));
                if replace {
                    action = Action::Replace;
                    if self.res.non_unique_name() || changed.iter().any(|c| c == "name") {
                        // Create the new one, then retire the old (a new
                        // name cannot collide with the old).
                        let old = Retired {
                            key: key.clone(),
                            id: o.id.clone(),
                            parent_id: o.outputs.get("parent_id").cloned(),
                        };
                        self.save(move |st| {
                            if !st.retired.contains(&old) {
                                st.retired.push(old)
                            }
                        })
                        .await?;
                        self.create(&desired, &known).await?;
                    } else {
                        self.delete(o).await?;
                        self.create(&desired, &known).await?;
                    }
                    true
                } else if changed.is_empty() {
                    action = Action::Same;
                    self.record(o, &desired).await?;
                    false
                } else {
                    action = Action::Update;
                    let n = self.res.update(&self.cx, &desired, o, &known).await?;
                    self.record(&n, &desired).await?;
                    false
                }
            }
            _ => {
                action = Action::Create;
                self.create(&desired, &known).await?;
                true
            }
        };
        (self.sink)(Event::Finished {
            key,
            action,
            changed,
            took: t.elapsed(),
        });
        Ok(new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::kind::props;
    use serde_json::json;

    fn ctx() -> Ctx {
        Ctx::for_tests()
    }

    fn nodes(declared: bool) -> Vec<Node> {
        crate::App::default()
            .declare(&Config::default())
            .unwrap()
            .0
            .into_iter()
            .map(|res| Node { res, declared })
            .collect()
    }

    /// Builds reads in which every declared resource exists exactly as declared.
    fn converged(nodes: &[Node], ctx: &Ctx) -> BTreeMap<String, Read> {
        let mut known = Known::default();
        let mut reads = BTreeMap::new();
        for &i in &topo(nodes) {
            let r = &nodes[i].res;
            let key = r.key();
            let id = format!("id-{key}");
            let mut outputs: BTreeMap<String, String> = [("id".to_string(), id.clone())].into();
            match key.as_str() {
                "api" => {
                    outputs.insert(
                        "endpoint".into(),
                        "https://abc.execute-api.eu-west-1.amazonaws.com".into(),
                    );
                }
                "role" | "function" => {
                    outputs.insert("arn".into(), format!("arn:{key}"));
                    outputs.insert("role_id".into(), format!("AROA{key}"));
                }
                k if k.starts_with("client/") => {
                    outputs.insert("secret".into(), "s3cr3t".into());
                }
                _ => {}
            }
            known.outputs.insert(key.clone(), outputs.clone());
            let desired = r.desired(ctx, &known).known().expect("every input known");
            reads.insert(
                key,
                Read::Found(Observed {
                    id,
                    props: desired,
                    outputs,
                }),
            );
        }
        reads
    }

    fn action_of(steps: &[Step], key: &str) -> Action {
        steps
            .iter()
            .find(|s| s.key == key)
            .map(|s| s.action)
            .unwrap_or_else(|| panic!("no step for {key}"))
    }

    #[test]
    fn empty_account_creates_everything_in_dependency_order() {
        let n = nodes(true);
        let steps = plan(&n, &ctx(), &BTreeMap::new());
        assert_eq!(steps.len(), 16);
        assert!(steps.iter().all(|s| s.action == Action::Create));
        let pos = |k: &str| steps.iter().position(|s| s.key == k).unwrap();
        assert!(pos("user_pool") < pos("domain"));
        assert!(pos("resource_server") < pos("client/example"));
        assert!(pos("api") < pos("client/example-authorization-code"));
        assert!(pos("function") < pos("integration"));
        assert!(pos("authorizer") < pos("route/GET /jwt-cognito-protected"));
    }

    #[test]
    fn converged_stack_plans_nothing() {
        let n = nodes(true);
        let c = ctx();
        let steps = plan(&n, &c, &converged(&n, &c));
        let busy: Vec<_> = steps.iter().filter(|s| s.action != Action::Same).collect();
        assert!(busy.is_empty(), "{busy:?}");
    }

    #[test]
    fn table_of_drifts() {
        // (resource, property, drifted value, expected action)
        let table: Vec<(&str, &str, serde_json::Value, Action)> = vec![
            (
                "authorizer",
                "audience",
                json!(["someone-else"]),
                Action::Update,
            ),
            (
                "route/GET /jwt-cognito-protected",
                "scopes",
                json!([]),
                Action::Update,
            ),
            (
                "client/example-authorization-code",
                "callback_urls",
                json!(["https://evil/oidc"]),
                Action::Update,
            ),
            ("client/example", "flows", json!(["code"]), Action::Update),
            (
                "client/example",
                "generate_secret",
                json!(false),
                Action::Replace,
            ),
            ("function", "environment", json!({}), Action::Update),
            (
                "user/alice",
                "attributes",
                json!({"email": "x@y"}),
                Action::Update,
            ),
            (
                "domain",
                "user_pool_id",
                json!("other-pool"),
                Action::Replace,
            ),
            (
                "permission",
                "source_arn",
                json!("arn:other"),
                Action::Replace,
            ),
            ("user_pool", "name", json!("renamed"), Action::Replace),
        ];
        let n = nodes(true);
        let c = ctx();
        for (key, prop, value, want) in table {
            let mut reads = converged(&n, &c);
            if let Some(Read::Found(o)) = reads.get_mut(key) {
                o.props.insert(prop.to_string(), value);
            }
            let steps = plan(&n, &c, &reads);
            assert_eq!(action_of(&steps, key), want, "{key}.{prop}");
            let others: Vec<_> = steps
                .iter()
                .filter(|s| s.key != key && s.action != Action::Same)
                .map(|s| (&s.key, s.action))
                .collect();
            if key == "user_pool" {
                // A new pool: everything in it is created, and what reads its ID updated.
                assert_eq!(action_of(&steps, "client/example"), Action::Create);
                assert_eq!(action_of(&steps, "user/alice"), Action::Create);
                assert_eq!(action_of(&steps, "authorizer"), Action::Update);
                assert_eq!(action_of(&steps, "function"), Action::Update);
            } else if key == "client/example" && want == Action::Replace {
                // Its new ID reaches the authorizer's audience and the
                // function's allowed clients.
                assert_eq!(
                    others,
                    vec![
                        (&"function".to_string(), Action::Update),
                        (&"authorizer".to_string(), Action::Update)
                    ]
                );
            } else {
                assert!(others.is_empty(), "{key}: {others:?}");
            }
        }
    }

    #[test]
    fn missing_resources_are_created_and_dependants_follow() {
        let n = nodes(true);
        let c = ctx();
        let mut reads = converged(&n, &c);
        reads.insert("api".into(), Read::Missing);
        let steps = plan(&n, &c, &reads);
        assert_eq!(action_of(&steps, "api"), Action::Create);
        for k in ["authorizer", "integration", "stage", "route/$default"] {
            assert_eq!(action_of(&steps, k), Action::Create, "{k}");
        }
        assert_eq!(action_of(&steps, "permission"), Action::Replace);
        assert_eq!(action_of(&steps, "function"), Action::Update);
        assert_eq!(
            action_of(&steps, "client/example-authorization-code"),
            Action::Update
        );
        assert_eq!(action_of(&steps, "user_pool"), Action::Same);
        // The function's settings read from the new API are unknown, and
        // only those: shown as such, whatever the placeholder.
        let f = steps.iter().find(|s| s.key == "function").unwrap();
        assert_eq!(
            f.reason.as_deref(),
            Some("depends on values known after apply")
        );
        let shown: Vec<(&str, Option<&str>)> = f
            .diffs
            .iter()
            .map(|d| (d.setting.as_str(), d.new.as_deref()))
            .collect();
        assert!(!shown.is_empty());
        for (setting, new) in shown {
            assert!(setting.starts_with("environment."), "{setting}");
            assert_eq!(new, Some(KNOWN_AFTER_APPLY), "{setting}");
        }
    }

    /// A lost authorizer is created again; its API is never replaced for
    /// it (the plan has no emulator-gap path that destroys a live API).
    #[test]
    fn a_missing_child_never_replaces_its_parent() {
        let n = nodes(true);
        let c = ctx();
        let mut reads = converged(&n, &c);
        reads.insert("authorizer".into(), Read::Missing);
        let steps = plan(&n, &c, &reads);
        assert_eq!(action_of(&steps, "api"), Action::Same);
        assert_eq!(action_of(&steps, "authorizer"), Action::Create);
    }

    #[test]
    fn down_deletes_children_with_their_parents_and_in_reverse() {
        let n = nodes(true);
        let c = ctx();
        let reads = converged(&n, &c);
        let undeclared = nodes(false);
        let steps = plan(&undeclared, &c, &reads);
        assert_eq!(steps.len(), 16);
        assert!(steps.iter().all(|s| s.action == Action::Delete));
        let get = |k: &str| steps.iter().find(|s| s.key == k).unwrap();
        assert!(
            get("client/example").with_parent
                && get("route/$default").with_parent
                && get("permission").with_parent
        );
        assert!(
            !get("domain").with_parent && !get("user_pool").with_parent && !get("role").with_parent
        );
        let pos = |k: &str| steps.iter().position(|s| s.key == k).unwrap();
        assert!(pos("domain") < pos("user_pool"));
        assert!(pos("function") < pos("role"));
        // Nothing found: nothing to do.
        assert!(plan(&undeclared, &c, &BTreeMap::new()).is_empty());
    }

    #[test]
    fn value_diffs_show_old_and_new_maps_by_key_and_mask_secrets() {
        // C and role are not known yet: their placeholders ("") equal what
        // is observed, and they are still changes shown as such.
        let desired = Desired::new(
            json!({
                "timeout": 10,
                "role": "",
                "environment": {"A": "1", "B": "new", "MY_SECRET": "s2", "C": "", "TOKEN": "t2"},
                "tags": {"Owner": "x"},
            }),
            ["environment.C".to_string(), "role".to_string()].into(),
        );
        let observed = props(json!({
            "timeout": 3,
            "role": "",
            "environment": {"A": "1", "B": "old", "MY_SECRET": "s1", "GONE": "g", "TOKEN": "t1", "C": ""},
            "tags": {"Owner": "x"},
        }));
        let changed = desired.diff(&observed);
        // TOKEN is built from a secret input: masked although its name is not.
        let sensitive: BTreeSet<String> = ["environment.TOKEN".to_string()].into();
        let d = value_diffs(&desired, &observed, &changed, &sensitive);
        let show: Vec<(String, Option<String>, Option<String>)> =
            d.into_iter().map(|c| (c.setting, c.old, c.new)).collect();
        let s = |x: &str| Some(x.to_string());
        assert_eq!(
            show,
            vec![
                ("environment.B".into(), s("old"), s("new")),
                ("environment.C".into(), s(""), s(KNOWN_AFTER_APPLY)),
                ("environment.GONE".into(), s("g"), None),
                ("environment.MY_SECRET".into(), s(SENSITIVE), s(SENSITIVE)),
                ("environment.TOKEN".into(), s(SENSITIVE), s(SENSITIVE)),
                ("role".into(), s(""), s(KNOWN_AFTER_APPLY)),
                ("timeout".into(), s("3"), s("10")),
            ]
        );
    }

    #[test]
    fn only_what_carries_this_stacks_id_or_its_state_records_is_owned() {
        let n = nodes(true);
        let c = ctx();
        let empty = State::new("t");
        let keys = |f: Vec<Foreign>| -> Vec<(String, bool)> {
            f.into_iter().map(|f| (f.key, f.through_parent)).collect()
        };
        // Everything tagged with this stack's ID: owned, state or not.
        let mine = converged(&n, &c);
        assert!(foreign(&n, &c, &empty, &mine).is_empty());
        // Another stack's function: it and its permission are not ours.
        let mut theirs = mine.clone();
        if let Some(Read::Found(o)) = theirs.get_mut("function") {
            o.props.insert(
                "tags".into(),
                json!({"deployer:stack": "dev", "deployer:stack-id": "feedfeedfeedfeed"}),
            );
        }
        let f = foreign(&n, &c, &empty, &theirs);
        assert_eq!(
            keys(f.clone()),
            vec![
                ("function".to_string(), false),
                ("permission".to_string(), true)
            ]
        );
        assert_eq!(
            f[0].owner,
            Owner::Stack {
                id: "feedfeedfeedfeed".into(),
                name: Some("dev".into())
            }
        );
        let e = foreign_error("prod", &f).to_string();
        assert!(
            e.contains("function") && e.contains("stack \"dev\"") && e.contains("name_prefix"),
            "{e}"
        );
        assert!(!e.contains("permission"), "{e}");
        // A pool with no stack ID: nobody's, unless this stack's state
        // records it (a stack from before IDs).
        let mut untagged = mine.clone();
        if let Some(Read::Found(o)) = untagged.get_mut("user_pool") {
            o.props.insert("tags".into(), json!({"Project": "x"}));
        }
        let f = foreign(&n, &c, &empty, &untagged);
        assert_eq!(f[0].key, "user_pool");
        assert_eq!(f[0].owner, Owner::Nobody);
        let e = foreign_error("t", &f).to_string();
        assert!(e.contains("import user_pool id-user_pool"), "{e}");
        // Its children (users, clients, ...) follow it.
        assert!(f.iter().any(|x| x.key == "user/alice" && x.through_parent));
        let mut recorded = State::new("t");
        recorded.resources.insert(
            "user_pool".into(),
            crate::state::Entry {
                id: Some("id-user_pool".into()),
                ..Default::default()
            },
        );
        assert!(foreign(&n, &c, &recorded, &untagged).is_empty());
        // A domain (no tags) on a pool that is not this stack's.
        let mut domain = mine.clone();
        if let Some(Read::Found(o)) = domain.get_mut("domain") {
            o.props
                .insert("user_pool_id".into(), json!("eu-west-1_other"));
        }
        let f = foreign(&n, &c, &empty, &domain);
        assert_eq!(keys(f.clone()), vec![("domain".to_string(), false)]);
        assert!(f[0].owner.to_string().contains("eu-west-1_other"));
        // On the pool this stack found: its own.
        assert!(foreign(&n, &c, &empty, &mine).is_empty());
    }

    #[test]
    fn fingerprints_ignore_the_order_aws_lists_a_map_in() {
        let k = crate::state::FingerprintKey::generate();
        let mut a = serde_json::Map::new();
        a.insert("b".into(), json!("2"));
        a.insert("a".into(), json!("1"));
        let mut b = serde_json::Map::new();
        b.insert("a".into(), json!("1"));
        b.insert("b".into(), json!("2"));
        assert_eq!(
            fingerprint(&k, &serde_json::Value::Object(a)),
            fingerprint(&k, &serde_json::Value::Object(b))
        );
        assert_ne!(
            fingerprint(&k, &json!({"a": "1"})),
            fingerprint(&k, &json!({"a": "2"}))
        );
    }

    /// A secret in a setting (an API key in a function's environment): its
    /// fingerprint is an HMAC under the stack's key, so the state alone
    /// lets no one test a guess; without the key, a guess's unkeyed hash
    /// (what older states held) matches nothing.
    #[test]
    fn a_secrets_fingerprint_needs_the_stacks_key() {
        let env = json!({"API_KEY": "hunter2", "STAGE": "prod"});
        let (k1, k2) = (
            crate::state::FingerprintKey::generate(),
            crate::state::FingerprintKey::generate(),
        );
        let fp = fingerprint(&k1, &env);
        assert!(fp.starts_with("k1:") && fp.len() == 3 + 32, "{fp}");
        assert!(fingerprint_matches(&k1, &env, &fp));
        // Another key (an attacker's guess at it) gives another fingerprint.
        assert_ne!(fingerprint(&k2, &env), fp);
        assert!(!fingerprint_matches(&k2, &env, &fp));
        // The unkeyed hash of the right guess is not it either.
        assert!(!fp.contains(&legacy_fingerprint(&env)));
        assert!(!fingerprint_matches(
            &k1,
            &json!({"API_KEY": "hunter3", "STAGE": "prod"}),
            &fp
        ));
    }

    /// A state from before keyed fingerprints: its fingerprints are still
    /// compared (the plan labels causes right), then rewritten keyed.
    #[test]
    fn an_old_fingerprint_is_compared_once_and_rewritten() {
        let key = crate::state::FingerprintKey::generate();
        let n = nodes(true);
        let c = ctx();
        let mut reads = converged(&n, &c);
        let mut applied: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for (k, r) in &reads {
            if let Read::Found(o) = r {
                let old = o
                    .props
                    .iter()
                    .map(|(s, v)| (s.clone(), legacy_fingerprint(v)))
                    .collect();
                applied.insert(k.clone(), old);
            }
        }
        if let Some(Read::Found(o)) = reads.get_mut("function") {
            o.props.insert("timeout".into(), json!(9));
        }
        let steps = plan_with(&n, &c, &reads, &applied, &key);
        let cause = |k: &str| steps.iter().find(|s| s.key == k).unwrap().cause;
        assert_eq!(cause("function"), Some(Cause::Drift));
        // Rewritten: every old one keyed, of the value it holds now.
        let Some(Read::Found(api)) = reads.get("api") else {
            panic!("no api")
        };
        let new = rekeyed(&key, &applied["api"], &api.props).expect("rewritten");
        assert_eq!(new.len(), applied["api"].len());
        for (s, fp) in &new {
            assert!(fp.starts_with("k1:"), "{s}: {fp}");
            assert!(fingerprint_matches(
                &key,
                api.props.get(s).unwrap_or(&serde_json::Value::Null),
                fp
            ));
        }
        // Keyed ones are left as they are.
        assert_eq!(rekeyed(&key, &new, &api.props), None);
    }

    #[test]
    fn changes_are_labelled_program_or_drift() {
        let key = crate::state::FingerprintKey::generate();
        let n = nodes(true);
        let c = ctx();
        let mut reads = converged(&n, &c);
        // The last apply set timeout 3; AWS now says 9 (drift); the
        // program still says what it said.
        let mut applied: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for (k, r) in &reads {
            if let Read::Found(o) = r {
                applied.insert(k.clone(), fingerprints(&key, &o.props));
            }
        }
        if let Some(Read::Found(o)) = reads.get_mut("function") {
            o.props.insert("timeout".into(), json!(9));
        }
        // The program changed the authorizer's audience since.
        applied
            .get_mut("authorizer")
            .unwrap()
            .insert("audience".into(), fingerprint(&key, &json!(["old-client"])));
        if let Some(Read::Found(o)) = reads.get_mut("authorizer") {
            o.props.insert("audience".into(), json!(["old-client"]));
        }
        // Deleted outside deployer.
        reads.insert("user/alice".into(), Read::Missing);
        let steps = plan_with(&n, &c, &reads, &applied, &key);
        let cause = |k: &str| steps.iter().find(|s| s.key == k).unwrap().cause;
        assert_eq!(cause("function"), Some(Cause::Drift));
        assert_eq!(cause("authorizer"), Some(Cause::Program));
        assert_eq!(cause("user/alice"), Some(Cause::Drift));
        assert_eq!(cause("api"), None, "unchanged");
        // Without a record of the last apply: no label.
        let steps = plan(&n, &c, &reads);
        assert!(steps.iter().all(|s| s.cause.is_none()));
    }

    #[test]
    fn removed_user_is_deleted_alone() {
        let mut n = nodes(true);
        let c = ctx();
        let mut reads = converged(&n, &c);
        let (kind, parent) = crate::state::legacy_kind("user/bob").unwrap();
        let provider = crate::resources::providers().get(kind).unwrap();
        let bob = crate::model::Declared::new(
            "user/bob",
            Arc::new(crate::kind::Orphan::new(provider, parent.map(String::from))),
        );
        reads.insert(
            "user/bob".into(),
            Read::Found(Observed {
                id: "bob".into(),
                props: props(json!({})),
                outputs: BTreeMap::new(),
            }),
        );
        n.push(Node {
            res: bob,
            declared: false,
        });
        let steps = plan(&n, &c, &reads);
        let busy: Vec<_> = steps
            .iter()
            .filter(|s| s.action != Action::Same)
            .map(|s| (s.key.as_str(), s.action, s.with_parent))
            .collect();
        assert_eq!(busy, vec![("user/bob", Action::Delete, false)]);
    }
}
