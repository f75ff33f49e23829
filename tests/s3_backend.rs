//! The S3 state backend against moto's S3 (conditional writes included):
//! up/no-op/down, the lock under two concurrent runs, a killed run's lock and
//! `unlock`, a foreign write between read and write, push/pull, bad inputs.

use crate::common;
use common::*;
use deployer::aws::{FAULT_ENV, FAULT_EXIT_CODE};

fn put_object(moto: &Moto, bucket: &str, key: &str, body: &[u8]) {
    rt().block_on(async {
        s3(&moto.direct)
            .await
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(body.to_vec().into())
            .send()
            .await
            .unwrap();
    });
}

/// Starts `up` on the backend `b` and returns once it has written its state
/// object (the run goes on).
fn up_until_state_written(
    moto: &Moto,
    st: &Stack,
    b: &str,
    bucket: &str,
    key: &str,
) -> std::process::Child {
    let child = st
        .cmd(&["--backend", b, "up"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t = std::time::Instant::now();
    while object(moto, bucket, key).is_none() {
        assert!(t.elapsed().as_secs() < 60, "no state written");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child
}

/// The lock ID an error names in its `deployer … unlock ID` command.
fn unlock_id(e: &str) -> String {
    e.split("unlock ")
        .nth(1)
        .and_then(|r| r.split('`').next())
        .unwrap_or_else(|| panic!("no unlock command in: {e}"))
        .trim()
        .to_string()
}

fn err_of(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[test]
fn up_noop_down_on_s3() {
    let moto = Moto::start();
    make_bucket(&moto.direct, "team-state", true);
    let st = Stack::new(&moto, "shared");
    let b = "s3://team-state/deployer";
    st.ok(&["--backend", b, "up"]);
    assert!(
        !st.state_file().exists(),
        "no local state with an S3 backend"
    );
    let v = state_of(&moto, "team-state", "deployer/shared.json");
    let pool = v["resources"]["user_pool"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(v["region"], "eu-west-1");
    assert!(v["serial"].as_u64().unwrap() > 1, "{v}");
    assert!(
        object(&moto, "team-state", "deployer/shared.lock").is_none(),
        "the lock is released"
    );
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        assert_eq!(s.pools_named(&st.prefix).await, vec![pool.clone()]);
        let h = s3(&moto.direct)
            .await
            .head_object()
            .bucket("team-state")
            .key("deployer/shared.json")
            .send()
            .await
            .unwrap();
        // The bucket's default encryption applies: the object asks for none
        // of its own (a KMS-only bucket policy would refuse AES256).
        assert_eq!(
            h.server_side_encryption().map(|e| e.as_str()),
            None,
            "server-side encryption forced on the object"
        );
    });
    // No-op: no resource write, the state object unchanged.
    let before = object(&moto, "team-state", "deployer/shared.json");
    moto.reset_recording();
    let out = st.ok(&["--backend", b, "up"]);
    assert!(out.contains("16 unchanged"), "{out}");
    let writes: Vec<_> = moto
        .recorded()
        .into_iter()
        .filter(|(op, m)| *m && !op.contains("/team-state/"))
        .collect();
    assert!(writes.is_empty(), "{writes:?}");
    assert_eq!(before, object(&moto, "team-state", "deployer/shared.json"));
    // state show / list.
    let show = st.ok(&["--backend", b, "state", "show"]);
    assert!(show.contains(&pool), "{show}");
    let list = st.ok(&["--backend", b, "state", "list"]);
    assert!(list.contains("shared: 16 resources"), "{list}");
    st.ok(&["--backend", b, "down", "--yes"]);
    assert_none_but_state(&moto, &st);
    assert!(object(&moto, "team-state", "deployer/shared.json").is_none());
    assert!(object(&moto, "team-state", "deployer/shared.lock").is_none());
}

/// Two stacks of one config on one S3 backend: the second stops before any
/// resource write, naming the first; a `down` with no state deletes
/// nothing; no state object is written for either.
#[test]
fn a_second_stack_on_s3_changes_nothing_of_the_first() {
    let moto = Moto::start();
    make_bucket(&moto.direct, "team-state", true);
    let b = "s3://team-state/deployer";
    let dev = Stack::new(&moto, "dev");
    dev.ok(&["--backend", b, "up"]);
    let v = state_of(&moto, "team-state", "deployer/dev.json");
    let (pool, dev_id) = (
        v["resources"]["user_pool"]["id"]
            .as_str()
            .unwrap()
            .to_string(),
        v["stack_id"].as_str().unwrap().to_string(),
    );
    let function_tags = || {
        rt().block_on(async {
            let s = sdk(&moto.direct).await;
            s.lambda
                .get_function()
                .function_name(&dev.prefix)
                .send()
                .await
                .unwrap()
                .tags
                .unwrap_or_default()
        })
    };
    let prod = Stack::new(&moto, "prod");
    for args in [
        &["--backend", b, "up"][..],
        &["--backend", b, "down", "--yes"],
    ] {
        moto.reset_recording();
        let o = prod.run(args);
        let writes: Vec<_> = moto
            .recorded()
            .into_iter()
            .filter(|(op, m)| *m && !op.contains("/team-state/"))
            .collect();
        assert!(writes.is_empty(), "{args:?}: {writes:?}");
        if args.contains(&"up") {
            assert!(!o.status.success());
            assert!(
                err_of(&o).contains("belongs to stack \"dev\""),
                "{}",
                err_of(&o)
            );
        } else {
            let out = String::from_utf8_lossy(&o.stdout);
            assert!(out.contains("0 resources to delete"), "{out}");
        }
        assert!(object(&moto, "team-state", "deployer/prod.json").is_none());
        assert!(object(&moto, "team-state", "deployer/prod.lock").is_none());
    }
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        assert_eq!(s.pools_named(&dev.prefix).await, vec![pool.clone()]);
    });
    assert_eq!(function_tags()["deployer:stack-id"], dev_id);
    dev.ok(&["--backend", b, "down", "--yes"]);
    assert_none_but_state(&moto, &dev);
}

/// Everything of the stack is gone (the state lives in S3 here).
fn assert_none_but_state(moto: &Moto, st: &Stack) {
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        assert!(s.pools_named(&st.prefix).await.is_empty());
        assert!(s.apis_named(&st.prefix).await.is_empty());
    });
}

