//! A Lambda host: the function's deployed zip unpacked and its `bootstrap`
//! run under an emulation of the Lambda Runtime API (`invocation/next`,
//! `/response`, `/error`, `init/error`), with the function's environment and
//! the standard `AWS_LAMBDA_*` variables, and the local emulator as its only
//! AWS (its endpoint, a region, dummy credentials); kept warm between
//! requests; the timeout enforced; a crash ends the instance and the next
//! request starts a new one. However an instance ends, every process it
//! started ends with it (its process group).

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
    /// The bootstrap's process group, ended with the instance.
    group: Arc<Group>,
    /// How the bootstrap ended, once it has (its group ended with it).
    exited: tokio::sync::watch::Receiver<Option<String>>,
    tx: mpsc::Sender<(String, Value, u64)>,
    api: Arc<RuntimeApi>,
    server: tokio::task::JoinHandle<()>,
    config: FunctionConfig,
}

impl Instance {
    /// Whether the bootstrap still runs.
    fn running(&self) -> bool {
        self.exited.borrow().is_none()
    }

    /// Resolves when the bootstrap has exited, with how.
    async fn ended(&mut self) -> String {
        match self.exited.wait_for(Option::is_some).await {
            Ok(s) => s.clone().unwrap_or_default(),
            Err(_) => "its watcher stopped".into(),
        }
    }
}

impl Drop for Instance {
    /// Ends the sandbox as Lambda does: the bootstrap and every process it
    /// started (its process group), whatever ends the instance (a timeout,
    /// an init error, a redeploy, `stop`).
    fn drop(&mut self) {
        self.group.kill();
        self.server.abort();
    }
}

/// A bootstrap's process group: the bootstrap is spawned as the leader of a
/// group of its own, so the group's ID is its pid, which stays ours (no new
/// process can get it) until the bootstrap is reaped.
struct Group {
    pid: i32,
    /// Set, before the bootstrap is reaped, once the group has been ended
    /// for its exit: the ID may be another process's after that, and is
    /// never signalled again.
    done: Mutex<bool>,
}

impl Group {
    /// SIGKILL to every process of the group, unless it was ended already.
    fn kill(&self) {
        let done = self.done.lock().unwrap_or_else(|e| e.into_inner());
        if !*done {
            kill_group(self.pid);
        }
    }

    /// Ends the group for good: its last signal (the bootstrap has exited,
    /// not yet reaped).
    fn end(&self) {
        let mut done = self.done.lock().unwrap_or_else(|e| e.into_inner());
        if !*done {
            kill_group(self.pid);
            *done = true;
        }
    }
}

