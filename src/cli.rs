//! The command line: parse the flags, run the operation, exit with its code.

use crate::config::Config;
use crate::error::{Error, Result};
use crate::ops::state::StateCmd;
use crate::ops::{build_package, down, outputs, up, Global};
use clap::{Parser, Subcommand};
use std::time::Instant;

/// The command line: global flags and one command.
#[derive(Parser, Debug)]
#[command(
    long_about = None,
    name = "deployer",
    version,
    about = "Deploys a stack written as a Rust program straight through the AWS SDK (no Terraform, no CloudFormation); `deployer` itself runs the Cognito + API Gateway + Lambda example"
)]
pub struct Cli {
    /// The flags every command takes.
    #[command(flatten)]
    pub global: Global,
    /// The command.
    #[command(subcommand)]
    pub cmd: Cmd,
}

/// The commands.
#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Make AWS match the declared stack.
    Up {
        /// Print the plan and change nothing (same as `plan`).
        #[arg(long)]
        dry_run: bool,
        /// Then redeploy the functions' code on every change to their crates
        /// (built with the dev loop's profile), until Ctrl-C.
        #[arg(long, conflicts_with = "dry_run")]
        watch: bool,
    },
    /// Show what `up` would do, changing nothing.
    Plan {
        /// Exit 0 when there is nothing to do, 2 when changes are pending,
        /// 1 on error (for CI drift checks).
        #[arg(long)]
        detailed_exitcode: bool,
    },
    /// Delete everything the stack owns.
    Down {
        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,
    },
    /// Adopt a resource that exists in AWS into the stack's state, tagged as
    /// its own (refused for another stack's); `plan` then shows what `up`
    /// would change in it.
    Import {
        /// The resource's key in the program (as `plan` shows it).
        key: String,
        /// Its AWS ID (pool ID, API ID, function or role name, ...).
        id: String,
    },
    /// Print the stack's outputs.
    Outputs {
        /// One output, printed raw (like `terraform output --raw`).
        name: Option<String>,
        /// Print the secret outputs too (a client secret: read live from
        /// AWS, never from the state).
        #[arg(long)]
        show_secrets: bool,
    },
    /// Build the `handler` crate's zip (the example's function) and print
    /// its path and CodeSha256.
    Package {
        /// The dev loop's build for Lambda (`lambda-dev` profile:
        /// unoptimised, incremental; what `up --watch` deploys) instead of
        /// the release one `up` deploys.
        #[arg(long, conflicts_with = "local")]
        dev: bool,
        /// The dev loop's build for this machine, with plain cargo: what
        /// `deployer dev` runs.
        #[arg(long)]
        local: bool,
    },
    /// The whole stack offline: moto + a local data plane on 127.0.0.1.
    Dev(crate::local::DevOpts),
    /// The local AWS control plane alone, until Ctrl-C: moto_server behind
    /// awsim (moto's gaps answered as AWS answers them; every request
    /// checked against AWS's service models and documented rules), for
    /// `--endpoint-url` / `AWS_ENDPOINT_URL` work. `dev` starts the same.
    Emulator {
        /// Its port on 127.0.0.1 (0: a free one, printed).
        #[arg(long, default_value_t = 4510)]
        port: u16,
        /// AWS's eventual consistency too (a new role briefly not assumable,
        /// a function Pending, a domain creating), as on a real account.
        #[arg(long)]
        realism: bool,
        /// The account's Lambda concurrency limit (a new account has 10).
        #[arg(long)]
        account_concurrency: Option<u32>,
        /// AWS's documented request-rate quotas per account and region
        /// (awsim/QUOTAS.md): past one, the service's own throttling error.
        #[arg(long)]
        quotas: bool,
        /// The share of each quota left to deployer (0.5: other callers
        /// take half); with --quotas.
        #[arg(long, default_value_t = 1.0, requires = "quotas")]
        quota_scale: f64,
        /// Seconds added to every request (the distance to a region: 0.05).
        #[arg(long)]
        latency: Option<f64>,
    },
    /// The functions' logs (CloudWatch Logs `/aws/lambda/{name}`; for a
    /// `deployer dev` stack, the local functions'), START/END/REPORT included.
    Logs {
        /// One function: its key in the program (`function/003`) or its
        /// name; else every function of the stack, each line naming its own.
        key: Option<String>,
        /// Keep printing new lines until Ctrl-C.
        #[arg(long, short)]
        follow: bool,
        /// How far back to start: 30s, 10m, 2h, 1d.
        #[arg(long, default_value = "10m")]
        since: String,
    },
    /// Remove a lock left by a killed run (like `terraform force-unlock`).
    Unlock {
        /// The lock ID the "locked" error printed.
        lock_id: String,
    },
    /// Look at and move state: list, show, push (local -> backend), pull,
    /// claim, rm.
    #[command(subcommand)]
    State(StateCmd),
    /// Install (if missing) and print the path of a pinned tool
    /// (moto_server, cargo-lambda) from the project's tool virtualenv.
    #[command(hide = true)]
    Tool {
        /// `moto_server` or `cargo-lambda`.
        name: String,
    },
}

