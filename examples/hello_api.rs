//! Your own stack on deployer: a Rust Lambda (the `echo` crate of this
//! workspace, `functions/echo`) behind an HTTP API, no Cognito.
//! `cargo run --example hello_api -- up` (or plan, down, outputs, ...); its
//! own setting `greeting = "..."` in the `--config` file, next to deployer's.
use deployer::config::Config;
use deployer::model::Stack;
use deployer::package::Code;
use deployer::resources::api::{Api, Integration, Route, Stage};
use deployer::resources::lambda::{Function, Permission, Role};
use deployer::resources::logs::LogGroup;

/// This program's own settings, read from the config file.
#[derive(serde::Deserialize)]
struct Settings {
    greeting: Option<String>,
    /// The paths it answers `GET` on; `["/hello"]` when left out.
    paths: Option<Vec<String>>,
}

fn program(cfg: &Config, settings: &Settings, s: &mut Stack) -> deployer::error::Result<()> {
    let greeting = settings.greeting.clone();
    let greeting = greeting.unwrap_or_else(|| "hello".into());
    let name = format!("{}-hello", cfg.name_prefix);
    let role = s.add("role", Role::for_lambda(format!("{name}-lambda")));
    let logs = s.add("logs", LogGroup::for_function(&name, Some(7)));
    let api = s.add("api", Api::new(name.clone()));
    let mut f = Function::new(name.clone(), role.arn());
    f.code = Code::krate("echo");
    f.environment.insert("GREETING".into(), greeting.into());
    f.environment.insert("PUBLIC_URL".into(), api.endpoint());
    let function = s.add_after("function", f, &[logs.key()]);
    let permission = Permission::for_api(function.name(), api.execution_arn());
    s.add("permission", permission);
    let integration = s.add(
        "integration",
        Integration {
            api_id: api.id(),
            function_arn: function.arn(),
            ..Default::default()
        },
    );
    for path in settings.paths.clone().unwrap_or(vec!["/hello".into()]) {
        let route = Route::new(api.id(), format!("GET {path}"), integration.id());
        s.add(format!("route{path}"), route);
    }
    s.add("stage", Stage::new(api.id()));
    s.export("url", deployer::interpolate!("{}/hello", api.endpoint()));
    s.export("function_arn", function.arn());
    Ok(())
}

fn main() -> std::process::ExitCode {
    deployer::App::with_settings(program).main()
}
