//! A user's own stack: `examples/hello_api.rs` (a Lambda behind an HTTP
//! API, no Cognito, a setting of its own, under 60 lines) deployed by its own binary through the
//! library's CLI entry point, against moto behind the AWS-behaviour layer:
//! create, a no-op with zero writes, a change shown as a value diff, down
//! leaving nothing.

use crate::common;
use common::*;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A program's command that builds its functions' crates in `copy` (dev
/// profile): its stdout; it must succeed.
fn run_built(st: &Stack, copy: &tempfile::TempDir, args: &[&str]) -> String {
    let o = builds_in(&mut st.cmd(args), copy)
        .env("DEPLOYER_DEV_BUILD", "true")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{args:?}: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn hello_api() -> PathBuf {
    example("hello_api")
}

#[test]
fn hello_api_program_create_noop_change_down() {
    assert!(
        std::fs::read_to_string(project_dir().join("examples/hello_api.rs"))
            .unwrap()
            .lines()
            .count()
            < 60
    );
    let moto = Moto::start();
    let mut st = Stack::new(&moto, "hello").with_prefix("mine");
    st.exe = hello_api();
    // Its function is the `echo` crate, built with the dev loop's profile.
    st.env = vec![("DEPLOYER_DEV_BUILD".into(), "true".into())];
    let name = "mine-hello";

    // Create: exactly what the program declares, in AWS (moto).
    let out = st.json(&["up"]);
    assert_eq!(out["report"]["steps"].as_array().unwrap().len(), 8, "{out}");
    let url = out["outputs"]["url"].as_str().unwrap().to_string();
    let api_id = st.id("api");
    assert!(url.contains(&api_id) && url.ends_with("/hello"), "{url}");
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        let c = s.function(name).await;
        let env = c.environment.unwrap().variables.unwrap();
        assert_eq!(env["GREETING"], "hello");
        assert!(env["PUBLIC_URL"].contains(&api_id));
        assert!(c.role.unwrap().ends_with(&format!(":role/{name}-lambda")));
        let routes = s.apigw.get_routes().api_id(&api_id).send().await.unwrap();
        let keys: Vec<_> = routes
            .items
            .unwrap()
            .into_iter()
            .map(|r| (r.route_key.unwrap(), r.target.unwrap()))
            .collect();
        assert_eq!(
            keys,
            [(
                "GET /hello".to_string(),
                format!("integrations/{}", st.id("integration"))
            )]
        );
        let policy = s
            .lambda
            .get_policy()
            .function_name(name)
            .send()
            .await
            .unwrap();
        assert!(policy.policy.unwrap().contains(&format!("{api_id}/*/*")));
        assert_eq!(s.apis_named(name).await.len(), 1);
        assert!(s.pools_named(name).await.is_empty(), "no Cognito here");
        let groups = log_groups(&moto.direct, name).await;
        assert_eq!(groups.len(), 1, "{groups:?}");
    });
    assert_eq!(
        st.state()["resources"]["route/hello"]["kind"],
        "aws:apigatewayv2:Route"
    );

    // No-op: reads only.
    moto.reset_recording();
    let out = st.ok(&["up"]);
    let writes = moto.writes();
    assert!(writes.is_empty(), "a no-op made writes: {writes:?}");
    assert!(out.contains("8 unchanged"), "{out}");

    // The program's own setting, from the config file: a key neither
    // deployer nor the program knows is named with the file, before any
    // change.
    st.extra_config = "greting = \"bonjour\"\n".into();
    let o = st.run(&["up"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(
        err.contains("unknown key `greting`") && err.contains("deployer.toml"),
        "{err}"
    );
    // A change of it: the plan shows the value diff, up applies only that.
    st.extra_config = "greeting = \"bonjour\"\n".into();
    let p = st.cmd(&["plan", "--detailed-exitcode"]).output().unwrap();
    let text = String::from_utf8_lossy(&p.stdout);
    assert_eq!(p.status.code(), Some(2), "{text}");
    assert!(
        text.contains("environment.GREETING") && text.contains("hello") && text.contains("bonjour"),
        "{text}"
    );
    let o = st.cmd(&["up", "--json"]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rep: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(changes(&rep), ["update function"]);
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        assert_eq!(s.environment(name).await["GREETING"], "bonjour");
    });

    // A route added, then dropped from the program: the next `up` deletes
    // it (by its ID, through its kind's provider), the other one stays.
    let routes = |st: &Stack| {
        rt().block_on(async {
            let s = sdk(&moto.direct).await;
            let mut keys: Vec<String> = s
                .routes(st.id("api"))
                .await
                .into_iter()
                .map(|r| r.route_key.unwrap())
                .collect();
            keys.sort();
            keys
        })
    };
    st.extra_config = "greeting = \"bonjour\"\npaths = [\"/hello\", \"/hi\"]\n".into();
    st.ok(&["up"]);
    assert_eq!(routes(&st), ["GET /hello", "GET /hi"]);
    st.extra_config = "greeting = \"bonjour\"\n".into();
    let out = st.json(&["up"]);
    assert_eq!(changes(&out), ["delete route/hi"], "{out}");
    assert_eq!(routes(&st), ["GET /hello"]);

    // Down: nothing left.
    assert!(st.run(&["down", "--yes"]).status.success());
    assert!(!st.state_file().exists());
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        assert!(s.apis_named(name).await.is_empty());
        assert!(!s.function_exists(name).await);
        assert!(s
            .iam
            .get_role()
            .role_name(format!("{name}-lambda"))
            .send()
            .await
            .is_err());
        let groups = log_groups(&moto.direct, name).await;
        assert!(groups.is_empty(), "{groups:?}");
    });
}

/// `examples/two_apis.rs`: two APIs, each behind a JWT authorizer on a
/// pool of its own, one function behind both. Create (each authorizer's
/// issuer its own pool's, each output URL its own API's endpoint), a no-op
/// with zero writes, a change, down leaving nothing.
#[test]
fn two_apis_program_create_noop_change_down() {
    let moto = Moto::start();
    let mut st = Stack::new(&moto, "doors").with_prefix("mine");
    st.exe = example("two_apis");
    st.env = vec![("DEPLOYER_DEV_BUILD".into(), "true".into())];
    let name = "mine-doors";
    let out = st.json(&["up"]);
    assert_eq!(
        out["report"]["steps"].as_array().unwrap().len(),
        23,
        "{out}"
    );
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        for door in ["shop", "admin"] {
            let (api, pool) = (
                st.id(&format!("{door}/api")),
                st.id(&format!("{door}/pool")),
            );
            assert_eq!(
                s.apis_named(&format!("{name}-{door}")).await,
                vec![api.clone()]
            );
            assert_eq!(
                s.pools_named(&format!("{name}-{door}")).await,
                vec![pool.clone()]
            );
            let url = out["outputs"][format!("{door}_url")].as_str().unwrap();
            assert!(url.contains(&api) && url.ends_with("/whoami"), "{url}");
            let a = s
                .apigw
                .get_authorizer()
                .api_id(&api)
                .authorizer_id(st.id(&format!("{door}/authorizer")))
                .send()
                .await
                .unwrap();
            let jwt = a.jwt_configuration.unwrap();
            assert!(jwt.issuer.unwrap().ends_with(&format!("/{pool}")));
            let client = st.id(&format!("{door}/client"));
            assert_eq!(jwt.audience.unwrap(), [client]);
            let routes = s.routes(&api).await;
            assert_eq!(routes.len(), 1);
            assert_eq!(
                routes[0].authorization_scopes.clone().unwrap(),
                [format!("{door}/use")]
            );
        }
    });
    moto.reset_recording();
    let out = st.ok(&["up"]);
    assert!(
        moto.writes().is_empty(),
        "a no-op made writes: {:?}",
        moto.writes()
    );
    assert!(out.contains("23 unchanged"), "{out}");
    let p = st.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(
        p.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&p.stdout)
    );
    st.extra_config = "greeting = \"bonjour\"\n".into();
    let rep = st.json(&["up"]);
    assert_eq!(changes(&rep), ["update function"]);
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        assert_eq!(s.environment(name).await["GREETING"], "bonjour");
    });
    assert!(st.run(&["down", "--yes"]).status.success());
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        for door in ["shop", "admin"] {
            assert!(s.apis_named(&format!("{name}-{door}")).await.is_empty());
            assert!(s.pools_named(&format!("{name}-{door}")).await.is_empty());
        }
        assert!(!s.function_exists(name).await);
    });
}

fn log_group_tags_of(moto: &Moto, name: &str) -> Option<BTreeMap<String, String>> {
    rt().block_on(log_group_tags(&moto.direct, name))
}

fn pool_named(moto: &Moto, name: &str) -> Vec<String> {
    rt().block_on(async { sdk(&moto.direct).await.pools_named(name).await })
}

