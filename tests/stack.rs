//! The real deployer binary against a real moto_server: every setting of
//! STACK.md read back through the SDK, idempotency counted from moto's own
//! request recorder, drift repair, outputs.

use crate::common;
use common::*;
use std::collections::BTreeMap;

const PROTECTED: &str = "GET /jwt-cognito-protected";

#[test]
fn up_creates_every_resource_with_every_setting() {
    let moto = Moto::start();
    let mut st = Stack::new(&moto, "full");
    st.extra_config = "[tags]\nOwner = \"platform\"\n".into();
    let report = st.json(&["up"]);
    assert_eq!(report["report"]["steps"].as_array().unwrap().len(), 16);
    assert_every_setting(&moto, &st);
}

#[test]
fn second_up_makes_no_mutating_call() {
    let moto = Moto::start();
    let st = Stack::new(&moto, "noop");
    st.ok(&["up"]);
    let before = std::fs::read(st.state_file()).unwrap();
    moto.reset_recording();
    let out = st.ok(&["up"]);
    let ops = moto.recorded();
    let writes: Vec<_> = ops.iter().filter(|(_, m)| *m).collect();
    assert!(
        ops.len() >= 15,
        "the no-op still reads every resource: {ops:?}"
    );
    assert!(
        writes.is_empty(),
        "a no-op up made mutating calls: {writes:?}"
    );
    assert!(out.contains("16 unchanged"), "{out}");
    assert_eq!(
        before,
        std::fs::read(st.state_file()).unwrap(),
        "a no-op must not rewrite the state"
    );
    // plan agrees.
    let plan = st.ok(&["plan"]);
    assert!(plan.contains("No changes"), "{plan}");
}

#[test]
fn drift_is_repaired() {
    let moto = Moto::start();
    let st = Stack::new(&moto, "drift");
    st.ok(&["up"]);
    let pool = st.id("user_pool");
    let api = st.id("api");
    let cc = st.id("client/example");
    let code = st.id("client/example-authorization-code");
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        let a = st.id("authorizer");
        s.apigw
            .update_authorizer()
            .api_id(&api)
            .authorizer_id(&a)
            .jwt_configuration(
                aws_sdk_apigatewayv2::types::JwtConfiguration::builder()
                    .issuer("https://evil.example")
                    .audience("someone-else")
                    .build(),
            )
            .send()
            .await
            .unwrap();
        s.apigw
            .update_route()
            .api_id(&api)
            .route_id(st.id(&format!("route/{PROTECTED}")))
            .set_authorization_scopes(Some(vec!["other/scope".to_string()]))
            .send()
            .await
            .unwrap();
        s.apigw
            .delete_route()
            .api_id(&api)
            .route_id(st.id("route/$default"))
            .send()
            .await
            .unwrap();
        s.cognito
            .update_user_pool_client()
            .user_pool_id(&pool)
            .client_id(&code)
            .allowed_o_auth_flows_user_pool_client(true)
            .allowed_o_auth_flows(aws_sdk_cognitoidentityprovider::types::OAuthFlowType::Implicit)
            .allowed_o_auth_scopes("openid")
            .callback_urls("https://evil.example/cb")
            .send()
            .await
            .unwrap();
        s.lambda
            .update_function_configuration()
            .function_name("cognito-example")
            .environment(
                aws_sdk_lambda::types::Environment::builder()
                    .variables("EXAMPLE_OIDC_ISSUER_URL", "https://evil.example")
                    .build(),
            )
            .send()
            .await
            .unwrap();
        s.cognito
            .admin_update_user_attributes()
            .user_pool_id(&pool)
            .username("alice")
            .user_attributes(
                aws_sdk_cognitoidentityprovider::types::AttributeType::builder()
                    .name("email")
                    .value("mallory@example.com")
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        s.lambda
            .remove_permission()
            .function_name("cognito-example")
            .statement_id(st.id("permission"))
            .send()
            .await
            .unwrap();
    });
    let plan = st.ok(&["plan"]);
    for k in [
        "authorizer",
        "route/GET /jwt-cognito-protected",
        "route/$default",
        "client/example-authorization-code",
        "function",
        "user/alice",
        "permission",
    ] {
        assert!(
            plan.lines()
                .any(|l| l.contains(k) && !l.contains("unchanged")),
            "plan misses {k}:\n{plan}"
        );
    }
    st.ok(&["up"]);
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        let endpoint = s
            .apigw
            .get_api()
            .api_id(&api)
            .send()
            .await
            .unwrap()
            .api_endpoint
            .unwrap();
        let a = s
            .apigw
            .get_authorizer()
            .api_id(&api)
            .authorizer_id(st.id("authorizer"))
            .send()
            .await
            .unwrap()
            .jwt_configuration
            .unwrap();
        assert_eq!(a.audience.unwrap(), vec![cc.clone()]);
        assert_eq!(
            a.issuer.unwrap(),
            format!("https://cognito-idp.eu-west-1.amazonaws.com/{pool}")
        );
        let routes = s.routes(&api).await;
        assert_eq!(routes.len(), 2);
        let p = routes
            .iter()
            .find(|r| r.route_key.as_deref() == Some(PROTECTED))
            .unwrap();
        assert_eq!(
            p.authorization_scopes.clone().unwrap(),
            vec!["example/auth"]
        );
        let c = s.client(&pool, &code).await;
        assert_eq!(
            c.allowed_o_auth_flows
                .unwrap()
                .iter()
                .map(|f| f.as_str())
                .collect::<Vec<_>>(),
            vec!["code"]
        );
        assert_eq!(c.callback_urls.unwrap(), vec![format!("{endpoint}/oidc")]);
        assert_eq!(c.allowed_o_auth_scopes.unwrap().len(), 4);
        let env = s
            .lambda
            .get_function()
            .function_name("cognito-example")
            .send()
            .await
            .unwrap()
            .configuration
            .unwrap()
            .environment
            .unwrap()
            .variables
            .unwrap();
        assert_eq!(env.len(), 5);
        assert_eq!(
            env["EXAMPLE_OIDC_ISSUER_URL"],
            format!("https://cognito-idp.eu-west-1.amazonaws.com/{pool}")
        );
        assert_eq!(env["EXAMPLE_OIDC_CLIENT_SECRET"], c.client_secret.unwrap());
        let u = s
            .cognito
            .admin_get_user()
            .user_pool_id(&pool)
            .username("alice")
            .send()
            .await
            .unwrap();
        assert!(u
            .user_attributes
            .unwrap()
            .iter()
            .any(|a| a.name == "email" && a.value.as_deref() == Some("alice@example.com")));
        let policy = s.policy("cognito-example").await;
        assert!(policy.contains(&format!("{api}/*/*")));
    });
    // Converged again: the next plan is empty.
    assert!(st.ok(&["plan"]).contains("No changes"));
}

