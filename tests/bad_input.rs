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

/// An endpoint that accepts connections and never answers: the run fails
/// within the configured timeouts, naming the call and the timeout, instead
/// of hanging.
#[test]
fn a_stalled_endpoint_fails_the_call_by_name_instead_of_hanging() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    // Accept and hold every connection, answering nothing.
    std::thread::spawn(move || {
        let mut held = vec![];
        for c in listener.incoming().flatten() {
            held.push(c);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let t = std::time::Instant::now();
    let o = std::process::Command::new(bin())
        .args(["plan", "--attempt-timeout", "1", "--operation-timeout", "4"])
        .current_dir(dir.path())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("DEPLOYER_HANDLER_ZIP", handler_zip())
        .output()
        .unwrap();
    let e = stderr(&o);
    assert!(!o.status.success(), "{e}");
    assert!(e.contains("GetCallerIdentity"), "the call is named: {e}");
    assert!(e.contains("timed out"), "{e}");
    assert!(!e.contains("no AWS credentials"), "{e}");
    eprintln!("failed after {:?}: {e}", t.elapsed());
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
