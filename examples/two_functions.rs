//! Functions with code of their own behind one HTTP API: `GET /hello` runs
//! the `handler` crate, `GET /echo` the `echo` crate (`functions/echo`),
//! both crates of this workspace built in one cargo-lambda invocation.
//! `cargo run --example two_functions -- up` (or plan, down, outputs, ...).
use deployer::config::Config;
use deployer::model::Stack;
use deployer::package::Code;
use deployer::resources::api::{Api, Integration, Route, Stage};
use deployer::resources::lambda::{Function, Permission, Role};

fn program(cfg: &Config, s: &mut Stack) -> deployer::error::Result<()> {
    let name = format!("{}-two", cfg.name_prefix);
    let role = s.add("role", Role::for_lambda(format!("{name}-lambda")));
    let api = s.add("api", Api { name: name.clone() });
    for (key, code) in [
        ("hello", Code::krate("handler")),
        ("echo", Code::krate("echo")),
    ] {
        let mut f = Function::new(format!("{name}-{key}"), role.arn());
        f.code = code;
        f.environment.insert("PUBLIC_URL".into(), api.endpoint());
        let function = s.add(format!("function/{key}"), f);
        let from_api = api.execution_arn().map(|a| format!("{a}/*/*"));
        let permission = Permission::for_api_gateway(function.name(), from_api);
        s.add(format!("permission/{key}"), permission);
        let integration = s.add(
            format!("integration/{key}"),
            Integration {
                api_id: api.id(),
                function_arn: function.arn(),
            },
        );
        s.add(
            format!("route/{key}"),
            Route::new(api.id(), format!("GET /{key}"), integration.id()),
        );
        let url = deployer::interpolate!("{}/{}", api.endpoint(), key);
        s.export(format!("{key}_url"), url);
    }
    s.add("stage", Stage { api_id: api.id() });
    Ok(())
}

fn main() -> std::process::ExitCode {
    deployer::App::new(program).main()
}
