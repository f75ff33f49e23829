//! A Lambda host: the function's deployed zip unpacked and its `bootstrap`
//! run under an emulation of the Lambda Runtime API (`invocation/next`,
//! `/response`, `/error`, `init/error`), with the function's environment and
//! the standard `AWS_LAMBDA_*` variables; kept warm between requests; the
//! timeout enforced; a crash ends the instance and the next request starts a
//! new one.

use super::tokens::uuid;
use crate::package::Package;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// The function as the control plane describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionConfig {
    pub name: String,
    pub arn: String,
    pub env: BTreeMap<String, String>,
    pub timeout: Duration,
    pub memory_mb: i32,
    pub code_sha256: String,
    pub region: String,
    /// How many instances may run at once: the reserved concurrency when
    /// set, else `DEFAULT_CONCURRENCY`.
    pub concurrency: usize,
}

/// Instances per function when no reserved concurrency is set (an account's
/// default is 1000; locally a few cores are all there is).
pub const DEFAULT_CONCURRENCY: usize = 10;

#[derive(Debug)]
pub enum InvokeError {
    /// The function returned an error, crashed, or failed to start.
    Failed(String),
    Timeout,
    /// Every instance the function may have is busy (Lambda's 429
    /// `TooManyRequestsException`).
    Throttled,
    /// What is deployed is not what can be run here.
    Config(String),
}

enum Outcome {
    Ok(Value),
    Err(String),
}

struct RuntimeApi {
    queue: tokio::sync::Mutex<mpsc::Receiver<(String, Value, u64)>>,
    pending: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    arn: String,
    /// The request the instance is working on (its output lines carry it).
    current: Mutex<String>,
}

/// Where the function's log lines go: what Lambda writes to CloudWatch Logs
/// (`START`, the function's stdout and stderr, `END`, `REPORT`), by stream.
pub trait LogSink: Send + Sync {
    fn line(&self, stream: &str, request_id: &str, line: &str);
}

/// The Lambda log stream name of a new instance:
/// `YYYY/MM/DD/[$LATEST]<32 hex>`.
fn stream_name() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() / 86400)
        .unwrap_or(0) as i64;
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}/{m:02}/{d:02}/[$LATEST]{}", uuid().replace('-', ""))
}

/// The peak resident memory of a process, in MB (Lambda's "Max Memory Used").
fn max_memory_mb(pid: Option<u32>) -> u64 {
    pid.and_then(|p| std::fs::read_to_string(format!("/proc/{p}/status")).ok())
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map(|kb| kb.div_ceil(1024))
        .unwrap_or(0)
}

struct Instance {
    stream: String,
    /// Set until the first invocation reports it (a cold start).
    init: Option<Duration>,
    child: tokio::process::Child,
    tx: mpsc::Sender<(String, Value, u64)>,
    api: Arc<RuntimeApi>,
    server: tokio::task::JoinHandle<()>,
    config: FunctionConfig,
}

impl Drop for Instance {
    /// Ends the sandbox as Lambda does: the bootstrap and every process it
    /// started (its process group), none left running after a timeout.
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(pid) = self.child.id().and_then(|p| i32::try_from(p).ok()) {
            // SAFETY: kill(2) on the group of our own child, not yet reaped
            // (the group is the child's pid, made for it at spawn).
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
        let _ = self.child.start_kill();
        self.server.abort();
    }
}

pub struct LambdaHost {
    /// The packages this host can run, by CodeSha256: the control plane's
    /// answer picks one, so that during a hot reload requests keep being
    /// served by the old code until the new one is deployed.
    packages: Mutex<std::collections::HashMap<String, Arc<Package>>>,
    dir: PathBuf,
    logs: Option<Arc<dyn LogSink>>,
    /// Warm instances waiting for a request.
    idle: tokio::sync::Mutex<Vec<Instance>>,
    /// Instances working on a request now.
    busy: std::sync::atomic::AtomicUsize,
    /// The packages this process unpacked itself (by directory): a file
    /// found in place is never trusted. Held while unpacking, so that two
    /// cold starts at once never run a half-unpacked `bootstrap`.
    unpacked: Mutex<std::collections::HashSet<PathBuf>>,
    /// Cold starts so far (for tests and the README's figures).
    pub starts: std::sync::atomic::AtomicU64,
}

