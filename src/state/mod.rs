//! The state file: a versioned JSON document of IDs, ARNs and non-secret
//! fingerprints, written atomically after every mutating step.
//!
//! `state/<stack>.json` is the current copy, `state/<stack>.json.bak` the one
//! before it, and `state/<stack>.lock` is held (flock) while a run is active.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

mod local;
pub mod s3;

use local::write_synced;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    /// The AWS identifier (pool ID, API ID, function name, ...). Absent while
    /// a create is pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Set before a create whose result has no deterministic name, cleared
    /// when the ID is recorded: a crash in between is found on the next run.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pending_create: bool,
    /// When this stack last started to create it (Unix seconds, this
    /// machine's clock), kept once it exists: a kind whose resources carry
    /// no tag (an app client) tells one this stack made from a hand-made
    /// one of the same name by its creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub made_at: Option<i64>,
    /// A create of it lost its answer, so it may have made another of its
    /// name: strays of a kind whose resources carry no tag
    /// (`Kind::untagged`) are looked for only then; cleared once looked for.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lost_create: bool,
    /// Non-secret outputs (ARN, endpoint, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub outputs: BTreeMap<String, String>,
    /// The resource's kind (`aws:cognito:UserPool`): what deletes it once
    /// the program no longer declares it. Absent in states written before
    /// programs: `legacy_kind` knows those keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The key of the resource whose ID is its parent's (pool, API, function).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Fingerprints of the settings the last apply set (`engine::fingerprint`,
    /// never the values): what tells a program change from drift.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub applied: BTreeMap<String, String>,
    /// Protect and retain, as the program last declared them.
    #[serde(default, skip_serializing_if = "crate::model::Lifecycle::is_default")]
    pub lifecycle: crate::model::Lifecycle,
}

impl Entry {
    /// The entry's kind and parent key, from the entry or, for a state
    /// written before programs, from the example's fixed keys.
    pub fn kind_and_parent(&self, key: &str) -> Option<(String, Option<String>)> {
        match &self.kind {
            Some(k) => Some((k.clone(), self.parent.clone())),
            None => legacy_kind(key).map(|(k, p)| (k.to_string(), p.map(String::from))),
        }
    }
}

