//! Test harness: a real `moto_server` on a free 127.0.0.1 port, the real
//! `deployer` binary, and SDK clients to read back what it did.
#![allow(dead_code)]

mod checks;
#[allow(unused_imports)]
pub use checks::*;

use base64::Engine as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub struct Moto {
    process: MotoProcess,
    pub port: u16,
    /// Where `deployer` is pointed: the AWS-behaviour layer when one is in
    /// front, else moto itself.
    pub endpoint: String,
    /// moto itself, for read-backs that must not meet injected faults.
    pub direct: String,
    pub recording: PathBuf,
    proxy: Option<Child>,
    _dir: tempfile::TempDir,
}

impl Drop for Moto {
    fn drop(&mut self) {
        if let Some(p) = &mut self.proxy {
            let _ = p.kill();
            let _ = p.wait();
        }
        match &mut self.process {
            MotoProcess::Started(child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
            // Only if the pid is still a fork of moto_fork.py: had that
            // moto ended first, its pid may be another process's now (pids
            // wrap within minutes under a full build).
            MotoProcess::Forked(pid) => {
                let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                if String::from_utf8_lossy(&cmdline).contains("moto_fork") {
                    // SAFETY: kill(2) of the moto forked for this test (it
                    // also ends by itself when this process does).
                    unsafe {
                        libc::kill(*pid, libc::SIGKILL);
                    }
                }
            }
        }
    }
}

/// A test's moto_server: started by the test, or forked for it by
/// tests/awsim/moto_fork.py (scripts/test runs one and sets
/// DEPLOYER_TEST_MOTO_FORK to its port).
enum MotoProcess {
    Started(Child),
    Forked(i32),
}

/// What the AWS-behaviour layer (awsim/awsim.py) adds in front of moto.
#[derive(Debug, Clone)]
pub struct Awsim {
    pub seed: u64,
    pub realism: bool,
    pub throttle: f64,
    pub error5xx: f64,
    pub lost: f64,
    /// Services (`s3`) or operations (`CreateFunction`) whose every call is
    /// answered AccessDenied.
    pub deny: Vec<&'static str>,
    /// Multiplies every realism window (1.0: the defaults of awsim.py).
    pub scale: f64,
    /// (S3 path, file): another writer puts the file's bytes at the path
    /// right after the first read of it.
    pub replace_after_get: Option<(String, PathBuf)>,
    /// More of awsim's options (`--account-concurrency 10`).
    pub extra: Vec<String>,
}

/// The realism windows of the integration scenarios, as a share of
/// awsim's defaults (DEPLOYER_TEST_AWSIM_SCALE, else 0.25: a role
/// unassumable for 1 s, a function Pending for 0.4 s, a domain CREATING for
/// 0.5 s). Every first attempt still meets its window, so every wait and
/// retry path runs; the soak keeps the full windows (see `Awsim::chaos`).
pub fn test_scale() -> f64 {
    std::env::var("DEPLOYER_TEST_AWSIM_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.25)
}

impl Awsim {
    /// AWS's documented behaviours, no chaos: what every integration
    /// scenario runs against (set DEPLOYER_TEST_AWSIM=off for plain moto),
    /// with its windows at `test_scale()`.
    pub fn realism() -> Option<Awsim> {
        if std::env::var("DEPLOYER_TEST_AWSIM").as_deref() == Ok("off") {
            return None;
        }
        Some(Awsim {
            seed: 1,
            realism: true,
            throttle: 0.0,
            error5xx: 0.0,
            lost: 0.0,
            deny: vec![],
            scale: test_scale(),
            replace_after_get: None,
            extra: vec![],
        })
    }

    /// Realism at awsim's full windows plus throttling, 5xx and lost
    /// responses at the given rates.
    pub fn chaos(seed: u64, throttle: f64, error5xx: f64, lost: f64) -> Awsim {
        Awsim {
            seed,
            realism: true,
            throttle,
            error5xx,
            lost,
            deny: vec![],
            scale: 1.0,
            replace_after_get: None,
            extra: vec![],
        }
    }
}

/// The injected faults so far, by kind (the layer's own count).
pub fn awsim_stats(endpoint: &str) -> std::collections::BTreeMap<String, u64> {
    reqwest::blocking::get(format!("{endpoint}/__awsim/stats"))
        .and_then(|r| r.json())
        .unwrap_or_default()
}

fn start_awsim(upstream: &str, a: &Awsim) -> (Child, String) {
    use std::io::BufRead;
    let script = project_dir().join("awsim/awsim.py");
    let python = deployer::tools::venv_bin().join("python");
    let python = if python.is_file() {
        python
    } else {
        PathBuf::from("python3")
    };
    let mut cmd = Command::new(python);
    deployer::tools::die_with_parent(&mut cmd);
    cmd.arg(script)
        .args(["--upstream", upstream])
        .args(["--seed", &a.seed.to_string()])
        .args(["--throttle", &a.throttle.to_string()])
        .args(["--error5xx", &a.error5xx.to_string()])
        .args(["--lost", &a.lost.to_string()])
        .args(["--scale", &a.scale.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if a.realism {
        cmd.arg("--realism");
    }
    for d in &a.deny {
        cmd.args(["--deny", d]);
    }
    if let Some((path, file)) = &a.replace_after_get {
        cmd.arg("--replace-after-get")
            .arg(format!("{path}={}", file.display()));
    }
    cmd.args(&a.extra);
    let mut child = cmd.spawn().expect("start awsim/awsim.py");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("awsim prints its port");
    let port: u16 = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("awsim did not start: {line:?}"));
    (child, format!("http://127.0.0.1:{port}"))
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn moto_server_path() -> PathBuf {
    deployer::tools::ensure("moto_server").expect("install moto into the tool venv")
}

impl Moto {
    /// moto behind the AWS-behaviour layer with realism on (see `Awsim`).
    pub fn start() -> Moto {
        Moto::start_with(Awsim::realism())
    }

    /// moto with only its gaps filled (the APIs AWS has and moto lacks,
    /// answered by awsim as AWS does): no realism, no chaos, so runs are as
    /// fast as moto. DEPLOYER_TEST_AWSIM=off: moto alone.
    pub fn start_plain() -> Moto {
        Moto::start_with(Awsim::realism().map(|mut a| {
            a.realism = false;
            a
        }))
    }

    pub fn start_with(awsim: Option<Awsim>) -> Moto {
        let mut m = Moto::start_moto();
        if let Some(a) = awsim {
            let (child, endpoint) = start_awsim(&m.direct, &a);
            m.proxy = Some(child);
            m.endpoint = endpoint;
        }
        m
    }

    /// `deployer emulator` (moto_server behind awsim, as a user starts it
    /// for `--endpoint-url` work), on a free port; killed with the test
    /// (its moto and awsim die with it).
    pub fn emulator() -> Moto {
        use std::io::BufRead;
        let mut cmd = Command::new(bin());
        deployer::tools::die_with_parent(&mut cmd);
        let mut child = cmd
            .args(["emulator", "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start deployer emulator");
        let mut line = String::new();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        out.read_line(&mut line)
            .expect("deployer emulator prints where it listens");
        // The rest of what it says is read to its end (a reader that
        // stops leaves a writer whose pipe is closed under it).
        std::thread::spawn(move || for _ in out.lines() {});
        let after = |word: &str| {
            let rest = line.split(word).nth(1).unwrap_or_default();
            rest.split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string()
        };
        let (endpoint, direct) = (after("listens on "), after("(moto "));
        assert!(
            endpoint.starts_with("http://127.0.0.1:") && direct.starts_with("http://127.0.0.1:"),
            "deployer emulator said {line:?}"
        );
        let dir = tempfile::tempdir().unwrap();
        let recording = dir.path().join("recording.jsonl");
        Moto {
            process: MotoProcess::Started(child),
            port: 0,
            direct,
            endpoint,
            proxy: None,
            recording,
            _dir: dir,
        }
    }

    /// moto_server on a port it picks itself (`-p 0`), read from the line it
    /// prints once it listens: a port picked here and bound later could be
    /// taken meanwhile by another test's moto, whose health check would then
    /// pass for this one (seen under parallel tests: two soak seeds in one
    /// moto).
    fn start_moto() -> Moto {
        use std::io::BufRead;
        let dir = tempfile::tempdir().unwrap();
        let recording = dir.path().join("recording.jsonl");
        if let Ok(fork) = std::env::var("DEPLOYER_TEST_MOTO_FORK") {
            return Moto::forked(&fork, dir, recording);
        }
        let exe = moto_server_path();
        let mut cmd = Command::new(&exe);
        deployer::tools::die_with_parent(&mut cmd);
        let mut child = cmd
            .args(["-H", "127.0.0.1", "-p", "0"])
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .env("MOTO_ENABLE_RECORDING", "True")
            .env("MOTO_RECORDER_FILEPATH", &recording)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start moto_server");
        let (tx, rx) = std::sync::mpsc::channel();
        let err = child.stderr.take().unwrap();
        // Reads moto's log to its end (a full pipe would stop moto).
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
                if let Some(port) = line
                    .split("Running on http://127.0.0.1:")
                    .nth(1)
                    .and_then(|p| p.trim().parse::<u16>().ok())
                {
                    let _ = tx.send(port);
                }
            }
        });
        let port = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("moto_server did not say where it listens");
        Moto::answering(MotoProcess::Started(child), port, dir, recording)
    }

    /// A moto forked for this test by tests/awsim/moto_fork.py listening on
    /// `port`: the same moto, without its 2 s of CPU to start.
    fn forked(port: &str, dir: tempfile::TempDir, recording: PathBuf) -> Moto {
        use std::io::{BufRead, Write};
        let mut conn = std::net::TcpStream::connect(format!("127.0.0.1:{port}"))
            .expect("connect to tests/awsim/moto_fork.py (DEPLOYER_TEST_MOTO_FORK)");
        conn.set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let ask = serde_json::json!({"recording": recording, "owner": std::process::id()});
        conn.write_all(format!("{ask}\n").as_bytes()).unwrap();
        let mut line = String::new();
        std::io::BufReader::new(conn)
            .read_line(&mut line)
            .expect("moto_fork.py answers");
        let got: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("moto_fork.py answered {line:?}: {e}"));
        let (port, pid) = (got["port"].as_u64().unwrap(), got["pid"].as_i64().unwrap());
        Moto::answering(MotoProcess::Forked(pid as i32), port as u16, dir, recording)
    }

    /// The moto on `port`, once it answers.
    fn answering(
        process: MotoProcess,
        port: u16,
        dir: tempfile::TempDir,
        recording: PathBuf,
    ) -> Moto {
        let endpoint = format!("http://127.0.0.1:{port}");
        let m = Moto {
            process,
            port,
            direct: endpoint.clone(),
            endpoint,
            proxy: None,
            recording,
            _dir: dir,
        };
        let t = Instant::now();
        while reqwest::blocking::get(format!("{}/moto-api/", m.direct)).is_err() {
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "moto_server did not answer"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        m
    }

    /// Forgets the requests recorded so far.
    pub fn reset_recording(&self) {
        reqwest::blocking::Client::new()
            .post(format!("{}/moto-api/recorder/reset-recording", self.direct))
            .send()
            .unwrap();
    }

    /// The operations that changed something since the last reset.
    pub fn writes(&self) -> Vec<String> {
        self.recorded()
            .into_iter()
            .filter(|(_, m)| *m)
            .map(|(op, _)| op)
            .collect()
    }

    /// The operations moto received since the last reset: (name, mutating).
    pub fn recorded(&self) -> Vec<(String, bool)> {
        let text = std::fs::read_to_string(&self.recording).unwrap_or_default();
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let e: serde_json::Value = serde_json::from_str(l).unwrap();
                let method = e["method"].as_str().unwrap_or_default().to_string();
                let url = e["url"].as_str().unwrap_or_default().to_string();
                let target = e["headers"]
                    .as_object()
                    .and_then(|h| {
                        h.iter()
                            .find(|(k, _)| k.eq_ignore_ascii_case("x-amz-target"))
                    })
                    .and_then(|(_, v)| v.as_str())
                    .map(String::from);
                if let Some(t) = target {
                    let op = t.rsplit('.').next().unwrap_or_default().to_string();
                    let m = deployer::aws::is_mutating(&op);
                    return (op, m);
                }
                let body = e["body"].as_str().unwrap_or_default();
                let body = if e["body_encoded"].as_bool() == Some(true) {
                    String::from_utf8_lossy(
                        &base64::engine::general_purpose::STANDARD
                            .decode(body)
                            .unwrap_or_default(),
                    )
                    .to_string()
                } else {
                    body.to_string()
                };
                if let Some(action) = body.split('&').find_map(|kv| kv.strip_prefix("Action=")) {
                    return (action.to_string(), deployer::aws::is_mutating(action));
                }
                // REST (Lambda, API Gateway): GET reads, everything else writes.
                (
                    format!("{method} {url}"),
                    method != "GET" && method != "HEAD",
                )
            })
            .collect()
    }
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_deployer")
}