#[test]
fn deleted_out_of_band_resources_are_recreated() {
    let moto = Moto::start();
    let st = Stack::new(&moto, "gone");
    st.ok(&["up"]);
    let old_api = st.id("api");
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        s.apigw.delete_api().api_id(&old_api).send().await.unwrap();
        s.lambda
            .delete_function()
            .function_name("cognito-example")
            .send()
            .await
            .unwrap();
        s.cognito
            .admin_delete_user()
            .user_pool_id(st.id("user_pool"))
            .username("alice")
            .send()
            .await
            .unwrap();
    });
    st.ok(&["up"]);
    let new_api = st.id("api");
    assert_ne!(new_api, old_api);
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        let apis = s.apigw.get_apis().send().await.unwrap().items.unwrap();
        assert_eq!(apis.len(), 1);
        let endpoint = apis[0].api_endpoint.clone().unwrap();
        assert_eq!(s.routes(&new_api).await.len(), 2);
        let f = s
            .lambda
            .get_function()
            .function_name("cognito-example")
            .send()
            .await
            .unwrap()
            .configuration
            .unwrap();
        assert_eq!(
            f.environment.unwrap().variables.unwrap()["EXAMPLE_OIDC_REDIRECT_URL"],
            format!("{endpoint}/oidc")
        );
        let c = s
            .client(
                st.id("user_pool"),
                st.id("client/example-authorization-code"),
            )
            .await;
        assert_eq!(c.callback_urls.unwrap(), vec![format!("{endpoint}/oidc")]);
        let policy = s.policy("cognito-example").await;
        assert!(policy.contains(&format!("{new_api}/*/*")), "{policy}");
        assert!(s
            .cognito
            .admin_get_user()
            .user_pool_id(st.id("user_pool"))
            .username("alice")
            .send()
            .await
            .is_ok());
    });
    assert!(st.ok(&["plan"]).contains("No changes"));
}

#[test]
fn outputs_match_what_the_sdk_reports() {
    let moto = Moto::start();
    let st = Stack::new(&moto, "outs");
    st.ok(&["up"]);
    let o = st.json(&["outputs"]);
    let keys: Vec<&str> = o.as_object().unwrap().keys().map(String::as_str).collect();
    // The seed's ten Terraform outputs.
    let mut want = vec![
        "oidc_issuer_url",
        "oidc_configuration_url",
        "oidc_authorization_url",
        "oidc_token_url",
        "oidc_jwks_url",
        "oidc_userinfo_url",
        "example_client_id",
        "example_client_secret",
        "example_url",
        "example_authorization_code_oidc_redirect_url",
    ];
    want.sort();
    assert_eq!(keys, want);
    assert_eq!(o["example_client_secret"], deployer::outputs::HIDDEN);
    let shown = st.json(&["outputs", "--show-secrets"]);
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        let pool = st.id("user_pool");
        let issuer = format!("https://cognito-idp.eu-west-1.amazonaws.com/{pool}");
        let c = s.client(&pool, st.id("client/example")).await;
        let api = s.apigw.get_api().api_id(st.id("api")).send().await.unwrap();
        let domain = s.pool(&pool).await.domain.unwrap();
        let hosted = format!("https://{domain}.auth.eu-west-1.amazoncognito.com");
        assert_eq!(o["oidc_issuer_url"], issuer);
        assert_eq!(
            o["oidc_configuration_url"],
            format!("{issuer}/.well-known/openid-configuration")
        );
        assert_eq!(
            o["oidc_jwks_url"],
            format!("{issuer}/.well-known/jwks.json")
        );
        assert_eq!(
            o["oidc_authorization_url"],
            format!("{hosted}/oauth2/authorize")
        );
        assert_eq!(o["oidc_token_url"], format!("{hosted}/oauth2/token"));
        assert_eq!(o["oidc_userinfo_url"], format!("{hosted}/oauth2/userInfo"));
        assert_eq!(o["example_client_id"], c.client_id.clone().unwrap());
        assert_eq!(
            shown["example_client_secret"],
            c.client_secret.clone().unwrap()
        );
        assert_eq!(o["example_url"], api.api_endpoint.clone().unwrap());
        assert_eq!(
            o["example_authorization_code_oidc_redirect_url"],
            format!("{}/oidc", api.api_endpoint.unwrap())
        );
        // Raw single values, like `terraform output --raw`.
        assert_eq!(
            st.ok(&["outputs", "example_client_id"]).trim(),
            c.client_id.unwrap()
        );
        assert_eq!(
            st.ok(&["outputs", "example_client_secret", "--show-secrets"])
                .trim(),
            c.client_secret.unwrap()
        );
    });
    let refused = st.run(&["outputs", "example_client_secret"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--show-secrets"));
}

/// The tags of a resource, read back through the SDK, for every kind that
/// has tags.
fn all_tags(moto: &Moto, st: &Stack) -> BTreeMap<&'static str, BTreeMap<String, String>> {
    rt().block_on(async {
        // Through the behaviour layer: it answers the tag APIs moto lacks
        // (pool and stage tags) as AWS does.
        let s = sdk(&moto.endpoint).await;
        let mut out = BTreeMap::new();
        let pool = s
            .cognito
            .describe_user_pool()
            .user_pool_id(st.id("user_pool"))
            .send()
            .await
            .unwrap()
            .user_pool
            .unwrap();
        out.insert(
            "user_pool",
            pool.user_pool_tags
                .unwrap_or_default()
                .into_iter()
                .collect(),
        );
        let api = s.apigw.get_api().api_id(st.id("api")).send().await.unwrap();
        out.insert("api", api.tags.unwrap_or_default().into_iter().collect());
        let stage = s
            .apigw
            .get_stage()
            .api_id(st.id("api"))
            .stage_name("$default")
            .send()
            .await
            .unwrap();
        out.insert(
            "stage",
            stage.tags.unwrap_or_default().into_iter().collect(),
        );
        let f = s
            .lambda
            .get_function()
            .function_name(&st.prefix)
            .send()
            .await
            .unwrap();
        out.insert("function", f.tags.unwrap_or_default().into_iter().collect());
        let role = s
            .iam
            .get_role()
            .role_name(format!("{}-lambda", st.prefix))
            .send()
            .await
            .unwrap()
            .role
            .unwrap();
        out.insert(
            "role",
            role.tags
                .unwrap_or_default()
                .into_iter()
                .map(|t| (t.key, t.value))
                .collect(),
        );
        let logs = logs_client(&moto.direct).await;
        let arn = format!(
            "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/{}",
            st.prefix
        );
        let t = logs
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .unwrap();
        out.insert(
            "log_group",
            t.tags.unwrap_or_default().into_iter().collect(),
        );
        out
    })
}

