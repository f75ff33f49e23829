//! A refactor without destroy: the pool once declared as `pool` is now
//! `accounts` (`s.moved`), and `up` moves its state entry (and its
//! resource server's parent) instead of replacing it. The setting
//! `renamed = true` in the `--config` file picks the program after the
//! refactor, so that one binary shows both.
//! `cargo run --example moved -- up`, then with `renamed = true`: `plan`
//! shows no change.
use deployer::config::Config;
use deployer::model::Stack;
use deployer::resources::cognito::{ResourceServer, UserPool};

#[derive(serde::Deserialize)]
struct Settings {
    #[serde(default)]
    renamed: bool,
}

fn program(cfg: &Config, settings: &Settings, s: &mut Stack) -> deployer::error::Result<()> {
    let name = format!("{}-moved", cfg.name_prefix);
    let key = match settings.renamed {
        true => "accounts",
        false => "pool",
    };
    let pool = s.add(key, UserPool::new(name.clone()));
    if key == "accounts" {
        s.moved("pool", &pool);
    }
    let api = ResourceServer {
        user_pool_id: pool.id(),
        identifier: "api".into(),
        name: name.clone(),
        scopes: vec![("read".into(), "Read".into())],
    };
    s.add("api_scopes", api);
    s.export("pool_id", pool.id());
    Ok(())
}

fn main() -> std::process::ExitCode {
    deployer::App::with_settings(program).main()
}
