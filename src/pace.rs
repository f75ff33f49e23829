//! Pacing under AWS's control-plane quotas.
//!
//! AWS documents a request rate per account and region for each control
//! plane (Lambda's 15 requests a second, GetFunction's 100, CloudWatch
//! Logs' per operation, API Gateway's 10 with a burst of 40, Cognito's by
//! category, ...): `awsim/quotas.json`, the table awsim enforces, with
//! each page's link in `awsim/QUOTAS.md`. Past a quota AWS throttles, and a
//! run that fires hundreds of calls at once spends its retries on
//! throttles and fails.
//!
//! Every call of deployer's own clients goes through the gate of its
//! quota's bucket (a token bucket a little below the documented rate and
//! burst) before it is signed and sent: the identity resolution that
//! precedes signing waits there (`PacedIdentity`; the HTTP connector for a
//! call that is not signed), so that a long wait never ages a signature or
//! the SDK's clock-skew estimate, and the attempt is timed from when it is
//! sent. Among the calls waiting at one gate, the one of the step with the
//! longest chain of steps after it goes first ([`PRIORITY`], set by the
//! engine), then the oldest. A throttle halves the gate's rate (other
//! callers share the account's quota), once for the calls in flight
//! together; each answer gives back a twentieth of the documented rate, up
//! to it.
//!
//! Why here, not in the SDK: the SDK's adaptive retry mode has one
//! client-side limiter per client, starts it only after a first throttle,
//! and knows no quota; the SDK's retry strategy cannot be replaced on a
//! service's client; and a wait inside the SDK's retry strategy would count
//! against the attempt and operation timeouts.

use serde::Deserialize;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

tokio::task_local! {
    /// The priority of the current step's calls at a gate: how many steps
    /// wait on it, the longest chain of them (the engine sets it).
    pub static PRIORITY: u32;
}

#[derive(Debug, Deserialize)]
struct Table {
    services: BTreeMap<String, Vec<Spec>>,
}

/// One bucket of a service's quotas, as `awsim/quotas.json` gives it.
#[derive(Debug, Clone, Deserialize)]
struct Spec {
    bucket: String,
    /// Requests a second; `None`: not limited.
    rate: Option<f64>,
    /// The bucket's size; `None`: one second of the rate.
    burst: Option<f64>,
    /// Its operations; `*`: every one no other bucket lists.
    operations: Vec<String>,
    /// Every call of the service takes a token from it too (API
    /// Gateway's "total operations").
    #[serde(default)]
    total: bool,
}

static TABLE: LazyLock<Table> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../awsim/quotas.json"))
        .expect("awsim/quotas.json is the quotas' table")
});

/// The buckets a call of `op` of `service` (its signing name: `lambda`,
/// `logs`, `cognito-idp`, ...) takes a token from.
fn specs_of(service: &str, op: &str) -> Vec<&'static Spec> {
    let Some(specs) = TABLE.services.get(service) else {
        return vec![];
    };
    let own = specs
        .iter()
        .find(|s| !s.total && s.operations.iter().any(|o| o == op))
        .or_else(|| {
            specs
                .iter()
                .find(|s| !s.total && s.operations.iter().any(|o| o == "*"))
        });
    let total = specs.iter().filter(|s| s.total);
    own.into_iter()
        .chain(total)
        .filter(|s| s.rate.is_some_and(|r| r > 0.0))
        .collect()
}

/// The gates of one run's clients, by service and bucket.
#[derive(Debug, Default)]
pub struct Pacer {
    /// The share of each documented quota this run takes (`--quota-share`;
    /// 0 or unset: all of it).
    share: f64,
    gates: Mutex<HashMap<(String, String), Arc<Gate>>>,
    /// One write at a time to what AWS allows one change at a time (an
    /// HTTP API, a pool's app clients), by what it is.
    one_at_a_time: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// What the gates did so far: for the run's progress and summary.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PaceStats {
    /// Calls waiting at a gate now.
    pub waiting: usize,
    /// Calls AWS throttled (each attempt).
    pub throttled: u64,
    /// Calls that went through a gate.
    pub sent: u64,
    /// The gates whose rate is below the documented one now (throttled
    /// lately): `service/bucket`.
    pub slowed: Vec<String>,
}