/// `examples/keep_data.rs`: a protected pool and a retained log group.
/// `down`, and a plan that would replace the pool, stop before any change
/// and name `--unprotect pool`; with it, `down` deletes the pool and leaves
/// the log group in AWS without its deployer tags. Read back from moto.
#[test]
fn protect_and_retain_on_delete() {
    let moto = Moto::start();
    let mut st = Stack::new(&moto, "keep").with_prefix("kept");
    st.exe = example("keep_data");
    st.ok(&["up"]);
    let p = st.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(
        p.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&p.stdout)
    );
    let pool = st.id("pool");
    assert_eq!(pool_named(&moto, "kept-keep"), vec![pool.clone()]);
    let tags = log_group_tags_of(&moto, "kept-keep").expect("the log group");
    assert_eq!(tags.get("deployer:stack").map(String::as_str), Some("keep"));

    // A plan or up that would replace the pool (a new name) stops.
    let renamed = Stack {
        prefix: "renamed".into(),
        ..st
    };
    for args in [&["plan"][..], &["up"]] {
        moto.reset_recording();
        let o = renamed.run(args);
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        assert!(!o.status.success(), "{args:?} replaced a protected pool");
        assert!(
            err.contains("pool (aws:cognito:UserPool")
                && err.contains("would be replaced")
                && err.contains("--unprotect pool"),
            "{err}"
        );
        let writes = moto.writes();
        assert!(writes.is_empty(), "{args:?} wrote: {writes:?}");
    }
    assert!(pool_named(&moto, "renamed-keep").is_empty());
    let st = Stack {
        prefix: "kept".into(),
        ..renamed
    };

    // Down stops at the protected pool; nothing is deleted.
    let o = st.run(&["down", "--yes"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("would be deleted") && err.contains("--unprotect pool"),
        "{err}"
    );
    assert_eq!(pool_named(&moto, "kept-keep"), vec![pool.clone()]);
    assert!(log_group_tags_of(&moto, "kept-keep").is_some());
    // A key the stack does not have is refused, naming the keys.
    let o = st.run(&["down", "--yes", "--unprotect", "pol"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("logs, pool"));

    // With the flag: the pool goes, the log group stays, released.
    let out = st.ok(&["down", "--yes", "--unprotect", "pool"]);
    assert!(out.contains("retained"), "{out}");
    assert!(pool_named(&moto, "kept-keep").is_empty());
    let tags = log_group_tags_of(&moto, "kept-keep").expect("the retained log group");
    assert!(
        !tags.contains_key("deployer:stack") && !tags.contains_key("deployer:stack-id"),
        "{tags:?}"
    );
    assert_eq!(tags.get("Project").map(String::as_str), Some("kept"));
    assert!(!st.state_file().exists());
}

/// What AWS would refuse and can be known before any call is refused by
/// `plan` and by `up` before the first change, with the reason: on a new
/// account (awsim's account with 10 concurrent executions in all, as
/// Lambda gives a new one), `/echo`'s reservation of 5 would leave 5
/// unreserved where Lambda keeps 10. Without the reservation (the
/// example's default) the same account takes the stack.
#[test]
fn plan_refuses_a_reservation_the_account_cannot_give() {
    let copy = handler_copy();
    let mut a = Awsim::realism().expect("awsim");
    a.extra = vec!["--account-concurrency".into(), "10".into()];
    let moto = Moto::start_with(Some(a));
    let mut st = Stack::new(&moto, "two").with_prefix("fresh");
    st.exe = example("two_functions");
    st.extra_config = "echo_reserved = 5\n".into();
    for args in [&["plan"][..], &["up"][..]] {
        let o = builds_in(&mut st.cmd(args), &copy)
            .env("DEPLOYER_DEV_BUILD", "true")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?} passed: {err}");
        for part in [
            "AWS would refuse this program (nothing was changed)",
            "reserves 5 more concurrent executions (function/echo +5)",
            "the account has 10 unreserved and Lambda keeps at least 10 unreserved",
        ] {
            assert!(err.contains(part), "{args:?}: {part:?} not in {err}");
        }
    }
    // Nothing was made.
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        assert!(!s.function_exists("fresh-two-echo").await);
        assert!(s.pools_named("fresh-two").await.is_empty());
    });
    st.extra_config = String::new();
    run_built(&st, &copy, &["up"]);
    run_built(&st, &copy, &["down", "--yes"]);
}

