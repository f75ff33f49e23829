//! A small service: functions with code of their own behind one HTTP API
//! with a Cognito JWT authorizer. `GET /hello` runs the `handler` crate and
//! is open; `GET /echo` runs the `echo` crate (`functions/echo`) and takes a
//! bearer token of the service's client with the scope `two/echo`;
//! `GET /internal` runs `echo` too, for the holder of a key that a Lambda
//! authorizer (the `gate` crate, `functions/gate`) checks. The three crates
//! of this workspace build in one cargo-lambda invocation.
//! `cargo run --example two_functions -- up` (or plan, down, outputs, ...).
use deployer::config::Config;
use deployer::model::Stack;
use deployer::package::Code;
use deployer::resources::api::{
    AccessLog, Api, Authorizer, Cors, Integration, Route, RouteAuth, RouteSettings, Stage,
    Throttling,
};
use deployer::resources::cognito::{
    AuthFlow, Client, ContactAttribute, Group, Mfa, OAuthFlow, PasswordPolicy, PoolUser, Recovery,
    RefreshTokenRotation, ResourceServer, TokenValidity, UserPool,
};
use deployer::resources::lambda::{Function, Logging, Permission, Role, Tracing, XRAY_WRITE};
use deployer::resources::logs::LogGroup;
use std::time::Duration;

/// The service's settings (`--config` file).
#[derive(serde::Deserialize)]
struct Settings {
    /// The operators group's description.
    operators: Option<String>,
    /// The origins a browser may call the API from (empty: no CORS).
    origins: Option<Vec<String>>,
    /// Requests a second the stage lets through in the long run.
    rate_limit: Option<f64>,
    /// The shortest password the pool accepts.
    min_password_length: Option<i32>,
    /// Cognito refuses to delete the pool.
    protect_pool: Option<bool>,
    /// The on-call operator's password: with it, the user
    /// `ops@two.example`, a member of `operators`.
    operator_password: Option<String>,
    /// The operator's groups (by default `operators`).
    operator_groups: Option<Vec<String>>,
    /// Layer version ARNs for `/echo`'s function (shared code, in order).
    echo_layers: Option<Vec<String>>,
    /// The key `GET /internal` takes in its `x-api-key` header (without
    /// it: nobody gets in).
    internal_key: Option<String>,
    /// Concurrent executions reserved for `/echo`'s function (by default
    /// none: Lambda keeps 10 unreserved, and a new account has 10 in all).
    echo_reserved: Option<i32>,
    /// The operators group carries the functions' role.
    operators_role: Option<bool>,
    /// The stage keeps no access log.
    no_access_log: Option<bool>,
}