/// The CLI entry point for a stack program with no settings of its own:
/// `up`, `plan`, `down`, `outputs`, `dev`, `logs`, `state` for the resources
/// `program` declares. Same as `App::new(program).main()`.
pub fn main_with(program: crate::model::Program) -> std::process::ExitCode {
    main_with_app(crate::App::new(program))
}

/// The CLI for the example stack (the `deployer` binary).
pub fn main() -> std::process::ExitCode {
    main_with_app(crate::App::default())
}

impl crate::App {
    /// Runs the command line (`up`, `plan`, `down`, `outputs`, `dev`, ...)
    /// for this program and returns the process's exit code.
    pub fn main(self) -> std::process::ExitCode {
        main_with_app(self)
    }
}

/// The CLI for `app` (`App::main`).
pub fn main_with_app(app: crate::App) -> std::process::ExitCode {
    let mut cli = Cli::parse();
    cli.global.app = app;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let dev = matches!(cli.cmd, Cmd::Dev(_) | Cmd::Emulator { .. });
    let r = rt.block_on(async {
        if dev {
            // `deployer dev` handles Ctrl-C itself (it stops its servers).
            return run(cli).await;
        }
        // The run is a task of its own: a panic in it comes back here as an
        // error, and a signal stops it; either way the locks are released.
        let task = tokio::spawn(run(cli));
        let abort = task.abort_handle();
        let r = tokio::select! {
            r = task => r.unwrap_or_else(|e| Err(Error::Other(format!(
                "deployer stopped on an internal error ({e}): the state holds every step that finished; run the command again to go on"
            )))),
            signal = crate::local::stop_signal() => {
                abort.abort();
                // A handler build in progress stops too.
                crate::package::stop_builds();
                Err(Error::Other(format!(
                    "interrupted ({signal}): the state holds every step that finished; run the command again to go on"
                )))
            }
        };
        // Locks are released on success, on error, on a panic, on Ctrl-C
        // and on SIGTERM.
        crate::state::s3::release_all().await;
        r
    });
    // Do not wait for a build thread that a signal interrupted.
    rt.shutdown_timeout(std::time::Duration::from_secs(2));
    match r {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(Error::ChangesPending(_)) => std::process::ExitCode::from(2),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Runs one parsed command line (what `App::main` does inside its runtime).
pub async fn run(cli: Cli) -> Result<()> {
    let g = cli.global.clone();
    match cli.cmd {
        Cmd::Up { watch: true, .. } => crate::ops::watch::up_watch(&g).await,
        Cmd::Up { dry_run, .. } => up(&g, dry_run, None).await.map(|_| ()),
        Cmd::Plan { detailed_exitcode } => {
            let (rep, _, _) = up(&g, true, None).await?;
            if detailed_exitcode && rep.pending > 0 {
                return Err(Error::ChangesPending(rep.pending));
            }
            Ok(())
        }
        Cmd::Down { yes } => down(&g, yes).await,
        Cmd::Import { key, id } => crate::ops::import(&g, &key, &id).await,
        Cmd::Outputs { name, show_secrets } => outputs(&g, name.as_deref(), show_secrets).await,
        Cmd::Dev(opts) => crate::local::dev(&g, opts).await,
        Cmd::Emulator {
            port,
            realism,
            account_concurrency,
            quotas,
            quota_scale,
            latency,
        } => {
            let opts = crate::local::control::Options {
                port,
                realism: realism.then_some(1.0),
                account_concurrency,
                quotas: quotas.then_some(quota_scale),
                latency,
            };
            crate::local::control::serve(opts).await
        }
        Cmd::Logs { key, follow, since } => {
            crate::ops::logs::logs(&g, key.as_deref(), follow, &since).await
        }
        Cmd::Unlock { lock_id } => crate::ops::state::unlock(&g, &lock_id).await,
        Cmd::State(c) => crate::ops::state::run(&g, c).await,
        Cmd::Tool { name } => {
            println!("{}", crate::tools::ensure(&name)?.display());
            Ok(())
        }
        Cmd::Package { dev, local } => {
            let cfg = Config::load(g.config.as_deref())?;
            let t = Instant::now();
            let (path, p) = if dev {
                crate::package::build_with(cfg.architecture, crate::package::Profile::Dev)?
            } else if local {
                crate::package::build_with(cfg.architecture, crate::package::Profile::Local)?
            } else {
                build_package(&g, &cfg)?
            };
            if g.json {
                println!(
                    "{}",
                    serde_json::json!({"path": path, "code_sha256": p.sha256_b64, "bytes": p.zip.len(), "seconds": t.elapsed().as_secs_f64()})
                );
            } else {
                println!(
                    "{}\n  CodeSha256 {}\n  {} bytes, built in {:.1}s",
                    path.display(),
                    p.sha256_b64,
                    p.zip.len(),
                    t.elapsed().as_secs_f64()
                );
            }
            Ok(())
        }
    }
}