#[test]
fn a_tag_removed_from_the_config_leaves_every_resource() {
    let moto = Moto::start();
    let mut st = Stack::new(&moto, "tags");
    st.extra_config = "[tags]\nOwner = \"platform\"\nCostCenter = \"42\"\n".into();
    st.ok(&["up"]);
    for (kind, tags) in all_tags(&moto, &st) {
        assert_eq!(
            tags.get("CostCenter").map(String::as_str),
            Some("42"),
            "{kind}: {tags:?}"
        );
    }
    st.extra_config = "[tags]\nOwner = \"platform\"\n".into();
    moto.reset_recording();
    st.ok(&["up"]);
    // Tags change through the tag APIs: no UpdateUserPool (it resets every
    // pool setting it is not sent), no stage deleted and made again.
    let ops: Vec<String> = moto.recorded().into_iter().map(|(op, _)| op).collect();
    assert!(
        !ops.iter()
            .any(|op| op == "UpdateUserPool" || op.contains("/stages") && !op.starts_with("GET")),
        "{ops:?}"
    );
    for (kind, tags) in all_tags(&moto, &st) {
        assert_eq!(
            tags.get("Owner").map(String::as_str),
            Some("platform"),
            "{kind}: {tags:?}"
        );
        assert!(
            !tags.contains_key("CostCenter"),
            "{kind} kept a removed tag: {tags:?}"
        );
    }
    // No perpetual diff.
    moto.reset_recording();
    st.ok(&["up"]);
    let writes: Vec<_> = moto.recorded().into_iter().filter(|(_, m)| *m).collect();
    assert!(writes.is_empty(), "{writes:?}");
}

/// App clients take no tags: a client made by hand in the stack's pool
/// under the name of one of the stack's clients is somebody's, not a stray,
/// unless a create of the stack's client lost its answer (then one made
/// around the same time is what that create left): `up` leaves it and says
/// nothing of it, `plan` has nothing to do.
#[test]
fn a_hand_made_client_of_the_same_name_is_not_a_stray() {
    let moto = Moto::start();
    let st = Stack::new(&moto, "hands");
    st.ok(&["up"]);
    // Through awsim: it reports a client's creation date (moto none).
    let hand_made = rt().block_on(async {
        let s = sdk(&moto.endpoint).await;
        let c = s
            .cognito
            .create_user_pool_client()
            .user_pool_id(st.id("user_pool"))
            .client_name("example")
            .send()
            .await
            .unwrap();
        c.user_pool_client.unwrap().client_id.unwrap()
    });
    let clients = || {
        rt().block_on(async {
            let s = sdk(&moto.direct).await;
            let l = s
                .cognito
                .list_user_pool_clients()
                .user_pool_id(st.id("user_pool"));
            let l = l.max_results(60).send().await.unwrap();
            let mut ids: Vec<String> = l
                .user_pool_clients
                .unwrap_or_default()
                .into_iter()
                .filter(|c| c.client_name.as_deref() == Some("example"))
                .filter_map(|c| c.client_id)
                .collect();
            ids.sort();
            ids
        })
    };
    let mut both = vec![hand_made.clone(), st.id("client/example")];
    both.sort();
    let out = st.ok(&["up"]);
    assert!(!out.contains("stray"), "{out}");
    assert_eq!(clients(), both);
    let p = st.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(
        p.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&p.stdout)
    );
    st.ok(&["down", "--yes"]);
}

#[test]
fn strays_with_the_stacks_name_and_tag_are_removed() {
    let moto = Moto::start();
    let st = Stack::new(&moto, "strays");
    st.ok(&["up"]);
    let stack_id = st.state()["stack_id"].as_str().unwrap().to_string();
    // What a create whose answer was lost, and whose lookup came too early,
    // leaves: a second pool, API and app client with this stack's name and
    // stack ID tag.
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        s.cognito
            .create_user_pool()
            .pool_name(&st.prefix)
            .user_pool_tags("deployer:stack", "strays")
            .user_pool_tags("deployer:stack-id", &stack_id)
            .send()
            .await
            .unwrap();
        s.apigw
            .create_api()
            .name(&st.prefix)
            .protocol_type(aws_sdk_apigatewayv2::types::ProtocolType::Http)
            .tags("deployer:stack", "strays")
            .tags("deployer:stack-id", &stack_id)
            .send()
            .await
            .unwrap();
        // (through awsim, which reports a client's creation date)
        sdk(&moto.endpoint)
            .await
            .cognito
            .create_user_pool_client()
            .user_pool_id(st.id("user_pool"))
            .client_name("example")
            .send()
            .await
            .unwrap();
        // Someone else's pool of the same name (another stack, even of
        // this stack's name) is not ours.
        s.cognito
            .create_user_pool()
            .pool_name(&st.prefix)
            .user_pool_tags("deployer:stack", "strays")
            .user_pool_tags("deployer:stack-id", "0000000000000000")
            .send()
            .await
            .unwrap();
        assert_eq!(s.pools_named(&st.prefix).await.len(), 3);
    });
    // The client is looked for as a stray only after a create of it lost
    // its answer (clients take no tags): the state says so, as that create
    // would have.
    let mut state = st.state();
    state["resources"]["client/example"]["lost_create"] = serde_json::json!(true);
    std::fs::write(st.state_file(), serde_json::to_vec_pretty(&state).unwrap()).unwrap();
    let out = st.ok(&["up"]);
    assert!(out.contains("stray"), "{out}");
    assert!(
        st.state()["resources"]["client/example"]
            .get("lost_create")
            .is_none(),
        "looked for: the mark is gone"
    );
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        assert_eq!(
            s.pools_named(&st.prefix).await.len(),
            2,
            "ours and the other stack's"
        );
    });
    assert_exactly_one_api_and_clients(&moto, &st);
    st.ok(&["down", "--yes"]);
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        assert_eq!(
            s.pools_named(&st.prefix).await.len(),
            1,
            "the other stack's pool stays"
        );
    });
}

