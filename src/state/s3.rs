//! The S3 state backend: `s3://BUCKET[/PREFIX]`, for teams and CI.
//!
//! - The state is `PREFIX/<stack>.json`, the lock `PREFIX/<stack>.lock`.
//! - The lock is created with `If-None-Match: *` (only if absent) and names
//!   its holder; it is never taken over automatically: `deployer unlock ID`.
//! - Every state write is a compare-and-swap on the ETag read (or written)
//!   before (`If-Match`); a state written by someone else meanwhile stops the
//!   run and nothing is overwritten. A write whose answer was lost is
//!   resolved by reading the object back, never by writing blindly again.
//! - History: the bucket's versioning when it is on; otherwise the previous
//!   copy is written to `<stack>.json.bak` before each write.
//!
//! Terraform 1.10's `use_lockfile` works the same way (no DynamoDB table).

use crate::error::{Error, Result};
use aws_sdk_s3::primitives::ByteStream;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;

/// Who holds a lock, as written in the lock object.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LockInfo {
    pub id: String,
    pub user: String,
    pub host: String,
    pub pid: u32,
    pub operation: String,
    /// Unix seconds.
    pub created: u64,
}

impl LockInfo {
    pub fn new(operation: &str) -> LockInfo {
        LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            user: super::user(),
            host: super::hostname(),
            pid: std::process::id(),
            operation: operation.to_string(),
            created: super::now_secs(),
        }
    }

    pub fn describe(&self) -> String {
        format!(
            "`deployer {}` by {} on {} (pid {}), {} ago, lock ID {}",
            self.operation,
            self.user,
            self.host,
            self.pid,
            human_age(super::now_secs().saturating_sub(self.created)),
            self.id
        )
    }
}

pub fn human_age(secs: u64) -> String {
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

/// `s3://BUCKET[/PREFIX]`.
pub fn parse_url(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("s3://")?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return None;
    }
    Some((bucket.to_string(), prefix.trim_matches('/').to_string()))
}

/// The locks this process holds, released at its end (success, error,
/// Ctrl-C) by `release_all`.
struct Held {
    client: aws_sdk_s3::Client,
    bucket: String,
    key: String,
    id: String,
}

static HELD: Mutex<Vec<Held>> = Mutex::new(Vec::new());

/// Releases every lock this process still holds (each only if it still has
/// our ID). Called by the CLI before it exits.
pub async fn release_all() {
    // No state write of this run may land after its lock is gone: the
    // next holder's first write would fail after it changed resources.
    super::wait_for_writes().await;
    let held = std::mem::take(&mut *HELD.lock().unwrap_or_else(|e| e.into_inner()));
    for h in held {
        // Ours only if it still holds our ID; deleted only if it is still
        // that very object (If-Match its ETag).
        let lock = read_lock(&h.client, &h.bucket, &h.key).await;
        let Ok(Some((etag, Holder::Known(l)))) = lock else {
            continue;
        };
        if l.id != h.id {
            continue;
        }
        if let Err(e) = delete_if_match(&h.client, &h.bucket, &h.key, &etag, Replaced::Error).await
        {
            eprintln!(
                "deployer: could not release the lock s3://{}/{} ({e}); remove it with `deployer unlock {}`",
                h.bucket, h.key, h.id
            );
        }
    }
}

/// A lock object as read: its holder, or bytes that are not a lock (held
/// all the same: only `unlock` with the ID the error names removes it).
#[derive(Debug, Clone)]
pub enum Holder {
    Known(LockInfo),
    Unreadable,
}

impl Holder {
    /// The ID `deployer unlock` takes for this lock.
    fn id(&self, etag: &str) -> String {
        match self {
            Holder::Known(l) => l.id.clone(),
            Holder::Unreadable => format!("etag-{}", etag.trim_matches('"')),
        }
    }
    fn describe(&self) -> String {
        match self {
            Holder::Known(l) => l.describe(),
            Holder::Unreadable => "an unreadable lock object (not a deployer lock)".into(),
        }
    }
}

