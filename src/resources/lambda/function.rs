use super::settings::{ephemeral_storage, logging_config, logging_value, tracing_config};
use super::unreserved_minimum;
use crate::config::Architecture;
use crate::error::Error;
use crate::error::Result;
use crate::kind::*;
use crate::model::{deps_of, Handle, Input, Inputs, Output};
use crate::package::Package;
use crate::resources::iam::role::{allows_xray, XRAY_WRITE};
use aws_sdk_lambda::operation::get_function::GetFunctionOutput;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Architecture as LArch, Environment, FunctionCode, Runtime};
use serde_json::json;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(300);

/// Every function of the region (ListFunctions: 50 a call, no filter by
/// name), within `ask.budget` calls (`crate::kind::listing`).
async fn list_functions(
    cx: &Cx,
    ask: crate::kind::listing::Ask,
) -> Result<Option<crate::kind::listing::Listed>> {
    use crate::kind::listing::{paged, Page};
    paged(&ask, "", |marker| async move {
        let page = cx
            .aws
            .lambda
            .list_functions()
            .max_items(50)
            .set_marker(marker)
            .send()
            .await
            .map_err(ctx_err("list functions"))?;
        let functions = page.functions.unwrap_or_default().into_iter();
        let names = functions
            .filter_map(|f| Some((f.function_name?, None)))
            .collect();
        Ok(Page::Items(names, page.next_marker))
    })
    .await
}

// ---------------------------------------------------------------- function

/// A Lambda function running the run's Rust package (`provided.al2023`,
/// `bootstrap`).
pub struct Function {
    /// Its name (unique in the account and region).
    pub name: String,
    /// Its code: the run's handler package (the default), a crate of the
    /// workspace (`Code::krate("orders")`), or a zip. An unchanged crate
    /// builds the same bytes, so its function's code is not updated.
    pub code: crate::package::Code,
    /// The execution role's ARN.
    pub role: Input<String>,
    /// The CPU it runs on.
    pub architecture: Architecture,
    /// Environment variables; a secret input is never shown in a plan.
    pub environment: BTreeMap<String, Input<String>>,
    /// How long one invocation may run, in seconds.
    pub timeout_seconds: i32,
    /// Its memory in MB (CPU grows with it).
    pub memory_mb: i32,
    /// Its description (empty: none).
    pub description: String,
    /// Its `/tmp` in MB (512 to 10240).
    pub ephemeral_storage_mb: i32,
    /// Concurrent executions reserved for it, and its ceiling (`None`:
    /// none reserved, the account's pool).
    pub reserved_concurrency: Option<i32>,
    /// X-Ray tracing of its invocations.
    pub tracing: Tracing,
    /// How it logs: the format, levels and log group.
    pub logging: Logging,
    /// Layer version ARNs (`arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION`),
    /// at most five, in the order Lambda unpacks them into `/opt` (a later
    /// one's files over an earlier one's). Empty: none.
    pub layers: Vec<Input<String>>,
}

/// A function's X-Ray tracing.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub enum Tracing {
    /// Traced only when the caller's request is.
    #[default]
    PassThrough,
    /// Every invocation sampled and traced.
    Active,
}

/// A function's logging configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Logging {
    /// JSON lines (with levels) instead of plain text.
    pub json: bool,
    /// With `json`: the lowest level of the function's own lines that is
    /// kept (`TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR`, `FATAL`; empty:
    /// `INFO`, which Lambda stores and reports when none is sent).
    pub application_level: String,
    /// With `json`: the lowest level of Lambda's own lines (`DEBUG`,
    /// `INFO`, `WARN`; empty: `INFO`, as Lambda stores it).
    pub system_level: String,
    /// The log group (empty: `/aws/lambda/NAME`).
    pub log_group: String,
}

/// A function's timeout by default, in seconds.
pub const TIMEOUT_SECONDS: i32 = 10;
/// A function's memory by default, in MB.
pub const MEMORY_MB: i32 = 128;

