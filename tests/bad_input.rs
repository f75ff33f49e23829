//! Bad input gets a clear error that says what to do, and nothing is lost.

use crate::common;
use common::*;

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn pool_exists(moto: &Moto, id: &str) -> bool {
    rt().block_on(async {
        sdk(&moto.direct)
            .await
            .cognito
            .describe_user_pool()
            .user_pool_id(id)
            .send()
            .await
            .is_ok()
    })
}

#[test]
fn corrupt_state_is_refused_and_nothing_is_deleted() {
    let moto = Moto::start();
    let st = Stack::new(&moto, "corrupt");
    st.ok(&["up"]);
    let pool = st.id("user_pool");
    st.ok(&["up"]); // leaves a good backup: the state of an earlier write
    std::fs::write(
        st.state_file(),
        "{\"version\": 1,\n \"stack\": \"corrupt\",\n \"resources\": {oops",
    )
    .unwrap();
    for args in [&["up"][..], &["down", "--yes"][..], &["plan"][..]] {
        let o = st.run(args);
        assert!(!o.status.success(), "{args:?} accepted a corrupt state");
        let e = stderr(&o);
        assert!(e.contains("not valid JSON") && e.contains("line 3"), "{e}");
        assert!(
            e.contains("corrupt.json.bak"),
            "the error names the backup: {e}"
        );
    }
    assert!(pool_exists(&moto, &pool), "nothing was deleted");
    // The backup is good: restoring it brings the stack back under control.
    // It is the state before the last write, which may be one made during
    // a run (a resource recorded as being created, whose outputs the next
    // run reads back): `up` then creates, replaces and deletes nothing.
    std::fs::copy(st.state_dir().join("corrupt.json.bak"), st.state_file()).unwrap();
    let p = st.ok(&["plan"]);
    assert!(
        p.contains(" 0 to create, ") || p.contains("No changes"),
        "{p}"
    );
    assert!(
        p.contains(" 0 to replace, 0 to delete") || p.contains("No changes"),
        "{p}"
    );
    st.ok(&["up"]);
    assert_eq!(st.id("user_pool"), pool);
    let p = st.ok(&["plan"]);
    assert!(p.contains("No changes"), "{p}");
}

#[test]
fn newer_schema_is_refused() {
    let moto = Moto::start();
    let st = Stack::new(&moto, "newer");
    std::fs::create_dir_all(st.state_dir()).unwrap();
    std::fs::write(
        st.state_file(),
        r#"{"version": 99, "stack": "newer", "resources": {}}"#,
    )
    .unwrap();
    moto.reset_recording();
    let o = st.run(&["up"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("schema version 99") && stderr(&o).contains("upgrade deployer"),
        "{}",
        stderr(&o)
    );
    assert!(
        moto.recorded().iter().all(|(_, m)| !m),
        "nothing may change"
    );
}

#[test]
fn invalid_name_prefix_is_refused_before_any_call() {
    let moto = Moto::start();
    moto.reset_recording();
    for (prefix, needle) in [
        (&"p".repeat(60)[..], "60 characters"),
        ("bad.prefix", "'.'"),
        ("has space", "' '"),
    ] {
        let st = Stack::new(&moto, "badprefix").with_prefix(prefix);
        let o = st.run(&["up"]);
        assert!(!o.status.success(), "{prefix} accepted");
        assert!(
            stderr(&o).contains(needle) && stderr(&o).contains("name_prefix"),
            "{}",
            stderr(&o)
        );
    }
    assert!(
        moto.recorded().is_empty(),
        "config errors must stop before any AWS call"
    );
}

/// `--stack` names a file and an S3 key: `../x`, `a/b` and an empty name
/// are refused before anything is read or written, locally and in S3.
#[test]
fn unsafe_stack_names_are_refused_before_anything_is_written() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let state_dir = dir.path().join("state");
    let run = |args: &[&str], env_stack: Option<&str>| {
        let mut c = std::process::Command::new(bin());
        c.arg("--state-dir")
            .arg(&state_dir)
            .args(args)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "eu-west-1")
            .env("AWS_ENDPOINT_URL", &moto.endpoint)
            .env("DEPLOYER_HANDLER_ZIP", handler_zip())
            .env_remove("DEPLOYER_STACK")
            .stdin(std::process::Stdio::null());
        if let Some(s) = env_stack {
            c.env("DEPLOYER_STACK", s);
        }
        c.output().unwrap()
    };
    moto.reset_recording();
    for name in ["../x", "a/b", "", "..", "a b"] {
        for backend in [&[][..], &["--backend", "s3://some-bucket/deployer"]] {
            for cmd in ["up", "down --yes", "plan", "state show"] {
                let mut args: Vec<&str> = vec!["--stack", name];
                args.extend_from_slice(backend);
                args.extend(cmd.split(' '));
                let o = run(&args, None);
                assert_eq!(o.status.code(), Some(2), "{args:?} accepted");
                let e = stderr(&o);
                assert!(
                    e.contains("stack name") && e.contains("letters, digits"),
                    "{args:?}: {e}"
                );
            }
        }
        // The same through DEPLOYER_STACK (set but empty is unset for clap:
        // the default stack).
        if name.is_empty() {
            continue;
        }
        let o = run(&["up"], Some(name));
        assert_eq!(o.status.code(), Some(2), "DEPLOYER_STACK={name:?} accepted");
    }
    assert!(!state_dir.exists(), "a state directory was made");
    assert!(
        !dir.path().join("x.json").exists(),
        "a state was written outside the state directory"
    );
    assert!(moto.recorded().is_empty(), "an AWS call was made");
}

