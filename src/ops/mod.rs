//! The operations: `up`, `plan`, `down`, `outputs` (and what `deployer dev`,
//! `logs` and `state` reuse): open a stack's target and state, run the
//! program, drive the engine. The CLI parses into these; the offline mode
//! calls them too.

use crate::aws::{Clients, Target};
use crate::config::{Config, DEFAULT_REGION};
use crate::engine::{
    check_protected, foreign, foreign_error, plan, plan_with, Action, Engine, Node, StepReport,
};
use crate::error::{Error, Result};
use crate::kind::{Ctx, Cx, Known, Providers, Read, Urls};
use crate::package::Package;
use crate::render::{print_plan, printer};
use crate::state::{State, Store};
use clap::Args;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

pub mod logs;
pub mod state;
pub mod watch;

/// The options every operation takes (the CLI's global flags).
#[derive(Args, Debug, Clone)]
pub struct Global {
    /// Stack name: picks the state file `state/<NAME>.json` (or the S3 key
    /// `PREFIX/<NAME>.json`). Letters, digits, `-` and `_`, up to 64.
    #[arg(long, global = true, env = "DEPLOYER_STACK", default_value = "default", value_parser = stack_name)]
    pub stack: String,
    /// Optional TOML config (name_prefix, region, tags, users, architecture).
    #[arg(long, global = true, env = "DEPLOYER_CONFIG")]
    pub config: Option<PathBuf>,
    /// AWS region (else the config file, AWS_REGION, the profile, eu-west-1).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// AWS profile (SSO profiles included).
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// Send every AWS call to this endpoint (an emulator such as moto).
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
    /// Where the state lives: `s3://BUCKET[/PREFIX]` for a shared stack
    /// (else the config's `backend`, else the local --state-dir).
    #[arg(long, global = true, env = "DEPLOYER_BACKEND")]
    pub backend: Option<String>,
    /// Where state files live (the local backend).
    #[arg(
        long,
        global = true,
        env = "DEPLOYER_STATE_DIR",
        default_value = "state"
    )]
    pub state_dir: PathBuf,
    /// Use this handler zip instead of building the handler crate.
    #[arg(long, global = true, env = "DEPLOYER_HANDLER_ZIP")]
    pub handler_zip: Option<PathBuf>,
    /// Print one JSON document instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Deploy the seed's published demo password to AWS anyway (a
    /// throwaway stack): without it `up` refuses it on AWS, where the hosted
    /// login page is public. `deployer dev` and emulators never need it.
    #[arg(long, global = true, env = "DEPLOYER_ALLOW_DEMO_PASSWORD")]
    pub allow_demo_password: bool,
    /// Seconds an attempt of an AWS call may make no progress (no request
    /// bytes taken, no answer after the request was sent, the answer
    /// stopped): a stalled endpoint fails the call, naming it, instead of
    /// hanging; a slow but live upload goes on.
    #[arg(long, global = true, env = "DEPLOYER_STALL_TIMEOUT", default_value_t = crate::aws::DEFAULT_STALL_TIMEOUT_SECS)]
    pub stall_timeout: u64,
    /// Seconds one attempt of an AWS call may take (a Lambda zip upload's:
    /// at least an hour, the stall timeout guards it).
    #[arg(long, global = true, env = "DEPLOYER_ATTEMPT_TIMEOUT", default_value_t = crate::aws::DEFAULT_ATTEMPT_TIMEOUT_SECS)]
    pub attempt_timeout: u64,
    /// Seconds an AWS call may take in all, retries included (a Lambda zip
    /// upload's: at least an hour).
    #[arg(long, global = true, env = "DEPLOYER_OPERATION_TIMEOUT", default_value_t = crate::aws::DEFAULT_OPERATION_TIMEOUT_SECS)]
    pub operation_timeout: u64,
    /// At most this many of the plan's changes in flight at once (0: as
    /// many as are ready; every call is paced under AWS's request quotas
    /// anyway); the deletion of strays and of retired resources is not
    /// counted. Terraform's default is 10.
    #[arg(long, global = true, env = "DEPLOYER_PARALLELISM", default_value_t = 0)]
    pub parallelism: usize,
    /// Take at most this share (0 to 1) of each of AWS's documented request
    /// quotas: the rest is left to other callers of the account (another
    /// deploy in CI, the account's own services). A throttle slows the run
    /// further anyway.
    #[arg(long, global = true, env = "DEPLOYER_QUOTA_SHARE", default_value_t = 1.0, value_parser = quota_share)]
    pub quota_share: f64,
    /// Apply (or plan) only this resource and what it needs (its
    /// dependencies); repeatable. The rest of the stack is left as it is.
    #[arg(long = "target", global = true, value_name = "KEY")]
    pub target: Vec<String>,
    /// Allow this run to replace or delete a protected resource (its key,
    /// as `plan` shows it); repeatable.
    #[arg(long = "unprotect", global = true, value_name = "KEY")]
    pub unprotect: Vec<String>,
    /// Build the functions' code with the dev loop's profile (unoptimised,
    /// incremental, not reproducible from another clone): for a quick
    /// iteration, never a release (`up --watch` sets it).
    #[arg(long, global = true, env = "DEPLOYER_DEV_BUILD")]
    pub dev_build: bool,
    /// Build the functions' crates for this machine (`deployer dev`).
    #[arg(skip)]
    pub local_build: bool,
    /// The emulator's credentials (`deployer dev` without AWS credentials
    /// of its own): given to the SDK, not put in the process environment.
    #[arg(skip)]
    pub emulator_credentials: bool,
    /// Print nothing but errors (a `--watch` redeploy).
    #[arg(skip)]
    pub quiet: bool,
    /// Crates built already (a `--watch` redeploy rebuilds only the
    /// changed ones): used instead of building them again.
    #[arg(skip)]
    pub prebuilt: Option<Arc<crate::package::Packages>>,
    /// The program this run deploys (`App::main` sets it; the example by
    /// default).
    #[arg(skip)]
    pub app: crate::App,
}

pub fn build_package(g: &Global, cfg: &Config) -> Result<(PathBuf, Package)> {
    if let Some(z) = &g.handler_zip {
        let zip = std::fs::read(z).map_err(|e| Error::io(z.display().to_string(), e))?;
        return Ok((z.clone(), crate::package::from_zip(zip)));
    }
    match g.profile() {
        crate::package::Profile::Release => crate::package::build(cfg.architecture),
        p => crate::package::build_with(cfg.architecture, p),
    }
}