impl Function {
    /// A function of `name` running the handler package as `role`, with the default timeout, memory and architecture and no environment.
    ///
    /// ```
    /// use deployer::model::Handle;
    /// use deployer::package::Code;
    /// use deployer::resources::lambda::{Function, Role};
    /// let role = Handle::<Role>::new("role");
    /// let mut f = Function::new("orders", role.arn());
    /// f.code = Code::krate("orders"); // the crate `orders` of the workspace
    /// f.memory_mb = 256;
    /// f.environment.insert("TABLE".into(), "orders".into());
    /// ```
    pub fn new(name: impl Into<String>, role: Input<String>) -> Self {
        Function {
            name: name.into(),
            code: crate::package::Code::Handler,
            role,
            architecture: Architecture::default(),
            environment: BTreeMap::new(),
            timeout_seconds: TIMEOUT_SECONDS,
            memory_mb: MEMORY_MB,
            description: String::new(),
            ephemeral_storage_mb: 512,
            reserved_concurrency: None,
            tracing: Tracing::default(),
            logging: Logging::default(),
            layers: vec![],
        }
    }
}

impl Handle<Function> {
    /// The function's ARN.
    pub fn arn(&self) -> Output<String> {
        self.output("arn")
    }
    /// The function's name (its ID).
    pub fn name(&self) -> Output<String> {
        self.id()
    }
}

impl Function {
    /// The unique ID of the role its `role` input reads, as `k` knows it
    /// (`None` while unknown; empty for a role not declared in the stack).
    fn role_id(&self, k: &Known) -> Option<String> {
        match self.role.deps().first() {
            Some(role) => k.get(role, "role_id"),
            None => Some(String::new()),
        }
    }

    async fn get(cx: &Cx, name: &str) -> Result<Option<Observed>> {
        Ok(Self::get_function(cx, name)
            .await?
            .and_then(|f| Self::observed(name, f)))
    }

    async fn get_function(cx: &Cx, name: &str) -> Result<Option<GetFunctionOutput>> {
        if !name.contains(':')
            && !cx
                .may_exist(FunctionProvider.kind(), name, |ask| list_functions(cx, ask))
                .await
        {
            return Ok(None);
        }
        match cx
            .aws
            .lambda
            .get_function()
            .function_name(name)
            .send()
            .await
        {
            Ok(f) => Ok(Some(f)),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(Error::aws(format!("get function {name}"), e)),
        }
    }

    /// Reads the function until `settled` says its state has settled
    /// (`Ok(true)`; an error for a failed one), and answers that read: at
    /// once, then every 0.5 s for 10 s (a new function is Active within
    /// seconds; the SDK's waiters back off to 2, 4, 8 s and overshot by up
    /// to 2 s), then every 2 s, within 5 minutes.
    async fn poll(
        cx: &Cx,
        name: &str,
        what: &str,
        settled: impl Fn(&aws_sdk_lambda::types::FunctionConfiguration) -> Result<bool>,
    ) -> Result<Observed> {
        let start = std::time::Instant::now();
        loop {
            let f = Self::get_function(cx, name).await?.ok_or_else(|| {
                Error::Other(format!("function {name} vanished while waiting for {what}"))
            })?;
            if settled(f.configuration.as_ref().ok_or_else(|| {
                Error::Other(format!(
                    "function {name}: GetFunction answered no configuration"
                ))
            })?)? {
                return Self::observed(name, f)
                    .ok_or_else(|| Error::Other(format!("function {name} vanished")));
            }
            if start.elapsed() > WAIT {
                return Err(Error::Other(format!(
                    "function {name}: still waiting for {what} after {} s; run `deployer up` again",
                    WAIT.as_secs()
                )));
            }
            crate::aws::note_wait(what);
            let every = if start.elapsed() < Duration::from_secs(10) {
                500
            } else {
                2000
            };
            tokio::time::sleep(Duration::from_millis(every)).await;
        }
    }