#[test]
fn concurrent_run_names_the_lock_holder() {
    let moto = Moto::start();
    let st = Stack::new(&moto, "locked");
    let mut holder = deployer::state::Store::new(&st.state_dir(), "locked");
    holder.lock("locked").unwrap();
    let o = st.run(&["up"]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains(&format!("pid {}", std::process::id()))
            && e.contains("host")
            && e.contains("since"),
        "{e}"
    );
    drop(holder);
    st.ok(&["up"]);
}

#[test]
fn missing_credentials_say_what_to_set() {
    let moto = Moto::start();
    let st = Stack::new(&moto, "nocreds");
    let home = tempfile::tempdir().unwrap();
    let o = st
        .cmd(&["up"])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("HOME", home.path())
        .env("AWS_CONFIG_FILE", home.path().join("nope"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.path().join("nope"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("no AWS credentials")
            && e.contains("AWS_ACCESS_KEY_ID")
            && e.contains("AWS_PROFILE"),
        "{e}"
    );
}

#[test]
fn bad_config_file_says_what_is_wrong() {
    let moto = Moto::start();
    let mut st = Stack::new(&moto, "badcfg");
    st.extra_config =
        "[[users]]\nname = \"bob\"\npassword_env = \"DEPLOYER_TEST_UNSET_PASSWORD\"\n".into();
    let o = st.run(&["up"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("DEPLOYER_TEST_UNSET_PASSWORD"),
        "{}",
        stderr(&o)
    );
}

/// `outputs --show-secrets` on a `deployer dev` stack needs no AWS
/// credentials, and says so plainly when the local stack is not running.
#[test]
fn secrets_of_a_local_stack_that_is_not_running() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port(); // nothing listens there
    let state = serde_json::json!({
        "version": 1,
        "stack": "dev",
        "region": "eu-west-1",
        "account": "123456789012",
        "name_prefix": "cognito-example",
        "resources": {
            "user_pool": {"id": "eu-west-1_x", "outputs": {"id": "eu-west-1_x"}},
            "client/example": {"id": "c1", "outputs": {"id": "c1", "parent_id": "eu-west-1_x"}}
        },
        "local": {"idp": "http://127.0.0.1:1", "api": "http://127.0.0.1:2", "endpoint": format!("http://127.0.0.1:{port}")}
    });
    std::fs::write(dir.path().join("dev.json"), state.to_string()).unwrap();
    let o = std::process::Command::new(bin())
        .arg("--state-dir")
        .arg(dir.path())
        .args(["--stack", "dev", "outputs", "--show-secrets"])
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("is not running") && e.contains("deployer dev"),
        "{e}"
    );
    assert!(
        !e.contains("credentials"),
        "no credential is asked for: {e}"
    );
}

/// An endpoint that accepts connections and never answers: with the
/// default timeouts the run fails within 90 s (two attempts of the stall
/// timeout, 20 s, about 40 s), naming the call and the flag that sets the
/// timeout, instead of hanging (it took more than 300 s with one
/// attempt timeout of 60 s, ten attempts and an operation timeout of
/// 300 s). `plan` and `up` run at once.
#[test]
fn a_stalled_endpoint_fails_the_call_by_name_instead_of_hanging() {
    let endpoint = Loopback::start(Behaviour::Stall);
    let dir = tempfile::tempdir().unwrap();
    let t = std::time::Instant::now();
    let runs: Vec<_> = [&["plan"][..], &["up"][..]]
        .into_iter()
        .map(|args| {
            let log = dir.path().join(format!("{}.stderr", args[0]));
            let mut c = std::process::Command::new(bin());
            c.args(args)
                .current_dir(dir.path())
                .env("AWS_ACCESS_KEY_ID", "test")
                .env("AWS_SECRET_ACCESS_KEY", "test")
                .env("AWS_REGION", "us-east-1")
                .env("AWS_ENDPOINT_URL", &endpoint.url)
                .env("AWS_CONFIG_FILE", "/nonexistent")
                .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
                .env("AWS_EC2_METADATA_DISABLED", "true")
                .env("DEPLOYER_ALLOW_DEMO_PASSWORD", "true")
                .env("DEPLOYER_HANDLER_ZIP", handler_zip())
                // The defaults, whatever the caller's environment says.
                .env_remove("DEPLOYER_STALL_TIMEOUT")
                .env_remove("DEPLOYER_ATTEMPT_TIMEOUT")
                .env_remove("DEPLOYER_OPERATION_TIMEOUT")
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::fs::File::create(&log).unwrap());
            (args[0], c.spawn().unwrap(), log)
        })
        .collect();
    for (cmd, mut child, log) in runs {
        // Bounded: a run that hangs is killed at 120 s and the test fails.
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break Some(s);
            }
            if t.elapsed() > std::time::Duration::from_secs(120) {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        };
        let took = t.elapsed();
        let e = std::fs::read_to_string(&log).unwrap();
        eprintln!("{cmd} failed after {took:?}: {e}");
        let status = status.unwrap_or_else(|| panic!("{cmd} still ran after 120 s: {e}"));
        assert!(!status.success(), "{cmd}: {e}");
        assert!(
            took < std::time::Duration::from_secs(90),
            "{cmd} took {took:?}: {e}"
        );
        assert!(
            e.contains("GetCallerIdentity"),
            "{cmd}: the call is named: {e}"
        );
        assert!(
            e.contains("timed out") && e.contains("--stall-timeout"),
            "{cmd}: the timeout and its flag are named: {e}"
        );
        assert!(!e.contains("no AWS credentials"), "{cmd}: {e}");
    }
}