impl LambdaHost {
    pub fn new(packages: impl IntoIterator<Item = Arc<Package>>, dir: PathBuf) -> LambdaHost {
        LambdaHost {
            packages: Mutex::new(
                packages
                    .into_iter()
                    .map(|p| (p.sha256_b64.clone(), p))
                    .collect(),
            ),
            dir,
            logs: None,
            idle: tokio::sync::Mutex::new(Vec::new()),
            busy: Default::default(),
            unpacked: Mutex::new(Default::default()),
            starts: Default::default(),
        }
    }

    /// Makes a new build runnable (a hot reload), before it is deployed.
    pub fn add_package(&self, package: Arc<Package>) {
        self.packages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(package.sha256_b64.clone(), package);
    }

    /// Sends the function's log lines (as Lambda writes them) to `sink`.
    pub fn with_logs(mut self, sink: Arc<dyn LogSink>) -> LambdaHost {
        self.logs = Some(sink);
        self
    }

    fn log(&self, stream: &str, request_id: &str, line: &str) {
        if let Some(l) = &self.logs {
            l.line(stream, request_id, line);
        }
    }

    /// Where the package with this CodeSha256 is unpacked.
    fn unpack_dir(&self, code_sha256: &str) -> PathBuf {
        let safe: String = code_sha256
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(16)
            .collect();
        self.dir.join(safe)
    }

    /// Unpacks a package added with `add_package` now, so that the first
    /// cold start once it is deployed does not wait for it (a `--watch`
    /// reload unpacks while it deploys).
    pub fn unpack_ahead(&self, code_sha256: &str) -> Result<(), InvokeError> {
        self.unpack(code_sha256).map(|_| ())
    }