/// UpdateUserPool resets every setting it is not sent (awsim's rule 10,
/// moto's own behaviour): what was set on the pool elsewhere (ACR levels,
/// the key and issuer configuration, an inbound federation trigger, threat
/// protection's additional flows) survives deployer's UpdateUserPool of
/// the settings it manages (issue 32 item 6).
#[test]
fn a_pools_update_keeps_what_was_set_elsewhere() {
    use aws_sdk_cognitoidentityprovider::types as ct;
    let copy = handler_copy();
    let moto = Moto::start();
    let mut st = Stack::new(&moto, "claims").with_prefix("kept");
    st.exe = example("claims");
    run_built(&st, &copy, &["up"]);
    let pool_id = st.id("pool");
    let arn = rt().block_on(async {
        // Through awsim, as AWS takes it (moto alone would also reset what
        // is fixed at creation).
        let s = sdk(&moto.endpoint).await;
        let p = s.pool(&pool_id).await;
        let mut lc = p.lambda_config.clone().expect("the trigger");
        let arn = lc
            .pre_token_generation
            .clone()
            .or(lc
                .pre_token_generation_config
                .as_ref()
                .map(|c| c.lambda_arn.clone()))
            .expect("the trigger's function");
        lc.inbound_federation = Some(
            ct::InboundFederationLambdaType::builder()
                .lambda_version(ct::InboundFederationLambdaVersionType::V10)
                .lambda_arn(&arn)
                .build()
                .unwrap(),
        );
        // Made elsewhere (the console, another tool): one UpdateUserPool
        // with these; moto resets the rest, which `up` then puts back.
        s.cognito
            .update_user_pool()
            .user_pool_id(&pool_id)
            .lambda_config(lc)
            .acr_configuration(
                "Level2",
                ct::AcrLevelConfigType::builder()
                    .acr_value("urn:example:mfa")
                    .build()
                    .unwrap(),
            )
            .key_configuration(
                ct::KeyConfigurationType::builder()
                    .key_type(ct::EncryptionKeyType::AwsOwnedKey)
                    .build(),
            )
            .issuer_configuration(
                ct::IssuerConfigurationType::builder()
                    .r#type(ct::IssuerType::Updated)
                    .build(),
            )
            .user_pool_add_ons(
                ct::UserPoolAddOnsType::builder()
                    .advanced_security_mode(ct::AdvancedSecurityModeType::Audit)
                    .advanced_security_additional_flows(
                        ct::AdvancedSecurityAdditionalFlowsType::builder()
                            .custom_auth_mode(ct::AdvancedSecurityEnabledModeType::Audit)
                            .build(),
                    )
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        arn
    });
    // The program drops its trigger: `up` updates the pool's LambdaConfig
    // (and puts back what the direct call reset).
    st.extra_config = "no_trigger = true\n".into();
    run_built(&st, &copy, &["up"]);
    rt().block_on(async {
        let p = sdk(&moto.direct).await.pool(&pool_id).await;
        let lc = p.lambda_config.clone().unwrap_or_else(|| panic!("{p:?}"));
        assert_eq!(
            lc.pre_token_generation, None,
            "the program's change: {lc:?}"
        );
        assert_eq!(lc.pre_token_generation_config, None, "{lc:?}");
        assert_eq!(
            lc.inbound_federation
                .as_ref()
                .map(|f| f.lambda_arn.as_str()),
            Some(arn.as_str()),
            "the inbound federation trigger was reset: {p:?}"
        );
        let acr = p.acr_configuration.clone().unwrap_or_default();
        assert_eq!(
            acr.get("Level2").map(|a| a.acr_value.as_str()),
            Some("urn:example:mfa"),
            "ACR levels reset: {p:?}"
        );
        assert_eq!(
            p.key_configuration
                .as_ref()
                .and_then(|k| k.key_type.clone()),
            Some(ct::EncryptionKeyType::AwsOwnedKey),
            "key configuration reset: {p:?}"
        );
        assert_eq!(
            p.issuer_configuration
                .as_ref()
                .and_then(|i| i.r#type.clone()),
            Some(ct::IssuerType::Updated),
            "issuer configuration reset: {p:?}"
        );
        let addons = p
            .user_pool_add_ons
            .clone()
            .unwrap_or_else(|| panic!("add-ons reset: {p:?}"));
        assert_eq!(
            addons.advanced_security_mode,
            ct::AdvancedSecurityModeType::Audit
        );
        assert_eq!(
            addons
                .advanced_security_additional_flows
                .and_then(|f| f.custom_auth_mode),
            Some(ct::AdvancedSecurityEnabledModeType::Audit),
            "additional flows reset"
        );
    });
    run_built(&st, &copy, &["down", "--yes"]);
}

/// A callback URL Cognito refuses (plain http to a host other than
/// localhost) is refused by `plan` with the reason, before any call that
/// changes anything; awsim refuses the same at apply (its rule 20).
#[test]
fn plan_refuses_a_callback_url_cognito_refuses() {
    let copy = handler_copy();
    let moto = Moto::start();
    let mut st = Stack::new(&moto, "claims").with_prefix("cb");
    st.exe = example("claims");
    st.extra_config = "web_callback = \"http://app.example.com/callback\"\n".into();
    let o = builds_in(&mut st.cmd(&["plan"]), &copy)
        .env("DEPLOYER_DEV_BUILD", "true")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "plan passed: {err}");
    for part in [
        "AWS would refuse this program (nothing was changed)",
        "`client/web` (web): callback URL \"http://app.example.com/callback\" is plain http",
        "Use https, or http only to localhost",
    ] {
        assert!(err.contains(part), "{part:?} not in {err}");
    }
    rt().block_on(async {
        assert!(sdk(&moto.direct)
            .await
            .pools_named("cb-claims")
            .await
            .is_empty());
    });
}

/// `examples/two_functions.rs`, a small service: two functions with code of
/// their own (the `handler` and `echo` crates of a copy of the workspace,
/// built in one cargo-lambda invocation) behind one API with a Cognito JWT
/// authorizer on `/echo`, read back from moto with different CodeSha256,
/// the authorizer and each route's authorization; a no-op makes no write (unchanged crates build the same
/// bytes); a change to one crate updates that function's code only; a
/// group's setting is updated in place; `down` leaves nothing.
#[test]
fn two_functions_with_code_of_their_own() {
    let copy = handler_copy();
    let moto = Moto::start();
    let mut st = Stack::new(&moto, "two").with_prefix("mine");
    st.exe = example("two_functions");
    // `/echo` reserves 5 (awsim's account: 1000 in all, as an account past
    // its first days).
    let base = "echo_reserved = 5\n";
    st.extra_config = base.into();
    let run = |st: &Stack, args: &[&str]| run_built(st, &copy, args);
    let code = |f: &str| {
        rt().block_on(async { sdk(&moto.direct).await.function(f).await.code_sha256 })
            .unwrap()
    };
    let (hello, echo) = ("mine-two-hello", "mine-two-echo");

    let out: serde_json::Value = serde_json::from_str(run(&st, &["up", "--json"]).trim()).unwrap();
    assert!(out["outputs"]["echo_url"]
        .as_str()
        .unwrap()
        .ends_with("/echo"));
    let (hello_sha, echo_sha) = (code(hello), code(echo));
    assert_ne!(hello_sha, echo_sha, "two crates, two codes");
    // One API, one JWT authorizer (the pool's issuer, the client as
    // audience): `/echo` behind it with the scope, `/hello` open.
    let (api, pool, client) = (st.id("api"), st.id("pool"), st.id("client"));
    assert_eq!(out["outputs"]["client_id"], client.as_str());
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        let auth = s
            .apigw
            .get_authorizer()
            .api_id(&api)
            .authorizer_id(st.id("authorizer"))
            .send()
            .await
            .unwrap();
        let jwt = auth.jwt_configuration.unwrap();
        assert!(jwt.issuer.unwrap().ends_with(&format!("/{pool}")));
        assert_eq!(jwt.audience.unwrap(), vec![client.clone()]);
        let mut routes: Vec<_> = s
            .routes(&api)
            .await
            .into_iter()
            .map(|r| {
                (
                    r.route_key.unwrap(),
                    r.authorization_type.map(|a| a.as_str().to_string()),
                    r.authorizer_id,
                    r.authorization_scopes.unwrap_or_default(),
                )
            })
            .collect();
        routes.sort();
        assert_eq!(
            routes,
            [
                (
                    "GET /echo".to_string(),
                    Some("JWT".to_string()),
                    Some(st.id("authorizer")),
                    vec!["two/echo".to_string()]
                ),
                (
                    "GET /hello".to_string(),
                    Some("NONE".to_string()),
                    None,
                    vec![]
                ),
                (
                    "GET /internal".to_string(),
                    Some("CUSTOM".to_string()),
                    Some(st.id("authorizer/key")),
                    vec![]
                )
            ]
        );
        // `/internal`'s Lambda authorizer: the gate function by its
        // invocation URI, and the function's policy lets API Gateway invoke
        // it from that authorizer only.
        let gate = s.lambda.get_function().function_name("mine-two-gate");
        let gate = gate.send().await.unwrap().configuration.unwrap();
        let gate_arn = gate.function_arn.unwrap();
        assert_eq!(
            key_authorizer(&s.apigw, &api, &st.id("authorizer/key")).await,
            key_declared(&gate_arn)
        );
        let policy = s.policy("mine-two-gate").await;
        let from = format!("/authorizers/{}\"", st.id("authorizer/key"));
        assert!(policy.contains(&from), "{from} in {policy}");
        let c = s.client(&pool, &client).await;
        assert_eq!(c.allowed_o_auth_scopes.clone().unwrap(), ["two/echo"]);
        // 30 minutes, in the unit deployer sends.
        let unit = c
            .token_validity_units
            .as_ref()
            .and_then(|u| u.access_token.clone());
        assert_eq!(
            (
                c.access_token_validity,
                unit.map(|u| u.as_str().to_string())
            ),
            (Some(30), Some("minutes".to_string()))
        );
        // The refresh token, not declared, keeps Cognito's 30 days: no unit
        // is sent without its value (minutes would make it 30 minutes,
        // below AWS's minimum of 60).
        let refresh_unit = c
            .token_validity_units
            .as_ref()
            .and_then(|u| u.refresh_token.clone())
            .map(|u| u.as_str().to_string());
        assert_eq!(
            (
                c.refresh_token_validity,
                refresh_unit.as_deref().unwrap_or("days")
            ),
            (30, "days")
        );
        assert_eq!(client_access(&c), client_declared());
        assert_eq!(
            c.prevent_user_existence_errors
                .map(|p| p.as_str().to_string())
                .as_deref(),
            Some("ENABLED")
        );
        let g = s
            .cognito
            .get_group()
            .user_pool_id(&pool)
            .group_name("operators")
            .send()
            .await
            .unwrap()
            .group
            .unwrap();
        assert_eq!(
            (g.description.as_deref(), g.precedence),
            (Some("People who run the service"), Some(1))
        );
    });
    // What moto holds is what was built: each crate's dev zip.
    let built = |bin: &str| {
        let zip = std::fs::read(
            project_dir()
                .join("target/lambda-build")
                .join(format!("{bin}-x86_64-dev.zip")),
        )
        .unwrap();
        deployer::package::code_sha256(&zip)
    };
    assert_eq!(
        (built("handler"), built("echo")),
        (hello_sha.clone(), echo_sha.clone())
    );

    // The API's settings: CORS (headers compare without regard to case)
    // and description, as declared.
    let api_settings = || {
        rt().block_on(async {
            let a = sdk(&moto.direct)
                .await
                .apigw
                .get_api()
                .api_id(&api)
                .send()
                .await
                .unwrap();
            let cors = a.cors_configuration.map(|c| {
                let mut headers = c.allow_headers.unwrap_or_default();
                headers.iter_mut().for_each(|h| *h = h.to_lowercase());
                headers.sort();
                (
                    c.allow_origins.unwrap_or_default(),
                    c.allow_methods.unwrap_or_default(),
                    headers,
                    c.max_age,
                )
            });
            (a.description, cors)
        })
    };
    let declared = (
        Some("Two functions behind one JWT authorizer".to_string()),
        Some((
            vec!["https://two.example".to_string()],
            vec!["GET".to_string()],
            vec!["authorization".to_string(), "content-type".to_string()],
            Some(300),
        )),
    );
    assert_eq!(api_settings(), declared);

    // The pool's settings: sign-in by email, verified; the password
    // policy; optional TOTP; recovery by email; no deletion protection.
    let pool_settings = || {
        rt().block_on(async {
            let p = sdk(&moto.direct).await.pool(&pool).await;
            let pw = p.policies.clone().unwrap().password_policy.unwrap();
            let names = |v: Vec<String>| v.join(",");
            (
                names(
                    p.username_attributes()
                        .iter()
                        .map(|a| a.as_str().to_string())
                        .collect(),
                ),
                names(
                    p.auto_verified_attributes()
                        .iter()
                        .map(|a| a.as_str().to_string())
                        .collect(),
                ),
                (pw.minimum_length, pw.require_symbols, pw.require_numbers),
                p.mfa_configuration.map(|m| m.as_str().to_string()),
                p.account_recovery_setting.map(|r| {
                    names(
                        r.recovery_mechanisms()
                            .iter()
                            .map(|m| m.name.as_str().to_string())
                            .collect(),
                    )
                }),
                p.deletion_protection.map(|d| d.as_str().to_string()),
            )
        })
    };
    // The echo function's settings (read through awsim: moto drops the
    // logging configuration and ignores some updates; awsim keeps them).
    let echo_settings = || {
        rt().block_on(async {
            let f = sdk(&moto.endpoint)
                .await
                .lambda
                .get_function()
                .function_name(echo)
                .send()
                .await
                .unwrap();
            let c = f.configuration.unwrap();
            let l = c.logging_config.unwrap();
            (
                c.description,
                c.ephemeral_storage.map(|e| e.size),
                f.concurrency.and_then(|x| x.reserved_concurrent_executions),
                c.tracing_config
                    .and_then(|t| t.mode)
                    .map(|m| m.as_str().to_string()),
                l.log_format.map(|f| f.as_str().to_string()),
                l.application_log_level.map(|a| a.as_str().to_string()),
                l.log_group,
            )
        })
    };
    let echo_declared = (
        Some("Echoes the request".to_string()),
        Some(1024),
        Some(5),
        Some("Active".to_string()),
        Some("JSON".to_string()),
        Some("INFO".to_string()),
        Some("/aws/lambda/mine-two-echo".to_string()),
    );
    assert_eq!(echo_settings(), echo_declared);
    // The role's settings.
    let role_settings = || {
        rt().block_on(async {
            let iam = sdk(&moto.direct).await.iam;
            let r = iam.get_role().role_name("mine-two-lambda").send().await;
            let r = r.unwrap().role.unwrap();
            let boundary = r
                .permissions_boundary
                .and_then(|b| b.permissions_boundary_arn);
            (r.path, r.description, r.max_session_duration, boundary)
        })
    };
    let role_declared = (
        "/".to_string(),
        Some("Runs the two functions".to_string()),
        Some(7200),
        Some("arn:aws:iam::aws:policy/PowerUserAccess".to_string()),
    );
    assert_eq!(role_settings(), role_declared);
    let integration_settings = || {
        rt().block_on(async {
            let apigw = sdk(&moto.direct).await.apigw;
            let i = apigw
                .get_integration()
                .api_id(&api)
                .integration_id(st.id("integration/echo"));
            let i = i.send().await.unwrap();
            (i.timeout_in_millis, i.description, i.payload_format_version)
        })
    };
    let integration_declared = (
        Some(10_000),
        Some("GET /echo".to_string()),
        Some("2.0".to_string()),
    );
    assert_eq!(integration_settings(), integration_declared);
    let pool_declared = (
        "email".to_string(),
        "email".to_string(),
        (Some(12), false, true),
        Some("OPTIONAL".to_string()),
        Some("verified_email".to_string()),
        Some("INACTIVE".to_string()),
    );
    assert_eq!(pool_settings(), pool_declared);

    // No-op: the crates build the same bytes; reads only.
    moto.reset_recording();
    let out = run(&st, &["up"]);
    let writes = moto.writes();
    assert!(writes.is_empty(), "a no-op made writes: {writes:?}\n{out}");

    // Drift (CORS and description changed outside deployer): planned
    // field by field, and put back by `up`.
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        let cors = aws_sdk_apigatewayv2::types::Cors::builder()
            .allow_origins("https://evil.example")
            .build();
        let u = s.apigw.update_api().api_id(&api).description("changed");
        u.cors_configuration(cors).send().await.unwrap();
    });
    let plan = run(&st, &["plan"]);
    for line in [
        "cors.allow_origins: [\"https://evil.example\"] -> [\"https://two.example\"]",
        "description: changed -> Two functions behind one JWT authorizer",
    ] {
        assert!(plan.contains(line), "{line}\n{plan}");
    }
    let out: serde_json::Value = serde_json::from_str(run(&st, &["up", "--json"]).trim()).unwrap();
    assert_eq!(changes(&out), ["update api"], "{out}");
    assert_eq!(api_settings(), declared);
    // Drift: an UpdateUserPool outside deployer that sends only a password
    // policy (through awsim, which keeps what AWS keeps): Cognito resets
    // what it is not sent. `up` sends every setting back, and keeps what it
    // does not manage (the MFA factor, the templates).
    rt().block_on(async {
        let c = sdk(&moto.endpoint).await.cognito;
        let pw = aws_sdk_cognitoidentityprovider::types::PasswordPolicyType::builder()
            .minimum_length(6)
            .build();
        let policies = aws_sdk_cognitoidentityprovider::types::UserPoolPolicyType::builder()
            .password_policy(pw)
            .build();
        let u = c.update_user_pool().user_pool_id(&pool).policies(policies);
        u.send().await.unwrap();
        // And the client's access tokens: two hours; it reads and writes
        // every attribute; no rotation.
        use aws_sdk_cognitoidentityprovider::types as cog;
        // And MFA off, its TOTP factor too: `up` turns the factor on
        // (SetUserPoolMfaConfig) before UpdateUserPool asks for MFA, which
        // Cognito refuses while no factor is on.
        let totp_off = cog::SoftwareTokenMfaConfigType::builder()
            .enabled(false)
            .build();
        let m = c.set_user_pool_mfa_config().user_pool_id(&pool);
        let m = m.mfa_configuration(cog::UserPoolMfaType::Off);
        m.software_token_mfa_configuration(totp_off)
            .send()
            .await
            .unwrap();
        let hours = cog::TokenValidityUnitsType::builder()
            .access_token(cog::TimeUnitsType::Hours)
            .build();
        let no_rotation = cog::RefreshTokenRotationType::builder()
            .feature(cog::FeatureType::Disabled)
            .build()
            .unwrap();
        let u = c
            .update_user_pool_client()
            .user_pool_id(&pool)
            .client_id(&client);
        let u = u
            .client_name("service")
            .access_token_validity(2)
            .token_validity_units(hours)
            .read_attributes("email")
            .read_attributes("name")
            .read_attributes("phone_number")
            .write_attributes("name")
            .refresh_token_rotation(no_rotation);
        u.send().await.unwrap();
        // And the echo function: untraced, another description, 2 at once.
        let l = sdk(&moto.endpoint).await.lambda;
        let passthrough = aws_sdk_lambda::types::TracingConfig::builder()
            .mode(aws_sdk_lambda::types::TracingMode::PassThrough)
            .build();
        let u = l.update_function_configuration().function_name(echo);
        u.description("changed")
            .tracing_config(passthrough)
            .send()
            .await
            .unwrap();
        let u = l.put_function_concurrency().function_name(echo);
        u.reserved_concurrent_executions(2).send().await.unwrap();
        // And the echo integration's timeout.
        let apigw = sdk(&moto.direct).await.apigw;
        let i = apigw
            .update_integration()
            .api_id(&api)
            .integration_id(st.id("integration/echo"));
        i.timeout_in_millis(29000)
            .payload_format_version("1.0")
            .send()
            .await
            .unwrap();
        // And the role: its boundary lifted.
        let iam = sdk(&moto.direct).await.iam;
        let b = iam
            .delete_role_permissions_boundary()
            .role_name("mine-two-lambda");
        b.send().await.unwrap();
        // And the Lambda authorizer: no cache, IAM policy answers, the
        // Authorization header.
        let a = apigw
            .update_authorizer()
            .api_id(&api)
            .authorizer_id(st.id("authorizer/key"));
        a.authorizer_result_ttl_in_seconds(0)
            .enable_simple_responses(false)
            .identity_source("$request.header.Authorization")
            .send()
            .await
            .unwrap();
    });
    let plan = run(&st, &["plan"]);
    for line in [
        "password_policy.minimum_length: 6 -> 12",
        "mfa: OFF -> OPTIONAL",
        "auto_verified_attributes: [] -> [\"email\"]",
        "access_token_seconds: 7200 -> 1800",
        "read_attributes: [\"email\",\"name\",\"phone_number\"] -> [\"email\",\"email_verified\"]",
        "write_attributes: [\"name\"] -> [\"email\"]",
        "refresh_token_rotation: DISABLED -> ENABLED",
        "refresh_token_grace_seconds: (none) -> 10",
        "tracing: PassThrough -> Active",
        "reserved_concurrency: 2 -> 5",
        "permissions_boundary: (none) -> arn:aws:iam::aws:policy/PowerUserAccess",
        "timeout_ms: 29000 -> 10000",
        "payload_format_version: 1.0 -> 2.0",
        "result_ttl_seconds: 0 -> 60",
        "simple_responses: false -> true",
        "identity_source: [\"$request.header.Authorization\"] -> [\"$request.header.x-api-key\"]",
    ] {
        assert!(plan.contains(line), "{line}\n{plan}");
    }
    let replaces = plan.lines().any(|l| l.trim_start().starts_with("replace"));
    assert!(!replaces, "the pool is updated in place: {plan}");
    let out: serde_json::Value = serde_json::from_str(run(&st, &["up", "--json"]).trim()).unwrap();
    let mut changed = changes(&out);
    changed.sort();
    assert_eq!(
        changed,
        [
            "update authorizer/key",
            "update client",
            "update function/echo",
            "update integration/echo",
            "update pool",
            "update role"
        ],
        "{out}"
    );
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        let gate = s.lambda.get_function().function_name("mine-two-gate");
        let gate = gate.send().await.unwrap().configuration.unwrap();
        assert_eq!(
            key_authorizer(&s.apigw, &api, &st.id("authorizer/key")).await,
            key_declared(&gate.function_arn.unwrap())
        );
    });
    assert_eq!(echo_settings(), echo_declared);
    assert_eq!(role_settings(), role_declared);
    assert_eq!(integration_settings(), integration_declared);
    assert_eq!(pool_settings(), pool_declared);
    let c = rt().block_on(async { sdk(&moto.direct).await.client(&pool, &client).await });
    assert_eq!(c.access_token_validity, Some(30));
    assert_eq!(client_access(&c), client_declared());
    assert_eq!(c.allowed_o_auth_scopes.unwrap(), ["two/echo"]);
    // A setting of the program: the password's length, the rest kept.
    st.extra_config = format!("{base}min_password_length = 10\n");
    let out: serde_json::Value = serde_json::from_str(run(&st, &["up", "--json"]).trim()).unwrap();
    assert_eq!(changes(&out), ["update pool"], "{out}");
    let mut want = pool_declared.clone();
    want.2 .0 = Some(10);
    assert_eq!(pool_settings(), want);
    st.extra_config = base.into();
    run(&st, &["up"]);
    // The internal key: a secret of the gate function's environment, sent
    // to Lambda, shown nowhere and kept out of the state.
    st.extra_config = format!("{base}internal_key = \"k3y-of-the-gate\"\n");
    let plan = run(&st, &["plan"]);
    assert!(plan.contains("(sensitive)"), "{plan}");
    let out = run(&st, &["up", "--json"]);
    let parsed: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(changes(&parsed), ["update function/gate"], "{out}");
    let env = rt().block_on(async {
        let l = sdk(&moto.direct).await.lambda;
        let c = l
            .get_function_configuration()
            .function_name("mine-two-gate");
        c.send()
            .await
            .unwrap()
            .environment
            .unwrap()
            .variables
            .unwrap()
    });
    assert_eq!(env["API_KEY"], "k3y-of-the-gate");
    for shown in [&plan, &out] {
        assert!(!shown.contains("k3y-of-the-gate"), "{shown}");
    }
    for f in walk(&st.state_dir()) {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        assert!(!text.contains("k3y-of-the-gate"), "{}", f.display());
    }
    st.extra_config = base.into();
    run(&st, &["up"]);

    // A layer on `/echo` (published here: moto refuses a layer that does
    // not exist): a program setting adds it, a change outside deployer
    // drops it and `up` puts it back, the setting removed removes it.
    let layer = rt().block_on(async {
        let content = aws_sdk_lambda::types::LayerVersionContentInput::builder()
            .zip_file(aws_sdk_lambda::primitives::Blob::new(
                deployer::package::zip_bootstrap(b"shared code").unwrap(),
            ))
            .build();
        let l = sdk(&moto.direct).await.lambda;
        let p = l
            .publish_layer_version()
            .layer_name("shared")
            .content(content);
        p.send().await.unwrap().layer_version_arn.unwrap()
    });
    let echo_layers = || {
        rt().block_on(async {
            let l = sdk(&moto.direct).await.lambda;
            let c = l.get_function_configuration().function_name(echo);
            let c = c.send().await.unwrap();
            let layers = c.layers.unwrap_or_default().into_iter();
            layers.filter_map(|l| l.arn).collect::<Vec<_>>()
        })
    };
    st.extra_config = format!("{base}echo_layers = [\"{layer}\"]\n");
    let out: serde_json::Value = serde_json::from_str(run(&st, &["up", "--json"]).trim()).unwrap();
    assert_eq!(changes(&out), ["update function/echo"], "{out}");
    assert_eq!(echo_layers(), vec![layer.clone()]);
    rt().block_on(async {
        let l = sdk(&moto.direct).await.lambda;
        let u = l.update_function_configuration().function_name(echo);
        u.set_layers(Some(vec![])).send().await.unwrap();
    });
    assert!(echo_layers().is_empty());
    let plan = run(&st, &["plan"]);
    let line = format!("layers: [] -> [\"{layer}\"]");
    assert!(plan.contains(&line), "{line}\n{plan}");
    let out: serde_json::Value = serde_json::from_str(run(&st, &["up", "--json"]).trim()).unwrap();
    assert_eq!(changes(&out), ["update function/echo"], "{out}");
    assert_eq!(echo_layers(), vec![layer.clone()]);
    st.extra_config = base.into();
    let out: serde_json::Value = serde_json::from_str(run(&st, &["up", "--json"]).trim()).unwrap();
    assert_eq!(changes(&out), ["update function/echo"], "{out}");
    assert!(echo_layers().is_empty());

    // The stage `v1` (read through awsim: moto has no UpdateStage, awsim
    // keeps what it changes): throttled, logging to its group, a variable.
    let stage_settings = || {
        rt().block_on(async {
            let st = sdk(&moto.endpoint)
                .await
                .apigw
                .get_stage()
                .api_id(&api)
                .stage_name("v1")
                .send()
                .await
                .unwrap();
            let r = st.default_route_settings.unwrap();
            let log = st.access_log_settings.unwrap_or_else(|| {
                aws_sdk_apigatewayv2::types::AccessLogSettings::builder().build()
            });
            let mut variables: Vec<_> =
                st.stage_variables.unwrap_or_default().into_iter().collect();
            variables.sort();
            let mut routes: Vec<_> = st
                .route_settings
                .unwrap_or_default()
                .into_iter()
                .map(|(k, r)| {
                    let t = (r.throttling_burst_limit, r.throttling_rate_limit);
                    (k, t, r.detailed_metrics_enabled)
                })
                .collect();
            routes.sort_by(|a, b| a.0.cmp(&b.0));
            (
                st.description,
                r.throttling_burst_limit,
                r.throttling_rate_limit,
                log.destination_arn,
                log.format.is_some_and(|f| f.contains("$context.requestId")),
                (variables, routes),
            )
        })
    };
    let log_arn =
        Some("arn:aws:logs:eu-west-1:123456789012:log-group:/aws/apigateway/mine-two".to_string());
    let stage_declared = (
        Some("Version 1".to_string()),
        Some(20),
        Some(10.0),
        log_arn.clone(),
        true,
        (
            vec![("flavour".to_string(), "plain".to_string())],
            vec![("GET /echo".to_string(), (Some(5), Some(2.5)), Some(true))],
        ),
    );
    assert_eq!(stage_settings(), stage_declared);
    assert!(
        out["outputs"]["hello_url"]
            .as_str()
            .unwrap()
            .ends_with("/v1/hello"),
        "{out}"
    );
    // Drifted: the rate, the log turned off, a variable added, `/echo`'s
    // rate raised and `/hello` given settings of its own. `up` restores
    // them, the extra variable removed (sent empty), `/hello`'s settings
    // deleted (DeleteRouteSettings).
    rt().block_on(async {
        use aws_sdk_apigatewayv2::types::RouteSettings;
        let s = sdk(&moto.endpoint).await;
        let route = RouteSettings::builder()
            .throttling_burst_limit(20)
            .throttling_rate_limit(99.0)
            .build();
        let off = aws_sdk_apigatewayv2::types::AccessLogSettings::builder().build();
        let u = s.apigw.update_stage().api_id(&api).stage_name("v1");
        let u = u.default_route_settings(route).access_log_settings(off);
        let u = u.stage_variables("extra", "1");
        let echo = RouteSettings::builder()
            .throttling_burst_limit(5)
            .throttling_rate_limit(50.0)
            .detailed_metrics_enabled(true)
            .build();
        let hello = RouteSettings::builder().throttling_rate_limit(1.0).build();
        let u = u
            .route_settings("GET /echo", echo)
            .route_settings("GET /hello", hello);
        u.send().await.unwrap();
        // A route the API does not have: refused, as AWS refuses it.
        let u = s.apigw.update_stage().api_id(&api).stage_name("v1");
        let none = RouteSettings::builder().throttling_rate_limit(1.0).build();
        let e = u
            .route_settings("GET /nowhere", none)
            .send()
            .await
            .unwrap_err();
        let e = aws_sdk_apigatewayv2::error::DisplayErrorContext(e).to_string();
        assert!(
            e.contains("Unable to find Route by key GET /nowhere"),
            "{e}"
        );
    });
    let plan = run(&st, &["plan"]);
    for line in [
        "throttling_rate_limit: 99.0 -> 10.0",
        "variables.extra: 1 -> (none)",
        "route_settings.GET /echo",
        "route_settings.GET /hello",
    ] {
        assert!(plan.contains(line), "{line}\n{plan}");
    }
    let out: serde_json::Value = serde_json::from_str(run(&st, &["up", "--json"]).trim()).unwrap();
    assert_eq!(changes(&out), ["update stage"], "{out}");
    assert_eq!(stage_settings(), stage_declared);
    // No access log any more: deleted (DeleteAccessLogSettings), then
    // back.
    st.extra_config = format!("{base}no_access_log = true\n");
    let out: serde_json::Value = serde_json::from_str(run(&st, &["up", "--json"]).trim()).unwrap();
    assert_eq!(changes(&out), ["update stage"], "{out}");
    let off = stage_settings();
    assert_eq!((off.3.clone(), off.4), (None, false), "{off:?}");
    st.extra_config = base.into();
    let out: serde_json::Value = serde_json::from_str(run(&st, &["up", "--json"]).trim()).unwrap();
    assert_eq!(changes(&out), ["update stage"], "{out}");
    assert_eq!(stage_settings(), stage_declared);
    // A setting of the program: the rate.
    st.extra_config = format!("{base}rate_limit = 5.0\n");
    let out: serde_json::Value = serde_json::from_str(run(&st, &["up", "--json"]).trim()).unwrap();
    assert_eq!(changes(&out), ["update stage"], "{out}");
    assert_eq!(stage_settings().2, Some(5.0));
    // No CORS any more: its configuration deleted.
    st.extra_config = format!("{base}rate_limit = 5.0\norigins = []\n");
    let out: serde_json::Value = serde_json::from_str(run(&st, &["up", "--json"]).trim()).unwrap();
    assert_eq!(changes(&out), ["update api"], "{out}");
    assert_eq!(api_settings(), (declared.0.clone(), None));
    st.extra_config = base.into();
    run(&st, &["up"]);
    assert_eq!(api_settings(), declared);

    // A change to one crate: that function's code only.
    let main = copy.path().join("functions/echo/src/main.rs");
    let src = std::fs::read_to_string(&main).unwrap();
    std::fs::write(
        &main,
        src.replace(
            "\"query\": p[\"rawQueryString\"],",
            "\"query\": p[\"rawQueryString\"], \"v\": 2,",
        ),
    )
    .unwrap();
    let out: serde_json::Value = serde_json::from_str(run(&st, &["up", "--json"]).trim()).unwrap();
    assert_eq!(changes(&out), ["update function/echo"], "{out}");
    assert_eq!(code(hello), hello_sha);
    assert_ne!(code(echo), echo_sha);

    // A group's setting: updated in place (UpdateGroup sends every field).
    st.extra_config = format!("{base}operators = \"On call\"\n");
    let out: serde_json::Value = serde_json::from_str(run(&st, &["up", "--json"]).trim()).unwrap();
    assert_eq!(changes(&out), ["update group/operators"], "{out}");
    let g = rt().block_on(async {
        let s = sdk(&moto.direct).await;
        let g = s
            .cognito
            .get_group()
            .user_pool_id(&pool)
            .group_name("operators");
        g.send().await.unwrap().group.unwrap()
    });
    assert_eq!(
        (g.description.as_deref(), g.precedence),
        (Some("On call"), Some(1))
    );

    // A user in the `operators` group: created after the group, drifted
    // out of it and put back, then moved out by the program, then dropped.
    let groups_of_ops = || {
        rt().block_on(async {
            let c = sdk(&moto.direct).await.cognito;
            let r = c.admin_list_groups_for_user().user_pool_id(&pool);
            let r = r.username("ops@two.example").send().await.unwrap();
            let g = r.groups.unwrap_or_default();
            g.into_iter()
                .filter_map(|g| g.group_name)
                .collect::<Vec<_>>()
        })
    };
    st.extra_config = format!("{base}operator_password = \"OperatorPass1234\"\n");
    let out: serde_json::Value = serde_json::from_str(run(&st, &["up", "--json"]).trim()).unwrap();
    let mut changed = changes(&out);
    changed.sort();
    // (the group's description goes back to its default)
    assert_eq!(
        changed,
        ["create user/ops", "update group/operators"],
        "{out}"
    );
    assert_eq!(groups_of_ops(), ["operators"]);
    rt().block_on(async {
        let c = sdk(&moto.direct).await.cognito;
        let r = c.admin_remove_user_from_group().user_pool_id(&pool);
        let r = r.username("ops@two.example").group_name("operators");
        r.send().await.unwrap();
    });
    let plan = run(&st, &["plan"]);
    assert!(plan.contains("groups: [] -> [\"operators\"]"), "{plan}");
    let out: serde_json::Value = serde_json::from_str(run(&st, &["up", "--json"]).trim()).unwrap();
    assert_eq!(changes(&out), ["update user/ops"], "{out}");
    assert_eq!(groups_of_ops(), ["operators"]);
    // The group's role, set and then dropped. awsim's UpdateGroup keeps a
    // role it is not sent (moto's way; AWS does not document it), so the
    // group is made again without it, its member kept.
    let group_role = || {
        rt().block_on(async {
            let c = sdk(&moto.direct).await.cognito;
            let g = c.get_group().user_pool_id(&pool).group_name("operators");
            g.send().await.unwrap().group.unwrap().role_arn
        })
    };
    st.extra_config.push_str("operators_role = true\n");
    let out: serde_json::Value = serde_json::from_str(run(&st, &["up", "--json"]).trim()).unwrap();
    assert_eq!(changes(&out), ["update group/operators"], "{out}");
    assert_eq!(
        group_role(),
        Some("arn:aws:iam::123456789012:role/mine-two-lambda".to_string())
    );
    st.extra_config = st.extra_config.replace("operators_role = true\n", "");
    let out: serde_json::Value = serde_json::from_str(run(&st, &["up", "--json"]).trim()).unwrap();
    assert_eq!(changes(&out), ["update group/operators"], "{out}");
    assert_eq!(group_role(), None);
    assert_eq!(groups_of_ops(), ["operators"], "the member is kept");
    let o = builds_in(&mut st.cmd(&["plan", "--detailed-exitcode"]), &copy)
        .env("DEPLOYER_DEV_BUILD", "true")
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    st.extra_config.push_str("operator_groups = []\n");
    let out: serde_json::Value = serde_json::from_str(run(&st, &["up", "--json"]).trim()).unwrap();
    assert_eq!(changes(&out), ["update user/ops"], "{out}");
    assert!(groups_of_ops().is_empty());

    // Deletion protection: `down` stops at the pool, saying what to do.
    st.extra_config = format!("{base}operators = \"On call\"\nprotect_pool = true\n");
    let out: serde_json::Value = serde_json::from_str(run(&st, &["up", "--json"]).trim()).unwrap();
    let mut changed = changes(&out);
    changed.sort();
    assert_eq!(
        changed,
        ["delete user/ops", "update group/operators", "update pool"],
        "{out}"
    );
    assert_eq!(pool_settings().5.as_deref(), Some("ACTIVE"));
    let o = builds_in(&mut st.cmd(&["down", "--yes"]), &copy)
        .env("DEPLOYER_DEV_BUILD", "true")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("deletion protection is on") && err.contains("deletion_protection: false"),
        "{err}"
    );
    assert_eq!(
        pool_settings().5.as_deref(),
        Some("ACTIVE"),
        "the pool is still there"
    );
    st.extra_config = base.into();
    run(&st, &["up"]);
    run(&st, &["down", "--yes"]);
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        for f in [hello, echo] {
            assert!(!s.function_exists(f).await);
        }
        assert!(s.apis_named("mine-two").await.is_empty());
        assert!(s.pools_named("mine-two").await.is_empty());
    });
}