fn writes(moto: &Moto) -> Vec<(String, bool)> {
    moto.recorded().into_iter().filter(|(_, m)| *m).collect()
}

fn stderr_of(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// Two stacks of one config in one account (dev and prod, or two people on
/// the defaults): the second stops before any write, naming the owner, and
/// every resource of the first is intact, read back through the SDK. A
/// `down` of a stack with no state deletes nothing.
#[test]
fn a_second_stack_with_the_same_names_changes_nothing_of_the_first() {
    let moto = Moto::start();
    let dev = Stack::new(&moto, "dev");
    dev.ok(&["up"]);
    let before = fingerprint(&moto, &dev);
    let prod = Stack::new(&moto, "prod");
    for args in [&["up"][..], &["plan"]] {
        moto.reset_recording();
        let o = prod.run(args);
        let err = stderr_of(&o);
        assert!(!o.status.success(), "prod {args:?} succeeded");
        for needle in [
            "function (aws:lambda:Function",
            "role (aws:iam:Role",
            "log_group (aws:logs:LogGroup",
            "domain (aws:cognito:UserPoolDomain",
            "belongs to stack \"dev\"",
            "name_prefix",
            "Nothing was changed",
        ] {
            assert!(err.contains(needle), "{needle:?} not in: {err}");
        }
        assert_eq!(writes(&moto), vec![], "prod {args:?} wrote");
        assert!(!prod.state_file().exists(), "prod {args:?} wrote a state");
    }
    // The same stack name in another checkout (another state directory):
    // another stack ID, so not the same stack.
    let twin = Stack::new(&moto, "dev");
    moto.reset_recording();
    let o = twin.run(&["up"]);
    assert!(!o.status.success());
    assert!(stderr_of(&o).contains("state claim"), "{}", stderr_of(&o));
    assert_eq!(writes(&moto), vec![]);
    // A `down` with no state (a typo, another checkout) deletes nothing.
    for st in [&prod, &twin, &Stack::new(&moto, "typo")] {
        moto.reset_recording();
        let out = st.ok(&["down", "--yes"]);
        assert!(out.contains("0 resources to delete"), "{out}");
        assert_eq!(writes(&moto), vec![], "down of {} wrote", st.name);
    }
    assert_eq!(before, fingerprint(&moto, &dev));
    // The first stack is whole: a no-op, and its down removes all of it.
    moto.reset_recording();
    let out = dev.ok(&["up"]);
    assert!(out.contains("16 unchanged"), "{out}");
    assert_eq!(writes(&moto), vec![]);
    dev.ok(&["down", "--yes"]);
    assert_none(&moto, &dev);
}

/// A new name_prefix renames everything: the plan shows the replacements
/// (the user pool only with `--unprotect user_pool`: a new pool has none of
/// the old one's users), and after `up` and `down` nothing of either
/// prefix is left, read back from moto.
#[test]
fn a_new_name_prefix_replaces_and_leaves_nothing_of_the_old_names() {
    let moto = Moto::start();
    let before = Stack::new(&moto, "rename").with_prefix("before");
    before.ok(&["up"]);
    let st = Stack {
        prefix: "after".into(),
        ..before
    };
    moto.reset_recording();
    let o = st.run(&["up"]);
    let err = stderr_of(&o);
    assert!(
        !o.status.success(),
        "the pool was replaced without the flag"
    );
    assert!(
        err.contains("user_pool (aws:cognito:UserPool")
            && err.contains("would be replaced")
            && err.contains("--unprotect user_pool"),
        "{err}"
    );
    assert_eq!(writes(&moto), vec![]);
    let plan = st.json(&["plan", "--unprotect", "user_pool"]);
    let actions: BTreeMap<String, String> = busy_steps(&plan)
        .into_iter()
        .map(|(k, (action, _))| (k, action))
        .collect();
    for key in ["user_pool", "role", "function", "log_group", "domain"] {
        assert_eq!(actions[key], "replace", "{key}: {plan}");
    }
    // An API's name changes in place: renamed, not left behind.
    assert_eq!(actions["api"], "update", "{plan}");
    st.ok(&["up", "--unprotect", "user_pool"]);
    assert_no_resources(&moto, "before");
    assert_exactly_one(&moto, &st);
    let out = st.ok(&["up"]);
    assert!(out.contains("16 unchanged"), "{out}");
    st.ok(&["down", "--yes"]);
    assert_none(&moto, &st);
    assert_no_resources(&moto, "before");
}

/// The steps of a `plan --json` that change something: key -> (action, cause).
fn busy_steps(plan: &serde_json::Value) -> BTreeMap<String, (String, String)> {
    plan["plan"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["action"] != "same")
        .map(|s| {
            (
                s["key"].as_str().unwrap().to_string(),
                (
                    s["action"].as_str().unwrap().to_string(),
                    s["cause"].as_str().unwrap_or("none").to_string(),
                ),
            )
        })
        .collect()
}

fn audience(moto: &Moto, st: &Stack) -> Vec<String> {
    rt().block_on(async {
        let s = sdk(&moto.endpoint).await;
        s.apigw
            .get_authorizer()
            .api_id(st.id("api"))
            .authorizer_id(st.id("authorizer"))
            .send()
            .await
            .unwrap()
            .jwt_configuration
            .unwrap()
            .audience
            .unwrap_or_default()
    })
}

fn issuer_env(moto: &Moto) -> Option<String> {
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        s.function("cognito-example")
            .await
            .environment
            .and_then(|e| e.variables)
            .and_then(|v| v.get("EXAMPLE_OIDC_ISSUER_URL").cloned())
    })
}