#[test]
fn two_concurrent_ups_one_runs_the_other_fails_fast_naming_the_holder() {
    let moto = Moto::start_plain();
    make_bucket(&moto.direct, "race", false);
    let st = Stack::new(&moto, "race");
    let b = "s3://race";
    // Rounds where the two runs met: on a loaded machine the second process
    // can start after the first has finished a no-op `up` (both then succeed,
    // one after the other); a fresh `up` takes long enough that they meet.
    let mut met = 0;
    for round in 0..8 {
        let mut a = st.cmd(&["--backend", b, "up"]);
        let mut c = st.cmd(&["--backend", b, "up"]);
        for cmd in [&mut a, &mut c] {
            cmd.stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
        }
        let (pa, pc) = (a.spawn().unwrap(), c.spawn().unwrap());
        let (oa, oc) = (
            pa.wait_with_output().unwrap(),
            pc.wait_with_output().unwrap(),
        );
        let ok = [&oa, &oc].iter().filter(|o| o.status.success()).count();
        let locked: Vec<String> = [&oa, &oc]
            .iter()
            .filter(|o| !o.status.success())
            .map(|o| err_of(o))
            .collect();
        assert!(ok >= 1, "round {round}: one of them runs: {locked:?}");
        met += usize::from(ok == 1);
        for e in &locked {
            assert!(
                e.contains("is locked by `deployer up`") && e.contains("unlock"),
                "round {round}: {e}"
            );
        }
        assert_exactly_one_on_s3(&moto, &st, "race", "race.json");
        assert!(
            object(&moto, "race", "race.lock").is_none(),
            "round {round}: lock left"
        );
    }
    assert!(met >= 1, "in no round did the two runs meet at the lock");
    st.ok(&["--backend", b, "down", "--yes"]);
}