/// `examples/moved.rs`: a key renamed with `Stack::moved` is planned as no
/// change (`plan --detailed-exitcode` exits 0), `up` makes no AWS write and
/// saves the entry under its new key (the child's parent key with it); the
/// pool in moto is the same one; `down` deletes it.
#[test]
fn a_renamed_key_declared_moved_is_no_change() {
    let moto = Moto::start();
    let mut st = Stack::new(&moto, "moved").with_prefix("mine");
    st.exe = example("moved");
    st.ok(&["up"]);
    let pool = st.id("pool");
    assert_eq!(pool_named(&moto, "mine-moved"), vec![pool.clone()]);

    st.extra_config = "renamed = true\n".into();
    let p = st.run(&["plan", "--detailed-exitcode"]);
    let text = String::from_utf8_lossy(&p.stdout);
    assert_eq!(p.status.code(), Some(0), "no change: {text}");
    assert!(
        !text.contains("replace") && !text.contains("delete"),
        "{text}"
    );
    assert!(text.contains("moved     pool -> accounts"), "{text}");
    moto.reset_recording();
    st.ok(&["up"]);
    let writes = moto.writes();
    assert!(writes.is_empty(), "a move made writes: {writes:?}");
    let state = st.state();
    assert!(state["resources"].get("pool").is_none(), "{state}");
    assert_eq!(state["resources"]["accounts"]["id"], pool.as_str());
    assert_eq!(state["resources"]["api_scopes"]["parent"], "accounts");
    assert_eq!(pool_named(&moto, "mine-moved"), vec![pool.clone()]);
    // Again: the move is made; nothing to do.
    let p = st.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(
        p.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&p.stdout)
    );

    st.ok(&["down", "--yes"]);
    assert!(pool_named(&moto, "mine-moved").is_empty());
}

