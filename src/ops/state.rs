//! The state operations: `unlock`, `state list|show|push|pull|claim|rm`.

use super::{backend_of, read_store, Global};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::state::{Backend, State, Store};
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum StateCmd {
    /// The stacks in the backend, with their last writer and time.
    List,
    /// The resources of the stack and their IDs (no secrets).
    Show,
    /// Copy the stack's local state (--state-dir) to the --backend, refusing
    /// to overwrite a newer state there, or another one of the same serial.
    Push {
        /// Overwrite a state of the same serial with other content (two
        /// copies that went apart): the one at the backend is lost.
        #[arg(long)]
        force: bool,
    },
    /// Copy the stack's state from the --backend to the local --state-dir,
    /// refusing to overwrite a newer local state, or another one of the same
    /// serial.
    Pull {
        /// Overwrite a local state of the same serial with other content.
        #[arg(long)]
        force: bool,
    },
    /// Take a stack ID back (a state that was lost): its resources carry it
    /// in their `deployer:stack-id` tag; `up` then adopts what carries it,
    /// and `down` deletes it. Only for a state that records no resource.
    /// Refused when the ID is another stack's: another state in the backend
    /// has it, or the program's resources that carry it name another stack
    /// in their `deployer:stack` tag (`--force` claims it all the same).
    Claim {
        /// The stack ID (16 hex digits) from a resource's tag.
        id: String,
        /// Claim an ID another stack has (its state in the backend, or its
        /// name on the resources): this stack's `down` then deletes that
        /// stack's resources. Only when that stack is gone for good.
        #[arg(long)]
        force: bool,
    },
    /// Forget a resource: its entry leaves the state and the resource is
    /// left in AWS, released from the stack: its `deployer:stack` and
    /// `deployer:stack-id` tags are removed, so that neither `up` nor
    /// `down` touches it again (like `terraform state rm`). A kind without
    /// tags belongs through its parent, which it is still found in: that
    /// is said. Refused while other entries name it as their parent.
    Rm {
        /// The resource's key, as `state show` lists it.
        key: String,
    },
}

async fn backend_store(g: &Global) -> Result<(Config, Store)> {
    let cfg = Config::load(g.config.as_deref())?;
    let store = read_store(g, &cfg).await?;
    Ok((cfg, store))
}

/// `deployer unlock LOCK_ID`: removes a lock left by a killed run, only if
/// it still has that ID.
pub async fn unlock(g: &Global, id: &str) -> Result<()> {
    let (_, store) = backend_store(g).await?;
    match &store.s3 {
        Some(s) => {
            let h = s.unlock(id).await?;
            println!(
                "deployer: removed the lock of stack {} ({})",
                g.stack,
                h
            );
            Ok(())
        }
        None => Err(Error::Other(format!(
            "stack {} uses the local backend, whose lock ({}) is held by a running process and released when it exits: there is nothing to unlock",
            g.stack,
            store.path.with_extension("lock").display()
        ))),
    }
}

pub async fn run(g: &Global, c: StateCmd) -> Result<()> {
    match c {
        StateCmd::List => list(g).await,
        StateCmd::Show => show(g).await,
        StateCmd::Push { force } => push(g, force).await,
        StateCmd::Pull { force } => pull(g, force).await,
        StateCmd::Claim { id, force } => claim(g, &id, force).await,
        StateCmd::Rm { key } => rm(g, &key).await,
    }
}

fn when(st: &State) -> String {
    if st.written == 0 {
        "unknown time".into()
    } else {
        format!(
            "{} ago (unix {})",
            crate::state::s3::human_age(crate::state::now_secs().saturating_sub(st.written)),
            st.written
        )
    }
}