    /// Unpacks `bootstrap` from the zip whose SHA-256 the control plane reports.
    fn unpack(&self, code_sha256: &str) -> Result<PathBuf, InvokeError> {
        let package = self
            .packages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(code_sha256)
            .cloned();
        let Some(package) = package else {
            return Err(InvokeError::Config(format!(
                "the deployed code (CodeSha256 {code_sha256}) is not the local build: run `deployer dev` again"
            )));
        };
        let dir = self.unpack_dir(code_sha256);
        let bin = dir.join("bootstrap");
        let mut unpacked = self.unpacked.lock().unwrap_or_else(|e| e.into_inner());
        if !unpacked.contains(&dir) {
            // Whatever is there already (planted, or half-written by a
            // crashed run) goes: only what this process unpacks runs.
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).map_err(|e| InvokeError::Config(e.to_string()))?;
            let mut z = zip::ZipArchive::new(std::io::Cursor::new(package.zip.clone()))
                .map_err(|e| InvokeError::Config(format!("the function zip: {e}")))?;
            z.extract(&dir)
                .map_err(|e| InvokeError::Config(format!("unpacking the function zip: {e}")))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755));
            }
            unpacked.insert(dir);
        }
        Ok(bin)
    }

    async fn start(&self, cfg: &FunctionConfig) -> Result<Instance, InvokeError> {
        let t0 = std::time::Instant::now();
        let bin = self.unpack(&cfg.code_sha256)?;
        let stream = stream_name();
        let (tx, rx) = mpsc::channel(1);
        let api = Arc::new(RuntimeApi {
            queue: tokio::sync::Mutex::new(rx),
            pending: Mutex::new(HashMap::new()),
            arn: cfg.arn.clone(),
            current: Mutex::new(String::new()),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| InvokeError::Config(e.to_string()))?;
        let addr = listener
            .local_addr()
            .map_err(|e| InvokeError::Config(e.to_string()))?;
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(respond),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(api.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let mut cmd = tokio::process::Command::new(&bin);
        cmd.env_clear()
            .envs(&cfg.env)
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("LANG", "en_US.UTF-8")
            .env("TZ", ":UTC")
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", &cfg.name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", cfg.memory_mb.to_string())
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{}", cfg.name),
            )
            .env("AWS_LAMBDA_LOG_STREAM_NAME", &stream)
            .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
            .env("AWS_REGION", &cfg.region)
            .env("AWS_DEFAULT_REGION", &cfg.region)
            .env("_HANDLER", "bootstrap")
            .env("LAMBDA_TASK_ROOT", bin.parent().unwrap_or(&self.dir))
            .current_dir(bin.parent().unwrap_or(&self.dir))
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        // A group of its own, ended as a whole with the instance.
        #[cfg(unix)]
        cmd.process_group(0);
        if self.logs.is_some() {
            cmd.stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| InvokeError::Failed(format!("cannot start bootstrap: {e}")))?;
        if let Some(sink) = &self.logs {
            // stdout and stderr, line by line, as Lambda forwards them.
            let out = child
                .stdout
                .take()
                .map(|o| Box::new(o) as Box<dyn tokio::io::AsyncRead + Send + Unpin>);
            let err = child
                .stderr
                .take()
                .map(|o| Box::new(o) as Box<dyn tokio::io::AsyncRead + Send + Unpin>);
            for pipe in [out, err].into_iter().flatten() {
                let sink = sink.clone();
                let api = api.clone();
                let stream = stream.clone();
                tokio::spawn(async move {
                    use tokio::io::AsyncBufReadExt;
                    let mut lines = tokio::io::BufReader::new(pipe).lines();
                    while let Ok(Some(l)) = lines.next_line().await {
                        let id = api.current.lock().unwrap().clone();
                        sink.line(&stream, &id, &l);
                    }
                });
            }
        }
        self.starts
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(Instance {
            stream,
            init: Some(t0.elapsed()),
            child,
            tx,
            api,
            server,
            config: cfg.clone(),
        })
    }

    /// Invokes the function with one event, as Lambda does: on an idle warm
    /// instance, else on a new one (a cold start, its init time reported)
    /// while fewer than `cfg.concurrency` run, else `Throttled`.
    pub async fn invoke(&self, cfg: &FunctionConfig, event: Value) -> Result<Value, InvokeError> {
        use std::sync::atomic::Ordering;
        let taken = {
            let mut idle = self.idle.lock().await;
            // A redeploy (new code or configuration) retires the old ones.
            idle.retain(|i| &i.config == cfg);
            let warm = idle.pop();
            if warm.is_none() && idle.len() + self.busy.load(Ordering::SeqCst) >= cfg.concurrency {
                return Err(InvokeError::Throttled);
            }
            self.busy.fetch_add(1, Ordering::SeqCst);
            warm
        };
        let inst = match taken {
            Some(i) => Ok(i),
            None => self.start(cfg).await,
        };
        let mut inst = match inst {
            Ok(i) => i,
            Err(e) => {
                self.busy.fetch_sub(1, Ordering::SeqCst);
                return Err(e);
            }
        };
        let (outcome, keep) = self.run_on(&mut inst, cfg, event).await;
        self.busy.fetch_sub(1, Ordering::SeqCst);
        if keep {
            self.idle.lock().await.push(inst);
        }
        outcome
    }

    /// One invocation on one instance; says whether the instance lives on.
    async fn run_on(
        &self,
        inst: &mut Instance,
        cfg: &FunctionConfig,
        event: Value,
    ) -> (Result<Value, InvokeError>, bool) {
        let id = uuid();
        let started = std::time::Instant::now();
        *inst.api.current.lock().unwrap() = id.clone();
        self.log(
            &inst.stream,
            &id,
            &format!("START RequestId: {id} Version: $LATEST"),
        );
        let (done_tx, done_rx) = oneshot::channel();
        inst.api.pending.lock().unwrap().insert(id.clone(), done_tx);
        let deadline = (std::time::SystemTime::now() + cfg.timeout)
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        if inst.tx.send((id.clone(), event, deadline)).await.is_err() {
            return (
                Err(InvokeError::Failed("the runtime API stopped".into())),
                false,
            );
        }
        let outcome = tokio::select! {
            r = done_rx => match r {
                Ok(Outcome::Ok(v)) => Ok(v),
                Ok(Outcome::Err(e)) => Err(InvokeError::Failed(e)),
                Err(_) => Err(InvokeError::Failed("the invocation was dropped".into())),
            },
            status = inst.child.wait() => Err(InvokeError::Failed(format!("bootstrap exited ({})", status.map(|s| s.to_string()).unwrap_or_default()))),
            _ = tokio::time::sleep(cfg.timeout) => Err(InvokeError::Timeout),
        };
        let took = started.elapsed().as_secs_f64() * 1000.0;
        if let Err(InvokeError::Timeout) = &outcome {
            self.log(
                &inst.stream,
                &id,
                &format!(
                    "{id} Task timed out after {:.2} seconds",
                    cfg.timeout.as_secs_f64()
                ),
            );
        }
        self.log(&inst.stream, &id, &format!("END RequestId: {id}"));
        let init = inst
            .init
            .take()
            .map(|d| format!("\tInit Duration: {:.2} ms", d.as_secs_f64() * 1000.0))
            .unwrap_or_default();
        self.log(
            &inst.stream,
            &id,
            &format!(
                "REPORT RequestId: {id}\tDuration: {took:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB{init}",
                took.ceil() as u64,
                cfg.memory_mb,
                max_memory_mb(inst.child.id())
            ),
        );
        // A crash or a timeout ends the instance; a handled error does not.
        let keep = match &outcome {
            Err(InvokeError::Timeout) => false,
            Err(InvokeError::Failed(m)) if m.starts_with("init error") => false,
            Err(InvokeError::Failed(_)) => inst.child.try_wait().ok().flatten().is_none(),
            _ => true,
        };
        (outcome, keep)
    }

    pub async fn stop(&self) {
        self.idle.lock().await.clear();
    }
}

