//! The state's safety under failure, against moto (behind awsim) and a
//! fault layer of this file's own: a failed state write stops the run, a
//! write in flight lands before the lock goes, a retried conditional write
//! that was applied is recognised as ours, an unreadable bucket versioning
//! stops nothing; `state rm` releases the resource, `state claim` refuses
//! another stack's ID, and fingerprints are keyed. None of these builds the
//! handler: the programs have no function (`examples/keep_data.rs`, or a
//! chain of log groups declared here).

use crate::common;
use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `deployer` (or a program's binary) for the stack `st`, calls to
/// `endpoint` (`Stack::cmd_to`: these programs have no function).
fn cmd(st: &Stack, endpoint: &str, args: &[&str]) -> Command {
    st.cmd_to(endpoint, args)
}

fn run(st: &Stack, endpoint: &str, args: &[&str]) -> std::process::Output {
    cmd(st, endpoint, args).output().unwrap()
}

fn ok(st: &Stack, endpoint: &str, args: &[&str]) -> std::process::Output {
    let o = run(st, endpoint, args);
    assert!(
        o.status.success(),
        "{args:?} failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn err_of(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// `examples/keep_data.rs` (a protected user pool and a retained log
/// group) as the stack `name`.
fn keep_data<'a>(moto: &'a Moto, name: &str, prefix: &str) -> Stack<'a> {
    let mut st = Stack::new(moto, name).with_prefix(prefix);
    st.exe = example("keep_data");
    st
}

// ---------------------------------------------------------------- faults

/// What the fault layer does to a request a rule matches.
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// Forwarded (S3 applies it), then answered 500 InternalError: the
    /// outcome AWS documents for a 5xx, which the SDK retries.
    AppliedThen500,
    /// Answered 500 without being forwarded.
    Refused500,
    /// Forwarded after this many milliseconds (a slow network).
    Hold(u64),
}

struct Rule {
    method: &'static str,
    /// The request's path (no query), e.g. `/bucket/stack.json`.
    path: String,
    fault: Fault,
    /// How many matching requests get the fault (the later ones pass).
    times: usize,
}

/// One request as the layer saw it: (method, path, event), in order.
type Log = Arc<Mutex<Vec<(String, String, &'static str)>>>;

/// A fault layer in front of an endpoint, for what awsim cannot do: its
/// 5xx never reach moto and its lost answers are never sent again by the
/// SDK, so neither makes the SDK send again a request that was applied.
struct Faults {
    endpoint: String,
    log: Log,
    injected: Arc<AtomicUsize>,
    /// Set once a `Hold` rule holds a request.
    holding: Arc<AtomicUsize>,
}

impl Faults {
    fn start(upstream: &str, rules: Vec<Rule>) -> Faults {
        let upstream = upstream
            .strip_prefix("http://")
            .expect("an http:// endpoint")
            .to_string();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let rules = Arc::new(Mutex::new(rules));
        let log: Log = Default::default();
        let injected = Arc::new(AtomicUsize::new(0));
        let holding = Arc::new(AtomicUsize::new(0));
        {
            let (log, injected, holding) = (log.clone(), injected.clone(), holding.clone());
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    let Ok(conn) = conn else { continue };
                    let (rules, log, injected, holding, upstream) = (
                        rules.clone(),
                        log.clone(),
                        injected.clone(),
                        holding.clone(),
                        upstream.clone(),
                    );
                    std::thread::spawn(move || {
                        let _ = serve(conn, &upstream, &rules, &log, &injected, &holding);
                    });
                }
            });
        }
        Faults {
            endpoint,
            log,
            injected,
            holding,
        }
    }

    fn events(&self) -> Vec<(String, String, &'static str)> {
        self.log.lock().unwrap().clone()
    }

    /// The index of the first event `what` of `method path`.
    fn first(&self, method: &str, path: &str, what: &str) -> Option<usize> {
        self.events()
            .iter()
            .position(|(m, p, e)| m == method && p == path && *e == what)
    }
}

