//! AWS clients, the call counter / fault knob, and the one place where
//! eventual consistency is waited out.

use crate::error::{Error, Result};
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

mod interceptors;

use interceptors::Counter;
pub use interceptors::{NoBlindRetry, Paced, TimeoutRetryCap};

/// The environment variable of the test-only fault knob: the process exits
/// right after the N-th mutating AWS call returns, before anything else (as
/// a `kill -9` would), so that crash recovery can be tested at every step.
pub const FAULT_ENV: &str = "DEPLOYER_FAULT_AFTER_MUTATIONS";
/// The exit code of a run stopped by the test-only fault knob (`DEPLOYER_FAULT_AFTER`).
pub const FAULT_EXIT_CODE: i32 = 86;

/// Counts the API calls the SDK made (after retries: one per operation).
#[derive(Debug, Default)]
pub struct CallStats {
    /// Calls that only read.
    pub reads: AtomicU64,
    /// Calls that change something.
    pub mutations: AtomicU64,
}

impl CallStats {
    /// (reads, mutations) so far.
    pub fn snapshot(&self) -> (u64, u64) {
        (
            self.reads.load(Ordering::SeqCst),
            self.mutations.load(Ordering::SeqCst),
        )
    }
}

/// True for operations that change something in AWS.
pub fn is_mutating(operation: &str) -> bool {
    const READ_PREFIXES: [&str; 6] = ["Get", "List", "Describe", "AdminGet", "AdminList", "Lookup"];
    !READ_PREFIXES.iter().any(|p| operation.starts_with(p))
}

/// True for a create whose blind retry after a lost response would make a
/// second resource (names of pools, APIs, app clients, authorizers and
/// integrations are not unique), or answer "already exists" for the one the
/// first attempt made (a second `AddPermission` with the same statement ID;
/// moto even appends a second statement).
pub fn is_create(operation: &str) -> bool {
    ["Create", "AdminCreate", "AddPermission"]
        .iter()
        .any(|p| operation.starts_with(p))
}

/// The run's AWS clients (one per service deployer's kinds use), their call counter, and the SDK configuration a kind of your own builds another service's client from.
#[derive(Clone, Debug)]
pub struct Clients {
    /// Cognito user pools.
    pub cognito: aws_sdk_cognitoidentityprovider::Client,
    /// API Gateway v2 (HTTP APIs).
    pub apigw: aws_sdk_apigatewayv2::Client,
    /// Lambda.
    pub lambda: aws_sdk_lambda::Client,
    /// IAM.
    pub iam: aws_sdk_iam::Client,
    /// STS (the caller's identity).
    pub sts: aws_sdk_sts::Client,
    /// CloudWatch Logs.
    pub logs: aws_sdk_cloudwatchlogs::Client,
    /// S3 (for a kind of a bucket; the state backend has its own client).
    pub s3: aws_sdk_s3::Client,
    /// Calls counted (the run's summary).
    pub stats: Arc<CallStats>,
    /// The gates of AWS's request quotas every call passes (`pace`).
    pub pacer: Arc<crate::pace::Pacer>,
    /// The region the clients call.
    pub region: String,
    /// The run's SDK configuration (credentials, region, endpoint,
    /// timeouts, retry policy): what a kind written outside deployer builds
    /// the client of another service from (with `counter` and
    /// `NoBlindRetry` as interceptors, as deployer's own clients have).
    pub sdk: SdkConfig,
}

/// Where a run's calls go: region, profile, endpoint, timeouts.
pub struct Target {
    /// The region, if given (else the aws-config chain's).
    pub region: Option<String>,
    /// The AWS profile (SSO profiles included).
    pub profile: Option<String>,
    /// Every call to this endpoint (an emulator such as moto).
    pub endpoint_url: Option<String>,
    /// How long a call may take.
    pub timeouts: Timeouts,
    /// Fixed credentials for an emulator (which takes any), instead of the
    /// aws-config chain's: `deployer dev` where none are set.
    pub emulator_credentials: bool,
}