/// `plan` labels each change: drift (AWS changed since the last apply) or
/// the program; `--target` applies only the named resources and what they
/// need. Both read back from moto.
#[test]
fn drift_labels_and_targeted_runs() {
    let moto = Moto::start();
    let mut st = Stack::new(&moto, "labels");
    st.ok(&["up"]);
    let issuer = issuer_env(&moto).unwrap();
    let right_audience = audience(&moto, &st);
    // Drift: two resources changed outside deployer.
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        s.apigw
            .update_authorizer()
            .api_id(st.id("api"))
            .authorizer_id(st.id("authorizer"))
            .jwt_configuration(
                aws_sdk_apigatewayv2::types::JwtConfiguration::builder()
                    .issuer(&issuer)
                    .audience("someone-else")
                    .build(),
            )
            .send()
            .await
            .unwrap();
        s.lambda
            .update_function_configuration()
            .function_name("cognito-example")
            .environment(
                aws_sdk_lambda::types::Environment::builder()
                    .variables("EXAMPLE_OIDC_ISSUER_URL", "https://evil.example")
                    .build(),
            )
            .send()
            .await
            .unwrap();
    });
    // A program change: another log retention.
    st.extra_config = "log_retention_days = 14\n".into();
    let busy = busy_steps(&st.json(&["plan"]));
    assert_eq!(
        busy,
        [
            (
                "authorizer".to_string(),
                ("update".to_string(), "drift".to_string())
            ),
            (
                "function".to_string(),
                ("update".to_string(), "drift".to_string())
            ),
            (
                "log_group".to_string(),
                ("update".to_string(), "program".to_string())
            ),
        ]
        .into(),
    );
    let text = st.ok(&["plan"]);
    assert!(
        text.contains("drift: changed in AWS since the last apply")
            && text.contains("program changed"),
        "{text}"
    );
    // Targeted: the authorizer and what it needs; nothing else changes.
    let plan = st.json(&["plan", "--target", "authorizer"]);
    assert_eq!(busy_steps(&plan).len(), 1, "{plan}");
    assert!(busy_steps(&plan).contains_key("authorizer"));
    st.ok(&["up", "--target", "authorizer"]);
    assert_eq!(audience(&moto, &st), right_audience);
    assert_eq!(issuer_env(&moto).as_deref(), Some("https://evil.example"));
    let groups = rt().block_on(log_groups(&moto.direct, &st.prefix));
    assert_eq!(
        groups[0].retention_in_days,
        Some(30),
        "the log group was not a target"
    );
    let o = st.run(&["up", "--target", "nope"]);
    assert!(!o.status.success());
    assert!(
        stderr_of(&o).contains("no resource \"nope\""),
        "{}",
        stderr_of(&o)
    );
    // The rest.
    let busy = busy_steps(&st.json(&["plan"]));
    assert_eq!(busy.keys().collect::<Vec<_>>(), ["function", "log_group"]);
    st.ok(&["up"]);
    assert_eq!(issuer_env(&moto), Some(issuer));
    let groups = rt().block_on(log_groups(&moto.direct, &st.prefix));
    assert_eq!(groups[0].retention_in_days, Some(14));
    st.ok(&["down", "--yes"]);
}

/// `deployer import`: a pool made outside the tool joins the stack (tagged
/// as its own); `plan` shows its differences, `up` fixes them and builds
/// the rest inside it. Another stack's resource is refused. Read back.
#[test]
fn import_adopts_a_pool_made_outside_and_refuses_another_stacks() {
    let moto = Moto::start();
    let pool = rt().block_on(async {
        sdk(&moto.direct)
            .await
            .cognito
            .create_user_pool()
            .pool_name("cognito-example")
            .admin_create_user_config(
                aws_sdk_cognitoidentityprovider::types::AdminCreateUserConfigType::builder()
                    .allow_admin_create_user_only(false)
                    .build(),
            )
            .send()
            .await
            .unwrap()
            .user_pool
            .unwrap()
            .id
            .unwrap()
    });
    // Through awsim: it keeps the pool tags moto does not.
    let describe = |id: &str| rt().block_on(async { sdk(&moto.endpoint).await.pool(id).await });
    let st = Stack::new(&moto, "imported");
    let o = st.run(&["import", "user_pol", &pool]);
    assert!(stderr_of(&o).contains("its keys are"), "{}", stderr_of(&o));
    st.ok(&["import", "user_pool", &pool]);
    let stack_id = st.state()["stack_id"].as_str().unwrap().to_string();
    let tags = describe(&pool).user_pool_tags.unwrap();
    assert_eq!(tags["deployer:stack-id"], stack_id);
    let busy = busy_steps(&st.json(&["plan"]));
    assert_eq!(busy["user_pool"].0, "update", "{busy:?}");
    st.ok(&["up"]);
    assert_eq!(st.id("user_pool"), pool);
    let cfg = describe(&pool).admin_create_user_config.unwrap();
    assert!(cfg.allow_admin_create_user_only);
    assert_exactly_one(&moto, &st);

    // Another stack's resource: refused, and left as it was.
    let thief = Stack::new(&moto, "thief").with_prefix("thief");
    let o = thief.run(&["import", "role", "cognito-example-lambda"]);
    assert!(!o.status.success());
    assert!(
        stderr_of(&o).contains("belongs to stack \"imported\""),
        "{}",
        stderr_of(&o)
    );
    assert!(!thief.state_file().exists());
    let role_tags = rt().block_on(async {
        sdk(&moto.direct)
            .await
            .iam
            .list_role_tags()
            .role_name("cognito-example-lambda")
            .send()
            .await
            .unwrap()
            .tags
    });
    assert!(role_tags
        .iter()
        .any(|t| t.key == "deployer:stack-id" && t.value == stack_id));
    st.ok(&["down", "--yes"]);
    assert_none(&moto, &st);
}

fn assert_exactly_one_api_and_clients(moto: &Moto, st: &Stack) {
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        assert_eq!(s.apis_named(&st.prefix).await, vec![st.id("api")]);
        let clients = s.clients_of(st.id("user_pool")).await;
        assert_eq!(clients.len(), 2, "{clients:?}");
    });
}

