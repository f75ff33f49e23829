//! Two front doors: a `shop` API for customers and an `admin` API for
//! staff, each behind a JWT authorizer on its own user pool, with one
//! function (the `echo` crate) behind both. A token of one pool opens its
//! own door only. `deployer dev` serves each API on its own port and each
//! pool under its own issuer.
//! `cargo run --example two_apis -- up` (or plan, down, dev, ...).
use deployer::config::Config;
use deployer::model::Stack;
use deployer::package::Code;
use deployer::resources::api::{Api, Authorizer, Integration, Route, RouteAuth, Stage};
use deployer::resources::cognito::{
    Client, Domain, DomainPrefix, OAuthFlow, ResourceServer, UserPool,
};
use deployer::resources::lambda::{Function, Permission, Role};
use deployer::resources::logs::LogGroup;

/// The example's settings (`--config` file).
#[derive(serde::Deserialize)]
struct Settings {
    /// What the function says (default `hello`).
    greeting: Option<String>,
}

fn program(cfg: &Config, settings: &Settings, s: &mut Stack) -> deployer::error::Result<()> {
    let name = format!("{}-doors", cfg.name_prefix);
    let role = s.add("role", Role::for_lambda(format!("{name}-lambda")));
    let logs = s.add("logs", LogGroup::for_function(&name, Some(7)));
    let mut f = Function::new(name.clone(), role.arn());
    f.code = Code::krate("echo");
    let greeting = settings.greeting.clone().unwrap_or("hello".into());
    f.environment.insert("GREETING".into(), greeting.into());
    let function = s.add_after("function", f, &[logs.key()]);
    for door in ["shop", "admin"] {
        let pool = s.add(
            format!("{door}/pool"),
            UserPool::new(format!("{name}-{door}")),
        );
        let prefix = DomainPrefix::Unique(format!("{name}-{door}"));
        let user_pool_id = pool.id();
        let domain = s.add(
            format!("{door}/domain"),
            Domain {
                prefix,
                user_pool_id,
            },
        );
        let rs = ResourceServer {
            user_pool_id: pool.id(),
            identifier: door.into(),
            name: format!("{name}-{door}"),
            scopes: vec![("use".into(), format!("Use the {door} API"))],
        };
        let rs = s.add(format!("{door}/scopes"), rs);
        let client = Client {
            user_pool_id: pool.id(),
            name: "service".into(),
            flows: vec![OAuthFlow::ClientCredentials],
            scopes: vec![rs.scope("use")],
            ..Default::default()
        };
        let client = s.add(format!("{door}/client"), client);
        let api = s.add(format!("{door}/api"), Api::new(format!("{name}-{door}")));
        let jwt = Authorizer::jwt(api.id(), "cognito", pool.issuer(), vec![client.id()]);
        let authorizer = s.add(format!("{door}/authorizer"), jwt);
        let integration = Integration {
            api_id: api.id(),
            function_arn: function.arn(),
            ..Default::default()
        };
        let integration = s.add(format!("{door}/integration"), integration);
        let route = Route {
            auth: RouteAuth::jwt(authorizer.id(), [rs.scope("use")]),
            ..Route::new(api.id(), "GET /whoami", integration.id())
        };
        s.add(format!("{door}/route"), route);
        s.add(format!("{door}/stage"), Stage::new(api.id()));
        let permission = Permission::for_api(function.name(), api.execution_arn());
        s.add(format!("{door}/permission"), permission);
        let url = api.endpoint().map(|e| format!("{e}/whoami"));
        s.export(format!("{door}_url"), url);
        let token_url = domain.url().map(|u| format!("{u}/oauth2/token"));
        s.export(format!("{door}_token_url"), token_url);
        s.export(format!("{door}_issuer"), pool.issuer());
        s.export(format!("{door}_client_id"), client.id());
        s.export(format!("{door}_client_secret"), client.secret());
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    deployer::App::with_settings(program).main()
}