/// How long an AWS call may take: a stalled connection fails the call (by
/// name) instead of hanging the run, a slow but live upload is not cut.
/// `--stall-timeout` / `DEPLOYER_STALL_TIMEOUT`, `--attempt-timeout` /
/// `DEPLOYER_ATTEMPT_TIMEOUT` and `--operation-timeout` /
/// `DEPLOYER_OPERATION_TIMEOUT`, in seconds.
///
/// With the defaults a stalled endpoint (connection accepted, nothing
/// answered) fails a call after two attempts of 20 s (about 40 s): a
/// timed-out attempt is retried once (`TimeoutRetryCap`), and the call
/// gives up after 60 s in all (its waits for a turn under AWS's quotas not
/// counted: `Paced`; an attempt's limit is within what is left of it). A zip upload to Lambda
/// (`CreateFunction`, `UpdateFunctionCode`) has no whole-attempt limit below
/// an hour (`Paced`): only the stall timeout stops it, so a 50 MB zip
/// on a slow link goes through as long as it moves.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Progress of one attempt (see [`crate::aws::http_client_with`]): no
    /// request bytes taken for this long while sending, no answer this long
    /// after the request was sent (plus as long as its body took to send),
    /// or the answer's body stopped this long: the attempt fails (and is
    /// retried once, like a lost answer).
    pub stall: Duration,
    /// One attempt (connect, send, answer), but a zip upload's; a timed-out
    /// attempt is retried once, like a lost answer.
    pub attempt: Duration,
    /// The whole call, its retries and their backoff included, but a zip
    /// upload's.
    pub operation: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            stall: Duration::from_secs(DEFAULT_STALL_TIMEOUT_SECS),
            attempt: Duration::from_secs(DEFAULT_ATTEMPT_TIMEOUT_SECS),
            operation: Duration::from_secs(DEFAULT_OPERATION_TIMEOUT_SECS),
        }
    }
}

/// How long an attempt may make no progress, by default (seconds).
pub const DEFAULT_STALL_TIMEOUT_SECS: u64 = 20;
/// How long one attempt may take, by default (seconds): AWS's answers are
/// small, so an attempt this long is one whose answer trickles.
pub const DEFAULT_ATTEMPT_TIMEOUT_SECS: u64 = 30;
/// How long a call may take in all, retries included, by default
/// (seconds): ten attempts with their backoff (capped at 4 s) fit.
pub const DEFAULT_OPERATION_TIMEOUT_SECS: u64 = 60;
/// The SDK's operation timeout of a paced call, a backstop (seconds):
/// deployer keeps the call's own (waits for turns not counted).
pub const BACKSTOP_SECS: u64 = 2 * 3600;
/// How long connecting (TCP and TLS) may take (seconds).
pub const CONNECT_TIMEOUT_SECS: u64 = 10;
/// The least attempt and operation timeouts of a zip upload to Lambda
/// (seconds): a 50 MB zip is 67 MB of JSON, 9 minutes at 1 Mbit/s.
pub const UPLOAD_TIMEOUT_SECS: u64 = 3600;

impl Timeouts {
    /// The SDK's timeout configuration for these (the stall timeout is the
    /// HTTP client's: [`http_client_with`]). No read timeout: the SDK's
    /// times the whole response future, the request body's sending
    /// included, and would cut a slow upload.
    pub fn config(&self) -> aws_config::timeout::TimeoutConfig {
        aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(CONNECT_TIMEOUT_SECS).min(self.attempt))
            .operation_attempt_timeout(self.attempt)
            .operation_timeout(self.operation)
            .build()
    }
}