    /// Waits for a new function to become Active.
    async fn wait_active(cx: &Cx, name: &str) -> Result<Observed> {
        use aws_sdk_lambda::types::State;
        Self::poll(cx, name, "the function to become Active", |c| {
            match c.state() {
                Some(State::Active) | None => Ok(true),
                Some(State::Failed) => Err(Error::Other(format!(
                    "function {name} failed to become Active: {}",
                    c.state_reason().unwrap_or("no reason given")
                ))),
                _ => Ok(false),
            }
        })
        .await
    }

    fn observed(name: &str, f: GetFunctionOutput) -> Option<Observed> {
        let c = f.configuration?;
        let env: BTreeMap<String, String> = c
            .environment
            .and_then(|e| e.variables)
            .map(|v| v.into_iter().collect())
            .unwrap_or_default();
        let mut outputs = BTreeMap::new();
        outputs.insert("arn".into(), c.function_arn.clone().unwrap_or_default());
        outputs.insert("id".into(), name.to_string());
        let lc = c.logging_config.as_ref();
        let logging = logging_value(
            name,
            lc.and_then(|l| l.log_format.as_ref())
                .is_some_and(|f| f.as_str() == "JSON"),
            lc.and_then(|l| l.application_log_level.as_ref())
                .map(|v| v.as_str())
                .unwrap_or_default(),
            lc.and_then(|l| l.system_log_level.as_ref())
                .map(|v| v.as_str())
                .unwrap_or_default(),
            lc.and_then(|l| l.log_group.as_deref()).unwrap_or_default(),
        );
        Some(Observed {
            id: name.to_string(),
            props: props(json!({
                "name": name,
                "runtime": c.runtime.as_ref().map(|r| r.as_str()).unwrap_or_default(),
                "handler": c.handler.unwrap_or_default(),
                "role": c.role.unwrap_or_default(),
                "architecture": c.architectures.unwrap_or_default().first().map(|a| a.as_str().to_string()).unwrap_or_else(|| "x86_64".into()),
                "code_sha256": c.code_sha256.unwrap_or_default(),
                "environment": tags_value(env),
                "timeout": c.timeout.unwrap_or_default(),
                "memory": c.memory_size.unwrap_or_default(),
                "tags": tags_value(f.tags.unwrap_or_default()),
                "description": c.description.unwrap_or_default(),
                "ephemeral_storage_mb": c.ephemeral_storage.map(|e| e.size).unwrap_or(512),
                "reserved_concurrency": f.concurrency.and_then(|x| x.reserved_concurrent_executions),
                "tracing": c.tracing_config.and_then(|t| t.mode).map(|m| m.as_str().to_string()).unwrap_or("PassThrough".into()),
                "logging": logging,
                "layers": c.layers.unwrap_or_default().into_iter().filter_map(|l| l.arn).collect::<Vec<_>>(),
            })),
            outputs,
        })
    }

    fn package(&self, cx: &Cx) -> Result<Arc<Package>> {
        cx.ctx.package_of(&self.code).ok_or_else(|| {
            Error::Other(format!(
                "function {}: {} was not built for this run",
                self.name, self.code
            ))
        })
    }

    /// Reserves `n` concurrent executions (PutFunctionConcurrency), or
    /// none (DeleteFunctionConcurrency).
    async fn set_concurrency(cx: &Cx, name: &str, n: Option<i32>) -> Result<()> {
        match n {
            Some(n) => {
                let r = cx.aws.lambda.put_function_concurrency().function_name(name);
                r.reserved_concurrent_executions(n)
                    .send()
                    .await
                    .map_err(ctx_err(format!("reserve concurrency of function {name}")))?;
            }
            None => {
                let r = cx
                    .aws
                    .lambda
                    .delete_function_concurrency()
                    .function_name(name);
                r.send().await.map_err(ctx_err(format!(
                    "release the concurrency of function {name}"
                )))?;
            }
        }
        Ok(())
    }