/// The real handler, built once with cargo-lambda (`deployer package`), or
/// the zip scripts/test built before the tests (DEPLOYER_TEST_HANDLER_ZIP):
/// each test runs in a process of its own there.
pub fn handler_zip() -> PathBuf {
    static ZIP: OnceLock<PathBuf> = OnceLock::new();
    ZIP.get_or_init(|| {
        if let Some(zip) = std::env::var_os("DEPLOYER_TEST_HANDLER_ZIP") {
            return PathBuf::from(zip);
        }
        let out = Command::new(bin())
            .args(["package", "--json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "deployer package failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        PathBuf::from(v["path"].as_str().unwrap())
    })
    .clone()
}

/// One stack in one moto: its own state dir and name prefix.
pub struct Stack<'a> {
    pub moto: &'a Moto,
    pub dir: tempfile::TempDir,
    pub name: String,
    pub prefix: String,
    pub extra_config: String,
    /// The program binary: `deployer` (the example) or a user's own.
    pub exe: PathBuf,
    /// More environment for every command.
    pub env: Vec<(String, String)>,
}

impl<'a> Stack<'a> {
    pub fn new(moto: &'a Moto, name: &str) -> Stack<'a> {
        Stack {
            moto,
            dir: tempfile::tempdir().unwrap(),
            name: name.into(),
            prefix: "cognito-example".into(),
            extra_config: String::new(),
            exe: PathBuf::from(bin()),
            env: vec![],
        }
    }

    pub fn with_prefix(mut self, p: &str) -> Self {
        self.prefix = p.into();
        self
    }

    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    pub fn state_file(&self) -> PathBuf {
        self.state_dir().join(format!("{}.json", self.name))
    }

    pub fn config_path(&self) -> PathBuf {
        let p = self.dir.path().join("deployer.toml");
        std::fs::write(
            &p,
            format!("name_prefix = \"{}\"\n{}", self.prefix, self.extra_config),
        )
        .unwrap();
        p
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = self.cmd_to(&self.moto.endpoint, args);
        c.env("DEPLOYER_HANDLER_ZIP", handler_zip())
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        c
    }

    /// The program for this stack, its calls to `endpoint`, without the
    /// handler zip (a program with no function: nothing is built) nor
    /// `env`.
    pub fn cmd_to(&self, endpoint: &str, args: &[&str]) -> Command {
        let mut c = Command::new(&self.exe);
        c.args(["--stack", &self.name])
            .arg("--state-dir")
            .arg(self.state_dir())
            .arg("--config")
            .arg(self.config_path())
            .args(args)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .env("AWS_REGION", "eu-west-1")
            .env("AWS_ENDPOINT_URL", endpoint)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// Runs and asserts success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "deployer {args:?} failed ({}):\nstdout: {}\nstderr: {}",
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).to_string()
    }

    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut a = args.to_vec();
        a.push("--json");
        let out = self.ok(&a);
        serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
    }

    pub fn state(&self) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(self.state_file()).unwrap()).unwrap()
    }

    pub fn id(&self, key: &str) -> String {
        self.state()["resources"][key]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id for {key} in state"))
            .to_string()
    }
}

