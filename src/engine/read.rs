//! Reading what exists: every node (`read_all`, `read_nodes`), and a
//! create that may have happened looked for again (`look_again`).

use super::{Engine, Node};
use crate::error::{Error, Result};
use crate::kind::{Cx, Known, Prior, Read};
use crate::model::Res;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// How long an interrupted create is given to become visible.
pub const PENDING_GRACE: Duration = Duration::from_secs(3);

/// Reads a resource whose create may have happened (an interrupted run, a
/// lost answer) until it shows, for up to `PENDING_GRACE`: a create in
/// flight can land after the first look. None when it never showed.
pub(super) async fn look_again(res: &Res, cx: &Cx, prior: &Prior) -> Result<Option<Read>> {
    let found = crate::aws::with_backoff(
        "find a create that may have happened",
        PENDING_GRACE,
        |e: &Option<Error>| e.is_none(),
        || async {
            match res.read(cx, prior).await {
                Ok(Read::Missing) => Err(None),
                Ok(other) => Ok(other),
                Err(e) => Err(Some(e)),
            }
        },
    )
    .await;
    match found {
        Ok(read) => Ok(Some(read)),
        Err(None) => Ok(None),
        Err(Some(e)) => Err(e),
    }
}

impl Engine {
    /// Reads every node: one concurrent round when the state knows the IDs
    /// (a child whose parent the state does not know is read in a second).
    /// The strays of the resources the state records are listed meanwhile.
    pub async fn read_all(&self, nodes: &[Node]) -> Result<BTreeMap<String, Read>> {
        let (reads, seen) = tokio::join!(self.read_nodes(nodes), self.list_strays(nodes));
        *self.strays_seen.lock().unwrap() = seen?;
        reads
    }

    /// Reads every node, and lists no strays: for `down`, after which
    /// every ID has changed and the strays are listed then.
    pub async fn read_nodes(&self, nodes: &[Node]) -> Result<BTreeMap<String, Read>> {
        let st = self.snapshot();
        let recorded = Known {
            outputs: st
                .resources
                .iter()
                .map(|(k, e)| (k.clone(), e.outputs.clone()))
                .collect(),
        };
        let prior_of = |key: &str, res: &Res, parent_id: Option<String>| {
            let e = st.resources.get(key).cloned().unwrap_or_default();
            let parent_id = parent_id
                .or_else(|| e.outputs.get("parent_id").cloned())
                .or_else(|| res.parent().and_then(|p| st.id(&p).map(String::from)));
            Prior {
                id: e.id,
                pending_create: e.pending_create,
                made_at: e.made_at,
                parent_id,
                outputs: e.outputs,
                known: recorded.clone(),
            }
        };
        // The round's list reads (`crate::kind::listing`): the names each kind's
        // reads may look for, the state's IDs and the declared names.
        let mut names: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        for n in nodes {
            let key = n.res.key();
            let entry = names.entry(n.res.kind_name()).or_default();
            let id = st.id(&key).filter(|i| !i.is_empty()).map(String::from);
            let d = n.res.desired(&self.cx.ctx, &recorded);
            let name = match d.props.get("name") {
                Some(serde_json::Value::String(n)) if !d.unknown.contains("name") => {
                    Some(n.clone()).filter(|n| !n.is_empty())
                }
                _ => None,
            };
            // One name for each resource, two after a rename.
            entry.extend(id.clone());
            entry.extend(name.filter(|n| Some(n) != id.as_ref()));
        }
        let listed = Arc::new(Cx {
            listing: Some(Arc::new(crate::kind::listing::Listing::new(names))),
            ..Cx::new(self.cx.aws.clone(), self.cx.ctx.clone())
        });
        let read_set = |items: Vec<(String, Res, Prior)>| {
            let cx = listed.clone();
            async move {
                let futs = items.into_iter().map(|(k, r, p)| {
                    let cx = cx.clone();
                    async move { (k, r.read(&cx, &p).await) }
                });
                futures::future::join_all(futs).await
            }
        };
        let mut first = vec![];
        let mut later = vec![];
        for n in nodes {
            let key = n.res.key();
            match n.res.parent() {
                Some(p) if st.id(&p).is_none() => later.push(n.res.clone()),
                _ => first.push((key.clone(), n.res.clone(), prior_of(&key, &n.res, None))),
            }
        }
        let mut out = BTreeMap::new();
        for (k, r) in read_set(first).await {
            out.insert(k, r?);
        }
        // Children whose parent was only found now, or found under a new ID.
        let parent_id = |p: &str, out: &BTreeMap<String, Read>| match out.get(p) {
            Some(Read::Found(o)) => Some(o.id.clone()),
            _ => None,
        };
        for n in nodes {
            let key = n.res.key();
            if let Some(p) = n.res.parent() {
                if later.iter().any(|r| r.key() == key) {
                    continue;
                }
                if st.id(&p).map(String::from) != parent_id(&p, &out) {
                    later.push(n.res.clone());
                }
            }
        }
        let second: Vec<_> = later
            .into_iter()
            .map(|r| {
                let key = r.key();
                let pid = parent_id(&r.parent().unwrap_or_default(), &out);
                let mut prior = prior_of(&key, &r, pid.clone());
                prior.parent_id = pid;
                (key, r, prior)
            })
            .collect();
        for (k, r) in read_set(second).await {
            let r = r?;
            out.insert(k, r);
        }
        // An interrupted create may still land after this run has looked
        // (the request was in flight when the process died): where an intent
        // was recorded and nothing is found, look again before creating.
        let pending: Vec<Res> = nodes
            .iter()
            .filter(|n| {
                st.resources
                    .get(&n.res.key())
                    .is_some_and(|e| e.pending_create)
                    && matches!(out.get(&n.res.key()), Some(Read::Missing))
            })
            .map(|n| n.res.clone())
            .collect();
        let again = pending.into_iter().map(|r| {
            let key = r.key();
            let pid = r
                .parent()
                .and_then(|p| parent_id(&p, &out))
                .or_else(|| r.parent().and_then(|p| st.id(&p).map(String::from)));
            let mut prior = prior_of(&key, &r, pid.clone());
            prior.parent_id = pid;
            let cx = self.cx.clone();
            async move { (key, look_again(&r, &cx, &prior).await) }
        });
        for (k, r) in futures::future::join_all(again).await {
            if let Some(read) = r? {
                out.insert(k, read);
            }
        }
        Ok(out)
    }
}
