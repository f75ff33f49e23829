//! AWS clients, the call counter / fault knob, and the one place where
//! eventual consistency is waited out.

use crate::error::{Error, Result};
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::FinalizerInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The environment variable of the test-only fault knob: the process exits
/// right after the N-th mutating AWS call returns, before anything else (as
/// a `kill -9` would), so that crash recovery can be tested at every step.
pub const FAULT_ENV: &str = "DEPLOYER_FAULT_AFTER_MUTATIONS";
pub const FAULT_EXIT_CODE: i32 = 86;

/// Counts the API calls the SDK made (after retries: one per operation).
#[derive(Debug, Default)]
pub struct CallStats {
    pub reads: AtomicU64,
    pub mutations: AtomicU64,
}

impl CallStats {
    pub fn snapshot(&self) -> (u64, u64) {
        (
            self.reads.load(Ordering::SeqCst),
            self.mutations.load(Ordering::SeqCst),
        )
    }
}

/// True for operations that change something in AWS.
pub fn is_mutating(operation: &str) -> bool {
    const READ_PREFIXES: [&str; 5] = ["Get", "List", "Describe", "AdminGet", "Lookup"];
    !READ_PREFIXES.iter().any(|p| operation.starts_with(p))
}

#[derive(Debug)]
struct Counter {
    stats: Arc<CallStats>,
    fault_after: Option<u64>,
}

impl Intercept for Counter {
    fn name(&self) -> &'static str {
        "deployer-call-counter"
    }

    fn read_after_execution(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let op = cfg
            .load::<Metadata>()
            .map(|m| m.name().to_string())
            .unwrap_or_default();
        if is_mutating(&op) {
            let n = self.stats.mutations.fetch_add(1, Ordering::SeqCst) + 1;
            if self.fault_after == Some(n) {
                eprintln!("deployer: fault injected after mutating call #{n} ({op}): exiting");
                std::process::exit(FAULT_EXIT_CODE);
            }
        } else {
            self.stats.reads.fetch_add(1, Ordering::SeqCst);
        }
        Ok(())
    }
}

#[derive(Clone, Debug)]
pub struct Clients {
    pub cognito: aws_sdk_cognitoidentityprovider::Client,
    pub apigw: aws_sdk_apigatewayv2::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub iam: aws_sdk_iam::Client,
    pub sts: aws_sdk_sts::Client,
    pub stats: Arc<CallStats>,
    pub region: String,
}

pub struct Target {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
}

/// Throttling and transient errors: adaptive retry (client-side rate
/// limiting), 8 attempts, jittered exponential backoff capped at 5 s (after a throttle the
/// adaptive limiter waits up to that cap: measured in tests/mocks.rs).
pub fn retry_config() -> RetryConfig {
    RetryConfig::adaptive()
        .with_max_attempts(8)
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(Duration::from_secs(5))
}

pub async fn load_sdk_config(t: &Target) -> Result<SdkConfig> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(retry_config());
    if let Some(p) = &t.profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = &t.region {
        loader = loader.region(Region::new(r.clone()));
    }
    if let Some(e) = &t.endpoint_url {
        loader = loader.endpoint_url(e);
    }
    let cfg = loader.load().await;
    if cfg.region().is_none() {
        return Err(Error::NoRegion);
    }
    match cfg.credentials_provider() {
        None => {
            return Err(Error::NoCredentials {
                detail: "no credentials provider is configured".into(),
            })
        }
        Some(p) => {
            use aws_credential_types::provider::ProvideCredentials;
            if let Err(e) = p.provide_credentials().await {
                return Err(Error::NoCredentials {
                    detail: format!("{e}"),
                });
            }
        }
    }
    Ok(cfg)
}