async fn list(g: &Global) -> Result<()> {
    let (cfg, store) = backend_store(g).await?;
    let mut rows: Vec<(String, State)> = vec![];
    match &store.s3 {
        Some(s) => {
            for (name, _) in s.list().await? {
                if let Some(b) = s.read_stack(&name).await? {
                    let st = crate::state::parse(&String::from_utf8_lossy(&b), &name, "")?;
                    rows.push((name, st));
                }
            }
        }
        None => {
            let Backend::Local(dir) = backend_of(g, &cfg)? else {
                unreachable!()
            };
            let mut names: Vec<String> = std::fs::read_dir(&dir)
                .map(|d| {
                    d.filter_map(|e| e.ok())
                        .filter_map(|e| {
                            e.file_name()
                                .to_str()
                                .and_then(|n| n.strip_suffix(".json"))
                                .map(String::from)
                        })
                        .collect()
                })
                .unwrap_or_default();
            names.sort();
            for name in names {
                let st = Store::new(&dir, &name).load_file(&name)?;
                rows.push((name, st));
            }
        }
    }
    if g.json {
        let v: Vec<_> = rows
            .iter()
            .map(|(n, st)| {
                serde_json::json!({"stack": n, "resources": st.resources.len(), "serial": st.serial, "writer": st.writer, "written": st.written, "region": st.region})
            })
            .collect();
        println!("{}", serde_json::json!({ "stacks": v }));
        return Ok(());
    }
    if rows.is_empty() {
        println!("no stacks in {}", location(g, &store));
    }
    for (n, st) in rows {
        println!(
            "{n}: {} resources, region {}, serial {}, last written by {} {}",
            st.resources.len(),
            st.region.as_deref().unwrap_or("?"),
            st.serial,
            st.writer.as_deref().unwrap_or("?"),
            when(&st)
        );
    }
    Ok(())
}

fn location(g: &Global, store: &Store) -> String {
    match &store.s3 {
        Some(s) => format!("s3://{}/{}", s.bucket, s.prefix),
        None => g.state_dir.display().to_string(),
    }
}

async fn show(g: &Global) -> Result<()> {
    let (_, store) = backend_store(g).await?;
    let st = store.load(&g.stack).await?;
    if g.json {
        println!(
            "{}",
            serde_json::to_string(&st).map_err(|e| Error::Other(e.to_string()))?
        );
        return Ok(());
    }
    println!(
        "stack {} at {}: region {}, account {}, serial {}, last written by {} {}",
        g.stack,
        store.path.display(),
        st.region.as_deref().unwrap_or("?"),
        st.account.as_deref().unwrap_or("?"),
        st.serial,
        st.writer.as_deref().unwrap_or("?"),
        when(&st)
    );
    for (k, e) in &st.resources {
        let id = e.id.as_deref().unwrap_or("(create pending)");
        println!("  {k}: {id}");
    }
    Ok(())
}

/// The S3 backend of a push or pull, and the local directory.
async fn both(g: &Global, verb: &str) -> Result<(Store, Store)> {
    let (_, remote) = backend_store(g).await?;
    if remote.s3.is_none() {
        return Err(Error::Other(format!(
            "`state {verb}` moves a stack between --state-dir and an S3 backend: pass --backend s3://BUCKET[/PREFIX]"
        )));
    }
    Ok((Store::new(&g.state_dir, &g.stack), remote))
}

/// Two states of one serial that differ went apart (each written by a run
/// the other did not see): neither may silently replace the other.
fn diverged(a: &State, b: &State) -> bool {
    a.serial == b.serial && serde_json::to_value(a).ok() != serde_json::to_value(b).ok()
}

async fn push(g: &Global, force: bool) -> Result<()> {
    let (mut local, mut remote) = both(g, "push").await?;
    local.acquire(&g.stack, "state push").await?;
    remote.acquire(&g.stack, "state push").await?;
    let mine = local.load(&g.stack).await?;
    if mine.resources.is_empty() && mine.serial == 0 {
        return Err(Error::Other(format!(
            "no local state for stack {} at {}: nothing to push",
            g.stack,
            local.path.display()
        )));
    }
    let theirs = remote.load(&g.stack).await?;
    if theirs.serial > mine.serial {
        return Err(Error::Other(format!(
            "the state at {} is newer (serial {}) than the local one (serial {}); nothing was overwritten. `state pull` it instead",
            remote.path.display(),
            theirs.serial,
            mine.serial
        )));
    }
    if !force && diverged(&mine, &theirs) {
        return Err(Error::Other(format!(
            "the state at {} has the same serial ({}) as the local one but other content: the two went apart; nothing was overwritten. Compare them (`deployer state show` with and without --backend), then `state push --force` to keep the local one",
            remote.path.display(),
            mine.serial
        )));
    }
    // The fingerprints in the state are keyed: the key goes with them.
    remote.take_key_of(&local);
    remote.save_exact(&mine).await?;
    println!(
        "pushed stack {} (serial {}) from {} to {}",
        g.stack,
        mine.serial,
        local.path.display(),
        remote.path.display()
    );
    Ok(())
}