    async fn wait_updated(cx: &Cx, name: &str) -> Result<Observed> {
        use aws_sdk_lambda::types::LastUpdateStatus as L;
        Self::poll(
            cx,
            name,
            "the function update to finish (LastUpdateStatus)",
            |c| match c.last_update_status() {
                Some(L::Successful) | None => Ok(true),
                Some(L::Failed) => Err(Error::Other(format!(
                    "function {name}: the update failed (LastUpdateStatus=Failed): {}",
                    c.last_update_status_reason().unwrap_or("no reason given")
                ))),
                _ => Ok(false),
            },
        )
        .await
    }
}

/// True for Lambda's answer while a new role is not assumable yet (IAM propagation), by code and message.
pub fn role_not_assumable(
    e: &aws_sdk_lambda::operation::create_function::CreateFunctionError,
) -> bool {
    match e {
        aws_sdk_lambda::operation::create_function::CreateFunctionError::InvalidParameterValueException(x) => {
            crate::aws::is_role_not_assumable(x.message())
        }
        _ => false,
    }
}

/// The role-propagation answers of `role_not_assumable`, for
/// UpdateFunctionConfiguration (a function moved to a new role).
pub fn config_role_not_assumable(
    e: &aws_sdk_lambda::operation::update_function_configuration::UpdateFunctionConfigurationError,
) -> bool {
    match e {
        aws_sdk_lambda::operation::update_function_configuration::UpdateFunctionConfigurationError::InvalidParameterValueException(x) => {
            crate::aws::is_role_not_assumable(x.message())
        }
        _ => false,
    }
}

