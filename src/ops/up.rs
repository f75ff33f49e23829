//! `up` and `plan`, and the report of a run.

use super::{
    build_for_run, codes_of, make_ctx, nodes_for, open, targeted, Declared, Global, Session,
};
use crate::aws::Clients;
use crate::config::Config;
use crate::engine::{
    check_protected, foreign, foreign_error, plan_with, Action, Engine, StepReport,
};
use crate::error::{Error, Result};
use crate::kind::{Ctx, Cx, Known, Read, Urls};
use crate::render::{print_plan, printer};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What a run did, for the summary and the benchmarks.
#[derive(Debug, serde::Serialize)]
pub struct Report {
    pub steps: Vec<StepReport>,
    pub reads: u64,
    pub mutations: u64,
    pub seconds: f64,
    pub build_seconds: f64,
    /// For a plan: the steps that would change something.
    #[serde(skip_serializing_if = "is_zero")]
    pub pending: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Report {
    pub(super) fn of(
        c: &Clients,
        steps: &Mutex<Vec<StepReport>>,
        t0: Instant,
        build_seconds: f64,
    ) -> Report {
        let (reads, mutations) = c.stats.snapshot();
        Report {
            steps: steps.lock().unwrap().clone(),
            reads,
            mutations,
            seconds: t0.elapsed().as_secs_f64(),
            build_seconds,
            pending: 0,
        }
    }
}

/// `up` (and `plan` with `dry_run`). Returns the report and known outputs.
/// `up` for `deployer dev`: the local public URLs and the emulator endpoint.
pub async fn up_local(g: &Global, urls: Urls, endpoint: &str) -> Result<(Report, Known, Ctx)> {
    up_with(g, false, Some(urls), Some(endpoint)).await
}

/// On AWS the hosted login page is public: a user whose password is the
/// seed's published demo password could be signed in by anyone. `up`
/// refuses it there unless the user opts in; an emulator endpoint (`dev`,
/// moto) keeps it. Checked before any AWS call.
pub fn check_demo_password(cfg: &Config, endpoint: Option<&str>, allowed: bool) -> Result<()> {
    let on_aws = endpoint.is_none_or(|e| e.contains(".amazonaws.com"));
    let users: Vec<&str> = cfg
        .users
        .iter()
        .filter(|u| u.password == crate::config::DEMO_PASSWORD)
        .map(|u| u.name.as_str())
        .collect();
    if !on_aws || allowed || users.is_empty() {
        return Ok(());
    }
    Err(Error::Other(format!(
        "user {} would get the seed's published demo password on AWS, where the hosted login page is public: anyone who has read the README could sign in. Give each user a password of your own in a config file ([[users]] with password_env = \"VAR\"), or pass --allow-demo-password (DEPLOYER_ALLOW_DEMO_PASSWORD=true) for a throwaway stack. Nothing was changed",
        users.join(", ")
    )))
}

pub async fn up(g: &Global, dry_run: bool, urls: Option<Urls>) -> Result<(Report, Known, Ctx)> {
    up_with(g, dry_run, urls, None).await
}

async fn up_with(
    g: &Global,
    dry_run: bool,
    urls: Option<Urls>,
    endpoint: Option<&str>,
) -> Result<(Report, Known, Ctx)> {
    let t0 = Instant::now();
    if !dry_run {
        let cfg = Config::load(g.config.as_deref())?;
        check_demo_password(
            &cfg,
            endpoint.or(g.endpoint_url.as_deref()),
            g.allow_demo_password,
        )?;
    }
    let s = open(g, (!dry_run).then_some("up")).await?;
    // The lock is released when the run ends, whatever its outcome, so that
    // a process that runs again (`up --watch`) does not meet its own lock.
    let store = s.store.clone();
    let r = up_session(g, dry_run, urls, endpoint, s, t0).await;
    let released = store.release().await;
    let out = r?;
    released?;
    Ok(out)
}

async fn up_session(
    g: &Global,
    dry_run: bool,
    urls: Option<Urls>,
    endpoint: Option<&str>,
    mut s: Session,
    t0: Instant,
) -> Result<(Report, Known, Ctx)> {
    let mut state = s.state.clone();
    let mut before = state.clone();
    if s.new_identity {
        // Saved with the first write of this run.
        before.stack_id = None;
    }
    // A move (`Stack::moved`) changes the state: saved before any change.
    let Declared {
        nodes,
        exports,
        providers,
        moved,
    } = nodes_for(&g.app, &s.cfg, &mut state, true)?;
    let tb = Instant::now();
    // Off the async threads: a build takes minutes and the run must stay
    // responsive to a signal meanwhile.
    let (package, packages) = {
        let (g, cfg) = (g.clone(), s.cfg.clone());
        let codes = codes_of(&nodes);
        tokio::task::spawn_blocking(move || build_for_run(&g, &cfg, &codes))
            .await
            .map_err(|e| Error::Other(format!("the build stopped: {e}")))??
    };
    let build_seconds = tb.elapsed().as_secs_f64();
    let urls = urls.unwrap_or(Urls::Aws);
    let mut ctx = make_ctx(&s, g, package, urls.clone());
    ctx.packages = packages;
    let ctx = Arc::new(ctx);
    if !g.json && !dry_run && !g.quiet {
        println!(
            "deployer up: stack {} ({}), region {}, account {}",
            g.stack, s.cfg.name_prefix, ctx.region, ctx.account
        );
        for (from, to) in &moved {
            println!("  moved     {from} -> {to} (Stack::moved: saved with this run)");
        }
    }
    let reports = Arc::new(Mutex::new(vec![]));
    state.region = Some(ctx.region.clone());
    state.account = Some(ctx.account.clone());
    state.partition = (ctx.partition != "aws").then(|| ctx.partition.clone());
    state.name_prefix = Some(s.cfg.name_prefix.clone());
    state.local = match &urls {
        Urls::Aws => None,
        Urls::Local { idp, api, apis } => Some(crate::state::LocalUrls {
            idp: idp.clone(),
            api: api.clone(),
            apis: apis.clone(),
            endpoint: endpoint.unwrap_or_default().to_string(),
        }),
    };
    let engine = Engine {
        cx: Arc::new(Cx::new(s.clients.clone(), ctx.clone())),
        store: s.store.clone(),
        state: Arc::new(Mutex::new(state.clone())),
        sink: printer(
            g.json || g.quiet,
            reports.clone(),
            Some(s.clients.pacer.clone()),
            g.json,
        ),
        providers,
        strays_seen: Default::default(),
        parallelism: g.parallelism,
    };
    let (reads, confirmed) = tokio::join!(engine.read_all(&nodes), s.confirm());
    confirmed?;
    let reads = reads?;
    let found = foreign(&nodes, &ctx, &state, &reads);
    if !found.is_empty() {
        return Err(foreign_error(&g.stack, &found));
    }
    let applied = state
        .resources
        .iter()
        .map(|(k, e)| (k.clone(), e.applied.clone()))
        .collect();
    let steps = plan_with(&nodes, &ctx, &reads, &applied, &s.store.fingerprint_key());
    // AWS's documented rules knowable now: refused before any change
    // (over the whole program, a targeted run's included: a rule may need
    // a resource the target does not).
    let reserves = nodes.iter().filter(|n| n.declared).any(|n| {
        n.res.kind_name() == "aws:lambda:Function"
            && n.res
                .desired(&ctx, &Known::default())
                .props
                .get("reserved_concurrency")
                .is_some_and(|v| !v.is_null())
    });
    let facts = crate::resources::lambda::account_facts(&engine.cx, reserves).await?;
    let refused = crate::engine::preflight(&nodes, &ctx, &reads, &facts);
    let (nodes, steps) = targeted(nodes, steps, &g.target)?;
    if !g.target.is_empty() && !g.json && !g.quiet {
        println!(
            "Targeted run: only {} and what they need ({} resources); the rest of the stack is left as it is.",
            g.target.join(", "),
            nodes.len()
        );
    }
    let protected = check_protected(&nodes, &steps, &reads, &g.unprotect);
    if dry_run {
        print_plan(&steps, &moved, g.json);
        protected?;
        if !refused.is_empty() {
            return Err(crate::engine::preflight_error(&refused));
        }
        let (r, m) = s.clients.stats.snapshot();
        let rep = Report {
            steps: vec![],
            reads: r,
            mutations: m,
            seconds: t0.elapsed().as_secs_f64(),
            build_seconds,
            pending: steps.iter().filter(|s| s.action != Action::Same).count(),
        };
        return Ok((rep, Known::default(), Arc::unwrap_or_clone(ctx)));
    }
    protected?;
    if !refused.is_empty() {
        return Err(crate::engine::preflight_error(&refused));
    }
    // Record what was found under IDs the state did not have (adoption).
    let adopted = {
        let mut st = engine.state.lock().unwrap();
        for (k, r) in &reads {
            if let Read::Found(o) = r {
                if nodes.iter().any(|n| &n.res.key() == k && n.declared) {
                    let e = st.resources.entry(k.clone()).or_default();
                    if let Some(n) = nodes.iter().find(|n| &n.res.key() == k) {
                        e.kind = Some(n.res.kind_name().to_string());
                        e.parent = n.res.parent();
                        e.lifecycle = n.res.lifecycle();
                    }
                    if e.id.as_deref() != Some(&o.id) || e.pending_create {
                        e.id = Some(o.id.clone());
                        e.pending_create = false;
                        e.outputs = o.state_outputs();
                    }
                }
            }
        }
        (*st != before).then(|| st.clone())
    };
    // In the background: what a crash loses here, the next run reads again.
    if adopted.is_some() {
        s.store.update_later(&engine.state, |_| {});
    }
    let known = engine.apply(&nodes, &steps, &reads).await?;
    let rep = Report::of(&s.clients, &reports, t0, build_seconds);
    let (r, m) = (rep.reads, rep.mutations);
    let outs = crate::outputs::compute(&exports, &ctx, &known);
    if g.quiet {
    } else if g.json {
        let o: BTreeMap<_, _> = outs
            .iter()
            .map(|v| (v.name.clone(), v.shown(false)))
            .collect();
        println!("{}", serde_json::json!({"report": rep, "outputs": o}));
    } else {
        let count = |a: Action| rep.steps.iter().filter(|s| s.action == a).count();
        println!(
            "Done in {:.1}s (handler build {:.1}s): {} created, {} updated, {} replaced, {} deleted, {} unchanged; {} reads, {} changes made.",
            rep.seconds, build_seconds, count(Action::Create), count(Action::Update), count(Action::Replace), count(Action::Delete), count(Action::Same), r, m
        );
        if !outs.is_empty() {
            println!("\nOutputs:");
        }
        for v in &outs {
            println!("  {} = {}", v.name, v.shown(false));
        }
    }
    Ok((rep, known, Arc::unwrap_or_clone(ctx)))
}
