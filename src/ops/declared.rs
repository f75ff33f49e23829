//! What a run works on: the program's resources, the state's orphans, the
//! moves, and `--target`.

use crate::config::Config;
use crate::engine::Node;
use crate::error::{Error, Result};
use crate::kind::Providers;
use crate::state::State;

/// What a run works on: the program's resources and the state's entries it
/// no longer declares, its exported outputs, the run's providers and the
/// moves this run made in the state.
pub struct Declared {
    /// The nodes to plan: declared ones, and orphans to delete.
    pub nodes: Vec<Node>,
    /// The program's exported outputs.
    pub exports: crate::model::Exports,
    /// The providers of every kind the run may meet.
    pub providers: Providers,
    /// (from, to) of each `Stack::moved` applied to the state by this run.
    pub moved: crate::model::Moves,
}

/// The program's resources, plus the state's entries it no longer
/// declares (to delete, each by its kind's provider), its exported outputs,
/// the run's providers and the moves made.
pub fn nodes_for(
    app: &crate::App,
    cfg: &Config,
    state: &mut State,
    declared: bool,
) -> Result<Declared> {
    let (res, exports, moves) = app.declare_with_moves(cfg)?;
    let moved = apply_moves(state, &moves)?;
    let providers = app.providers(&res);
    let mut nodes: Vec<Node> = res.into_iter().map(|res| Node { res, declared }).collect();
    for (key, e) in &state.resources {
        if nodes.iter().any(|n| &n.res.key() == key) {
            continue;
        }
        let Some((kind, parent)) = e.kind_and_parent(key) else {
            return Err(Error::Other(format!(
                "state entry {key:?} has no kind this deployer knows ({:?}): it was written by another program or version; delete the resource by hand and remove the entry, or use the program that wrote it",
                e.kind
            )));
        };
        let Some(provider) = providers.get(&kind) else {
            return Err(Error::Other(format!(
                "state entry {key:?} is a {kind}, a kind the program no longer declares and whose provider it does not register: register it (`App::provider(...)` in the program's main) so that it can be deleted, or delete the resource by hand and then `deployer state rm {key}`"
            )));
        };
        let k = std::sync::Arc::new(crate::kind::Orphan::new(provider, parent));
        nodes.push(Node {
            res: crate::model::Declared::with_lifecycle(key.clone(), k, e.lifecycle),
            declared: false,
        });
    }
    Ok(Declared {
        nodes,
        exports,
        providers,
        moved,
    })
}

/// The program's moves (`Stack::moved`) applied to the state: each entry
/// under `from` goes under `to` (and so do the parent keys naming it), so
/// that the resource is read, planned and kept as `to`'s. A move already
/// made (no `from` in the state) is nothing; `from` and `to` both in the
/// state is an error.
pub fn apply_moves(state: &mut State, moves: &crate::model::Moves) -> Result<crate::model::Moves> {
    let mut made = vec![];
    for (from, to) in moves {
        let Some(e) = state.resources.remove(from) else {
            continue;
        };
        if state.resources.contains_key(to) {
            state.resources.insert(from.clone(), e);
            return Err(Error::Other(format!(
                "the program says `{from}` moved to `{to}`, but the state has both: remove the `moved` line, or the entry of the one that is not in AWS (`deployer state rm`)"
            )));
        }
        state.resources.insert(to.clone(), e);
        for e in state.resources.values_mut() {
            if e.parent.as_deref() == Some(from.as_str()) {
                e.parent = Some(to.clone());
            }
        }
        made.push((from.clone(), to.clone()));
    }
    Ok(made)
}

/// `--target KEY`: the nodes and steps of the targets and of everything
/// they depend on (transitively); the others are left out of the run. An
/// unknown key is an error naming the keys.
pub fn targeted(
    nodes: Vec<Node>,
    steps: Vec<crate::engine::Step>,
    targets: &[String],
) -> Result<(Vec<Node>, Vec<crate::engine::Step>)> {
    if targets.is_empty() {
        return Ok((nodes, steps));
    }
    let keys: Vec<String> = nodes.iter().map(|n| n.res.key()).collect();
    if let Some(t) = targets.iter().find(|t| !keys.contains(t)) {
        return Err(Error::Other(format!(
            "--target {t}: the stack has no resource {t:?}; its keys are {}",
            keys.join(", ")
        )));
    }
    let mut keep: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    let mut todo: Vec<String> = targets.to_vec();
    while let Some(k) = todo.pop() {
        if !keep.insert(k.clone()) {
            continue;
        }
        if let Some(n) = nodes.iter().find(|n| n.res.key() == k) {
            todo.extend(n.res.deps());
        }
    }
    let nodes: Vec<Node> = nodes
        .into_iter()
        .filter(|n| keep.contains(&n.res.key()))
        .collect();
    let steps = steps
        .into_iter()
        .filter(|s| keep.contains(&s.key))
        .collect();
    Ok((nodes, steps))
}
