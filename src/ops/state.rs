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
    Claim {
        /// The stack ID (16 hex digits) from a resource's tag.
        id: String,
    },
    /// Forget a resource: its entry leaves the state, the resource is left
    /// as it is in AWS (like `terraform state rm`). Refused while other
    /// entries name it as their parent.
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
        StateCmd::Claim { id } => claim(g, &id).await,
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

async fn claim(g: &Global, id: &str) -> Result<()> {
    if id.len() != 16 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::Other(format!(
            "{id:?} is not a stack ID: it is the 16 hex digits of a resource's deployer:stack-id tag"
        )));
    }
    let (_, mut store) = backend_store(g).await?;
    store.acquire(&g.stack, "state claim").await?;
    let r = async {
        let mut st = store.load(&g.stack).await?;
        if !st.resources.is_empty() || !st.retired.is_empty() {
            return Err(Error::Other(format!(
                "stack {} at {} records {} resources under stack ID {}: a stack with resources keeps its ID; nothing was changed",
                g.stack,
                store.path.display(),
                st.resources.len(),
                st.stack_id.as_deref().unwrap_or("(none yet)")
            )));
        }
        st.stack_id = Some(id.to_ascii_lowercase());
        store.save(&st).await?;
        println!(
            "stack {} at {} now has stack ID {id}: `deployer up` adopts the resources that carry it, `deployer down` deletes them",
            g.stack,
            store.path.display()
        );
        Ok(())
    }
    .await;
    let released = store.release().await;
    r?;
    released
}

async fn rm(g: &Global, key: &str) -> Result<()> {
    let (_, mut store) = backend_store(g).await?;
    store.acquire(&g.stack, "state rm").await?;
    let r = async {
        let mut st = store.load(&g.stack).await?;
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
        st.resources.remove(key);
        store.save(&st).await?;
        println!(
            "stack {} no longer records {key} ({} {}): it is left as it is in AWS",
            g.stack,
            e.kind.as_deref().unwrap_or("resource"),
            e.id.as_deref().unwrap_or("(no ID)")
        );
        Ok(())
    }
    .await;
    let released = store.release().await;
    r?;
    released
}