async fn next(State(api): State<Arc<RuntimeApi>>) -> Response {
    let item = api.queue.lock().await.recv().await;
    let Some((id, event, deadline)) = item else {
        return StatusCode::GONE.into_response();
    };
    let mut h = HeaderMap::new();
    let hv = |s: &str| HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static(""));
    h.insert("lambda-runtime-aws-request-id", hv(&id));
    h.insert("lambda-runtime-deadline-ms", hv(&deadline.to_string()));
    h.insert("lambda-runtime-invoked-function-arn", hv(&api.arn));
    h.insert(
        "lambda-runtime-trace-id",
        hv(&format!("Root=1-{}", uuid().replace('-', ""))),
    );
    h.insert("content-type", HeaderValue::from_static("application/json"));
    (StatusCode::OK, h, event.to_string()).into_response()
}

async fn respond(
    State(api): State<Arc<RuntimeApi>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let v: Value = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    match api.pending.lock().unwrap().remove(&id) {
        Some(tx) => {
            let _ = tx.send(Outcome::Ok(v));
            (StatusCode::ACCEPTED, "{\"status\":\"OK\"}").into_response()
        }
        None => (
            StatusCode::BAD_REQUEST,
            "{\"errorMessage\":\"unknown request id\"}",
        )
            .into_response(),
    }
}

async fn error(
    State(api): State<Arc<RuntimeApi>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if let Some(tx) = api.pending.lock().unwrap().remove(&id) {
        let _ = tx.send(Outcome::Err(format!(
            "function error: {}",
            String::from_utf8_lossy(&body)
        )));
    }
    (StatusCode::ACCEPTED, "{\"status\":\"OK\"}").into_response()
}