/// A slow but live upload of a zip (UpdateFunctionCode, 16 MB of JSON,
/// read by the endpoint at 2.5 MB/s: about 7 s) is not cut: not by the
/// stall timeout (2 s: the endpoint keeps taking bytes), nor by the
/// attempt and operation timeouts (3 s and 4 s: a zip upload's are at
/// least an hour).
#[test]
fn a_slow_but_live_upload_is_not_cut() {
    let endpoint = Loopback::start(Behaviour::ReadSlowly {
        bytes_per_sec: 2_500_000,
    });
    let (r, took) = update_function_code(&endpoint.url, 12 << 20);
    eprintln!("slow upload: {took:?}: {r:?}");
    assert!(r.is_ok(), "{r:?}");
    assert!(
        took > std::time::Duration::from_secs(5),
        "the upload was slow: {took:?}"
    );
    assert_eq!(endpoint.connections(), 1, "one attempt");
}

/// An endpoint that stops taking an upload midway (it read 1 MB, then
/// nothing) fails it after the stall timeout (2 s), retried once (two
/// attempts, not the retry policy's ten), naming the stall and its flag.
#[test]
fn an_upload_the_endpoint_stops_taking_fails_after_the_stall_timeout() {
    let endpoint = Loopback::start(Behaviour::StopReadingAfter { bytes: 1 << 20 });
    let (r, took) = update_function_code(&endpoint.url, 12 << 20);
    let e = deployer::error::Error::aws("update function f", r.unwrap_err()).to_string();
    eprintln!("stalled upload failed after {took:?}: {e}");
    assert!(e.contains("took none of the request"), "{e}");
    assert!(e.contains("--stall-timeout"), "{e}");
    assert!(
        took >= std::time::Duration::from_secs(4) && took < std::time::Duration::from_secs(20),
        "two attempts of 2 s: {took:?}"
    );
    assert_eq!(endpoint.connections(), 2, "one retry");
}