fn assert_exactly_one_on_s3(moto: &Moto, st: &Stack, bucket: &str, key: &str) {
    let v = state_of(moto, bucket, key);
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        assert_eq!(
            s.pools_named(&st.prefix).await,
            vec![v["resources"]["user_pool"]["id"]
                .as_str()
                .unwrap()
                .to_string()]
        );
        assert_eq!(
            s.apis_named(&st.prefix).await,
            vec![v["resources"]["api"]["id"].as_str().unwrap().to_string()]
        );
    });
}

#[test]
fn a_killed_runs_lock_stays_until_unlock() {
    let moto = Moto::start_plain();
    make_bucket(&moto.direct, "killed", false);
    let st = Stack::new(&moto, "k");
    let b = "s3://killed/p";
    let o = st
        .cmd(&["--backend", b, "up"])
        .env(FAULT_ENV, "6")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(FAULT_EXIT_CODE), "{}", err_of(&o));
    assert!(
        object(&moto, "killed", "p/k.lock").is_some(),
        "a killed run's lock stays"
    );
    let o = st.run(&["--backend", b, "up"]);
    assert!(!o.status.success());
    let e = err_of(&o);
    assert!(
        e.contains("is locked by `deployer up`") && e.contains("ago"),
        "{e}"
    );
    let id = unlock_id(&e);
    // A wrong ID removes nothing.
    let o = st.run(&["--backend", b, "unlock", "not-the-id"]);
    assert!(
        !o.status.success() && err_of(&o).contains("another ID"),
        "{}",
        err_of(&o)
    );
    assert!(object(&moto, "killed", "p/k.lock").is_some());
    st.ok(&["--backend", b, "unlock", &id]);
    assert!(object(&moto, "killed", "p/k.lock").is_none());
    st.ok(&["--backend", b, "up"]);
    assert_exactly_one_on_s3(&moto, &st, "killed", "p/k.json");
    st.ok(&["--backend", b, "down", "--yes"]);
}

#[test]
fn a_foreign_write_stops_the_run_and_survives() {
    // Realism makes `up` take seconds, with a state write after every step.
    let moto = Moto::start();
    make_bucket(&moto.direct, "foreign", true);
    let st = Stack::new(&moto, "f");
    let b = "s3://foreign";
    let child = up_until_state_written(&moto, &st, b, "foreign", "f.json");
    let mut v = state_of(&moto, "foreign", "f.json");
    v["name_prefix"] = "edited-by-hand".into();
    let foreign = serde_json::to_vec_pretty(&v).unwrap();
    put_object(&moto, "foreign", "f.json", &foreign);
    let o = child.wait_with_output().unwrap();
    assert!(!o.status.success(), "the run went on over a foreign write");
    assert!(
        err_of(&o).contains("changed by someone else"),
        "{}",
        err_of(&o)
    );
    assert_eq!(
        object(&moto, "foreign", "f.json").unwrap(),
        foreign,
        "the foreign write survives"
    );
    assert!(
        object(&moto, "foreign", "f.lock").is_none(),
        "the lock is released on error"
    );
}

#[test]
fn push_pull_round_trip_and_refusals() {
    let moto = Moto::start_plain();
    make_bucket(&moto.direct, "moves", false);
    let mut st = Stack::new(&moto, "mv");
    let b = "s3://moves/teams";
    st.ok(&["up"]);
    let local = st.state();
    st.ok(&["--backend", b, "state", "push"]);
    let remote = state_of(&moto, "moves", "teams/mv.json");
    assert_eq!(remote["resources"], local["resources"]);
    // The pushed stack is the same stack: a no-op there.
    moto.reset_recording();
    let out = st.ok(&["--backend", b, "up"]);
    assert!(out.contains("16 unchanged"), "{out}");
    // The remote is now newer: pushing the old local copy is refused.
    st.extra_config = "[tags]\nOwner = \"x\"\n".into();
    let o = st.run(&["--backend", b, "up"]);
    assert!(o.status.success(), "{}", err_of(&o));
    assert!(
        err_of(&o).contains("has no versioning") && err_of(&o).contains("put-bucket-versioning"),
        "versioning is checked and recommended: {}",
        err_of(&o)
    );
    // Without versioning, the previous copy is kept as .json.bak.
    let bak = state_of(&moto, "moves", "teams/mv.json.bak");
    let cur = state_of(&moto, "moves", "teams/mv.json");
    assert!(
        bak["serial"].as_u64().unwrap() < cur["serial"].as_u64().unwrap(),
        "{bak} / {cur}"
    );
    let o = st.run(&["--backend", b, "state", "push"]);
    assert!(
        !o.status.success() && err_of(&o).contains("newer"),
        "{}",
        err_of(&o)
    );
    // Pull brings it back.
    st.ok(&["--backend", b, "state", "pull"]);
    assert_eq!(
        st.state()["resources"],
        state_of(&moto, "moves", "teams/mv.json")["resources"]
    );
    assert_eq!(
        st.state()["serial"],
        state_of(&moto, "moves", "teams/mv.json")["serial"]
    );
    st.ok(&["--backend", b, "down", "--yes"]);
}

