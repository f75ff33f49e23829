//! `deployer emulator`: the local control plane a user runs for
//! `--endpoint-url` work (moto_server behind awsim, the same layer the
//! tests run behind), as the README's emulator section gives it.

use crate::common::*;

/// The README's emulator section, end to end: the example stack goes up
/// on `deployer emulator` with its state in an S3 bucket made there (the
/// backend's versioning read answered as AWS answers it), a second plan
/// finds nothing to do (`plan --detailed-exitcode` exits 0), and `down`
/// leaves nothing but the bucket. A request AWS's model refuses is refused
/// there too (a pool name longer than 128 characters).
#[test]
fn the_emulator_takes_the_example_up_plan_down_on_s3() {
    let moto = Moto::emulator();
    make_bucket(&moto.endpoint, "emulated-state", true);
    let st = Stack::new(&moto, "emulated");
    let b = "s3://emulated-state/deployer";
    let out = st.ok(&["--backend", b, "up"]);
    assert!(out.contains("outputs") || out.contains("created"), "{out}");
    assert!(!st.state_file().exists(), "the state is on S3");
    let o = st.run(&["--backend", b, "plan", "--detailed-exitcode"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "no change pending: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    st.ok(&["--backend", b, "down", "--yes"]);
    rt().block_on(async {
        let s = sdk(&moto.direct).await;
        assert!(s.pools_named(&st.prefix).await.is_empty());
        assert!(s.apis_named(&st.prefix).await.is_empty());
        assert!(!s.function_exists(&st.prefix).await);
        // AWS's model: a pool name is 1 to 128 characters.
        let long = "p".repeat(129);
        let e = sdk(&moto.endpoint)
            .await
            .cognito
            .create_user_pool()
            .pool_name(&long)
            .send()
            .await
            .expect_err("a 129-character pool name");
        let e = aws_sdk_cognitoidentityprovider::Error::from(e);
        assert!(
            format!("{e:?}").contains("InvalidParameterException"),
            "{e:?}"
        );
        assert!(s.pools_named(&long).await.is_empty());
    });
}

/// awsim's own tests (awsim/tests: each documented rule of awsim/RULES.md
/// and the model checks of awsim/validate.py, through boto3 against a real
/// moto behind awsim): run here so that the test command runs them.
#[test]
fn awsim_enforces_aws_models_and_documented_rules() {
    moto_server_path(); // the venv, with moto and boto3
    let python = deployer::tools::venv_bin().join("python");
    let o = std::process::Command::new(python)
        .args(["-m", "unittest", "discover", "-s", "awsim/tests"])
        .current_dir(project_dir())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    let ran = err
        .lines()
        .find_map(|l| {
            l.strip_prefix("Ran ")?
                .split(' ')
                .next()?
                .parse::<u32>()
                .ok()
        })
        .unwrap_or(0);
    assert!(ran >= 50, "only {ran} awsim tests ran: {err}");
}