pub struct Sdk {
    pub cognito: aws_sdk_cognitoidentityprovider::Client,
    pub apigw: aws_sdk_apigatewayv2::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub iam: aws_sdk_iam::Client,
}

/// Read-backs the tests repeat.
impl Sdk {
    pub async fn client(
        &self,
        pool: impl AsRef<str>,
        id: impl AsRef<str>,
    ) -> aws_sdk_cognitoidentityprovider::types::UserPoolClientType {
        self.cognito
            .describe_user_pool_client()
            .user_pool_id(pool.as_ref())
            .client_id(id.as_ref())
            .send()
            .await
            .unwrap()
            .user_pool_client
            .unwrap()
    }

    pub async fn routes(&self, api: impl AsRef<str>) -> Vec<aws_sdk_apigatewayv2::types::Route> {
        self.apigw
            .get_routes()
            .api_id(api.as_ref())
            .send()
            .await
            .unwrap()
            .items
            .unwrap()
    }

    /// The function's resource policy document.
    pub async fn policy(&self, function: impl AsRef<str>) -> String {
        self.lambda
            .get_policy()
            .function_name(function.as_ref())
            .send()
            .await
            .unwrap()
            .policy
            .unwrap()
    }

    /// A user pool as Cognito describes it.
    pub async fn pool(
        &self,
        id: impl AsRef<str>,
    ) -> aws_sdk_cognitoidentityprovider::types::UserPoolType {
        self.cognito
            .describe_user_pool()
            .user_pool_id(id.as_ref())
            .send()
            .await
            .unwrap()
            .user_pool
            .unwrap()
    }