/// One request from the client: its head (request line and headers, raw)
/// and body (raw, chunked or not). None at the end of the connection.
fn read_request(r: &mut BufReader<TcpStream>) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    };
    let mut body = vec![];
    if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            r.read_line(&mut size)?;
            body.extend_from_slice(size.as_bytes());
            let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            if n == 0 {
                // Trailers up to the empty line.
                loop {
                    let mut t = String::new();
                    r.read_line(&mut t)?;
                    body.extend_from_slice(t.as_bytes());
                    if t == "\r\n" || t.is_empty() {
                        break;
                    }
                }
                break;
            }
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk)?;
            body.extend_from_slice(&chunk);
        }
    } else if let Some(n) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body.resize(n, 0);
        r.read_exact(&mut body)?;
    }
    Ok(Some((head, body)))
}

/// An HTTP answer with its `Connection` header (if any) replaced by
/// `Connection: close`.
fn said_closed(answer: &[u8]) -> Vec<u8> {
    let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") else {
        return answer.to_vec();
    };
    let head = String::from_utf8_lossy(&answer[..end]);
    let mut out = String::new();
    for (i, line) in head.split("\r\n").enumerate() {
        if i > 0 && line.to_ascii_lowercase().starts_with("connection:") {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&answer[end + 4..]);
    bytes
}

fn serve(
    conn: TcpStream,
    upstream: &str,
    rules: &Mutex<Vec<Rule>>,
    log: &Log,
    injected: &AtomicUsize,
    holding: &AtomicUsize,
) -> std::io::Result<()> {
    let mut out = conn.try_clone()?;
    let mut r = BufReader::new(conn);
    // One request per connection: every answer closes it.
    if let Some((head, body)) = read_request(&mut r)? {
        let mut words = head.split_whitespace();
        let method = words.next().unwrap_or_default().to_string();
        let path = words
            .next()
            .unwrap_or_default()
            .split('?')
            .next()
            .unwrap_or_default()
            .to_string();
        let fault = {
            let mut rules = rules.lock().unwrap();
            rules
                .iter_mut()
                .find(|x| x.method == method && x.path == path && x.times > 0)
                .map(|x| {
                    x.times -= 1;
                    x.fault
                })
        };
        let note = |what: &'static str| {
            log.lock()
                .unwrap()
                .push((method.clone(), path.clone(), what))
        };
        let error500 = |out: &mut TcpStream| {
            let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>";
            let reply = format!(
                "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = out.write_all(reply.as_bytes());
            let _ = out.flush();
        };
        if let Some(Fault::Refused500) = fault {
            injected.fetch_add(1, Ordering::SeqCst);
            note("refused");
            error500(&mut out);
            return Ok(());
        }
        if let Some(Fault::Hold(ms)) = fault {
            injected.fetch_add(1, Ordering::SeqCst);
            note("held");
            holding.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(ms));
        }
        // Forwarded on a connection of its own, closed after the answer.
        let mut head_out = String::new();
        for (i, line) in head.split("\r\n").enumerate() {
            if line.is_empty() {
                continue;
            }
            if i > 0 && line.to_ascii_lowercase().starts_with("connection:") {
                continue;
            }
            head_out.push_str(line);
            head_out.push_str("\r\n");
        }
        head_out.push_str("Connection: close\r\n\r\n");
        note("forwarded");
        let mut up = TcpStream::connect(upstream)?;
        up.set_read_timeout(Some(Duration::from_secs(120)))?;
        up.write_all(head_out.as_bytes())?;
        up.write_all(&body)?;
        let mut answer = vec![];
        up.read_to_end(&mut answer)?;
        note("answered");
        if let Some(Fault::AppliedThen500) = fault {
            injected.fetch_add(1, Ordering::SeqCst);
            note("applied then 500");
            error500(&mut out);
            return Ok(());
        }
        // Said closed, so that the client does not send another request on
        // this connection. The client may be gone (a run stopped
        // meanwhile): the request was applied all the same.
        let answer = said_closed(&answer);
        let _ = out.write_all(&answer);
        let _ = out.flush();
    }
    Ok(())
}

// ----------------------------------------------------------------- tests