impl Pacer {
    /// The gates of a run that takes `share` (0 to 1) of each documented
    /// quota: other callers (another deploy, the account's services) take
    /// the rest.
    pub fn with_share(share: f64) -> Pacer {
        Pacer {
            share,
            ..Pacer::default()
        }
    }

    /// The gates a call of `op` of `service` goes through (none for a
    /// service or an operation with no documented rate).
    pub fn gates(&self, service: &str, op: &str) -> Vec<Arc<Gate>> {
        let mut gates = self.gates.lock().unwrap_or_else(|e| e.into_inner());
        specs_of(service, op)
            .into_iter()
            .map(|s| {
                gates
                    .entry((service.to_string(), s.bucket.clone()))
                    .or_insert_with(|| Arc::new(Gate::documented(service, s, self.share)))
                    .clone()
            })
            .collect()
    }

    /// The lock of `what` (see `one_at_a_time`).
    pub fn one_at_a_time(&self, what: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.one_at_a_time.lock().unwrap_or_else(|e| e.into_inner());
        locks.entry(what.to_string()).or_default().clone()
    }

    /// What the gates did so far.
    pub fn stats(&self) -> PaceStats {
        let gates = self.gates.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = PaceStats::default();
        for g in gates.values() {
            let s = g.lock();
            out.waiting += s.queue.len();
            out.throttled += s.throttled;
            out.sent += s.sent;
            if s.rate < s.max_rate {
                out.slowed.push(g.name.clone());
            }
        }
        out.slowed.sort();
        out
    }
}

/// A token bucket at a quota's rate, with its waiting calls in order.
#[derive(Debug)]
pub struct Gate {
    /// `service/bucket`.
    pub name: String,
    state: Mutex<GateState>,
    turn: Notify,
}

#[derive(Debug)]
struct GateState {
    /// The documented rate (requests a second) and burst.
    max_rate: f64,
    burst: f64,
    /// The rate now (lower after a throttle).
    rate: f64,
    tokens: f64,
    last: Instant,
    /// The waiting calls: highest priority first, then the oldest.
    queue: BTreeSet<(Reverse<u32>, u64)>,
    next: u64,
    throttled: u64,
    sent: u64,
    /// When the rate was last halved.
    slowed: Option<Instant>,
}

impl GateState {
    fn refill(&mut self, now: Instant) {
        let cap = (self.burst * self.rate / self.max_rate).max(1.0);
        self.tokens = (self.tokens + (now - self.last).as_secs_f64() * self.rate).min(cap);
        self.last = now;
    }
}

/// Takes a waiting call out of its gate's queue however its wait ends (a
/// timeout, Ctrl-C), so that the calls behind it go on.
struct Place<'a> {
    gate: &'a Gate,
    me: (Reverse<u32>, u64),
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        let removed = self.gate.lock().queue.remove(&self.me);
        if removed {
            self.gate.turn.notify_waiters();
        }
    }
}

impl Gate {
    /// The gate of a documented quota: a twentieth below its rate and one
    /// below its burst, since the calls reach AWS with the network's
    /// jitter, which bunches some that left evenly spaced.
    /// `share`: the part of the quota the run takes (`Pacer::with_share`;
    /// 0, a default `Pacer`'s, or anything outside 0 to 1 is the whole).
    fn documented(service: &str, s: &Spec, share: f64) -> Gate {
        let share = if share > 0.0 { share.min(1.0) } else { 1.0 };
        let rate = s.rate.map(|r| r * 0.95 * share);
        let burst = s.burst.or(s.rate).map(|b| (b * share - 1.0).max(1.0));
        Gate::new(
            service,
            &Spec {
                rate,
                burst,
                ..s.clone()
            },
        )
    }