    /// The app clients of a pool (up to 60: the example has two).
    pub async fn clients_of(
        &self,
        pool: impl AsRef<str>,
    ) -> Vec<aws_sdk_cognitoidentityprovider::types::UserPoolClientDescription> {
        self.cognito
            .list_user_pool_clients()
            .user_pool_id(pool.as_ref())
            .max_results(60)
            .send()
            .await
            .unwrap()
            .user_pool_clients
            .unwrap_or_default()
    }

    /// IDs of the user pools with this name.
    pub async fn pools_named(&self, name: &str) -> Vec<String> {
        let pools = self
            .cognito
            .list_user_pools()
            .max_results(60)
            .send()
            .await
            .unwrap()
            .user_pools
            .unwrap();
        pools
            .into_iter()
            .filter(|p| p.name.as_deref() == Some(name))
            .filter_map(|p| p.id)
            .collect()
    }

    /// The function's configuration as Lambda reports it.
    pub async fn function(&self, name: &str) -> aws_sdk_lambda::types::FunctionConfiguration {
        self.lambda
            .get_function()
            .function_name(name)
            .send()
            .await
            .unwrap()
            .configuration
            .unwrap()
    }

    /// The function's environment variables as Lambda reports them.
    pub async fn environment(&self, name: &str) -> std::collections::HashMap<String, String> {
        let c = self.function(name).await;
        c.environment.and_then(|e| e.variables).unwrap_or_default()
    }

