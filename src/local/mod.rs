//! `deployer dev`: the whole stack offline on one machine.
//!
//! moto_server is the control plane (every SDK call `up` makes); this module
//! adds the data plane moto lacks, on 127.0.0.1: the HTTP API (routes, JWT
//! authorizer, Lambda proxy), a Lambda host running the deployed
//! `bootstrap` under the Runtime API, and Cognito's hosted endpoints and
//! issuer. The data plane reads its configuration from the control plane.

pub mod apigw;
pub mod control;
pub mod idp;
pub mod lambda;
pub mod logs;
pub use idp::signup;
pub mod tokens;

use crate::aws::{Clients, Target};
use crate::error::{Error, Result};
use crate::kind::{Known, Urls};
use crate::local::lambda::FunctionConfig;
use crate::ops::Global;
use serde_json::Value;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the data plane shares between requests.
pub struct Plane {
    pub aws: Clients,
    pub region: String,
    pub account: String,
    /// The program's user pools: one local issuer each, one hosted login
    /// for all (a client ID names its pool).
    pub pools: Vec<String>,
    pub idp_base: String,
    pub keys: tokens::Keys,
    pub codes: Mutex<HashMap<String, idp::Grant>>,
    pub refresh: Mutex<HashMap<String, idp::Grant>>,
    /// Sign-ups of the hosted login waiting for their emailed code.
    pub signups: Mutex<HashMap<String, signup::Pending>>,
    pub lambda: lambda::LambdaHost,
    pub http: reqwest::Client,
    pub jwks_cache: Mutex<HashMap<String, Value>>,
    /// The control plane's answers the data plane reads on every request.
    pub reads: Reads,
}

/// How long the data plane serves a control-plane read from memory: API
/// Gateway, too, takes seconds to apply a change. A `--watch` redeploy
/// clears it at once.
pub const READ_TTL: Duration = Duration::from_secs(1);

/// Control-plane reads (the API, its routes, stage, integrations,
/// authorizers, functions) kept for `READ_TTL`: every request read them
/// from moto, five calls of a Python server per request, which took a core
/// under a client's load and slowed `--watch`'s rebuild sharing the machine.
#[derive(Default)]
pub struct Reads {
    map: Mutex<HashMap<String, Kept>>,
    /// Bumped by `clear`: a read that started before it is not kept.
    generation: std::sync::atomic::AtomicU64,
}

/// A read and when it was made.
type Kept = (std::time::Instant, Arc<dyn std::any::Any + Send + Sync>);

impl Reads {
    /// The answer to `key` read within `READ_TTL`, or `fetch`'s (kept if it
    /// succeeds and no `clear` came meanwhile). Errors are never kept.
    pub async fn get<T, E, F>(&self, key: String, fetch: F) -> std::result::Result<Arc<T>, E>
    where
        T: Send + Sync + 'static,
        F: std::future::Future<Output = std::result::Result<T, E>>,
    {
        use std::sync::atomic::Ordering;
        let hit = self
            .map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .filter(|(at, _)| at.elapsed() < READ_TTL)
            .map(|(_, v)| v.clone());
        if let Some(v) = hit.and_then(|v| v.downcast::<T>().ok()) {
            return Ok(v);
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let v = Arc::new(fetch.await?);
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if self.generation.load(Ordering::SeqCst) == generation {
            map.insert(key, (std::time::Instant::now(), v.clone()));
        }
        Ok(v)
    }

    /// Forgets every read (after a redeploy).
    pub fn clear(&self) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        map.clear();
    }
}

impl Plane {
    /// A pool's local issuer URL.
    pub fn issuer(&self, pool: &str) -> String {
        format!("{}/{pool}", self.idp_base)
    }