/// Throttling, 5xx and AWS's "busy, try again" answers (see
/// `BusyClassifier`): standard retry, 10 attempts, full-jitter exponential
/// backoff from 100 ms capped at 4 s. The adaptive mode was dropped: after
/// one throttle its client-side rate limiter waited the whole backoff cap
/// (measured in tests/mocks.rs), where the standard mode waits about the
/// initial backoff.
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(10)
        .with_initial_backoff(Duration::from_millis(100))
        .with_max_backoff(Duration::from_secs(4))
}

/// The retry partition of a client of `service`: the SDK's standard
/// strategy has a retry quota (a token bucket of 500, 5 a retry) that,
/// once a few dozen throttles drained it, fails every further throttled
/// call at once; deployer's calls are paced (`pace`) and bounded (10
/// attempts, two timed out, the operation timeout), so no such quota.
fn unlimited_retries(service: &'static str) -> aws_smithy_runtime::client::retries::RetryPartition {
    use aws_smithy_runtime::client::retries::{RetryPartition, TokenBucket};
    RetryPartition::custom(format!("deployer-{service}"))
        .token_bucket(TokenBucket::unlimited())
        .build()
}

/// AWS answers these while a change to the same thing is in flight; the
/// request was not applied, so it is retried like a throttle. The codes and
/// messages are AWS's own (terraform-provider-aws retries the same ones):
/// - API Gateway v2: 409 `ConflictException` "Unable to complete operation
///   due to concurrent modification. Please try again later."
/// - Cognito: `ConcurrentModificationException` (one app-client write per
///   pool at a time).
/// - IAM: 409 `ConcurrentModification` ("... a conflicting operation is
///   in progress"; terraform-provider-aws retries it for roles and policies).
/// - Lambda: 409 `ResourceConflictException` "The operation cannot be
///   performed at this time. An update is in progress for resource: ..." or
///   "... The function is currently in the following state: Pending".
pub fn is_busy_error(code: &str, message: &str) -> bool {
    match code {
        "ConflictException" => message.contains("try again later"),
        // IAM's own spelling (409, no `Exception`): another change to the
        // same role or policy is in flight.
        "ConcurrentModificationException" | "ConcurrentModification" => true,
        "ResourceConflictException" => {
            message.contains("An update is in progress")
                || message.contains("The operation cannot be performed at this time")
        }
        _ => false,
    }
}

/// The error code and message of an AWS error response, whatever its
/// protocol: JSON (`__type`, `x-amzn-ErrorType`), REST-JSON, or query XML.
pub fn error_code_and_message(headers_error_type: Option<&str>, body: &[u8]) -> (String, String) {
    let text = String::from_utf8_lossy(body);
    let clean = |c: &str| {
        let c = c.split(':').next().unwrap_or(c);
        c.rsplit('#').next().unwrap_or(c).to_string()
    };
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
        let code = headers_error_type
            .map(clean)
            .or_else(|| v["__type"].as_str().map(clean))
            .or_else(|| v["code"].as_str().map(clean))
            .unwrap_or_default();
        let message = v["message"]
            .as_str()
            .or_else(|| v["Message"].as_str())
            .unwrap_or_default()
            .to_string();
        return (code, message);
    }
    let tag = |t: &str| {
        let open = format!("<{t}>");
        text.find(&open).and_then(|i| {
            let rest = &text[i + open.len()..];
            rest.find(&format!("</{t}>")).map(|j| rest[..j].to_string())
        })
    };
    (
        headers_error_type
            .map(clean)
            .or_else(|| tag("Code"))
            .unwrap_or_default(),
        tag("Message").unwrap_or_default(),
    )
}

/// Retries `is_busy_error` answers on every client, in one place, and stops
/// the retries of the codes a service uses for a hard quota.
#[derive(Debug, Default)]
pub struct BusyClassifier {
    /// Error codes that are a quota of the account, not throttling: the
    /// SDK's standard list retries `LimitExceededException` as a throttle,
    /// but Cognito answers it for a hard limit (pools, clients, domains per
    /// account; its throttle is `TooManyRequestsException`): ten retries
    /// would only delay the same answer.
    pub hard_quota: &'static [&'static str],
}