async fn init_error(State(api): State<Arc<RuntimeApi>>, body: Bytes) -> Response {
    let msg = format!("init error: {}", String::from_utf8_lossy(&body));
    for (_, tx) in api.pending.lock().unwrap().drain() {
        let _ = tx.send(Outcome::Err(msg.clone()));
    }
    (StatusCode::ACCEPTED, "{\"status\":\"OK\"}").into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn host_with(script: &str) -> (LambdaHost, FunctionConfig, tempfile::TempDir) {
        let zip = crate::package::zip_bootstrap(script.as_bytes()).unwrap();
        let pkg = Arc::new(crate::package::from_zip(zip));
        let dir = tempfile::tempdir().unwrap();
        let cfg = FunctionConfig {
            name: "t".into(),
            arn: "arn:aws:lambda:eu-west-1:123456789012:function:t".into(),
            env: [("GREETING".to_string(), "hi".to_string())].into(),
            // Ample: a shell bootstrap's first request (sh and curl
            // starting) took over a second with the test suite's load
            // beside it. The timeout's own test sets one second.
            timeout: Duration::from_secs(10),
            memory_mb: 128,
            code_sha256: pkg.sha256_b64.clone(),
            region: "eu-west-1".into(),
            concurrency: 2,
        };
        (LambdaHost::new([pkg], dir.path().to_path_buf()), cfg, dir)
    }

    /// A bootstrap speaking the Runtime API with curl: answers the event back
    /// with the environment it saw; `crash` in the event makes it exit.
    const ECHO: &str = r#"#!/bin/sh
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
while true; do
  hdrs=$(mktemp)
  event=$(curl -sS -D "$hdrs" "$api/invocation/next")
  id=$(grep -i '^lambda-runtime-aws-request-id:' "$hdrs" | cut -d' ' -f2 | tr -d '\r')
  case "$event" in *crash*) exit 3 ;; esac
  curl -sS -X POST -d "{\"statusCode\":200,\"body\":\"$GREETING $AWS_LAMBDA_FUNCTION_NAME $id\"}" "$api/invocation/$id/response" >/dev/null
done
"#;

    /// A `bootstrap` planted where the host unpacks is not run: the host
    /// unpacks the deployed zip itself.
    #[tokio::test]
    async fn a_planted_bootstrap_is_never_run() {
        let (host, cfg, d) = host_with(ECHO);
        let planted = host.unpack_dir(&cfg.code_sha256);
        std::fs::create_dir_all(&planted).unwrap();
        let marker = d.path().join("planted-ran");
        std::fs::write(
            planted.join("bootstrap"),
            format!("#!/bin/sh\ntouch {}\nexit 1\n", marker.display()),
        )
        .unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(
                planted.join("bootstrap"),
                std::fs::Permissions::from_mode(0o755),
            )
            .unwrap();
        }
        let r = host.invoke(&cfg, json!({"n": 1})).await.unwrap();
        assert!(r["body"].as_str().unwrap().starts_with("hi t "), "{r}");
        assert!(!marker.exists(), "the planted binary ran");
        host.stop().await;
    }

    #[tokio::test]
    async fn warm_crash_restart_and_timeout() {
        let (host, cfg, _d) = host_with(ECHO);
        let r = host.invoke(&cfg, json!({"n": 1})).await.unwrap();
        assert!(r["body"].as_str().unwrap().starts_with("hi t "), "{r}");
        host.invoke(&cfg, json!({"n": 2})).await.unwrap();
        assert_eq!(
            host.starts.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "kept warm"
        );
        // A crash fails the request; the next one starts a new process.
        let e = host.invoke(&cfg, json!({"crash": true})).await.unwrap_err();
        assert!(
            matches!(e, InvokeError::Failed(ref m) if m.contains("exited")),
            "{e:?}"
        );
        host.invoke(&cfg, json!({"n": 3})).await.unwrap();
        assert_eq!(host.starts.load(std::sync::atomic::Ordering::SeqCst), 2);
        // A changed configuration (a redeploy) starts a new process too.
        let mut cfg2 = cfg.clone();
        cfg2.env.insert("GREETING".into(), "hello".into());
        let r = host.invoke(&cfg2, json!({})).await.unwrap();
        assert!(r["body"].as_str().unwrap().starts_with("hello "));
        host.stop().await;
    }

    /// Answers after a second, so that invocations overlap.
    const SLOW: &str = r#"#!/bin/sh
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
while true; do
  hdrs=$(mktemp)
  event=$(curl -sS -D "$hdrs" "$api/invocation/next")
  id=$(grep -i '^lambda-runtime-aws-request-id:' "$hdrs" | cut -d' ' -f2 | tr -d '\r')
  from=$(date +%s%N)
  sleep 1
  curl -sS -X POST -d "{\"pid\":$$,\"from\":$from,\"to\":$(date +%s%N)}" "$api/invocation/$id/response" >/dev/null