/// The codes the program's functions run (declared ones: a function the
/// program dropped is only deleted).
pub fn codes_of(nodes: &[Node]) -> Vec<crate::package::Code> {
    let mut codes: Vec<_> = nodes
        .iter()
        .filter(|n| n.declared)
        .filter_map(|n| n.res.code())
        .collect();
    codes.sort();
    codes.dedup();
    codes
}

/// Builds what the functions run: the handler package if one runs it (as
/// `build_package`), the other crates in one invocation with the same
/// profile, the zips read.
pub fn build_for_run(
    g: &Global,
    cfg: &Config,
    codes: &[crate::package::Code],
) -> Result<(Option<Arc<Package>>, crate::package::Packages)> {
    let package = if codes.contains(&crate::package::Code::Handler) {
        Some(Arc::new(build_package(g, cfg)?.1))
    } else {
        None
    };
    let prebuilt = g.prebuilt.as_deref().cloned().unwrap_or_default();
    let missing: Vec<_> = codes
        .iter()
        .filter(|c| !prebuilt.contains_key(c))
        .cloned()
        .collect();
    let mut packages = crate::package::build_codes(cfg.architecture, g.profile(), &missing)?;
    packages.extend(prebuilt.into_iter().filter(|(c, _)| codes.contains(c)));
    Ok((package, packages))
}

impl Global {
    /// How this run builds the functions' code: for this machine
    /// (`deployer dev`), the dev loop's build for Lambda (`--dev-build`,
    /// `up --watch`), else the reproducible release build.
    pub fn profile(&self) -> crate::package::Profile {
        use crate::package::Profile;
        if self.local_build {
            Profile::Local
        } else if self.dev_build {
            Profile::Dev
        } else {
            Profile::Release
        }
    }
}

/// `--quota-share`: a share of AWS's quotas, more than 0 and at most 1.
pub fn quota_share(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 1.0 => Ok(v),
        _ => Err(format!(
            "`{s}` is not a share of AWS's request quotas: give a number above 0 and at most 1 (0.5: half of each quota)"
        )),
    }
}

/// A stack name names a file and an S3 key: only letters, digits, `-` and
/// `_` (no `/`, no `..`, nothing empty), checked before anything is read.
pub fn stack_name(s: &str) -> std::result::Result<String, String> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if s.is_empty() {
        return Err(
            "a stack name cannot be empty: pass --stack NAME (letters, digits, - and _)".into(),
        );
    }
    if s.len() > 64
        || !s.chars().all(ok_char)
        || !s.starts_with(|c: char| c.is_ascii_alphanumeric())
    {
        return Err(format!(
            "{s:?} is not a stack name: use 1 to 64 letters, digits, '-' and '_', starting with a letter or digit (it names the state file and S3 key, so no '/', '.' or spaces); nothing was read or written"
        ));
    }
    Ok(s.to_string())
}

/// Everything a command needs once the target is known.
pub struct Session {
    pub cfg: Config,
    pub store: Arc<Store>,
    pub state: State,
    pub clients: Clients,
    pub region: String,
    pub account: String,
    /// From the caller's ARN: `aws`, `aws-cn` or `aws-us-gov`.
    pub partition: String,
    /// The state had no stack ID: `state.stack_id` is a new one, not yet
    /// saved (a new stack, or one written before stacks had IDs).
    pub new_identity: bool,
    /// The identity lookup in flight (see [`Session::confirm`]).
    pub pending: Option<tokio::task::JoinHandle<Result<(String, String)>>>,
}

impl Global {
    pub fn timeouts(&self) -> crate::aws::Timeouts {
        crate::aws::Timeouts {
            stall: std::time::Duration::from_secs(self.stall_timeout.max(1)),
            attempt: std::time::Duration::from_secs(self.attempt_timeout.max(1)),
            operation: std::time::Duration::from_secs(self.operation_timeout.max(1)),
        }
    }
}

/// The SDK configuration of the target: flags, the config file, the
/// aws-config chain; with no region anywhere, a local state's region, else
/// the default region.
pub async fn sdk_config(g: &Global, cfg: &Config) -> Result<aws_config::SdkConfig> {
    let explicit = g.region.clone().or_else(|| cfg.region.clone());
    let mut target = Target {
        region: explicit.clone(),
        profile: g.profile.clone(),
        endpoint_url: g.endpoint_url.clone(),
        timeouts: g.timeouts(),
        emulator_credentials: g.emulator_credentials,
    };
    match crate::aws::load_sdk_config(&target).await {
        Err(Error::NoRegion) => {
            let state_region = match backend_of(g, cfg)? {
                crate::state::Backend::Local(dir) => Store::new(&dir, &g.stack)
                    .load_file(&g.stack)
                    .ok()
                    .and_then(|s| s.region),
                _ => None,
            };
            target.region = Some(state_region.unwrap_or_else(|| DEFAULT_REGION.to_string()));
            crate::aws::load_sdk_config(&target).await
        }
        r => r,
    }
}

pub async fn open(g: &Global, lock: Option<&str>) -> Result<Session> {
    let cfg = Config::load(g.config.as_deref())?;
    let sdk = sdk_config(g, &cfg).await?;
    refuse_govcloud(
        &sdk.region().map(|r| r.to_string()).unwrap_or_default(),
        None,
    )?;
    let mut store = open_store(g, &cfg, &sdk).await?;
    if let Some(op) = lock {
        store.acquire(&g.stack, op).await?;
    }
    let mut state = store.load(&g.stack).await?;
    let new_identity = state.stack_id.is_none();
    if new_identity {
        state.stack_id = Some(State::new_stack_id());
    }
    let clients = Clients::sharing(&sdk, g.quota_share);
    let region = clients.region.clone();
    if let Some(r) = &state.region {
        if !state.resources.is_empty() && r != &region {
            return Err(Error::WrongTarget {
                path: store.path.display().to_string(),
                found: r.clone(),
                wanted: region,
            });
        }
    }
    // The caller's identity: asked beside the reads when the state names
    // the account its resources are in (one round trip fewer), checked
    // before anything changes (`Session::confirm`); else asked now.
    let ask = who_am_i(clients.sts.clone());
    let assumed = state
        .account
        .clone()
        .filter(|_| !state.resources.is_empty());
    let (account, partition, pending) = match assumed {
        Some(a) => {
            let p = state.partition.clone().unwrap_or_else(|| "aws".into());
            (a, p, Some(tokio::spawn(ask)))
        }
        None => {
            let (a, p) = ask.await?;
            check_identity(&state, &store.path, &region, &a, &p)?;
            (a, p, None)
        }
    };
    Ok(Session {
        cfg,
        store: Arc::new(store),
        state,
        clients,
        region,
        account,
        partition,
        new_identity,
        pending,
    })
}

