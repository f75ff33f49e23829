//! The project's tool virtualenv: a pinned moto and cargo-lambda from PyPI,
//! installed on first use into `.tools/venv` (or `$DEPLOYER_TOOLS_DIR/venv`).

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

pub const MOTO: &str = "moto[server]==5.2.5";
pub const CARGO_LAMBDA: &str = "cargo-lambda==1.9.2";

/// The project's root (where `Cargo.toml` and `handler/` are).
pub fn project_dir() -> PathBuf {
    std::env::var_os("DEPLOYER_PROJECT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
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

/// Returns the path of `exe` from the tool venv, installing the pinned tools
/// there (once, under a lock) when it is missing.
pub fn ensure(exe: &str) -> Result<PathBuf> {
    let bin = venv_bin();
    let want = bin.join(exe);
    if want.is_file() {
        return Ok(want);
    }
    let dir = tools_dir();
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(dir.display().to_string(), e))?;
    let lock_path = dir.join("install.lock");
    let lock = std::fs::File::create(&lock_path)
        .map_err(|e| Error::io(lock_path.display().to_string(), e))?;
    lock.lock()
        .map_err(|e| Error::io(lock_path.display().to_string(), e))?;
    if want.is_file() {
        return Ok(want);
    }
    let python = on_path("python3").ok_or_else(|| {
        Error::Other("python3 is not on PATH: install Python 3 (with venv and pip) so deployer can install moto and cargo-lambda".into())
    })?;
    let venv = dir.join("venv");
    eprintln!(
        "deployer: installing {MOTO} and {CARGO_LAMBDA} into {} (first run only, about a minute)",
        venv.display()
    );
    run(
        Command::new(&python).args(["-m", "venv"]).arg(&venv),
        "create the tool virtualenv (on Debian: apt-get install python3-venv)",
    )?;
    run(
        Command::new(bin.join("pip")).args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            MOTO,
            CARGO_LAMBDA,
        ]),
        "install the pinned tools from PyPI",
    )?;
    if !want.is_file() {
        return Err(Error::Other(format!(
            "{} is still missing after the install",
            want.display()
        )));
    }
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
