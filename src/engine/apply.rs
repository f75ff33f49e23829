//! Applying a plan: the scheduler (`apply`: intents, then each step once
//! what it needs is done) and the deletes of retired copies.

use super::diff::topo;
use super::step::Job;
use super::{rekeyed, unix_now, Action, Engine, Event, Node, Step};
use crate::error::{Error, Result};
use crate::kind::{Known, Read};
use crate::model::Res;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

impl Engine {
    /// Runs the plan. Steps run as soon as what they need is done.
    pub async fn apply(
        &self,
        nodes: &[Node],
        steps: &[Step],
        reads: &BTreeMap<String, Read>,
    ) -> Result<Known> {
        let res_of: BTreeMap<String, Res> =
            nodes.iter().map(|n| (n.res.key(), n.res.clone())).collect();
        let known = Arc::new(Mutex::new(Known::default()));
        let mut waits: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let step_keys: BTreeSet<String> = steps.iter().map(|s| s.key.clone()).collect();
        for s in steps {
            let r = &res_of[&s.key];
            let w: BTreeSet<String> = if s.action == Action::Delete {
                // Dependants go first.
                nodes
                    .iter()
                    .filter(|m| m.res.deps().contains(&s.key) && step_keys.contains(&m.res.key()))
                    .map(|m| m.res.key())
                    .collect()
            } else {
                r.deps()
                    .into_iter()
                    .filter(|d| step_keys.contains(d))
                    .collect()
            };
            if std::env::var_os("DEPLOYER_DEBUG").is_some() {
                eprintln!("deployer: step {} {:?} waits for {:?}", s.key, s.action, w);
            }
            waits.insert(s.key.clone(), w);
        }
        // Unchanged resources need no task: their outputs are known now.
        let mut done: BTreeSet<String> = BTreeSet::new();
        let mut created: BTreeSet<String> = BTreeSet::new();
        for s in steps.iter().filter(|s| s.action == Action::Same) {
            if let Some(Read::Found(o)) = reads.get(&s.key) {
                known
                    .lock()
                    .unwrap()
                    .outputs
                    .insert(s.key.clone(), o.outputs.clone());
            }
            (self.sink)(Event::Finished {
                key: s.key.clone(),
                action: Action::Same,
                changed: vec![],
                took: Duration::ZERO,
            });
            done.insert(s.key.clone());
        }
        // The fingerprints of older states (unkeyed, which let anyone who
        // reads the state guess a secret offline) are replaced by keyed
        // ones; a resource this run changes gets them with its record,
        // an unchanged one here (what it holds is what was declared).
        let key = self.store.fingerprint_key();
        let rekeyed: Vec<(String, BTreeMap<String, String>)> = {
            let st = self.snapshot();
            steps
                .iter()
                .filter(|s| s.action == Action::Same)
                .filter_map(|s| {
                    let Some(Read::Found(o)) = reads.get(&s.key) else {
                        return None;
                    };
                    let e = st.resources.get(&s.key)?;
                    rekeyed(&key, &e.applied, &o.props).map(|fps| (s.key.clone(), fps))
                })
                .collect()
        };
        if !rekeyed.is_empty() {
            self.store.update_later(&self.state, move |st| {
                for (k, fps) in rekeyed {
                    if let Some(e) = st.resources.get_mut(&k) {
                        e.applied = fps;
                    }
                }
            });
        }
        // Every create's intent in one write before the first call (a crash
        // after a create is then found by the next run), not one write on
        // the critical path before each create; a create whose step never
        // starts has its intent taken back before the run ends.
        let intents: Vec<(String, String, Option<String>, crate::model::Lifecycle)> = steps
            .iter()
            .filter(|s| s.action == Action::Create)
            .filter(|s| !matches!(reads.get(&s.key), Some(Read::Found(_))))
            .map(|s| {
                let r = &res_of[&s.key];
                (
                    s.key.clone(),
                    r.kind_name().to_string(),
                    r.parent(),
                    r.lifecycle(),
                )
            })
            .collect();
        // Key -> whether the run added its entry (else it had one).
        let mut intended: BTreeMap<String, bool> = BTreeMap::new();
        if !intents.is_empty() {
            let added = &mut intended;
            self.mutate_state(move |st| {
                for (key, kind, parent, lifecycle) in intents {
                    let e = st.resources.entry(key.clone());
                    let new = matches!(e, std::collections::btree_map::Entry::Vacant(_));
                    let e = e.or_default();
                    if !e.pending_create {
                        added.insert(key, new);
                    }
                    e.pending_create = true;
                    e.made_at = Some(unix_now());
                    e.id = None;
                    e.kind = Some(kind);
                    e.parent = parent;
                    e.lifecycle = lifecycle;
                }
            })
            .await?;
        }
        let mut started: BTreeSet<String> = BTreeSet::new();
        let mut todo: Vec<&Step> = steps.iter().filter(|s| s.action != Action::Same).collect();
        // A step on the longest chain of steps left goes first: started
        // first, and first at the gates of AWS's quotas (`pace`).
        let chains = crate::pace::chain_lengths(
            &waits
                .iter()
                .filter(|(k, _)| !done.contains(*k))
                .map(|(k, w)| {
                    (
                        k.clone(),
                        w.iter().filter(|d| !done.contains(*d)).cloned().collect(),
                    )
                })
                .collect(),
        );
        let chain = |k: &str| chains.get(k).copied().unwrap_or(1);
        todo.sort_by_key(|s| std::cmp::Reverse(chain(&s.key)));
        (self.sink)(Event::Begin { steps: todo.len() });
        let mut running = tokio::task::JoinSet::new();
        // A resource's strays are listed as soon as its step is done,
        // beside the steps that follow (off the critical path).
        let mut listings = tokio::task::JoinSet::new();
        let mut first_error: Option<Error> = None;
        loop {
            // A state write that failed stops the run before its next
            // change (the steps under way finish and are recorded).
            if first_error.is_none() {
                if let Err(e) = self.store.check() {
                    first_error = Some(e);
                }
            }
            if first_error.is_none() {
                let (mut ready, mut rest): (Vec<&Step>, Vec<&Step>) = todo
                    .into_iter()
                    .partition(|s| waits[&s.key].iter().all(|w| done.contains(w)));
                if self.parallelism > 0 {
                    let room = self.parallelism.saturating_sub(running.len());
                    if ready.len() > room {
                        rest.extend(ready.split_off(room));
                        rest.sort_by_key(|s| std::cmp::Reverse(chain(&s.key)));
                    }
                }
                todo = rest;
                for s in ready {
                    started.insert(s.key.clone());
                    let r = res_of[&s.key].clone();
                    let parent_new = r.parent().is_some_and(|p| created.contains(&p));
                    let job = Job {
                        cx: self.cx.clone(),
                        store: self.store.clone(),
                        state: self.state.clone(),
                        known: known.clone(),
                        sink: self.sink.clone(),
                        step: s.clone(),
                        res: r,
                        read: reads.get(&s.key).cloned().unwrap_or(Read::Missing),
                        parent_new,
                    };
                    let priority = chain(&s.key);
                    running.spawn(async move {
                        let key = job.step.key.clone();
                        let run = crate::aws::STEP.scope(key.clone(), job.run());
                        let r = crate::pace::PRIORITY.scope(priority, run).await;
                        crate::aws::clear_wait(&key);
                        (key, r)
                    });
                }
            }
            let Some(joined) = running.join_next().await else {
                break;
            };
            // A step that panicked stops the run like one that failed: the
            // others under way finish and what they did is written.
            let (key, r) = match joined {
                Ok(done) => done,
                Err(e) => {
                    if first_error.is_none() {
                        first_error = Some(Error::Other(format!(
                            "a step stopped on an internal error ({e}): the state holds every step that finished; run the command again to go on"
                        )));
                    }
                    continue;
                }
            };
            match r {
                Ok(new) => {
                    if new {
                        created.insert(key.clone());
                    }
                    // (Not for a resource it deleted: listed at the end.)
                    let st = self.snapshot();
                    if st.id(&key).is_some() {
                        let node = nodes.iter().find(|n| n.res.key() == key);
                        if let Some(list) = node.and_then(|n| self.stray_listing(&st, n)) {
                            listings.spawn(list);
                        }
                    }
                    done.insert(key);
                }
                Err(e) => {
                    if first_error.is_none() {
                        first_error = Some(Error::Other(format!("{key}: {e}")));
                    }
                }
            }
        }
        // The intents of creates that never started (a step before them
        // failed) are taken back: nothing was sent for them.
        let unsent: Vec<(String, bool)> = intended
            .into_iter()
            .filter(|(k, _)| !started.contains(k))
            .collect();
        if !unsent.is_empty() {
            self.store.update_later(&self.state, move |st| {
                for (k, added) in unsent {
                    if added {
                        st.resources.remove(&k);
                    } else if let Some(e) = st.resources.get_mut(&k) {
                        e.pending_create = false;
                    }
                }
            });
        }
        // What the steps wrote in the background is written before the run
        // goes on or stops (and before its lock is released).
        let flushed = self.store.flush(&self.state).await;
        if let Some(e) = first_error {
            return Err(e);
        }
        flushed?;
        if !todo.is_empty() {
            return Err(Error::Other(format!(
                "steps could not run (dependency cycle?): {:?}",
                todo.iter().map(|s| &s.key).collect::<Vec<_>>()
            )));
        }
        while let Some(l) = listings.join_next().await {
            let (key, list) =
                l.map_err(|e| Error::Other(format!("a stray listing panicked: {e}")))??;
            self.strays_seen.lock().unwrap().insert(key, list);
        }
        self.delete_retired(nodes).await?;
        self.sweep_strays(nodes).await?;
        let k = known.lock().unwrap().clone();
        Ok(k)
    }