/// The bucket's versioning status and tags as moto reports them (`None`:
/// no such bucket); through awsim, which answers GetBucketVersioning with
/// AWS's XML root (moto's is another).
fn bucket_of(moto: &Moto, name: &str) -> Option<(String, BTreeMap<String, String>)> {
    rt().block_on(async {
        let c = s3(&moto.endpoint).await;
        c.head_bucket().bucket(name).send().await.ok()?;
        let v = c.get_bucket_versioning().bucket(name).send().await.unwrap();
        let tags = match c.get_bucket_tagging().bucket(name).send().await {
            Ok(t) => t.tag_set.into_iter().map(|t| (t.key, t.value)).collect(),
            Err(_) => BTreeMap::new(),
        };
        let status = v.status.map(|s| s.as_str().to_string()).unwrap_or_default();
        Some((status, tags))
    })
}

/// `examples/own_kind.rs`: a kind written outside deployer (an S3 bucket
/// and its provider, in the example's own crate) is created and read back
/// from moto with this stack's tags, its ARN in a role's inline policy
/// (`RolePolicy`, a typed document) read back from IAM; a no-op makes no
/// write, a change is planned as `versioning: true -> false` and updated in
/// place (the policy loses `s3:PutObject`), and once the program drops them
/// the next `up` deletes the bucket through the provider the example
/// registers (`App::provider`), the policy and the role.
#[test]
fn a_kind_written_outside_deployer() {
    let moto = Moto::start();
    let mut st = Stack::new(&moto, "own").with_prefix("mine");
    st.exe = example("own_kind");
    let name = "mine-own-kind-data";
    let out = st.json(&["up"]);
    assert_eq!(st.id("data"), name);
    let state = st.state();
    assert_eq!(state["resources"]["data"]["kind"], "acme:s3:Bucket");
    assert_eq!(
        out["outputs"]["bucket_arn"],
        format!("arn:aws:s3:::{name}").as_str()
    );
    let (status, tags) = bucket_of(&moto, name).expect("the bucket in moto");
    assert_eq!(status, "Enabled");
    assert_eq!(
        tags["deployer:stack-id"],
        state["stack_id"].as_str().unwrap()
    );
    assert_eq!(tags["deployer:stack"], "own");
    // The role's inline policy names the bucket's objects (the kind's
    // output wired into one of deployer's kinds).
    let policy = |moto: &Moto| {
        rt().block_on(async {
            let r = sdk(&moto.direct)
                .await
                .iam
                .get_role_policy()
                .role_name("mine-own-kind")
                .policy_name("data")
                .send()
                .await
                .ok()?;
            let doc = urlencoding::decode(&r.policy_document)
                .unwrap()
                .into_owned();
            let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
            let st = &v["Statement"][0];
            let list = |x: &serde_json::Value| -> Vec<String> {
                match x {
                    serde_json::Value::String(a) => vec![a.clone()],
                    a => a
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_str().unwrap().to_string())
                        .collect(),
                }
            };
            let mut actions = list(&st["Action"]);
            actions.sort();
            Some((actions, list(&st["Resource"])))
        })
    };
    assert_eq!(
        policy(&moto),
        Some((
            vec!["s3:GetObject".to_string(), "s3:PutObject".to_string()],
            vec![format!("arn:aws:s3:::{name}/*")]
        ))
    );

    moto.reset_recording();
    let p = st.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(
        p.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&p.stdout)
    );
    st.ok(&["up"]);
    let writes = moto.writes();
    assert!(writes.is_empty(), "a no-op made writes: {writes:?}");

    st.extra_config = "versioning = false\nread_only = true\n".into();
    let p = st.run(&["plan"]);
    let text = String::from_utf8_lossy(&p.stdout);
    assert!(text.contains("versioning: true -> false"), "{text}");
    assert!(
        text.contains("0 to replace") && text.contains("2 to update"),
        "{text}"
    );
    st.ok(&["up"]);
    assert_eq!(bucket_of(&moto, name).unwrap().0, "Suspended");
    assert_eq!(policy(&moto).unwrap().0, ["s3:GetObject"]);

    // `state rm`: forgotten, left in AWS released from the stack (its
    // deployer tags removed, like `terraform state rm` leaves it): the next
    // `up` does not take it back but says whose it is; `import` does.
    let out = st.ok(&["state", "rm", "data"]);
    assert!(out.contains("no longer records data"), "{out}");
    assert!(st.state()["resources"].get("data").is_none());
    let (_, tags) = bucket_of(&moto, name).expect("left in AWS");
    assert!(
        !tags.contains_key("deployer:stack") && !tags.contains_key("deployer:stack-id"),
        "{tags:?}"
    );
    let o = st.run(&["up"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains(name), "{err}");
    st.ok(&["import", "data", name]);
    assert_eq!(st.id("data"), name);

    // Dropped from the program: deleted by the next `up`.
    st.extra_config = "bucket = false\nread_only = true\n".into();
    let out = st.json(&["up"]);
    assert!(changes(&out).contains(&"delete data".to_string()), "{out}");
    assert!(
        bucket_of(&moto, name).is_none(),
        "the bucket is still in moto"
    );
    assert!(st.state()["resources"].get("data").is_none());
    assert!(policy(&moto).is_none());
    let role = rt().block_on(async {
        let s = sdk(&moto.direct).await;
        s.iam.get_role().role_name("mine-own-kind").send().await
    });
    assert!(role.is_err(), "the role is still in moto");
}