    /// True if Lambda knows a function of this name.
    pub async fn function_exists(&self, name: &str) -> bool {
        self.lambda
            .get_function()
            .function_name(name)
            .send()
            .await
            .is_ok()
    }

    /// IDs of the HTTP APIs with this name.
    pub async fn apis_named(&self, name: &str) -> Vec<String> {
        let apis = self.apigw.get_apis().send().await.unwrap().items.unwrap();
        apis.into_iter()
            .filter(|a| a.name.as_deref() == Some(name))
            .filter_map(|a| a.api_id)
            .collect()
    }
}

/// The SDK configuration of the read-backs: moto's endpoint, test keys.
pub async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    let creds = aws_credential_types::Credentials::new("testing", "testing", None, None, "test");
    deployer::aws::defaults()
        .region(aws_config::Region::new("eu-west-1"))
        .endpoint_url(endpoint)
        .credentials_provider(creds)
        .load()
        .await
}

pub async fn sdk(endpoint: &str) -> Sdk {
    let cfg = sdk_config(endpoint).await;
    Sdk {
        cognito: aws_sdk_cognitoidentityprovider::Client::new(&cfg),
        apigw: aws_sdk_apigatewayv2::Client::new(&cfg),
        lambda: aws_sdk_lambda::Client::new(&cfg),
        iam: aws_sdk_iam::Client::new(&cfg),
    }
}