async fn pull(g: &Global, force: bool) -> Result<()> {
    let (mut local, mut remote) = both(g, "pull").await?;
    local.acquire(&g.stack, "state pull").await?;
    remote.acquire(&g.stack, "state pull").await?;
    let theirs = remote.load(&g.stack).await?;
    if theirs.resources.is_empty() && theirs.serial == 0 {
        return Err(Error::Other(format!(
            "no state for stack {} at {}: nothing to pull",
            g.stack,
            remote.path.display()
        )));
    }
    let mine = local.load(&g.stack).await?;
    if mine.serial > theirs.serial {
        return Err(Error::Other(format!(
            "the local state {} is newer (serial {}) than the one at {} (serial {}); nothing was overwritten. `state push` it instead",
            local.path.display(),
            mine.serial,
            remote.path.display(),
            theirs.serial
        )));
    }
    if !force && diverged(&mine, &theirs) {
        return Err(Error::Other(format!(
            "the local state {} has the same serial ({}) as the one at {} but other content: the two went apart; nothing was overwritten. Compare them, then `state pull --force` to keep the backend's",
            local.path.display(),
            mine.serial,
            remote.path.display()
        )));
    }
    // The fingerprints in the state are keyed: the key goes with them.
    local.take_key_of(&remote);
    local.save_exact(&theirs).await?;
    println!(
        "pulled stack {} (serial {}) from {} to {}",
        g.stack,
        theirs.serial,
        remote.path.display(),
        local.path.display()
    );
    Ok(())
}

async fn claim(g: &Global, id: &str, force: bool) -> Result<()> {
    if id.len() != 16 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::Other(format!(
            "{id:?} is not a stack ID: it is the 16 hex digits of a resource's deployer:stack-id tag"
        )));
    }
    let id = id.to_ascii_lowercase();
    let s = super::open(g, Some("state claim")).await?;
    let store = s.store.clone();
    let r = claim_session(g, s, &id, force).await;
    let released = store.release().await;
    r?;
    released
}

async fn claim_session(g: &Global, mut s: super::Session, id: &str, force: bool) -> Result<()> {
    s.confirm().await?;
    let st = s.store.load(&g.stack).await?;
    if !st.resources.is_empty() || !st.retired.is_empty() {
        return Err(Error::Other(format!(
            "stack {} at {} records {} resources under stack ID {}: a stack with resources keeps its ID; nothing was changed",
            g.stack,
            s.store.path.display(),
            st.resources.len(),
            st.stack_id.as_deref().unwrap_or("(none yet)")
        )));
    }
    if !force {
        // A stack ID is what `down` deletes by: one that is another
        // stack's would let this stack delete that stack's resources.
        if let Some((other, theirs)) = other_stack_with_id(g, &s, id).await? {
            return Err(Error::Other(format!(
                "stack ID {id} is stack {other:?}'s: its state in {} has that ID and records {} resources. Claiming it would let `deployer --stack {} down` delete that stack's resources; nothing was changed. Work on that stack with `--stack {other}`; if it is gone for good and its state is stale, `state claim --force` takes the ID all the same",
                location(g, &s.store),
                theirs.resources.len(),
                g.stack
            )));
        }
        let named = carried_by_another_stack(g, &s, id).await?;
        if let Some((other, found)) = named.iter().next() {
            return Err(Error::Other(format!(
                "stack ID {id} is carried by resources of stack {other:?} (their deployer:stack tag): {}. Claiming it would let `deployer --stack {} down` delete them; nothing was changed. Work on them with `--stack {other}`; if that stack is gone for good, `state claim --force` takes the ID all the same",
                found.join(", "),
                g.stack
            )));
        }
    }
    let mut st = st;
    st.stack_id = Some(id.to_string());
    s.store.save(&st).await?;
    println!(
        "stack {} at {} now has stack ID {id}: `deployer up` adopts the resources that carry it, `deployer down` deletes them",
        g.stack,
        s.store.path.display()
    );
    Ok(())
}

