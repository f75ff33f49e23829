//! Crash safety: the process is killed right after every mutating call (the
//! test-only fault knob), then `up` must converge to exactly one of each
//! resource and `down` must leave nothing. `down` is killed the same way.

use crate::common;
use common::*;
use deployer::aws::{FAULT_ENV, FAULT_EXIT_CODE};

/// Runs `args` with the process killed right after its n-th mutating call.
/// Behind awsim the number of calls varies with timing (a retried
/// CreateFunction or DeleteRole counts): a run that makes fewer than n calls
/// finishes, which its own report must show.
fn killed_at(st: &Stack, args: &[&str], n: u64) {
    let mut a = args.to_vec();
    a.push("--json");
    let o = st.cmd(&a).env(FAULT_ENV, n.to_string()).output().unwrap();
    if o.status.success() {
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let made = v["report"]["mutations"].as_u64().unwrap();
        assert!(
            made < n,
            "{args:?} with fault at {n} finished after {made} mutating calls"
        );
        eprintln!("{args:?}: this run made {made} < {n} mutating calls, no kill");
        return;
    }
    assert_eq!(
        o.status.code(),
        Some(FAULT_EXIT_CODE),
        "{args:?} with fault at {n}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn killed_after_every_mutating_call_up_converges_and_down_cleans() {
    let moto = Moto::start();
    let probe = Stack::new(&moto, "probe").with_prefix("probe");
    let total = probe.json(&["up"])["report"]["mutations"].as_u64().unwrap();
    assert!(
        total >= 15,
        "a fresh up makes at least one call per resource: {total}"
    );
    let downs = probe.json(&["down", "--yes"])["report"]["mutations"]
        .as_u64()
        .unwrap();
    assert!(downs >= 4, "{downs}");
    // Each kill point is a stack of its own (its own name prefix), so they
    // run side by side in the one moto: a few at a time.
    let next = std::sync::atomic::AtomicU64::new(1);
    std::thread::scope(|s| {
        for _ in 0..KILL_WORKERS {
            s.spawn(|| loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if n > total {
                    break;
                }
                kill_point(&moto, n, downs);
            });
        }
    });
}

/// Kill points run at once by the crash test.
const KILL_WORKERS: usize = 4;

/// `up` killed after its n-th mutating call, recovered; then `down` killed
/// at one of its own calls, recovered.
fn kill_point(moto: &Moto, n: u64, downs: u64) {
    let st = Stack::new(moto, &format!("k{n}")).with_prefix(&format!("k{n}"));
    killed_at(&st, &["up"], n);
    // Recovery never replaces a live resource it recorded: an
    // interrupted child (an authorizer) is found through AWS's own list,
    // not made a reason to delete its API.
    let recorded = |st: &Stack, k: &str| {
        std::fs::read(st.state_file())
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v["resources"][k]["id"].as_str().map(String::from))
    };
    let (api, pool) = (recorded(&st, "api"), recorded(&st, "user_pool"));
    st.ok(&["up"]);
    assert_exactly_one(moto, &st);
    for (k, before) in [("api", api), ("user_pool", pool)] {
        if let Some(id) = before {
            assert_eq!(st.id(k), id, "k{n}: the recovery replaced the {k}");
        }
    }
    // Converged: a further plan has nothing to do.
    assert!(st.ok(&["plan"]).contains("No changes"), "k{n}");
    // And down, killed at each of its own calls, still cleans up.
    // A down makes 7 mutating calls on plain moto (deletes that need a
    // call of their own); awsim's retries (DeleteConflict, the pool's
    // domain) add a number of calls that depends on timing, so kill
    // points stay within the first 7.
    let m = 1 + (n % downs.min(7));
    killed_at(&st, &["down", "--yes"], m);
    st.ok(&["down", "--yes"]);
    assert_none(moto, &st);
}