fn kill_group(pid: i32) {
    #[cfg(unix)]
    if pid > 0 {
        // SAFETY: kill(2) on the group of our own child, not yet reaped
        // (`Group` says when): no other process has this ID.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

/// Waits for the bootstrap to exit, ends the rest of its process group
/// before reaping it (a crash or an exit leaves nothing it started behind,
/// as Lambda ends the sandbox), and says how it ended.
async fn watch_exit(
    mut child: tokio::process::Child,
    group: Arc<Group>,
    tx: tokio::sync::watch::Sender<Option<String>>,
) {
    exited_unreaped(&mut child, group.pid).await;
    group.end();
    let status = match child.wait().await {
        Ok(s) => s.to_string(),
        Err(e) => e.to_string(),
    };
    let _ = tx.send(Some(status));
}

/// Resolves once the process `pid` (our child) has exited, leaving it
/// unreaped (a zombie) so that its pid, the group's ID, stays ours.
#[cfg(target_os = "linux")]
async fn exited_unreaped(_child: &mut tokio::process::Child, pid: i32) {
    use tokio::signal::unix::{signal, SignalKind};
    // Listening before the first look: no exit goes unnoticed.
    let mut sigchld = signal(SignalKind::child()).ok();
    while !has_exited(pid) {
        let signalled = match sigchld.as_mut() {
            Some(s) => s.recv().await.is_some(),
            None => false,
        };
        if !signalled {
            // No SIGCHLD to wait for (the signal driver stopped): look again
            // in a moment.
            sigchld = None;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Whether our child `pid` has exited (or cannot be waited for), without
/// reaping it.
#[cfg(target_os = "linux")]
fn has_exited(pid: i32) -> bool {
    // SAFETY: an all-zero siginfo_t is valid; waitid(2) on our own child
    // with WNOWAIT reports an exit without reaping, and fills `info`
    // (si_pid stays 0 when nothing has exited yet).
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        let r = libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        );
        match r {
            0 => info.si_pid() != 0,
            _ => std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR),
        }
    }
}

/// Elsewhere: waits for the exit (reaping it; the group is ended just after).
#[cfg(not(target_os = "linux"))]
async fn exited_unreaped(child: &mut tokio::process::Child, _pid: i32) {
    let _ = child.wait().await;
}

/// Dummy credentials, in place of the execution role's that Lambda gives a
/// function: the local emulator takes any, and no real ones are given.
pub const DUMMY_ACCESS_KEY_ID: &str = "ASIADEPLOYERDEVLOCAL";
pub const DUMMY_SECRET_ACCESS_KEY: &str = "deployer-dev-dummy-secret-access-key";
pub const DUMMY_SESSION_TOKEN: &str = "deployer-dev-dummy-session-token";

/// Variables of a function's configuration that would send its AWS calls
/// elsewhere than the local emulator, or sign them with other credentials
/// (a profile, a credentials file, a container or web identity provider,
/// the instance metadata service, another endpoint): a local function
/// never gets them. Names ending in `*` are prefixes.
const NOT_PASSED: [&str; 18] = [
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_SDK_LOAD_CONFIG",
    "AWS_CONTAINER_*",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_EC2_METADATA_*",
    "AWS_ENDPOINT_URL*",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_USE_DUALSTACK_ENDPOINT",
    // Older names of the credentials, which some SDKs still read.
    "AWS_ACCESS_KEY",
    "AWS_SECRET_KEY",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
];

fn not_passed(name: &str) -> bool {
    NOT_PASSED.iter().any(|n| match n.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == *n,
    })
}

/// The environment of a function's process: its configuration's variables
/// (less what `NOT_PASSED` names), then what Lambda sets (which the
/// configuration cannot override), with the local emulator as the only
/// AWS: `AWS_ENDPOINT_URL` (`aws_endpoint`), the region, dummy credentials,
/// no instance metadata. Nothing of the host's own environment.
fn environment(
    cfg: &FunctionConfig,
    aws_endpoint: &str,
    runtime_api: &str,
    stream: &str,
    task_root: &std::path::Path,
) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = cfg
        .env
        .iter()
        .filter(|(k, _)| !not_passed(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    // A proxy of the configuration's (as on Lambda, for the internet) is
    // not used for the emulator.
    let proxied = ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"]
        .iter()
        .any(|p| env.contains_key(*p) || env.contains_key(&p.to_ascii_lowercase()));
    let emulator_host = url::Url::parse(aws_endpoint)
        .ok()
        .and_then(|u| u.host_str().map(String::from));
    if let (true, Some(host)) = (proxied, emulator_host) {
        for k in ["NO_PROXY", "no_proxy"] {
            let v = match env.get(k).filter(|v| !v.is_empty()) {
                Some(v) => format!("{v},{host}"),
                None => host.clone(),
            };
            env.insert(k.into(), v);
        }
    }
    let root = task_root.display().to_string();
    let set = [
        ("PATH", "/usr/local/bin:/usr/bin:/bin"),
        ("LANG", "en_US.UTF-8"),
        ("TZ", ":UTC"),
        ("AWS_LAMBDA_RUNTIME_API", runtime_api),
        ("AWS_LAMBDA_FUNCTION_NAME", &cfg.name),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            &cfg.memory_mb.to_string(),
        ),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME",
            &format!("/aws/lambda/{}", cfg.name),
        ),
        ("AWS_LAMBDA_LOG_STREAM_NAME", stream),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
        ("AWS_REGION", &cfg.region),
        ("AWS_DEFAULT_REGION", &cfg.region),
        ("AWS_ACCESS_KEY_ID", DUMMY_ACCESS_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", DUMMY_SECRET_ACCESS_KEY),
        ("AWS_SESSION_TOKEN", DUMMY_SESSION_TOKEN),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("_HANDLER", "bootstrap"),
        ("LAMBDA_TASK_ROOT", &root),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()));
    env.extend(set);
    if !aws_endpoint.is_empty() {
        env.insert("AWS_ENDPOINT_URL".into(), aws_endpoint.into());
    }
    env
}