#[test]
fn bad_backends_say_what_to_do_and_change_nothing() {
    let moto = Moto::start_plain();
    let st = Stack::new(&moto, "bad");
    let o = st.run(&["--backend", "s3://no-such-bucket", "up"]);
    assert!(!o.status.success());
    assert!(err_of(&o).contains("does not exist"), "{}", err_of(&o));
    let o = st.run(&["--backend", "gs://x", "up"]);
    assert!(err_of(&o).contains("not supported"), "{}", err_of(&o));
    let o = st.run(&["--backend", "s3://", "up"]);
    assert!(err_of(&o).contains("names no bucket"), "{}", err_of(&o));
    // Unreachable: nothing listens there.
    let o = st
        .cmd(&["--backend", "s3://b", "up"])
        .env(
            "AWS_ENDPOINT_URL",
            format!("http://127.0.0.1:{}", free_port()),
        )
        .env("AWS_MAX_ATTEMPTS", "2")
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        err_of(&o).contains("not reachable") || err_of(&o).contains("rejected"),
        "{}",
        err_of(&o)
    );
    // A corrupt or newer state object is refused and left as it is.
    make_bucket(&moto.direct, "corrupt", false);
    put_object(&moto, "corrupt", "bad.json", b"{\"version\": 1, \"stack\":");
    let o = st.run(&["--backend", "s3://corrupt", "up"]);
    assert!(err_of(&o).contains("not valid JSON"), "{}", err_of(&o));
    assert_eq!(
        object(&moto, "corrupt", "bad.json").unwrap(),
        b"{\"version\": 1, \"stack\":"
    );
    assert!(
        object(&moto, "corrupt", "bad.lock").is_none(),
        "the lock is released"
    );
    put_object(
        &moto,
        "corrupt",
        "bad.json",
        b"{\"version\": 99, \"stack\": \"bad\"}",
    );
    let o = st.run(&["--backend", "s3://corrupt", "up"]);
    assert!(
        err_of(&o).contains("newer than this deployer"),
        "{}",
        err_of(&o)
    );
    // The local backend has nothing to unlock.
    let o = st.run(&["unlock", "x"]);
    assert!(err_of(&o).contains("nothing to unlock"), "{}", err_of(&o));
}

#[test]
fn ctrl_c_releases_the_lock() {
    let moto = Moto::start(); // realism: `up` takes seconds
    make_bucket(&moto.direct, "sigint", true);
    let st = Stack::new(&moto, "i");
    let b = "s3://sigint";
    let child = up_until_state_written(&moto, &st, b, "sigint", "i.json");
    assert!(
        object(&moto, "sigint", "i.lock").is_some(),
        "held while running"
    );
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(!o.status.success());
    assert!(err_of(&o).contains("interrupted"), "{}", err_of(&o));
    assert!(
        object(&moto, "sigint", "i.lock").is_none(),
        "Ctrl-C releases the lock"
    );
    // And the next run goes on from the state the interrupted one left.
    st.ok(&["--backend", b, "up"]);
    assert_exactly_one_on_s3(&moto, &st, "sigint", "i.json");
    st.ok(&["--backend", b, "down", "--yes"]);
}

