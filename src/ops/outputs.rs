//! `outputs`: print the stack's outputs.

use super::{read_store, stack_sdk, urls_of, Global};
use crate::aws::Clients;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::kind::{Ctx, Cx, Known, Read};
use std::collections::BTreeMap;
use std::sync::Arc;

pub async fn outputs(g: &Global, name: Option<&str>, show_secrets: bool) -> Result<()> {
    let cfg = Config::load(g.config.as_deref())?;
    let (res, exports) = g.app.declare(&cfg)?;
    let names: Vec<&str> = exports.iter().map(|(n, _)| n.as_str()).collect();
    let secret_named = |n: &str| exports.iter().any(|(x, o)| x == n && o.is_secret());
    if let Some(n) = name {
        if !names.contains(&n) {
            return Err(Error::Other(format!(
                "no output named {n:?}; the outputs are: {}",
                names.join(", ")
            )));
        }
        if secret_named(n) && !show_secrets {
            return Err(Error::Other(format!(
                "{n} is sensitive: add --show-secrets to print it"
            )));
        }
    }
    let store = read_store(g, &cfg).await?;
    let state = store.load(&g.stack).await?;
    if state.resources.is_empty() {
        return Err(Error::Other(format!(
            "stack {:?} has no state at {}: run `deployer up` first",
            g.stack,
            store.path.display()
        )));
    }
    let mut known = Known::default();
    for (k, e) in &state.resources {
        let mut o = e.outputs.clone();
        if let Some(id) = &e.id {
            o.entry("id".into()).or_insert_with(|| id.clone());
        }
        known.outputs.insert(k.clone(), o);
    }
    let urls = urls_of(&state);
    let ctx = Arc::new(Ctx {
        stack: g.stack.clone(),
        stack_id: state.stack_id.clone().unwrap_or_default(),
        region: state.region.clone().unwrap_or_default(),
        account: state.account.clone().unwrap_or_default(),
        partition: state.partition.clone().unwrap_or_else(|| "aws".into()),
        tags: BTreeMap::new(),
        package: None,
        packages: Default::default(),
        urls,
    });
    // Secrets are read live (the state never holds them): the resources a
    // wanted secret output reads are read again from AWS. A `deployer dev`
    // stack lives in the emulator its state names, which needs no AWS
    // credentials.
    let wanted: Vec<&(String, crate::model::Output<String>)> = exports
        .iter()
        .filter(|(n, o)| o.is_secret() && show_secrets && name.is_none_or(|w| w == n))
        .collect();
    if !wanted.is_empty() {
        let (sdk, local_endpoint) = stack_sdk(g, &cfg, &state).await?;
        let cx = Cx::new(Clients::sharing(&sdk, g.quota_share), ctx.clone());
        let keys: std::collections::BTreeSet<&String> =
            wanted.iter().flat_map(|(_, o)| o.deps()).collect();
        for key in keys {
            let Some(r) = res.iter().find(|r| &r.key() == key) else {
                continue;
            };
            let e = state.resources.get(key).cloned().unwrap_or_default();
            let prior = crate::kind::Prior {
                parent_id: e
                    .outputs
                    .get("parent_id")
                    .cloned()
                    .or_else(|| r.parent().and_then(|p| state.id(&p).map(String::from))),
                id: e.id,
                pending_create: false,
                made_at: e.made_at,
                outputs: e.outputs,
                known: known.clone(),
            };
            match r.read(&cx, &prior).await {
                Ok(Read::Found(o)) => {
                    known.outputs.insert(key.clone(), o.outputs);
                }
                Ok(_) => {}
                Err(e) => {
                    return Err(match &local_endpoint {
                        Some(ep) if e.is_ambiguous() => Error::Other(format!(
                            "the local stack {:?} is not running (nothing answers at {ep}): start it with `deployer dev`; its secrets live only while it runs",
                            g.stack
                        )),
                        _ => e,
                    })
                }
            }
        }
    }
    let outs = crate::outputs::compute(&exports, &ctx, &known);
    let shown = |v: &crate::outputs::Value| {
        if v.secret && show_secrets {
            v.value
                .clone()
                .unwrap_or_else(|| crate::outputs::HIDDEN.to_string())
        } else {
            v.shown(false)
        }
    };
    match name {
        Some(n) => {
            if let Some(v) = outs.iter().find(|v| v.name == n) {
                println!("{}", shown(v));
            }
        }
        None if g.json => {
            let m: BTreeMap<&str, String> =
                outs.iter().map(|v| (v.name.as_str(), shown(v))).collect();
            println!("{}", serde_json::to_string_pretty(&m).unwrap_or_default())
        }
        None => {
            for v in &outs {
                println!("{} = {}", v.name, shown(v));
            }
        }
    }
    Ok(())
}