/// The lock object (its ETag and holder), or None.
async fn read_lock(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<Option<(String, Holder)>> {
    let got = match client.get_object().bucket(bucket).key(key).send().await {
        Ok(o) => o,
        Err(e) if is_status(&e, 404) => return Ok(None),
        Err(e) => return Err(s3_error(&format!("read s3://{bucket}/{key}"), bucket, e)),
    };
    let etag = got.e_tag().unwrap_or_default().to_string();
    let body = got
        .body
        .collect()
        .await
        .map_err(|e| Error::Other(format!("read s3://{bucket}/{key}: {e}")))?
        .into_bytes();
    let holder = match serde_json::from_slice::<LockInfo>(&body) {
        Ok(l) => Holder::Known(l),
        Err(_) => Holder::Unreadable,
    };
    Ok(Some((etag, holder)))
}

/// Deletes `key` only if it is still the object with `etag`: a lock taken
/// by someone else in between is never removed. Gone already is fine.
/// What a conditional delete does when the object is no longer the one
/// its ETag names (412).
#[derive(PartialEq)]
enum Replaced {
    /// Says so: the caller meant that very object (`unlock`).
    Error,
    /// Leaves it quietly: the lock this run held was replaced by another
    /// run's after an `unlock` (releasing a lock).
    LeaveIt,
}

async fn delete_if_match(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    etag: &str,
    replaced: Replaced,
) -> Result<()> {
    match client
        .delete_object()
        .bucket(bucket)
        .key(key)
        .if_match(etag)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if is_status(&e, 404) => Ok(()),
        Err(e) if is_status(&e, 412) && replaced == Replaced::LeaveIt => Ok(()),
        Err(e) if is_status(&e, 412) => Err(Error::Other(format!(
            "s3://{bucket}/{key} was replaced by someone else meanwhile; it was left in place"
        ))),
        Err(e) => Err(s3_error(&format!("delete s3://{bucket}/{key}"), bucket, e)),
    }
}

pub struct S3Store {
    client: aws_sdk_s3::Client,
    pub bucket: String,
    pub prefix: String,
    stack: String,
    /// The ETag and bytes of the state object as last read or written; None
    /// when there is no object.
    current: tokio::sync::Mutex<Option<(String, Vec<u8>)>>,
    versioned: bool,
    /// This run's first write kept the state as it was before the run in
    /// `.json.bak` (no versioning): the later writes of the run do not.
    backed_up: std::sync::atomic::AtomicBool,
    /// The lock this run holds, and its ETag when known (its PutObject's
    /// answer, or the lock read back after a lost one).
    held: Mutex<Option<(LockInfo, Option<String>)>>,
    /// The state PUTs not finished yet (each runs in a task of its own, so
    /// that a run stopped meanwhile does not leave one in flight after its
    /// lock is released).
    pub(crate) writes: super::Writes,
}

fn is_status<E>(
    e: &aws_sdk_s3::error::SdkError<E, aws_smithy_runtime_api::http::Response>,
    code: u16,
) -> bool {
    e.raw_response()
        .is_some_and(|r| r.status().as_u16() == code)
}

