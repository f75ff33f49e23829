//! The engine's tests (`#[cfg(test)] mod tests` in mod.rs).

use super::diff::topo;
use super::fingerprint::legacy_fingerprint;
use super::*;
use crate::config::Config;
use crate::kind::props;
use crate::kind::{Ctx, Desired, Known, Observed, Owner, Read};
use serde_json::json;
use std::collections::BTreeSet;

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