/// Another stack of the backend whose state has stack ID `id`.
async fn other_stack_with_id(
    g: &Global,
    s: &super::Session,
    id: &str,
) -> Result<Option<(String, State)>> {
    let mut names = vec![];
    match &s.store.s3 {
        Some(s3) => {
            for (name, _) in s3.list().await? {
                names.push(name);
            }
        }
        None => {
            if let Some(dir) = s.store.path.parent() {
                if let Ok(d) = std::fs::read_dir(dir) {
                    for e in d.flatten() {
                        if let Some(n) =
                            e.file_name().to_str().and_then(|n| n.strip_suffix(".json"))
                        {
                            names.push(n.to_string());
                        }
                    }
                }
            }
        }
    }
    names.sort();
    for name in names.into_iter().filter(|n| n != &g.stack) {
        let st = match &s.store.s3 {
            Some(s3) => match s3.read_stack(&name).await? {
                Some(b) => crate::state::parse(&String::from_utf8_lossy(&b), &name, ""),
                None => continue,
            },
            None => match s.store.path.parent() {
                Some(dir) => Store::new(dir, &name).load_file(&name),
                None => continue,
            },
        };
        // A state that does not parse is not this check's business (its
        // own commands say so).
        if let Ok(st) = st {
            if st.stack_id.as_deref() == Some(id) {
                return Ok(Some((name, st)));
            }
        }
    }
    Ok(None)
}

/// The program's resources that carry stack ID `id` and name another stack
/// than this one in their `deployer:stack` tag, by that stack's name: what
/// `up` would adopt and `down` delete after the claim.
async fn carried_by_another_stack(
    g: &Global,
    s: &super::Session,
    id: &str,
) -> Result<std::collections::BTreeMap<String, Vec<String>>> {
    // The program read as if this stack had the ID already: what `up`
    // would find and `down` would delete after the claim.
    let mut st = s.state.clone();
    st.stack_id = Some(id.to_string());
    st.resources.clear();
    st.retired.clear();
    let mut ctx = super::make_ctx(s, g, None, super::urls_of(&st));
    ctx.stack_id = id.to_string();
    ctx.tags
        .insert(crate::kind::STACK_ID_TAG.to_string(), id.to_string());
    let ctx = std::sync::Arc::new(ctx);
    let declared = super::nodes_for(&g.app, &s.cfg, &mut st, true)?;
    let engine = crate::engine::Engine {
        cx: std::sync::Arc::new(crate::kind::Cx::new(s.clients.clone(), ctx.clone())),
        store: s.store.clone(),
        state: std::sync::Arc::new(std::sync::Mutex::new(st)),
        sink: std::sync::Arc::new(|_| {}),
        providers: declared.providers,
        strays_seen: Default::default(),
        parallelism: 0,
    };
    let reads = engine.read_nodes(&declared.nodes).await?;
    let mut out: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for n in &declared.nodes {
        let key = n.res.key();
        let Some(crate::kind::Read::Found(o)) = reads.get(&key) else {
            continue;
        };
        let Some(tags) = o.props.get("tags").and_then(|t| t.as_object()) else {
            continue;
        };
        let tag = |k: &str| tags.get(k).and_then(|v| v.as_str());
        if tag(crate::kind::STACK_ID_TAG) != Some(id) {
            continue;
        }
        if let Some(name) = tag(crate::kind::STACK_TAG).filter(|n| *n != g.stack) {
            out.entry(name.to_string()).or_default().push(format!(
                "{key} ({} {})",
                n.res.kind_name(),
                o.id
            ));
        }
    }
    Ok(out)
}

async fn rm(g: &Global, key: &str) -> Result<()> {
    let s = super::open(g, Some("state rm")).await?;
    let store = s.store.clone();
    let r = rm_session(g, s, key).await;
    let released = store.release().await;
    r?;
    released
}

/// What `state rm` did to the resource in AWS.
enum Released {
    /// Its deployer tags were removed.
    Untagged,
    /// It had none of them left (or no tags at all to take them from).
    NotTagged,
    /// Not found in AWS.
    Gone,
    /// Could not be untagged: why, and what to do.
    Not(String),
}