#[test]
fn the_log_group_is_created_with_its_retention_and_deleted_by_down() {
    let moto = Moto::start();
    let mut st = Stack::new(&moto, "logs");
    st.ok(&["up"]);
    let group = format!("/aws/lambda/{}", st.prefix);
    let retention = || {
        rt().block_on(async {
            let logs = logs_client(&moto.direct).await;
            logs.describe_log_groups()
                .log_group_name_prefix(&group)
                .send()
                .await
                .unwrap()
                .log_groups
                .unwrap_or_default()
                .into_iter()
                .find(|g| g.log_group_name.as_deref() == Some(group.as_str()))
                .map(|g| g.retention_in_days)
        })
    };
    assert_eq!(retention(), Some(Some(30)), "the default retention");
    st.extra_config = "log_retention_days = 7\n".into();
    let out = st.ok(&["up"]);
    assert!(out.contains("log_group"), "{out}");
    assert_eq!(retention(), Some(Some(7)));
    st.ok(&["down", "--yes"]);
    assert_eq!(retention(), None, "down deletes the log group");
    // A group Lambda made itself (no retention, no tags: a late invocation
    // of a deleted function) is nobody's: `up` stops and says to import it;
    // imported, it is brought to the declared retention.
    rt().block_on(async {
        logs_client(&moto.direct)
            .await
            .create_log_group()
            .log_group_name(&group)
            .send()
            .await
            .unwrap();
    });
    let o = st.run(&["up"]);
    assert!(!o.status.success());
    let err = stderr_of(&o);
    assert!(err.contains(&format!("import log_group {group}")), "{err}");
    assert_eq!(retention(), Some(None), "nothing was changed");
    st.ok(&["import", "log_group", &group]);
    st.ok(&["up"]);
    assert_eq!(retention(), Some(Some(7)));
    st.ok(&["down", "--yes"]);
    assert_eq!(retention(), None);
}

/// `deployer logs` reads the function's log group the way Lambda writes it
/// (here written by the test, as moto runs no function).
#[test]
fn logs_reads_the_functions_log_group() {
    let moto = Moto::start();
    let st = Stack::new(&moto, "logs-cmd");
    st.ok(&["up"]);
    let group = format!("/aws/lambda/{}", st.prefix);
    rt().block_on(async {
        let logs = logs_client(&moto.direct).await;
        logs.create_log_stream()
            .log_group_name(&group)
            .log_stream_name("2026/11/25/[$LATEST]abc")
            .send()
            .await
            .unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        let ev = |t: i64, m: &str| {
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(t)
                .message(m)
                .build()
                .unwrap()
        };
        logs.put_log_events()
            .log_group_name(&group)
            .log_stream_name("2026/11/25/[$LATEST]abc")
            .log_events(ev(now - 3_600_000, "an hour ago"))
            .log_events(ev(now - 1000, "START RequestId: r1 Version: $LATEST"))
            .log_events(ev(now - 500, "REPORT RequestId: r1\tDuration: 1.00 ms"))
            .send()
            .await
            .unwrap();
    });
    let out = st.ok(&["logs", "--since", "10m"]);
    assert!(out.contains("START RequestId: r1"), "{out}");
    assert!(out.contains("REPORT RequestId: r1"), "{out}");
    assert!(!out.contains("an hour ago"), "--since 10m: {out}");
    let out = st.ok(&["logs", "--since", "2h"]);
    assert!(out.contains("an hour ago"), "{out}");
    let o = st.run(&["logs", "--since", "soon"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("is not a duration"));
}

/// `deployer logs` of a program of several functions (`examples/fleet.rs`
/// with two): every function's lines merged in time order, each naming its
/// function's key; `logs KEY` (or the function's name) one function only; a
/// key the stack lacks is refused with the keys it has.
#[test]
fn logs_of_every_function_or_of_one() {
    let moto = Moto::start_plain();
    let mut st = Stack::new(&moto, "fleet").with_prefix("lg");
    st.exe = example("fleet");
    st.extra_config = "functions = 2\n".into();
    st.ok(&["up"]);
    rt().block_on(async {
        let logs = logs_client(&moto.direct).await;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        for (i, at) in [(0, now - 2000), (1, now - 1000)] {
            let group = format!("/aws/lambda/lg-fleet-f00{i}");
            logs.create_log_stream()
                .log_group_name(&group)
                .log_stream_name("s")
                .send()
                .await
                .unwrap();
            logs.put_log_events()
                .log_group_name(&group)
                .log_stream_name("s")
                .log_events(
                    aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                        .timestamp(at)
                        .message(format!("line of f{i}"))
                        .build()
                        .unwrap(),
                )
                .send()
                .await
                .unwrap();
        }
    });
    let out = st.ok(&["logs"]);
    let lines: Vec<&str> = out.lines().filter(|l| l.contains("line of")).collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].contains("function/000 line of f0"), "{out}");
    assert!(lines[1].contains("function/001 line of f1"), "{out}");
    let one = st.ok(&["logs", "function/001"]);
    assert!(
        one.contains("line of f1") && !one.contains("line of f0"),
        "{one}"
    );
    let by_name = st.ok(&["logs", "lg-fleet-f000"]);
    assert!(
        by_name.contains("line of f0") && !by_name.contains("line of f1"),
        "{by_name}"
    );
    // Its reader gone before the first line (`deployer logs | head`): it
    // ends quietly, with no panic.
    let mut closed = st
        .cmd(&["logs"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(closed.stdout.take());
    let o = closed.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success() && !err.contains("panicked"), "{err}");
    let o = st.run(&["logs", "function/009"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no function \"function/009\"")
            && err.contains("function/000 (lg-fleet-f000)"),
        "{err}"
    );
    st.ok(&["down", "--yes"]);
}

/// `plan` shows values (old -> new, maps key by key, secrets masked) and
/// `--detailed-exitcode` answers 0 (nothing to do) or 2 (changes pending).
#[test]
fn plan_shows_value_diffs_and_detailed_exit_codes() {
    let moto = Moto::start();
    let mut st = Stack::new(&moto, "planned");
    st.extra_config = "[tags]\nOwner = \"platform\"\n".into();
    st.ok(&["up"]);
    assert_eq!(
        st.run(&["plan", "--detailed-exitcode"]).status.code(),
        Some(0)
    );
    // A tag changed in the config, and the function's secret drifted in AWS.
    st.extra_config = "[tags]\nOwner = \"security\"\n".into();
    let real_secret = rt().block_on(async {
        let s = sdk(&moto.direct).await;
        let f = s
            .lambda
            .get_function_configuration()
            .function_name(&st.prefix)
            .send()
            .await
            .unwrap();
        let mut env = f.environment.unwrap().variables.unwrap();
        let real = env["EXAMPLE_OIDC_CLIENT_SECRET"].clone();
        env.insert("EXAMPLE_OIDC_CLIENT_SECRET".into(), "tampered".into());
        s.lambda
            .update_function_configuration()
            .function_name(&st.prefix)
            .environment(
                aws_sdk_lambda::types::Environment::builder()
                    .set_variables(Some(env))
                    .build(),
            )
            .send()
            .await
            .unwrap();
        real
    });
    let o = st.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(text.contains("tags.Owner: platform -> security"), "{text}");
    assert!(
        text.contains("environment.EXAMPLE_OIDC_CLIENT_SECRET: (sensitive) -> (sensitive)"),
        "{text}"
    );
    assert!(
        !text.contains(&real_secret) && !text.contains("tampered"),
        "{text}"
    );
    let v = st.json(&["plan"]);
    let diffs: Vec<serde_json::Value> = v["plan"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["diffs"].as_array().cloned().unwrap_or_default())
        .collect();
    assert!(
        diffs.iter().any(|d| d["setting"] == "tags.Owner"
            && d["old"] == "platform"
            && d["new"] == "security"),
        "{v}"
    );
    assert!(!v.to_string().contains(&real_secret), "{v}");
    st.ok(&["up"]);
    assert_eq!(
        st.run(&["plan", "--detailed-exitcode"]).status.code(),
        Some(0)
    );
    // An error is 1.
    let o = st
        .cmd(&["plan", "--detailed-exitcode"])
        .env(
            "AWS_ENDPOINT_URL",
            format!("http://127.0.0.1:{}", free_port()),
        )
        .env("AWS_MAX_ATTEMPTS", "1")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
}

