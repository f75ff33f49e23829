//! The project's tool virtualenv: a pinned moto and cargo-lambda from PyPI,
//! installed on first use into `.tools/venv` (or `$DEPLOYER_TOOLS_DIR/venv`).

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The pinned tools (pip requirements, each line `REQUIREMENT  # COMMAND`),
/// also what `scripts/test` installs.
pub const REQUIREMENTS: &str = include_str!("../scripts/tools-requirements.txt");

/// The requirement that provides the command `exe`.
fn requirement(exe: &str) -> Option<&'static str> {
    REQUIREMENTS.lines().find_map(|l| {
        let (req, cmd) = l.split_once('#')?;
        let req = req.trim();
        (!req.is_empty() && cmd.trim() == exe).then_some(req)
    })
}

/// The file an install of `exe` leaves in the venv, holding its
/// requirement: a venv whose pin differs (the pins changed) is brought to
/// the pins again.
fn stamp(exe: &str) -> PathBuf {
    tools_dir().join("venv").join(format!("deployer-{exe}.pin"))
}

/// Whether the command `exe` is in the venv at its pinned version.
pub fn installed(exe: &str) -> bool {
    venv_bin().join(exe).is_file()
        && requirement(exe)
            .is_some_and(|r| std::fs::read_to_string(stamp(exe)).is_ok_and(|s| s.trim() == r))
}

/// The project's root: the workspace whose crates the functions' code
/// names (`Code::krate`), where `.tools/` and `target/lambda-build` live.
/// `DEPLOYER_PROJECT_DIR`; else the workspace of the program `cargo run`
/// started (cargo gives the process its package's `CARGO_MANIFEST_DIR`): a
/// stack in a workspace of its own builds that workspace's crates; else the
/// checkout deployer was built from.
pub fn project_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("DEPLOYER_PROJECT_DIR") {
        return PathBuf::from(d);
    }
    std::env::var_os("CARGO_MANIFEST_DIR")
        .and_then(|pkg| workspace_root(Path::new(&pkg)))
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// The root of the workspace `pkg` (a package's directory) belongs to: the
/// outermost directory from `pkg` up whose `Cargo.toml` has a
/// `[workspace]` table, else `pkg` itself; `None` without a `Cargo.toml`.
pub fn workspace_root(pkg: &Path) -> Option<PathBuf> {
    let has_workspace = |dir: &Path| {
        std::fs::read_to_string(dir.join("Cargo.toml"))
            .ok()
            .and_then(|t| t.parse::<toml::Table>().ok())
            .is_some_and(|t| t.contains_key("workspace"))
    };
    if !pkg.join("Cargo.toml").is_file() {
        return None;
    }
    let root = pkg.ancestors().filter(|d| has_workspace(d)).last();
    Some(root.unwrap_or(pkg).to_path_buf())
}

pub fn tools_dir() -> PathBuf {
    std::env::var_os("DEPLOYER_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| project_dir().join(".tools"))
}

pub fn venv_bin() -> PathBuf {
    tools_dir().join("venv").join("bin")
}

/// Makes a child process die with this one (Linux `PR_SET_PDEATHSIG`), so
/// that nothing deployer starts (moto_server, the proxies of the tests)
/// outlives it, even when it is killed with SIGKILL. The signal comes when
/// the thread that spawned the child ends: spawn from a thread that lives as
/// long as the child should.
pub fn die_with_parent(cmd: &mut Command) -> &mut Command {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: prctl is async-signal-safe; nothing else runs in the child
        // between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(
                    libc::PR_SET_PDEATHSIG,
                    libc::SIGKILL as libc::c_ulong,
                    0,
                    0,
                    0,
                ) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    cmd
}

/// Finds `name` on PATH.
pub fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|f| f.is_file())
    })
}

