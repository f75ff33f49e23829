//! The SDK interceptors deployer puts on every client: the call counter
//! (and fault knob), no blind retry of a create, one retry after a
//! timeout, and the pacing under AWS's quotas.

use super::{
    error_code_and_message, is_mutating, retry_config, CallStats, Timeouts, BACKSTOP_SECS,
    FAULT_EXIT_CODE, UPLOAD_TIMEOUT_SECS,
};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::FinalizerInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug)]
pub(super) struct Counter {
    pub(super) stats: Arc<CallStats>,
    pub(super) fault_after: Option<u64>,
}

/// The attempt failed without an HTTP response: the request may have been
/// applied (connection dropped, timed out, unreadable answer).
fn outcome_unknown(
    ctx: &aws_smithy_runtime_api::client::interceptors::context::InterceptorContext,
) -> bool {
    match ctx.output_or_error() {
        Some(Err(e)) => {
            e.is_response_error() || e.is_timeout_error() || e.as_connector_error().is_some()
        }
        _ => false,
    }
}

/// The name of the operation a call is for (`CreateUserPool`, ...).
fn op_name(cfg: &ConfigBag) -> String {
    cfg.load::<Metadata>()
        .map(|m| m.name().to_string())
        .unwrap_or_default()
}

/// Stops the SDK from retrying an attempt of the operations `applies` names
/// when it got no response: the request may have been applied, and the
/// caller must look before trying again. On every client for creates
/// (`is_create`: the engine looks for what it made, see `Error::Ambiguous`);
/// on the S3 backend's client for `PutObject` (a conditional lock or state
/// write resent blindly would meet its own new ETag; the backend reads the
/// object back instead).
#[derive(Debug)]
pub struct NoBlindRetry(pub fn(&str) -> bool);

impl Intercept for NoBlindRetry {
    fn name(&self) -> &'static str {
        "deployer-no-blind-retry"
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let op = op_name(cfg);
        if (self.0)(&op) && outcome_unknown(context.inner()) {
            if std::env::var_os("DEPLOYER_DEBUG").is_some() {
                eprintln!("deployer: {op}: outcome unknown (no response); not retried blindly");
            }
            cfg.interceptor_state()
                .store_put(retry_config().with_max_attempts(1));
        }
        Ok(())
    }
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
        let op = op_name(cfg);
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

/// True for a zip upload to Lambda (`CreateFunction`, `UpdateFunctionCode`
/// with `ZipFile`): its attempt and operation timeouts are at least
/// [`UPLOAD_TIMEOUT_SECS`] (`Paced`): a 50 MB zip on a slow link takes
/// minutes, and the stall timeout stops one that does not move.
fn is_zip_upload(input: &aws_smithy_runtime_api::client::interceptors::context::Input) -> bool {
    use aws_sdk_lambda::operation::create_function::CreateFunctionInput;
    use aws_sdk_lambda::operation::update_function_code::UpdateFunctionCodeInput;
    input
        .downcast_ref::<CreateFunctionInput>()
        .is_some_and(|i| i.code().is_some_and(|c| c.zip_file().is_some()))
        || input
            .downcast_ref::<UpdateFunctionCodeInput>()
            .is_some_and(|i| i.zip_file().is_some())
}

/// How many attempts of the current call timed out.
#[derive(Debug, Clone, Copy)]
struct TimedOutAttempts(u32);

impl aws_smithy_types::config_bag::Storable for TimedOutAttempts {
    type Storer = aws_smithy_types::config_bag::StoreReplace<Self>;
}

/// Retries a timed-out attempt (stalled, or over its attempt timeout, or
/// not connected) once, not up to the retry policy's ten times: an
/// endpoint that did not answer twice is not answering, and ten attempts
/// of 20 s would keep a run waiting minutes to learn it.
#[derive(Debug)]
pub struct TimeoutRetryCap;

impl Intercept for TimeoutRetryCap {
    fn name(&self) -> &'static str {
        "deployer-timeout-retry-cap"
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let timed_out = match context.inner().output_or_error() {
            Some(Err(e)) => {
                e.is_timeout_error()
                    || e.as_connector_error().is_some_and(|c| c.is_timeout())
                    || crate::stall::is_stall(e)
            }
            _ => false,
        };
        if timed_out {
            let n = cfg.load::<TimedOutAttempts>().map_or(0, |t| t.0) + 1;
            cfg.interceptor_state().store_put(TimedOutAttempts(n));
            if n >= 2 {
                cfg.interceptor_state()
                    .store_put(retry_config().with_max_attempts(1));
            }
        }
        Ok(())
    }
}

/// The interceptor that paces a client's calls (see the module's
/// documentation): each attempt gets its `Ticket`; a throttle slows the
/// gates, an answer speeds them back up. It also keeps the call's attempt
/// and operation timeouts (the SDK's are off for a paced call: they would
/// count the wait at the gate): an attempt that takes longer fails as a
/// timeout; no attempt starts once the call has spent its operation
/// timeout, waits at gates not counted.
#[derive(Debug)]
pub struct Paced {
    pacer: Arc<crate::pace::Pacer>,
    /// The service's signing name (`lambda`, `cognito-idp`, ...).
    service: &'static str,
    attempt: Duration,
    operation: Duration,
}

impl Paced {
    /// Paces `service`'s calls through `pacer`, with the attempt and
    /// operation timeouts of `timeouts` (the run's SDK configuration).
    pub fn new(
        pacer: Arc<crate::pace::Pacer>,
        service: &'static str,
        timeouts: Option<&aws_smithy_types::timeout::TimeoutConfig>,
    ) -> Paced {
        let d = Timeouts::default();
        Paced {
            pacer,
            service,
            attempt: timeouts
                .and_then(|t| t.operation_attempt_timeout())
                .unwrap_or(d.attempt),
            operation: timeouts
                .and_then(|t| t.operation_timeout())
                .unwrap_or(d.operation),
        }
    }