/// UpdateFunctionCode of a zip of `zip_len` bytes through deployer's SDK
/// configuration (stall timeout 2 s, attempt 3 s, operation 4 s) and
/// clients, against `endpoint`; and how long it took.
fn update_function_code(
    endpoint: &str,
    zip_len: usize,
) -> (
    Result<
        aws_sdk_lambda::operation::update_function_code::UpdateFunctionCodeOutput,
        aws_sdk_lambda::error::SdkError<
            aws_sdk_lambda::operation::update_function_code::UpdateFunctionCodeError,
        >,
    >,
    std::time::Duration,
) {
    rt().block_on(async {
        let target = deployer::aws::Target {
            region: Some("us-east-1".into()),
            profile: None,
            endpoint_url: Some(endpoint.into()),
            timeouts: deployer::aws::Timeouts {
                stall: std::time::Duration::from_secs(2),
                attempt: std::time::Duration::from_secs(3),
                operation: std::time::Duration::from_secs(4),
            },
            emulator_credentials: true,
        };
        let cfg = deployer::aws::load_sdk_config(&target).await.unwrap();
        let lambda = deployer::aws::Clients::new(&cfg).lambda;
        let t = std::time::Instant::now();
        let r = lambda
            .update_function_code()
            .function_name("f")
            .zip_file(aws_sdk_lambda::primitives::Blob::new(vec![7u8; zip_len]))
            .send()
            .await;
        (r, t.elapsed())
    })
}

/// What a [`Loopback`] endpoint does with each connection.
#[derive(Clone, Copy, Debug)]
enum Behaviour {
    /// Reads nothing, answers nothing.
    Stall,
    /// Reads the request's body at this pace, then answers 200.
    ReadSlowly { bytes_per_sec: u64 },
    /// Reads this much of the request's body, then nothing more, and never
    /// answers.
    StopReadingAfter { bytes: u64 },
}

