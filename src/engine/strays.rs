//! Strays: resources with the name and stack tag of one this stack tracks
//! but another ID, listed (`list_strays`) and deleted (`sweep_strays`).

use super::{Action, Engine, Event, Node, StrayList};
use crate::error::{Error, Result};
use crate::state::State;
use std::collections::BTreeMap;
use std::time::Instant;

impl Engine {
    /// The stray listings for the state as it is now.
    pub(super) async fn list_strays(&self, nodes: &[Node]) -> Result<BTreeMap<String, StrayList>> {
        let st = self.snapshot();
        let jobs: Vec<_> = nodes
            .iter()
            .filter_map(|n| self.stray_listing(&st, n))
            .collect();
        futures::future::join_all(jobs).await.into_iter().collect()
    }

    /// A resource's stray listing, as a task of its own: for a kind whose
    /// name AWS does not keep unique, the IDs carrying its name and this
    /// stack's tag but another ID than the one `st` keeps. None for a kind
    /// whose names are unique, a declared resource `st` has no ID for (not
    /// made yet), or a child whose parent it has no ID for.
    pub(super) fn stray_listing(
        &self,
        st: &State,
        n: &Node,
    ) -> Option<impl std::future::Future<Output = Result<(String, StrayList)>> + Send + 'static>
    {
        if !n.res.non_unique_name() {
            return None;
        }
        let key = n.res.key();
        let keep = st.id(&key).unwrap_or_default().to_string();
        if n.declared && keep.is_empty() {
            return None;
        }
        let parent_id = match n.res.parent() {
            Some(p) => Some(st.id(&p)?.to_string()),
            None => None,
        };
        let entry = st.resources.get(&key);
        if n.res.untagged() && !entry.is_some_and(|e| e.lost_create) {
            return None;
        }
        let made_at = entry.and_then(|e| e.made_at);
        let (cx, res) = (self.cx.clone(), n.res.clone());
        Some(async move {
            let strays = res
                .strays(&cx, parent_id.as_deref(), &keep, made_at)
                .await?;
            Ok((
                key,
                StrayList {
                    parent_id,
                    keep,
                    strays,
                },
            ))
        })
    }

    /// Keeps "exactly one of each": a resource with the name and stack tag of
    /// one this stack tracks, but another ID (a create whose answer was lost
    /// and whose lookup came too early), is deleted. After `down`, when
    /// nothing is tracked, every such resource goes. A listing made beside
    /// the reads is used again where the run left the resource's ID and its
    /// parent's as they were (a run makes strays only where it creates);
    /// the others are listed again now.
    pub async fn sweep_strays(&self, nodes: &[Node]) -> Result<()> {
        let seen = std::mem::take(&mut *self.strays_seen.lock().unwrap());
        let now = self.snapshot();
        let fresh: Vec<Node> = nodes
            .iter()
            .filter(|n| {
                let key = n.res.key();
                let keep = now.id(&key).unwrap_or_default();
                let parent = n.res.parent().map(|p| now.id(&p).map(String::from));
                !seen.get(&key).is_some_and(|l| {
                    l.keep == keep && parent.is_none_or(|p| p.is_some() && p == l.parent_id)
                })
            })
            .cloned()
            .collect();
        let mut lists = self.list_strays(&fresh).await?;
        for (k, l) in seen {
            lists.entry(k).or_insert(l);
        }
        let res_of: BTreeMap<String, &Node> = nodes.iter().map(|n| (n.res.key(), n)).collect();
        let jobs = lists.into_iter().filter_map(|(key, l)| {
            let res = res_of.get(&key)?.res.clone();
            Some(async move {
                for id in l.strays {
                    let t = Instant::now();
                    let label = format!("{key} (stray {id}: another of its name this stack made)");
                    (self.sink)(Event::Started {
                        key: label.clone(),
                        action: Action::Delete,
                    });
                    res.delete(&self.cx, &id, l.parent_id.as_deref()).await?;
                    (self.sink)(Event::Finished {
                        key: label,
                        action: Action::Delete,
                        changed: vec![],
                        took: t.elapsed(),
                    });
                }
                // Looked for: a lost create's strays are gone.
                let lost =
                    (self.state.lock().unwrap().resources.get(&key)).is_some_and(|e| e.lost_create);
                if lost {
                    self.mutate_state(|st| {
                        if let Some(e) = st.resources.get_mut(&key) {
                            e.lost_create = false;
                        }
                    })
                    .await?;
                }
                Ok::<(), Error>(())
            })
        });
        for r in futures::future::join_all(jobs).await {
            r?;
        }
        Ok(())
    }
}
