//! A Lambda host: the function's deployed zip unpacked and its `bootstrap`
//! run under an emulation of the Lambda Runtime API (`invocation/next`,
//! `/response`, `/error`, `init/error`), with the function's environment and
//! the standard `AWS_LAMBDA_*` variables, and the local emulator as its only
//! AWS (its endpoint, a region, dummy credentials); kept warm between
//! requests; the timeout enforced; a crash ends the instance and the next
//! request starts a new one. However an instance ends, every process it
//! started ends with it (its process group).

mod env;
mod instance;
mod invoke;
mod process;
mod runtime_api;

pub use env::{DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY, DUMMY_SESSION_TOKEN};

use crate::package::Package;
use process::kill_group;
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

    pub async fn stop(&self) {
        self.idle.lock().await.clear();
    }
}

#[cfg(test)]
mod tests;