/// An app client's attribute access and refresh token rotation, as read
/// back: (read, write, rotation, grace seconds).
fn client_access(
    c: &aws_sdk_cognitoidentityprovider::types::UserPoolClientType,
) -> (Vec<String>, Vec<String>, Option<String>, Option<i32>) {
    let sorted = |v: Option<Vec<String>>| {
        let mut v = v.unwrap_or_default();
        v.sort();
        v
    };
    let rotation = c.refresh_token_rotation.as_ref();
    (
        sorted(c.read_attributes.clone()),
        sorted(c.write_attributes.clone()),
        rotation.map(|r| r.feature.as_str().to_string()),
        rotation.and_then(|r| r.retry_grace_period_seconds),
    )
}

/// What `examples/two_functions.rs` declares of its client's access.
fn client_declared() -> (Vec<String>, Vec<String>, Option<String>, Option<i32>) {
    (
        vec!["email".into(), "email_verified".into()],
        vec!["email".into()],
        Some("ENABLED".into()),
        Some(10),
    )
}

/// A Lambda authorizer's settings as API Gateway reports them: type, URI,
/// payload format, simple responses, cache seconds, identity sources.
async fn key_authorizer(
    apigw: &aws_sdk_apigatewayv2::Client,
    api: &str,
    id: &str,
) -> (String, String, String, bool, i32, Vec<String>) {
    let a = apigw.get_authorizer().api_id(api).authorizer_id(id);
    let a = a.send().await.unwrap();
    (
        a.authorizer_type.unwrap().as_str().to_string(),
        a.authorizer_uri.unwrap_or_default(),
        a.authorizer_payload_format_version.unwrap_or_default(),
        a.enable_simple_responses.unwrap_or(false),
        a.authorizer_result_ttl_in_seconds.unwrap_or(0),
        a.identity_source.unwrap_or_default(),
    )
}

