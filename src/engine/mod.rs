//! The engine: reads what exists, plans a pure diff, applies it as a graph.
//!
//! - `read_all` reads every resource concurrently (children of a pool or an
//!   API whose ID the state does not know wait for it to be found).
//! - `plan` is a pure function of (declared, state, observed) -> steps.
//! - `apply` runs each step once its dependencies are done (deletes once
//!   their dependants are done), saving the state after every mutating step.

use crate::error::Result;
use crate::kind::Cx;
use crate::state::{State, Store};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod apply;
mod checks;
mod diff;
mod fingerprint;
mod read;
mod step;
mod strays;

pub use checks::{check_protected, foreign, foreign_error, preflight, preflight_error, Foreign};
pub use diff::{
    plan, plan_with, value_diffs, Action, Cause, Change, Node, Step, KNOWN_AFTER_APPLY, SENSITIVE,
};
pub use fingerprint::{fingerprint, fingerprint_matches, fingerprints, rekeyed};
pub use read::PENDING_GRACE;
pub use step::MAX_AMBIGUOUS_CREATES;

/// Progress of a run, for the CLI to render.
#[derive(Debug, Clone)]
pub enum Event {
    /// The run's changes are about to start: how many.
    Begin {
        steps: usize,
    },
    Started {
        key: String,
        action: Action,
    },
    Finished {
        key: String,
        action: Action,
        changed: Vec<String>,
        took: Duration,
    },
}

pub type Sink = Arc<dyn Fn(Event) + Send + Sync>;

/// A finished step, for a run's report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StepReport {
    pub key: String,
    pub action: Action,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changed: Vec<String>,
    pub seconds: f64,
}

pub struct Engine {
    pub cx: Arc<Cx>,
    pub store: Arc<Store>,
    pub state: Arc<Mutex<State>>,
    pub sink: Sink,
    /// The providers of the run's kinds: what deletes a retired resource
    /// whose key no node has.
    pub providers: crate::kind::Providers,
    /// Strays listed beside the reads (see [`Engine::sweep_strays`]).
    pub strays_seen: Mutex<BTreeMap<String, StrayList>>,
    /// At most this many steps in flight (0: no limit).
    pub parallelism: usize,
}

/// What a stray listing was made for (the parent's ID, the ID kept) and
/// what it found.
#[derive(Clone, Debug, PartialEq)]
pub struct StrayList {
    parent_id: Option<String>,
    keep: String,
    strays: Vec<String>,
}

impl Engine {
    fn snapshot(&self) -> State {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    async fn mutate_state(&self, f: impl FnOnce(&mut State)) -> Result<()> {
        self.store.update(&self.state, f).await
    }
}

/// Now, in Unix seconds (`Entry::made_at`).
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests;