    /// Deletes the old copies of replaced resources, children first.
    pub async fn delete_retired(&self, nodes: &[Node]) -> Result<()> {
        let retired = self.snapshot().retired;
        if retired.is_empty() {
            return Ok(());
        }
        let order = topo(nodes);
        let rank = |k: &str| {
            order
                .iter()
                .position(|&i| nodes[i].res.key() == k)
                .unwrap_or(0)
        };
        let mut items = retired.clone();
        items.sort_by_key(|r| std::cmp::Reverse(rank(&r.key)));
        for r in items {
            let res = nodes
                .iter()
                .find(|n| n.res.key() == r.key)
                .map(|n| n.res.clone())
                .or_else(|| {
                    let (kind, parent) = crate::state::legacy_kind(&r.key)?;
                    let k = crate::kind::Orphan::new(
                        self.providers.get(kind)?,
                        parent.map(String::from),
                    );
                    Some(crate::model::Declared::new(r.key.clone(), Arc::new(k)))
                });
            let Some(res) = res else {
                continue;
            };
            let t = Instant::now();
            (self.sink)(Event::Started {
                key: format!("{} (old {})", r.key, r.id),
                action: Action::Delete,
            });
            res.delete(&self.cx, &r.id, r.parent_id.as_deref()).await?;
            self.mutate_state(|st| st.retired.retain(|x| x != &r))
                .await?;
            (self.sink)(Event::Finished {
                key: format!("{} (old {})", r.key, r.id),
                action: Action::Delete,
                changed: vec![],
                took: t.elapsed(),
            });
        }
        Ok(())
    }
}
