//! Read-back checks shared by the integration, crash and soak tests: every
//! setting of STACK.md, exactly one of each resource, nothing left.

use super::*;
use std::collections::BTreeMap;

const PROTECTED: &str = "GET /jwt-cognito-protected";

/// Every setting of STACK.md, read back through the SDK (the stack's config
/// adds the tag `Owner = "platform"`).
pub fn assert_every_setting(moto: &Moto, st: &Stack) {
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
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
        assert_eq!(tags["deployer:stack"], st.name.as_str());
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
        // The hosted login's client hides whether a user exists (the
        // example's default, issue 32 item 21).
        assert_eq!(
            code.prevent_user_existence_errors
                .as_ref()
                .map(|p| p.as_str()),
            Some("ENABLED"),
            "the example's hosted-login client must prevent user existence errors"
        );
        assert_eq!(
            code.callback_urls.unwrap(),
            vec![format!("{endpoint}/oidc")]
        );
        // API: HTTP, tags.
        assert_eq!(api.name.as_deref(), Some("cognito-example"));
        assert_eq!(api.protocol_type.unwrap().as_str(), "HTTP");
        assert_eq!(api.tags.as_ref().unwrap()["Project"], "cognito-example");
        assert_eq!(
            api.tags.as_ref().unwrap()["deployer:stack"],
            st.name.as_str()
        );
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
        let s = sdk(&moto.direct).await;
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

/// Asserts exactly one of each resource of the stack, read back via the SDK.
pub fn assert_exactly_one(moto: &Moto, st: &Stack) {
    let prefix = st.prefix.clone();
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        let pools = s.pools_named(&prefix).await;
        assert_eq!(pools.len(), 1, "{prefix}: user pools");
        let pool = pools[0].clone();
        assert_eq!(pool, st.id("user_pool"));
        let clients = s.clients_of(&pool).await;
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
        let d = s.pool(&pool).await.domain;
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
        let groups = log_groups(&moto.direct, &prefix).await;
        assert_eq!(groups.len(), 1, "{prefix}: log groups");
        assert_eq!(groups[0].retention_in_days, Some(30), "{prefix}: retention");
    });
}

pub fn assert_none(moto: &Moto, st: &Stack) {
    assert_no_resources(moto, &st.prefix);
    assert!(
        !st.state_file().exists(),
        "the state file is removed after down"
    );
}

/// Nothing named after `prefix` is left: pool, API, function, role, log group.
pub fn assert_no_resources(moto: &Moto, prefix: &str) {
    let prefix = prefix.to_string();
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
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
        let groups = log_groups(&moto.direct, &prefix).await;
        assert!(
            groups.is_empty(),
            "{prefix}: the log group is left: {groups:?}"
        );
    });
}

/// Everything of a stack as AWS reports it, by the IDs its state records:
/// pool (name, tags), users, clients (settings), resource server, domain,
/// role (unique ID, tags), function (role, environment, code, tags), log
/// group (tags), API (tags), authorizer, integrations, routes, stage (tags)
/// and the function's permission. Two calls compare equal only if nothing
/// of it changed.
pub fn fingerprint(moto: &Moto, st: &Stack) -> String {
    let (pool, api, function, role) = (
        st.id("user_pool"),
        st.id("api"),
        st.id("function"),
        st.id("role"),
    );
    let domain = st.id("domain");
    rt().block_on(async {
        // Through awsim: moto lacks GetAuthorizers and stage tags.
        let s = sdk(&moto.endpoint).await;
        let mut out = vec![];
        let p = s.pool(&pool).await;
        out.push(format!("pool {:?} {}", p.name, in_order(p.user_pool_tags)));
        let users = s
            .cognito
            .list_users()
            .user_pool_id(&pool)
            .send()
            .await
            .unwrap()
            .users
            .unwrap_or_default();
        let mut names: Vec<_> = users.into_iter().filter_map(|u| u.username).collect();
        names.sort();
        out.push(format!("users {names:?}"));
        let clients = s.clients_of(&pool).await;
        let mut ids: Vec<_> = clients.into_iter().filter_map(|c| c.client_id).collect();
        ids.sort();
        for id in ids {
            let c = s.client(&pool, &id).await;
            out.push(format!(
                "client {id} {:?} {:?} {:?} {:?}",
                c.client_name, c.callback_urls, c.allowed_o_auth_flows, c.allowed_o_auth_scopes
            ));
        }
        let rs = s
            .cognito
            .list_resource_servers()
            .user_pool_id(&pool)
            .max_results(50)
            .send()
            .await
            .unwrap();
        out.push(format!("resource servers {:?}", rs.resource_servers));
        let d = s
            .cognito
            .describe_user_pool_domain()
            .domain(&domain)
            .send()
            .await
            .unwrap()
            .domain_description
            .unwrap();
        out.push(format!("domain {domain} on {:?}", d.user_pool_id));
        let r = s
            .iam
            .get_role()
            .role_name(&role)
            .send()
            .await
            .unwrap()
            .role
            .unwrap();
        let mut tags: Vec<_> = r
            .tags
            .unwrap_or_default()
            .into_iter()
            .map(|t| (t.key, t.value))
            .collect();
        tags.sort();
        out.push(format!("role {} {tags:?}", r.role_id));
        let f = s
            .lambda
            .get_function()
            .function_name(&function)
            .send()
            .await
            .unwrap();
        let c = f.configuration.unwrap();
        let env: BTreeMap<String, String> = c
            .environment
            .and_then(|e| e.variables)
            .map(|v| v.into_iter().collect())
            .unwrap_or_default();
        let ftags: BTreeMap<String, String> = f.tags.unwrap_or_default().into_iter().collect();
        out.push(format!(
            "function {:?} {:?} {env:?} {ftags:?}",
            c.role, c.code_sha256
        ));
        out.push(format!("permission {}", s.policy(&function).await));
        let gtags = log_group_tags(&moto.direct, &st.prefix).await;
        out.push(format!("log group {gtags:?}"));
        let a = s.apigw.get_api().api_id(&api).send().await.unwrap();
        out.push(format!("api {:?} {}", a.name, in_order(a.tags)));
        let auths = s
            .apigw
            .get_authorizers()
            .api_id(&api)
            .send()
            .await
            .unwrap()
            .items
            .unwrap_or_default();
        for a in auths {
            out.push(format!("authorizer {:?} {:?}", a.name, a.jwt_configuration));
        }
        let ints = s
            .apigw
            .get_integrations()
            .api_id(&api)
            .send()
            .await
            .unwrap()
            .items
            .unwrap_or_default();
        for i in ints {
            out.push(format!(
                "integration {:?} {:?}",
                i.integration_id, i.integration_uri
            ));
        }
        let mut routes: Vec<String> = s
            .routes(&api)
            .await
            .into_iter()
            .map(|r| {
                format!(
                    "route {:?} {:?} {:?} {:?}",
                    r.route_key, r.target, r.authorizer_id, r.authorization_scopes
                )
            })
            .collect();
        routes.sort();
        out.extend(routes);
        let stage = s
            .apigw
            .get_stage()
            .api_id(&api)
            .stage_name("$default")
            .send()
            .await
            .unwrap();
        out.push(format!("stage {}", in_order(stage.tags)));
        out.join("\n")
    })
}

/// A map the SDK returns as a HashMap, in key order.
fn in_order(m: Option<std::collections::HashMap<String, String>>) -> String {
    format!("{:?}", m.map(|m| m.into_iter().collect::<BTreeMap<_, _>>()))
}
