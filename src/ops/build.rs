//! Building what a run's functions run.

use super::Global;
use crate::config::Config;
use crate::engine::Node;
use crate::error::{Error, Result};
use crate::package::Package;
use std::path::PathBuf;
use std::sync::Arc;

pub fn build_package(g: &Global, cfg: &Config) -> Result<(PathBuf, Package)> {
    if let Some(z) = &g.handler_zip {
        let zip = std::fs::read(z).map_err(|e| Error::io(z.display().to_string(), e))?;
        return Ok((z.clone(), crate::package::from_zip(zip)));
    }
    match g.profile() {
        crate::package::Profile::Release => crate::package::build(cfg.architecture),
        p => crate::package::build_with(cfg.architecture, p),
    }
}

/// The codes the program's functions run (declared ones: a function the
/// program dropped is only deleted).
pub fn codes_of(nodes: &[Node]) -> Vec<crate::package::Code> {
    let mut codes: Vec<_> = nodes
        .iter()
        .filter(|n| n.declared)
        .filter_map(|n| n.res.code())
        .collect();
    codes.sort();
    codes.dedup();
    codes
}

/// Builds what the functions run: the handler package if one runs it (as
/// `build_package`), the other crates in one invocation with the same
/// profile, the zips read.
pub fn build_for_run(
    g: &Global,
    cfg: &Config,
    codes: &[crate::package::Code],
) -> Result<(Option<Arc<Package>>, crate::package::Packages)> {
    let package = if codes.contains(&crate::package::Code::Handler) {
        Some(Arc::new(build_package(g, cfg)?.1))
    } else {
        None
    };
    let prebuilt = g.prebuilt.as_deref().cloned().unwrap_or_default();
    let missing: Vec<_> = codes
        .iter()
        .filter(|c| !prebuilt.contains_key(c))
        .cloned()
        .collect();
    let mut packages = crate::package::build_codes(cfg.architecture, g.profile(), &missing)?;
    packages.extend(prebuilt.into_iter().filter(|(c, _)| codes.contains(c)));
    Ok((package, packages))
}