#[async_trait::async_trait]
impl Kind for Function {
    fn provider(&self) -> Arc<dyn Provider> {
        Arc::new(FunctionProvider)
    }
    fn preflight(&self, key: &str, p: &Preflight) -> Vec<String> {
        let mut refused = vec![];
        // Active tracing: Lambda refuses a role that may not send traces
        // ("The provided execution role does not have permissions to call
        // PutTraceSegments on XRAY"; https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html).
        // Known when the role is the program's own.
        if self.tracing == Tracing::Active {
            for role_key in self.role.deps() {
                let Some(role) = p.declared.get(role_key) else {
                    continue;
                };
                if role.kind != "aws:iam:Role" {
                    continue;
                }
                let inline: Vec<&Value> = p
                    .of_kind("aws:iam:RolePolicy")
                    .filter(|(_, rp)| rp.deps.contains(role_key))
                    .filter_map(|(_, rp)| rp.desired.props.get("policy"))
                    .collect();
                if !allows_xray(&strings(&role.desired.props, "policies"), &inline) {
                    refused.push(format!(
                        "`{key}` ({}) traces with X-Ray (Tracing::Active), but its role `{role_key}` may not send traces: Lambda refuses it (\"The provided execution role does not have permissions to call PutTraceSegments on XRAY\"). Add `{XRAY_WRITE}` to the role's managed_policies, or a RolePolicy of that role allowing xray:PutTraceSegments and xray:PutTelemetryRecords",
                        self.name
                    ));
                }
            }
        }
        // Reserved concurrency: Lambda keeps 100 of the account's
        // concurrency unreserved (all of it below 100).
        // The program's reservations are added up once, by the first
        // function (by key) that reserves more than it has.
        if let Some(unreserved) = p.facts.lambda_unreserved {
            let more = |k: &str, pl: &Planned| {
                let want = pl
                    .desired
                    .props
                    .get("reserved_concurrency")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                let have = p
                    .observed(k)
                    .and_then(|o| o.get("reserved_concurrency"))
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                want - have
            };
            let growing: Vec<(&String, i64)> = p
                .of_kind("aws:lambda:Function")
                .map(|(k, pl)| (k, more(k, pl)))
                .filter(|(_, m)| *m > 0)
                .collect();
            let added: i64 = p
                .of_kind("aws:lambda:Function")
                .map(|(k, pl)| more(k, pl))
                .sum();
            let minimum = unreserved_minimum(p.facts.lambda_limit);
            if growing.first().is_some_and(|(k, _)| k.as_str() == key)
                && unreserved - added < minimum
            {
                refused.push(format!(
                    "the program reserves {added} more concurrent executions ({}), but the account has {unreserved} unreserved and Lambda keeps at least {minimum} unreserved: PutFunctionConcurrency would be refused. Reserve less, or ask AWS for a higher concurrency quota (Service Quotas: Lambda, Concurrent executions; a new account has 10, and Lambda keeps 100 unreserved once it has more)",
                    growing.iter().map(|(k, m)| format!("{k} +{m}")).collect::<Vec<_>>().join(", ")
                ));
            }
        }
        refused
    }
    fn code(&self) -> Option<crate::package::Code> {
        Some(self.code.clone())
    }
    fn replace_on(&self) -> Vec<&'static str> {
        vec!["name"]
    }
    fn deps(&self) -> Vec<String> {
        deps_of(
            std::iter::once(self.role.deps())
                .chain(self.environment.values().map(|v| v.deps()))
                .chain(self.layers.iter().map(|l| l.deps())),
        )
    }
    fn sensitive(&self) -> BTreeSet<String> {
        self.environment
            .iter()
            .filter(|(_, v)| v.is_secret())
            .map(|(k, _)| format!("environment.{k}"))
            .collect()
    }
    fn desired(&self, ctx: &Ctx, k: &Known) -> Desired {
        let mut i = Inputs::new(ctx, k);
        let env: BTreeMap<String, String> = self
            .environment
            .iter()
            .map(|(n, v)| (n.clone(), i.get(&format!("environment.{n}"), v)))
            .collect();
        let v = json!({
            "name": self.name,
            "runtime": "provided.al2023",
            "handler": "bootstrap",
            "role": i.get("role", &self.role),
            "architecture": self.architecture.as_str(),
            "code_sha256": i.value("code_sha256", ctx.package_of(&self.code).map(|p| p.sha256_b64.clone())),
            "environment": env,
            "timeout": self.timeout_seconds,
            "memory": self.memory_mb,
            "tags": tags_value(ctx.tags.clone()),
            "role_id": i.value("role_id", self.role_id(k)),
            "description": self.description,
            "ephemeral_storage_mb": self.ephemeral_storage_mb,
            "reserved_concurrency": self.reserved_concurrency,
            "tracing": match self.tracing {
                Tracing::PassThrough => "PassThrough",
                Tracing::Active => "Active",
            },
            "logging": logging_value(
                &self.name,
                self.logging.json,
                &self.logging.application_level,
                &self.logging.system_level,
                &self.logging.log_group,
            ),
            // In order: the order is how Lambda stacks them.
            "layers": i.list("layers", &self.layers),
        });
        i.finish(v)
    }
    async fn read(&self, cx: &Cx, prior: &Prior) -> Result<Read> {
        let mut found = None;
        for name in names_to_read(&self.name, prior) {
            found = Self::get(cx, &name).await?;
            if found.is_some() {
                break;
            }
        }
        Ok(match found {
            Some(mut o) => {
                // Lambda does not report which role incarnation its grant
                // names: the one this stack configured it with is recorded
                // (else the role's, as recorded).
                let configured = prior
                    .outputs
                    .get("role_id")
                    .cloned()
                    .or_else(|| self.role_id(&prior.known))
                    .unwrap_or_default();
                o.props.insert("role_id".into(), json!(configured));
                o.outputs.insert("role_id".into(), configured);
                Read::Found(o)
            }
            None => Read::Missing,
        })
    }
    async fn create(&self, cx: &Cx, d: &Props, k: &Known) -> Result<Observed> {
        let name = self.name.clone();
        let pkg = self.package(cx)?;
        let env = Environment::builder()
            .set_variables(Some(string_map(d, "environment").into_iter().collect()))
            .build();
        // A new role is not assumable by Lambda for several seconds.
        let r = crate::aws::with_backoff(
            "the role to be assumable by Lambda",
            Duration::from_secs(120),
            |e: &aws_sdk_lambda::error::SdkError<
                aws_sdk_lambda::operation::create_function::CreateFunctionError,
                _,
            >| { e.as_service_error().is_some_and(role_not_assumable) },
            || {
                cx.aws
                    .lambda
                    .create_function()
                    .function_name(&name)
                    .runtime(Runtime::from(s(d, "runtime").as_str()))
                    .handler(s(d, "handler"))
                    .role(s(d, "role"))
                    .architectures(LArch::from(s(d, "architecture").as_str()))
                    .code(
                        FunctionCode::builder()
                            .zip_file(Blob::new(pkg.zip.clone()))
                            .build(),
                    )
                    .environment(env.clone())
                    .timeout(self.timeout_seconds)
                    .memory_size(self.memory_mb)
                    .set_description(Some(s(d, "description")).filter(|x| !x.is_empty()))
                    .set_ephemeral_storage(ephemeral_storage(d))
                    .tracing_config(tracing_config(d))
                    .logging_config(logging_config(d))
                    .set_layers(Some(strings(d, "layers")).filter(|l| !l.is_empty()))
                    .set_tags(Some(string_map(d, "tags").into_iter().collect()))
                    .send()
            },
        )
        .await;
        match r {
            Ok(_) => {}
            // Unique name: adopt the function an interrupted run created.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_conflict_exception()) =>
            {
                if let Some(o) = Self::get(cx, &name).await? {
                    cx.ctx.ensure_ours("function", &o)?;
                    return self.update(cx, d, &o, k).await;
                }
                return Err(Error::aws(format!("create function {name}"), e));
            }
            Err(e) => {
                let hint = if e.as_service_error().is_some_and(role_not_assumable) {
                    " (the role is still not assumable after 2 minutes: run `deployer up` again)"
                } else {
                    ""
                };
                return Err(Error::aws(format!("create function {name}{hint}"), e));
            }
        }
        // Lambda changes a function only once it is Active (a Pending one
        // answers ResourceConflictException).
        let mut o = Self::wait_active(cx, &name).await?;
        if let Some(n) = d.get("reserved_concurrency").and_then(|v| v.as_i64()) {
            Self::set_concurrency(cx, &name, Some(n as i32)).await?;
            o.props.insert("reserved_concurrency".into(), json!(n));
        }
        o.props.insert("role_id".into(), json!(s(d, "role_id")));
        o.outputs.insert("role_id".into(), s(d, "role_id"));
        Ok(o)
    }
    async fn update(&self, cx: &Cx, d: &Props, o: &Observed, _k: &Known) -> Result<Observed> {
        let name = o.id.clone();
        let changed = diff(d, &o.props);
        let code_changed = changed
            .iter()
            .any(|k| k == "code_sha256" || k == "architecture");
        let config_changed = changed.iter().any(|k| {
            [
                "runtime",
                "handler",
                "role",
                // The same role ARN sent again: Lambda grants the new role.
                "role_id",
                "environment",
                "timeout",
                "memory",
                "description",
                "ephemeral_storage_mb",
                "tracing",
                "logging",
                "layers",
            ]
            .contains(&k.as_str())
        });
        if code_changed {
            let pkg = self.package(cx)?;
            crate::aws::with_backoff(
                "update function code",
                WAIT,
                update_in_progress!(update_function_code, UpdateFunctionCodeError),
                || {
                    cx.aws
                        .lambda
                        .update_function_code()
                        .function_name(&name)
                        .zip_file(Blob::new(pkg.zip.clone()))
                        .architectures(LArch::from(s(d, "architecture").as_str()))
                        .send()
                },
            )
            .await
            .map_err(ctx_err(format!("update code of function {name}")))?;
            Self::wait_updated(cx, &name).await?;
        }
        if config_changed {
            // Environment is replaced as a whole: always send all of it.
            let env = Environment::builder()
                .set_variables(Some(string_map(d, "environment").into_iter().collect()))
                .build();
            // A role changed to a new one meets the same propagation as at
            // create: retried like an update in progress.
            let in_progress = update_in_progress!(
                update_function_configuration,
                UpdateFunctionConfigurationError
            );
            crate::aws::with_backoff(
                "update function configuration",
                WAIT,
                |e: &aws_sdk_lambda::error::SdkError<
                    aws_sdk_lambda::operation::update_function_configuration::UpdateFunctionConfigurationError,
                    _,
                >| {
                    in_progress(e) || e.as_service_error().is_some_and(config_role_not_assumable)
                },
                || {
                    cx.aws
                        .lambda
                        .update_function_configuration()
                        .function_name(&name)
                        .runtime(Runtime::from(s(d, "runtime").as_str()))
                        .handler(s(d, "handler"))
                        .role(s(d, "role"))
                        .environment(env.clone())
                        .timeout(self.timeout_seconds)
                        .memory_size(self.memory_mb)
                        .description(s(d, "description"))
                        .set_ephemeral_storage(ephemeral_storage(d))
                        .tracing_config(tracing_config(d))
                        .logging_config(logging_config(d))
                        // All of them, in order (none: an empty list).
                        .set_layers(Some(strings(d, "layers")))
                        .send()
                },
            )
            .await
            .map_err(ctx_err(format!("update configuration of function {name}")))?;
            Self::wait_updated(cx, &name).await?;
        }
        if changed.iter().any(|k| k == "reserved_concurrency") {
            let n = d.get("reserved_concurrency").and_then(|v| v.as_i64());
            Self::set_concurrency(cx, &name, n.map(|n| n as i32)).await?;
        }
        if changed.iter().any(|k| k == "tags") {
            let arn = o.outputs.get("arn").cloned().unwrap_or_default();
            let want = string_map(d, "tags");
            let stale = stale_tags(d, &o.props);
            if !stale.is_empty() {
                cx.aws
                    .lambda
                    .untag_resource()
                    .resource(&arn)
                    .set_tag_keys(Some(stale))
                    .send()
                    .await
                    .map_err(ctx_err("untag function"))?;
            }
            cx.aws
                .lambda
                .tag_resource()
                .resource(&arn)
                .set_tags(Some(want.into_iter().collect()))
                .send()
                .await
                .map_err(ctx_err("tag function"))?;
        }
        let mut outputs = o.outputs.clone();
        outputs.insert("role_id".into(), s(d, "role_id"));
        Ok(Observed {
            props: d.clone(),
            outputs,
            ..o.clone()
        })
    }
}

/// Reads and deletes [`Function`]s by ID.
pub struct FunctionProvider;

#[async_trait::async_trait]
impl Provider for FunctionProvider {
    fn kind(&self) -> &'static str {
        "aws:lambda:Function"
    }
    async fn read(&self, cx: &Cx, id: &str, _parent: Option<&str>) -> Result<Read> {
        Ok(match Function::get(cx, id).await? {
            Some(o) => Read::Found(o),
            None => Read::Missing,
        })
    }
    async fn delete(&self, cx: &Cx, id: &str, _p: Option<&str>) -> Result<()> {
        match cx
            .aws
            .lambda
            .delete_function()
            .function_name(id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(Error::aws(format!("delete function {id}"), e)),
        }
    }
}
