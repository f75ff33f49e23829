//! The settings every kind of the example declares, as the engine sees
//! them (its dependencies, the map whose fingerprints the state keeps, the unknown paths,
//! what forces a replace, what is secret), against
//! `tests/fixtures/example-settings.json`, written by the code before
//! kinds became typed specs: a state written by an earlier deployer finds
//! the same fingerprints (a no-op plan) when a kind's code changes shape.
//! `DEPLOYER_WRITE_GOLDEN=1 cargo test settings_golden` writes the file
//! anew (only for a deliberate change of a setting, which old states then
//! see as a change).

use crate::config::Config;
use crate::kind::{Ctx, Known};
use serde_json::{json, Value};

/// Kinds and settings the example leaves out, each input another
/// resource's output.
fn more() -> Vec<crate::model::Res> {
    use crate::model::{Output, Stack};
    use crate::resources::cognito::{Group, UserPool};
    use crate::resources::iam::{Condition, PolicyDocument, RolePolicy, Statement};
    use crate::resources::lambda::{Permission, Role};
    use crate::resources::logs::{LogClass, LogGroup};
    let mut s = Stack::new();
    let pool = s.add("more/pool", UserPool::new("more"));
    let role = s.add("more/role", Role::for_lambda("more"));
    let key: Output<String> = role.arn();
    s.add(
        "more/logs",
        LogGroup {
            name: "/more/logs".into(),
            retention_days: None,
            class: LogClass::InfrequentAccess,
            kms_key: Some(key.clone()),
        },
    );
    s.add(
        "more/policy",
        RolePolicy {
            role_name: role.id(),
            name: "data".into(),
            document: PolicyDocument {
                statements: vec![Statement {
                    sid: Some("Data".into()),
                    conditions: vec![Condition {
                        test: "StringEquals".into(),
                        variable: "aws:SourceArn".into(),
                        values: vec![pool.arn()],
                    }],
                    ..Statement::allow(["s3:GetObject"], [key.map(|k| format!("{k}/*"))])
                }],
            },
        },
    );
    s.add(
        "more/group",
        Group {
            user_pool_id: pool.id(),
            name: "admins".into(),
            description: "who may".into(),
            precedence: Some(1),
            role_arn: Some(role.arn()),
        },
    );
    s.add(
        "more/permission",
        Permission::for_cognito("f".into(), pool.arn()),
    );
    {
        use crate::resources::api::{
            AccessLog, Api, Authorizer, Integration, PayloadFormat, Route, RouteAuth,
            RouteSettings, Stage, Throttling,
        };
        let api = s.add(
            "more/api",
            Api {
                description: "more".into(),
                cors: Some(crate::resources::api::Cors {
                    allow_origins: vec!["https://b.example".into(), "https://a.example".into()],
                    allow_methods: vec!["post".into(), "GET".into()],
                    allow_headers: vec!["Authorization".into()],
                    max_age_seconds: Some(60),
                    ..Default::default()
                }),
                disable_execute_api_endpoint: true,
                ..Api::new("more")
            },
        );
        let logs = crate::model::Handle::<LogGroup>::new("more/logs");
        let f = role.arn(); // a function's ARN stands in
        let lambda = s.add(
            "more/authorizer",
            Authorizer::lambda(api.id(), "gate", f.clone()),
        );
        let i = s.add(
            "more/integration",
            Integration {
                api_id: api.id(),
                function_arn: f,
                timeout_ms: Some(5000),
                description: "v1".into(),
                payload_format: PayloadFormat::V1,
            },
        );
        s.add(
            "more/route",
            Route {
                auth: RouteAuth::Lambda {
                    authorizer_id: lambda.id(),
                },
                ..Route::new(api.id(), "GET /x", i.id())
            },
        );
        let t = Throttling {
            burst_limit: 5,
            rate_limit: 2.5,
        };
        s.add(
            "more/stage",
            Stage {
                name: "v1".into(),
                description: "first".into(),
                throttling: Some(t),
                detailed_metrics: true,
                access_log: Some(AccessLog::json(logs.arn())),
                variables: [("a".to_string(), "b".to_string())].into(),
                route_settings: [(
                    "GET /x".to_string(),
                    RouteSettings {
                        throttling: Some(t),
                        detailed_metrics: false,
                    },
                )]
                .into(),
                ..Stage::new(api.id())
            },
        );
    }
    s.add(
        "more/role-with-everything",
        Role {
            name: "more-everything".into(),
            service: "states.amazonaws.com".into(),
            managed_policies: vec![
                crate::resources::iam::XRAY_WRITE.into(),
                crate::resources::iam::BASIC_EXECUTION.into(),
            ],
            path: "/svc/".into(),
            description: "all".into(),
            max_session_seconds: 7200,
            permissions_boundary: Some("PowerUserAccess".into()),
        },
    );
    {
        use crate::resources::cognito::{Federation, IdentityProvider, Social};
        let secret = Output::of("more/role", "id").secret();
        let oidc = Federation::Oidc {
            issuer: "https://login.example".into(),
            client_id: "c".into(),
            client_secret: secret.clone(),
            scopes: vec!["openid".into(), "email".into()],
        };
        s.add(
            "more/idp-oidc",
            IdentityProvider {
                attribute_mapping: [("email".to_string(), "email".to_string())].into(),
                identifiers: vec!["b.example".into(), "a.example".into()],
                ..IdentityProvider::new(pool.id(), "corp", oidc)
            },
        );
        let saml = Federation::Saml {
            metadata_url: "https://idp.example/metadata".into(),
            sign_out: true,
        };
        s.add(
            "more/idp-saml",
            IdentityProvider::new(pool.id(), "saml", saml),
        );
        let facebook = Federation::Social {
            provider: Social::Facebook,
            client_id: "f".into(),
            client_secret: "plain".to_string().into(),
            scopes: vec!["public_profile".into(), "email".into()],
        };
        s.add(
            "more/idp-facebook",
            IdentityProvider::new(pool.id(), "Facebook", facebook),
        );
    }
    {
        use crate::resources::cognito::PoolUser;
        let group = crate::model::Handle::<Group>::new("more/group");
        let user = crate::config::User {
            name: "bob".into(),
            password: "Secret-9-Password".into(),
            attributes: [("email".to_string(), "bob@example.com".to_string())].into(),
        };
        s.add(
            "more/user",
            PoolUser {
                groups: vec![group.name(), "plain".into()],
                enabled: false,
                ..PoolUser::new(pool.id(), user)
            },
        );
    }
    let (res, _) = s.resources().unwrap();
    // The pool and the role are the example's kinds already.
    let theirs = ["more/pool", "more/role"];
    res.into_iter()
        .filter(|r| !theirs.contains(&r.key().as_str()))
        .collect()
}

