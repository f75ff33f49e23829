use super::*;
use serde_json::json;

fn host_with(script: &str) -> (LambdaHost, FunctionConfig, tempfile::TempDir) {
    let zip = crate::package::zip_bootstrap(script.as_bytes()).unwrap();
    let pkg = Arc::new(crate::package::from_zip(zip));
    let dir = tempfile::tempdir().unwrap();
    let cfg = FunctionConfig {
        name: "t".into(),
        arn: "arn:aws:lambda:eu-west-1:123456789012:function:t".into(),
        env: [("GREETING".to_string(), "hi".to_string())].into(),
        // Ample: a shell bootstrap's first request (sh and curl
        // starting) took over a second with the test suite's load
        // beside it. The timeout's own test sets one second.
        timeout: Duration::from_secs(10),
        memory_mb: 128,
        code_sha256: pkg.sha256_b64.clone(),
        region: "eu-west-1".into(),
        concurrency: 2,
    };
    let host = LambdaHost::new([pkg], dir.path().to_path_buf(), EMULATOR);
    (host, cfg, dir)
}

/// The emulator's endpoint the tests' host gives its functions.
const EMULATOR: &str = "http://127.0.0.1:4566";

/// A bootstrap speaking the Runtime API with curl: answers the event back
/// with the environment it saw; `crash` in the event makes it exit.
const ECHO: &str = r#"#!/bin/sh
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
while true; do
  hdrs=$(mktemp)
  event=$(curl -sS -D "$hdrs" "$api/invocation/next")
  id=$(grep -i '^lambda-runtime-aws-request-id:' "$hdrs" | cut -d' ' -f2 | tr -d '\r')
  case "$event" in *crash*) exit 3 ;; esac
  curl -sS -X POST -d "{\"statusCode\":200,\"body\":\"$GREETING $AWS_LAMBDA_FUNCTION_NAME $id\"}" "$api/invocation/$id/response" >/dev/null
done
"#;

