//! The real deployer binary against a real moto_server: every setting of
//! STACK.md read back through the SDK, idempotency counted from moto's own
//! request recorder, drift repair, outputs.

mod common;
use common::*;
use std::collections::BTreeMap;

const PROTECTED: &str = "GET /jwt-cognito-protected";

#[test]
fn up_creates_every_resource_with_every_setting() {
    let moto = Moto::start();
    let mut st = Stack::new(&moto, "full");
    st.extra_config = "[tags]\nOwner = \"platform\"\n".into();
    let report = st.json(&["up"]);
    assert_eq!(report["report"]["steps"].as_array().unwrap().len(), 15);
    rt().block_on(async {
        let s = sdk(&moto.endpoint).await;
        let pool_id = st.id("user_pool");
        // User pool: name, tags.
        let pool = s
            .cognito
            .describe_user_pool()
            .user_pool_id(&pool_id)
            .send()
            .await
            .unwrap()
            .user_pool
            .unwrap();
        assert_eq!(pool.name.as_deref(), Some("cognito-example"));
        let tags = pool.user_pool_tags.unwrap();
        assert_eq!(tags["Project"], "cognito-example");
        assert_eq!(tags["Owner"], "platform");
        assert_eq!(tags["deployer:stack"], "full");
        // Domain: deterministic UUID prefix on this pool.
        let domain = st.id("domain");
        assert_eq!(domain.len(), 36);
        let d = s
            .cognito
            .describe_user_pool_domain()
            .domain(&domain)
            .send()
            .await
            .unwrap()
            .domain_description
            .unwrap();
        assert_eq!(d.user_pool_id.as_deref(), Some(pool_id.as_str()));
        // Resource server and its scope.
        let rs = s
            .cognito
            .describe_resource_server()
            .user_pool_id(&pool_id)
            .identifier("example")
            .send()
            .await
            .unwrap()
            .resource_server
            .unwrap();
        assert_eq!(rs.name.as_deref(), Some("example"));
        let sc = &rs.scopes.unwrap()[0];
        assert_eq!(
            (sc.scope_name.as_str(), sc.scope_description.as_str()),
            ("auth", "Authenticate")
        );
        // alice: attributes, confirmed with a permanent password.
        let u = s
            .cognito
            .admin_get_user()
            .user_pool_id(&pool_id)
            .username("alice")
            .send()
            .await
            .unwrap();
        let attrs: BTreeMap<String, String> = u
            .user_attributes
            .unwrap()
            .into_iter()
            .map(|a| (a.name, a.value.unwrap_or_default()))
            .collect();
        for (k, v) in [
            ("preferred_username", "alice"),
            ("name", "Alice Doe"),
            ("given_name", "Alice"),
            ("family_name", "Doe"),
            ("email", "alice@example.com"),
            ("email_verified", "true"),
        ] {
            assert_eq!(attrs.get(k).map(String::as_str), Some(v), "{k}");
        }
        assert_eq!(u.user_status.unwrap().as_str(), "CONFIRMED");
        // Client credentials client.
        let cc = s.client(&pool_id, st.id("client/example")).await;
        assert_eq!(cc.client_name.as_deref(), Some("example"));
        assert!(cc.client_secret.is_some());
        assert_eq!(cc.allowed_o_auth_flows_user_pool_client, Some(true));
        assert_eq!(
            cc.allowed_o_auth_flows
                .unwrap()
                .iter()
                .map(|f| f.as_str())
                .collect::<Vec<_>>(),
            vec!["client_credentials"]
        );
        assert_eq!(cc.allowed_o_auth_scopes.unwrap(), vec!["example/auth"]);
        // Authorization code client.
        let api_id = st.id("api");
        let api = s.apigw.get_api().api_id(&api_id).send().await.unwrap();
        let endpoint = api.api_endpoint.clone().unwrap();
        let code = s
            .client(&pool_id, st.id("client/example-authorization-code"))
            .await;
        assert!(code.client_secret.is_some());
        assert_eq!(
            code.allowed_o_auth_flows
                .unwrap()
                .iter()
                .map(|f| f.as_str())
                .collect::<Vec<_>>(),
            vec!["code"]
        );
        let mut scopes = code.allowed_o_auth_scopes.unwrap();
        scopes.sort();
        assert_eq!(scopes, vec!["email", "example/auth", "openid", "profile"]);
        assert_eq!(code.supported_identity_providers.unwrap(), vec!["COGNITO"]);
        assert_eq!(
            code.callback_urls.unwrap(),
            vec![format!("{endpoint}/oidc")]
        );
        // API: HTTP, tags.
        assert_eq!(api.name.as_deref(), Some("cognito-example"));
        assert_eq!(api.protocol_type.unwrap().as_str(), "HTTP");
        assert_eq!(api.tags.as_ref().unwrap()["Project"], "cognito-example");
        assert_eq!(api.tags.as_ref().unwrap()["deployer:stack"], "full");
        // Authorizer.
        let issuer = format!("https://cognito-idp.eu-west-1.amazonaws.com/{pool_id}");
        let a = s
            .apigw
            .get_authorizer()
            .api_id(&api_id)
            .authorizer_id(st.id("authorizer"))
            .send()
            .await
            .unwrap();
        assert_eq!(a.name.as_deref(), Some("cognito"));
        assert_eq!(a.authorizer_type.unwrap().as_str(), "JWT");
        assert_eq!(
            a.identity_source.unwrap(),
            vec!["$request.header.Authorization"]
        );
        let jwt = a.jwt_configuration.unwrap();
        assert_eq!(jwt.issuer.as_deref(), Some(issuer.as_str()));
        assert_eq!(jwt.audience.unwrap(), vec![st.id("client/example")]);
        // Integration.
        let f = s
            .lambda
            .get_function()
            .function_name("cognito-example")
            .send()
            .await
            .unwrap();
        let conf = f.configuration.unwrap();
        let i = s
            .apigw
            .get_integration()
            .api_id(&api_id)
            .integration_id(st.id("integration"))
            .send()
            .await
            .unwrap();
        assert_eq!(i.integration_type.unwrap().as_str(), "AWS_PROXY");
        assert_eq!(i.payload_format_version.as_deref(), Some("2.0"));
        assert_eq!(i.integration_uri, conf.function_arn);
        // Routes.
        let routes = s.routes(&api_id).await;
        assert_eq!(routes.len(), 2);
        let target = format!("integrations/{}", st.id("integration"));
        let p = routes
            .iter()
            .find(|r| r.route_key.as_deref() == Some(PROTECTED))
            .unwrap();
        assert_eq!(p.authorization_type.as_ref().unwrap().as_str(), "JWT");
        assert_eq!(
            p.authorizer_id.as_deref(),
            Some(st.id("authorizer").as_str())
        );
        assert_eq!(
            p.authorization_scopes.clone().unwrap(),
            vec!["example/auth"]
        );
        assert_eq!(p.target.as_deref(), Some(target.as_str()));
        let d = routes
            .iter()
            .find(|r| r.route_key.as_deref() == Some("$default"))
            .unwrap();
        assert_eq!(
            d.authorization_type
                .as_ref()
                .map(|a| a.as_str())
                .unwrap_or("NONE"),
            "NONE"
        );
        assert_eq!(d.target.as_deref(), Some(target.as_str()));
        // Stage.
        let stage = s
            .apigw
            .get_stage()
            .api_id(&api_id)
            .stage_name("$default")
            .send()
            .await
            .unwrap();
        assert_eq!(stage.auto_deploy, Some(true));
        // Function.
        assert_eq!(conf.runtime.unwrap().as_str(), "provided.al2023");
        assert_eq!(conf.handler.as_deref(), Some("bootstrap"));
        assert_eq!(conf.architectures.unwrap()[0].as_str(), "x86_64");
        let zip = std::fs::read(handler_zip()).unwrap();
        assert_eq!(
            conf.code_sha256.as_deref(),
            Some(deployer::package::code_sha256(&zip).as_str())
        );
        let env = conf.environment.unwrap().variables.unwrap();
        assert_eq!(env["EXAMPLE_OIDC_REDIRECT_URL"], format!("{endpoint}/oidc"));
        assert_eq!(env["EXAMPLE_OIDC_ISSUER_URL"], issuer);
        assert_eq!(
            env["EXAMPLE_OIDC_CLIENT_ID"],
            st.id("client/example-authorization-code")
        );
        assert_eq!(
            Some(&env["EXAMPLE_OIDC_CLIENT_SECRET"]),
            code.client_secret.as_ref()
        );
        assert_eq!(f.tags.unwrap()["Project"], "cognito-example");
        // Role: trust and managed policy.
        let role = s
            .iam
            .get_role()
            .role_name("cognito-example-lambda")
            .send()
            .await
            .unwrap()
            .role
            .unwrap();
        assert_eq!(conf.role.as_deref(), Some(role.arn.as_str()));
        let trust: serde_json::Value = serde_json::from_str(
            &urlencoding::decode(role.assume_role_policy_document.as_deref().unwrap()).unwrap(),
        )
        .unwrap();
        assert_eq!(
            trust["Statement"][0]["Principal"]["Service"],
            "lambda.amazonaws.com"
        );
        assert_eq!(trust["Statement"][0]["Action"], "sts:AssumeRole");
        let pol = s
            .iam
            .list_attached_role_policies()
            .role_name("cognito-example-lambda")
            .send()
            .await
            .unwrap()
            .attached_policies
            .unwrap();
        assert_eq!(
            pol.iter()
                .filter_map(|p| p.policy_arn.as_deref())
                .collect::<Vec<_>>(),
            vec!["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]
        );
        // Permission.
        let policy: serde_json::Value =
            serde_json::from_str(&s.policy("cognito-example").await).unwrap();
        let stmt = &policy["Statement"][0];
        assert_eq!(stmt["Action"], "lambda:InvokeFunction");
        assert_eq!(stmt["Principal"]["Service"], "apigateway.amazonaws.com");
        assert_eq!(
            stmt["Condition"]["ArnLike"]["AWS:SourceArn"],
            format!("arn:aws:execute-api:eu-west-1:123456789012:{api_id}/*/*")
        );
    });
    // The state holds IDs and no secret, mode 0600.
    let text = std::fs::read_to_string(st.state_file()).unwrap();
    rt().block_on(async {
        let s = sdk(&moto.endpoint).await;
        let c = s.client(st.id("user_pool"), st.id("client/example")).await;
        assert!(!text.contains(c.client_secret.as_deref().unwrap()));
        assert!(!text.contains(deployer::config::DEMO_PASSWORD));
    });
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(st.state_file())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
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
    assert!(out.contains("15 unchanged"), "{out}");
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
        let s = sdk(&moto.endpoint).await;
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
            .statement_id("apigateway-invoke")
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
        let s = sdk(&moto.endpoint).await;
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
        let s = sdk(&moto.endpoint).await;
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
        let s = sdk(&moto.endpoint).await;
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
    let mut want = deployer::outputs::NAMES.to_vec();
    want.sort();
    assert_eq!(keys, want);
    assert_eq!(o["example_client_secret"], deployer::outputs::HIDDEN);
    let shown = st.json(&["outputs", "--show-secrets"]);
    rt().block_on(async {
        let s = sdk(&moto.endpoint).await;
        let pool = st.id("user_pool");
        let issuer = format!("https://cognito-idp.eu-west-1.amazonaws.com/{pool}");
        let c = s.client(&pool, st.id("client/example")).await;
        let api = s.apigw.get_api().api_id(st.id("api")).send().await.unwrap();
        let domain = s
            .cognito
            .describe_user_pool()
            .user_pool_id(&pool)
            .send()
            .await
            .unwrap()
            .user_pool
            .unwrap()
            .domain
            .unwrap();
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