fn settings() -> Value {
    let (mut res, _) = crate::App::default().declare(&Config::default()).unwrap();
    res.extend(more());
    let ctx = Ctx::for_tests();
    let mut out = serde_json::Map::new();
    for r in res {
        // Each dependency's outputs known (named after it) ...
        let mut known = Known::default();
        for d in r.deps() {
            let outs = [
                "id",
                "arn",
                "name",
                "endpoint",
                "api_endpoint",
                "execution_arn",
                "invoke_arn",
                "secret",
                "domain",
                "role_id",
            ]
            .iter()
            .map(|k| (k.to_string(), format!("{d}-{k}")))
            .collect();
            known.outputs.insert(d, outs);
        }
        let d = r.desired(&ctx, &known);
        // ... and none of them: every input unknown.
        let u = r.desired(&ctx, &Known::default());
        let mut deps = r.deps();
        deps.sort();
        let mut replace_on = r.replace_on().to_vec();
        replace_on.sort();
        out.insert(
            r.key(),
            json!({
                "kind": r.kind_name(),
                "deps": deps,
                "props": d.props,
                "unknown_with_deps": d.unknown,
                "props_without_deps": u.props,
                "unknown_without_deps": u.unknown,
                "replace_on": replace_on,
                "sensitive": r.sensitive(),
            }),
        );
    }
    Value::Object(out)
}

#[test]
fn settings_golden_every_kind_declares_what_it_did() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/example-settings.json");
    let now = settings();
    if std::env::var_os("DEPLOYER_WRITE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, serde_json::to_string_pretty(&now).unwrap() + "\n").unwrap();
        return;
    }
    let then: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for (key, was) in then.as_object().unwrap() {
        assert_eq!(
            Some(was),
            now.get(key),
            "the settings of {key} changed (DEPLOYER_WRITE_GOLDEN=1 to accept)"
        );
    }
    assert_eq!(then, now);
}
