//! Crash safety: the process is killed right after every mutating call (the
//! test-only fault knob), then `up` must converge to exactly one of each
//! resource and `down` must leave nothing. `down` is killed the same way.

mod common;
use common::*;
use deployer::aws::{FAULT_ENV, FAULT_EXIT_CODE};

/// Asserts exactly one of each resource of the stack, read back via the SDK.
fn assert_exactly_one(moto: &Moto, st: &Stack) {
    let prefix = st.prefix.clone();
    rt().block_on(async {
        let s = sdk(&moto.endpoint).await;
        let pools = s.pools_named(&prefix).await;
        assert_eq!(pools.len(), 1, "{prefix}: user pools");
        let pool = pools[0].clone();
        assert_eq!(pool, st.id("user_pool"));
        let clients = s
            .cognito
            .list_user_pool_clients()
            .user_pool_id(&pool)
            .max_results(60)
            .send()
            .await
            .unwrap()
            .user_pool_clients
            .unwrap();
        let mut names: Vec<_> = clients
            .iter()
            .filter_map(|c| c.client_name.clone())
            .collect();
        names.sort();
        assert_eq!(
            names,
            vec!["example", "example-authorization-code"],
            "{prefix}: clients"
        );
        let users = s
            .cognito
            .list_users()
            .user_pool_id(&pool)
            .send()
            .await
            .unwrap()
            .users
            .unwrap();
        assert_eq!(users.len(), 1, "{prefix}: users");
        assert_eq!(users[0].user_status.as_ref().unwrap().as_str(), "CONFIRMED");
        let rs = s
            .cognito
            .list_resource_servers()
            .user_pool_id(&pool)
            .max_results(50)
            .send()
            .await
            .unwrap()
            .resource_servers;
        assert_eq!(rs.len(), 1, "{prefix}: resource servers");
        let d = s
            .cognito
            .describe_user_pool()
            .user_pool_id(&pool)
            .send()
            .await
            .unwrap()
            .user_pool
            .unwrap()
            .domain;
        assert_eq!(
            d.as_deref(),
            Some(st.id("domain").as_str()),
            "{prefix}: domain"
        );
        let apis = s.apis_named(&prefix).await;
        assert_eq!(apis.len(), 1, "{prefix}: APIs");
        let api = apis[0].clone();
        assert_eq!(api, st.id("api"));
        assert_eq!(
            s.apigw
                .get_integrations()
                .api_id(&api)
                .send()
                .await
                .unwrap()
                .items
                .unwrap()
                .len(),
            1,
            "{prefix}: integrations"
        );
        let routes = s.routes(&api).await;
        assert_eq!(routes.len(), 2, "{prefix}: routes");
        assert_eq!(
            s.apigw
                .get_stages()
                .api_id(&api)
                .send()
                .await
                .unwrap()
                .items
                .unwrap()
                .len(),
            1,
            "{prefix}: stages"
        );
        // Authorizers cannot be listed in moto: the one the route uses is the
        // one in the state, and it exists.
        let auth = st.id("authorizer");
        assert!(routes
            .iter()
            .any(|r| r.authorizer_id.as_deref() == Some(auth.as_str())));
        assert!(s
            .apigw
            .get_authorizer()
            .api_id(&api)
            .authorizer_id(&auth)
            .send()
            .await
            .is_ok());
        let f = s
            .lambda
            .get_function()
            .function_name(&prefix)
            .send()
            .await
            .unwrap();
        assert!(f.configuration.is_some());
        let policy: serde_json::Value = serde_json::from_str(&s.policy(&prefix).await).unwrap();
        assert_eq!(
            policy["Statement"].as_array().unwrap().len(),
            1,
            "{prefix}: permissions"
        );
        let role = format!("{prefix}-lambda");
        let attached = s
            .iam
            .list_attached_role_policies()
            .role_name(&role)
            .send()
            .await
            .unwrap()
            .attached_policies
            .unwrap();
        assert_eq!(attached.len(), 1, "{prefix}: role policies");
    });
}

fn assert_none(moto: &Moto, st: &Stack) {
    let prefix = st.prefix.clone();
    rt().block_on(async {
        let s = sdk(&moto.endpoint).await;
        assert!(
            s.pools_named(&prefix).await.is_empty(),
            "{prefix}: a user pool is left"
        );
        assert!(
            s.apis_named(&prefix).await.is_empty(),
            "{prefix}: an API is left"
        );
        assert!(
            s.lambda
                .get_function()
                .function_name(&prefix)
                .send()
                .await
                .is_err(),
            "{prefix}: the function is left"
        );
        assert!(
            s.iam
                .get_role()
                .role_name(format!("{prefix}-lambda"))
                .send()
                .await
                .is_err(),
            "{prefix}: the role is left"
        );
    });
    assert!(
        !st.state_file().exists(),
        "the state file is removed after down"
    );
}

fn killed_at(st: &Stack, args: &[&str], n: u64) {
    let o = st.cmd(args).env(FAULT_ENV, n.to_string()).output().unwrap();
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
    for n in 1..=total {
        let st = Stack::new(&moto, &format!("k{n}")).with_prefix(&format!("k{n}"));
        killed_at(&st, &["up"], n);
        st.ok(&["up"]);
        assert_exactly_one(&moto, &st);
        // Converged: a further plan has nothing to do.
        assert!(st.ok(&["plan"]).contains("No changes"), "k{n}");
        // And down, killed at each of its own calls, still cleans up.
        let m = 1 + (n % downs);
        killed_at(&st, &["down", "--yes"], m);
        st.ok(&["down", "--yes"]);
        assert_none(&moto, &st);
    }
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
    // A lost state file: down still finds the stack by name and tag.
    let lost = Stack::new(&moto, "lost").with_prefix("lost");
    lost.ok(&["up"]);
    std::fs::remove_file(lost.state_file()).unwrap();
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
