//! A service at scale: `examples/fleet.rs` with 50 functions (314
//! resources: each function's role, log group, permission, integration and
//! route; two pools with their scopes, clients and groups) behind awsim
//! with AWS's documented control-plane quotas (`--quotas`: the services'
//! own throttling errors past them) and 10% of mutating calls applied with
//! their answer lost. One `up` converges, a no-op `up` writes nothing,
//! `down` leaves nothing; at quotas half as high (an account whose quotas
//! other callers share, which deployer does not know) the same, slower.
//! Each prints its seed, the throttles and lost answers awsim counted.

use crate::common;
use common::*;

const FUNCTIONS: usize = 50;

fn fleet_under_quotas(seed: u64, quota_scale: f64, prefix: &str) {
    let mut a = Awsim::chaos(seed, 0.0, 0.0, 0.10);
    // Realism's windows at the tests' scale (a function Pending, a role
    // not yet assumable, ...): the quotas and lost answers are the point.
    a.scale = test_scale();
    a.extra = vec![
        "--quotas".into(),
        "--quota-scale".into(),
        quota_scale.to_string(),
    ];
    let moto = Moto::start_with(Some(a));
    let mut st = Stack::new(&moto, "fleet").with_prefix(prefix);
    st.exe = example("fleet");
    st.extra_config = format!("functions = {FUNCTIONS}\n");
    // The local emulator (one Python awsim and one moto for 100 calls at
    // once, on a machine that runs the rest of the suite, or the suite
    // twice) can take longer than AWS's 20 s to answer: it gets the 120 s
    // `deployer dev` gives its own control plane (the suite beside a second
    // run of itself: "no answer 20 s after the request was sent").
    for (k, v) in [
        ("DEPLOYER_STALL_TIMEOUT", "120"),
        ("DEPLOYER_ATTEMPT_TIMEOUT", "150"),
        ("DEPLOYER_OPERATION_TIMEOUT", "300"),
    ] {
        st.env.push((k.into(), v.into()));
    }
    eprintln!("scale: seed {seed}, quotas x{quota_scale}, {FUNCTIONS} functions");
    let t = std::time::Instant::now();
    let out = st.json(&["up"]);
    let up = t.elapsed();
    let made = out["summary"]["created"].as_u64();
    let stats = awsim_stats(&moto.endpoint);
    eprintln!(
        "scale: seed {seed}: up {:.1}s ({made:?} created); awsim: {stats:?}",
        up.as_secs_f64()
    );
    let fleet = format!("{prefix}-fleet");
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        let mut functions = 0;
        let mut marker = None;
        loop {
            let page = s
                .lambda
                .list_functions()
                .set_marker(marker.clone())
                .send()
                .await
                .unwrap();
            functions += page
                .functions()
                .iter()
                .filter(|f| {
                    f.function_name()
                        .is_some_and(|n| n.starts_with(&format!("{fleet}-f")))
                })
                .count();
            marker = page.next_marker().map(String::from);
            if marker.is_none() {
                break;
            }
        }
        assert_eq!(functions, FUNCTIONS, "seed {seed}: exactly one of each");
        let api = s.apis_named(&fleet).await;
        assert_eq!(api.len(), 1, "seed {seed}: {api:?}");
        let routes = s.routes(&api[0]).await;
        assert_eq!(routes.len(), FUNCTIONS, "seed {seed}");
        assert_eq!(s.pools_named(&format!("{fleet}-users0")).await.len(), 1);
        assert_eq!(s.pools_named(&format!("{fleet}-users1")).await.len(), 1);
    });
    let quota_throttles: u64 = stats
        .iter()
        .filter(|(k, _)| k.starts_with("quota:"))
        .map(|(_, v)| v)
        .sum();
    let lost: u64 = stats
        .iter()
        .filter(|(k, _)| k.starts_with("lost_response:"))
        .map(|(_, v)| v)
        .sum();
    assert!(lost > 0, "seed {seed}: no answer was lost: {stats:?}");
    if quota_scale < 1.0 {
        // Deployer paces at the documented quotas; at half of them AWS
        // throttles, and deployer slows down instead of failing.
        assert!(quota_throttles > 0, "seed {seed}: {stats:?}");
    }
    // A no-op: nothing written (moto's own recorder).
    moto.reset_recording();
    let out = st.ok(&["up"]);
    let writes = moto.writes();
    assert!(
        writes.is_empty(),
        "seed {seed}: the no-op up wrote: {writes:?}\n{out}"
    );
    let t = std::time::Instant::now();
    st.ok(&["down", "--yes"]);
    eprintln!("scale: seed {seed}: down {:.1}s", t.elapsed().as_secs_f64());
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        assert!(s.apis_named(&fleet).await.is_empty(), "seed {seed}");
        assert!(!s.function_exists(&format!("{fleet}-f000")).await);
        assert!(!s.function_exists(&format!("{fleet}-f049")).await);
        assert!(s.pools_named(&format!("{fleet}-users0")).await.is_empty());
        let roles = s.iam.list_roles().send().await.unwrap();
        let left: Vec<_> = roles
            .roles()
            .iter()
            .filter(|r| r.role_name().starts_with(&fleet))
            .map(|r| r.role_name().to_string())
            .collect();
        assert!(left.is_empty(), "seed {seed}: roles left: {left:?}");
        assert!(log_groups(&moto.direct, &format!("{fleet}-f000"))
            .await
            .is_empty());
    });
}

