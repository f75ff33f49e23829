//! The example stack of `../shared/STACK.md`, as a program: a Cognito user
//! pool with its users, clients, resource server and domain; an HTTP API
//! with a JWT authorizer; a Lambda function built from the `handler` crate.
//! The only place that knows the example: every name, every wire from an
//! output to an input, the ten outputs.

use crate::config::Config;
use crate::model::{Output, Stack};
use crate::resources::api::{Api, Authorizer, Integration, Route, RouteAuth, Stage};
use crate::resources::cognito::{
    Client, Domain, DomainPrefix, OAuthFlow, PoolUser, ResourceServer, UserPool,
};
use crate::resources::lambda::{Function, Permission, Role};
use crate::resources::logs::LogGroup;

/// The protected route; `$default` serves the rest.
pub const PROTECTED_ROUTE: &str = "GET /jwt-cognito-protected";
/// The output that is a secret (`outputs --show-secrets`).
pub const SECRET: &str = "example_client_secret";

/// The example stack (its settings are deployer's `users` and
/// `log_retention_days`).
pub fn program(cfg: &Config, s: &mut Stack) -> crate::error::Result<()> {
    let prefix = cfg.name_prefix.clone();
    let role = s.add("role", Role::for_lambda(format!("{prefix}-lambda")));
    // Created before the function, so that Lambda never makes it without a
    // retention; deleted after it, so that a last invocation cannot make it
    // again.
    let logs = s.add(
        "log_group",
        LogGroup::for_function(&prefix, Some(cfg.log_retention_days)),
    );
    let pool = s.add("user_pool", UserPool::new(prefix.clone()));
    // A new pool starts with no users, and theirs cannot be recovered: a
    // plan that would replace it stops unless `--unprotect user_pool`.
    s.protect_from_replace(&pool);
    let domain = s.add(
        "domain",
        Domain {
            prefix: DomainPrefix::Unique(prefix.clone()),
            user_pool_id: pool.id(),
        },
    );
    let rs = s.add(
        "resource_server",
        ResourceServer {
            user_pool_id: pool.id(),
            identifier: "example".into(),
            name: "example".into(),
            scopes: vec![("auth".into(), "Authenticate".into())],
        },
    );
    for u in &cfg.users {
        s.add(
            format!("user/{}", u.name),
            PoolUser::new(pool.id(), u.clone()),
        );
    }
    let scope = rs.scope("auth");
    let cc = s.add(
        "client/example",
        Client {
            user_pool_id: pool.id(),
            name: "example".into(),
            flows: vec![OAuthFlow::ClientCredentials],
            scopes: vec![scope.clone()],
            ..Default::default()
        },
    );
    let api = s.add("api", Api::new(prefix.clone()));
    let redirect = api.endpoint().map(|e| format!("{e}/oidc"));
    let code = s.add(
        "client/example-authorization-code",
        Client {
            user_pool_id: pool.id(),
            name: "example-authorization-code".into(),
            flows: vec![OAuthFlow::Code],
            scopes: vec![
                "openid".into(),
                "email".into(),
                "profile".into(),
                scope.clone(),
            ],
            identity_providers: vec!["COGNITO".into()],
            callback_urls: vec![redirect.clone()],
            // Sign-in errors that do not tell whether a user exists (no
            // user enumeration through the hosted login).
            prevent_user_existence_errors: Some(true),
            ..Default::default()
        },
    );
    let mut f = Function::new(prefix.clone(), role.arn());
    f.architecture = cfg.architecture;
    f.environment = [
        ("EXAMPLE_OIDC_REDIRECT_URL", redirect.clone()),
        ("EXAMPLE_OIDC_ISSUER_URL", pool.issuer()),
        ("EXAMPLE_OIDC_CLIENT_ID", code.id()),
        ("EXAMPLE_OIDC_CLIENT_SECRET", code.secret()),
        // The handler accepts bearer tokens of this stack's clients only.
        (
            "EXAMPLE_OIDC_ALLOWED_CLIENT_IDS",
            cc.id().zip(&code.id()).map(|(a, b)| format!("{a},{b}")),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let function = s.add_after("function", f, &[logs.key()]);
    s.add(
        "permission",
        Permission::for_api(function.name(), api.execution_arn()),
    );
    let authorizer = s.add(
        "authorizer",
        Authorizer::jwt(api.id(), "cognito", pool.issuer(), vec![cc.id()]),
    );
    let integration = s.add(
        "integration",
        Integration {
            api_id: api.id(),
            function_arn: function.arn(),
            ..Default::default()
        },
    );
    s.add(
        format!("route/{PROTECTED_ROUTE}"),
        Route {
            auth: RouteAuth::jwt(authorizer.id(), [scope]),
            ..Route::new(api.id(), PROTECTED_ROUTE, integration.id())
        },
    );
    s.add(
        "route/$default",
        Route::new(api.id(), "$default", integration.id()),
    );
    s.add("stage", Stage::new(api.id()));

    let issuer = pool.issuer();
    let hosted = domain.url();
    let url = api.endpoint();
    let with = |o: &Output<String>, tail: &'static str| o.map(move |v| format!("{v}{tail}"));
    s.export("oidc_issuer_url", issuer.clone());
    s.export(
        "oidc_configuration_url",
        with(&issuer, "/.well-known/openid-configuration"),
    );
    s.export("oidc_authorization_url", with(&hosted, "/oauth2/authorize"));
    s.export("oidc_token_url", with(&hosted, "/oauth2/token"));
    s.export("oidc_jwks_url", with(&issuer, "/.well-known/jwks.json"));
    s.export("oidc_userinfo_url", with(&hosted, "/oauth2/userInfo"));
    s.export("example_client_id", cc.id());
    s.export(SECRET, cc.secret());
    s.export("example_url", url);
    s.export("example_authorization_code_oidc_redirect_url", redirect);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    fn declare(
        cfg: &Config,
    ) -> crate::error::Result<(Vec<crate::model::Res>, crate::model::Exports)> {
        crate::App::default().declare(cfg)
    }
    use crate::kind::{Ctx, Known};
    use crate::package::Package;
    use std::sync::Arc;

    fn ctx(partition: &str, region: &str) -> Ctx {
        Ctx {
            region: region.into(),
            partition: partition.into(),
            package: Some(Arc::new(Package {
                zip: vec![],
                sha256_b64: "sha".into(),
            })),
            ..Ctx::for_tests()
        }
    }

    /// The keys of earlier versions' state files, every dependency declared,
    /// and each state key's kind known to the migration table.
    #[test]
    fn keys_are_the_state_files_and_deps_exist() {
        let (res, exports) = declare(&Config::default()).unwrap();
        let keys: Vec<String> = res.iter().map(|r| r.key()).collect();
        assert_eq!(
            keys,
            [
                "role",
                "log_group",
                "user_pool",
                "domain",
                "resource_server",
                "user/alice",
                "client/example",
                "api",
                "client/example-authorization-code",
                "function",
                "permission",
                "authorizer",
                "integration",
                "route/GET /jwt-cognito-protected",
                "route/$default",
                "stage"
            ]
        );
        for r in &res {
            let (kind, parent) = crate::state::legacy_kind(&r.key()).unwrap();
            assert_eq!(kind, r.kind_name(), "{}", r.key());
            assert_eq!(parent.map(String::from), r.parent(), "{}", r.key());
        }
        let names: Vec<&str> = exports.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names.len(), 10);
        assert_eq!(
            exports
                .iter()
                .filter(|(_, o)| o.is_secret())
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>(),
            vec![SECRET]
        );
    }

    /// The graph follows the wiring: each resource depends on exactly the
    /// resources whose outputs it reads (and the log group, by order).
    #[test]
    fn dependencies_follow_the_wiring() {
        let (res, _) = declare(&Config::default()).unwrap();
        let deps = |k: &str| {
            let mut d = res.iter().find(|r| r.key() == k).unwrap().deps();
            d.sort();
            d
        };
        assert_eq!(
            deps("function"),
            [
                "api",
                "client/example",
                "client/example-authorization-code",
                "log_group",
                "role",
                "user_pool"
            ]
        );
        assert_eq!(deps("client/example"), ["resource_server", "user_pool"]);
        assert_eq!(
            deps("client/example-authorization-code"),
            ["api", "resource_server", "user_pool"]
        );
        assert_eq!(deps("authorizer"), ["api", "client/example", "user_pool"]);
        assert_eq!(deps("permission"), ["api", "function"]);
        assert_eq!(deps("role"), Vec::<String>::new());
    }

    /// A resource may read only the outputs of what it depends on: its
    /// declared settings, computed from its deps' outputs alone, hold no
    /// unknown value.
    #[test]
    fn desired_settings_read_only_declared_deps() {
        let c = ctx("aws", "eu-west-1");
        for r in declare(&Config::default()).unwrap().0 {
            let mut known = Known::default();
            for d in r.deps() {
                let outs = ["id", "arn", "endpoint", "secret", "domain", "role_id"]
                    .iter()
                    .map(|k| (k.to_string(), format!("{d}-{k}")))
                    .collect();
                known.outputs.insert(d, outs);
            }
            let desired = r.desired(&c, &known);
            assert!(
                desired.unknown.is_empty(),
                "{} reads a value outside its deps: {:?} unknown",
                r.key(),
                desired.unknown
            );
        }
    }

    /// The client secret reaches the function as a secret input: its plan
    /// line is masked.
    #[test]
    fn the_secret_environment_variable_is_sensitive() {
        let (res, _) = declare(&Config::default()).unwrap();
        let f = res.iter().find(|r| r.key() == "function").unwrap();
        assert_eq!(
            f.sensitive().into_iter().collect::<Vec<_>>(),
            ["environment.EXAMPLE_OIDC_CLIENT_SECRET"]
        );
    }

    /// ARNs, the managed policy and host names follow the account's partition.
    #[test]
    fn arns_and_hosts_follow_the_partition() {
        let (res, exports) = declare(&Config::default()).unwrap();
        let get = |k: &str| res.iter().find(|r| r.key() == k).unwrap().clone();
        let mut known = Known::default();
        known
            .outputs
            .insert("api".into(), [("id".to_string(), "abc".to_string())].into());
        known.outputs.insert(
            "user_pool".into(),
            [("id".to_string(), "pool1".to_string())].into(),
        );
        known.outputs.insert(
            "domain".into(),
            [("domain".to_string(), "d".to_string())].into(),
        );
        let table = [
            ("aws", "eu-west-1", "amazonaws.com", "amazoncognito.com"),
            (
                "aws-cn",
                "cn-north-1",
                "amazonaws.com.cn",
                "amazoncognito.com.cn",
            ),
            (
                "aws-us-gov",
                "us-gov-west-1",
                "amazonaws.com",
                "amazoncognito.com",
            ),
        ];
        for (partition, region, dns, auth) in table {
            let c = ctx(partition, region);
            let role = get("role").desired(&c, &known).props;
            assert_eq!(
                role["policies"][0],
                format!("arn:{partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
            );
            let perm = get("permission").desired(&c, &known).props;
            assert_eq!(
                perm["source_arn"],
                format!("arn:{partition}:execute-api:{region}:123456789012:abc/*/*")
            );
            let outs = crate::outputs::compute(&exports, &c, &known);
            let out = |n: &str| outs.iter().find(|v| v.name == n).unwrap().value.clone();
            assert_eq!(
                out("oidc_issuer_url").unwrap(),
                format!("https://cognito-idp.{region}.{dns}/pool1")
            );
            assert_eq!(
                out("oidc_token_url").unwrap(),
                format!("https://d.auth.{region}.{auth}/oauth2/token")
            );
        }
    }

    /// The domain prefix is deterministic per (prefix, account, region).
    #[test]
    fn domain_prefix_is_deterministic_and_scoped() {
        let (res, _) = declare(&Config::default()).unwrap();
        let d = res.iter().find(|r| r.key() == "domain").unwrap();
        let prefix = |account: &str| {
            let mut c = ctx("aws", "eu-west-1");
            c.account = account.into();
            d.desired(&c, &Known::default()).props["domain"]
                .as_str()
                .unwrap()
                .to_string()
        };
        let a = prefix("111111111111");
        assert_eq!(a, prefix("111111111111"));
        assert_ne!(a, prefix("222222222222"));
        assert!(!a.contains("aws") && !a.contains("cognito") && a.len() <= 63);
    }
}