fn program(cfg: &Config, settings: &Settings, s: &mut Stack) -> deployer::error::Result<()> {
    let name = format!("{}-two", cfg.name_prefix);
    // Who may call `/echo`: a service holding the client's secret.
    // People sign in with their email address, verified by a code, with a
    // TOTP app if they wish.
    let pool = UserPool {
        username_attributes: vec![ContactAttribute::Email],
        auto_verified_attributes: vec![ContactAttribute::Email],
        password_policy: PasswordPolicy {
            minimum_length: settings.min_password_length.unwrap_or(12),
            require_symbols: false,
            ..Default::default()
        },
        mfa: Mfa::Optional,
        account_recovery: vec![Recovery::VerifiedEmail],
        deletion_protection: settings.protect_pool.unwrap_or(false),
        ..UserPool::new(name.clone())
    };
    let pool = s.add("pool", pool);
    let scopes = vec![("echo".into(), "Call /echo".into())];
    let rs = ResourceServer {
        user_pool_id: pool.id(),
        identifier: "two".into(),
        name: name.clone(),
        scopes,
    };
    let rs = s.add("scopes", rs);
    let client = Client {
        user_pool_id: pool.id(),
        name: "service".into(),
        flows: vec![OAuthFlow::ClientCredentials],
        scopes: vec![rs.scope("echo")],
        // Short-lived access tokens; no hint whether a user exists.
        token_validity: TokenValidity {
            access: Some(Duration::from_secs(30 * 60)),
            ..Default::default()
        },
        prevent_user_existence_errors: Some(true),
        enable_token_revocation: Some(true),
        // What it may read and change of a user; refresh tokens rotate
        // (which Cognito allows only without REFRESH_TOKEN_AUTH: SRP only).
        auth_flows: vec![AuthFlow::UserSrp],
        read_attributes: Some(vec!["email".into(), "email_verified".into()]),
        write_attributes: Some(vec!["email".into()]),
        refresh_token_rotation: Some(RefreshTokenRotation::Enabled {
            retry_grace_period_seconds: 10,
        }),
        ..Default::default()
    };
    let client = s.add("client", client);
    // The functions' role: sessions up to two hours, bounded by
    // PowerUserAccess; it may write logs and send X-Ray traces (`/echo` is
    // traced: Lambda refuses active tracing to a role without it).
    let mut role = Role {
        description: "Runs the two functions".into(),
        max_session_seconds: 7200,
        permissions_boundary: Some("PowerUserAccess".into()),
        ..Role::for_lambda(format!("{name}-lambda"))
    };
    role.managed_policies.push(XRAY_WRITE.into());
    let role = s.add("role", role);
    let operators = Group {
        user_pool_id: pool.id(),
        name: "operators".into(),
        description: settings
            .operators
            .clone()
            .unwrap_or("People who run the service".into()),
        precedence: Some(1),
        // Its members' role (`operators_role = true`): the functions' here.
        role_arn: settings.operators_role.unwrap_or(false).then(|| role.arn()),
    };
    let operators = s.add("group/operators", operators);
    if let Some(password) = &settings.operator_password {
        let email = "ops@two.example".to_string();
        let user = deployer::config::User {
            name: email.clone(),
            password: password.clone(),
            attributes: [
                ("email".to_string(), email),
                ("email_verified".to_string(), "true".to_string()),
            ]
            .into(),
        };
        let groups = match &settings.operator_groups {
            None => vec![operators.name()],
            Some(names) => names.iter().map(|n| n.as_str().into()).collect(),
        };
        let ops = PoolUser {
            groups,
            ..PoolUser::new(pool.id(), user)
        };
        s.add("user/ops", ops);
    }
    let origins = (settings.origins.clone()).unwrap_or(vec!["https://two.example".into()]);
    let cors = Cors {
        allow_origins: origins.clone(),
        allow_methods: vec!["GET".into()],
        allow_headers: vec!["Authorization".into(), "Content-Type".into()],
        max_age_seconds: Some(300),
        ..Default::default()
    };
    let api = Api {
        description: "Two functions behind one JWT authorizer".into(),
        cors: (!origins.is_empty()).then_some(cors),
        ..Api::new(name.clone())
    };
    let api = s.add("api", api);
    let authorizer = Authorizer::jwt(api.id(), "cognito", pool.issuer(), vec![client.id()]);
    let authorizer = s.add("authorizer", authorizer);
    // The stage `v1`: throttled, its access log in a group of its own.
    let access = s.add(
        "access_log",
        LogGroup {
            name: format!("/aws/apigateway/{name}"),
            retention_days: Some(14),
            ..Default::default()
        },
    );
    let stage = Stage {
        name: "v1".into(),
        description: "Version 1".into(),
        throttling: Some(Throttling {
            burst_limit: 20,
            rate_limit: settings.rate_limit.unwrap_or(10.0),
        }),
        access_log: (!settings.no_access_log.unwrap_or(false))
            .then(|| AccessLog::json(access.arn())),
        variables: [("flavour".to_string(), "plain".to_string())].into(),
        // `/echo` tighter than the rest, with its own metrics.
        route_settings: [(
            "GET /echo".to_string(),
            RouteSettings {
                throttling: Some(Throttling {
                    burst_limit: 5,
                    rate_limit: 2.5,
                }),
                detailed_metrics: true,
            },
        )]
        .into(),
        ..Stage::new(api.id())
    };
    // After the route its settings name (API Gateway wants it there first).
    let stage = s.add_after("stage", stage, &["route/echo"]);
    let mut integrations = std::collections::BTreeMap::new();
    for (key, code) in [
        ("hello", Code::krate("handler")),
        ("echo", Code::krate("echo")),
    ] {
        let mut f = Function::new(format!("{name}-{key}"), role.arn());
        f.code = code;
        if key == "echo" {
            // Traced, JSON logs from INFO up.
            f.description = "Echoes the request".into();
            f.ephemeral_storage_mb = 1024;
            f.reserved_concurrency = settings.echo_reserved;
            f.tracing = Tracing::Active;
            f.logging = Logging {
                json: true,
                application_level: "INFO".into(),
                ..Default::default()
            };
            let layers = settings.echo_layers.clone().unwrap_or_default();
            f.layers = layers.into_iter().map(Into::into).collect();
        }
        f.environment.insert("PUBLIC_URL".into(), api.endpoint());
        if key == "hello" {
            // The `handler` crate's configuration: it validates the
            // service's tokens itself too (its client's secret a secret).
            let url = deployer::interpolate!("{}/hello", stage.url(&api));
            f.environment
                .insert("EXAMPLE_OIDC_REDIRECT_URL".into(), url);
            f.environment
                .insert("EXAMPLE_OIDC_ISSUER_URL".into(), pool.issuer());
            f.environment
                .insert("EXAMPLE_OIDC_CLIENT_ID".into(), client.id());
            f.environment
                .insert("EXAMPLE_OIDC_CLIENT_SECRET".into(), client.secret());
        }
        let function = s.add(format!("function/{key}"), f);
        let permission = Permission::for_api(function.name(), api.execution_arn());
        s.add(format!("permission/{key}"), permission);
        let integration = s.add(
            format!("integration/{key}"),
            Integration {
                api_id: api.id(),
                function_arn: function.arn(),
                // `/echo` answers within 10 s or not at all.
                timeout_ms: (key == "echo").then_some(10_000),
                description: format!("GET /{key}"),
                ..Default::default()
            },
        );
        integrations.insert(key, integration.id());
        let mut route = Route::new(api.id(), format!("GET /{key}"), integration.id());
        if key == "echo" {
            route.auth = RouteAuth::jwt(authorizer.id(), [rs.scope("echo")]);
        }
        s.add(format!("route/{key}"), route);
        let url = deployer::interpolate!("{}/{}", stage.url(&api), key);
        s.export(format!("{key}_url"), url);
    }
    // `GET /internal`: the echo function again, behind a Lambda authorizer
    // (the `gate` crate) that lets in the holder of a key. API Gateway keeps
    // its answer for a minute per key and may invoke it from that
    // authorizer only.
    let mut gate = Function::new(format!("{name}-gate"), role.arn());
    gate.code = Code::krate("gate");
    gate.description = "Lets in the holder of the internal key".into();
    if let Some(k) = &settings.internal_key {
        // A secret: `(sensitive)` in a plan, never in the state.
        let k = deployer::model::Input::from(k.clone()).secret();
        gate.environment.insert("API_KEY".into(), k);
    }
    let gate = s.add("function/gate", gate);
    let mut by_key = Authorizer::lambda(api.id(), "key", gate.arn());
    by_key.identity_sources = vec!["$request.header.x-api-key".into()];
    if let Some(l) = by_key.lambda.as_mut() {
        l.result_ttl_seconds = Some(60);
    }
    let by_key = s.add("authorizer/key", by_key);
    let from_authorizer =
        deployer::interpolate!("{}/authorizers/{}", api.execution_arn(), by_key.id());
    s.add(
        "permission/gate",
        Permission::for_api_gateway(gate.name(), from_authorizer),
    );
    let mut internal = Route::new(api.id(), "GET /internal", integrations["echo"].clone());
    internal.auth = RouteAuth::Lambda {
        authorizer_id: by_key.id(),
    };
    s.add("route/internal", internal);
    s.export("client_id", client.id());
    s.export("issuer", pool.issuer());
    Ok(())
}

fn main() -> std::process::ExitCode {
    deployer::App::with_settings(program).main()
}