/// STS GetCallerIdentity: the account and the partition (from the ARN).
async fn who_am_i(sts: aws_sdk_sts::Client) -> Result<(String, String)> {
    let who = sts.get_caller_identity().send().await.map_err(|e| {
        // No answer (a timeout, a refused connection) says nothing of
        // the credentials.
        if crate::error::no_response(&e) {
            return Error::aws("sts GetCallerIdentity", e);
        }
        Error::NoCredentials {
            detail: format!(
                "AWS rejected them ({})",
                aws_smithy_types::error::display::DisplayErrorContext(e)
            ),
        }
    })?;
    let account = who.account.unwrap_or_default();
    let partition = who
        .arn
        .as_deref()
        .and_then(|a| a.split(':').nth(1))
        .filter(|p| !p.is_empty())
        .unwrap_or("aws")
        .to_string();
    Ok((account, partition))
}

/// Refuses GovCloud, and credentials of another account than the one the
/// state's resources are in.
fn check_identity(
    state: &State,
    path: &std::path::Path,
    region: &str,
    account: &str,
    partition: &str,
) -> Result<()> {
    refuse_govcloud(region, Some(partition))?;
    if let Some(a) = &state.account {
        if !state.resources.is_empty() && a != account {
            return Err(Error::Other(format!(
                "state file {} belongs to AWS account {a}, but these credentials are for account {account}; use the right profile or another --stack",
                path.display()
            )));
        }
    }
    Ok(())
}

impl Session {
    /// Waits for the identity asked beside the reads and checks it: every
    /// run calls this before its first change.
    pub async fn confirm(&mut self) -> Result<()> {
        let Some(h) = self.pending.take() else {
            return Ok(());
        };
        let (account, partition) = h
            .await
            .map_err(|e| Error::Other(format!("the identity lookup stopped: {e}")))??;
        check_identity(
            &self.state,
            &self.store.path,
            &self.region,
            &account,
            &partition,
        )?;
        if partition != self.partition {
            return Err(Error::Other(format!(
                "state file {} records partition {}, but these credentials are for {partition}",
                self.store.path.display(),
                self.partition
            )));
        }
        Ok(())
    }
}

/// The SDK configuration for a `deployer dev` stack's emulator: its endpoint
/// and any credentials (it takes any), so no AWS credential is needed.
pub async fn local_sdk_config(
    state: &crate::state::State,
    endpoint: &str,
) -> aws_config::SdkConfig {
    let creds = crate::aws::emulator_credentials();
    crate::aws::defaults()
        .region(aws_config::Region::new(
            state
                .region
                .clone()
                .unwrap_or_else(|| DEFAULT_REGION.into()),
        ))
        .endpoint_url(endpoint)
        .credentials_provider(creds)
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(2))
        .timeout_config(crate::aws::Timeouts::default().config())
        .load()
        .await
}

/// The backend named by --backend / DEPLOYER_BACKEND, else the config's
/// `backend`, else the local --state-dir.
pub fn backend_of(g: &Global, cfg: &Config) -> Result<crate::state::Backend> {
    match g.backend.as_deref().or(cfg.backend.as_deref()) {
        Some(b) => crate::state::Backend::parse(b),
        None => Ok(crate::state::Backend::Local(g.state_dir.clone())),
    }
}

/// The stack's state store for reading, with no lock: the local backend
/// needs no AWS configuration (so no credentials), S3 loads it.
pub async fn read_store(g: &Global, cfg: &Config) -> Result<Store> {
    match backend_of(g, cfg)? {
        crate::state::Backend::Local(dir) => Ok(Store::new(&dir, &g.stack)),
        _ => open_store(g, cfg, &sdk_config(g, cfg).await?).await,
    }
}

/// The SDK configuration that reaches a stack: a `deployer dev` stack's
/// emulator (any credentials do), else AWS (the state's region by default).
/// The second value is the emulator's endpoint, for a local stack.
pub async fn stack_sdk(
    g: &Global,
    cfg: &Config,
    state: &crate::state::State,
) -> Result<(aws_config::SdkConfig, Option<String>)> {
    let local = state
        .local
        .as_ref()
        .map(|l| l.endpoint.clone())
        .filter(|e| !e.is_empty());
    match &local {
        Some(ep) => Ok((local_sdk_config(state, ep).await, local)),
        None => {
            let g2 = Global {
                region: g.region.clone().or(state.region.clone()),
                ..g.clone()
            };
            Ok((sdk_config(&g2, cfg).await?, None))
        }
    }
}

/// The stack's state store on its backend.
pub async fn open_store(g: &Global, cfg: &Config, sdk: &aws_config::SdkConfig) -> Result<Store> {
    Ok(match backend_of(g, cfg)? {
        crate::state::Backend::Local(dir) => Store::new(&dir, &g.stack),
        crate::state::Backend::S3 { bucket, prefix } => Store::with_s3(
            crate::state::s3::S3Store::open(
                sdk,
                g.endpoint_url.is_some(),
                &bucket,
                &prefix,
                &g.stack,
            )
            .await?,
        ),
    })
}

/// Where a stack's public URLs point: the local data plane its state names
/// (a `deployer dev` stack), else AWS.
pub fn urls_of(state: &State) -> Urls {
    match &state.local {
        Some(l) => Urls::Local {
            idp: l.idp.clone(),
            api: l.api.clone(),
            apis: l.apis.clone(),
        },
        None => Urls::Aws,
    }
}

pub fn make_ctx(s: &Session, g: &Global, package: Option<Arc<Package>>, urls: Urls) -> Ctx {
    let mut tags = s.cfg.tags.clone();
    tags.insert("Project".into(), s.cfg.name_prefix.clone());
    let stack_id = s.state.stack_id.clone().unwrap_or_default();
    tags.insert(crate::kind::STACK_TAG.into(), g.stack.clone());
    tags.insert(crate::kind::STACK_ID_TAG.into(), stack_id.clone());
    Ctx {
        stack: g.stack.clone(),
        stack_id,
        region: s.region.clone(),
        account: s.account.clone(),
        partition: s.partition.clone(),
        tags,
        package,
        packages: Default::default(),
        urls,
    }
}

