//! The job of one step: its call, its record in the state, and a create
//! whose answer was lost found again before it is tried again.

use super::read::look_again;
use super::{fingerprints, unix_now, Action, Event, Sink, Step};
use crate::error::{Error, Result};
use crate::kind::{Cx, Known, Observed, Prior, Props, Read};
use crate::model::Res;
use crate::state::{Entry, Retired, State, Store};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// How many times a create whose answer was lost is looked for and tried again.
pub const MAX_AMBIGUOUS_CREATES: u32 = 4;

fn debug() -> bool {
    std::env::var_os("DEPLOYER_DEBUG").is_some()
}

pub(super) struct Job {
    pub(super) cx: Arc<Cx>,
    pub(super) store: Arc<Store>,
    pub(super) state: Arc<Mutex<State>>,
    pub(super) known: Arc<Mutex<Known>>,
    pub(super) sink: Sink,
    pub(super) step: Step,
    pub(super) res: Res,
    pub(super) read: Read,
    pub(super) parent_new: bool,
}

impl Job {
    async fn save(&self, f: impl FnOnce(&mut State)) -> Result<()> {
        self.store.update(&self.state, f).await
    }

    async fn record(&self, o: &Observed, desired: &Props) -> Result<()> {
        self.known
            .lock()
            .unwrap()
            .outputs
            .insert(self.step.key.clone(), o.outputs.clone());
        // When its create started and whether one lost its answer, kept.
        let (made_at, lost_create) = (self.state.lock().unwrap())
            .resources
            .get(&self.step.key)
            .map_or((None, false), |e| (e.made_at, e.lost_create));
        let entry = Entry {
            id: Some(o.id.clone()),
            pending_create: false,
            made_at,
            lost_create,
            outputs: o.state_outputs(),
            kind: Some(self.res.kind_name().to_string()),
            parent: self.res.parent(),
            lifecycle: self.res.lifecycle(),
            applied: fingerprints(&self.store.fingerprint_key(), desired),
        };
        let key = self.step.key.clone();
        // In the background: the step is done, its dependants start now. A
        // crash before the write loses nothing: the intent written before
        // the create (or the entry of a resource found) makes the next run
        // find it again.
        self.store.update_later(&self.state, move |st| {
            st.resources.insert(key, entry);
        });
        Ok(())
    }

    async fn create(&self, desired: &Props, known: &Known) -> Result<Observed> {
        // Intent first: a crash after the call is found on the next run, even
        // by a `down` that comes while the new resource is not yet visible
        // (a new IAM role is invisible to GetRole for a moment).
        // (Written already when the run wrote every create's intent at its
        // start, or a run before this one did.)
        let key = self.step.key.clone();
        let written = self
            .state
            .lock()
            .unwrap()
            .resources
            .get(&key)
            .is_some_and(|e| e.pending_create && e.id.is_none());
        if !written {
            let (kind, parent) = (self.res.kind_name(), self.res.parent());
            let lifecycle = self.res.lifecycle();
            self.save(move |st| {
                let e = st.resources.entry(key).or_default();
                e.pending_create = true;
                e.made_at = Some(unix_now());
                e.id = None;
                e.kind = Some(kind.to_string());
                e.parent = parent;
                e.lifecycle = lifecycle;
            })
            .await?;
        }
        // A create whose answer was lost may have been applied: look for
        // what it made (by name and stack tag, or inside its parent) before
        // trying again, so that a lost response never makes a duplicate.
        let mut attempts = 0;
        let o = loop {
            match self.res.create(&self.cx, desired, known).await {
                Ok(o) => break o,
                Err(e) if e.is_ambiguous() && attempts < MAX_AMBIGUOUS_CREATES => {
                    attempts += 1;
                    // It may have made one: its strays are looked for.
                    let key = self.step.key.clone();
                    self.save(move |st| {
                        if let Some(e) = st.resources.get_mut(&key) {
                            e.lost_create = true;
                        }
                    })
                    .await?;
                    if debug() {
                        eprintln!("deployer: {}: {e}; looking for it", self.step.key);
                    }
                    if let Some(o) = self.find_after_ambiguous(known).await? {
                        let o = if crate::kind::diff(desired, &o.props).is_empty() {
                            o
                        } else {
                            self.res.update(&self.cx, desired, &o, known).await?
                        };
                        break o;
                    }
                }
                Err(e) => return Err(e),
            }
        };
        self.record(&o, desired).await?;
        Ok(o)
    }