#[test]
fn access_denied_on_the_bucket_says_which_permissions() {
    let mut a = Awsim::chaos(1, 0.0, 0.0, 0.0);
    a.deny = vec!["s3"];
    let moto = Moto::start_with(Some(a));
    make_bucket(&moto.direct, "denied", false);
    let st = Stack::new(&moto, "d");
    let o = st.run(&["--backend", "s3://denied", "up"]);
    assert!(!o.status.success());
    let e = err_of(&o);
    assert!(
        e.contains("access denied") && e.contains("s3:PutObject"),
        "{e}"
    );
    assert!(object(&moto, "denied", "d.lock").is_none());
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        assert!(
            s.pools_named(&st.prefix).await.is_empty(),
            "nothing was created"
        );
    });
}

/// The backend under chaos: throttled and failing S3 calls are retried, and a
/// lock or state write whose answer is lost is read back, never sent again
/// (a blind retry would meet its own new ETag and stop the run).
#[test]
fn s3_backend_under_chaos() {
    // The seeds side by side, each in its own moto; the propagation windows
    // at the tests' scale (the soak runs them in full).
    std::thread::scope(|s| {
        for seed in 1..=3u64 {
            s.spawn(move || s3_chaos_seed(seed));
        }
    });
}

fn s3_chaos_seed(seed: u64) {
    eprintln!("s3 chaos: seed {seed}");
    let mut a = Awsim::chaos(seed, 0.10, 0.05, 0.10);
    a.scale = test_scale();
    let moto = Moto::start_with(Some(a));
    make_bucket(&moto.direct, "chaos", seed.is_multiple_of(2));
    let st = Stack::new(&moto, "c");
    let b = "s3://chaos/s";
    st.ok(&["--backend", b, "up"]);
    assert_exactly_one_on_s3(&moto, &st, "chaos", "s/c.json");
    assert!(object(&moto, "chaos", "s/c.lock").is_none(), "seed {seed}");
    let out = st.ok(&["--backend", b, "up"]);
    assert!(out.contains("16 unchanged"), "seed {seed}: {out}");
    st.ok(&["--backend", b, "down", "--yes"]);
    assert!(object(&moto, "chaos", "s/c.json").is_none(), "seed {seed}");
    let faults = awsim_stats(&moto.endpoint);
    eprintln!("s3 chaos: seed {seed} converged; faults {faults:?}");
}

/// What `up --watch` does: one process runs `up` again. Each run releases
/// its lock when it ends, so the next one does not meet it.
#[test]
fn one_process_runs_up_again_on_s3() {
    use clap::Parser;
    let moto = Moto::start_plain();
    make_bucket(&moto.direct, "again", true);
    let st = Stack::new(&moto, "again");
    let (dir, cfg, zip) = (st.state_dir(), st.config_path(), handler_zip());
    let args = [
        "deployer",
        "--stack",
        "again",
        "--state-dir",
        dir.to_str().unwrap(),
        "--config",
        cfg.to_str().unwrap(),
        "--endpoint-url",
        &moto.endpoint,
        "--region",
        "eu-west-1",
        "--handler-zip",
        zip.to_str().unwrap(),
        "--backend",
        "s3://again",
        "up",
    ];
    for run in 1..=2 {
        // moto's credentials through the configuration: the process's
        // environment is the other tests' too under `cargo test`.
        let mut cli = deployer::cli::Cli::parse_from(args);
        cli.global.emulator_credentials = true;
        rt().block_on(deployer::cli::run(cli))
            .unwrap_or_else(|e| panic!("run {run}: {e}"));
        assert!(
            object(&moto, "again", "again.lock").is_none(),
            "run {run} left its lock"
        );
    }
    st.ok(&["--backend", "s3://again", "down", "--yes"]);
}