/// The steps of an `up --json` report that changed something, each as
/// `"ACTION KEY"` (`"update function"`), in the report's order.
pub fn changes(out: &serde_json::Value) -> Vec<String> {
    out["report"]["steps"]
        .as_array()
        .unwrap_or_else(|| panic!("no report steps in {out}"))
        .iter()
        .filter(|s| s["action"] != "same")
        .map(|s| {
            format!(
                "{} {}",
                s["action"].as_str().unwrap(),
                s["key"].as_str().unwrap()
            )
        })
        .collect()
}

/// An S3 client for read-backs (path-style, as moto needs).
pub async fn s3(endpoint: &str) -> aws_sdk_s3::Client {
    let cfg = sdk_config(endpoint).await;
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&cfg)
            .force_path_style(true)
            .build(),
    )
}

pub async fn logs_client(endpoint: &str) -> aws_sdk_cloudwatchlogs::Client {
    aws_sdk_cloudwatchlogs::Client::new(&sdk_config(endpoint).await)
}

/// The log groups named `/aws/lambda/{prefix}` (zero or one).
pub async fn log_groups(
    endpoint: &str,
    prefix: &str,
) -> Vec<aws_sdk_cloudwatchlogs::types::LogGroup> {
    let name = format!("/aws/lambda/{prefix}");
    logs_client(endpoint)
        .await
        .describe_log_groups()
        .log_group_name_prefix(&name)
        .send()
        .await
        .unwrap()
        .log_groups
        .unwrap_or_default()
        .into_iter()
        .filter(|g| g.log_group_name.as_deref() == Some(name.as_str()))
        .collect()
}

/// The tags of the log group `/aws/lambda/{prefix}`, or None when it is gone.
pub async fn log_group_tags(
    endpoint: &str,
    prefix: &str,
) -> Option<std::collections::BTreeMap<String, String>> {
    let g = log_groups(endpoint, prefix).await.into_iter().next()?;
    let arn = g.arn.unwrap_or_default();
    let tags = logs_client(endpoint)
        .await
        .list_tags_for_resource()
        .resource_arn(arn.trim_end_matches(":*"))
        .send()
        .await
        .unwrap()
        .tags
        .unwrap_or_default();
    Some(tags.into_iter().collect())
}

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

pub fn project_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A copy of the handler crate in its own workspace (what a user edits),
/// sharing the project's handler build directory for its dependencies.
/// `c` builds the functions' crates in `copy` (a `handler_copy`), sharing
/// the dependencies the other dev-profile builds compiled in
/// target/lambda-build; no prebuilt handler zip.
pub fn builds_in<'c>(c: &'c mut Command, copy: &tempfile::TempDir) -> &'c mut Command {
    c.env_remove("DEPLOYER_HANDLER_ZIP")
        .env("DEPLOYER_PROJECT_DIR", copy.path())
        .env(
            "DEPLOYER_LAMBDA_TARGET_DIR",
            project_dir().join("target/lambda-build"),
        )
}