impl BusyClassifier {
    /// The classifier for Cognito's clients.
    pub fn cognito() -> BusyClassifier {
        BusyClassifier {
            hard_quota: &["LimitExceededException"],
        }
    }
}

impl aws_smithy_runtime_api::client::retries::classifiers::ClassifyRetry for BusyClassifier {
    fn classify_retry(
        &self,
        ctx: &aws_smithy_runtime_api::client::interceptors::context::InterceptorContext,
    ) -> aws_smithy_runtime_api::client::retries::classifiers::RetryAction {
        use aws_smithy_runtime_api::client::retries::classifiers::RetryAction;
        if !matches!(ctx.output_or_error(), Some(Err(_))) {
            return RetryAction::NoActionIndicated;
        }
        let Some(resp) = ctx.response() else {
            return RetryAction::NoActionIndicated;
        };
        let Some(body) = resp.body().bytes() else {
            return RetryAction::NoActionIndicated;
        };
        let (code, message) = error_code_and_message(resp.headers().get("x-amzn-errortype"), body);
        if self.hard_quota.contains(&code.as_str()) {
            return RetryAction::RetryForbidden;
        }
        if is_busy_error(&code, &message) {
            if std::env::var_os("DEPLOYER_DEBUG").is_some() {
                eprintln!("deployer: {code} ({message}): retrying");
            }
            note_wait("AWS to finish a concurrent change");
            RetryAction::retryable_error(aws_smithy_types::retry::ErrorKind::TransientError)
        } else {
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "deployer-busy"
    }

    /// After the SDK's own classifiers, so that a hard quota overrides
    /// their throttling verdict.
    fn priority(
        &self,
    ) -> aws_smithy_runtime_api::client::retries::classifiers::RetryClassifierPriority {
        use aws_smithy_runtime_api::client::retries::classifiers::RetryClassifierPriority as P;
        P::run_after(P::transient_error_classifier())
    }
}

/// The HTTPS client of every SDK client deployer makes: hyper 1 with rustls
/// on ring and the system's root certificates, with the stall guard of the
/// default stall timeout (see [`http_client_with`]). (The SDK's default
/// client would build aws-lc-sys, a C library, for the same TLS.) A new one
/// per configuration: a connection pool belongs to the runtime that made it.
pub fn http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    http_client_with(Duration::from_secs(DEFAULT_STALL_TIMEOUT_SECS))
}

/// [`http_client`] with the stall guard of `stall`: an attempt fails (a
/// connector timeout, naming the call like any) when the endpoint takes no
/// request bytes for `stall` while it is sent, sends no answer within
/// `stall` after it was sent (plus as long as its body took to send: what
/// the network's buffers still hold drains at that pace), or stops its
/// answer's body for `stall`. A live upload, however slow and long, keeps
/// going. (The SDK's read timeout would time the sending of the body too.)
pub fn http_client_with(stall: Duration) -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    crate::stall::guard(https, stall)
}

/// `aws_config::defaults` with deployer's HTTPS client (see `http_client`):
/// where every SDK configuration starts, the tests' read-backs included.
pub fn defaults() -> aws_config::ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest()).http_client(http_client())
}

/// What `deployer dev` gives an emulator, which takes any credentials.
pub fn emulator_credentials() -> aws_credential_types::Credentials {
    aws_credential_types::Credentials::new(
        "deployer-dev",
        "deployer-dev",
        None,
        None,
        "deployer dev",
    )
}