/// SIGTERM (what CI runners and `timeout` send) releases the lock like
/// Ctrl-C, also while the handler build runs, and stops the build.
#[test]
fn sigterm_releases_the_lock_even_during_the_build() {
    let moto = Moto::start();
    make_bucket(&moto.direct, "sigterm", true);
    let st = Stack::new(&moto, "t");
    let b = "s3://sigterm";
    // Mid-run, after the first state write.
    let child = up_until_state_written(&moto, &st, b, "sigterm", "t.json");
    let kill = |pid: u32| {
        std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap()
    };
    kill(child.id());
    let o = child.wait_with_output().unwrap();
    assert!(!o.status.success());
    assert!(
        err_of(&o).contains("interrupted (SIGTERM)"),
        "{}",
        err_of(&o)
    );
    assert!(
        object(&moto, "sigterm", "t.lock").is_none(),
        "SIGTERM releases the lock"
    );
    // During a handler build (a build that takes long: a cargo-lambda
    // that sleeps and says where it runs).
    let tools = tempfile::tempdir().unwrap();
    let pidfile = tools.path().join("pid");
    let fake = tools.path().join("cargo-lambda");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\necho $$ > {}\nexec sleep 60\n",
            pidfile.display()
        ),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!(
        "{}:{}",
        tools.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let child = st
        .cmd(&["--backend", b, "up"])
        .env_remove("DEPLOYER_HANDLER_ZIP")
        .env("PATH", path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t = std::time::Instant::now();
    while !pidfile.exists() || object(&moto, "sigterm", "t.lock").is_none() {
        assert!(t.elapsed().as_secs() < 60, "the build never started");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let t = std::time::Instant::now();
    kill(child.id());
    let o = child.wait_with_output().unwrap();
    assert!(
        t.elapsed().as_secs() < 10,
        "SIGTERM waited for the build: {:?}",
        t.elapsed()
    );
    assert!(
        err_of(&o).contains("interrupted (SIGTERM)"),
        "{}",
        err_of(&o)
    );
    assert!(object(&moto, "sigterm", "t.lock").is_none());
    let build_pid = std::fs::read_to_string(&pidfile).unwrap();
    let t = std::time::Instant::now();
    while std::path::Path::new(&format!("/proc/{}", build_pid.trim())).exists() {
        assert!(
            t.elapsed().as_secs() < 5,
            "the build outlived the run (pid {build_pid})"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    st.ok(&["--backend", b, "down", "--yes"]);
}

/// A lock object that is not a deployer lock counts as held; the error
/// names the ID that `unlock` takes, and `unlock` removes it.
#[test]
fn an_unreadable_lock_is_held_and_unlock_removes_it() {
    let moto = Moto::start_plain();
    make_bucket(&moto.direct, "garbage", true);
    let st = Stack::new(&moto, "g");
    let b = "s3://garbage";
    put_object(&moto, "garbage", "g.lock", b"not json at all");
    let o = st.run(&["--backend", b, "up"]);
    assert!(!o.status.success());
    let e = err_of(&o);
    assert!(e.contains("unreadable lock object"), "{e}");
    assert!(object(&moto, "garbage", "g.json").is_none(), "nothing ran");
    let id = unlock_id(&e);
    st.ok(&["--backend", b, "unlock", &id]);
    assert!(object(&moto, "garbage", "g.lock").is_none());
    st.ok(&["--backend", b, "up"]);
    st.ok(&["--backend", b, "down", "--yes"]);
}

/// Without versioning, a run that loses the compare-and-swap to a foreign
/// write leaves the winner's backup alone (the backup is written only after
/// a successful write), and no object is forced to SSE-AES256 (the bucket's
/// default encryption applies).
#[test]
fn a_losing_writer_keeps_the_winners_backup_and_nothing_forces_sse() {
    // Another writer wins right after this run reads the state: awsim
    // writes its state between the run's read and its first write.
    let dir = tempfile::tempdir().unwrap();
    let winner = dir.path().join("winner.json");
    let moto = Moto::start_with(Awsim::realism().map(|mut a| {
        a.realism = false;
        a.replace_after_get = Some(("/losing/l.json".into(), winner.clone()));
        a
    }));
    make_bucket(&moto.direct, "losing", false);
    let mut st = Stack::new(&moto, "l");
    let b = "s3://losing";
    st.ok(&["--backend", b, "up"]);
    let mut v = state_of(&moto, "losing", "l.json");
    v["name_prefix"] = "the-winner".into();
    std::fs::write(&winner, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    put_object(&moto, "losing", "l.json.bak", b"the winner's backup");
    // A change, so that the run writes.
    st.extra_config = "[tags]\nOwner = \"x\"\n".into();
    let o = st.run(&["--backend", b, "up"]);
    assert_eq!(
        awsim_stats(&moto.endpoint).get("replaced_after_get"),
        Some(&1)
    );
    assert!(!o.status.success(), "the run went on over a foreign write");
    assert!(
        err_of(&o).contains("changed by someone else"),
        "{}",
        err_of(&o)
    );
    assert_eq!(
        object(&moto, "losing", "l.json.bak").unwrap(),
        b"the winner's backup",
        "the losing run overwrote the backup"
    );
    // Every PutObject the deployer sent: none asks for a cipher.
    let rec = std::fs::read_to_string(&moto.recording).unwrap_or_default();
    let puts: Vec<serde_json::Value> = rec
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["method"] == "PUT" && e["url"].as_str().is_some_and(|u| u.contains("/l.")))
        .collect();
    assert!(!puts.is_empty());
    for p in &puts {
        let forced = p["headers"].as_object().is_some_and(|h| {
            h.keys()
                .any(|k| k.eq_ignore_ascii_case("x-amz-server-side-encryption"))
        });
        assert!(!forced, "SSE forced on {}", p["url"]);
    }
}

/// `state push` over a state of the same serial with other content (two
/// copies that went apart) is refused unless forced.
#[test]
fn push_over_an_equal_serial_with_other_content_needs_force() {
    let moto = Moto::start_plain();
    make_bucket(&moto.direct, "equal", true);
    let st = Stack::new(&moto, "eq");
    let b = "s3://equal";
    st.ok(&["up"]);
    st.ok(&["--backend", b, "state", "push"]);
    // The remote copy goes its own way at the same serial.
    let mut v = state_of(&moto, "equal", "eq.json");
    v["writer"] = "someone@else".into();
    v["resources"]["role"]["id"] = "another-role".into();
    put_object(
        &moto,
        "equal",
        "eq.json",
        &serde_json::to_vec_pretty(&v).unwrap(),
    );
    let o = st.run(&["--backend", b, "state", "push"]);
    assert!(!o.status.success(), "an equal serial was overwritten");
    assert!(err_of(&o).contains("went apart"), "{}", err_of(&o));
    assert_eq!(
        state_of(&moto, "equal", "eq.json")["resources"]["role"]["id"],
        "another-role"
    );
    st.ok(&["--backend", b, "state", "push", "--force"]);
    assert_eq!(
        state_of(&moto, "equal", "eq.json")["resources"],
        st.state()["resources"]
    );
    st.ok(&["down", "--yes"]);
}

/// The lock is deleted only if it is still the object that was read
/// (`If-Match` on its ETag): another run that takes the lock between
/// `unlock`'s read and its delete keeps it. awsim plays that run, writing
/// its lock right after the read.
#[test]
fn unlock_never_removes_a_lock_taken_after_its_read() {
    let dir = tempfile::tempdir().unwrap();
    let theirs = dir.path().join("their.lock");
    std::fs::write(
        &theirs,
        br#"{"id":"their-lock-id","user":"someone","host":"elsewhere","pid":1,"operation":"up","created":1796000000}"#,
    )
    .unwrap();
    let moto = Moto::start_with(Awsim::realism().map(|mut a| {
        a.realism = false;
        a.replace_after_get = Some(("/race/k.lock".into(), theirs.clone()));
        a
    }));
    make_bucket(&moto.direct, "race", true);
    let st = Stack::new(&moto, "k");
    let b = "s3://race";
    let o = st
        .cmd(&["--backend", b, "up"])
        .env(FAULT_ENV, "3")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(FAULT_EXIT_CODE), "{}", err_of(&o));
    // The killed run's lock ID, read from moto itself (not through awsim).
    let lock: serde_json::Value =
        serde_json::from_slice(&object(&moto, "race", "k.lock").expect("a lock")).unwrap();
    let id = lock["id"].as_str().unwrap().to_string();
    let o = st.run(&["--backend", b, "unlock", &id]);
    assert!(
        awsim_stats(&moto.endpoint).get("replaced_after_get") == Some(&1),
        "the other run did not write: {:?}",
        awsim_stats(&moto.endpoint)
    );
    assert!(!o.status.success(), "unlock removed a lock it had not read");
    assert!(
        err_of(&o).contains("replaced by someone else"),
        "{}",
        err_of(&o)
    );
    assert_eq!(
        object(&moto, "race", "k.lock").unwrap(),
        std::fs::read(&theirs).unwrap(),
        "the other run's lock is gone"
    );
}
