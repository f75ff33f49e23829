//! `down`: delete the whole stack.

use super::{make_ctx, nodes_for, open, urls_of, Declared, Global, Report, Session};
use crate::engine::{check_protected, foreign, plan, Engine};
use crate::error::{Error, Result};
use crate::kind::{Cx, Read};
use crate::render::printer;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Instant;

pub async fn down(g: &Global, yes: bool) -> Result<()> {
    let t0 = Instant::now();
    if !yes {
        if !std::io::stdin().is_terminal() {
            return Err(Error::Other("`deployer down` deletes the whole stack; standard input is not a terminal, so pass --yes to confirm".into()));
        }
        eprint!(
            "Delete every resource of stack {:?}? Type 'yes' to confirm: ",
            g.stack
        );
        let mut answer = String::new();
        std::io::stdin()
            .read_line(&mut answer)
            .map_err(|e| Error::io("stdin", e))?;
        if answer.trim() != "yes" {
            return Err(Error::Other("not confirmed: nothing was deleted".into()));
        }
    }
    let s = open(g, Some("down")).await?;
    let store = s.store.clone();
    let r = down_session(g, s, t0).await;
    let released = store.release().await;
    r?;
    released
}

async fn down_session(g: &Global, mut s: Session, t0: Instant) -> Result<()> {
    if s.new_identity && s.state.resources.is_empty() && s.state.retired.is_empty() {
        // No state, so no identity: whatever carries this stack's names is
        // another's or nobody's, and a stack with no state deletes nothing.
        // (A claimed ID with no resources recorded goes on: what carries
        // the ID is this stack's; so does a state from before stack IDs,
        // whose resources it records.)
        if g.json {
            println!(
                "{}",
                serde_json::json!({"report": {"steps": [], "deleted": 0}})
            );
        } else {
            println!(
                "deployer down: stack {} has no state ({}): 0 resources to delete. If its state was lost, restore it (the .bak copy), or take the stack's ID back from its resources' deployer:stack-id tag with `deployer --stack {} state claim ID`, then run `down` again.",
                g.stack,
                s.store.path.display(),
                g.stack
            );
        }
        return Ok(());
    }
    let ctx = Arc::new(make_ctx(&s, g, None, urls_of(&s.state)));
    let Declared {
        nodes, providers, ..
    } = nodes_for(&g.app, &s.cfg, &mut s.state, false)?;
    let reports = Arc::new(Mutex::new(vec![]));
    let engine = Engine {
        cx: Arc::new(Cx::new(s.clients.clone(), ctx.clone())),
        store: s.store.clone(),
        state: Arc::new(Mutex::new(s.state.clone())),
        sink: printer(
            g.json,
            reports.clone(),
            Some(s.clients.pacer.clone()),
            g.json,
        ),
        providers,
        strays_seen: Default::default(),
        parallelism: g.parallelism,
    };
    let (reads, confirmed) = tokio::join!(engine.read_nodes(&nodes), s.confirm());
    confirmed?;
    let mut reads = reads?;
    // Only what this stack owns is deleted; the rest is left, and said.
    let left = foreign(&nodes, &ctx, &s.state, &reads);
    for f in &left {
        reads.insert(f.key.clone(), Read::Missing);
    }
    let steps = plan(&nodes, &ctx, &reads);
    check_protected(&nodes, &steps, &reads, &g.unprotect)?;
    if !g.json {
        println!(
            "deployer down: stack {}, region {}: {} resources to delete",
            g.stack,
            ctx.region,
            steps.len()
        );
        for f in left.iter().filter(|f| !f.through_parent) {
            println!(
                "  left alone: {} ({} {}) belongs to {}",
                f.key, f.kind, f.id, f.owner
            );
        }
    }
    engine.apply(&nodes, &steps, &reads).await?;
    // Every step succeeded: what was found is deleted, and what was not
    // found (creates that never happened, entries already gone) is gone.
    let mut st = engine.state.lock().unwrap().clone();
    st.resources.clear();
    st.local = None;
    if st.retired.is_empty() {
        s.store.remove(&st).await?;
    } else {
        s.store.save(&st).await?;
    }
    let rep = Report::of(&s.clients, &reports, t0, 0.0);
    let (r, m) = (rep.reads, rep.mutations);
    if g.json {
        println!("{}", serde_json::json!({ "report": rep }));
    } else {
        println!(
            "Done in {:.1}s: {} resources deleted; {} reads, {} changes made.",
            rep.seconds,
            steps.len(),
            r,
            m
        );
    }
    Ok(())
}