fn seed() -> u64 {
    std::env::var("DEPLOYER_SCALE_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| std::process::id() as u64 % 1000)
}

/// 50 functions at AWS's documented quotas, 10% lost answers.
#[test]
fn fifty_functions_under_the_quotas_with_lost_answers() {
    fleet_under_quotas(seed(), 1.0, "scale");
}

/// The same where other callers take half of every quota.
#[test]
fn fifty_functions_at_half_the_quotas() {
    fleet_under_quotas(seed(), 0.5, "half");
}

/// The plan's list reads (`src/listing.rs`): a fresh stack of 8 functions
/// lists roles, functions and log groups once each instead of asking for
/// each of its 8 roles, functions and log groups by itself (24 calls that
/// would all answer "not found"); once they exist, each is read by itself
/// again (the lists lack tags, attachments, policies), but an API's routes
/// and integrations, and a pool's groups, come from one list each, and the
/// plan is a no-op.
#[test]
fn a_fresh_plan_lists_instead_of_reading_one_by_one() {
    let moto = Moto::start();
    let mut st = Stack::new(&moto, "fleet").with_prefix("lists");
    st.exe = example("fleet");
    st.extra_config = "functions = 8\npools = 2\n".into();
    let count = |ops: &[(String, bool)], f: &dyn Fn(&str) -> bool| {
        ops.iter().filter(|(op, _)| f(op)).count()
    };
    let get_function = |op: &str| {
        op.starts_with("GET ")
            && op.contains("/functions/lists-fleet-f")
            && !op.ends_with("/policy")
    };
    let list_functions = |op: &str| {
        op.starts_with("GET ") && (op.contains("/functions?") || op.ends_with("/functions"))
    };
    moto.reset_recording();
    st.ok(&["plan"]);
    let ops = moto.recorded();
    assert_eq!(count(&ops, &|op| op == "GetRole"), 0, "{ops:?}");
    assert_eq!(count(&ops, &|op| op == "ListRoles"), 1, "{ops:?}");
    assert_eq!(count(&ops, &get_function), 0, "{ops:?}");
    assert_eq!(count(&ops, &list_functions), 1, "{ops:?}");
    assert_eq!(count(&ops, &|op| op == "DescribeLogGroups"), 1, "{ops:?}");
    st.ok(&["up"]);
    moto.reset_recording();
    // --detailed-exitcode: 0 only for a plan without changes.
    st.ok(&["plan", "--detailed-exitcode"]);
    let ops = moto.recorded();
    assert_eq!(count(&ops, &|op| op == "GetRole"), 8, "{ops:?}");
    assert_eq!(count(&ops, &get_function), 8, "{ops:?}");
    // An API's routes and integrations: the list has all a read has.
    let under = |what: &'static str| {
        move |op: &str| op.starts_with("GET ") && op.contains(&format!("/{what}/"))
    };
    let listed = |what: &'static str| {
        move |op: &str| {
            op.starts_with("GET ")
                && (op.ends_with(&format!("/{what}")) || op.contains(&format!("/{what}?")))
        }
    };
    assert_eq!(count(&ops, &under("routes")), 0, "{ops:?}");
    assert_eq!(count(&ops, &under("integrations")), 0, "{ops:?}");
    assert_eq!(count(&ops, &listed("routes")), 1, "{ops:?}");
    assert_eq!(count(&ops, &listed("integrations")), 1, "{ops:?}");
    // Two pools of two groups each: a list of each pool's groups.
    assert_eq!(count(&ops, &|op| op == "GetGroup"), 0, "{ops:?}");
    assert_eq!(count(&ops, &|op| op == "ListGroups"), 2, "{ops:?}");
    assert!(
        ops.iter().all(|(_, m)| !m),
        "a plan writes nothing: {ops:?}"
    );
    st.ok(&["down", "--yes"]);
}
