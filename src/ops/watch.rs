//! `--watch`: a change to one of the functions' crates rebuilds that crate
//! only, with the dev loop's profile, and redeploys the functions' code (`up --watch` here, `deployer
//! dev --watch` in `local`). A failed build is reported and the previous
//! code keeps serving.

use crate::error::{Error, Result};
use crate::package::{build_codes, build_with, code_dirs, Code, Package, Packages, Profile};
use notify::{EventKind, RecursiveMode, Watcher};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Changes to crates' sources (`.rs`, `.toml`; `target/` ignored), told by
/// the code each crate builds.
pub struct Changes {
    rx: tokio::sync::mpsc::UnboundedReceiver<Code>,
    _watchers: Vec<notify::RecommendedWatcher>,
}

fn relevant(p: &Path) -> bool {
    !p.components().any(|c| c.as_os_str() == "target")
        && p.extension().is_some_and(|e| e == "rs" || e == "toml")
}

impl Changes {
    /// Watches each code's crate directory.
    pub fn watch(dirs: &[(Code, PathBuf)]) -> Result<Changes> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let mut watchers = vec![];
        for (code, dir) in dirs {
            let (tx, code) = (tx.clone(), code.clone());
            let mut w = notify::recommended_watcher(move |r: notify::Result<notify::Event>| {
                if let Ok(e) = r {
                    let writes = matches!(
                        e.kind,
                        EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_)
                    );
                    if writes && e.paths.iter().any(|p| relevant(p)) {
                        let _ = tx.send(code.clone());
                    }
                }
            })
            .map_err(|e| Error::Other(format!("cannot watch {}: {e}", dir.display())))?;
            w.watch(dir, RecursiveMode::Recursive)
                .map_err(|e| Error::Other(format!("cannot watch {}: {e}", dir.display())))?;
            watchers.push(w);
        }
        Ok(Changes {
            rx,
            _watchers: watchers,
        })
    }

    /// The codes whose crates changed, once 50 ms pass without another
    /// change (an editor saves in several writes within milliseconds;
    /// watchexec waits as long).
    pub async fn next(&mut self) -> Option<BTreeSet<Code>> {
        let mut changed: BTreeSet<Code> = [self.rx.recv().await?].into();
        loop {
            match tokio::time::timeout(Duration::from_millis(50), self.rx.recv()).await {
                Ok(Some(c)) => {
                    changed.insert(c);
                }
                Ok(None) => return None,
                Err(_) => return Some(changed),
            }
        }
    }
}

/// What a change rebuilt: the handler's zip and package (if it changed) and
/// the other crates' packages (only those that changed).
pub struct Rebuilt {
    pub handler: Option<(PathBuf, Package)>,
    pub crates: Packages,
    pub took: Duration,
}

/// Rebuilds only the crates in `changed`, with `profile`, off the async
/// threads: the handler as before, the others in one cargo invocation.
pub async fn rebuild_changed(
    arch: crate::config::Architecture,
    profile: Profile,
    changed: BTreeSet<Code>,
) -> Result<Rebuilt> {
    let t = Instant::now();
    let handler = match changed.contains(&Code::Handler) {
        true => {
            let (zip, pkg, _) = rebuild(arch, profile).await?;
            Some((zip, pkg))
        }
        false => None,
    };
    let others: Vec<Code> = changed
        .into_iter()
        .filter(|c| *c != Code::Handler)
        .collect();
    let crates = tokio::task::spawn_blocking(move || build_codes(arch, profile, &others))
        .await
        .map_err(|e| Error::Other(format!("the build task failed: {e}")))??;
    Ok(Rebuilt {
        handler,
        crates,
        took: t.elapsed(),
    })
}

/// The crates the program's functions are built from, and their
/// directories: what `--watch` watches (the handler only when a function
/// runs it and no zip is given for it).
pub fn watched(g: &super::Global, cfg: &crate::config::Config) -> Result<Vec<(Code, PathBuf)>> {
    let (res, _) = g.app.declare(cfg)?;
    let mut codes: Vec<Code> = res.iter().filter_map(|r| r.code()).collect();
    codes.sort();
    codes.dedup();
    codes.retain(|c| !(*c == Code::Handler && g.handler_zip.is_some()));
    code_dirs(&codes)
}

/// Names the crates a change rebuilds (`handler`, `echo`).
pub fn names(changed: &BTreeSet<Code>) -> String {
    changed
        .iter()
        .map(|c| match c {
            Code::Handler => "handler".to_string(),
            Code::Crate { package, .. } => package.clone(),
            Code::Zip(p) => p.display().to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A dev loop's build of the handler (`Profile::Dev` for Lambda,
/// `Profile::Local` for `deployer dev`), off the async threads.
pub async fn rebuild(
    arch: crate::config::Architecture,
    profile: Profile,
) -> Result<(PathBuf, Package, Duration)> {
    let t = Instant::now();
    let (path, pkg) = tokio::task::spawn_blocking(move || build_with(arch, profile))
        .await
        .map_err(|e| Error::Other(format!("the build task failed: {e}")))??;
    Ok((path, pkg, t.elapsed()))
}

/// `up --watch`: `up`, then a redeploy of the changed crates' code after
/// each change to one of them, until Ctrl-C.
pub async fn up_watch(g: &super::Global) -> Result<()> {
    let cfg = crate::config::Config::load(g.config.as_deref())?;
    let mut g2 = g.clone();
    g2.dev_build = true;
    let dirs = watched(&g2, &cfg)?;
    if dirs.is_empty() {
        return Err(Error::Other(
            "--watch rebuilds the functions' crates: none of the program's functions is built from one here (a zip, or --handler-zip)".into(),
        ));
    }
    let (_, _, ctx) = super::up(&g2, false, None).await?;
    let mut changes = Changes::watch(&dirs)?;
    let shown: Vec<String> = dirs.iter().map(|(_, d)| d.display().to_string()).collect();
    eprintln!(
        "deployer up --watch: watching {} (Ctrl-C stops)",
        shown.join(", ")
    );
    // The last build of each crate (the first `up`'s to begin with): a
    // redeploy rebuilds only what changed.
    let mut built: Packages = ctx.packages.clone();
    while let Some(changed) = changes.next().await {
        eprintln!("deployer up: {} changed: rebuilding", names(&changed));
        let r = match rebuild_changed(cfg.architecture, Profile::Dev, changed).await {
            Ok(b) => b,
            Err(e) => {
                eprintln!("deployer up: the build failed; the deployed code is unchanged:\n{e}");
                continue;
            }
        };
        if let Some((zip, _)) = r.handler {
            g2.handler_zip = Some(zip);
        }
        built.extend(r.crates);
        let mut g3 = g2.clone();
        g3.prebuilt = Some(std::sync::Arc::new(built.clone()));
        g3.quiet = true;
        let t = Instant::now();
        match super::up(&g3, false, None).await {
            Ok(_) => eprintln!(
                "deployer up: redeployed in {:.1} s (build {:.1} s, deploy {:.1} s)",
                r.took.as_secs_f64() + t.elapsed().as_secs_f64(),
                r.took.as_secs_f64(),
                t.elapsed().as_secs_f64()
            ),
            Err(e) => eprintln!("deployer up: redeploying failed: {e}"),
        }
    }
    Ok(())
}