pub struct LambdaHost {
    /// The packages this host can run, by CodeSha256: the control plane's
    /// answer picks one, so that during a hot reload requests keep being
    /// served by the old code until the new one is deployed.
    packages: Mutex<std::collections::HashMap<String, Arc<Package>>>,
    dir: PathBuf,
    /// The local emulator's endpoint: the only AWS a function reaches.
    aws_endpoint: String,
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
    /// A host running `packages`, unpacked under `dir`, whose functions'
    /// AWS calls go to the emulator at `aws_endpoint` (and nowhere else).
    pub fn new(
        packages: impl IntoIterator<Item = Arc<Package>>,
        dir: PathBuf,
        aws_endpoint: &str,
    ) -> LambdaHost {
        LambdaHost {
            packages: Mutex::new(
                packages
                    .into_iter()
                    .map(|p| (p.sha256_b64.clone(), p))
                    .collect(),
            ),
            dir,
            aws_endpoint: aws_endpoint.to_string(),
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
        let root = bin.parent().unwrap_or(&self.dir);
        let mut cmd = tokio::process::Command::new(&bin);
        cmd.env_clear()
            .envs(environment(
                cfg,
                &self.aws_endpoint,
                &addr.to_string(),
                &stream,
                root,
            ))
            .current_dir(root)
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
        let group = Arc::new(Group {
            pid: child.id().and_then(|p| i32::try_from(p).ok()).unwrap_or(0),
            done: Mutex::new(false),
        });
        let (exit_tx, exited) = tokio::sync::watch::channel(None);
        tokio::spawn(watch_exit(child, group.clone(), exit_tx));
        self.starts
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(Instance {
            stream,
            init: Some(t0.elapsed()),
            group,
            exited,
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
            // A redeploy (new code or configuration) retires the old ones;
            // one whose bootstrap exited meanwhile is gone.
            idle.retain(|i| &i.config == cfg && i.running());
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
            status = inst.ended() => Err(InvokeError::Failed(format!("bootstrap exited ({status})"))),
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
                max_memory_mb(inst.running().then_some(inst.group.pid as u32))
            ),
        );
        // A crash or a timeout ends the instance; a handled error does not.
        let keep = match &outcome {
            Err(InvokeError::Timeout) => false,
            Err(InvokeError::Failed(m)) if m.starts_with("init error") => false,
            Err(InvokeError::Failed(_)) => inst.running(),
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
        let host = LambdaHost::new([pkg], dir.path().to_path_buf(), EMULATOR);
        (host, cfg, dir)
    }

    /// The emulator's endpoint the tests' host gives its functions.
    const EMULATOR: &str = "http://127.0.0.1:4566";

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

    /// The pid a bootstrap wrote to `child.pid` (in its task root, under `dir`).
    fn child_pid(dir: &std::path::Path) -> i32 {
        let pid_file = walk_for(dir, "child.pid").expect("the bootstrap wrote its child's pid");
        std::fs::read_to_string(pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    /// Whether the process `pid` is gone (or a zombie waiting for init to
    /// reap it) within `limit`.
    async fn gone_within(pid: i32, limit: Duration) -> bool {
        let gone = |pid: i32| {
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
        while !gone(pid) && t.elapsed() < limit {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        gone(pid)
    }

    /// A bootstrap that starts a process of its own (`sleep`, its pid in
    /// `child.pid`), then crashes on its first event, or (`answer`) answers
    /// it and exits.
    fn leaves_a_child(answer: bool) -> String {
        let end = match answer {
            true => {
                r#"curl -sS -X POST -d '{"ok":true}' "$api/invocation/$id/response" >/dev/null
exit 0"#
            }
            false => "exit 3",
        };
        format!(
            r#"#!/bin/sh
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
sleep 30 &
echo $! > "$LAMBDA_TASK_ROOT/child.pid"
hdrs=$(mktemp)
curl -sS -D "$hdrs" "$api/invocation/next" >/dev/null
id=$(grep -i '^lambda-runtime-aws-request-id:' "$hdrs" | cut -d' ' -f2 | tr -d '\r')
{end}
"#
        )
    }

    /// A bootstrap that crashes mid-request, or exits after answering,
    /// takes what it started with it (its process group), as Lambda ends
    /// the sandbox: at once, not at the next request or a timeout.
    #[tokio::test]
    async fn a_crashed_or_exited_bootstrap_leaves_no_process() {
        let (host, cfg, d) = host_with(&leaves_a_child(false));
        let e = host.invoke(&cfg, json!({})).await.unwrap_err();
        assert!(
            matches!(e, InvokeError::Failed(ref m) if m.contains("exited")),
            "{e:?}"
        );
        let pid = child_pid(d.path());
        assert!(
            gone_within(pid, Duration::from_secs(5)).await,
            "the crashed bootstrap's child {pid} outlived it"
        );
        host.stop().await;

        let (host, cfg, d) = host_with(&leaves_a_child(true));
        host.invoke(&cfg, json!({})).await.unwrap();
        let pid = child_pid(d.path());
        assert!(
            gone_within(pid, Duration::from_secs(5)).await,
            "the exited bootstrap's child {pid} outlived it"
        );
        // The next request gets a new instance, not the dead one.
        let _ = host.invoke(&cfg, json!({})).await.unwrap();
        assert_eq!(host.starts.load(std::sync::atomic::Ordering::SeqCst), 2);
        host.stop().await;
    }

    /// Answers with the environment it runs in.
    const ENV: &str = r#"#!/bin/sh
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
hdrs=$(mktemp)
curl -sS -D "$hdrs" "$api/invocation/next" >/dev/null
id=$(grep -i '^lambda-runtime-aws-request-id:' "$hdrs" | cut -d' ' -f2 | tr -d '\r')
env > "$hdrs"
curl -sS -X POST --data-binary @"$hdrs" "$api/invocation/$id/response" >/dev/null
"#;

    /// A function's AWS calls reach the local emulator and only it: its
    /// endpoint, the region, dummy credentials as Lambda gives a function
    /// (the emulator takes any), and nothing that points elsewhere, from
    /// its configuration or from the host's own environment.
    #[tokio::test]
    async fn a_function_reaches_the_emulator_only() {
        let (host, mut cfg, _d) = host_with(ENV);
        for (k, v) in [
            ("AWS_PROFILE", "production"),
            ("AWS_DEFAULT_PROFILE", "production"),
            ("AWS_CONFIG_FILE", "/home/me/.aws/config"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/home/me/.aws/credentials"),
            (
                "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                "http://169.254.170.2/creds",
            ),
            ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/creds"),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "t"),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token"),
            ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/real"),
            ("AWS_ENDPOINT_URL", "https://lambda.eu-west-1.amazonaws.com"),
            ("AWS_ENDPOINT_URL_S3", "https://s3.amazonaws.com"),
            ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
            (
                "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                "http://169.254.169.254",
            ),
            ("AWS_EC2_METADATA_DISABLED", "false"),
            ("AWS_USE_FIPS_ENDPOINT", "true"),
            ("AWS_ACCESS_KEY_ID", "AKIAREALREALREALREAL"),
            ("AWS_SECRET_ACCESS_KEY", "real-secret"),
            ("AWS_SECRET_KEY", "real-secret"),
            ("AWS_SESSION_TOKEN", "real-token"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_LAMBDA_FUNCTION_NAME", "someone-else"),
            ("HTTPS_PROXY", "http://proxy.example:3128"),
        ] {
            cfg.env.insert(k.into(), v.into());
        }
        let out = host.invoke(&cfg, json!({})).await.unwrap();
        let seen: BTreeMap<&str, &str> = out
            .as_str()
            .expect("the environment, as text")
            .lines()
            .filter_map(|l| l.split_once('='))
            .collect();
        let want: BTreeMap<&str, &str> = [
            ("AWS_ENDPOINT_URL", EMULATOR),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_DEFAULT_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", DUMMY_ACCESS_KEY_ID),
            ("AWS_SECRET_ACCESS_KEY", DUMMY_SECRET_ACCESS_KEY),
            ("AWS_SESSION_TOKEN", DUMMY_SESSION_TOKEN),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_LAMBDA_FUNCTION_NAME", "t"),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
            ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/t"),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
            ("_HANDLER", "bootstrap"),
            ("GREETING", "hi"),
            ("HTTPS_PROXY", "http://proxy.example:3128"),
            ("NO_PROXY", "127.0.0.1"),
            ("no_proxy", "127.0.0.1"),
            ("TZ", ":UTC"),
        ]
        .into();
        for (k, v) in &want {
            assert_eq!(seen.get(k), Some(v), "{k} in {seen:#?}");
        }
        // Nothing else: the rest is what Lambda sets (and the shell's own).
        let known = [
            "PATH",
            "LANG",
            "PWD",
            "SHLVL",
            "_",
            "AWS_LAMBDA_RUNTIME_API",
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "LAMBDA_TASK_ROOT",
        ];
        let extra: Vec<&&str> = seen
            .keys()
            .filter(|k| !want.contains_key(*k) && !known.contains(k))
            .collect();
        assert!(extra.is_empty(), "not expected: {extra:?} in {seen:#?}");
        host.stop().await;
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
        let pid = child_pid(d.path());
        assert!(
            gone_within(pid, Duration::from_secs(5)).await,
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
