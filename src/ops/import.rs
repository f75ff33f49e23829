//! `import`: take an existing resource into the stack.

use super::{make_ctx, nodes_for, open, urls_of, Global, Session};
use crate::error::{Error, Result};
use crate::kind::{Cx, Known, Read};
use std::collections::BTreeMap;
use std::sync::Arc;

/// `deployer import KEY ID`: reads the resource the program declares as
/// KEY by the given ID, refuses another stack's, tags it as this stack's
/// (where its kind has tags) and records it in the state. `plan` then shows
/// its differences from the program, and `up` fixes them.
pub async fn import(g: &Global, key: &str, id: &str) -> Result<()> {
    let s = open(g, Some("import")).await?;
    let store = s.store.clone();
    let r = import_session(g, s, key, id).await;
    let released = store.release().await;
    r?;
    released
}

async fn import_session(g: &Global, mut s: Session, key: &str, id: &str) -> Result<()> {
    s.confirm().await?;
    let ctx = Arc::new(make_ctx(&s, g, None, urls_of(&s.state)));
    let nodes = nodes_for(&g.app, &s.cfg, &mut s.state, true)?.nodes;
    let Some(res) = nodes
        .iter()
        .find(|n| n.res.key() == key)
        .map(|n| n.res.clone())
    else {
        return Err(Error::Other(format!(
            "the program declares no resource {key:?}; its keys are {}",
            nodes
                .iter()
                .map(|n| n.res.key())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    };
    if let Some(have) = s.state.id(key) {
        return Err(Error::Other(format!(
            "{key} is already in stack {}'s state as {have}: nothing to import",
            g.stack
        )));
    }
    let parent_id = match res.parent() {
        Some(p) => Some(s.state.id(&p).map(String::from).ok_or_else(|| {
            Error::Other(format!(
                "{key} lives inside {p}, which stack {} does not have yet: import or create {p} first",
                g.stack
            ))
        })?),
        None => None,
    };
    let known = Known {
        outputs: s
            .state
            .resources
            .iter()
            .map(|(k, e)| (k.clone(), e.outputs.clone()))
            .collect(),
    };
    let cx = Cx::new(s.clients.clone(), ctx.clone());
    let prior = crate::kind::Prior {
        id: Some(id.to_string()),
        pending_create: false,
        made_at: None,
        parent_id: parent_id.clone(),
        outputs: BTreeMap::new(),
        known: known.clone(),
    };
    let o = match res.read(&cx, &prior).await? {
        Read::Found(o) if o.id == id => o,
        _ => {
            return Err(Error::Other(format!(
                "no {} with ID {id} in {} (account {}): nothing was imported",
                res.kind_name(),
                ctx.region,
                ctx.account
            )))
        }
    };
    if let Some(owner @ crate::kind::Owner::Stack { .. }) = ctx.owner_of(&o.props) {
        return Err(Error::Other(format!(
            "{key} ({} {id}) belongs to {owner}: a stack never takes another's resource; nothing was imported. Remove it from that stack (`retain_on_delete` then `down` releases it), or give this stack names of its own",
            res.kind_name()
        )));
    }
    if let Some((setting, holder)) = res.belongs_through() {
        let held_by = crate::kind::s(&o.props, setting);
        if s.state.id(&holder) != Some(held_by.as_str()) {
            return Err(Error::Other(format!(
                "{key} ({} {id}) belongs to {held_by} (its {setting}), which is not this stack's {holder}: nothing was imported",
                res.kind_name()
            )));
        }
    }
    // Tag it as this stack's, changing nothing else.
    let o = match o.props.get("tags") {
        Some(serde_json::Value::Object(tags)) => {
            let mut tags = tags.clone();
            for t in [crate::kind::STACK_TAG, crate::kind::STACK_ID_TAG] {
                tags.insert(t.into(), serde_json::json!(ctx.tags[t]));
            }
            let mut d = o.props.clone();
            d.insert("tags".into(), serde_json::Value::Object(tags));
            if d == o.props {
                o
            } else {
                res.update(&cx, &d, &o, &known).await?
            }
        }
        _ => o,
    };
    let mut st = s.state.clone();
    st.region = Some(ctx.region.clone());
    st.account = Some(ctx.account.clone());
    let mut outputs = o.state_outputs();
    if let Some(p) = &parent_id {
        outputs
            .entry("parent_id".into())
            .or_insert_with(|| p.clone());
    }
    st.resources.insert(
        key.to_string(),
        crate::state::Entry {
            id: Some(o.id.clone()),
            pending_create: false,
            // Imported: not made by this stack.
            made_at: None,
            lost_create: false,
            outputs,
            kind: Some(res.kind_name().to_string()),
            parent: res.parent(),
            lifecycle: res.lifecycle(),
            applied: BTreeMap::new(),
        },
    );
    s.store.save(&st).await?;
    if g.json {
        println!(
            "{}",
            serde_json::json!({"imported": {"key": key, "id": o.id, "kind": res.kind_name()}})
        );
    } else {
        println!(
            "imported {key} ({} {}) into stack {}, tagged as its own: `deployer plan` shows what `up` would change in it",
            res.kind_name(),
            o.id,
            g.stack
        );
    }
    Ok(())
}