    fn new(service: &str, s: &Spec) -> Gate {
        let rate = s.rate.unwrap_or(f64::INFINITY);
        let burst = s.burst.unwrap_or(rate).max(1.0);
        Gate {
            name: format!("{service}/{}", s.bucket),
            state: Mutex::new(GateState {
                max_rate: rate,
                burst,
                rate,
                tokens: burst,
                last: Instant::now(),
                queue: BTreeSet::new(),
                next: 0,
                throttled: 0,
                sent: 0,
                slowed: None,
            }),
            turn: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for this call's turn and a token; returns how long it waited.
    pub async fn pass(&self, priority: u32) -> Duration {
        let start = Instant::now();
        let me = {
            let mut s = self.lock();
            s.next += 1;
            let me = (Reverse(priority), s.next);
            s.queue.insert(me);
            me
        };
        let place = Place { gate: self, me };
        loop {
            let turn = self.turn.notified();
            tokio::pin!(turn);
            turn.as_mut().enable();
            let wait = {
                let mut s = self.lock();
                s.refill(Instant::now());
                let first = s.queue.first() == Some(&me);
                if first && s.tokens >= 1.0 {
                    s.tokens -= 1.0;
                    s.queue.remove(&me);
                    s.sent += 1;
                    drop(s);
                    std::mem::forget(place);
                    // The next in line computes its own wait.
                    self.turn.notify_waiters();
                    return start.elapsed();
                }
                // Not first: wait for the turn to move; first: for a token.
                first.then(|| Duration::from_secs_f64((1.0 - s.tokens) / s.rate))
            };
            match wait {
                Some(d) => {
                    tokio::select! {
                        _ = tokio::time::sleep(d) => {}
                        _ = &mut turn => {}
                    }
                }
                None => turn.await,
            }
        }
    }

    /// AWS throttled a call of this gate: others share the quota (or it is
    /// lower than documented), so the rate halves, down to a twentieth of
    /// the documented one, and the burst with it.
    pub fn throttled(&self) {
        let mut s = self.lock();
        let now = Instant::now();
        s.refill(now);
        s.throttled += 1;
        // The calls in flight when AWS began to throttle come back
        // throttled together: one halving for them all (a second's worth).
        if s.slowed.is_some_and(|t| now - t < Duration::from_secs(1)) {
            return;
        }
        s.slowed = Some(now);
        s.rate = (s.rate / 2.0)
            .max(s.max_rate / 20.0)
            .max(0.05f64.min(s.max_rate));
        if std::env::var_os("DEPLOYER_DEBUG").is_some() {
            eprintln!(
                "deployer: {} throttled: {:.2} requests a second now",
                self.name, s.rate
            );
        }
        s.tokens = s.tokens.min(0.0);
    }

    /// A call of this gate was answered: the rate climbs back a twentieth
    /// of the documented one, up to it.
    pub fn answered(&self) {
        let mut s = self.lock();
        if s.rate < s.max_rate {
            s.refill(Instant::now());
            s.rate = (s.rate + s.max_rate / 20.0).min(s.max_rate);
            drop(s);
            // The first in line waits by the old rate: it computes again.
            self.turn.notify_waiters();
        }
    }

    /// The rate now (requests a second).
    pub fn rate(&self) -> f64 {
        self.lock().rate
    }
}

/// Passes every gate of a call in turn; returns the whole wait.
pub async fn pass_all(gates: &[Arc<Gate>], priority: u32) -> Duration {
    let mut waited = Duration::ZERO;
    for g in gates {
        waited += g.pass(priority).await;
    }
    waited
}

/// The priority of the current task's calls (0 outside a step).
pub fn priority() -> u32 {
    PRIORITY.try_with(|p| *p).unwrap_or(0)
}

/// Each step's priority: 1 + the longest chain of steps that wait on it
/// (`waits[k]`: the steps `k` waits for). A step on the longest remaining
/// chain goes first at a gate.
pub fn chain_lengths(waits: &BTreeMap<String, BTreeSet<String>>) -> BTreeMap<String, u32> {
    let mut after: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (k, ws) in waits {
        for w in ws {
            after.entry(w.as_str()).or_default().push(k.as_str());
        }
    }
    fn len<'a>(
        k: &'a str,
        after: &BTreeMap<&'a str, Vec<&'a str>>,
        memo: &mut BTreeMap<&'a str, u32>,
        depth: usize,
    ) -> u32 {
        if let Some(v) = memo.get(k) {
            return *v;
        }
        // A cycle cannot happen (the plan is a graph without one); the
        // depth bound keeps a wrong input from recursing forever.
        let v = if depth > 10_000 {
            1
        } else {
            1 + after
                .get(k)
                .map(|ds| {
                    ds.iter()
                        .map(|d| len(d, after, memo, depth + 1))
                        .max()
                        .unwrap_or(0)
                })
                .unwrap_or(0)
        };
        memo.insert(k, v);
        v
    }
    let mut memo = BTreeMap::new();
    waits
        .keys()
        .map(|k| (k.clone(), len(k, &after, &mut memo, 0)))
        .collect()
}

/// The limits of one call, from the run's timeouts (a Lambda zip upload's:
/// at least an hour), and its clock.
#[derive(Debug, Clone)]
pub(crate) struct CallLimits {
    pub attempt: Duration,
    pub operation: Duration,
    pub clock: Arc<CallClock>,
}

impl aws_smithy_types::config_bag::Storable for CallLimits {
    type Storer = aws_smithy_types::config_bag::StoreReplace<Self>;
}

/// When a call's first attempt left its gate, and how long its attempts
/// waited at gates in all (not counted against its operation timeout).
#[derive(Debug, Default)]
pub(crate) struct CallClock {
    inner: Mutex<(Option<Instant>, Duration)>,
}

impl CallClock {
    fn note(&self, waited: Duration) {
        let mut c = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        // The first wait comes before the call's clock starts.
        match c.0 {
            None => c.0 = Some(Instant::now()),
            Some(_) => c.1 += waited,
        }
    }

