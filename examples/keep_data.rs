//! Keeping what cannot be made again: a user pool no run may delete or
//! replace (`protect`: `plan`, `up` and `down` stop and name the flag that
//! allows it once), and a log group `down` leaves in AWS, released from the
//! stack (`retain_on_delete`).
//! `cargo run --example keep_data -- up`, then `down --yes` (refused) and
//! `down --yes --unprotect pool`.
use deployer::config::Config;
use deployer::model::Stack;
use deployer::resources::cognito::UserPool;
use deployer::resources::logs::LogGroup;

fn program(cfg: &Config, s: &mut Stack) -> deployer::error::Result<()> {
    let name = format!("{}-keep", cfg.name_prefix);
    let pool = s.add("pool", UserPool::new(name.clone()));
    s.protect(&pool);
    let logs = s.add("logs", LogGroup::for_function(&name, Some(30)));
    s.retain_on_delete(&logs);
    s.export("pool_id", pool.id());
    Ok(())
}

fn main() -> std::process::ExitCode {
    deployer::App::new(program).main()
}
