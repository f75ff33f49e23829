//! `--watch`: a change to the handler crate rebuilds it with the dev loop's
//! profile and redeploys the function's code (`up --watch` here, `deployer
//! dev --watch` in `local`). A failed build is reported and the previous
//! code keeps serving.

use crate::error::{Error, Result};
use crate::package::Package;
use crate::package::{build_with, Profile};
use notify::{EventKind, RecursiveMode, Watcher};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Changes to a crate's sources (`.rs`, `.toml`; `target/` ignored).
pub struct Changes {
    rx: tokio::sync::mpsc::UnboundedReceiver<()>,
    _watcher: notify::RecommendedWatcher,
}

fn relevant(p: &Path) -> bool {
    !p.components().any(|c| c.as_os_str() == "target")
        && p.extension().is_some_and(|e| e == "rs" || e == "toml")
}

impl Changes {
    pub fn watch(dir: &Path) -> Result<Changes> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let mut w = notify::recommended_watcher(move |r: notify::Result<notify::Event>| {
            if let Ok(e) = r {
                let writes = matches!(
                    e.kind,
                    EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_)
                );
                if writes && e.paths.iter().any(|p| relevant(p)) {
                    let _ = tx.send(());
                }
            }
        })
        .map_err(|e| Error::Other(format!("cannot watch {}: {e}", dir.display())))?;
        w.watch(dir, RecursiveMode::Recursive)
            .map_err(|e| Error::Other(format!("cannot watch {}: {e}", dir.display())))?;
        Ok(Changes { rx, _watcher: w })
    }

    /// The next change, once 50 ms pass without another (an editor saves in
    /// several writes within milliseconds; watchexec waits as long).
    pub async fn next(&mut self) -> Option<()> {
        self.rx.recv().await?;
        loop {
            match tokio::time::timeout(Duration::from_millis(50), self.rx.recv()).await {
                Ok(Some(())) => continue,
                Ok(None) => return None,
                Err(_) => return Some(()),
            }
        }
    }
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

/// `up --watch`: `up`, then a redeploy of the function's code after each
/// change to the handler crate, until Ctrl-C.
pub async fn up_watch(g: &super::Global) -> Result<()> {
    if g.handler_zip.is_some() {
        return Err(Error::Other(
            "--watch rebuilds the handler crate: drop --handler-zip (DEPLOYER_HANDLER_ZIP)".into(),
        ));
    }
    let cfg = crate::config::Config::load(g.config.as_deref())?;
    let mut g2 = g.clone();
    g2.dev_build = true;
    super::up(&g2, false, None).await?;
    let dir = crate::package::handler_dir();
    let mut changes = Changes::watch(&dir)?;
    eprintln!(
        "deployer up --watch: watching {} (Ctrl-C stops)",
        dir.display()
    );
    while changes.next().await.is_some() {
        eprintln!("deployer up: the handler changed: rebuilding");
        let (zip, _, build) = match rebuild(cfg.architecture, Profile::Dev).await {
            Ok(b) => b,
            Err(e) => {
                eprintln!("deployer up: the build failed; the deployed code is unchanged:\n{e}");
                continue;
            }
        };
        let mut g3 = g2.clone();
        g3.handler_zip = Some(zip);
        g3.quiet = true;
        let t = Instant::now();
        match super::up(&g3, false, None).await {
            Ok(_) => eprintln!(
                "deployer up: redeployed in {:.1} s (build {:.1} s, deploy {:.1} s)",
                build.as_secs_f64() + t.elapsed().as_secs_f64(),
                build.as_secs_f64(),
                t.elapsed().as_secs_f64()
            ),
            Err(e) => eprintln!("deployer up: redeploying failed: {e}"),
        }
    }
    Ok(())
}