pub fn handler_copy() -> tempfile::TempDir {
    let root = project_dir();
    let dir = tempfile::tempdir().unwrap();
    let ws = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let ws = ws.replace(
        "members = [\".\", \"handler\", \"functions/echo\", \"functions/gate\", \"functions/claims\"]",
        "members = [\"handler\", \"functions/echo\", \"functions/gate\", \"functions/claims\"]",
    );
    let (a, b) = (
        ws.find("[package]").unwrap(),
        ws.find("[profile.release]").unwrap(),
    );
    let mut ws = format!("{}{}", &ws[..a], &ws[b..]);
    ws.truncate(ws.find("[[bench]]").unwrap());
    std::fs::write(dir.path().join("Cargo.toml"), ws).unwrap();
    std::fs::copy(root.join("Cargo.lock"), dir.path().join("Cargo.lock")).unwrap();
    let h = dir.path().join("handler");
    std::fs::create_dir_all(h.join("src")).unwrap();
    let manifest = std::fs::read_to_string(root.join("handler/Cargo.toml")).unwrap();
    let manifest = manifest[..manifest.find("[dev-dependencies]").unwrap()]
        .replace("[[bench]]\nname = \"validate\"\nharness = false\n", "");
    std::fs::write(h.join("Cargo.toml"), manifest).unwrap();
    for f in std::fs::read_dir(root.join("handler/src")).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, h.join("src").join(f.file_name().unwrap())).unwrap();
    }
    // The other functions' crates of the multi-function example.
    for krate in ["functions/echo", "functions/gate", "functions/claims"] {
        let to = dir.path().join(krate);
        std::fs::create_dir_all(to.join("src")).unwrap();
        for f in ["Cargo.toml", "src/main.rs"] {
            std::fs::copy(root.join(krate).join(f), to.join(f)).unwrap();
        }
    }
    // The checkout's tool venv (moto, cargo-lambda), not a new install.
    std::os::unix::fs::symlink(deployer::tools::tools_dir(), dir.path().join(".tools")).unwrap();
    dir
}

/// A JWT's claims (its payload, not verified: the tests read what was issued).
#[allow(dead_code)]
pub fn jwt_claims(token: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).expect("a JWT has a payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

/// An example's binary (`cargo test` builds examples; a filtered run may
/// not have, so build it then).
#[allow(dead_code)]
pub fn example(name: &str) -> PathBuf {
    let exe = PathBuf::from(bin())
        .parent()
        .unwrap()
        .join("examples")
        .join(name);
    if !exe.is_file() {
        let st = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--example", name])
            .current_dir(project_dir())
            .status()
            .unwrap();
        assert!(st.success(), "cargo build --example {name} failed");
    }
    exe
}

/// A bucket in eu-west-1 made through `endpoint`, versioned if asked.
pub fn make_bucket(endpoint: &str, bucket: &str, versioned: bool) {
    rt().block_on(async {
        let c = s3(endpoint).await;
        c.create_bucket()
            .bucket(bucket)
            .create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        if versioned {
            c.put_bucket_versioning()
                .bucket(bucket)
                .versioning_configuration(
                    aws_sdk_s3::types::VersioningConfiguration::builder()
                        .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                        .build(),
                )
                .send()
                .await
                .unwrap();
        }
    });
}

/// The object's bytes, read from moto itself, or None.
pub fn object(moto: &Moto, bucket: &str, key: &str) -> Option<Vec<u8>> {
    rt().block_on(async {
        let c = s3(&moto.direct).await;
        match c.get_object().bucket(bucket).key(key).send().await {
            Ok(o) => Some(o.body.collect().await.unwrap().into_bytes().to_vec()),
            Err(_) => None,
        }
    })
}

/// The JSON object at `key`, read from moto itself.
pub fn state_of(moto: &Moto, bucket: &str, key: &str) -> serde_json::Value {
    serde_json::from_slice(&object(moto, bucket, key).expect("the object")).unwrap()
}