/// The SDK configuration of `t`: the aws-config chain, deployer's retry policy and timeouts.
pub async fn load_sdk_config(t: &Target) -> Result<SdkConfig> {
    let mut loader = defaults()
        .http_client(http_client_with(t.timeouts.stall))
        .retry_config(retry_config())
        .timeout_config(t.timeouts.config())
        // The stall guard (`http_client_with`) watches every attempt once
        // it is sent; the SDK's own stalled-stream protection would also
        // count a paced call's wait for its turn as a stalled upload.
        .stalled_stream_protection(
            aws_config::stalled_stream_protection::StalledStreamProtectionConfig::disabled(),
        );
    if let Some(p) = &t.profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = &t.region {
        loader = loader.region(Region::new(r.clone()));
    }
    if let Some(e) = &t.endpoint_url {
        loader = loader.endpoint_url(e);
    }
    if t.emulator_credentials {
        loader = loader.credentials_provider(emulator_credentials());
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
    /// The clients of `cfg`, each with deployer's interceptors (call counter, no blind retry of a create, one retry after a timeout; long timeouts for Lambda's zip uploads, pacing under AWS's quotas) and retry classifier.
    pub fn new(cfg: &SdkConfig) -> Clients {
        Clients::sharing(cfg, 1.0)
    }

    /// `new`, pacing at `quota_share` of each documented quota
    /// (`--quota-share`).
    pub fn sharing(cfg: &SdkConfig, quota_share: f64) -> Clients {
        let stats = Arc::new(CallStats::default());
        let pacer = Arc::new(crate::pace::Pacer::with_share(quota_share));
        let fault_after = std::env::var(FAULT_ENV).ok().and_then(|v| v.parse().ok());
        let counter = || Counter {
            stats: stats.clone(),
            fault_after,
        };
        let paced =
            |service: &'static str| Paced::new(pacer.clone(), service, cfg.timeout_config());
        // One cache of the credentials for every client (as the SDK
        // configuration has), each attempt taking its turn before it.
        let identity = cfg
            .identity_cache()
            .unwrap_or_else(|| aws_smithy_runtime::client::identity::IdentityCache::lazy().build());
        macro_rules! client {
            ($sdk:ident, $service:literal, $classifier:expr $(, $more:ident($arg:expr))*) => {
                $sdk::Client::from_conf(
                    $sdk::config::Builder::from(cfg)
                        .identity_cache(crate::pace::PacedIdentity {
                            inner: identity.clone(),
                        })
                        .interceptor(paced($service))
                        .interceptor(counter())
                        .interceptor(NoBlindRetry(is_create))
                        .interceptor(TimeoutRetryCap)
                        .retry_classifier($classifier)
                        .retry_partition(unlimited_retries($service))
                        $(.$more($arg))*
                        .build(),
                )
            };
        }
        Clients {
            cognito: client!(
                aws_sdk_cognitoidentityprovider,
                "cognito-idp",
                BusyClassifier::cognito()
            ),
            apigw: client!(
                aws_sdk_apigatewayv2,
                "apigateway",
                BusyClassifier::default()
            ),
            lambda: client!(aws_sdk_lambda, "lambda", BusyClassifier::default()),
            iam: client!(aws_sdk_iam, "iam", BusyClassifier::default()),
            sts: client!(aws_sdk_sts, "sts", BusyClassifier::default()),
            logs: client!(aws_sdk_cloudwatchlogs, "logs", BusyClassifier::default()),
            // Path-style addressing on a custom endpoint (an emulator), as
            // the S3 state backend does.
            s3: client!(
                aws_sdk_s3,
                "s3",
                BusyClassifier::default(),
                force_path_style(cfg.endpoint_url().is_some())
            ),
            region: cfg.region().map(|r| r.to_string()).unwrap_or_default(),
            stats,
            pacer,
            sdk: cfg.clone(),
        }
    }

    /// The interceptor that paces a client's calls under AWS's quotas of
    /// `service` (its signing name), for the client of a kind written
    /// outside deployer: a service `awsim/quotas.json` does not list is
    /// not paced, but its attempt and operation timeouts are kept.
    pub fn paced(&self, service: &'static str) -> impl Intercept + 'static {
        Paced::new(self.pacer.clone(), service, self.sdk.timeout_config())
    }

    /// An interceptor that counts a client's calls with deployer's own (the
    /// run's summary), for the client of a kind written outside deployer.
    pub fn counter(&self) -> impl Intercept + 'static {
        Counter {
            stats: self.stats.clone(),
            fault_after: std::env::var(FAULT_ENV).ok().and_then(|v| v.parse().ok()),
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
    // tokio's clock: the same as the system's, and a test can pause it.
    let start = tokio::time::Instant::now();
    let mut delay = Duration::from_millis(250);
    loop {
        match op().await {
            Err(e) if retryable(&e) && start.elapsed() + delay < budget => {
                let jitter = rand::random::<f64>() * 0.5 + 0.75;
                let d = delay.mul_f64(jitter);
                tracing_note(what, d);
                tokio::time::sleep(d).await;
                // AWS's passing states mostly end within seconds (IAM
                // propagation, a function Pending): at most a second between
                // tries for the first 20 s, so that the wait ends close to
                // when AWS is ready (doubling to 8 s overshot by up to 4 s),
                // then longer ones, so that a long wait makes few calls.
                let cap = if start.elapsed() < Duration::from_secs(20) {
                    Duration::from_secs(1)
                } else {
                    Duration::from_secs(8)
                };
                delay = (delay * 2).min(cap);
            }
            other => return other,
        }
    }
}

fn tracing_note(what: &str, d: Duration) {
    if std::env::var_os("DEPLOYER_DEBUG").is_some() {
        eprintln!("deployer: {what}: retrying in {} ms", d.as_millis());
    }
    note_wait(what);
}

tokio::task_local! {
    /// The step (resource key) the current task works on, for progress.
    pub static STEP: String;
}

/// What each step in flight is waiting for, and since when: rendered as
/// live progress on a terminal ("function: waiting for ... (4 s)").
static WAITS: std::sync::Mutex<std::collections::BTreeMap<String, (String, std::time::Instant)>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

/// Records that the current step waits for `what` (a passing state of AWS).
pub fn note_wait(what: &str) {
    let _ = STEP.try_with(|step| {
        let mut w = WAITS.lock().unwrap_or_else(|e| e.into_inner());
        let e = w
            .entry(step.clone())
            .or_insert_with(|| (what.to_string(), std::time::Instant::now()));
        if e.0 != what {
            *e = (what.to_string(), std::time::Instant::now());
        }
    });
}

/// What `step` waits for now, and for how long.
pub fn waiting(step: &str) -> Option<(String, Duration)> {
    WAITS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(step)
        .map(|(w, t)| (w.clone(), t.elapsed()))
}

/// The step is done: it waits for nothing.
pub fn clear_wait(step: &str) {
    WAITS.lock().unwrap_or_else(|e| e.into_inner()).remove(step);
}

/// Lambda answers `InvalidParameterValueException` with one of these while a
/// freshly created role is not yet visible to it: "The role defined for the
/// function cannot be assumed by Lambda." or, for a function with
/// environment variables, "Lambda was unable to configure access to your
/// environment variables because the KMS key is invalid for CreateGrant. ...
/// KMS Exception: InvalidArnException ..." (the KMS exception named varies;
/// terraform-provider-aws retries on the first sentence alone, in
/// `lambda/function.go`, for CreateFunction and UpdateFunctionConfiguration).
/// The one message match that cannot be avoided lives here.
///
/// Also "The provided execution role does not have permissions to call
/// PutTraceSegments on XRAY" (or another service a setting needs): a
/// policy attached to the role moments ago has not reached Lambda yet
/// (terraform-provider-aws retries it for the same two minutes). A role that
/// lacks it for good is refused by `plan` when the program declares it
/// (`Function`'s preflight); one made elsewhere fails after the wait.
pub fn is_role_not_assumable(message: Option<&str>) -> bool {
    message.is_some_and(|m| {
        m.contains("cannot be assumed by Lambda")
            || m.contains("KMS key is invalid for CreateGrant")
            || m.contains("execution role does not have permissions")
    })
}

#[cfg(test)]
mod tests;
