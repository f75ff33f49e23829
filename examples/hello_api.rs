//! Your own stack on deployer: a Rust Lambda behind an HTTP API, no Cognito.
//! `cargo run --example hello_api -- up` (or plan, down, outputs, ...).
use deployer::config::Config;
use deployer::model::Stack;
use deployer::resources::api::{Api, Integration, Route, Stage};
use deployer::resources::lambda::{Function, Permission, Role};
use deployer::resources::logs::LogGroup;

fn program(cfg: &Config, s: &mut Stack) {
    let name = format!("{}-hello", cfg.name_prefix);
    let role = s.add("role", Role::for_lambda(format!("{name}-lambda")));
    let logs = s.add("logs", LogGroup::for_function(&name, Some(7)));
    let api = s.add("api", Api { name: name.clone() });
    let mut f = Function::new(name.clone(), role.arn());
    let greeting = std::env::var("HELLO_GREETING").unwrap_or_else(|_| "hello".into());
    f.environment.insert("GREETING".into(), greeting.into());
    f.environment.insert("PUBLIC_URL".into(), api.endpoint());
    let function = s.add_after("function", f, &[logs.key()]);
    let from_api = api.execution_arn().map(|a| format!("{a}/*/*"));
    s.add(
        "permission",
        Permission::for_api_gateway(function.name(), from_api),
    );
    let integration = s.add(
        "integration",
        Integration {
            api_id: api.id(),
            function_arn: function.arn(),
        },
    );
    s.add(
        "route",
        Route {
            api_id: api.id(),
            route_key: "GET /hello".into(),
            integration_id: integration.id(),
            jwt: None,
        },
    );
    s.add("stage", Stage { api_id: api.id() });
    s.export("url", api.endpoint().map(|e| format!("{e}/hello")));
    s.export("function_arn", function.arn());
}

fn main() -> std::process::ExitCode {
    deployer::cli::main_with(program)
}