    /// How long the call has taken since its first attempt left its gate,
    /// its later waits at gates not counted.
    pub(crate) fn spent(&self) -> Duration {
        let c = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let first_wait = Duration::ZERO;
        c.0.map_or(first_wait, |t| t.elapsed().saturating_sub(c.1))
    }
}

/// An attempt's turn: the lock of what it changes (if AWS takes one change
/// at a time there), the gates of its quotas, its priority at them, and how
/// long the attempt may take once sent. Stored in the attempt's config bag
/// before it is signed: the identity resolution that precedes signing
/// waits for the turn (`PacedIdentity`), so a long wait never ages the
/// signature or skews the SDK's clock; the HTTP connector (a request
/// extension) times the attempt from when it is sent, and takes the turn
/// itself for an unsigned call.
#[derive(Debug, Clone)]
pub(crate) struct Ticket {
    pub one_at_a_time: Option<Arc<tokio::sync::Mutex<()>>>,
    pub gates: Vec<Arc<Gate>>,
    pub priority: u32,
    /// The attempt's limit once sent.
    pub attempt: Duration,
    /// The whole call's, waits for turns not counted.
    pub operation: Duration,
    pub clock: Arc<CallClock>,
    /// The lock's guard, held from the turn until the attempt ends
    /// (`release`); and whether the turn was taken.
    turn: Arc<Mutex<(bool, Option<tokio::sync::OwnedMutexGuard<()>>)>>,
}

impl aws_smithy_types::config_bag::Storable for Ticket {
    type Storer = aws_smithy_types::config_bag::StoreReplace<Self>;
}

impl Ticket {
    /// A new attempt's ticket.
    pub fn new(
        one_at_a_time: Option<Arc<tokio::sync::Mutex<()>>>,
        gates: Vec<Arc<Gate>>,
        limits: &CallLimits,
    ) -> Ticket {
        Ticket {
            one_at_a_time,
            gates,
            priority: priority(),
            attempt: limits.attempt,
            operation: limits.operation,
            clock: limits.clock.clone(),
            turn: Default::default(),
        }
    }