impl Clients {
    pub fn new(cfg: &SdkConfig) -> Clients {
        let stats = Arc::new(CallStats::default());
        let fault_after = std::env::var(FAULT_ENV).ok().and_then(|v| v.parse().ok());
        let counter = || Counter {
            stats: stats.clone(),
            fault_after,
        };
        Clients {
            cognito: aws_sdk_cognitoidentityprovider::Client::from_conf(
                aws_sdk_cognitoidentityprovider::config::Builder::from(cfg)
                    .interceptor(counter())
                    .build(),
            ),
            apigw: aws_sdk_apigatewayv2::Client::from_conf(
                aws_sdk_apigatewayv2::config::Builder::from(cfg)
                    .interceptor(counter())
                    .build(),
            ),
            lambda: aws_sdk_lambda::Client::from_conf(
                aws_sdk_lambda::config::Builder::from(cfg)
                    .interceptor(counter())
                    .build(),
            ),
            iam: aws_sdk_iam::Client::from_conf(
                aws_sdk_iam::config::Builder::from(cfg)
                    .interceptor(counter())
                    .build(),
            ),
            sts: aws_sdk_sts::Client::from_conf(
                aws_sdk_sts::config::Builder::from(cfg)
                    .interceptor(counter())
                    .build(),
            ),
            region: cfg.region().map(|r| r.to_string()).unwrap_or_default(),
            stats,
        }
    }
}

/// Bounded, jittered exponential backoff while `retryable` says the error is
/// a passing state of AWS (a role not yet assumable, a function update in
/// progress, ...). Gives up after `budget` and returns the last error.
pub async fn with_backoff<T, E, F, Fut>(
    what: &str,
    budget: Duration,
    retryable: impl Fn(&E) -> bool,
    mut op: F,
) -> std::result::Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = std::result::Result<T, E>>,
{
    let start = std::time::Instant::now();
    let mut delay = Duration::from_millis(250);
    loop {
        match op().await {
            Err(e) if retryable(&e) && start.elapsed() + delay < budget => {
                let jitter = rand::random::<f64>() * 0.5 + 0.75;
                let d = delay.mul_f64(jitter);
                tracing_note(what, d);
                tokio::time::sleep(d).await;
                delay = (delay * 2).min(Duration::from_secs(8));
            }
            other => return other,
        }
    }
}

fn tracing_note(what: &str, d: Duration) {
    if std::env::var_os("DEPLOYER_DEBUG").is_some() {
        eprintln!("deployer: {what}: retrying in {} ms", d.as_millis());
    }
}

/// Lambda answers this while a freshly created role is not yet visible to it.
/// The one message match that cannot be avoided lives here.
pub fn is_role_not_assumable(message: Option<&str>) -> bool {
    message.is_some_and(|m| m.contains("cannot be assumed by Lambda"))
}

/// moto answers an HTML 500 (or a "not yet implemented" message) for a few
/// operations it does not emulate (see README); AWS errors are never HTML.
pub fn is_not_implemented<E, R>(e: &aws_smithy_runtime_api::client::result::SdkError<E, R>) -> bool
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata,
    R: HasBody,
{
    if let Some(raw) = e.raw_response() {
        if raw.status_code() == 500 && raw.body_bytes().is_some_and(|b| b.starts_with(b"<")) {
            return true;
        }
    }
    let m = e.as_service_error().map(|s| s.meta());
    m.and_then(|m| m.message())
        .is_some_and(|m| m.contains("not yet implemented"))
        || m.and_then(|m| m.code())
            .is_some_and(|c| c == "NotImplemented" || c == "NotImplementedError")
}

pub trait HasBody {
    fn status_code(&self) -> u16;
    fn body_bytes(&self) -> Option<&[u8]>;
}

impl HasBody for aws_smithy_runtime_api::http::Response {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
    fn body_bytes(&self) -> Option<&[u8]> {
        self.body().bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutating_classification() {
        for op in [
            "CreateFunction",
            "AdminSetUserPassword",
            "TagResource",
            "AddPermission",
        ] {
            assert!(is_mutating(op), "{op}");
        }
        for op in [
            "GetFunction",
            "ListUserPools",
            "DescribeUserPool",
            "AdminGetUser",
            "GetCallerIdentity",
        ] {
            assert!(!is_mutating(op), "{op}");
        }
    }

    #[tokio::test]
    async fn backoff_retries_then_succeeds_and_gives_up() {
        let mut n = 0;
        let r: std::result::Result<u32, &str> = with_backoff(
            "t",
            Duration::from_secs(10),
            |e: &&str| *e == "again",
            || {
                n += 1;
                let v = n;
                async move {
                    if v < 3 {
                        Err("again")
                    } else {
                        Ok(v)
                    }
                }
            },
        )
        .await;
        assert_eq!(r, Ok(3));
        let r: std::result::Result<u32, &str> = with_backoff(
            "t",
            Duration::from_millis(100),
            |_| true,
            || async { Err("x") },
        )
        .await;
        assert_eq!(r, Err("x"));
    }
}