/// The kinds of the keys the example stack used before programs named them
/// in the state: `up` records the kind on every entry it writes.
pub fn legacy_kind(key: &str) -> Option<(&'static str, Option<&'static str>)> {
    Some(match key {
        "role" => ("aws:iam:Role", None),
        "log_group" => ("aws:logs:LogGroup", None),
        "user_pool" => ("aws:cognito:UserPool", None),
        "domain" => ("aws:cognito:UserPoolDomain", None),
        "resource_server" => ("aws:cognito:ResourceServer", Some("user_pool")),
        "api" => ("aws:apigatewayv2:Api", None),
        "function" => ("aws:lambda:Function", None),
        "permission" => ("aws:lambda:Permission", Some("function")),
        "authorizer" => ("aws:apigatewayv2:Authorizer", Some("api")),
        "integration" => ("aws:apigatewayv2:Integration", Some("api")),
        "stage" => ("aws:apigatewayv2:Stage", Some("api")),
        k if k.starts_with("user/") => ("aws:cognito:User", Some("user_pool")),
        k if k.starts_with("client/") => ("aws:cognito:UserPoolClient", Some("user_pool")),
        k if k.starts_with("route/") => ("aws:apigatewayv2:Route", Some("api")),
        _ => return None,
    })
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct State {
    pub version: u32,
    pub stack: String,
    /// The stack's identity: a random ID made by its first run and carried
    /// by every resource it creates (tag `deployer:stack-id`, or through
    /// its parent). Two stacks of one name (two checkouts) have two IDs; a
    /// resource carrying another ID is never adopted, changed or deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack_id: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub account: Option<String>,
    /// `aws`, `aws-cn` or `aws-us-gov` (absent means `aws`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
    #[serde(default)]
    pub name_prefix: Option<String>,
    #[serde(default)]
    pub resources: BTreeMap<String, Entry>,
    /// Replaced resources whose old copy still has to be deleted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retired: Vec<Retired>,
    /// Bumped by every write: `state push`/`pull` refuse to replace a newer
    /// state with an older one.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub serial: u64,
    /// Who wrote it last (`user@host`) and when (unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writer: Option<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub written: u64,
    /// Set for a `deployer dev` stack: the local data plane's base URLs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local: Option<LocalUrls>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Retired {
    pub key: String,
    pub id: String,
    #[serde(default)]
    pub parent_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LocalUrls {
    pub idp: String,
    pub api: String,
    /// Each API's local base URL, by its resource key.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub apis: std::collections::BTreeMap<String, String>,
    /// The emulator's endpoint (the control plane of this local stack).
    #[serde(default)]
    pub endpoint: String,
}

impl State {
    pub fn new(stack: &str) -> State {
        State {
            version: SCHEMA_VERSION,
            stack: stack.to_string(),
            stack_id: None,
            region: None,
            account: None,
            partition: None,
            serial: 0,
            writer: None,
            written: 0,
            name_prefix: None,
            resources: BTreeMap::new(),
            retired: Vec::new(),
            local: None,
        }
    }

    /// A new stack's identity: 16 random hex digits.
    pub fn new_stack_id() -> String {
        uuid::Uuid::new_v4().simple().to_string()[..16].to_string()
    }

    pub fn id(&self, key: &str) -> Option<&str> {
        self.resources.get(key).and_then(|e| e.id.as_deref())
    }
}

/// Where the stack's files live and the lock that guards them.
pub struct Store {
    pub path: PathBuf,
    lock: Option<File>,
    write: Mutex<()>,
    /// Set for an `s3://` backend; `path` is then its URL, for messages.
    pub s3: Option<s3::S3Store>,
    /// The serial of the last state read or written.
    serial: std::sync::atomic::AtomicU64,
    /// Orders concurrent steps' writes: a snapshot is taken and written
    /// under it, so that an older snapshot never lands after a newer one.
    order: tokio::sync::Mutex<()>,
    /// Changes made to the shared state (counted under its mutex) and the
    /// count the last completed write carried: a change a later write
    /// already carried is not written again (group commit).
    changed: std::sync::atomic::AtomicU64,
    written: std::sync::atomic::AtomicU64,
    /// The first state write that failed for good (after its one retry):
    /// from then on no change starts (`Store::check`) and the run stops
    /// with it; the changes already made are written once more at the end
    /// (`Store::flush`), as far as that is possible.
    failed: Mutex<Option<String>>,
    /// The state writes not finished yet: the lock is released only once
    /// there are none, on every way a run ends.
    writes: Writes,
    /// The key of the stack's fingerprints (`FingerprintKey`), read beside
    /// the state and written before the first state that uses it.
    key: Mutex<KeyState>,
}

/// The state writes of a store not finished yet (waiting their turn or in
/// flight). A lock is released only once its store has none
/// (`Store::release`, and `s3::release_all` on Ctrl-C, SIGTERM or a
/// panic): a write that landed after the release would meet the next
/// holder's state and fail its first write after it changed resources.
#[derive(Clone)]
pub struct Writes(std::sync::Arc<tokio::sync::watch::Sender<usize>>);

impl Default for Writes {
    fn default() -> Writes {
        Writes(std::sync::Arc::new(tokio::sync::watch::channel(0).0))
    }
}

impl Writes {
    /// Counts a write until the guard is dropped (the write's task ends).
    pub(crate) fn begin(&self) -> WriteGuard {
        self.0.send_modify(|n| *n += 1);
        WriteGuard(self.clone())
    }

    /// Returns once no write is pending.
    pub async fn idle(&self) {
        let mut rx = self.0.subscribe();
        let _ = rx.wait_for(|n| *n == 0).await;
    }

    fn same(&self, other: &Writes) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

/// One pending write (see `Writes::begin`).
pub(crate) struct WriteGuard(Writes);

impl Drop for WriteGuard {
    fn drop(&mut self) {
        self.0 .0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// The writes of every store that holds a lock in this process: what
/// `wait_for_writes` waits for before `s3::release_all` lets the locks go.
static LOCKED: Mutex<Vec<Writes>> = Mutex::new(Vec::new());

/// Returns once every store that holds a lock has no write pending (each
/// write ends by itself: a local write is synchronous, an S3 one has the
/// SDK's timeouts).
pub async fn wait_for_writes() {
    let all: Vec<Writes> = LOCKED.lock().unwrap_or_else(|e| e.into_inner()).clone();
    for w in all {
        w.idle().await;
    }
}

/// The key a stack's fingerprints are made with (`engine::fingerprint`):
/// 32 random bytes, kept beside the state (`<stack>.key`, mode 0600, or
/// the `<stack>.key` object) and never in it.
#[derive(Clone, PartialEq)]
pub struct FingerprintKey(pub [u8; 32]);

impl std::fmt::Debug for FingerprintKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FingerprintKey(..)")
    }
}

impl FingerprintKey {
    /// A new random key.
    pub fn generate() -> FingerprintKey {
        use rand::RngCore;
        let mut k = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut k);
        FingerprintKey(k)
    }

    fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn from_hex(text: &str) -> Option<FingerprintKey> {
        let t = text.trim();
        if t.len() != 64 {
            return None;
        }
        let mut k = [0u8; 32];
        for (i, b) in k.iter_mut().enumerate() {
            *b = u8::from_str_radix(t.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(FingerprintKey(k))
    }
}

/// Where the store's fingerprint key stands.
enum KeyState {
    /// Not looked for yet.
    Unread,
    /// As read from the backend, or written there by this run.
    Stored(FingerprintKey),
    /// Made by this run, to be written before the first state write.
    New(FingerprintKey),
    /// The backend's could not be read: this run's fingerprints use this
    /// one, which is never written (the next run's plan labels the causes
    /// of the settings this run records as "both" once).
    Unreadable(FingerprintKey),
}

/// A failed state write, and whether the same write may succeed if tried
/// again (no answer, a 5xx, an I/O error) or not (a state replaced by
/// someone else, access denied).
pub struct WriteError {
    pub error: Error,
    pub transient: bool,
}

/// Where a stack's state lives: a local directory, or `s3://BUCKET[/PREFIX]`.
#[derive(Debug, Clone, PartialEq)]
pub enum Backend {
    Local(PathBuf),
    S3 { bucket: String, prefix: String },
}

impl Backend {
    pub fn parse(s: &str) -> Result<Backend> {
        if s.starts_with("s3://") {
            let (bucket, prefix) = s3::parse_url(s).ok_or_else(|| {
                Error::Other(format!(
                    "backend {s:?} names no bucket: use s3://BUCKET or s3://BUCKET/PREFIX"
                ))
            })?;
            Ok(Backend::S3 { bucket, prefix })
        } else if s.contains("://") {
            Err(Error::Other(format!(
                "backend {s:?} is not supported: use a local directory or s3://BUCKET[/PREFIX]"
            )))
        } else {
            Ok(Backend::Local(PathBuf::from(s)))
        }
    }
}

impl Store {
    pub fn new(dir: &Path, stack: &str) -> Store {
        Store::at(dir.join(format!("{stack}.json")), None)
    }

    pub fn with_s3(s3: s3::S3Store) -> Store {
        Store::at(PathBuf::from(s3.url()), Some(s3))
    }

    fn at(path: PathBuf, s3: Option<s3::S3Store>) -> Store {
        // One count of pending writes for the store and its S3 backend,
        // whose PUTs run in tasks of their own.
        let writes = s3.as_ref().map(|s| s.writes.clone()).unwrap_or_default();
        Store {
            path,
            lock: None,
            write: Mutex::new(()),
            s3,
            serial: Default::default(),
            order: tokio::sync::Mutex::new(()),
            changed: Default::default(),
            written: Default::default(),
            failed: Mutex::new(None),
            writes,
            key: Mutex::new(KeyState::Unread),
        }
    }

    /// Takes the stack's lock (local file lock, or the S3 lock object) or
    /// fails at once naming its holder.
    pub async fn acquire(&mut self, stack: &str, operation: &str) -> Result<()> {
        match &self.s3 {
            Some(s) => s.lock(operation).await?,
            None => self.lock(stack)?,
        }
        LOCKED
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(self.writes.clone());
        Ok(())
    }

    /// Releases the lock (the local one also goes with the process), once
    /// every state write of this store has finished or failed.
    pub async fn release(&self) -> Result<()> {
        self.writes.idle().await;
        LOCKED
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|w| !w.same(&self.writes));
        match &self.s3 {
            Some(s) => s.release().await,
            None => Ok(()),
        }
    }

    /// Loads the state; no state yet is an empty state. The fingerprint
    /// key is read beside it (one round trip, not two in a row).
    pub async fn load(&self, stack: &str) -> Result<State> {
        let (st, key) = tokio::join!(self.load_any(stack), self.read_key());
        let st = st?;
        *self.key.lock().unwrap_or_else(|e| e.into_inner()) = key;
        self.serial
            .store(st.serial, std::sync::atomic::Ordering::SeqCst);
        Ok(st)
    }

    async fn load_any(&self, stack: &str) -> Result<State> {
        match &self.s3 {
            Some(s) => match s.load().await? {
                None => Ok(State::new(stack)),
                Some(b) => parse(
                    &String::from_utf8_lossy(&b),
                    &self.path.display().to_string(),
                    "the object's previous version (or its .json.bak object)",
                ),
            },
            None => self.load_file(stack),
        }
    }

    /// The key file of the local backend: `<stack>.key` beside the state.
    fn key_path(&self) -> PathBuf {
        self.path.with_extension("key")
    }

    /// The backend's fingerprint key; a new one when it has none. An
    /// unreadable key stops nothing (only the plan's labels of causes
    /// depend on it): it is said once, and this run uses a key of its own.
    async fn read_key(&self) -> KeyState {
        let got = match &self.s3 {
            Some(s) => s.read_key().await,
            None => match std::fs::read_to_string(self.key_path()) {
                Ok(t) => Ok(Some(t)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(Error::io(self.key_path().display().to_string(), e)),
            },
        };
        match got {
            Ok(None) => KeyState::New(FingerprintKey::generate()),
            Ok(Some(text)) => match FingerprintKey::from_hex(&text) {
                Some(k) => KeyState::Stored(k),
                None => {
                    eprintln!("deployer: the fingerprint key beside {} is not one (64 hex digits); a new one replaces it with this run's first state write, so the next plan may label a setting's cause \"both\" once", self.path.display());
                    KeyState::New(FingerprintKey::generate())
                }
            },
            Err(e) => {
                eprintln!("deployer: could not read the fingerprint key beside {} ({e}); this run uses a key of its own, so the next plan may label a setting's cause \"both\" once", self.path.display());
                KeyState::Unreadable(FingerprintKey::generate())
            }
        }
    }

    /// The key this store's fingerprints are made with.
    pub fn fingerprint_key(&self) -> FingerprintKey {
        let mut k = self.key.lock().unwrap_or_else(|e| e.into_inner());
        if let KeyState::Unread = *k {
            *k = KeyState::New(FingerprintKey::generate());
        }
        match &*k {
            KeyState::Stored(k) | KeyState::New(k) | KeyState::Unreadable(k) => k.clone(),
            KeyState::Unread => unreachable!(),
        }
    }

    /// Uses (and writes with the next state) another store's key, if it
    /// has one: `state push` and `pull` move a stack's key with its state.
    pub fn take_key_of(&self, other: &Store) {
        let theirs = match &*other.key.lock().unwrap_or_else(|e| e.into_inner()) {
            KeyState::Stored(k) => k.clone(),
            _ => return,
        };
        let mut mine = self.key.lock().unwrap_or_else(|e| e.into_inner());
        if !matches!(&*mine, KeyState::Stored(k) if *k == theirs) {
            *mine = KeyState::New(theirs);
        }
    }

    /// Writes a key this run made before the first state that may hold
    /// fingerprints made with it.
    async fn store_key(&self) -> Result<()> {
        let k = match &*self.key.lock().unwrap_or_else(|e| e.into_inner()) {
            KeyState::New(k) => k.clone(),
            _ => return Ok(()),
        };
        let hex = k.to_hex();
        match &self.s3 {
            Some(s) => s.write_key(hex.into_bytes()).await?,
            None => {
                let p = self.key_path();
                if let Some(dir) = p.parent() {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| Error::io(dir.display().to_string(), e))?;
                }
                write_synced(&p, hex.as_bytes())
                    .map_err(|e| Error::io(p.display().to_string(), e))?;
            }
        }
        *self.key.lock().unwrap_or_else(|e| e.into_inner()) = KeyState::Stored(k);
        Ok(())
    }

    /// Saves the state: atomically on disk, or a compare-and-swap in S3.
    pub async fn save(&self, state: &State) -> Result<()> {
        let mut state = state.clone();
        state.serial = self
            .serial
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1;
        state.writer = Some(format!("{}@{}", user(), hostname()));
        state.written = now_secs();
        self.save_exact(&state).await
    }

    /// Stops the run before its next change once a state write failed:
    /// the error says what failed and what to do.
    pub fn check(&self) -> Result<()> {
        match &*self.failed.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(why) => Err(Error::Other(why.clone())),
            None => Ok(()),
        }
    }

    /// Remembers the first failed write and returns the run's error for it.
    fn fail(&self, e: &Error) -> Error {
        let mut failed = self.failed.lock().unwrap_or_else(|e| e.into_inner());
        let why = failed.get_or_insert_with(|| {
            format!(
                "the state could not be written: {e}. This run started no change after that (the steps under way finished): AWS may now hold changes the state does not record. Fix the cause, then run the command again: `up` finds what this run made by name and stack tag, `down` what it deleted as gone"
            )
        });
        Error::Other(why.clone())
    }

    /// Changes the shared in-memory state and returns once a write carrying
    /// the change is done (durable: an intent before a create). Writes are
    /// ordered (see `order`); changes made while a write is in flight go
    /// out together in the next one. Refused, changing nothing, once a
    /// write failed (`check`).
    pub async fn update(
        self: &std::sync::Arc<Self>,
        state: &std::sync::Arc<Mutex<State>>,
        f: impl FnOnce(&mut State),
    ) -> Result<()> {
        self.check()?;
        let n = self.change(state, f);
        self.write_through(state, n).await
    }

    /// Changes the shared in-memory state and writes it in the background:
    /// for what a crash can lose because the next run finds it again (a
    /// record after a create whose intent was written, a deleted resource's
    /// entry). Off the critical path: a step does not wait for it. Its
    /// failure stops the run before its next change (`check`); once a write
    /// failed, the change waits for the final `flush`.
    pub fn update_later(
        self: &std::sync::Arc<Self>,
        state: &std::sync::Arc<Mutex<State>>,
        f: impl FnOnce(&mut State),
    ) {
        let n = self.change(state, f);
        if self.check().is_err() {
            return;
        }
        let (store, state) = (self.clone(), state.clone());
        let pending = self.writes.begin();
        tokio::spawn(async move {
            let _pending = pending;
            // A failure is kept in `failed`: the scheduler and the final
            // flush answer it.
            let _ = store.write_now(&state, n).await;
        });
    }

    /// Returns once every change made so far is written. After a failed
    /// write, the changes made since are written once more (as far as the
    /// backend allows: a full disk freed meanwhile, not a state replaced by
    /// someone else's) and the run stops with the first failure.
    pub async fn flush(
        self: &std::sync::Arc<Self>,
        state: &std::sync::Arc<Mutex<State>>,
    ) -> Result<()> {
        let n = self.changed.load(std::sync::atomic::Ordering::SeqCst);
        let failed = self.check();
        let wrote = self.write_through(state, n).await;
        failed.and(wrote)
    }

    fn change(&self, state: &Mutex<State>, f: impl FnOnce(&mut State)) -> u64 {
        let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut st);
        self.changed
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1
    }

    /// Writes the state unless a write already carried change `n`, in a
    /// task of its own: a run stopped meanwhile (Ctrl-C) does not cut a
    /// write short, and its lock waits for it (`Writes`).
    async fn write_through(
        self: &std::sync::Arc<Self>,
        state: &std::sync::Arc<Mutex<State>>,
        n: u64,
    ) -> Result<()> {
        let (store, state) = (self.clone(), state.clone());
        let pending = self.writes.begin();
        tokio::spawn(async move {
            let _pending = pending;
            store.write_now(&state, n).await
        })
        .await
        .map_err(|e| Error::Other(format!("a state write stopped: {e}")))?
    }

    async fn write_now(&self, state: &Mutex<State>, n: u64) -> Result<()> {
        use std::sync::atomic::Ordering::SeqCst;
        let _order = self.order.lock().await;
        if self.written.load(SeqCst) >= n {
            return Ok(());
        }
        let (copy, carried) = {
            let st = state.lock().unwrap_or_else(|e| e.into_inner());
            (st.clone(), self.changed.load(SeqCst))
        };
        match self.save(&copy).await {
            Ok(()) => {
                self.written.fetch_max(carried, SeqCst);
                Ok(())
            }
            Err(e) => Err(self.fail(&e)),
        }
    }

    /// Writes this state as it is (serial and writer included). A write
    /// that failed for a reason that may pass (no answer, a 5xx the SDK's
    /// retries did not outlast, an I/O error) is tried once more with the
    /// same bytes: in S3 a first attempt that was applied after all is then
    /// recognised as this run's own (see `S3Store::save`).
    pub async fn save_exact(&self, state: &State) -> Result<()> {
        self.store_key().await?;
        let mut tries = 0;
        loop {
            tries += 1;
            let r = match &self.s3 {
                Some(s) => {
                    let body = serde_json::to_vec_pretty(state)
                        .map_err(|e| Error::Other(e.to_string()))?;
                    s.save(body).await
                }
                None => self.save_file(state).map_err(|e| WriteError {
                    transient: matches!(e, Error::Io { .. }),
                    error: e,
                }),
            };
            match r {
                Ok(()) => return Ok(()),
                Err(e) if e.transient && tries < 2 => {
                    if std::env::var_os("DEPLOYER_DEBUG").is_some() {
                        eprintln!(
                            "deployer: state write failed ({}); trying once more",
                            e.error
                        );
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                }
                Err(e) => return Err(e.error),
            }
        }
    }

    /// Removes the state once the stack is gone (and its fingerprint key).
    pub async fn remove(&self, state: &State) -> Result<()> {
        match &self.s3 {
            Some(s) => {
                self.save(state).await?;
                s.remove().await?;
                s.remove_key().await;
                Ok(())
            }
            None => {
                if self.path.exists() {
                    self.remove_file(state)?;
                }
                let _ = std::fs::remove_file(self.key_path());
                Ok(())
            }
        }
    }
}

pub fn parse(text: &str, path: &str, backup: &str) -> Result<State> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| Error::CorruptState {
        path: path.to_string(),
        detail: e.to_string(),
        backup: backup.to_string(),
    })?;
    let version = v.get("version").and_then(|x| x.as_u64()).unwrap_or(0) as u32;
    if version > SCHEMA_VERSION {
        return Err(Error::NewerState {
            path: path.to_string(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    serde_json::from_value(v).map_err(|e| Error::CorruptState {
        path: path.to_string(),
        detail: format!("not a deployer state: {e}"),
        backup: backup.to_string(),
    })
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

pub(crate) fn user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown-user".into())
}

pub(crate) fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "unknown-host".into())
}

/// The largest state a read accepts: a stack's state is kilobytes; a file
/// or object this big is not one (a wrong path, a wrong object) and is not
/// read into memory.
pub const MAX_STATE_BYTES: u64 = 16 * 1024 * 1024;

/// Refuses a state of more than `MAX_STATE_BYTES`, naming it.
pub fn check_size(len: u64, path: &str) -> Result<()> {
    if len > MAX_STATE_BYTES {
        return Err(Error::Other(format!(
            "state {path} is {len} bytes, more than a state can be ({MAX_STATE_BYTES} bytes at most): it is not a deployer state; check --stack, --state-dir and --backend. Nothing was read or changed"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
