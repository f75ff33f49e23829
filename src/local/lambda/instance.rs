//! Starting an instance: the package unpacked, the Runtime API served,
//! the bootstrap spawned.

use super::env::environment;
use super::process::watch_exit;
use super::runtime_api::{error, init_error, next, respond};
use super::{FunctionConfig, Group, Instance, InvokeError, LambdaHost, RuntimeApi};
use crate::local::tokens::uuid;
use axum::routing::{get, post};
use axum::Router;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

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

impl LambdaHost {
    /// Where the package with this CodeSha256 is unpacked.
    pub(super) fn unpack_dir(&self, code_sha256: &str) -> PathBuf {
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

    pub(super) async fn start(&self, cfg: &FunctionConfig) -> Result<Instance, InvokeError> {
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
}