/// On a terminal, `up` shows the steps in flight and what they wait for
/// (run under `script`, which gives it a pseudo-terminal).
#[test]
fn live_progress_on_a_terminal_says_what_a_step_waits_for() {
    // Realism at its full windows: the function waits for the new role
    // (4 s) long enough for the progress line to be drawn with the reason.
    let moto = Moto::start_with(Awsim::realism().map(|mut a| {
        a.scale = 1.0;
        a
    }));
    let st = Stack::new(&moto, "tty");
    let cmd = st.cmd(&["up"]);
    let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let mut line = String::from("env");
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            line.push_str(&format!(
                " {}={}",
                k.to_string_lossy(),
                quote(&v.to_string_lossy())
            ));
        }
    }
    line.push(' ');
    line.push_str(&quote(&cmd.get_program().to_string_lossy()));
    for a in cmd.get_args() {
        line.push(' ');
        line.push_str(&quote(&a.to_string_lossy()));
    }
    let o = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains("function: waiting for the role to be assumable by Lambda"),
        "{out}"
    );
    assert!(out.contains("+ create    function"), "{out}");
    assert_exactly_one(&moto, &st);
}

/// A state file written before programs recorded each entry's kind: `up`
/// is a no-op on it (and records the kinds), and an entry the program no
/// longer declares (a user removed from the config) is still deleted.
/// A stack deployed before stack IDs: its state has no `stack_id` and its
/// resources no `deployer:stack-id` tag. Its state records them, so they
/// are its own: `plan` shows the new tags (no ownership error), `up` tags
/// them with the stack's new ID, and `down` deletes everything.
#[test]
fn a_stack_from_before_stack_ids_adopts_what_its_state_records() {
    let moto = Moto::start();
    let st = Stack::new(&moto, "older");
    st.ok(&["up"]);
    let mut v = st.state();
    v.as_object_mut().unwrap().remove("stack_id");
    for (_, e) in v["resources"].as_object_mut().unwrap() {
        e.as_object_mut().unwrap().remove("applied");
    }
    std::fs::write(st.state_file(), serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    let (pool, api, region) = (st.id("user_pool"), st.id("api"), "eu-west-1");
    let acct = "123456789012";
    let untag = vec!["deployer:stack-id".to_string()];
    rt().block_on(async {
        // Through awsim for the pool and the stage (it keeps their tags).
        let s = sdk(&moto.endpoint).await;
        s.cognito
            .untag_resource()
            .resource_arn(format!(
                "arn:aws:cognito-idp:{region}:{acct}:userpool/{pool}"
            ))
            .set_tag_keys(Some(untag.clone()))
            .send()
            .await
            .unwrap();
        for arn in [
            format!("arn:aws:apigateway:{region}::/apis/{api}"),
            format!("arn:aws:apigateway:{region}::/apis/{api}/stages/$default"),
        ] {
            s.apigw
                .untag_resource()
                .resource_arn(arn)
                .set_tag_keys(Some(untag.clone()))
                .send()
                .await
                .unwrap();
        }
        s.iam
            .untag_role()
            .role_name("cognito-example-lambda")
            .set_tag_keys(Some(untag.clone()))
            .send()
            .await
            .unwrap();
        s.lambda
            .untag_resource()
            .resource(format!(
                "arn:aws:lambda:{region}:{acct}:function:cognito-example"
            ))
            .set_tag_keys(Some(untag.clone()))
            .send()
            .await
            .unwrap();
        logs_client(&moto.endpoint)
            .await
            .untag_resource()
            .resource_arn(format!(
                "arn:aws:logs:{region}:{acct}:log-group:/aws/lambda/cognito-example"
            ))
            .set_tag_keys(Some(untag.clone()))
            .send()
            .await
            .unwrap();
    });
    let busy = busy_steps(&st.json(&["plan"]));
    for key in ["user_pool", "api", "stage", "role", "function", "log_group"] {
        assert_eq!(busy[key].0, "update", "{key}: {busy:?}");
    }
    st.ok(&["up"]);
    let id = st.state()["stack_id"].as_str().unwrap().to_string();
    let tags = all_tags(&moto, &st);
    for (kind, t) in &tags {
        assert_eq!(t.get("deployer:stack-id"), Some(&id), "{kind}: {t:?}");
    }
    st.ok(&["down", "--yes"]);
    assert_none(&moto, &st);
}

#[test]
fn a_state_without_kinds_keeps_working() {
    let moto = Moto::start();
    let mut st = Stack::new(&moto, "legacy");
    st.extra_config = "[[users]]\nname = \"alice\"\npassword = \"HeyH0Password!\"\nattributes = { email = \"alice@example.com\" }\n[[users]]\nname = \"bob\"\npassword = \"HeyH0Password!\"\n".into();
    st.ok(&["up"]);
    let state = st.state();
    assert_eq!(state["resources"]["user/bob"]["kind"], "aws:cognito:User");
    assert_eq!(state["resources"]["user/bob"]["parent"], "user_pool");
    assert_eq!(state["resources"]["permission"]["parent"], "function");
    // Strip what programs add: the state of earlier versions.
    let strip = |st: &Stack| {
        let mut v = st.state();
        for (_, e) in v["resources"].as_object_mut().unwrap() {
            let e = e.as_object_mut().unwrap();
            e.remove("kind");
            e.remove("parent");
        }
        std::fs::write(st.state_file(), serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    };
    strip(&st);
    moto.reset_recording();
    let out = st.ok(&["up"]);
    assert!(out.contains("17 unchanged"), "{out}");
    assert!(moto.recorded().iter().all(|(_, m)| !m), "no writes");
    assert_eq!(
        st.state()["resources"]["api"]["kind"],
        "aws:apigatewayv2:Api"
    );
    // bob leaves the config; his entry has no kind: the legacy table says.
    strip(&st);
    st.extra_config = "[[users]]\nname = \"alice\"\npassword = \"HeyH0Password!\"\nattributes = { email = \"alice@example.com\" }\n".into();
    let plan = st.ok(&["plan"]);
    assert!(plan.contains("user/bob"), "{plan}");
    st.ok(&["up"]);
    let pool = st.id("user_pool");
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        let r = s
            .cognito
            .admin_get_user()
            .user_pool_id(&pool)
            .username("bob")
            .send()
            .await;
        assert!(r.is_err(), "bob was deleted");
        let alice = s
            .cognito
            .admin_get_user()
            .user_pool_id(&pool)
            .username("alice")
            .send()
            .await;
        assert!(alice.is_ok(), "alice stays");
    });
    assert!(st.state()["resources"].get("user/bob").is_none());
    st.ok(&["down", "--yes"]);
    assert_none(&moto, &st);
}