/// What a run works on: the program's resources and the state's entries it
/// no longer declares, its exported outputs, the run's providers and the
/// moves this run made in the state.
pub struct Declared {
    /// The nodes to plan: declared ones, and orphans to delete.
    pub nodes: Vec<Node>,
    /// The program's exported outputs.
    pub exports: crate::model::Exports,
    /// The providers of every kind the run may meet.
    pub providers: Providers,
    /// (from, to) of each `Stack::moved` applied to the state by this run.
    pub moved: crate::model::Moves,
}

/// The program's resources, plus the state's entries it no longer
/// declares (to delete, each by its kind's provider), its exported outputs,
/// the run's providers and the moves made.
pub fn nodes_for(
    app: &crate::App,
    cfg: &Config,
    state: &mut State,
    declared: bool,
) -> Result<Declared> {
    let (res, exports, moves) = app.declare_with_moves(cfg)?;
    let moved = apply_moves(state, &moves)?;
    let providers = app.providers(&res);
    let mut nodes: Vec<Node> = res.into_iter().map(|res| Node { res, declared }).collect();
    for (key, e) in &state.resources {
        if nodes.iter().any(|n| &n.res.key() == key) {
            continue;
        }
        let Some((kind, parent)) = e.kind_and_parent(key) else {
            return Err(Error::Other(format!(
                "state entry {key:?} has no kind this deployer knows ({:?}): it was written by another program or version; delete the resource by hand and remove the entry, or use the program that wrote it",
                e.kind
            )));
        };
        let Some(provider) = providers.get(&kind) else {
            return Err(Error::Other(format!(
                "state entry {key:?} is a {kind}, a kind the program no longer declares and whose provider it does not register: register it (`App::provider(...)` in the program's main) so that it can be deleted, or delete the resource by hand and then `deployer state rm {key}`"
            )));
        };
        let k = std::sync::Arc::new(crate::kind::Orphan::new(provider, parent));
        nodes.push(Node {
            res: crate::model::Declared::with_lifecycle(key.clone(), k, e.lifecycle),
            declared: false,
        });
    }
    Ok(Declared {
        nodes,
        exports,
        providers,
        moved,
    })
}

/// The program's moves (`Stack::moved`) applied to the state: each entry
/// under `from` goes under `to` (and so do the parent keys naming it), so
/// that the resource is read, planned and kept as `to`'s. A move already
/// made (no `from` in the state) is nothing; `from` and `to` both in the
/// state is an error.
pub fn apply_moves(state: &mut State, moves: &crate::model::Moves) -> Result<crate::model::Moves> {
    let mut made = vec![];
    for (from, to) in moves {
        let Some(e) = state.resources.remove(from) else {
            continue;
        };
        if state.resources.contains_key(to) {
            state.resources.insert(from.clone(), e);
            return Err(Error::Other(format!(
                "the program says `{from}` moved to `{to}`, but the state has both: remove the `moved` line, or the entry of the one that is not in AWS (`deployer state rm`)"
            )));
        }
        state.resources.insert(to.clone(), e);
        for e in state.resources.values_mut() {
            if e.parent.as_deref() == Some(from.as_str()) {
                e.parent = Some(to.clone());
            }
        }
        made.push((from.clone(), to.clone()));
    }
    Ok(made)
}

/// `--target KEY`: the nodes and steps of the targets and of everything
/// they depend on (transitively); the others are left out of the run. An
/// unknown key is an error naming the keys.
pub fn targeted(
    nodes: Vec<Node>,
    steps: Vec<crate::engine::Step>,
    targets: &[String],
) -> Result<(Vec<Node>, Vec<crate::engine::Step>)> {
    if targets.is_empty() {
        return Ok((nodes, steps));
    }
    let keys: Vec<String> = nodes.iter().map(|n| n.res.key()).collect();
    if let Some(t) = targets.iter().find(|t| !keys.contains(t)) {
        return Err(Error::Other(format!(
            "--target {t}: the stack has no resource {t:?}; its keys are {}",
            keys.join(", ")
        )));
    }
    let mut keep: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    let mut todo: Vec<String> = targets.to_vec();
    while let Some(k) = todo.pop() {
        if !keep.insert(k.clone()) {
            continue;
        }
        if let Some(n) = nodes.iter().find(|n| n.res.key() == k) {
            todo.extend(n.res.deps());
        }
    }
    let nodes: Vec<Node> = nodes
        .into_iter()
        .filter(|n| keep.contains(&n.res.key()))
        .collect();
    let steps = steps
        .into_iter()
        .filter(|s| keep.contains(&s.key))
        .collect();
    Ok((nodes, steps))
}