/// Returns the path of `exe` from the tool venv, installing its pinned
/// requirement there (under a lock, one tool at a time) when it is missing:
/// `deployer dev` builds the handler as soon as cargo-lambda is in, while
/// moto installs.
pub fn ensure(exe: &str) -> Result<PathBuf> {
    let bin = venv_bin();
    let want = bin.join(exe);
    if installed(exe) {
        return Ok(want);
    }
    let req =
        requirement(exe).ok_or_else(|| Error::Other(format!("no pinned tool provides `{exe}`")))?;
    let dir = tools_dir();
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(dir.display().to_string(), e))?;
    let lock_path = dir.join("install.lock");
    let lock = std::fs::File::create(&lock_path)
        .map_err(|e| Error::io(lock_path.display().to_string(), e))?;
    lock.lock()
        .map_err(|e| Error::io(lock_path.display().to_string(), e))?;
    if installed(exe) {
        return Ok(want);
    }
    let python = on_path("python3").ok_or_else(|| {
        Error::Other("python3 is not on PATH: install Python 3 (with venv and pip) so deployer can install moto and cargo-lambda".into())
    })?;
    let venv = dir.join("venv");
    eprintln!(
        "deployer: installing {req} into {} (first run only)",
        venv.display()
    );
    let started = std::time::Instant::now();
    if !bin.join("pip").is_file() {
        run(
            Command::new(&python).args(["-m", "venv"]).arg(&venv),
            "create the tool virtualenv (on Debian: apt-get install python3-venv)",
        )?;
    }
    run(
        Command::new(bin.join("pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .arg(req),
        "install the pinned tools from PyPI",
    )?;
    if !want.is_file() {
        return Err(Error::Other(format!(
            "{} is still missing after the install",
            want.display()
        )));
    }
    let pin = stamp(exe);
    std::fs::write(&pin, req).map_err(|e| Error::io(pin.display().to_string(), e))?;
    eprintln!(
        "deployer: installed {req} in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(want)
}

fn run(cmd: &mut Command, what: &str) -> Result<()> {
    let out = cmd
        .output()
        .map_err(|e| Error::Other(format!("could not {what}: {e}")))?;
    if !out.status.success() {
        return Err(Error::Other(format!(
            "could not {what} ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .rev()
                .take(5)
                .collect::<Vec<_>>()
                .join(" | ")
        )));
    }
    Ok(())
}

pub fn path_with(bin: &Path) -> std::ffi::OsString {
    let mut paths = vec![bin.to_path_buf()];
    if let Some(p) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&p));
    }
    std::env::join_paths(paths).unwrap_or_default()
}

#[cfg(test)]
mod tests {

    /// A package's workspace: the outermost `[workspace]` above it, or the
    /// package itself.
    #[test]
    fn a_programs_workspace_is_found_from_its_package() {
        let d = tempfile::tempdir().unwrap();
        let ws = d.path().join("shop");
        let pkg = ws.join("stack");
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::write(
            ws.join("Cargo.toml"),
            "[workspace]\nmembers = [\"stack\"]\n",
        )
        .unwrap();
        std::fs::write(pkg.join("Cargo.toml"), "[package]\nname = \"stack\"\n").unwrap();
        assert_eq!(workspace_root(&pkg), Some(ws.clone()));
        assert_eq!(workspace_root(&ws), Some(ws.clone()));
        let alone = d.path().join("alone");
        std::fs::create_dir_all(&alone).unwrap();
        assert_eq!(workspace_root(&alone), None);
        std::fs::write(alone.join("Cargo.toml"), "[package]\nname = \"alone\"\n").unwrap();
        assert_eq!(workspace_root(&alone), Some(alone.clone()));
    }

    use super::*;

    #[test]
    fn each_command_has_its_pinned_requirement() {
        assert_eq!(requirement("moto_server"), Some("moto[server]==5.2.5"));
        assert!(requirement("cargo-lambda").is_some_and(|r| r.starts_with("cargo-lambda==")));
        assert_eq!(requirement("moto"), None);
        assert_eq!(requirement("aws"), None);
    }
}
