//! The local AWS control plane, one for `deployer dev`, for `deployer
//! emulator` (a user's `--endpoint-url` work) and for the tests: moto_server
//! behind awsim (`awsim/` in this repository), which answers what moto lacks
//! as AWS does, checks every request against AWS's published service models
//! and enforces AWS's documented rules (awsim/RULES.md), so that a program
//! that works here is refused here where AWS would refuse it.
//!
//! awsim is Python (it runs in the tool virtualenv beside moto, where
//! botocore's service models are); its files are built into deployer and
//! written under the tools directory, one folder per version of them.

use crate::error::{Error, Result};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// awsim's files, as built into this deployer.
const AWSIM: &[(&str, &str)] = &[
    ("awsim.py", include_str!("../../awsim/awsim.py")),
    ("rules.py", include_str!("../../awsim/rules.py")),
    ("validate.py", include_str!("../../awsim/validate.py")),
    ("quotas.py", include_str!("../../awsim/quotas.py")),
    ("quotas.json", include_str!("../../awsim/quotas.json")),
];

/// A child process killed (and reaped) on drop.
struct Owned(Child);

impl Drop for Owned {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// moto_server and awsim in front of it, on 127.0.0.1; both killed on drop
/// (and with deployer, however it ends: `tools::die_with_parent`).
pub struct ControlPlane {
    _awsim: Owned,
    _moto: Owned,
    /// Where AWS calls go: awsim's address.
    pub endpoint: String,
    /// moto's own address (the emulator's internals: `/moto-api`).
    pub moto: String,
}

/// How the control plane answers beyond moto's gaps.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// awsim's port (0: a free one).
    pub port: u16,
    /// AWS's eventual consistency as well (a new role briefly unassumable,
    /// a function Pending, ...), at this share of awsim's windows.
    pub realism: Option<f64>,
    /// The account's Lambda concurrency limit (awsim's default when None).
    pub account_concurrency: Option<u32>,
    /// AWS's documented request-rate quotas (awsim/QUOTAS.md), at this
    /// share of each (1.0: as documented; 0.5: other callers take half).
    pub quotas: Option<f64>,
    /// Seconds added to every request (the distance to a region).
    pub latency: Option<f64>,
}

/// The folder awsim's files are written to for this deployer (its content
/// hash names it, so that versions never mix).
fn awsim_dir() -> Result<PathBuf> {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for (name, text) in AWSIM {
        h.update(name.as_bytes());
        h.update(text.as_bytes());
    }
    let hex: String = h.finalize()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let dir = crate::tools::tools_dir().join("awsim").join(hex);
    if !dir.join("awsim.py").is_file() {
        let tmp = dir.with_extension(format!("tmp{}", std::process::id()));
        std::fs::create_dir_all(&tmp).map_err(|e| Error::io(tmp.display().to_string(), e))?;
        for (name, text) in AWSIM {
            let p = tmp.join(name);
            std::fs::write(&p, text).map_err(|e| Error::io(p.display().to_string(), e))?;
        }
        // Another run may have written it meanwhile: theirs is the same.
        if std::fs::rename(&tmp, &dir).is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
    }
    Ok(dir)
}

/// A free port on 127.0.0.1.
fn free_port() -> Result<u16> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| Error::Other(format!("no free port on 127.0.0.1: {e}")))
}

/// Starts moto_server (installed into the tool virtualenv on first use) and
/// awsim in front of it. Call it from a thread that lives as long as the
/// control plane should (the children die with it).
pub async fn start(opts: &Options) -> Result<ControlPlane> {
    let exe = crate::tools::ensure("moto_server")?;
    let port = free_port()?;
    let mut cmd = Command::new(&exe);
    crate::tools::die_with_parent(&mut cmd);
    let moto = cmd
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| Error::Other(format!("cannot start {}: {e}", exe.display())))?;
    let moto = Owned(moto);
    let moto_url = format!("http://127.0.0.1:{port}");
    let python = crate::tools::venv_bin().join("python");
    let script = awsim_dir()?.join("awsim.py");
    let mut cmd = Command::new(&python);
    crate::tools::die_with_parent(&mut cmd);
    cmd.arg(&script)
        .args(["--upstream", &moto_url])
        .args(["--port", &opts.port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(scale) = opts.realism {
        cmd.args(["--realism", "--scale", &scale.to_string()]);
    }
    if let Some(n) = opts.account_concurrency {
        cmd.args(["--account-concurrency", &n.to_string()]);
    }
    if let Some(scale) = opts.quotas {
        cmd.args(["--quotas", "--quota-scale", &scale.to_string()]);
    }
    if let Some(l) = opts.latency {
        cmd.args(["--latency", &l.to_string()]);
    }
    let mut awsim = cmd
        .spawn()
        .map_err(|e| Error::Other(format!("cannot start awsim ({}): {e}", script.display())))?;
    let out = awsim.stdout.take();
    let awsim = Owned(awsim);
    // awsim prints its port once it listens (within 60 s: it loads no
    // model before its first request; a hung one is killed with `awsim`).
    let read = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        let mut line = String::new();
        if let Some(out) = out {
            let _ = std::io::BufReader::new(out).read_line(&mut line);
        }
        line
    });
    let line = match tokio::time::timeout(Duration::from_secs(60), read).await {
        Ok(line) => line.unwrap_or_default(),
        Err(_) => {
            return Err(Error::Other(
                "awsim did not say where it listens within 60 s".into(),
            ))
        }
    };
    let awsim_port: u16 = line.trim().parse().map_err(|_| {
        Error::Other(format!(
            "awsim did not start (it said {:?}); its errors are above",
            line.trim()
        ))
    })?;
    let http = reqwest::Client::new();
    for _ in 0..300 {
        if http
            .get(format!("{moto_url}/moto-api/"))
            .send()
            .await
            .is_ok()
        {
            return Ok(ControlPlane {
                _awsim: awsim,
                _moto: moto,
                endpoint: format!("http://127.0.0.1:{awsim_port}"),
                moto: moto_url,
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(Error::Other("moto_server did not start within 30 s".into()))
}

/// `deployer emulator`: the local control plane in the foreground, until
/// Ctrl-C, for `--endpoint-url` (or `AWS_ENDPOINT_URL`) work.
pub async fn serve(opts: Options) -> Result<()> {
    eprintln!("deployer emulator: starting moto_server behind awsim on 127.0.0.1");
    let cp = start(&opts).await?;
    // Whoever started it may read the first line and close the pipe
    // (`deployer emulator | head -1`): the control plane runs on; a
    // closed terminal is no reason to stop it.
    use std::io::Write;
    let _ = writeln!(
        std::io::stdout(),
        "The local AWS control plane listens on {e} (moto {m} behind awsim: moto's gaps answered as AWS answers them, requests checked against AWS's service models and documented rules).\n\
         Use it from another terminal:\n\n  export AWS_ENDPOINT_URL={e} AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1\n  deployer up\n\n\
         Its state lives in memory and ends with it. Ctrl-C stops it.",
        e = cp.endpoint,
        m = cp.moto
    );
    let signal = super::stop_signal().await;
    eprintln!("deployer emulator: stopped ({signal})");
    drop(cp);
    Ok(())
}