/// `up --watch`: a change to the handler crate is rebuilt (dev profile) and
/// only the function's code is redeployed; a syntax error changes nothing.
#[test]
fn up_watch_redeploys_the_functions_code() {
    use std::io::BufRead;
    let moto = Moto::start();
    let st = Stack::new(&moto, "watch");
    let copy = handler_copy();
    let mut c = st.cmd(&["up", "--watch"]);
    builds_in(&mut c, &copy)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    let said = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let err = std::io::BufReader::new(child.stderr.take().unwrap());
    let said2 = said.clone();
    std::thread::spawn(move || {
        for l in err.lines().map_while(Result::ok) {
            eprintln!("[up --watch] {l}");
            said2.lock().unwrap().push(l);
        }
    });
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _child = Kill(child);
    let wait_for = |what: &str| {
        let t0 = std::time::Instant::now();
        while !said.lock().unwrap().iter().any(|l| l.contains(what)) {
            // A failed build is said at once; the watch then waits for a
            // change that never comes.
            let failed = said.lock().unwrap().iter().any(|l| l.starts_with("error"));
            assert!(
                !failed,
                "failed before {what:?}: {:?}",
                said.lock().unwrap()
            );
            assert!(
                t0.elapsed() < std::time::Duration::from_secs(900),
                "never said {what:?}: {:?}",
                said.lock().unwrap()
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    };
    wait_for("watching");
    let sha = || {
        rt().block_on(async {
            let s = sdk(&moto.direct).await;
            s.function(&st.prefix).await.code_sha256.unwrap()
        })
    };
    let first = sha();
    let pool = st.id("user_pool");
    let lib = copy.path().join("handler/src/lib.rs");
    let src = std::fs::read_to_string(&lib).unwrap();
    let line = "body.insert(\"redirectURL\".into(), json!(cfg.redirect_url));";
    std::fs::write(
        &lib,
        src.replace(
            line,
            &format!("{line} body.insert(\"v\".into(), json!(2));"),
        ),
    )
    .unwrap();
    moto.reset_recording();
    wait_for("redeployed in");
    let second = sha();
    assert_ne!(first, second, "the new code is deployed");
    let writes: Vec<String> = moto
        .recorded()
        .into_iter()
        .filter(|(_, m)| *m)
        .map(|(op, _)| op)
        .collect();
    assert!(
        !writes.is_empty() && writes.iter().all(|op| op.contains("functions")),
        "only the function's code changes: {writes:?}"
    );
    assert_eq!(st.id("user_pool"), pool);
    std::fs::write(
        &lib,
        format!(
            "{}\nfn broken( {{\n",
            std::fs::read_to_string(&lib).unwrap()
        ),
    )
    .unwrap();
    wait_for("the build failed");
    assert_eq!(sha(), second, "a failed build changes nothing");
}

/// A role deleted and made again under the same name (outside the tool) has
/// another unique ID; Lambda's grant names the old one. `up` sees the new
/// RoleId and updates the function's configuration, which grants the new
/// role; the state records the RoleId the function was configured with.
#[test]
fn a_role_made_again_outside_the_tool_updates_the_function() {
    let moto = Moto::start_plain();
    let st = Stack::new(&moto, "roleid").with_prefix("roleid");
    st.ok(&["up"]);
    let role = "roleid-lambda";
    let old_id = st.state()["resources"]["function"]["outputs"]["role_id"]
        .as_str()
        .unwrap_or_else(|| {
            panic!(
                "no role_id recorded: {}",
                st.state()["resources"]["function"]
            )
        })
        .to_string();
    let new_id = rt().block_on(async {
        let s = sdk(&moto.direct).await;
        let policy = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";
        s.iam
            .detach_role_policy()
            .role_name(role)
            .policy_arn(policy)
            .send()
            .await
            .unwrap();
        s.iam.delete_role().role_name(role).send().await.unwrap();
        let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        s.iam
            .create_role()
            .role_name(role)
            .assume_role_policy_document(trust)
            .send()
            .await
            .unwrap()
            .role
            .unwrap()
            .role_id
    });
    assert_ne!(old_id, new_id);
    let plan = st.ok(&["plan"]);
    assert!(plan.contains("role_id"), "{plan}");
    moto.reset_recording();
    st.ok(&["up"]);
    let writes: Vec<String> = moto
        .recorded()
        .into_iter()
        .filter(|(_, m)| *m)
        .map(|(op, _)| op)
        .collect();
    assert!(
        writes
            .iter()
            .any(|op| op.starts_with("PUT") && op.ends_with("/configuration")),
        "the function's configuration was not updated: {writes:?}"
    );
    assert_eq!(
        st.state()["resources"]["function"]["outputs"]["role_id"],
        new_id.as_str()
    );
    // Converged.
    moto.reset_recording();
    st.ok(&["up"]);
    assert!(moto.recorded().iter().all(|(_, m)| !m));
    st.ok(&["down", "--yes"]);
}
