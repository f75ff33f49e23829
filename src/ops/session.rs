//! Opening a run: the target's SDK configuration, the state store, the
//! clients and the caller's identity.

use super::Global;
use crate::aws::{Clients, Target};
use crate::config::{Config, DEFAULT_REGION};
use crate::error::{Error, Result};
use crate::kind::{Ctx, Urls};
use crate::package::Package;
use crate::state::{State, Store};
use std::sync::Arc;

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