/// A `bootstrap` planted where the host unpacks is not run: the host
/// unpacks the deployed zip itself.
#[tokio::test]
async fn a_planted_bootstrap_is_never_run() {
    let (host, cfg, d) = host_with(ECHO);
    let planted = host.unpack_dir(&cfg.code_sha256);
    std::fs::create_dir_all(&planted).unwrap();
    let marker = d.path().join("planted-ran");
    std::fs::write(
        planted.join("bootstrap"),
        format!("#!/bin/sh\ntouch {}\nexit 1\n", marker.display()),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            planted.join("bootstrap"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
    }
    let r = host.invoke(&cfg, json!({"n": 1})).await.unwrap();
    assert!(r["body"].as_str().unwrap().starts_with("hi t "), "{r}");
    assert!(!marker.exists(), "the planted binary ran");
    host.stop().await;
}

#[tokio::test]
async fn warm_crash_restart_and_timeout() {
    let (host, cfg, _d) = host_with(ECHO);
    let r = host.invoke(&cfg, json!({"n": 1})).await.unwrap();
    assert!(r["body"].as_str().unwrap().starts_with("hi t "), "{r}");
    host.invoke(&cfg, json!({"n": 2})).await.unwrap();
    assert_eq!(
        host.starts.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "kept warm"
    );
    // A crash fails the request; the next one starts a new process.
    let e = host.invoke(&cfg, json!({"crash": true})).await.unwrap_err();
    assert!(
        matches!(e, InvokeError::Failed(ref m) if m.contains("exited")),
        "{e:?}"
    );
    host.invoke(&cfg, json!({"n": 3})).await.unwrap();
    assert_eq!(host.starts.load(std::sync::atomic::Ordering::SeqCst), 2);
    // A changed configuration (a redeploy) starts a new process too.
    let mut cfg2 = cfg.clone();
    cfg2.env.insert("GREETING".into(), "hello".into());
    let r = host.invoke(&cfg2, json!({})).await.unwrap();
    assert!(r["body"].as_str().unwrap().starts_with("hello "));
    host.stop().await;
}

/// Answers after a second, so that invocations overlap.
const SLOW: &str = r#"#!/bin/sh
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
while true; do
  hdrs=$(mktemp)
  event=$(curl -sS -D "$hdrs" "$api/invocation/next")
  id=$(grep -i '^lambda-runtime-aws-request-id:' "$hdrs" | cut -d' ' -f2 | tr -d '\r')
  from=$(date +%s%N)
  sleep 1
  curl -sS -X POST -d "{\"pid\":$$,\"from\":$from,\"to\":$(date +%s%N)}" "$api/invocation/$id/response" >/dev/null
done
"#;

/// Up to the function's concurrency, requests run at once on their own
/// instances (cold starts); beyond it they are throttled; idle instances
/// are reused.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_get_instances_up_to_the_limit() {
    let (host, mut cfg, _d) = host_with(SLOW);
    cfg.timeout = Duration::from_secs(5);
    let host = Arc::new(host);
    let t = std::time::Instant::now();
    let calls: Vec<_> = (0..3)
        .map(|_| {
            let (h, c) = (host.clone(), cfg.clone());
            tokio::spawn(async move { h.invoke(&c, json!({})).await })
        })
        .collect();
    let mut ok = vec![];
    let mut ran = vec![];
    let mut throttled = 0;
    for c in calls {
        match c.await.unwrap() {
            Ok(v) => {
                ok.push(v["pid"].as_u64().unwrap());
                ran.push((v["from"].as_u64().unwrap(), v["to"].as_u64().unwrap()));
            }
            Err(InvokeError::Throttled) => throttled += 1,
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!((ok.len(), throttled), (2, 1), "concurrency 2");
    assert_ne!(ok[0], ok[1], "two instances");
    // Each one's second of work overlaps the other's (by the clock the
    // bootstraps read, not by how long the test took: a loaded machine
    // starts them late, not one after the other).
    let ((a0, a1), (b0, b1)) = (ran[0], ran[1]);
    assert!(
        a0 < b1 && b0 < a1,
        "they ran at the same time: {ran:?}, {:?} in all",
        t.elapsed()
    );
    assert_eq!(host.starts.load(std::sync::atomic::Ordering::SeqCst), 2);
    // Warm again: both are reused, no new cold start.
    let (a, b) = tokio::join!(host.invoke(&cfg, json!({})), host.invoke(&cfg, json!({})));
    let mut again = vec![
        a.unwrap()["pid"].as_u64().unwrap(),
        b.unwrap()["pid"].as_u64().unwrap(),
    ];
    again.sort();
    ok.sort();
    assert_eq!(again, ok, "the idle instances are reused");
    assert_eq!(host.starts.load(std::sync::atomic::Ordering::SeqCst), 2);
    host.stop().await;
}

/// The first file named `name` under `dir`.
fn walk_for(dir: &std::path::Path, name: &str) -> Option<std::path::PathBuf> {
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        let p = e.path();
        if p.is_dir() {
            if let Some(f) = walk_for(&p, name) {
                return Some(f);
            }
        } else if p.file_name().is_some_and(|n| n == name) {
            return Some(p);
        }
    }
    None
}

/// The pid a bootstrap wrote to `child.pid` (in its task root, under `dir`).
fn child_pid(dir: &std::path::Path) -> i32 {
    let pid_file = walk_for(dir, "child.pid").expect("the bootstrap wrote its child's pid");
    std::fs::read_to_string(pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Whether the process `pid` is gone (or a zombie waiting for init to
/// reap it) within `limit`.
async fn gone_within(pid: i32, limit: Duration) -> bool {
    let gone = |pid: i32| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| {
                s.rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z')
            })
            .unwrap_or(true)
    };
    let t = std::time::Instant::now();
    while !gone(pid) && t.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    gone(pid)
}

/// A bootstrap that starts a process of its own (`sleep`, its pid in
/// `child.pid`), then crashes on its first event, or (`answer`) answers
/// it and exits.
fn leaves_a_child(answer: bool) -> String {
    let end = match answer {
        true => {
            r#"curl -sS -X POST -d '{"ok":true}' "$api/invocation/$id/response" >/dev/null
exit 0"#
        }
        false => "exit 3",
    };
    format!(
        r#"#!/bin/sh
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
sleep 30 &
echo $! > "$LAMBDA_TASK_ROOT/child.pid"
hdrs=$(mktemp)
curl -sS -D "$hdrs" "$api/invocation/next" >/dev/null
id=$(grep -i '^lambda-runtime-aws-request-id:' "$hdrs" | cut -d' ' -f2 | tr -d '\r')
{end}
"#
    )
}

/// A bootstrap that crashes mid-request, or exits after answering,
/// takes what it started with it (its process group), as Lambda ends
/// the sandbox: at once, not at the next request or a timeout.
#[tokio::test]
async fn a_crashed_or_exited_bootstrap_leaves_no_process() {
    let (host, cfg, d) = host_with(&leaves_a_child(false));
    let e = host.invoke(&cfg, json!({})).await.unwrap_err();
    assert!(
        matches!(e, InvokeError::Failed(ref m) if m.contains("exited")),
        "{e:?}"
    );
    let pid = child_pid(d.path());
    assert!(
        gone_within(pid, Duration::from_secs(5)).await,
        "the crashed bootstrap's child {pid} outlived it"
    );
    host.stop().await;

    let (host, cfg, d) = host_with(&leaves_a_child(true));
    host.invoke(&cfg, json!({})).await.unwrap();
    let pid = child_pid(d.path());
    assert!(
        gone_within(pid, Duration::from_secs(5)).await,
        "the exited bootstrap's child {pid} outlived it"
    );
    // The next request gets a new instance, not the dead one.
    let _ = host.invoke(&cfg, json!({})).await.unwrap();
    assert_eq!(host.starts.load(std::sync::atomic::Ordering::SeqCst), 2);
    host.stop().await;
}

/// Answers with the environment it runs in.
const ENV: &str = r#"#!/bin/sh
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
hdrs=$(mktemp)
curl -sS -D "$hdrs" "$api/invocation/next" >/dev/null
id=$(grep -i '^lambda-runtime-aws-request-id:' "$hdrs" | cut -d' ' -f2 | tr -d '\r')
env > "$hdrs"
curl -sS -X POST --data-binary @"$hdrs" "$api/invocation/$id/response" >/dev/null
"#;

/// A function's AWS calls reach the local emulator and only it: its
/// endpoint, the region, dummy credentials as Lambda gives a function
/// (the emulator takes any), and nothing that points elsewhere, from
/// its configuration or from the host's own environment.
#[tokio::test]
async fn a_function_reaches_the_emulator_only() {
    let (host, mut cfg, _d) = host_with(ENV);
    for (k, v) in [
        ("AWS_PROFILE", "production"),
        ("AWS_DEFAULT_PROFILE", "production"),
        ("AWS_CONFIG_FILE", "/home/me/.aws/config"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/home/me/.aws/credentials"),
        (
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "http://169.254.170.2/creds",
        ),
        ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/creds"),
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "t"),
        ("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token"),
        ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/real"),
        ("AWS_ENDPOINT_URL", "https://lambda.eu-west-1.amazonaws.com"),
        ("AWS_ENDPOINT_URL_S3", "https://s3.amazonaws.com"),
        ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
        (
            "AWS_EC2_METADATA_SERVICE_ENDPOINT",
            "http://169.254.169.254",
        ),
        ("AWS_EC2_METADATA_DISABLED", "false"),
        ("AWS_USE_FIPS_ENDPOINT", "true"),
        ("AWS_ACCESS_KEY_ID", "AKIAREALREALREALREAL"),
        ("AWS_SECRET_ACCESS_KEY", "real-secret"),
        ("AWS_SECRET_KEY", "real-secret"),
        ("AWS_SESSION_TOKEN", "real-token"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_LAMBDA_FUNCTION_NAME", "someone-else"),
        ("HTTPS_PROXY", "http://proxy.example:3128"),
    ] {
        cfg.env.insert(k.into(), v.into());
    }
    let out = host.invoke(&cfg, json!({})).await.unwrap();
    let seen: BTreeMap<&str, &str> = out
        .as_str()
        .expect("the environment, as text")
        .lines()
        .filter_map(|l| l.split_once('='))
        .collect();
    let want: BTreeMap<&str, &str> = [
        ("AWS_ENDPOINT_URL", EMULATOR),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_DEFAULT_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", DUMMY_ACCESS_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", DUMMY_SECRET_ACCESS_KEY),
        ("AWS_SESSION_TOKEN", DUMMY_SESSION_TOKEN),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_LAMBDA_FUNCTION_NAME", "t"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/t"),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
        ("_HANDLER", "bootstrap"),
        ("GREETING", "hi"),
        ("HTTPS_PROXY", "http://proxy.example:3128"),
        ("NO_PROXY", "127.0.0.1"),
        ("no_proxy", "127.0.0.1"),
        ("TZ", ":UTC"),
    ]
    .into();
    for (k, v) in &want {
        assert_eq!(seen.get(k), Some(v), "{k} in {seen:#?}");
    }
    // Nothing else: the rest is what Lambda sets (and the shell's own).
    let known = [
        "PATH",
        "LANG",
        "PWD",
        "SHLVL",
        "_",
        "AWS_LAMBDA_RUNTIME_API",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "LAMBDA_TASK_ROOT",
    ];
    let extra: Vec<&&str> = seen
        .keys()
        .filter(|k| !want.contains_key(*k) && !known.contains(k))
        .collect();
    assert!(extra.is_empty(), "not expected: {extra:?} in {seen:#?}");
    host.stop().await;
}

#[tokio::test]
async fn timeout_is_enforced_and_code_must_match() {
    // The bootstrap starts a process of its own: the timeout ends both,
    // as Lambda ends the sandbox.
    let script = "#!/bin/sh\nsleep 30 &\necho $! > \"$LAMBDA_TASK_ROOT/child.pid\"\nwait\n";
    let (host, mut cfg, d) = host_with(script);
    cfg.timeout = Duration::from_secs(1);
    let t = std::time::Instant::now();
    assert!(matches!(
        host.invoke(&cfg, json!({})).await,
        Err(InvokeError::Timeout)
    ));
    assert!(t.elapsed() < Duration::from_secs(5));
    let pid = child_pid(d.path());
    assert!(
        gone_within(pid, Duration::from_secs(5)).await,
        "the bootstrap's child {pid} outlived the timeout"
    );
    let mut other = cfg.clone();
    other.code_sha256 = "something-else".into();
    assert!(
        matches!(host.invoke(&other, json!({})).await, Err(InvokeError::Config(m)) if m.contains("not the local build"))
    );
    host.stop().await;
}