    /// A function's configuration as the control plane has it (read within
    /// `READ_TTL`), by name or ARN: what the local Lambda host runs.
    pub async fn function_config(&self, function: &str) -> Result<FunctionConfig, String> {
        let f = self
            .reads
            .get(
                format!("GetFunction {function}"),
                self.aws
                    .lambda
                    .get_function()
                    .function_name(function)
                    .send(),
            )
            .await
            .map_err(|e| format!("GetFunction {function}: {e}"))?;
        let reserved = f
            .concurrency
            .as_ref()
            .and_then(|c| c.reserved_concurrent_executions)
            .filter(|n| *n > 0);
        let c = f
            .configuration
            .clone()
            .ok_or_else(|| format!("the function {function} has no configuration"))?;
        Ok(FunctionConfig {
            name: c.function_name.clone().unwrap_or_default(),
            arn: c.function_arn.clone().unwrap_or_default(),
            env: c
                .environment
                .and_then(|e| e.variables)
                .map(|v| v.into_iter().collect())
                .unwrap_or_default(),
            timeout: Duration::from_secs(c.timeout.unwrap_or(3).max(1) as u64),
            memory_mb: c.memory_size.unwrap_or(128),
            code_sha256: c.code_sha256.unwrap_or_default(),
            region: self.region.clone(),
            concurrency: reserved
                .map(|n| n as usize)
                .unwrap_or(crate::local::lambda::DEFAULT_CONCURRENCY),
        })
    }
}

/// How long dev's own control plane may pause before a call to it fails
/// (`--stall-timeout` for AWS is 20 s).
const LOCAL_STALL_SECS: u64 = 120;

#[derive(Debug, Clone, clap::Args)]
pub struct DevOpts {
    /// Port of the program's first API (example_url); its next APIs on the
    /// ports after it; 0 picks free ones.
    #[arg(long, default_value_t = 0)]
    pub api_port: u16,
    /// Port of the local Cognito hosted login and of every pool's issuer; 0
    /// picks a free one.
    #[arg(long, default_value_t = 0)]
    pub idp_port: u16,
    /// Deploy, print the outputs and stop (no serving): for scripts.
    #[arg(long)]
    pub no_serve: bool,
    /// Rebuild a function's crate (dev profile) and redeploy its code on
    /// every change to it; requests meanwhile are served by the old code.
    #[arg(long, conflicts_with = "no_serve")]
    pub watch: bool,
}

async fn bind(port: u16) -> Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| {
            Error::Other(format!(
                "cannot listen on 127.0.0.1:{port}: {e}; pick another with --api-port/--idp-port"
            ))
        })
}