#[test]
fn down_on_full_half_created_and_empty_stacks_and_twice() {
    let moto = Moto::start();
    // Empty: nothing deployed, no state.
    let empty = Stack::new(&moto, "empty").with_prefix("empty");
    let out = empty.ok(&["down", "--yes"]);
    assert!(out.contains("0 resources to delete"), "{out}");
    // Half-created.
    let half = Stack::new(&moto, "half").with_prefix("half");
    killed_at(&half, &["up"], 6);
    half.ok(&["down", "--yes"]);
    assert_none(&moto, &half);
    // Full, then down twice.
    let full = Stack::new(&moto, "full").with_prefix("full");
    full.ok(&["up"]);
    full.ok(&["down", "--yes"]);
    assert_none(&moto, &full);
    let again = full.ok(&["down", "--yes"]);
    assert!(again.contains("0 resources to delete"), "{again}");
    // A lost state file: a stack with no state deletes nothing; its ID,
    // read from its resources' tag and claimed, makes them its own again.
    let lost = Stack::new(&moto, "lost").with_prefix("lost");
    lost.ok(&["up"]);
    let id = lost.state()["stack_id"].as_str().unwrap().to_string();
    std::fs::remove_file(lost.state_file()).unwrap();
    let out = lost.ok(&["down", "--yes"]);
    assert!(
        out.contains("0 resources to delete") && out.contains("state claim"),
        "{out}"
    );
    let tagged = rt().block_on(async {
        let s = sdk(&moto.direct).await;
        let pools = s.pools_named("lost").await;
        assert_eq!(pools.len(), 1, "down without state deleted the pool");
        s.pool(&pools[0]).await.user_pool_tags.unwrap()["deployer:stack-id"].clone()
    });
    assert_eq!(tagged, id);
    lost.ok(&["state", "claim", &tagged]);
    // A stack that records resources keeps its ID.
    full.ok(&["up"]);
    let o = full.run(&["state", "claim", &tagged]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("keeps its ID"));
    full.ok(&["down", "--yes"]);
    lost.ok(&["down", "--yes"]);
    assert_none(&moto, &lost);
}

#[test]
fn down_needs_confirmation_without_a_terminal() {
    let moto = Moto::start();
    let st = Stack::new(&moto, "confirm").with_prefix("confirm");
    st.ok(&["up"]);
    let o = st.run(&["down"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--yes"), "{err}");
    assert_exactly_one(&moto, &st);
}

/// Every create's intent is written at once before the first create; when a
/// step fails, the creates that never started have theirs taken back
/// (nothing was sent for them), and the one that was sent keeps its own.
/// Here CreateFunction is refused: the function's permission, the API's
/// integration and routes never start. The next run (no refusal) converges.
#[test]
fn a_failed_step_leaves_intents_only_for_what_was_sent() {
    let mut a = Awsim::chaos(1, 0.0, 0.0, 0.0);
    a.realism = false;
    a.deny = vec!["CreateFunction"];
    let moto = Moto::start_with(Some(a));
    let st = Stack::new(&moto, "refused");
    let o = st.run(&["up"]);
    assert!(!o.status.success(), "CreateFunction was refused");
    let state = st.state();
    let r = state["resources"].as_object().unwrap();
    let pending: Vec<&String> = r
        .iter()
        .filter(|(_, e)| e["pending_create"].as_bool() == Some(true))
        .map(|(k, _)| k)
        .collect();
    assert_eq!(pending, ["function"], "{state:#}");
    for never in ["permission", "integration"] {
        assert!(r.get(never).is_none(), "{never} was never sent: {state:#}");
    }
    assert!(
        r["user_pool"]["id"].is_string(),
        "what was made is recorded"
    );
    // Straight to moto, past the refusal.
    let o = st
        .cmd(&["up", "--json"])
        .env("AWS_ENDPOINT_URL", &moto.direct)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        st.state()["resources"]
            .as_object()
            .unwrap()
            .values()
            .all(|e| e["pending_create"].as_bool() != Some(true)),
        "converged"
    );
}