async fn rm_session(g: &Global, mut s: super::Session, key: &str) -> Result<()> {
    let mut st = s.state.clone();
    let Some(e) = st.resources.get(key).cloned() else {
        let keys: Vec<&str> = st.resources.keys().map(|k| k.as_str()).collect();
        return Err(Error::Other(format!(
            "stack {} records no resource {key:?}; its keys are: {}",
            g.stack,
            keys.join(", ")
        )));
    };
    let children: Vec<&str> = st
        .resources
        .iter()
        .filter(|(_, c)| c.parent.as_deref() == Some(key))
        .map(|(k, _)| k.as_str())
        .collect();
    if !children.is_empty() {
        return Err(Error::Other(format!(
            "{key} is the parent of {}: `state rm` those first; nothing was changed",
            children.join(", ")
        )));
    }
    s.confirm().await?;
    // Released in AWS first: a state that no longer records a resource
    // that still carries the stack's tags would let `up` adopt it again (or
    // delete it as a stray) and `down` delete it.
    let released = release(g, &s, &st, key, &e).await?;
    st.resources.remove(key);
    s.store.save(&st).await?;
    let what = format!(
        "{key} ({} {})",
        e.kind.as_deref().unwrap_or("resource"),
        e.id.as_deref().unwrap_or("(no ID)")
    );
    match released {
        Released::Untagged => println!(
            "stack {} no longer records {what}: it is left in AWS without its {} and {} tags, and this stack will not touch it again",
            g.stack,
            crate::kind::STACK_TAG,
            crate::kind::STACK_ID_TAG
        ),
        Released::NotTagged => println!(
            "stack {} no longer records {what}: it is left as it is in AWS (it carried no deployer tags)",
            g.stack
        ),
        Released::Gone => println!(
            "stack {} no longer records {what}: it is not in AWS (any more)",
            g.stack
        ),
        Released::Not(why) => {
            println!("stack {} no longer records {what}: it is left in AWS", g.stack);
            eprintln!("deployer: warning: {what} could not be untagged: {why}");
        }
    }
    Ok(())
}

/// Removes the stack's tags from the resource `key` in AWS (one whose
/// create was never recorded is looked for as `up` would).
async fn release(
    g: &Global,
    s: &super::Session,
    st: &State,
    key: &str,
    e: &crate::state::Entry,
) -> Result<Released> {
    let ctx = std::sync::Arc::new(super::make_ctx(s, g, None, super::urls_of(st)));
    // The program's resources (its moves applied to a copy: `state rm`
    // saves no more than the entry's removal).
    let nodes = super::nodes_for(&g.app, &s.cfg, &mut st.clone(), true)?.nodes;
    let Some(node) = nodes.iter().find(|n| n.res.key() == key) else {
        return Ok(Released::Not(format!(
            "the program no longer declares it, and a resource is changed only through a program that declares it. Remove its {} and {} tags by hand (else a program that declares {key} again adopts it)",
            crate::kind::STACK_TAG,
            crate::kind::STACK_ID_TAG
        )));
    };
    let res = &node.res;
    let known = crate::kind::Known {
        outputs: st
            .resources
            .iter()
            .map(|(k, e)| (k.clone(), e.outputs.clone()))
            .collect(),
    };
    let parent_id = e
        .outputs
        .get("parent_id")
        .cloned()
        .or_else(|| res.parent().and_then(|p| st.id(&p).map(String::from)));
    let prior = crate::kind::Prior {
        id: e.id.clone(),
        pending_create: e.pending_create || e.id.is_none(),
        made_at: e.made_at,
        parent_id,
        outputs: e.outputs.clone(),
        known: known.clone(),
    };
    let cx = crate::kind::Cx::new(s.clients.clone(), ctx.clone());
    let o = match res.read(&cx, &prior).await? {
        crate::kind::Read::Found(o) if e.id.as_ref().is_none_or(|id| &o.id == id) => o,
        _ => return Ok(Released::Gone),
    };
    let id = o.id.clone();
    let Some(serde_json::Value::Object(tags)) = o.props.get("tags") else {
        let through = res
            .parent()
            .or_else(|| res.belongs_through().map(|(_, holder)| holder));
        return Ok(Released::Not(match through {
            Some(p) => format!(
                "a {} takes no tags: it belongs to the stack through {p}, where `up` finds it again and with which `down` deletes it. To keep it apart from the stack, take it out of the program (or `state rm` {p} as well)",
                res.kind_name()
            ),
            None => format!(
                "a {} takes no tags; `up` finds it again by its name if the program still declares it",
                res.kind_name()
            ),
        }));
    };
    let ours = [crate::kind::STACK_TAG, crate::kind::STACK_ID_TAG];
    if !tags.keys().any(|k| ours.contains(&k.as_str())) {
        return Ok(Released::NotTagged);
    }
    let kept: serde_json::Map<String, serde_json::Value> = tags
        .iter()
        .filter(|(k, _)| !ours.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut d = o.props.clone();
    d.insert("tags".into(), serde_json::Value::Object(kept));
    res.update(&cx, &d, &o, &known).await.map_err(|err| {
        Error::Other(format!(
            "could not remove the {} and {} tags of {key} ({} {id}): {err}; nothing was changed in the state. Run `state rm {key}` again",
            crate::kind::STACK_TAG,
            crate::kind::STACK_ID_TAG,
            res.kind_name()
        ))
    })?;
    Ok(Released::Untagged)
}