/// What `examples/two_functions.rs` declares of its Lambda authorizer.
fn key_declared(gate_arn: &str) -> (String, String, String, bool, i32, Vec<String>) {
    let uri = format!("path/2015-03-31/functions/{gate_arn}/invocations");
    (
        "REQUEST".into(),
        format!("arn:aws:apigateway:eu-west-1:lambda:{uri}"),
        "2.0".into(),
        true,
        60,
        vec!["$request.header.x-api-key".into()],
    )
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// `examples/claims.rs`: a pre token generation trigger and a pool's
/// further settings, read back from moto; a no-op with no write; each
/// drifted (an UpdateUserPool that resets what it is not sent) and put back;
/// the trigger dropped by the program; `down` leaving nothing.
#[test]
fn a_cognito_trigger_and_a_pools_settings() {
    let copy = handler_copy();
    let moto = Moto::start();
    let mut st = Stack::new(&moto, "claims").with_prefix("mine");
    st.exe = example("claims");
    let run = |st: &Stack, args: &[&str]| run_built(st, &copy, args);
    let name = "mine-claims";
    run(&st, &["up"]);
    let pool_id = st.id("pool");
    let pool = || {
        rt().block_on(async {
            let s = sdk(&moto.direct).await;
            s.pool(&pool_id).await
        })
    };
    let trigger_of = |p: &aws_sdk_cognitoidentityprovider::types::UserPoolType| {
        p.lambda_config
            .as_ref()
            .and_then(|l| l.pre_token_generation_config.as_ref())
            .map(|c| (c.lambda_arn.clone(), c.lambda_version.as_str().to_string()))
    };
    let settings_of = |p: &aws_sdk_cognitoidentityprovider::types::UserPoolType| {
        let tenant = p
            .schema_attributes()
            .iter()
            .find(|a| a.name.as_deref() == Some("custom:tenant"))
            .map(|a| {
                let c = a.string_attribute_constraints.as_ref();
                (
                    a.attribute_data_type
                        .as_ref()
                        .map(|t| t.as_str().to_string()),
                    a.mutable,
                    c.and_then(|c| c.max_length.clone()),
                )
            });
        let verification = p
            .verification_message_template
            .as_ref()
            .and_then(|t| t.email_subject.clone());
        let invitation = p
            .admin_create_user_config
            .as_ref()
            .and_then(|c| c.invite_message_template.as_ref())
            .and_then(|t| t.email_subject.clone());
        let tier = p.user_pool_tier.as_ref().map(|t| t.as_str().to_string());
        let threat = p
            .user_pool_add_ons
            .as_ref()
            .map(|a| a.advanced_security_mode.as_str().to_string());
        let email = p.email_configuration.as_ref().map(|e| {
            (
                e.email_sending_account
                    .as_ref()
                    .map(|a| a.as_str().to_string()),
                e.source_arn.clone(),
                e.reply_to_email_address.clone(),
            )
        });
        let verify: Vec<String> = p
            .user_attribute_update_settings
            .as_ref()
            .map(|u| {
                let a = u.attributes_require_verification_before_update();
                a.iter().map(|a| a.as_str().to_string()).collect()
            })
            .unwrap_or_default();
        let aliases: Vec<String> = p
            .alias_attributes()
            .iter()
            .map(|a| a.as_str().to_string())
            .collect();
        let required: Vec<String> = p
            .schema_attributes()
            .iter()
            .filter(|a| a.required == Some(true))
            .filter_map(|a| a.name.clone())
            .filter(|n| n != "sub")
            .collect();
        let factors: Vec<String> = p
            .policies
            .as_ref()
            .and_then(|x| x.sign_in_policy.as_ref())
            .map(|s| {
                s.allowed_first_auth_factors()
                    .iter()
                    .map(|f| f.as_str().to_string())
                    .collect()
            })
            .unwrap_or_default();
        (
            (tenant, verification, invitation, tier, threat),
            (email, verify, aliases, required, factors),
        )
    };
    let cognito_email = (
        Some("COGNITO_DEFAULT".to_string()),
        None,
        Some("support@claims.example".to_string()),
    );
    let mut declared = (
        (
            Some((
                Some("String".to_string()),
                Some(true),
                Some("64".to_string()),
            )),
            Some("Your claims code".to_string()),
            Some("Welcome to claims".to_string()),
            Some("PLUS".to_string()),
            Some("AUDIT".to_string()),
        ),
        (
            Some(cognito_email),
            vec!["email".to_string()],
            vec!["email".to_string()],
            vec!["email".to_string()],
            vec![],
        ),
    );
    let fn_arn = rt().block_on(async { sdk(&moto.direct).await.function(name).await.function_arn });
    let fn_arn = fn_arn.unwrap();
    let p = pool();
    assert_eq!(trigger_of(&p), Some((fn_arn.clone(), "V3_0".to_string())));
    let pre_authentication = |p: &aws_sdk_cognitoidentityprovider::types::UserPoolType| {
        p.lambda_config
            .as_ref()
            .and_then(|l| l.pre_authentication.clone())
    };
    assert_eq!(pre_authentication(&p), Some(fn_arn.clone()));
    assert_eq!(settings_of(&p), declared);
    let pool_arn = p.arn.clone().unwrap();
    // Cognito may invoke the trigger, for this pool, from this account.
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        let policy: serde_json::Value = serde_json::from_str(&s.policy(name).await).unwrap();
        let stmt = &policy["Statement"][0];
        assert_eq!(
            stmt["Principal"]["Service"], "cognito-idp.amazonaws.com",
            "{policy}"
        );
        assert_eq!(
            stmt["Condition"]["ArnLike"]["AWS:SourceArn"],
            pool_arn.as_str()
        );
        let account = pool_arn.split(':').nth(4).unwrap();
        assert_eq!(
            stmt["Condition"]["StringEquals"]["AWS:SourceAccount"],
            account
        );
        let ada = s
            .cognito
            .admin_get_user()
            .user_pool_id(&pool_id)
            .username("ada")
            .send()
            .await
            .unwrap();
        let tenant = ada
            .user_attributes()
            .iter()
            .find(|a| a.name == "custom:tenant")
            .and_then(|a| a.value.clone());
        assert_eq!(tenant.as_deref(), Some("acme"));
        assert!(ada.enabled);
        // The single-page app's client has no secret.
        let spa = s.client(&pool_id, &st.id("client/spa")).await;
        assert_eq!(spa.client_secret, None);
        assert_eq!(spa.allowed_o_auth_flows()[0].as_str(), "code");
    });

    // A no-op: reads only.
    moto.reset_recording();
    run(&st, &["up"]);
    let writes = moto.writes();
    assert!(writes.is_empty(), "a no-op made writes: {writes:?}");

    // Drift: an UpdateUserPool sent by hand (through awsim, which keeps
    // what AWS keeps: the aliases, the tags) resets what it is not sent
    // (the trigger, the templates, the tier, email, threat protection,
    // verification before update). The plan names each; `up` puts them back.
    rt().block_on(async {
        let s = sdk(&moto.endpoint).await;
        s.cognito
            .update_user_pool()
            .user_pool_id(&pool_id)
            .send()
            .await
            .unwrap();
    });
    assert_eq!(trigger_of(&pool()), None);
    let o = builds_in(&mut st.cmd(&["plan", "--detailed-exitcode"]), &copy)
        .env("DEPLOYER_DEV_BUILD", "true")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(2), "{text}");
    for setting in [
        "triggers",
        "verification_messages",
        "invitation",
        "tier",
        "email",
        "threat_protection",
        "verify_before_update",
    ] {
        assert!(text.contains(setting), "{setting} in {text}");
    }
    assert!(text.contains("Your claims code"), "{text}");
    run(&st, &["up"]);
    let p = pool();
    assert_eq!(trigger_of(&p), Some((fn_arn.clone(), "V3_0".to_string())));
    assert_eq!(settings_of(&p), declared);

    // Every trigger: each of Cognito's ten set to the function and read
    // back; drifted (an UpdateUserPool by hand with one of them only) and
    // each put back by `up`.
    let all_triggers = |p: &aws_sdk_cognitoidentityprovider::types::UserPoolType| {
        let l = p.lambda_config.clone().unwrap_or_else(|| {
            aws_sdk_cognitoidentityprovider::types::LambdaConfigType::builder().build()
        });
        let version = l
            .pre_token_generation_config
            .as_ref()
            .map(|c| c.lambda_version.as_str().to_string());
        let arns = vec![
            l.pre_sign_up,
            l.custom_message,
            l.post_confirmation,
            l.pre_authentication,
            l.post_authentication,
            l.define_auth_challenge,
            l.create_auth_challenge,
            l.verify_auth_challenge_response,
            l.pre_token_generation_config.map(|c| c.lambda_arn),
            l.user_migration,
        ];
        (arns, version)
    };
    let every = (vec![Some(fn_arn.clone()); 10], Some("V3_0".to_string()));
    st.extra_config = "every_trigger = true\n".into();
    run(&st, &["up"]);
    assert_eq!(all_triggers(&pool()), every);
    rt().block_on(async {
        let s = sdk(&moto.endpoint).await;
        let only = aws_sdk_cognitoidentityprovider::types::LambdaConfigType::builder()
            .pre_sign_up(&fn_arn)
            .build();
        let u = s.cognito.update_user_pool().user_pool_id(&pool_id);
        u.lambda_config(only).send().await.unwrap();
    });
    let drifted = all_triggers(&pool());
    assert_eq!(drifted.0.iter().flatten().count(), 1, "{drifted:?}");
    let plan = run(&st, &["plan"]);
    assert!(plan.contains("triggers"), "{plan}");
    run(&st, &["up"]);
    assert_eq!(all_triggers(&pool()), every);
    assert_eq!(settings_of(&pool()), declared);

    // The permission's source account drifted (its statement replaced by
    // hand with another account's): planned, and the stack's put back.
    let sid = st.id("permission");
    let account = pool_arn.split(':').nth(4).unwrap().to_string();
    let statement_account = || {
        rt().block_on(async {
            let s = sdk(&moto.direct).await;
            let policy: serde_json::Value = serde_json::from_str(&s.policy(name).await).unwrap();
            let stmts = policy["Statement"].as_array().cloned().unwrap_or_default();
            let st = stmts.iter().find(|x| x["Sid"] == sid.as_str());
            st.map(|x| x["Condition"]["StringEquals"]["AWS:SourceAccount"].clone())
        })
    };
    assert_eq!(statement_account(), Some(serde_json::json!(account)));
    rt().block_on(async {
        let s = sdk(&moto.endpoint).await;
        let rm = s.lambda.remove_permission().function_name(name);
        rm.statement_id(&sid).send().await.unwrap();
        s.lambda
            .add_permission()
            .function_name(name)
            .statement_id(&sid)
            .action("lambda:InvokeFunction")
            .principal("cognito-idp.amazonaws.com")
            .source_arn(&pool_arn)
            .source_account("210987654321")
            .send()
            .await
            .unwrap();
    });
    let plan = run(&st, &["plan"]);
    assert!(
        plan.contains("source_account") && plan.contains("210987654321"),
        "{plan}"
    );
    run(&st, &["up"]);
    assert_eq!(statement_account(), Some(serde_json::json!(account)));

    // Federation: an OpenID Connect provider in the pool, offered by the
    // web client (which comes after it); its secret in no plan, output or
    // state file. Drifted (a mapping and the identifiers changed by hand),
    // planned and put back.
    st.extra_config = "corp_secret = \"idp-s3cret-value\"\n".into();
    let out = run(&st, &["up"]);
    assert!(!out.contains("idp-s3cret-value"), "{out}");
    assert!(!std::fs::read_to_string(st.state_file())
        .unwrap()
        .contains("idp-s3cret-value"));
    let idp = || {
        rt().block_on(async {
            let s = sdk(&moto.direct).await;
            let d = s
                .cognito
                .describe_identity_provider()
                .user_pool_id(&pool_id)
                .provider_name("corp");
            let p = d.send().await.unwrap().identity_provider.unwrap();
            let details = p.provider_details.unwrap_or_default();
            let mut mapping: Vec<_> = p
                .attribute_mapping
                .unwrap_or_default()
                .into_iter()
                .collect();
            mapping.sort();
            (
                p.provider_type.map(|t| t.as_str().to_string()),
                details.get("oidc_issuer").cloned(),
                details.get("client_secret").cloned(),
                details.get("authorize_scopes").cloned(),
                mapping,
                p.idp_identifiers.unwrap_or_default(),
            )
        })
    };
    let idp_declared = (
        Some("OIDC".to_string()),
        Some("https://login.corp.example".to_string()),
        Some("idp-s3cret-value".to_string()),
        Some("openid email".to_string()),
        vec![
            ("email".to_string(), "email".to_string()),
            ("username".to_string(), "sub".to_string()),
        ],
        vec!["corp.example".to_string()],
    );
    assert_eq!(idp(), idp_declared);
    let web = rt().block_on(async {
        let s = sdk(&moto.direct).await;
        let mut providers = s
            .client(&pool_id, &st.id("client/web"))
            .await
            .supported_identity_providers
            .unwrap();
        providers.sort();
        providers
    });
    assert_eq!(web, ["COGNITO", "corp"]);
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        s.cognito
            .update_identity_provider()
            .user_pool_id(&pool_id)
            .provider_name("corp")
            .attribute_mapping("email", "upn")
            .idp_identifiers("other.example")
            .send()
            .await
            .unwrap();
    });
    let o = builds_in(&mut st.cmd(&["plan", "--detailed-exitcode"]), &copy)
        .env("DEPLOYER_DEV_BUILD", "true")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(2), "{text}");
    assert!(
        text.contains("attribute_mapping") && text.contains("identifiers"),
        "{text}"
    );
    assert!(!text.contains("idp-s3cret-value"), "{text}");
    run(&st, &["up"]);
    assert_eq!(idp(), idp_declared);

    // Email through SES with a code by email as a first factor, and ada
    // disabled: each updated in place; ada enabled by hand is planned and
    // disabled again.
    let ses = "arn:aws:ses:eu-west-1:123456789012:identity/claims.example";
    st.extra_config = format!(
        "corp_secret = \"idp-s3cret-value\"\nses_identity = \"{ses}\"\nada_disabled = true\n"
    );
    run(&st, &["up"]);
    declared.1 .0 = Some((
        Some("DEVELOPER".to_string()),
        Some(ses.to_string()),
        Some("support@claims.example".to_string()),
    ));
    declared.1 .4 = vec!["EMAIL_OTP".to_string(), "PASSWORD".to_string()];
    let p = pool();
    assert_eq!(p.id.as_deref(), Some(pool_id.as_str()), "not replaced");
    assert_eq!(settings_of(&p), declared);
    // The first factors drifted (password only, by hand): planned, put back.
    rt().block_on(async {
        use aws_sdk_cognitoidentityprovider::types::{
            AuthFactorType, SignInPolicyType, UserPoolPolicyType,
        };
        let s = sdk(&moto.endpoint).await;
        let sign_in = SignInPolicyType::builder()
            .allowed_first_auth_factors(AuthFactorType::Password)
            .build();
        let policies = UserPoolPolicyType::builder()
            .sign_in_policy(sign_in)
            .build();
        let u = s.cognito.update_user_pool().user_pool_id(&pool_id);
        u.policies(policies).send().await.unwrap();
    });
    assert_eq!(settings_of(&pool()).1 .4, ["PASSWORD"]);
    let plan = run(&st, &["plan"]);
    assert!(plan.contains("first_auth_factors"), "{plan}");
    run(&st, &["up"]);
    assert_eq!(settings_of(&pool()), declared);
    let ada_enabled = || {
        rt().block_on(async {
            let s = sdk(&moto.direct).await;
            let u = s
                .cognito
                .admin_get_user()
                .user_pool_id(&pool_id)
                .username("ada");
            u.send().await.unwrap().enabled
        })
    };
    assert!(!ada_enabled());
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        let u = s
            .cognito
            .admin_enable_user()
            .user_pool_id(&pool_id)
            .username("ada");
        u.send().await.unwrap();
    });
    let plan = run(&st, &["plan"]);
    assert!(plan.contains("enabled: true -> false"), "{plan}");
    run(&st, &["up"]);
    assert!(!ada_enabled());

    // The program drops its trigger: the pool is updated in place.
    st.extra_config = "no_trigger = true\n".into();
    let out = run(&st, &["up"]);
    assert!(out.contains("1 updated") || out.contains("update"), "{out}");
    let p = pool();
    assert_eq!(trigger_of(&p), None);
    assert_eq!(pre_authentication(&p), None);
    assert_eq!(p.id.as_deref(), Some(pool_id.as_str()), "not replaced");
    assert!(ada_enabled(), "enabled again with the setting gone");
    // ... and the identity provider with its setting gone.
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        let d = s
            .cognito
            .describe_identity_provider()
            .user_pool_id(&pool_id)
            .provider_name("corp");
        assert!(d.send().await.is_err(), "the provider is deleted");
    });

    // The function's log group encrypted with a KMS key (in place);
    // drifted (its key disassociated by hand), planned and put back; then
    // the Infrequent Access class, fixed at creation: the group replaced.
    let key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let log_group = || {
        rt().block_on(async {
            let g = log_groups(&moto.endpoint, name).await;
            assert_eq!(g.len(), 1, "{g:?}");
            let class = g[0]
                .log_group_class
                .as_ref()
                .map(|c| c.as_str().to_string());
            (class, g[0].kms_key_id.clone())
        })
    };
    assert_eq!(log_group(), (Some("STANDARD".into()), None));
    st.extra_config = format!("no_trigger = true\nlogs_key = \"{key}\"\n");
    let out = run(&st, &["up"]);
    assert!(out.contains("1 updated"), "{out}");
    assert_eq!(log_group(), (Some("STANDARD".into()), Some(key.into())));
    rt().block_on(async {
        let logs = logs_client(&moto.endpoint).await;
        let group = format!("/aws/lambda/{name}");
        let d = logs.disassociate_kms_key().log_group_name(group);
        d.send().await.unwrap();
    });
    assert_eq!(log_group().1, None);
    let plan = run(&st, &["plan"]);
    assert!(plan.contains("kms_key_id") && plan.contains(key), "{plan}");
    run(&st, &["up"]);
    assert_eq!(log_group().1.as_deref(), Some(key));
    st.extra_config = format!("no_trigger = true\nlogs_key = \"{key}\"\nlogs_infrequent = true\n");
    let plan = run(&st, &["plan"]);
    assert!(
        plan.lines()
            .any(|l| l.contains("replace") && l.contains("logs")),
        "{plan}"
    );
    run(&st, &["up"]);
    let infrequent = (Some("INFREQUENT_ACCESS".into()), Some(key.to_string()));
    assert_eq!(log_group(), infrequent);

    run(&st, &["down", "--yes"]);
    assert!(!st.state_file().exists());
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        assert!(s.pools_named(name).await.is_empty());
        assert!(!s.function_exists(name).await);
    });
}