/// What a run did, for the summary and the benchmarks.
#[derive(Debug, serde::Serialize)]
pub struct Report {
    pub steps: Vec<StepReport>,
    pub reads: u64,
    pub mutations: u64,
    pub seconds: f64,
    pub build_seconds: f64,
    /// For a plan: the steps that would change something.
    #[serde(skip_serializing_if = "is_zero")]
    pub pending: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Report {
    fn of(c: &Clients, steps: &Mutex<Vec<StepReport>>, t0: Instant, build_seconds: f64) -> Report {
        let (reads, mutations) = c.stats.snapshot();
        Report {
            steps: steps.lock().unwrap().clone(),
            reads,
            mutations,
            seconds: t0.elapsed().as_secs_f64(),
            build_seconds,
            pending: 0,
        }
    }
}

/// `up` (and `plan` with `dry_run`). Returns the report and known outputs.
/// `up` for `deployer dev`: the local public URLs and the emulator endpoint.
pub async fn up_local(g: &Global, urls: Urls, endpoint: &str) -> Result<(Report, Known, Ctx)> {
    up_with(g, false, Some(urls), Some(endpoint)).await
}

/// AWS GovCloud (US) reaches Cognito through FIPS endpoints and serves the
/// hosted UI from `auth-fips` hosts; the outputs and the local clients do
/// not build those yet, so the partition is refused before any change.
pub fn refuse_govcloud(region: &str, partition: Option<&str>) -> Result<()> {
    if region.starts_with("us-gov-") || partition == Some("aws-us-gov") {
        return Err(Error::Other(format!(
            "region {region} is in AWS GovCloud (US), which deployer does not support yet: Cognito there is reached through FIPS endpoints (cognito-idp-fips) and the hosted UI through auth-fips hosts, which its outputs and clients do not build. Deploy to a region of the aws partition, or follow the roadmap in the README. Nothing was changed"
        )));
    }
    Ok(())
}

/// On AWS the hosted login page is public: a user whose password is the
/// seed's published demo password could be signed in by anyone. `up`
/// refuses it there unless the user opts in; an emulator endpoint (`dev`,
/// moto) keeps it. Checked before any AWS call.
pub fn check_demo_password(cfg: &Config, endpoint: Option<&str>, allowed: bool) -> Result<()> {
    let on_aws = endpoint.is_none_or(|e| e.contains(".amazonaws.com"));
    let users: Vec<&str> = cfg
        .users
        .iter()
        .filter(|u| u.password == crate::config::DEMO_PASSWORD)
        .map(|u| u.name.as_str())
        .collect();
    if !on_aws || allowed || users.is_empty() {
        return Ok(());
    }
    Err(Error::Other(format!(
        "user {} would get the seed's published demo password on AWS, where the hosted login page is public: anyone who has read the README could sign in. Give each user a password of your own in a config file ([[users]] with password_env = \"VAR\"), or pass --allow-demo-password (DEPLOYER_ALLOW_DEMO_PASSWORD=true) for a throwaway stack. Nothing was changed",
        users.join(", ")
    )))
}

pub async fn up(g: &Global, dry_run: bool, urls: Option<Urls>) -> Result<(Report, Known, Ctx)> {
    up_with(g, dry_run, urls, None).await
}

async fn up_with(
    g: &Global,
    dry_run: bool,
    urls: Option<Urls>,
    endpoint: Option<&str>,
) -> Result<(Report, Known, Ctx)> {
    let t0 = Instant::now();
    if !dry_run {
        let cfg = Config::load(g.config.as_deref())?;
        check_demo_password(
            &cfg,
            endpoint.or(g.endpoint_url.as_deref()),
            g.allow_demo_password,
        )?;
    }
    let s = open(g, (!dry_run).then_some("up")).await?;
    // The lock is released when the run ends, whatever its outcome, so that
    // a process that runs again (`up --watch`) does not meet its own lock.
    let store = s.store.clone();
    let r = up_session(g, dry_run, urls, endpoint, s, t0).await;
    let released = store.release().await;
    let out = r?;
    released?;
    Ok(out)
}

async fn up_session(
    g: &Global,
    dry_run: bool,
    urls: Option<Urls>,
    endpoint: Option<&str>,
    mut s: Session,
    t0: Instant,
) -> Result<(Report, Known, Ctx)> {
    let mut state = s.state.clone();
    let mut before = state.clone();
    if s.new_identity {
        // Saved with the first write of this run.
        before.stack_id = None;
    }
    // A move (`Stack::moved`) changes the state: saved before any change.
    let Declared {
        nodes,
        exports,
        providers,
        moved,
    } = nodes_for(&g.app, &s.cfg, &mut state, true)?;
    let tb = Instant::now();
    // Off the async threads: a build takes minutes and the run must stay
    // responsive to a signal meanwhile.
    let (package, packages) = {
        let (g, cfg) = (g.clone(), s.cfg.clone());
        let codes = codes_of(&nodes);
        tokio::task::spawn_blocking(move || build_for_run(&g, &cfg, &codes))
            .await
            .map_err(|e| Error::Other(format!("the build stopped: {e}")))??
    };
    let build_seconds = tb.elapsed().as_secs_f64();
    let urls = urls.unwrap_or(Urls::Aws);
    let mut ctx = make_ctx(&s, g, package, urls.clone());
    ctx.packages = packages;
    let ctx = Arc::new(ctx);
    if !g.json && !dry_run && !g.quiet {
        println!(
            "deployer up: stack {} ({}), region {}, account {}",
            g.stack, s.cfg.name_prefix, ctx.region, ctx.account
        );
        for (from, to) in &moved {
            println!("  moved     {from} -> {to} (Stack::moved: saved with this run)");
        }
    }
    let reports = Arc::new(Mutex::new(vec![]));
    state.region = Some(ctx.region.clone());
    state.account = Some(ctx.account.clone());
    state.partition = (ctx.partition != "aws").then(|| ctx.partition.clone());
    state.name_prefix = Some(s.cfg.name_prefix.clone());
    state.local = match &urls {
        Urls::Aws => None,
        Urls::Local { idp, api, apis } => Some(crate::state::LocalUrls {
            idp: idp.clone(),
            api: api.clone(),
            apis: apis.clone(),
            endpoint: endpoint.unwrap_or_default().to_string(),
        }),
    };
    let engine = Engine {
        cx: Arc::new(Cx::new(s.clients.clone(), ctx.clone())),
        store: s.store.clone(),
        state: Arc::new(Mutex::new(state.clone())),
        sink: printer(
            g.json || g.quiet,
            reports.clone(),
            Some(s.clients.pacer.clone()),
            g.json,
        ),
        providers,
        strays_seen: Default::default(),
        parallelism: g.parallelism,
    };
    let (reads, confirmed) = tokio::join!(engine.read_all(&nodes), s.confirm());
    confirmed?;
    let reads = reads?;
    let found = foreign(&nodes, &ctx, &state, &reads);
    if !found.is_empty() {
        return Err(foreign_error(&g.stack, &found));
    }
    let applied = state
        .resources
        .iter()
        .map(|(k, e)| (k.clone(), e.applied.clone()))
        .collect();
    let steps = plan_with(&nodes, &ctx, &reads, &applied, &s.store.fingerprint_key());
    // AWS's documented rules knowable now: refused before any change
    // (over the whole program, a targeted run's included: a rule may need
    // a resource the target does not).
    let reserves = nodes.iter().filter(|n| n.declared).any(|n| {
        n.res.kind_name() == "aws:lambda:Function"
            && n.res
                .desired(&ctx, &Known::default())
                .props
                .get("reserved_concurrency")
                .is_some_and(|v| !v.is_null())
    });
    let facts = crate::resources::lambda::account_facts(&engine.cx, reserves).await?;
    let refused = crate::engine::preflight(&nodes, &ctx, &reads, &facts);
    let (nodes, steps) = targeted(nodes, steps, &g.target)?;
    if !g.target.is_empty() && !g.json && !g.quiet {
        println!(
            "Targeted run: only {} and what they need ({} resources); the rest of the stack is left as it is.",
            g.target.join(", "),
            nodes.len()
        );
    }
    let protected = check_protected(&nodes, &steps, &reads, &g.unprotect);
    if dry_run {
        print_plan(&steps, &moved, g.json);
        protected?;
        if !refused.is_empty() {
            return Err(crate::engine::preflight_error(&refused));
        }
        let (r, m) = s.clients.stats.snapshot();
        let rep = Report {
            steps: vec![],
            reads: r,
            mutations: m,
            seconds: t0.elapsed().as_secs_f64(),
            build_seconds,
            pending: steps.iter().filter(|s| s.action != Action::Same).count(),
        };
        return Ok((rep, Known::default(), Arc::unwrap_or_clone(ctx)));
    }
    protected?;
    if !refused.is_empty() {
        return Err(crate::engine::preflight_error(&refused));
    }
    // Record what was found under IDs the state did not have (adoption).
    let adopted = {
        let mut st = engine.state.lock().unwrap();
        for (k, r) in &reads {
            if let Read::Found(o) = r {
                if nodes.iter().any(|n| &n.res.key() == k && n.declared) {
                    let e = st.resources.entry(k.clone()).or_default();
                    if let Some(n) = nodes.iter().find(|n| &n.res.key() == k) {
                        e.kind = Some(n.res.kind_name().to_string());
                        e.parent = n.res.parent();
                        e.lifecycle = n.res.lifecycle();
                    }
                    if e.id.as_deref() != Some(&o.id) || e.pending_create {
                        e.id = Some(o.id.clone());
                        e.pending_create = false;
                        e.outputs = o.state_outputs();
                    }
                }
            }
        }
        (*st != before).then(|| st.clone())
    };
    // In the background: what a crash loses here, the next run reads again.
    if adopted.is_some() {
        s.store.update_later(&engine.state, |_| {});
    }
    let known = engine.apply(&nodes, &steps, &reads).await?;
    let rep = Report::of(&s.clients, &reports, t0, build_seconds);
    let (r, m) = (rep.reads, rep.mutations);
    let outs = crate::outputs::compute(&exports, &ctx, &known);
    if g.quiet {
    } else if g.json {
        let o: BTreeMap<_, _> = outs
            .iter()
            .map(|v| (v.name.clone(), v.shown(false)))
            .collect();
        println!("{}", serde_json::json!({"report": rep, "outputs": o}));
    } else {
        let count = |a: Action| rep.steps.iter().filter(|s| s.action == a).count();
        println!(
            "Done in {:.1}s (handler build {:.1}s): {} created, {} updated, {} replaced, {} deleted, {} unchanged; {} reads, {} changes made.",
            rep.seconds, build_seconds, count(Action::Create), count(Action::Update), count(Action::Replace), count(Action::Delete), count(Action::Same), r, m
        );
        if !outs.is_empty() {
            println!("\nOutputs:");
        }
        for v in &outs {
            println!("  {} = {}", v.name, v.shown(false));
        }
    }
    Ok((rep, known, Arc::unwrap_or_clone(ctx)))
}

pub async fn down(g: &Global, yes: bool) -> Result<()> {
    let t0 = Instant::now();
    if !yes {
        if !std::io::stdin().is_terminal() {
            return Err(Error::Other("`deployer down` deletes the whole stack; standard input is not a terminal, so pass --yes to confirm".into()));
        }
        eprint!(
            "Delete every resource of stack {:?}? Type 'yes' to confirm: ",
            g.stack
        );
        let mut answer = String::new();
        std::io::stdin()
            .read_line(&mut answer)
            .map_err(|e| Error::io("stdin", e))?;
        if answer.trim() != "yes" {
            return Err(Error::Other("not confirmed: nothing was deleted".into()));
        }
    }
    let s = open(g, Some("down")).await?;
    let store = s.store.clone();
    let r = down_session(g, s, t0).await;
    let released = store.release().await;
    r?;
    released
}

async fn down_session(g: &Global, mut s: Session, t0: Instant) -> Result<()> {
    if s.new_identity && s.state.resources.is_empty() && s.state.retired.is_empty() {
        // No state, so no identity: whatever carries this stack's names is
        // another's or nobody's, and a stack with no state deletes nothing.
        // (A claimed ID with no resources recorded goes on: what carries
        // the ID is this stack's; so does a state from before stack IDs,
        // whose resources it records.)
        if g.json {
            println!(
                "{}",
                serde_json::json!({"report": {"steps": [], "deleted": 0}})
            );
        } else {
            println!(
                "deployer down: stack {} has no state ({}): 0 resources to delete. If its state was lost, restore it (the .bak copy), or take the stack's ID back from its resources' deployer:stack-id tag with `deployer --stack {} state claim ID`, then run `down` again.",
                g.stack,
                s.store.path.display(),
                g.stack
            );
        }
        return Ok(());
    }
    let ctx = Arc::new(make_ctx(&s, g, None, urls_of(&s.state)));
    let Declared {
        nodes, providers, ..
    } = nodes_for(&g.app, &s.cfg, &mut s.state, false)?;
    let reports = Arc::new(Mutex::new(vec![]));
    let engine = Engine {
        cx: Arc::new(Cx::new(s.clients.clone(), ctx.clone())),
        store: s.store.clone(),
        state: Arc::new(Mutex::new(s.state.clone())),
        sink: printer(
            g.json,
            reports.clone(),
            Some(s.clients.pacer.clone()),
            g.json,
        ),
        providers,
        strays_seen: Default::default(),
        parallelism: g.parallelism,
    };
    let (reads, confirmed) = tokio::join!(engine.read_nodes(&nodes), s.confirm());
    confirmed?;
    let mut reads = reads?;
    // Only what this stack owns is deleted; the rest is left, and said.
    let left = foreign(&nodes, &ctx, &s.state, &reads);
    for f in &left {
        reads.insert(f.key.clone(), Read::Missing);
    }
    let steps = plan(&nodes, &ctx, &reads);
    check_protected(&nodes, &steps, &reads, &g.unprotect)?;
    if !g.json {
        println!(
            "deployer down: stack {}, region {}: {} resources to delete",
            g.stack,
            ctx.region,
            steps.len()
        );
        for f in left.iter().filter(|f| !f.through_parent) {
            println!(
                "  left alone: {} ({} {}) belongs to {}",
                f.key, f.kind, f.id, f.owner
            );
        }
    }
    engine.apply(&nodes, &steps, &reads).await?;
    // Every step succeeded: what was found is deleted, and what was not
    // found (creates that never happened, entries already gone) is gone.
    let mut st = engine.state.lock().unwrap().clone();
    st.resources.clear();
    st.local = None;
    if st.retired.is_empty() {
        s.store.remove(&st).await?;
    } else {
        s.store.save(&st).await?;
    }
    let rep = Report::of(&s.clients, &reports, t0, 0.0);
    let (r, m) = (rep.reads, rep.mutations);
    if g.json {
        println!("{}", serde_json::json!({ "report": rep }));
    } else {
        println!(
            "Done in {:.1}s: {} resources deleted; {} reads, {} changes made.",
            rep.seconds,
            steps.len(),
            r,
            m
        );
    }
    Ok(())
}

/// `deployer import KEY ID`: reads the resource the program declares as
/// KEY by the given ID, refuses another stack's, tags it as this stack's
/// (where its kind has tags) and records it in the state. `plan` then shows
/// its differences from the program, and `up` fixes them.
pub async fn import(g: &Global, key: &str, id: &str) -> Result<()> {
    let s = open(g, Some("import")).await?;
    let store = s.store.clone();
    let r = import_session(g, s, key, id).await;
    let released = store.release().await;
    r?;
    released
}

async fn import_session(g: &Global, mut s: Session, key: &str, id: &str) -> Result<()> {
    s.confirm().await?;
    let ctx = Arc::new(make_ctx(&s, g, None, urls_of(&s.state)));
    let nodes = nodes_for(&g.app, &s.cfg, &mut s.state, true)?.nodes;
    let Some(res) = nodes
        .iter()
        .find(|n| n.res.key() == key)
        .map(|n| n.res.clone())
    else {
        return Err(Error::Other(format!(
            "the program declares no resource {key:?}; its keys are {}",
            nodes
                .iter()
                .map(|n| n.res.key())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    };
    if let Some(have) = s.state.id(key) {
        return Err(Error::Other(format!(
            "{key} is already in stack {}'s state as {have}: nothing to import",
            g.stack
        )));
    }
    let parent_id = match res.parent() {
        Some(p) => Some(s.state.id(&p).map(String::from).ok_or_else(|| {
            Error::Other(format!(
                "{key} lives inside {p}, which stack {} does not have yet: import or create {p} first",
                g.stack
            ))
        })?),
        None => None,
    };
    let known = Known {
        outputs: s
            .state
            .resources
            .iter()
            .map(|(k, e)| (k.clone(), e.outputs.clone()))
            .collect(),
    };
    let cx = Cx::new(s.clients.clone(), ctx.clone());
    let prior = crate::kind::Prior {
        id: Some(id.to_string()),
        pending_create: false,
        made_at: None,
        parent_id: parent_id.clone(),
        outputs: BTreeMap::new(),
        known: known.clone(),
    };
    let o = match res.read(&cx, &prior).await? {
        Read::Found(o) if o.id == id => o,
        _ => {
            return Err(Error::Other(format!(
                "no {} with ID {id} in {} (account {}): nothing was imported",
                res.kind_name(),
                ctx.region,
                ctx.account
            )))
        }
    };
    if let Some(owner @ crate::kind::Owner::Stack { .. }) = ctx.owner_of(&o.props) {
        return Err(Error::Other(format!(
            "{key} ({} {id}) belongs to {owner}: a stack never takes another's resource; nothing was imported. Remove it from that stack (`retain_on_delete` then `down` releases it), or give this stack names of its own",
            res.kind_name()
        )));
    }
    if let Some((setting, holder)) = res.belongs_through() {
        let held_by = crate::kind::s(&o.props, setting);
        if s.state.id(&holder) != Some(held_by.as_str()) {
            return Err(Error::Other(format!(
                "{key} ({} {id}) belongs to {held_by} (its {setting}), which is not this stack's {holder}: nothing was imported",
                res.kind_name()
            )));
        }
    }
    // Tag it as this stack's, changing nothing else.
    let o = match o.props.get("tags") {
        Some(serde_json::Value::Object(tags)) => {
            let mut tags = tags.clone();
            for t in [crate::kind::STACK_TAG, crate::kind::STACK_ID_TAG] {
                tags.insert(t.into(), serde_json::json!(ctx.tags[t]));
            }
            let mut d = o.props.clone();
            d.insert("tags".into(), serde_json::Value::Object(tags));
            if d == o.props {
                o
            } else {
                res.update(&cx, &d, &o, &known).await?
            }
        }
        _ => o,
    };
    let mut st = s.state.clone();
    st.region = Some(ctx.region.clone());
    st.account = Some(ctx.account.clone());
    let mut outputs = o.state_outputs();
    if let Some(p) = &parent_id {
        outputs
            .entry("parent_id".into())
            .or_insert_with(|| p.clone());
    }
    st.resources.insert(
        key.to_string(),
        crate::state::Entry {
            id: Some(o.id.clone()),
            pending_create: false,
            // Imported: not made by this stack.
            made_at: None,
            lost_create: false,
            outputs,
            kind: Some(res.kind_name().to_string()),
            parent: res.parent(),
            lifecycle: res.lifecycle(),
            applied: BTreeMap::new(),
        },
    );
    s.store.save(&st).await?;
    if g.json {
        println!(
            "{}",
            serde_json::json!({"imported": {"key": key, "id": o.id, "kind": res.kind_name()}})
        );
    } else {
        println!(
            "imported {key} ({} {}) into stack {}, tagged as its own: `deployer plan` shows what `up` would change in it",
            res.kind_name(),
            o.id,
            g.stack
        );
    }
    Ok(())
}

pub async fn outputs(g: &Global, name: Option<&str>, show_secrets: bool) -> Result<()> {
    let cfg = Config::load(g.config.as_deref())?;
    let (res, exports) = g.app.declare(&cfg)?;
    let names: Vec<&str> = exports.iter().map(|(n, _)| n.as_str()).collect();
    let secret_named = |n: &str| exports.iter().any(|(x, o)| x == n && o.is_secret());
    if let Some(n) = name {
        if !names.contains(&n) {
            return Err(Error::Other(format!(
                "no output named {n:?}; the outputs are: {}",
                names.join(", ")
            )));
        }
        if secret_named(n) && !show_secrets {
            return Err(Error::Other(format!(
                "{n} is sensitive: add --show-secrets to print it"
            )));
        }
    }
    let store = read_store(g, &cfg).await?;
    let state = store.load(&g.stack).await?;
    if state.resources.is_empty() {
        return Err(Error::Other(format!(
            "stack {:?} has no state at {}: run `deployer up` first",
            g.stack,
            store.path.display()
        )));
    }
    let mut known = Known::default();
    for (k, e) in &state.resources {
        let mut o = e.outputs.clone();
        if let Some(id) = &e.id {
            o.entry("id".into()).or_insert_with(|| id.clone());
        }
        known.outputs.insert(k.clone(), o);
    }
    let urls = urls_of(&state);
    let ctx = Arc::new(Ctx {
        stack: g.stack.clone(),
        stack_id: state.stack_id.clone().unwrap_or_default(),
        region: state.region.clone().unwrap_or_default(),
        account: state.account.clone().unwrap_or_default(),
        partition: state.partition.clone().unwrap_or_else(|| "aws".into()),
        tags: BTreeMap::new(),
        package: None,
        packages: Default::default(),
        urls,
    });
    // Secrets are read live (the state never holds them): the resources a
    // wanted secret output reads are read again from AWS. A `deployer dev`
    // stack lives in the emulator its state names, which needs no AWS
    // credentials.
    let wanted: Vec<&(String, crate::model::Output<String>)> = exports
        .iter()
        .filter(|(n, o)| o.is_secret() && show_secrets && name.is_none_or(|w| w == n))
        .collect();
    if !wanted.is_empty() {
        let (sdk, local_endpoint) = stack_sdk(g, &cfg, &state).await?;
        let cx = Cx::new(Clients::new(&sdk), ctx.clone());
        let keys: std::collections::BTreeSet<&String> =
            wanted.iter().flat_map(|(_, o)| o.deps()).collect();
        for key in keys {
            let Some(r) = res.iter().find(|r| &r.key() == key) else {
                continue;
            };
            let e = state.resources.get(key).cloned().unwrap_or_default();
            let prior = crate::kind::Prior {
                parent_id: e
                    .outputs
                    .get("parent_id")
                    .cloned()
                    .or_else(|| r.parent().and_then(|p| state.id(&p).map(String::from))),
                id: e.id,
                pending_create: false,
                made_at: e.made_at,
                outputs: e.outputs,
                known: known.clone(),
            };
            match r.read(&cx, &prior).await {
                Ok(Read::Found(o)) => {
                    known.outputs.insert(key.clone(), o.outputs);
                }
                Ok(_) => {}
                Err(e) => {
                    return Err(match &local_endpoint {
                        Some(ep) if e.is_ambiguous() => Error::Other(format!(
                            "the local stack {:?} is not running (nothing answers at {ep}): start it with `deployer dev`; its secrets live only while it runs",
                            g.stack
                        )),
                        _ => e,
                    })
                }
            }
        }
    }
    let outs = crate::outputs::compute(&exports, &ctx, &known);
    let shown = |v: &crate::outputs::Value| {
        if v.secret && show_secrets {
            v.value
                .clone()
                .unwrap_or_else(|| crate::outputs::HIDDEN.to_string())
        } else {
            v.shown(false)
        }
    };
    match name {
        Some(n) => {
            if let Some(v) = outs.iter().find(|v| v.name == n) {
                println!("{}", shown(v));
            }
        }
        None if g.json => {
            let m: BTreeMap<&str, String> =
                outs.iter().map(|v| (v.name.as_str(), shown(v))).collect();
            println!("{}", serde_json::to_string_pretty(&m).unwrap_or_default())
        }
        None => {
            for v in &outs {
                println!("{} = {}", v.name, shown(v));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod demo_password_tests {
    use super::*;

    #[test]
    fn stack_names_are_safe_file_and_key_names() {
        for ok in ["default", "prod", "dev-2", "team_a", "A1"] {
            assert_eq!(stack_name(ok).as_deref(), Ok(ok));
        }
        for bad in [
            "",
            "../x",
            "a/b",
            "..",
            ".hidden",
            "a b",
            "-x",
            "_x",
            "a.b",
            "x\\y",
            &"a".repeat(65),
        ] {
            assert!(stack_name(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn the_demo_password_is_refused_on_aws_only() {
        let demo = Config::default();
        let e = check_demo_password(&demo, None, false)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("user alice") && e.contains("--allow-demo-password"),
            "{e}"
        );
        assert!(!e.contains(crate::config::DEMO_PASSWORD), "{e}");
        assert!(check_demo_password(
            &demo,
            Some("https://cognito-idp.eu-west-1.amazonaws.com"),
            false
        )
        .is_err());
        // Opted in, an emulator, or a password of the user's own.
        assert!(check_demo_password(&demo, None, true).is_ok());
        assert!(check_demo_password(&demo, Some("http://127.0.0.1:5000"), false).is_ok());
        let mut own = Config::default();
        own.users[0].password = "an-own-Passw0rd!".into();
        assert!(check_demo_password(&own, None, false).is_ok());
    }
}

#[cfg(test)]
mod orphan_tests {
    use super::*;

    /// A state entry the program no longer declares is deleted through the
    /// provider of its kind; a kind no provider is known for stops the run
    /// naming the kind, the key and what to do.
    #[test]
    fn orphans_get_their_kinds_provider_or_a_clear_error() {
        let app = crate::App::new(|_, _| Ok(()));
        let cfg = Config::default();
        let mut st = State::new("t");
        let entry = |kind: &str, parent: Option<&str>| crate::state::Entry {
            id: Some("x1".into()),
            kind: Some(kind.into()),
            parent: parent.map(String::from),
            ..Default::default()
        };
        st.resources
            .insert("api".into(), entry("aws:apigatewayv2:Api", None));
        st.resources.insert(
            "route/hi".into(),
            entry("aws:apigatewayv2:Route", Some("api")),
        );
        let nodes = nodes_for(&app, &cfg, &mut st.clone(), true).unwrap().nodes;
        let route = nodes.iter().find(|n| n.res.key() == "route/hi").unwrap();
        assert!(!route.declared);
        assert_eq!(route.res.kind_name(), "aws:apigatewayv2:Route");
        assert_eq!(route.res.parent().as_deref(), Some("api"));

        st.resources
            .insert("data".into(), entry("acme:s3:Bucket", None));
        let e = nodes_for(&app, &cfg, &mut st, true)
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("\"data\"") && e.contains("acme:s3:Bucket") && e.contains("App::provider"),
            "{e}"
        );
    }
}