/// True for a failure that may pass: no answer, throttling, a 5xx (what
/// the SDK's own retries did not outlast).
fn is_transient<E>(
    e: &aws_sdk_s3::error::SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> bool {
    match e.raw_response() {
        Some(r) => {
            let code = r.status().as_u16();
            code >= 500 || code == 429
        }
        None => true,
    }
}

/// Said once per process: the bucket's versioning could not be read.
static VERSIONING_WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The backend's errors, each with what to do.
fn s3_error<E: std::error::Error>(what: &str, bucket: &str, e: E) -> Error {
    let msg = aws_smithy_types::error::display::DisplayErrorContext(&e).to_string();
    let hint = if msg.contains("NoSuchBucket") {
        format!(
            "the bucket {bucket} does not exist: create it (with versioning on) or fix --backend"
        )
    } else if msg.contains("AccessDenied") || msg.contains("Forbidden") {
        format!("access denied on s3://{bucket}: the credentials need s3:GetObject, s3:PutObject, s3:DeleteObject and s3:ListBucket on the prefix (README, S3 backend)")
    } else if msg.starts_with("dispatch failure") || msg.starts_with("request has timed out") {
        format!(
            "s3://{bucket} is not reachable: check the network, the region and AWS_ENDPOINT_URL"
        )
    } else {
        "nothing was changed".to_string()
    };
    Error::Other(format!("{what}: {msg}; {hint}"))
}

impl S3Store {
    pub async fn open(
        sdk: &aws_config::SdkConfig,
        path_style: bool,
        bucket: &str,
        prefix: &str,
        stack: &str,
    ) -> Result<S3Store> {
        let conf = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(path_style)
            .interceptor(crate::aws::NoBlindRetry(|op| op == "PutObject"))
            .build();
        let client = aws_sdk_s3::Client::from_conf(conf);
        // Advisory: whether the bucket keeps versions only decides whether
        // a `.bak` copy is written. A bucket that is not there, or an
        // endpoint that does not answer, stops the run (nothing else could
        // work); any other failure to read it (an answer the SDK cannot
        // parse, a policy without s3:GetBucketVersioning) is said once, and
        // the run goes on as if versioning were off (the `.bak` copy kept).
        let versioned = match client.get_bucket_versioning().bucket(bucket).send().await {
            Ok(v) => Some(v.status().is_some_and(|s| s.as_str() == "Enabled")),
            Err(e) => {
                let msg = aws_smithy_types::error::display::DisplayErrorContext(&e).to_string();
                if msg.contains("NoSuchBucket") || crate::error::no_response(&e) {
                    return Err(s3_error(&format!("open s3://{bucket}"), bucket, e));
                }
                if !VERSIONING_WARNED.swap(true, std::sync::atomic::Ordering::SeqCst) {
                    eprintln!(
                        "deployer: warning: could not read the versioning of s3://{bucket} ({msg}); going on as if it were off: the state before each run is kept as {}.bak",
                        key_of(prefix, &format!("{stack}.json"))
                    );
                }
                None
            }
        };
        let warned = versioned.is_none();
        let versioned = versioned.unwrap_or(false);
        if !versioned && !warned {
            eprintln!(
                "deployer: s3://{bucket} has no versioning; the state before each run is kept as {}.bak. Turning versioning on is recommended: aws s3api put-bucket-versioning --bucket {bucket} --versioning-configuration Status=Enabled",
                key_of(prefix, &format!("{stack}.json"))
            );
        }
        Ok(S3Store {
            client,
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
            stack: stack.to_string(),
            current: tokio::sync::Mutex::new(None),
            versioned,
            backed_up: Default::default(),
            held: Mutex::new(None),
            writes: Default::default(),
        })
    }

    fn key(&self, suffix: &str) -> String {
        key_of(&self.prefix, &format!("{}{suffix}", self.stack))
    }

    pub fn url(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key(".json"))
    }

    async fn get(&self, key: &str) -> Result<Option<(String, Vec<u8>)>> {
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(o) => {
                let etag = o.e_tag().unwrap_or_default().to_string();
                super::check_size(
                    o.content_length().unwrap_or_default().max(0) as u64,
                    &format!("s3://{}/{key}", self.bucket),
                )?;
                let body = o
                    .body
                    .collect()
                    .await
                    .map_err(|e| Error::Other(format!("read s3://{}/{key}: {e}", self.bucket)))?
                    .into_bytes()
                    .to_vec();
                Ok(Some((etag, body)))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(s3_error(
                &format!("read s3://{}/{key}", self.bucket),
                &self.bucket,
                e,
            )),
        }
    }

    /// The lock object's holder, if any (an object that is not a lock
    /// counts as held).
    pub async fn lock_holder(&self) -> Result<Option<(String, Holder)>> {
        read_lock(&self.client, &self.bucket, &self.key(".lock")).await
    }

    fn locked(&self, etag: &str, h: &Holder) -> Error {
        Error::LockedS3 {
            stack: self.stack.clone(),
            holder: h.describe(),
            id: h.id(etag),
        }
    }

    /// Creates the lock object only if there is none; else fails at once
    /// naming the holder. A lock left by a killed run is never taken over.
    pub async fn lock(&self, operation: &str) -> Result<()> {
        let me = LockInfo::new(operation);
        let body = serde_json::to_vec_pretty(&me).map_err(|e| Error::Other(e.to_string()))?;
        let key = self.key(".lock");
        // A lock that is gone by the time it is read was released between
        // the two calls: try to take it again (a few times at most).
        let mut attempts = 0;
        let r = loop {
            attempts += 1;
            let r = self
                .client
                .put_object()
                .bucket(&self.bucket)
                .key(&key)
                .if_none_match("*")
                .content_type("application/json")
                .body(ByteStream::from(body.clone()))
                .send()
                .await;
            match r {
                Err(e) if is_status(&e, 412) || is_status(&e, 409) => {
                    match self.lock_holder().await? {
                        // Our own: an attempt that was applied and answered
                        // 5xx, which the SDK sent again.
                        Some((etag, Holder::Known(h))) if h.id == me.id => break Ok(Err(etag)),
                        Some((etag, h)) => return Err(self.locked(&etag, &h)),
                        None if attempts < 3 => continue,
                        None => {
                            return Err(Error::Other(format!(
                                "stack {} is locked (s3://{}/{}) and the lock could not be read; try again",
                                self.stack, self.bucket, key
                            )))
                        }
                    }
                }
                r => break r.map(Ok),
            }
        };
        let etag = match r {
            Ok(Ok(o)) => o.e_tag().map(String::from),
            Ok(Err(etag)) => Some(etag),
            Err(e) => {
                if !crate::error::no_response(&e) {
                    return Err(s3_error(
                        &format!("lock s3://{}/{key}", self.bucket),
                        &self.bucket,
                        e,
                    ));
                }
                // No answer: the lock is ours only if it holds our ID.
                match self.lock_holder().await? {
                    Some((etag, Holder::Known(h))) if h.id == me.id => Some(etag),
                    Some((etag, h)) => return Err(self.locked(&etag, &h)),
                    None => {
                        return Err(s3_error(
                            &format!("lock s3://{}/{key}", self.bucket),
                            &self.bucket,
                            e,
                        ))
                    }
                }
            }
        };
        HELD.lock().unwrap_or_else(|e| e.into_inner()).push(Held {
            client: self.client.clone(),
            bucket: self.bucket.clone(),
            key: key.clone(),
            id: me.id.clone(),
        });
        *self.held.lock().unwrap_or_else(|e| e.into_inner()) = Some((me, etag));
        Ok(())
    }

    /// Deletes the lock if it is still ours (and still the same object).
    pub async fn release(&self) -> Result<()> {
        let mine = self.held.lock().unwrap_or_else(|e| e.into_inner()).take();
        let Some((mine, etag)) = mine else {
            return Ok(());
        };
        HELD.lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|h| h.id != mine.id);
        // One call: deleted only if it is still the object this run wrote
        // (a lock someone else took after an `unlock` is another object).
        if let Some(etag) = etag {
            return self.delete_lock(&etag, Replaced::LeaveIt).await;
        }
        match self.lock_holder().await? {
            Some((etag, Holder::Known(h))) if h.id == mine.id => {
                self.delete_lock(&etag, Replaced::Error).await
            }
            _ => Ok(()),
        }
    }

    /// Deletes the lock object if it is still the one with this ETag.
    async fn delete_lock(&self, etag: &str, replaced: Replaced) -> Result<()> {
        let key = self.key(".lock");
        delete_if_match(&self.client, &self.bucket, &key, etag, replaced).await
    }

    /// `deployer unlock ID`: removes the lock only if it has this ID (an
    /// unreadable lock object has the ID its error names), and only that
    /// very object.
    pub async fn unlock(&self, id: &str) -> Result<String> {
        match self.lock_holder().await? {
            Some((etag, h)) if h.id(&etag) == id => {
                self.delete_lock(&etag, Replaced::Error).await?;
                Ok(h.describe())
            }
            Some((etag, h)) => Err(Error::Other(format!(
                "the lock of stack {} has another ID ({}): it is held by {}; nothing was removed",
                self.stack,
                h.id(&etag),
                h.describe()
            ))),
            None => Err(Error::Other(format!(
                "stack {} is not locked; nothing was removed",
                self.stack
            ))),
        }
    }

    /// The state object's bytes (None when absent), remembered as the
    /// version every later write must replace.
    pub async fn load(&self) -> Result<Option<Vec<u8>>> {
        let got = self.get(&self.key(".json")).await?;
        let body = got.as_ref().map(|(_, b)| b.clone());
        *self.current.lock().await = got;
        Ok(body)
    }

    /// Writes the state if the object is still the one read or written
    /// last (If-Match its ETag; If-None-Match: * when there was none).
    ///
    /// A 412 is not always someone else's: an attempt that S3 applied and
    /// answered with a 5xx is sent again by the SDK (or by the store's one
    /// retry), and that second attempt meets the first one's object. So a
    /// 412 (or a lost answer) is resolved by reading the object back: it
    /// is ours when it holds exactly these bytes (this run's serial, writer
    /// and time included), else someone else's, which stops the run.
    pub async fn save(&self, body: Vec<u8>) -> std::result::Result<(), super::WriteError> {
        let fatal = |error| super::WriteError {
            error,
            transient: false,
        };
        let mut cur = self.current.lock().await;
        let key = self.key(".json");
        let previous = cur.as_ref().map(|(_, b)| b.clone());
        // The bucket's own default encryption applies (SSE-S3 or its KMS
        // key): nothing is forced on the object.
        let mut put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type("application/json")
            .body(ByteStream::from(body.clone()));
        put = match cur.as_ref() {
            Some((etag, _)) => put.if_match(etag),
            None => put.if_none_match("*"),
        };
        // In a task of its own: a run stopped meanwhile (Ctrl-C) does not
        // drop the request half sent, and its lock waits for the answer.
        let pending = self.writes.begin();
        let sent = tokio::spawn(async move {
            let _pending = pending;
            put.send().await
        })
        .await
        .map_err(|e| fatal(Error::Other(format!("a state write stopped: {e}"))))?;
        match sent {
            Ok(o) => {
                *cur = Some((o.e_tag().unwrap_or_default().to_string(), body.clone()));
            }
            Err(e) if is_status(&e, 412) || is_status(&e, 409) || crate::error::no_response(&e) => {
                // Read it back: ours if it holds what we sent.
                let got = self.get(&key).await.map_err(|error| super::WriteError {
                    error,
                    // Not known yet: the store's retry reads it again.
                    transient: true,
                })?;
                match got {
                    Some((etag, b)) if b == body => *cur = Some((etag, body.clone())),
                    _ if crate::error::no_response(&e) => {
                        // Not applied (or not yet visible): the same bytes
                        // may be sent again under the same condition.
                        return Err(super::WriteError {
                            error: s3_error(
                                &format!("write s3://{}/{key}", self.bucket),
                                &self.bucket,
                                e,
                            ),
                            transient: true,
                        });
                    }
                    _ => return Err(fatal(self.conflict())),
                }
            }
            Err(e) => {
                let transient = is_transient(&e);
                return Err(super::WriteError {
                    error: s3_error(
                        &format!("write s3://{}/{key}", self.bucket),
                        &self.bucket,
                        e,
                    ),
                    transient,
                });
            }
        }
        // Only the writer whose compare-and-swap won keeps a backup: a
        // losing writer never touches the winner's. Once per run, of the
        // state as it was before the run: a backup after every write put a
        // second round trip on every step of the run's critical path.
        use std::sync::atomic::Ordering::SeqCst;
        if !self.versioned && !self.backed_up.swap(true, SeqCst) {
            if let Some(prev) = previous.filter(|p| p != &body) {
                if let Err(e) = self.write_backup(&key, prev).await {
                    self.backed_up.store(false, SeqCst);
                    return Err(fatal(e));
                }
            }
        }
        Ok(())
    }

    /// The stack's fingerprint key (`<stack>.key`), if there is one.
    pub async fn read_key(&self) -> Result<Option<String>> {
        Ok(self
            .get(&self.key(".key"))
            .await?
            .map(|(_, b)| String::from_utf8_lossy(&b).to_string()))
    }

    /// Writes the stack's fingerprint key (under the lock; unconditional,
    /// so sending it again after a lost answer is safe).
    pub async fn write_key(&self, body: Vec<u8>) -> Result<()> {
        let key = self.key(".key");
        let mut tries = 0;
        loop {
            tries += 1;
            let r = self
                .client
                .put_object()
                .bucket(&self.bucket)
                .key(&key)
                .content_type("text/plain")
                .body(ByteStream::from(body.clone()))
                .send()
                .await;
            match r {
                Ok(_) => return Ok(()),
                Err(e) if is_transient(&e) && tries < 3 => continue,
                Err(e) => {
                    return Err(s3_error(
                        &format!("write s3://{}/{key}", self.bucket),
                        &self.bucket,
                        e,
                    ))
                }
            }
        }
    }

    /// Deletes the stack's fingerprint key once its state is gone; a
    /// failure is said, never fatal (the stack is gone already).
    pub async fn remove_key(&self) {
        let key = self.key(".key");
        if let Err(e) = self
            .client
            .delete_object()
            .bucket(&self.bucket)
            .key(&key)
            .send()
            .await
        {
            eprintln!(
                "deployer: could not delete s3://{}/{key} ({}); it is no longer used and can be deleted",
                self.bucket,
                aws_smithy_types::error::display::DisplayErrorContext(e)
            );
        }
    }

    /// `<stack>.json.bak`: the state before this run (no versioning).
    async fn write_backup(&self, key: &str, prev: Vec<u8>) -> Result<()> {
        // Unconditional, so sending it again after a lost answer is safe
        // (the SDK does not, for any PutObject).
        let mut tries = 0;
        loop {
            tries += 1;
            let r = self
                .client
                .put_object()
                .bucket(&self.bucket)
                .key(self.key(".json.bak"))
                .content_type("application/json")
                .body(ByteStream::from(prev.clone()))
                .send()
                .await;
            match r {
                Ok(_) => return Ok(()),
                Err(e) if crate::error::no_response(&e) && tries < 5 => continue,
                Err(e) => {
                    return Err(s3_error(
                        &format!("write the backup of s3://{}/{key}", self.bucket),
                        &self.bucket,
                        e,
                    ))
                }
            }
        }
    }

    fn conflict(&self) -> Error {
        Error::Other(format!(
            "the state s3://{}/{} was changed by someone else since this run read it (a removed lock or a manual edit); nothing was overwritten and this run stops. Look at the object (and its versions), then run `deployer up` again",
            self.bucket,
            self.key(".json")
        ))
    }

    /// Deletes the state object (after `down`), if it is still ours.
    pub async fn remove(&self) -> Result<()> {
        let cur = self.current.lock().await;
        let key = self.key(".json");
        match cur.as_ref() {
            Some((etag, _)) => {
                delete_if_match(&self.client, &self.bucket, &key, etag, Replaced::Error)
                    .await
                    .map_err(|_| self.conflict())
            }
            None => Ok(()),
        }
    }

    /// The stacks in this backend: (stack, last modified, bytes).
    pub async fn list(&self) -> Result<Vec<(String, String)>> {
        let prefix = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        };
        let mut out = vec![];
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(&prefix)
            .into_paginator()
            .send();
        while let Some(p) = pages.next().await {
            let p = p.map_err(|e| {
                s3_error(
                    &format!("list s3://{}/{prefix}", self.bucket),
                    &self.bucket,
                    e,
                )
            })?;
            for o in p.contents() {
                let Some(k) = o.key() else { continue };
                let Some(name) = k
                    .strip_prefix(&prefix)
                    .and_then(|n| n.strip_suffix(".json"))
                else {
                    continue;
                };
                if name.contains('/') {
                    continue;
                }
                out.push((
                    name.to_string(),
                    o.last_modified().map(|t| t.to_string()).unwrap_or_default(),
                ));
            }
        }
        Ok(out)
    }

    /// Reads another stack's state object under the same prefix.
    pub async fn read_stack(&self, stack: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .get(&key_of(&self.prefix, &format!("{stack}.json")))
            .await?
            .map(|(_, b)| b))
    }
}

fn key_of(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(parse_url("s3://b"), Some(("b".into(), "".into())));
        assert_eq!(
            parse_url("s3://b/team/x/"),
            Some(("b".into(), "team/x".into()))
        );
        assert_eq!(parse_url("s3://"), None);
        assert_eq!(parse_url("state"), None);
        assert_eq!(key_of("", "s.json"), "s.json");
        assert_eq!(key_of("p/q", "s.json"), "p/q/s.json");
    }
}
