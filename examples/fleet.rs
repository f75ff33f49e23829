//! A service the size teams grow to, generated from its config: `functions`
//! functions (10 by default), each with its own role, log group,
//! permission, integration and route behind one HTTP API and stage, plus
//! `pools` Cognito user pools (one per 25 functions by default), each with
//! a resource server, two app clients and two groups. At N functions that
//! is 6N + 2 + 6 per pool resources: 68 at N = 10, 314 at N = 50, 626 at
//! N = 100. Every function runs the example's `handler` crate.
//! What the scale bench (`benches/scale.sh`) and `tests/scale.rs` run:
//! `cargo run --example fleet -- up` with `functions = 50` in the config.
use deployer::config::Config;
use deployer::model::Stack;
use deployer::resources::api::{Api, Integration, Route, Stage};
use deployer::resources::cognito::{Client, Group, OAuthFlow, ResourceServer, UserPool};
use deployer::resources::lambda::{Function, Permission, Role};
use deployer::resources::logs::LogGroup;

/// The fleet's size (`--config` file).
#[derive(serde::Deserialize)]
struct Settings {
    /// How many functions (10 by default).
    functions: Option<usize>,
    /// How many user pools (one per 25 functions, at least one, by default).
    pools: Option<usize>,
    /// The function whose environment says `REVISION = revision` (a change
    /// of one function): `changed = 7` with `revision = "2"`.
    changed: Option<usize>,
    revision: Option<String>,
}

fn program(cfg: &Config, settings: &Settings, s: &mut Stack) -> deployer::error::Result<()> {
    let n = settings.functions.unwrap_or(10);
    let pools = settings.pools.unwrap_or((n / 25).max(1));
    let name = format!("{}-fleet", cfg.name_prefix);
    let api = s.add("api", Api::new(name.clone()));
    s.add("stage", Stage::new(api.id()));
    for i in 0..n {
        let f_name = format!("{name}-f{i:03}");
        let role = s.add(
            format!("role/{i:03}"),
            Role::for_lambda(format!("{f_name}-run")),
        );
        let logs = s.add(
            format!("logs/{i:03}"),
            LogGroup::for_function(&f_name, Some(7)),
        );
        let mut f = Function::new(f_name, role.arn());
        if settings.changed == Some(i) {
            let revision = settings.revision.clone().unwrap_or("1".into());
            f.environment.insert("REVISION".into(), revision.into());
        }
        let function = s.add_after(format!("function/{i:03}"), f, &[logs.key()]);
        s.add(
            format!("permission/{i:03}"),
            Permission::for_api(function.name(), api.execution_arn()),
        );
        let integration = s.add(
            format!("integration/{i:03}"),
            Integration {
                api_id: api.id(),
                function_arn: function.arn(),
                ..Default::default()
            },
        );
        let route = Route::new(api.id(), format!("GET /f{i:03}"), integration.id());
        s.add(format!("route/{i:03}"), route);
    }
    for p in 0..pools {
        let pool = s.add(
            format!("pool/{p}"),
            UserPool::new(format!("{name}-users{p}")),
        );
        let rs = s.add(
            format!("scopes/{p}"),
            ResourceServer {
                user_pool_id: pool.id(),
                identifier: format!("fleet{p}"),
                name: format!("{name}-api{p}"),
                scopes: vec![("call".into(), "Call the fleet".into())],
            },
        );
        for c in ["batch", "reports"] {
            s.add(
                format!("client/{p}/{c}"),
                Client {
                    user_pool_id: pool.id(),
                    name: c.into(),
                    flows: vec![OAuthFlow::ClientCredentials],
                    scopes: vec![rs.scope("call")],
                    ..Default::default()
                },
            );
        }
        for g in ["admins", "readers"] {
            s.add(
                format!("group/{p}/{g}"),
                Group {
                    user_pool_id: pool.id(),
                    name: g.into(),
                    description: format!("The fleet's {g}"),
                    ..Default::default()
                },
            );
        }
    }
    s.export("url", api.endpoint());
    Ok(())
}

fn main() -> std::process::ExitCode {
    deployer::App::with_settings(program).main()
}