/// An HTTP endpoint on 127.0.0.1, a thread per connection. Every thread
/// stops by itself: when the endpoint is dropped, and after 150 s at most.
struct Loopback {
    url: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Loopback {
    fn start(behaviour: Behaviour) -> Loopback {
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(150);
        let (s, n) = (stop.clone(), connections.clone());
        let thread = std::thread::spawn(move || {
            let alive = move || !s.load(Ordering::SeqCst) && std::time::Instant::now() < deadline;
            let mut served = vec![];
            while alive() {
                match listener.accept() {
                    Ok((c, _)) => {
                        n.fetch_add(1, Ordering::SeqCst);
                        let alive = alive.clone();
                        served.push(std::thread::spawn(move || {
                            let _ = serve(c, behaviour, &alive);
                        }));
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(std::time::Duration::from_millis(10))
                    }
                    Err(_) => break,
                }
            }
            for t in served {
                let _ = t.join();
            }
        });
        Loopback {
            url,
            stop,
            connections,
            thread: Some(thread),
        }
    }

    fn connections(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for Loopback {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One connection of a [`Loopback`] endpoint, while `alive` says so.
fn serve(
    mut c: std::net::TcpStream,
    behaviour: Behaviour,
    alive: &dyn Fn() -> bool,
) -> std::io::Result<()> {
    use std::io::{Read, Write};
    let hold = |alive: &dyn Fn() -> bool| {
        while alive() {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    };
    if let Behaviour::Stall = behaviour {
        hold(alive);
        return Ok(());
    }
    c.set_nonblocking(false)?;
    c.set_read_timeout(Some(std::time::Duration::from_millis(100)))?;
    // Reads into `buf`, waiting while `alive`; 0 at the end.
    let read = |c: &mut std::net::TcpStream, buf: &mut [u8]| -> std::io::Result<usize> {
        loop {
            match c.read(buf) {
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) && alive() =>
                {
                    continue
                }
                r => return r,
            }
        }
    };
    // The head, and what came of the body with it.
    let mut head = vec![];
    let mut buf = vec![0u8; 16 * 1024];
    let end = loop {
        let n = read(&mut c, &mut buf)?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let text = String::from_utf8_lossy(&head[..end]).to_ascii_lowercase();
    let length: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut got = (head.len() - end) as u64;
    let start = std::time::Instant::now();
    let limit = match behaviour {
        Behaviour::StopReadingAfter { bytes } => bytes.min(length),
        _ => length,
    };
    while got < limit {
        let want = buf.len().min((limit - got) as usize);
        let n = read(&mut c, &mut buf[..want])?;
        if n == 0 {
            return Ok(());
        }
        got += n as u64;
        if let Behaviour::ReadSlowly { bytes_per_sec } = behaviour {
            let due = std::time::Duration::from_secs_f64(got as f64 / bytes_per_sec as f64);
            if let Some(wait) = due.checked_sub(start.elapsed()) {
                std::thread::sleep(wait);
            }
        }
    }
    if let Behaviour::StopReadingAfter { .. } = behaviour {
        hold(alive);
        return Ok(());
    }
    let body = br#"{"FunctionName":"f","LastUpdateStatus":"InProgress"}"#;
    write!(
        c,
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )?;
    c.write_all(body)?;
    c.flush()
}

/// Against AWS (no emulator endpoint), `up` refuses the seed's published
/// demo password before any AWS call, and says how to go on.
#[test]
fn up_on_aws_refuses_the_published_demo_password() {
    let dir = tempfile::tempdir().unwrap();
    let o = std::process::Command::new(bin())
        .args(["up"])
        .current_dir(dir.path())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("DEPLOYER_ALLOW_DEMO_PASSWORD")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("DEPLOYER_HANDLER_ZIP", handler_zip())
        .output()
        .unwrap();
    let e = stderr(&o);
    assert!(!o.status.success(), "{e}");
    assert!(
        e.contains("user alice would get the seed's published demo password"),
        "{e}"
    );
    assert!(
        e.contains("--allow-demo-password") && e.contains("password_env"),
        "{e}"
    );
    assert!(!dir.path().join("state").exists(), "nothing was written");
}

/// AWS GovCloud (US) needs FIPS endpoints and `auth-fips` hosted-UI hosts
/// that the outputs do not build: refused with the reason, before any
/// change.
#[test]
fn govcloud_is_refused_with_the_reason() {
    let moto = Moto::start_plain();
    let st = Stack::new(&moto, "gov");
    for cmd in [&["up"][..], &["plan"][..]] {
        let mut args = vec!["--region", "us-gov-west-1"];
        args.extend_from_slice(cmd);
        let o = st.run(&args);
        let e = stderr(&o);
        assert!(!o.status.success(), "{e}");
        assert!(e.contains("GovCloud") && e.contains("FIPS"), "{e}");
    }
    assert!(!st.state_file().exists(), "nothing was written");
}

/// Credentials of another account than the one the state's resources are in
/// change nothing: the identity is asked beside the reads (one round trip
/// fewer) and checked before the first change. The state says another
/// account; a drift `up` would restore stays, the pool `down` would delete
/// stays, and each command names both accounts.
#[test]
fn credentials_of_another_account_change_nothing() {
    let moto = Moto::start();
    let st = Stack::new(&moto, "elsewhere");
    st.ok(&["up"]);
    let pool = st.id("user_pool");
    let timeout = |set: Option<i32>| {
        rt().block_on(async {
            let s = sdk(&moto.direct).await;
            if let Some(t) = set {
                s.lambda
                    .update_function_configuration()
                    .function_name("cognito-example")
                    .timeout(t)
                    .send()
                    .await
                    .unwrap();
            }
            s.lambda
                .get_function_configuration()
                .function_name("cognito-example")
                .send()
                .await
                .unwrap()
                .timeout
        })
    };
    assert_eq!(timeout(Some(99)), Some(99), "drifted outside deployer");
    let mut state = st.state();
    let ours = state["account"].as_str().unwrap().to_string();
    state["account"] = "999999999999".into();
    std::fs::write(st.state_file(), state.to_string()).unwrap();
    for args in [&["up"][..], &["down", "--yes"][..]] {
        let o = st.run(args);
        assert!(
            !o.status.success(),
            "{args:?} ran with another account's credentials"
        );
        let e = stderr(&o);
        assert!(
            e.contains("belongs to AWS account 999999999999")
                && e.contains(&format!("these credentials are for account {ours}")),
            "{args:?}: {e}"
        );
    }
    assert_eq!(timeout(None), Some(99), "up changed nothing");
    assert!(pool_exists(&moto, &pool), "down deleted nothing");
}