pub async fn dev(g: &Global, opts: DevOpts) -> Result<()> {
    // The handler runs on this machine: plain cargo's build for it
    // (unoptimised, incremental; what --watch rebuilds), made while moto
    // starts; no cargo-lambda, no zig.
    let cfg = crate::config::Config::load(g.config.as_deref())?;
    // What --watch watches: the crates the functions are built from.
    let watched = match opts.watch {
        true => crate::ops::watch::watched(g, &cfg)?,
        false => vec![],
    };
    if opts.watch && watched.is_empty() {
        return Err(Error::Other(
            "--watch rebuilds the functions' crates: none of the program's functions is built from one here (a zip, or --handler-zip)".into(),
        ));
    }
    let new_tools = !crate::tools::installed("moto_server");
    let new_build = g.handler_zip.is_none()
        && !crate::package::built_before(cfg.architecture, crate::package::Profile::Local);
    let first = match (new_tools, new_build) {
        (true, true) => Some("building the functions' code and its dependencies (about a minute on 2 cores) while moto installs (about a minute)"),
        (true, false) => Some("installing moto (about a minute)"),
        (false, true) => Some("building the functions' code and its dependencies (about a minute on 2 cores)"),
        (false, false) => None,
    };
    if let Some(first) = first {
        eprintln!("deployer dev: a first run here: {first}; later runs serve in seconds");
    }
    let build = match &g.handler_zip {
        Some(_) => None,
        None => {
            // The handler builds while moto installs (about a minute) and
            // starts.
            let arch = cfg.architecture;
            Some(tokio::task::spawn_blocking(move || {
                crate::package::build_with(arch, crate::package::Profile::Local)
            }))
        }
    };
    let moto = match &g.endpoint_url {
        Some(_) => None,
        None => {
            eprintln!("deployer dev: starting the AWS control plane on 127.0.0.1 (moto_server behind awsim)");
            Some(control::start(&control::Options::default()).await?)
        }
    };
    let built = match build {
        Some(b) => Some(
            b.await
                .map_err(|e| Error::Other(format!("the handler build stopped: {e}")))??
                .0,
        ),
        None => None,
    };
    let endpoint = g
        .endpoint_url
        .clone()
        .or_else(|| moto.as_ref().map(|m| m.endpoint.clone()))
        .unwrap_or_default();
    // The program, declared once: what is served and printed.
    let declared = g.app.declare(&cfg).ok();
    // Every API the program declares gets its own listener (its base URL),
    // as each has its own endpoint on AWS: the first on --api-port, the
    // next ones on the ports after it (or free ones).
    let api_keys: Vec<String> = declared
        .as_ref()
        .map(|(res, _)| {
            res.iter()
                .filter(|r| r.kind_name() == API_KIND)
                .map(|r| r.key())
                .collect()
        })
        .unwrap_or_default();
    let mut api_ls = vec![];
    for i in 0..api_keys.len() {
        let port = match opts.api_port {
            0 => 0,
            p => p.checked_add(i as u16).ok_or_else(|| {
                Error::Other(format!(
                    "--api-port {p}: the program has {} APIs, one port each from it",
                    api_keys.len()
                ))
            })?,
        };
        let l = bind(port).await?;
        let base = format!(
            "http://{}",
            l.local_addr().map_err(|e| Error::Other(e.to_string()))?
        );
        api_ls.push((l, base));
    }
    let apis: std::collections::BTreeMap<String, String> = api_keys
        .iter()
        .cloned()
        .zip(api_ls.iter().map(|(_, b)| b.clone()))
        .collect();
    let api_base = api_ls.first().map(|(_, b)| b.clone()).unwrap_or_default();
    let idp_l = bind(opts.idp_port).await?;
    let idp_base = format!(
        "http://{}",
        idp_l
            .local_addr()
            .map_err(|e| Error::Other(e.to_string()))?
    );
    let mut g2 = g.clone();
    g2.endpoint_url = Some(endpoint.clone());
    // An emulator takes any credentials; nothing here reaches AWS, and the
    // user's own (a profile, SSO) are neither needed nor asked for.
    g2.emulator_credentials = true;
    // The functions' crates run here too: built for this machine.
    g2.local_build = true;
    if built.is_some() {
        g2.handler_zip = built;
    }
    if g2.stack == "default" {
        g2.stack = "dev".into();
    }
    // dev's own control plane is a Python process of this machine, alive
    // (it is dev's child) but slow on a busy machine (a fresh moto loads
    // IAM's managed policies on its first calls: over 20 s seen with two
    // test runs on 2 cores): a pause there is load, not a wrong endpoint.
    if moto.is_some() {
        g2.stall_timeout = g2.stall_timeout.max(LOCAL_STALL_SECS);
        g2.attempt_timeout = g2.attempt_timeout.max(LOCAL_STALL_SECS + 60);
        g2.operation_timeout = g2.operation_timeout.max(2 * LOCAL_STALL_SECS + 60);
    }
    let urls = Urls::Local {
        idp: idp_base.clone(),
        api: api_base.clone(),
        apis: apis.clone(),
    };
    let (_report, known, ctx) = crate::ops::up_local(&g2, urls.clone(), &endpoint).await?;
    let sdk = crate::aws::load_sdk_config(&Target {
        region: Some(ctx.region.clone()),
        profile: None,
        endpoint_url: Some(endpoint.clone()),
        timeouts: g2.timeouts(),
        emulator_credentials: g2.emulator_credentials,
    })
    .await?;
    // Where the function's code is unpacked and run: private (0700) and
    // unpredictable, so that no other local user can plant a binary there.
    let work_dir = private_work_dir()?;
    let work = work_dir.path().to_path_buf();
    // Every function's code, whichever the control plane reports.
    let packages: Vec<_> = ctx
        .package
        .iter()
        .chain(ctx.packages.values())
        .cloned()
        .collect();
    let plane = Arc::new(Plane {
        aws: Clients::new(&sdk),
        region: ctx.region.clone(),
        account: ctx.account.clone(),
        pools: ids_of_kind(&declared, &known, "aws:cognito:UserPool"),
        idp_base: idp_base.clone(),
        keys: tokens::Keys::generate(),
        codes: Mutex::new(HashMap::new()),
        refresh: Mutex::new(HashMap::new()),
        signups: Mutex::new(HashMap::new()),
        lambda: lambda::LambdaHost::new(packages, work.clone(), &endpoint).with_logs(
            std::sync::Arc::new(logs::CloudWatchSink::start(
                aws_sdk_cloudwatchlogs::Client::new(&sdk),
                ids_of_kind(&declared, &known, "aws:logs:LogGroup")
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| "/aws/lambda/local".into()),
                true,
            )),
        ),
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| Error::Other(e.to_string()))?,
        jwks_cache: Mutex::new(HashMap::new()),
        reads: Reads::default(),
    });
    print_walkthrough(&g2, &declared, &known, &ctx, &api_base);
    if opts.no_serve {
        return Ok(());
    }
    let mut servers = vec![];
    for (key, (l, base)) in api_keys.iter().zip(api_ls) {
        let served = apigw::Served {
            plane: plane.clone(),
            api_id: known.get(key, "id").unwrap_or_default(),
            base: base.clone(),
        };
        let app = axum::Router::new()
            .fallback(apigw::handle)
            .with_state(served);
        servers.push(tokio::spawn(async move {
            axum::serve(l, app.into_make_service_with_connect_info::<SocketAddr>()).await
        }));
        eprintln!("deployer dev: serving the API {key} on {base}");
    }
    let idp_app = idp::router(plane.clone());
    servers.push(tokio::spawn(
        async move { axum::serve(idp_l, idp_app).await },
    ));
    eprintln!("deployer dev: serving Cognito (issuers, hosted login) on {idp_base}; Ctrl-C stops everything");
    let reloads = opts.watch.then(|| {
        let (plane, g2, urls, endpoint, api_base) = (
            plane.clone(),
            g2.clone(),
            urls.clone(),
            endpoint.clone(),
            api_base.clone(),
        );
        let built = ctx.packages.clone();
        tokio::spawn(async move {
            reload_loop(plane, g2, urls, endpoint, api_base, watched, built).await
        })
    });
    wait_for_stop().await;
    if let Some(r) = reloads {
        r.abort();
    }
    eprintln!("deployer dev: stopping");
    for s in servers {
        s.abort();
    }
    plane.lambda.stop().await;
    drop(moto);
    drop(work_dir);
    // Forget the local stack: it lived in the emulator that just stopped.
    let store = crate::state::Store::new(&g2.state_dir, &g2.stack);
    let _ = std::fs::remove_file(&store.path);
    let _ = std::fs::remove_file(store.backup_path());
    let _ = std::fs::remove_file(store.path.with_extension("lock"));
    Ok(())
}