/// Item: an advisory read never stops a run. Plain moto 5.2.5 answers
/// GetBucketVersioning with a document the SDK cannot parse: the run says
/// so once and goes on as if versioning were off (a `.bak` copy).
#[test]
fn an_unreadable_bucket_versioning_warns_once_and_the_run_goes_on() {
    let moto = Moto::start_with(None);
    make_bucket(&moto.direct, "plain", true);
    let st = keep_data(&moto, "v", "plainv");
    let b = "s3://plain/p";
    let o = ok(&st, &moto.endpoint, &["--backend", b, "up"]);
    let e = err_of(&o);
    assert_eq!(
        e.matches("could not read the versioning of s3://plain")
            .count(),
        1,
        "{e}"
    );
    let v = state_of(&moto, "plain", "p/v.json");
    let pool = v["resources"]["pool"]["id"]
        .as_str()
        .expect("the pool's ID");
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        assert_eq!(s.pools_named("plainv-keep").await, vec![pool.to_string()]);
    });
    assert!(
        object(&moto, "plain", "p/v.lock").is_none(),
        "the lock stays"
    );
    ok(
        &st,
        &moto.endpoint,
        &["--backend", b, "down", "--yes", "--unprotect", "pool"],
    );
    assert!(object(&moto, "plain", "p/v.json").is_none());
}

/// Item 15: a conditional PUT (the lock's If-None-Match, the state's)
/// that S3 applied and answered 500 is sent again by the SDK and meets its
/// own object (412): read back, it is ours (our lock ID; the very bytes we
/// sent), and the run goes on.
#[test]
fn a_conditional_write_applied_then_answered_5xx_is_recognised_as_ours() {
    let moto = Moto::start_plain();
    make_bucket(&moto.direct, "own", true);
    let faults = Faults::start(
        &moto.endpoint,
        vec![
            Rule {
                method: "PUT",
                path: "/own/o.lock".into(),
                fault: Fault::AppliedThen500,
                times: 1,
            },
            Rule {
                method: "PUT",
                path: "/own/o.json".into(),
                fault: Fault::AppliedThen500,
                times: 1,
            },
        ],
    );
    let st = keep_data(&moto, "o", "own");
    let b = "s3://own";
    let o = run(&st, &faults.endpoint, &["--backend", b, "up"]);
    assert!(o.status.success(), "{}", err_of(&o));
    assert_eq!(
        faults.injected.load(Ordering::SeqCst),
        2,
        "{:?}",
        faults.events()
    );
    // Each was sent again and met its own first attempt.
    for path in ["/own/o.lock", "/own/o.json"] {
        let puts = faults
            .events()
            .iter()
            .filter(|(m, p, e)| m == "PUT" && p == path && *e == "answered")
            .count();
        assert!(
            puts >= 2,
            "{path} was not sent again: {:?}",
            faults.events()
        );
    }
    let v = state_of(&moto, "own", "o.json");
    let pool = v["resources"]["pool"]["id"]
        .as_str()
        .expect("the pool's ID");
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        assert_eq!(s.pools_named("own-keep").await, vec![pool.to_string()]);
    });
    assert!(object(&moto, "own", "o.lock").is_none(), "the lock stays");
}

/// Item 10: a state write that fails for a moment (every attempt the SDK
/// makes answered 500) is tried once more, and the run goes on.
#[test]
fn a_state_write_that_fails_for_a_moment_is_tried_once_more() {
    let moto = Moto::start_plain();
    make_bucket(&moto.direct, "again", true);
    let faults = Faults::start(
        &moto.endpoint,
        vec![Rule {
            method: "PUT",
            path: "/again/a.json".into(),
            fault: Fault::Refused500,
            // As many as the SDK's attempts (deployer::aws::retry_config).
            times: 10,
        }],
    );
    let st = keep_data(&moto, "a", "again");
    let o = run(&st, &faults.endpoint, &["--backend", "s3://again", "up"]);
    assert!(o.status.success(), "{}", err_of(&o));
    assert_eq!(faults.injected.load(Ordering::SeqCst), 10);
    let v = state_of(&moto, "again", "a.json");
    let pool = v["resources"]["pool"]["id"]
        .as_str()
        .expect("the pool's ID");
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        assert_eq!(s.pools_named("again-keep").await, vec![pool.to_string()]);
    });
}