    /// Takes its turn once (the lock of what it changes, then the gates).
    pub async fn pass(&self) {
        if self.turn.lock().unwrap_or_else(|e| e.into_inner()).0 {
            return;
        }
        let start = Instant::now();
        let held = match &self.one_at_a_time {
            Some(m) => Some(m.clone().lock_owned().await),
            None => None,
        };
        pass_all(&self.gates, self.priority).await;
        let waited = start.elapsed();
        if waited > Duration::from_millis(200) && std::env::var_os("DEPLOYER_DEBUG").is_some() {
            let gates: Vec<String> = (self.gates.iter())
                .map(|g| {
                    let s = g.lock();
                    format!("{} at {:.2}/s, {} waiting", g.name, s.rate, s.queue.len())
                })
                .collect();
            eprintln!("deployer: waited {waited:?} for its turn: {gates:?}");
        }
        self.clock.note(waited);
        *self.turn.lock().unwrap_or_else(|e| e.into_inner()) = (true, held);
    }

    /// The attempt ended: the lock goes to the next change.
    pub fn release(&self) {
        let guard = self.turn.lock().unwrap_or_else(|e| e.into_inner()).1.take();
        drop(guard);
    }

    /// How long the attempt may take from now (when it is sent): its own
    /// limit, within what is left of the call's.
    pub fn limit(&self) -> Duration {
        self.attempt
            .min(self.operation.saturating_sub(self.clock.spent()))
            .max(Duration::from_millis(1))
    }
}

/// The identity cache of a paced client: before the attempt's identity is
/// resolved (and the request signed with it), the attempt takes its turn.
#[derive(Debug)]
pub(crate) struct PacedIdentity {
    pub inner: aws_smithy_runtime_api::client::identity::SharedIdentityCache,
}

impl aws_smithy_runtime_api::client::identity::ResolveCachedIdentity for PacedIdentity {
    fn resolve_cached_identity<'a>(
        &'a self,
        resolver: aws_smithy_runtime_api::client::identity::SharedIdentityResolver,
        runtime_components: &'a aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        config_bag: &'a aws_smithy_types::config_bag::ConfigBag,
    ) -> aws_smithy_runtime_api::client::identity::IdentityFuture<'a> {
        let ticket = config_bag.load::<Ticket>().cloned();
        aws_smithy_runtime_api::client::identity::IdentityFuture::new(async move {
            if let Some(t) = ticket {
                t.pass().await;
            }
            self.inner
                .resolve_cached_identity(resolver, runtime_components, config_bag)
                .await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_gives_each_call_its_buckets() {
        let names = |svc: &str, op: &str| -> Vec<String> {
            specs_of(svc, op).iter().map(|s| s.bucket.clone()).collect()
        };
        assert_eq!(
            names("lambda", "GetFunction"),
            vec!["GetFunction API requests"]
        );
        assert_eq!(
            names("lambda", "CreateFunction"),
            vec!["Remainder of the control plane API requests"]
        );
        assert_eq!(names("lambda", "Invoke"), Vec::<String>::new());
        // API Gateway: every call takes from "Total operations" too.
        assert!(names("apigateway", "CreateRoute").contains(&"Total operations".to_string()));
        assert!(specs_of("logs", "CreateLogGroup")[0].rate == Some(10.0));
        assert!(names("s3", "PutObject").is_empty());
        assert!(!names("cognito-idp", "DescribeUserPool").is_empty());
        assert!(!names("iam", "GetRole").is_empty());
    }

    #[test]
    fn a_share_of_the_quotas_paces_below_them() {
        let full = Pacer::default().gates("lambda", "CreateFunction");
        let half = Pacer::with_share(0.5).gates("lambda", "CreateFunction");
        assert_eq!(full.len(), 1);
        // Lambda's 15 a second, less a twentieth; half of that.
        assert!((full[0].rate() - 14.25).abs() < 1e-9, "{}", full[0].rate());
        assert!((half[0].rate() - 7.125).abs() < 1e-9, "{}", half[0].rate());
        assert_eq!(crate::ops::quota_share("0.5"), Ok(0.5));
        for bad in ["0", "1.5", "-1", "half"] {
            let e = crate::ops::quota_share(bad).unwrap_err();
            assert!(e.contains("above 0 and at most 1"), "{e}");
        }
    }

    #[test]
    fn chains_count_the_steps_after() {
        let w = |v: &[(&str, &[&str])]| -> BTreeMap<String, BTreeSet<String>> {
            v.iter()
                .map(|(k, ws)| (k.to_string(), ws.iter().map(|s| s.to_string()).collect()))
                .collect()
        };
        // role <- function <- permission <- (nothing); role <- function <- route;
        // pool alone.
        let l = chain_lengths(&w(&[
            ("role", &[]),
            ("function", &["role"]),
            ("integration", &["function"]),
            ("route", &["integration"]),
            ("permission", &["function"]),
            ("pool", &[]),
        ]));
        assert_eq!(l["role"], 4);
        assert_eq!(l["function"], 3);
        assert_eq!(l["permission"], 1);
        assert_eq!(l["route"], 1);
        assert_eq!(l["pool"], 1);
    }

    fn gate(rate: f64, burst: f64) -> Gate {
        Gate::new(
            "test",
            &Spec {
                bucket: "b".into(),
                rate: Some(rate),
                burst: Some(burst),
                operations: vec!["*".into()],
                total: false,
            },
        )
    }

    #[tokio::test(start_paused = true)]
    async fn a_gate_sends_at_its_rate_after_its_burst() {
        let g = Arc::new(gate(10.0, 5.0));
        let start = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..25 {
            let g = g.clone();
            tasks.spawn(async move {
                g.pass(0).await;
                Instant::now()
            });
        }
        let mut at: Vec<Duration> = vec![];
        while let Some(t) = tasks.join_next().await {
            at.push(t.unwrap() - start);
        }
        at.sort();
        // 5 at once, then 20 at 10 a second: the last at 2 s.
        assert!(at[4] < Duration::from_millis(1), "{at:?}");
        let last = at[24].as_secs_f64();
        assert!((1.95..=2.1).contains(&last), "{last} ({at:?})");
        assert_eq!(g.lock().sent, 25);
    }

    #[tokio::test(start_paused = true)]
    async fn the_longest_chain_goes_first() {
        let g = Arc::new(gate(1.0, 1.0));
        g.pass(0).await; // the burst is spent
        let order = Arc::new(Mutex::new(vec![]));
        let mut tasks = tokio::task::JoinSet::new();
        for (i, prio) in [(0, 1), (1, 1), (2, 5), (3, 1), (4, 3)] {
            let (g, order) = (g.clone(), order.clone());
            tasks.spawn(async move {
                g.pass(prio).await;
                order.lock().unwrap().push(i);
            });
            tokio::task::yield_now().await;
        }
        while tasks.join_next().await.is_some() {}
        assert_eq!(*order.lock().unwrap(), vec![2, 4, 0, 1, 3]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_throttle_halves_the_rate_and_answers_bring_it_back() {
        let g = gate(20.0, 20.0);
        g.throttled();
        assert_eq!(g.rate(), 10.0);
        // The calls in flight come back throttled together: one halving.
        g.throttled();
        g.throttled();
        assert_eq!(g.rate(), 10.0);
        for _ in 0..6 {
            tokio::time::sleep(Duration::from_millis(1100)).await;
            g.throttled();
        }
        assert_eq!(g.rate(), 1.0, "a twentieth at least");
        for _ in 0..19 {
            g.answered();
        }
        assert_eq!(g.rate(), 20.0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_that_stops_waiting_leaves_the_line() {
        let g = Arc::new(gate(1.0, 1.0));
        g.pass(0).await;
        let g2 = g.clone();
        let waiting = tokio::spawn(async move { g2.pass(9).await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(g.lock().queue.len(), 1);
        waiting.abort();
        let _ = waiting.await;
        assert_eq!(g.lock().queue.len(), 0, "the aborted call left the queue");
        // The next call is not stuck behind it.
        tokio::time::timeout(Duration::from_secs(2), g.pass(0))
            .await
            .expect("passes within a second");
    }
}