/// `deployer dev --watch`: each change to one of the functions' crates
/// rebuilds that crate only, makes the new build runnable, then deploys its
/// code to the control plane; requests meanwhile are served by the old
/// code, whose instances retire once the control plane reports the new
/// CodeSha256.
async fn reload_loop(
    plane: Arc<Plane>,
    mut g: Global,
    urls: Urls,
    endpoint: String,
    api_base: String,
    watched: Vec<(crate::package::Code, std::path::PathBuf)>,
    mut built: crate::package::Packages,
) {
    use crate::ops::watch::{names, rebuild_changed, Changes};
    let arch = match crate::config::Config::load(g.config.as_deref()) {
        Ok(c) => c.architecture,
        Err(e) => return eprintln!("deployer dev: --watch stopped: {e}"),
    };
    let mut changes = match Changes::watch(&watched) {
        Ok(c) => c,
        Err(e) => return eprintln!("deployer dev: --watch stopped: {e}"),
    };
    let shown: Vec<String> = watched
        .iter()
        .map(|(_, d)| d.display().to_string())
        .collect();
    eprintln!("deployer dev: watching {} for changes", shown.join(", "));
    let http = reqwest::Client::new();
    while let Some(changed) = changes.next().await {
        let which = names(&changed);
        eprintln!("deployer dev: {which} changed: rebuilding {which}");
        let r = match rebuild_changed(arch, crate::package::Profile::Local, changed).await {
            Ok(b) => b,
            Err(e) => {
                eprintln!("deployer dev: the build failed; the previous code keeps serving:\n{e}");
                continue;
            }
        };
        // The new builds are runnable before the control plane names them.
        let mut new: Vec<Arc<crate::package::Package>> = r.crates.values().cloned().collect();
        if let Some((zip, pkg)) = r.handler {
            g.handler_zip = Some(zip);
            new.push(Arc::new(pkg));
        }
        built.extend(r.crates);
        let ahead = {
            let plane = plane.clone();
            let shas: Vec<String> = new.iter().map(|p| p.sha256_b64.clone()).collect();
            for p in new {
                plane.lambda.add_package(p);
            }
            tokio::task::spawn_blocking(move || {
                shas.iter()
                    .try_for_each(|sha| plane.lambda.unpack_ahead(sha))
            })
        };
        let mut g3 = g.clone();
        g3.prebuilt = Some(Arc::new(built.clone()));
        g3.quiet = true;
        let t = std::time::Instant::now();
        let deployed = crate::ops::up_local(&g3, urls.clone(), &endpoint).await;
        if let Ok(Err(e)) = ahead.await {
            eprintln!("deployer dev: unpacking the new build: {e:?}");
        }
        plane.reads.clear();
        if let Err(e) = deployed {
            eprintln!("deployer dev: redeploying failed; the previous code keeps serving: {e}");
            continue;
        }
        let deploy = t.elapsed();
        let t = std::time::Instant::now();
        // The first API's root, if the program has an API.
        let first = match api_base.is_empty() {
            true => None,
            false => Some(
                http.get(format!("{api_base}/"))
                    .timeout(Duration::from_secs(30))
                    .send()
                    .await
                    .map(|r| r.status().as_u16()),
            ),
        };
        let took = t.elapsed();
        eprintln!(
            "deployer dev: reloaded in {:.1} s (build {:.1} s, deploy {:.2} s, first response {:.2} s{})",
            r.took.as_secs_f64() + deploy.as_secs_f64() + took.as_secs_f64(),
            r.took.as_secs_f64(),
            deploy.as_secs_f64(),
            took.as_secs_f64(),
            match first {
                Some(Ok(code)) => format!(", HTTP {code}"),
                Some(Err(e)) => format!(", no answer: {e}"),
                None => String::new(),
            }
        );
    }
}