/// A chain of log groups, each created after (and deleted before) the one
/// before it: `down` deletes them one at a time, each step's state write
/// in the background.
fn chain(prefix: &'static str) -> deployer::App {
    deployer::App::new(move |_cfg, s| {
        let mut before: Option<String> = None;
        for i in 0..CHAIN {
            let g = deployer::resources::logs::LogGroup::for_function(
                &format!("{prefix}-g{i}"),
                Some(1),
            );
            let after: Vec<&str> = before.iter().map(String::as_str).collect();
            let h = s.add_after(format!("g{i}"), g, &after);
            before = Some(h.key().to_string());
        }
        Ok(())
    })
}

const CHAIN: usize = 8;

/// True when the log group `/aws/lambda/{name}` exists (read from moto).
fn group_exists(moto: &Moto, name: &str) -> bool {
    rt().block_on(async { !log_groups(&moto.direct, name).await.is_empty() })
}

/// One in-process run of `args` with the chain program.
fn run_chain(
    moto: &Moto,
    dir: &Path,
    prefix: &'static str,
    args: &[&str],
) -> deployer::error::Result<()> {
    use clap::Parser;
    let dir = dir.to_str().unwrap();
    let mut all = vec![
        "deployer",
        "--stack",
        "chain",
        "--state-dir",
        dir,
        "--endpoint-url",
        &moto.endpoint,
        "--region",
        "eu-west-1",
    ];
    all.extend_from_slice(args);
    let mut cli = deployer::cli::Cli::parse_from(all);
    cli.global.emulator_credentials = true;
    cli.global.app = chain(prefix);
    rt().block_on(deployer::cli::run(cli))
}

/// Item 10: a background state write that fails (here a 412: someone
/// wrote the state after this run read it) stops the run before its next
/// change: `down` of a chain deletes the step under way and no more, says
/// what failed and what to do, and the other writer's state survives.
#[test]
fn a_failed_state_write_stops_the_run_before_its_next_change() {
    let dir = tempfile::tempdir().unwrap();
    let theirs = dir.path().join("theirs.json");
    // Realism at full scale: each change takes 40 to 120 ms, as long as
    // a state write; the chain is long enough that its first three links
    // cannot start before the failed write is known.
    let mut a = Awsim::chaos(7, 0.0, 0.0, 0.0);
    a.replace_after_get = Some(("/chain/chain.json".into(), theirs.clone()));
    let moto = Moto::start_with(Some(a));
    make_bucket(&moto.direct, "chain", true);
    let prefix = "chainf";
    run_chain(
        &moto,
        dir.path(),
        prefix,
        &["--backend", "s3://chain", "up"],
    )
    .expect("up");
    for i in 0..CHAIN {
        assert!(group_exists(&moto, &format!("{prefix}-g{i}")));
    }
    // Someone else's state replaces this one right after `down` reads it.
    let mut v = state_of(&moto, "chain", "chain.json");
    v["name_prefix"] = "someone-else".into();
    let foreign = serde_json::to_vec_pretty(&v).unwrap();
    std::fs::write(&theirs, &foreign).unwrap();
    let e = run_chain(
        &moto,
        dir.path(),
        prefix,
        &["--backend", "s3://chain", "down", "--yes"],
    )
    .expect_err("down went on over a failed state write")
    .to_string();
    assert_eq!(
        awsim_stats(&moto.endpoint).get("replaced_after_get"),
        Some(&1)
    );
    assert!(
        e.contains("could not be written")
            && e.contains("changed by someone else")
            && e.contains("started no change after that"),
        "{e}"
    );
    let left: Vec<usize> = (0..CHAIN)
        .filter(|i| group_exists(&moto, &format!("{prefix}-g{i}")))
        .collect();
    assert!(
        left.len() < CHAIN,
        "nothing was deleted: the write fails only after the first delete"
    );
    for i in 0..3 {
        assert!(
            left.contains(&i),
            "g{i} was deleted after the state write had failed (left: {left:?})"
        );
    }
    assert_eq!(
        object(&moto, "chain", "chain.json").unwrap(),
        foreign,
        "the other writer's state was overwritten"
    );
    assert!(
        object(&moto, "chain", "chain.lock").is_none(),
        "the lock stays"
    );
}