done
"#;

    /// Up to the function's concurrency, requests run at once on their own
    /// instances (cold starts); beyond it they are throttled; idle instances
    /// are reused.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_requests_get_instances_up_to_the_limit() {
        let (host, mut cfg, _d) = host_with(SLOW);
        cfg.timeout = Duration::from_secs(5);
        let host = Arc::new(host);
        let t = std::time::Instant::now();
        let calls: Vec<_> = (0..3)
            .map(|_| {
                let (h, c) = (host.clone(), cfg.clone());
                tokio::spawn(async move { h.invoke(&c, json!({})).await })
            })
            .collect();
        let mut ok = vec![];
        let mut ran = vec![];
        let mut throttled = 0;
        for c in calls {
            match c.await.unwrap() {
                Ok(v) => {
                    ok.push(v["pid"].as_u64().unwrap());
                    ran.push((v["from"].as_u64().unwrap(), v["to"].as_u64().unwrap()));
                }
                Err(InvokeError::Throttled) => throttled += 1,
                Err(e) => panic!("{e:?}"),
            }
        }
        assert_eq!((ok.len(), throttled), (2, 1), "concurrency 2");
        assert_ne!(ok[0], ok[1], "two instances");
        // Each one's second of work overlaps the other's (by the clock the
        // bootstraps read, not by how long the test took: a loaded machine
        // starts them late, not one after the other).
        let ((a0, a1), (b0, b1)) = (ran[0], ran[1]);
        assert!(
            a0 < b1 && b0 < a1,
            "they ran at the same time: {ran:?}, {:?} in all",
            t.elapsed()
        );
        assert_eq!(host.starts.load(std::sync::atomic::Ordering::SeqCst), 2);
        // Warm again: both are reused, no new cold start.
        let (a, b) = tokio::join!(host.invoke(&cfg, json!({})), host.invoke(&cfg, json!({})));
        let mut again = vec![
            a.unwrap()["pid"].as_u64().unwrap(),
            b.unwrap()["pid"].as_u64().unwrap(),
        ];
        again.sort();
        ok.sort();
        assert_eq!(again, ok, "the idle instances are reused");
        assert_eq!(host.starts.load(std::sync::atomic::Ordering::SeqCst), 2);
        host.stop().await;
    }

    /// The first file named `name` under `dir`.
    fn walk_for(dir: &std::path::Path, name: &str) -> Option<std::path::PathBuf> {
        for e in std::fs::read_dir(dir).ok()?.flatten() {
            let p = e.path();
            if p.is_dir() {
                if let Some(f) = walk_for(&p, name) {
                    return Some(f);
                }
            } else if p.file_name().is_some_and(|n| n == name) {
                return Some(p);
            }
        }
        None
    }

    #[tokio::test]
    async fn timeout_is_enforced_and_code_must_match() {
        // The bootstrap starts a process of its own: the timeout ends both,
        // as Lambda ends the sandbox.
        let script = "#!/bin/sh\nsleep 30 &\necho $! > \"$LAMBDA_TASK_ROOT/child.pid\"\nwait\n";
        let (host, mut cfg, d) = host_with(script);
        cfg.timeout = Duration::from_secs(1);
        let t = std::time::Instant::now();
        assert!(matches!(
            host.invoke(&cfg, json!({})).await,
            Err(InvokeError::Timeout)
        ));
        assert!(t.elapsed() < Duration::from_secs(5));
        let pid_file =
            walk_for(d.path(), "child.pid").expect("the bootstrap wrote its child's pid");
        let pid: i32 = std::fs::read_to_string(pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let gone = |pid: i32| {
            // Gone, or a zombie waiting for init to reap it.
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .map(|s| {
                    s.rsplit(')')
                        .next()
                        .unwrap_or("")
                        .trim_start()
                        .starts_with('Z')
                })
                .unwrap_or(true)
        };
        let t = std::time::Instant::now();
        while !gone(pid) && t.elapsed() < Duration::from_secs(5) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            gone(pid),
            "the bootstrap's child {pid} outlived the timeout"
        );
        let mut other = cfg.clone();
        other.code_sha256 = "something-else".into();
        assert!(
            matches!(host.invoke(&other, json!({})).await, Err(InvokeError::Config(m)) if m.contains("not the local build"))
        );
        host.stop().await;
    }
}