async fn wait_for_stop() {
    stop_signal().await;
}

/// Waits for Ctrl-C or SIGTERM and says which came.
pub async fn stop_signal() -> &'static str {
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = tokio::signal::ctrl_c() => "Ctrl-C",
                _ = term.recv() => "SIGTERM",
            },
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                "Ctrl-C"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}

/// The kind of the APIs `deployer dev` serves, one listener each.
const API_KIND: &str = "aws:apigatewayv2:Api";

/// The IDs of the resources of `kind` the program declares, in order: the
/// pools and the log group `deployer dev` serves, whatever their keys.
fn ids_of_kind(declared: &Option<Program>, known: &Known, kind: &str) -> Vec<String> {
    declared
        .iter()
        .flat_map(|(res, _)| res.iter())
        .filter(|r| r.kind_name() == kind)
        .filter_map(|r| known.get(&r.key(), "id"))
        .collect()
}

/// What a program declares: its resources and exports.
type Program = (Vec<crate::model::Res>, crate::model::Exports);

fn print_walkthrough(
    g: &Global,
    declared: &Option<Program>,
    known: &Known,
    ctx: &crate::kind::Ctx,
    api: &str,
) {
    use crate::render::print_out;
    let outs = declared
        .as_ref()
        .map(|(_, exports)| crate::outputs::compute(exports, ctx, known))
        .unwrap_or_default();
    // The walk-through is the example's; another program has its outputs.
    if !outs.iter().any(|v| v.name == "oidc_token_url") {
        print_out("\nThe stack runs locally (moto control plane + local data plane). Its outputs:");
        for v in &outs {
            let shown = match (&v.value, v.secret) {
                (Some(_), true) => "(secret: outputs --show-secrets)".to_string(),
                (Some(x), false) => x.clone(),
                (None, _) => "(unknown)".to_string(),
            };
            print_out(&format!("  {} = {shown}", v.name));
        }
        let me = std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| "deployer".into());
        print_out(&format!(
            "  # from another terminal:\n  {me} --stack {} outputs --json",
            g.stack
        ));
        return;
    }
    let get = |k: &str| {
        outs.iter()
            .find(|v| v.name == k)
            .and_then(|v| v.value.clone())
            .unwrap_or_default()
    };
    let me = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "deployer".into());
    print_out(&format!(
        r#"
The stack runs locally (moto control plane + local data plane). The local
client secret below is a throwaway of this emulator run.

  # 2. a client-credentials token
  token="$(curl -s -u '{id}:{secret}' -d grant_type=client_credentials '{token_url}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
  # 3. the example service validates it itself
  curl -s -H "Authorization: Bearer $token" '{api}'
  # 4. the route protected by API Gateway's JWT authorizer: 401, then 200
  curl -s '{api}/jwt-cognito-protected'
  curl -s -H "Authorization: Bearer $token" '{api}/jwt-cognito-protected'
  # 5. log in as alice (password HeyH0Password!) in a browser:
  #    {redirect}
  # outputs, from another terminal:
  {me} --stack {stack} outputs --json
"#,
        id = get("example_client_id"),
        secret = get("example_client_secret"),
        token_url = get("oidc_token_url"),
        redirect = get("example_authorization_code_oidc_redirect_url"),
        stack = g.stack,
    ));
}