/// Item 14: Ctrl-C while a state write is on its way: the lock is released
/// only after that write landed (a write landing after the release would
/// meet the next holder's state).
#[test]
fn ctrl_c_releases_the_lock_only_after_the_write_in_flight() {
    let moto = Moto::start_plain();
    make_bucket(&moto.direct, "late", true);
    let faults = Faults::start(
        &moto.endpoint,
        vec![Rule {
            method: "PUT",
            path: "/late/h.json".into(),
            fault: Fault::Hold(2000),
            times: 1,
        }],
    );
    let st = keep_data(&moto, "h", "late");
    let child = cmd(&st, &faults.endpoint, &["--backend", "s3://late", "up"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while faults.holding.load(Ordering::SeqCst) == 0 {
        assert!(t.elapsed() < Duration::from_secs(60), "no state write");
        std::thread::sleep(Duration::from_millis(10));
    }
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(!o.status.success());
    assert!(err_of(&o).contains("interrupted"), "{}", err_of(&o));
    // The layer forwards a held request even when its client is gone: a
    // request on the wire lands.
    let t = Instant::now();
    while faults.first("PUT", "/late/h.json", "answered").is_none() {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "{:?}",
            faults.events()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let landed = faults.first("PUT", "/late/h.json", "answered").unwrap();
    let released = faults
        .first("DELETE", "/late/h.lock", "forwarded")
        .unwrap_or_else(|| panic!("the lock was not released: {:?}", faults.events()));
    assert!(
        landed < released,
        "the lock was released before the state write landed: {:?}",
        faults.events()
    );
    assert!(object(&moto, "late", "h.lock").is_none());
    let v = state_of(&moto, "late", "h.json");
    assert!(v["resources"]["pool"].is_object(), "{v}");
}

/// Item 16: `state rm` releases the resource in AWS (its deployer tags
/// removed), so that neither `up` nor `down` touches it again.
#[test]
fn state_rm_untags_so_that_the_stack_never_touches_it_again() {
    let moto = Moto::start_plain();
    let st = keep_data(&moto, "rm", "rmd");
    ok(&st, &moto.endpoint, &["up"]);
    let old = st.id("pool");
    let o = ok(&st, &moto.endpoint, &["state", "rm", "pool"]);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(st.state()["resources"].get("pool").is_none());
    // Through awsim: it keeps a pool's tags as Cognito does (moto does
    // not implement UntagResource).
    let tags = rt().block_on(async {
        let s = sdk(&moto.endpoint).await;
        s.pool(&old).await.user_pool_tags.unwrap_or_default()
    });
    assert!(
        !tags.contains_key("deployer:stack") && !tags.contains_key("deployer:stack-id"),
        "{tags:?}"
    );
    assert_eq!(tags.get("Project").map(String::as_str), Some("rmd"));
    // `up` makes a pool of its own and leaves the released one alone (no
    // adoption, no stray deletion).
    ok(&st, &moto.endpoint, &["up"]);
    let new = st.id("pool");
    assert_ne!(new, old);
    let mut pools = rt().block_on(async { sdk(&moto.direct).await.pools_named("rmd-keep").await });
    pools.sort();
    let mut want = vec![old.clone(), new.clone()];
    want.sort();
    assert_eq!(pools, want);
    // `down` deletes its own pool only.
    ok(
        &st,
        &moto.endpoint,
        &["down", "--yes", "--unprotect", "pool"],
    );
    let pools = rt().block_on(async { sdk(&moto.direct).await.pools_named("rmd-keep").await });
    assert_eq!(pools, vec![old]);
    assert!(out.contains("without its deployer:stack"), "{out}");
}

/// Item 12: `state claim` refuses the ID of another stack (its state in
/// the backend, or its name on the resources that carry the ID), naming
/// that stack, unless --force.
#[test]
fn state_claim_refuses_another_stacks_id() {
    let moto = Moto::start_plain();
    let a = keep_data(&moto, "a", "claimed");
    ok(&a, &moto.endpoint, &["up"]);
    let id = a.state()["stack_id"].as_str().unwrap().to_string();
    // Stack b in the same backend (a's state dir) and with a's names.
    let b = Stack {
        dir: tempfile::tempdir().unwrap(),
        ..keep_data(&moto, "b", "claimed")
    };
    let b_cmd = |args: &[&str]| {
        // Its backend is a's directory.
        let mut c = Command::new(&b.exe);
        c.args(["--stack", "b", "--state-dir"])
            .arg(a.state_dir())
            .arg("--config")
            .arg(b.config_path())
            .args(args)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env_remove("AWS_PROFILE")
            .env("AWS_REGION", "eu-west-1")
            .env("AWS_ENDPOINT_URL", &moto.endpoint)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdin(Stdio::null());
        c.output().unwrap()
    };
    let o = b_cmd(&["state", "claim", &id]);
    assert!(!o.status.success(), "b claimed a's live ID");
    let e = err_of(&o);
    assert!(e.contains("stack \"a\"") && e.contains("--force"), "{e}");
    let b_state = a.state_dir().join("b.json");
    assert!(
        !b_state.exists()
            || serde_json::from_slice::<serde_json::Value>(&std::fs::read(&b_state).unwrap())
                .unwrap()["stack_id"]
                != id.as_str(),
        "nothing may change"
    );
    // a's state is lost: its resources still carry its name.
    std::fs::remove_file(a.state_file()).unwrap();
    let o = b_cmd(&["state", "claim", &id]);
    assert!(!o.status.success(), "b claimed the ID of a's resources");
    let e = err_of(&o);
    assert!(
        e.contains("resources of stack \"a\"") && e.contains("pool (aws:cognito:UserPool"),
        "{e}"
    );
    // Their own stack takes it back.
    ok(&a, &moto.endpoint, &["state", "claim", &id]);
    assert_eq!(a.state()["stack_id"], id.as_str());
    // --force claims it all the same (said in the help): b's `down` then
    // deletes a's resources, which is what the refusal is about.
    std::fs::remove_file(a.state_file()).unwrap();
    let o = b_cmd(&["state", "claim", &id, "--force"]);
    assert!(o.status.success(), "{}", err_of(&o));
    let help = b_cmd(&["state", "claim", "--help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("--force"));
    let o = b_cmd(&["down", "--yes", "--unprotect", "pool"]);
    assert!(o.status.success(), "{}", err_of(&o));
    let pools = rt().block_on(async { sdk(&moto.direct).await.pools_named("claimed-keep").await });
    assert!(pools.is_empty(), "{pools:?}");
}

/// Item 13: the state's fingerprints are keyed (HMAC under a key kept
/// beside the state, never in it); an older state's unkeyed ones are
/// rewritten by the next run, even one that changes nothing.
#[test]
fn fingerprints_are_keyed_and_old_ones_rewritten() {
    let moto = Moto::start_plain();
    let st = keep_data(&moto, "fp", "fpk");
    ok(&st, &moto.endpoint, &["up"]);
    let key_file = st.state_dir().join("fp.key");
    let key = std::fs::read_to_string(&key_file).expect("the key beside the state");
    assert_eq!(key.trim().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let m = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(m & 0o777, 0o600);
    }
    let text = std::fs::read_to_string(st.state_file()).unwrap();
    assert!(!text.contains(key.trim()), "the key is in the state");
    let applied = |v: &serde_json::Value| -> Vec<String> {
        v["resources"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|e| {
                e["applied"]
                    .as_object()
                    .map(|a| {
                        a.values()
                            .map(|f| f.as_str().unwrap().to_string())
                            .collect()
                    })
                    .unwrap_or_else(Vec::new)
            })
            .collect()
    };
    let fps = applied(&st.state());
    assert!(!fps.is_empty());
    assert!(fps.iter().all(|f| f.starts_with("k1:")), "{fps:?}");
    // An older state: unkeyed fingerprints (16 hex digits), no key.
    let mut v = st.state();
    for e in v["resources"].as_object_mut().unwrap().values_mut() {
        if let Some(a) = e["applied"].as_object_mut() {
            for f in a.values_mut() {
                *f = "0123456789abcdef".into();
            }
        }
    }
    std::fs::write(st.state_file(), serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    std::fs::remove_file(&key_file).unwrap();
    let o = ok(&st, &moto.endpoint, &["up"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("2 unchanged"), "{out}");
    let fps = applied(&st.state());
    assert!(fps.iter().all(|f| f.starts_with("k1:")), "{fps:?}");
    assert!(key_file.exists());
    ok(
        &st,
        &moto.endpoint,
        &["down", "--yes", "--unprotect", "pool"],
    );
    assert!(!key_file.exists(), "the key outlived its stack");
}