    /// Looks for what an ambiguous create made, giving it the time an
    /// interrupted create gets to become visible.
    async fn find_after_ambiguous(&self, known: &Known) -> Result<Option<Observed>> {
        let made_at = (self.state.lock().unwrap())
            .resources
            .get(&self.step.key)
            .and_then(|e| e.made_at);
        let prior = Prior {
            id: None,
            pending_create: true,
            made_at,
            parent_id: self.res.parent().and_then(|p| known.get(&p, "id")),
            outputs: BTreeMap::new(),
            known: known.clone(),
        };
        Ok(match look_again(&self.res, &self.cx, &prior).await? {
            Some(Read::Found(o)) => Some(o),
            _ => None,
        })
    }

    /// Retain on delete: the resource stays in AWS with its deployer tags
    /// removed, so that no stack claims it (it can be imported again).
    async fn release(&self, o: &Observed, known: &Known) -> Result<()> {
        let Some(serde_json::Value::Object(tags)) = o.props.get("tags") else {
            return Ok(());
        };
        let mut d = o.props.clone();
        let kept: serde_json::Map<String, serde_json::Value> = tags
            .iter()
            .filter(|(k, _)| {
                k.as_str() != crate::kind::STACK_TAG && k.as_str() != crate::kind::STACK_ID_TAG
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if kept.len() == tags.len() {
            return Ok(());
        }
        d.insert("tags".into(), serde_json::Value::Object(kept));
        self.res.update(&self.cx, &d, o, known).await.map(|_| ())
    }

    async fn delete(&self, o: &Observed) -> Result<()> {
        self.res
            .delete(
                &self.cx,
                &o.id,
                o.outputs.get("parent_id").map(String::as_str),
            )
            .await
    }

    /// Returns whether the resource is new (its dependants must be created).
    pub(super) async fn run(self) -> Result<bool> {
        let t = Instant::now();
        let key = self.step.key.clone();
        // Not one change after a failed state write (`Store::check`).
        self.store.check()?;
        let known = self.known.lock().unwrap().clone();
        // What it is sent: only known settings (its dependencies are done).
        let desired = if self.step.action == Action::Delete {
            Props::new()
        } else {
            self.res.desired(&self.cx.ctx, &known).known().map_err(|paths| {
                Error::Other(format!("internal error: {key} would be sent {} before it is known (a missing dependency); nothing was sent", paths.join(", ")))
            })?
        };
        let mut action = self.step.action;
        let mut changed = self.step.changed.clone();
        (self.sink)(Event::Started {
            key: key.clone(),
            action,
        });
        let new = match (action, &self.read) {
            (Action::Delete, Read::Found(o)) => {
                if self.step.retain {
                    self.release(o, &known).await?;
                    changed = vec!["retained in AWS".into()];
                } else if !self.step.with_parent {
                    self.delete(o).await?;
                }
                // In the background: a crash before the write leaves an
                // entry the next run reads as gone.
                let k = key.clone();
                self.store.update_later(&self.state, move |st| {
                    st.resources.remove(&k);
                });
                false
            }
            (Action::Delete, _) => false,
            (_, Read::Found(o)) if !self.parent_new => {
                changed = crate::kind::diff(&desired, &o.props);
                let replace = action == Action::Replace
                    || changed
                        .iter()
                        .any(|c| self.res.replace_on().contains(&c.as_str()));
                if replace {
                    action = Action::Replace;
                    if self.res.non_unique_name() || changed.iter().any(|c| c == "name") {
                        // Create the new one, then retire the old (a new
                        // name cannot collide with the old).
                        let old = Retired {
                            key: key.clone(),
                            id: o.id.clone(),
                            parent_id: o.outputs.get("parent_id").cloned(),
                        };
                        self.save(move |st| {
                            if !st.retired.contains(&old) {
                                st.retired.push(old)
                            }
                        })
                        .await?;
                        self.create(&desired, &known).await?;
                    } else {
                        self.delete(o).await?;
                        self.create(&desired, &known).await?;
                    }
                    true
                } else if changed.is_empty() {
                    action = Action::Same;
                    self.record(o, &desired).await?;
                    false
                } else {
                    action = Action::Update;
                    let n = self.res.update(&self.cx, &desired, o, &known).await?;
                    self.record(&n, &desired).await?;
                    false
                }
            }
            _ => {
                action = Action::Create;
                self.create(&desired, &known).await?;
                true
            }
        };
        (self.sink)(Event::Finished {
            key,
            action,
            changed,
            took: t.elapsed(),
        });
        Ok(new)
    }
}