/// A new private directory for `deployer dev`'s working files: mode 0700 and
/// a random name (`deployer-dev-XXXXXX` in the temp dir), removed when
/// dropped.
pub fn private_work_dir() -> Result<tempfile::TempDir> {
    use std::os::unix::fs::PermissionsExt;
    tempfile::Builder::new()
        .prefix("deployer-dev-")
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()
        .map_err(|e| Error::io(std::env::temp_dir().display().to_string(), e))
}

#[cfg(test)]
mod work_dir_tests {
    #[test]
    fn the_work_dir_is_private_and_unpredictable() {
        use std::os::unix::fs::PermissionsExt;
        let a = super::private_work_dir().unwrap();
        let b = super::private_work_dir().unwrap();
        assert_ne!(a.path(), b.path());
        let name = a.path().file_name().unwrap().to_string_lossy().to_string();
        assert!(name.starts_with("deployer-dev-"), "{name}");
        assert!(!name.contains(&std::process::id().to_string()), "{name}");
        let mode = std::fs::metadata(a.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }
}

#[cfg(test)]
mod reads_tests {
    use super::Reads;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// A read is served from memory until `clear`; errors are not kept; a
    /// read that started before a `clear` is not kept (it may be the old
    /// deployment's).
    #[tokio::test]
    async fn reads_are_kept_until_cleared() {
        let reads = Reads::default();
        let calls = AtomicU32::new(0);
        let fetch = || async { Ok::<u32, String>(calls.fetch_add(1, Ordering::SeqCst) + 1) };
        assert_eq!(*reads.get("a".into(), fetch()).await.unwrap(), 1);
        assert_eq!(*reads.get("a".into(), fetch()).await.unwrap(), 1);
        assert_eq!(*reads.get("b".into(), fetch()).await.unwrap(), 2);
        reads.clear();
        assert_eq!(*reads.get("a".into(), fetch()).await.unwrap(), 3);
        assert_eq!(*reads.get("a".into(), fetch()).await.unwrap(), 3);
        // An error is returned, never kept.
        let e = reads
            .get::<u32, _, _>("c".into(), async { Err("no".to_string()) })
            .await;
        assert_eq!(e.unwrap_err(), "no");
        assert_eq!(*reads.get("c".into(), fetch()).await.unwrap(), 4);
        // A read in flight across a clear answers its caller, and is not kept.
        let slow = async {
            reads.clear();
            Ok::<u32, String>(100)
        };
        assert_eq!(*reads.get("d".into(), slow).await.unwrap(), 100);
        assert_eq!(*reads.get("d".into(), fetch()).await.unwrap(), 5);
    }
}