    fn op(cfg: &aws_smithy_types::config_bag::ConfigBag) -> String {
        cfg.load::<aws_smithy_runtime_api::client::orchestrator::Metadata>()
            .map(|m| m.name().to_string())
            .unwrap_or_default()
    }
}

impl Intercept for Paced {
    fn name(&self) -> &'static str {
        "deployer-paced"
    }

    fn read_before_execution(
        &self,
        context: &aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        use aws_smithy_types::timeout::TimeoutConfig;
        let least = Duration::from_secs(UPLOAD_TIMEOUT_SECS);
        let upload = is_zip_upload(context.input());
        let (attempt, operation) = match upload {
            true => (self.attempt.max(least), self.operation.max(least)),
            false => (self.attempt, self.operation),
        };
        cfg.interceptor_state().store_put(crate::pace::CallLimits {
            attempt,
            operation,
            clock: Arc::new(crate::pace::CallClock::default()),
        });
        // The SDK's own attempt timeout would count the wait for the
        // turn: off for this call (the connector times the attempt once
        // sent); its operation timeout stays as a backstop far above what
        // deployer keeps (a client whose HTTP client is not deployer's
        // does not time its attempts). The SDK's stalled-stream protection
        // too would count the wait: the stall guard watches the attempt.
        let now = cfg.load::<TimeoutConfig>().cloned();
        let builder = now
            .as_ref()
            .map_or_else(TimeoutConfig::builder, |t| t.to_builder());
        cfg.interceptor_state().store_put(
            builder
                .disable_operation_attempt_timeout()
                .operation_timeout(operation.max(Duration::from_secs(BACKSTOP_SECS)))
                .build(),
        );
        cfg.interceptor_state().store_put(
            aws_smithy_runtime_api::client::stalled_stream_protection::StalledStreamProtectionConfig::disabled(),
        );
        Ok(())
    }

    fn modify_before_signing(
        &self,
        context: &mut aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(limits) = cfg.load::<crate::pace::CallLimits>().cloned() else {
            return Ok(());
        };
        let op = Self::op(cfg);
        let one_at_a_time = one_change_at_a_time(self.service, &op, context.request())
            .map(|what| self.pacer.one_at_a_time(&what));
        let gates = self.pacer.gates(self.service, &op);
        cfg.interceptor_state()
            .store_put(crate::pace::Ticket::new(one_at_a_time, gates, &limits));
        Ok(())
    }

    fn modify_before_transmit(
        &self,
        context: &mut aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(ticket) = cfg.load::<crate::pace::Ticket>().cloned() {
            context.request_mut().add_extension(ticket);
        }
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &aws_smithy_runtime_api::client::interceptors::context::FinalizerInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(ticket) = cfg.load::<crate::pace::Ticket>() {
            ticket.release();
        }
        let gates = self.pacer.gates(self.service, &Self::op(cfg));
        match context.response() {
            Some(r) if is_throttle(r) => gates.iter().for_each(|g| g.throttled()),
            // Any answer but a throttle or a 5xx (a 404 of a lookup is
            // one) is AWS keeping up.
            Some(r) if r.status().as_u16() < 500 => gates.iter().for_each(|g| g.answered()),
            _ => {}
        }
        if let Some(limits) = cfg.load::<crate::pace::CallLimits>().cloned() {
            if limits.clock.spent() >= limits.operation {
                cfg.interceptor_state()
                    .store_put(retry_config().with_max_attempts(1));
            }
        }
        Ok(())
    }
}

/// What a change takes its turn at, where AWS allows one change at a time
/// and answers a second with a conflict (the codes `is_busy_error`
/// retries): a write to an HTTP API (its routes, integrations, stage,
/// authorizers: "Unable to complete operation due to concurrent
/// modification"), a pool's app-client writes
/// (`ConcurrentModificationException`). Taking turns costs no more than
/// the quota's pace; meeting the conflict costs a backoff each time.
fn one_change_at_a_time(
    service: &str,
    op: &str,
    request: &aws_smithy_runtime_api::client::orchestrator::HttpRequest,
) -> Option<String> {
    match service {
        "apigateway" if request.method() != "GET" => {
            let path = request.uri().split("/v2/apis/").nth(1)?;
            let api = path.split(['/', '?']).next().filter(|a| !a.is_empty())?;
            Some(format!("apigateway:{api}"))
        }
        "cognito-idp" if op.ends_with("UserPoolClient") && !op.starts_with("Describe") => {
            let body: serde_json::Value = serde_json::from_slice(request.body().bytes()?).ok()?;
            Some(format!(
                "cognito-idp:{}:clients",
                body["UserPoolId"].as_str()?
            ))
        }
        _ => None,
    }
}

/// True for an answer that is a throttle: HTTP 429, or a throttling code
/// (the SDK's list: `Throttling`, `ThrottlingException`,
/// `TooManyRequestsException`, ...), but Cognito's `LimitExceededException`,
/// which is a hard quota there.
fn is_throttle(r: &aws_smithy_runtime_api::client::orchestrator::HttpResponse) -> bool {
    if r.status().as_u16() == 429 {
        return true;
    }
    if r.status().is_success() {
        return false;
    }
    let Some(body) = r.body().bytes() else {
        return false;
    };
    let (code, _) = error_code_and_message(r.headers().get("x-amzn-errortype"), body);
    THROTTLING.contains(&code.as_str())
}

/// The SDK's throttling codes (aws-runtime's `THROTTLING_ERRORS`) but
/// `LimitExceededException`, a hard quota in Cognito.
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "RequestThrottled",
    "SlowDown",
];
