//! `deployer dev` end to end: the seed's walk-through over HTTP exactly as
//! curl does it, refusals, and the login as alice in a real headless
//! Chromium (Debian's, installed by scripts/test), with screenshots kept
//! under target/screenshots.

use crate::common;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Dev {
    child: Child,
    /// The program `deployer dev` runs (`deployer`, or an example).
    exe: std::path::PathBuf,
    dir: tempfile::TempDir,
    api: u16,
    idp: u16,
    /// What deployer dev printed on its terminal (stderr).
    said: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Drop for Dev {
    /// SIGTERM first, as a user's Ctrl-C: dev stops moto and removes its
    /// work directory; a kill only if it has not stopped in 20 s.
    fn drop(&mut self) {
        // Already reaped (a test that killed it): its pid may be another's.
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        // SAFETY: kill(2) on our own child's pid, not yet reaped.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Dev {
    fn start() -> Dev {
        let mut c = Command::new(common::bin());
        c.env("DEPLOYER_HANDLER_ZIP", common::handler_zip());
        Dev::start_with(c, &[], 240)
    }

    /// `deployer dev` with more arguments and environment (in `c`). The
    /// ports are picked free here and bound by dev a moment later: another
    /// process may take one meanwhile (seen with the suite beside a second
    /// run of itself), so a start refused with "Address already in use" is
    /// tried again on other ports (three times at most).
    fn start_with(c: Command, args: &[&str], wait_secs: u64) -> Dev {
        for attempt in 1.. {
            let mut again = Command::new(c.get_program());
            again.args(c.get_args());
            for (k, v) in c.get_envs() {
                match v {
                    Some(v) => again.env(k, v),
                    None => again.env_remove(k),
                };
            }
            if let Some(d) = c.get_current_dir() {
                again.current_dir(d);
            }
            match Dev::try_start(again, args, wait_secs) {
                Ok(dev) => return dev,
                Err(said) if attempt < 3 && said.contains("Address already in use") => {
                    eprintln!("a port was taken before dev bound it: trying other ports");
                }
                Err(said) => panic!("deployer dev did not start serving: {said}"),
            }
        }
        unreachable!()
    }

    /// One start: the dev serving, or what it said before it stopped.
    fn try_start(mut c: Command, args: &[&str], wait_secs: u64) -> Result<Dev, String> {
        let exe = std::path::PathBuf::from(c.get_program());
        let dir = tempfile::tempdir().unwrap();
        let (api, idp) = (common::free_port(), common::free_port());
        // Free ports unless the test picks them (`--api-port 0`: each API
        // of a program on a port of its own).
        let ports = match args.contains(&"--api-port") {
            true => vec!["--idp-port".to_string(), idp.to_string()],
            false => [
                "--api-port",
                &api.to_string(),
                "--idp-port",
                &idp.to_string(),
            ]
            .map(String::from)
            .to_vec(),
        };
        let mut child = c
            .args(["--state-dir"])
            .arg(dir.path())
            .arg("dev")
            .args(ports)
            .args(args)
            // dev's private work directory lands in the test's, removed with
            // it even after a SIGKILL (the test of a killed dev).
            .env("TMPDIR", dir.path())
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("AWS_PROFILE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let err = BufReader::new(child.stderr.take().unwrap());
        let (tx, rx) = std::sync::mpsc::channel();
        let said = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let said2 = said.clone();
        std::thread::spawn(move || {
            for line in err.lines().map_while(Result::ok) {
                eprintln!("[dev] {line}");
                said2.lock().unwrap().push(line.clone());
                // The last of dev's servers to start.
                if line.contains("serving Cognito") {
                    let _ = tx.send(());
                }
            }
        });
        let out = BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || for _ in out.lines() {});
        if let Err(e) = rx.recv_timeout(Duration::from_secs(wait_secs)) {
            let _ = child.kill();
            let _ = child.wait();
            // Its last lines reach the reader thread a moment after.
            std::thread::sleep(Duration::from_millis(200));
            return Err(format!("{e}: {}", said.lock().unwrap().join("\n")));
        }
        Ok(Dev {
            child,
            exe,
            dir,
            api,
            idp,
            said,
        })
    }

    /// What dev printed on its terminal, once it holds `what` (its lines
    /// reach the test through a pipe and a thread, a moment after dev
    /// answered): at most 10 s.
    fn said_once(&self, what: &str) -> String {
        let t = Instant::now();
        loop {
            let said = self.said.lock().unwrap().join("\n");
            if said.contains(what) || t.elapsed() > Duration::from_secs(10) {
                return said;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `deployer logs` from another terminal, with no AWS credentials.
    fn logs(&self) -> String {
        let o = Command::new(common::bin())
            .arg("--state-dir")
            .arg(self.dir.path())
            .args(["--stack", "dev", "logs", "--since", "5m"])
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_PROFILE")
            .env("AWS_CONFIG_FILE", "/nonexistent")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).to_string()
    }

    /// `outputs --show-secrets` from another terminal, with no AWS
    /// credentials anywhere (the seed's way to get the client secret).
    fn outputs_run(&self) -> std::process::Output {
        Command::new(&self.exe)
            .arg("--state-dir")
            .arg(self.dir.path())
            .args(["--stack", "dev", "outputs", "--json", "--show-secrets"])
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_PROFILE")
            .env("AWS_CONFIG_FILE", "/nonexistent")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .unwrap()
    }

    fn outputs(&self) -> Value {
        let o = self.outputs_run();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    }
}

fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn client_credentials(o: &Value, secret: &str, scope: Option<&str>) -> reqwest::blocking::Response {
    let mut form = vec![("grant_type", "client_credentials")];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    http()
        .post(o["oidc_token_url"].as_str().unwrap())
        .basic_auth(o["example_client_id"].as_str().unwrap(), Some(secret))
        .form(&form)
        .send()
        .unwrap()
}

/// The login form posted as a browser would, returning the redirect back.
fn login(o: &Value, password: &str) -> reqwest::blocking::Response {
    let r = http()
        .get(
            o["example_authorization_code_oidc_redirect_url"]
                .as_str()
                .unwrap(),
        )
        .send()
        .unwrap();
    assert_eq!(r.status(), 302);
    let loc = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let mut form: Vec<(String, String)> = loc.query_pairs().into_owned().collect();
    form.push(("username".into(), "alice".into()));
    form.push(("password".into(), password.into()));
    let base = format!("{}://{}", loc.scheme(), loc.host_str().unwrap())
        + &format!(":{}", loc.port().unwrap());
    http()
        .post(format!("{base}/login"))
        .form(&form)
        .send()
        .unwrap()
}

#[test]
fn the_walkthrough_over_http_and_its_refusals() {
    let dev = Dev::start();
    let o = dev.outputs();
    assert_eq!(o["example_url"], format!("http://127.0.0.1:{}", dev.api));
    assert!(o["oidc_issuer_url"]
        .as_str()
        .unwrap()
        .starts_with(&format!("http://127.0.0.1:{}/", dev.idp)));
    let id = o["example_client_id"].as_str().unwrap().to_string();
    let secret = o["example_client_secret"].as_str().unwrap().to_string();
    let url = o["example_url"].as_str().unwrap().to_string();

    // 2. client-credentials token.
    let t: Value = client_credentials(&o, &secret, None).json().unwrap();
    let token = t["access_token"]
        .as_str()
        .expect("an access token")
        .to_string();
    assert_eq!(t["token_type"], "Bearer");

    // 3. the service validates it itself.
    let r = http().get(&url).bearer_auth(&token).send().unwrap();
    assert_eq!(r.status(), 200);
    let b: Value = r.json().unwrap();
    assert_eq!(b["authorizationClaims"]["token_use"], "access");
    assert_eq!(b["authorizationClaims"]["scope"], "example/auth");
    assert_eq!(b["authorizationClaims"]["client_id"], id);
    assert_eq!(
        b["redirectURL"],
        o["example_authorization_code_oidc_redirect_url"]
    );
    assert_eq!(b["event"]["headers"]["authorization"], "REDACTED");
    assert_eq!(b["event"]["routeKey"], "$default");

    // 4. the protected route: 401 without a token, claims with one.
    let r = http()
        .get(format!("{url}/jwt-cognito-protected"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().unwrap(),
        json!({"message": "Unauthorized"})
    );
    let r = http()
        .get(format!("{url}/jwt-cognito-protected"))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let b: Value = r.json().unwrap();
    assert_eq!(b["apiGatewayAuthorizationClaims"]["client_id"], id);
    assert_eq!(b["apiGatewayAuthorizationClaims"]["scope"], "example/auth");
    assert!(
        b["apiGatewayAuthorizationClaims"]["exp"].is_string(),
        "claims reach the Lambda as strings"
    );
    assert_eq!(
        b["event"]["requestContext"]["authorizer"]["jwt"]["scopes"],
        json!(["example/auth"])
    );

    // A token without the route's scope: 403.
    let t: Value = client_credentials(&o, &secret, Some("")).json().unwrap();
    let noscope = t["access_token"].as_str().unwrap();
    let r = http()
        .get(format!("{url}/jwt-cognito-protected"))
        .bearer_auth(noscope)
        .send()
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.json::<Value>().unwrap(), json!({"message": "Forbidden"}));
    // A code bound to the handler's PKCE challenge cannot be exchanged without its verifier.
    let back = login(&o, "HeyH0Password!");
    assert!(back.status().is_redirection());
    let cb = url::Url::parse(back.headers()["location"].to_str().unwrap()).unwrap();
    let code = cb
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .to_string();
    let state: Value =
        serde_json::from_slice(&std::fs::read(dev.dir.path().join("dev.json")).unwrap()).unwrap();
    let code_client = state["resources"]["client/example-authorization-code"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let pool = state["resources"]["user_pool"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let code_secret = common::rt().block_on(async {
        let s = common::sdk(state["local"]["endpoint"].as_str().unwrap()).await;
        s.cognito
            .describe_user_pool_client()
            .user_pool_id(&pool)
            .client_id(&code_client)
            .send()
            .await
            .unwrap()
            .user_pool_client
            .unwrap()
            .client_secret
            .unwrap()
    });
    let redirect = o["example_authorization_code_oidc_redirect_url"]
        .as_str()
        .unwrap();
    let exchange = |code: &str, verifier: Option<&str>| {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect),
        ];
        if let Some(v) = verifier {
            form.push(("code_verifier", v));
        }
        http()
            .post(o["oidc_token_url"].as_str().unwrap())
            .basic_auth(&code_client, Some(&code_secret))
            .form(&form)
            .send()
            .unwrap()
    };
    let r = exchange(&code, Some("not-the-verifier"));
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().unwrap()["error"], "invalid_grant");
    assert_eq!(
        exchange(&code, None).json::<Value>().unwrap()["error"],
        "invalid_grant",
        "codes are single-use"
    );
    // alice joins a group of the pool: her tokens say so (cognito:groups).
    common::rt().block_on(async {
        let s = common::sdk(state["local"]["endpoint"].as_str().unwrap()).await;
        let g = s
            .cognito
            .create_group()
            .user_pool_id(&pool)
            .group_name("admins");
        g.send().await.unwrap();
        let a = s.cognito.admin_add_user_to_group().user_pool_id(&pool);
        a.username("alice")
            .group_name("admins")
            .send()
            .await
            .unwrap();
    });
    // A token of another client (alice's, authorization-code client): 401.
    let idp = format!("http://127.0.0.1:{}", dev.idp);
    let mut form: Vec<(String, String)> = [
        ("response_type", "code"),
        ("client_id", code_client.as_str()),
        ("redirect_uri", redirect),
        ("scope", "openid email profile example/auth"),
        ("state", "s1"),
        ("username", "alice"),
        ("password", "HeyH0Password!"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let r = http()
        .post(format!("{idp}/login"))
        .form(&form)
        .send()
        .unwrap();
    assert!(r.status().is_redirection());
    let loc = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(
        loc.query_pairs().find(|(k, _)| k == "state").unwrap().1,
        "s1"
    );
    let code = loc
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .to_string();
    let t: Value = exchange(&code, None).json().unwrap();
    let alice_access = t["access_token"].as_str().expect("alice's access token");
    let alice_id = t["id_token"].as_str().expect("alice's ID token");
    for token in [alice_access, alice_id] {
        let claims = common::jwt_claims(token);
        assert_eq!(claims["cognito:groups"], json!(["admins"]), "{claims}");
    }
    for foreign in [alice_access, alice_id] {
        let r = http()
            .get(format!("{url}/jwt-cognito-protected"))
            .bearer_auth(foreign)
            .send()
            .unwrap();
        assert_eq!(r.status(), 401, "a token for another audience is refused");
    }
    // Refresh gives new tokens; userInfo answers alice's attributes.
    let r: Value = http()
        .post(o["oidc_token_url"].as_str().unwrap())
        .basic_auth(&code_client, Some(&code_secret))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", t["refresh_token"].as_str().unwrap()),
        ])
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(r["access_token"].is_string());
    let info: Value = http()
        .get(o["oidc_userinfo_url"].as_str().unwrap())
        .bearer_auth(alice_access)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(info["email"], "alice@example.com");
    form.retain(|(k, _)| k != "password");
    form.push(("password".into(), "nope".into()));
    assert_eq!(
        http()
            .post(format!("{idp}/login"))
            .form(&form)
            .send()
            .unwrap()
            .status(),
        400
    );
    // Wrong client secret: invalid_client.
    let r = client_credentials(&o, "not-the-secret", None);
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().unwrap()["error"], "invalid_client");
    // A scope the client may not have: invalid_scope.
    let r = client_credentials(&o, &secret, Some("openid"));
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().unwrap()["error"], "invalid_scope");
    // A wrong password issues no code.
    let r = login(&o, "wrong-password");
    assert_eq!(r.status(), 400);
    assert!(r.headers().get("location").is_none());
    let page = r.text().unwrap();
    assert!(page.contains("Incorrect username or password."));
    // The example's pool lets only its administrators make users: its
    // login page offers no sign-up.
    assert!(!page.contains("Sign up"), "{page}");

    // The function's logs, as Lambda writes them: in CloudWatch Logs (the
    // emulator's) for `deployer logs`, and on the dev terminal.
    let t = Instant::now();
    let logs = loop {
        let l = dev.logs();
        if l.contains("REPORT RequestId") || t.elapsed() > Duration::from_secs(10) {
            break l;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    for want in [
        "START RequestId: ",
        "Version: $LATEST",
        "END RequestId: ",
        "REPORT RequestId: ",
        "\tDuration: ",
        "\tBilled Duration: ",
        "\tMemory Size: 128 MB",
        "\tMax Memory Used: ",
        "\tInit Duration: ",
    ] {
        assert!(logs.contains(want), "{want:?} not in the logs:\n{logs}");
    }
    let said = dev.said.lock().unwrap().join("\n");
    assert!(
        said.lines()
            .any(|l| l.starts_with('[') && l.contains("] REPORT RequestId: ")),
        "the dev terminal shows the function's lines with their request ID:\n{said}"
    );

    // Ctrl-C (SIGINT) stops everything and forgets the local stack.
    let pid = dev.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    let t = Instant::now();
    let mut dev = dev;
    loop {
        if let Some(st) = dev.child.try_wait().unwrap() {
            assert!(st.success(), "deployer dev exits cleanly: {st}");
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "deployer dev did not stop"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", dev.api)).is_err(),
        "the API port is closed"
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", dev.idp)).is_err(),
        "the IdP port is closed"
    );
    assert!(
        !dev.dir.path().join("dev.json").exists(),
        "the local stack is forgotten"
    );
    assert!(
        !dev.dir.path().join("dev.lock").exists(),
        "no lock is left behind"
    );
}

/// The hosted login's tokens live as long as the app client says (its
/// AccessTokenValidity and IdTokenValidity in its TokenValidityUnits, as
/// the control plane reports them), and a refresh token is refused while
/// its user is disabled (AdminDisableUser). (A refresh token's own end is
/// `idp::tests::a_refresh_token_ends_with_its_lifetime`: the shortest
/// lifetime a client may set is an hour.)
#[test]
fn hosted_login_tokens_follow_the_client_and_the_user() {
    use aws_sdk_cognitoidentityprovider::types::{TimeUnitsType, TokenValidityUnitsType};
    let dev = Dev::start();
    let o = dev.outputs();
    let state: Value =
        serde_json::from_slice(&std::fs::read(dev.dir.path().join("dev.json")).unwrap()).unwrap();
    let id_of = |key: &str| {
        state["resources"][key]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{key} in the state"))
            .to_string()
    };
    let (client, pool) = (
        id_of("client/example-authorization-code"),
        id_of("user_pool"),
    );
    let rt = common::rt();
    let sdk = rt.block_on(common::sdk(state["local"]["endpoint"].as_str().unwrap()));
    let described = rt
        .block_on(
            sdk.cognito
                .describe_user_pool_client()
                .user_pool_id(&pool)
                .client_id(&client)
                .send(),
        )
        .unwrap()
        .user_pool_client
        .unwrap();
    let secret = described.client_secret.clone().unwrap();
    // The client's token lifetimes: described, merged, all sent (an update
    // resets what it is not sent).
    let set_lifetimes = |access: i32, id: i32, refresh: i32| {
        let c = &described;
        let units = TokenValidityUnitsType::builder()
            .access_token(TimeUnitsType::Minutes)
            .id_token(TimeUnitsType::Minutes)
            .refresh_token(TimeUnitsType::Minutes)
            .build();
        let update = sdk
            .cognito
            .update_user_pool_client()
            .user_pool_id(&pool)
            .client_id(&client)
            .set_client_name(c.client_name.clone())
            .set_explicit_auth_flows(c.explicit_auth_flows.clone())
            .set_supported_identity_providers(c.supported_identity_providers.clone())
            .set_callback_urls(c.callback_urls.clone())
            .set_logout_urls(c.logout_urls.clone())
            .set_allowed_o_auth_flows(c.allowed_o_auth_flows.clone())
            .set_allowed_o_auth_scopes(c.allowed_o_auth_scopes.clone())
            .set_allowed_o_auth_flows_user_pool_client(c.allowed_o_auth_flows_user_pool_client)
            .set_prevent_user_existence_errors(c.prevent_user_existence_errors.clone())
            .set_read_attributes(c.read_attributes.clone())
            .set_write_attributes(c.write_attributes.clone())
            .set_enable_token_revocation(c.enable_token_revocation)
            .access_token_validity(access)
            .id_token_validity(id)
            .refresh_token_validity(refresh)
            .token_validity_units(units);
        rt.block_on(update.send()).unwrap();
    };
    let redirect = o["example_authorization_code_oidc_redirect_url"]
        .as_str()
        .unwrap()
        .to_string();
    let idp = format!("http://127.0.0.1:{}", dev.idp);
    let token_url = o["oidc_token_url"].as_str().unwrap().to_string();
    // alice signs in at the hosted login; her code exchanged for tokens.
    let sign_in = || -> Value {
        let form = [
            ("response_type", "code"),
            ("client_id", client.as_str()),
            ("redirect_uri", redirect.as_str()),
            ("scope", "openid email profile example/auth"),
            ("username", "alice"),
            ("password", "HeyH0Password!"),
        ];
        let r = http()
            .post(format!("{idp}/login"))
            .form(&form)
            .send()
            .unwrap();
        assert!(r.status().is_redirection(), "{}", r.status());
        let loc = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
        let code = loc
            .query_pairs()
            .find(|(k, _)| k == "code")
            .unwrap()
            .1
            .to_string();
        let r = http()
            .post(&token_url)
            .basic_auth(&client, Some(&secret))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", redirect.as_str()),
            ])
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json().unwrap()
    };
    let refresh = |t: &Value| {
        http()
            .post(&token_url)
            .basic_auth(&client, Some(&secret))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", t["refresh_token"].as_str().unwrap()),
            ])
            .send()
            .unwrap()
    };
    let lifetime = |token: &Value| {
        let c = common::jwt_claims(token.as_str().unwrap());
        c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap()
    };

    // Access tokens for 10 minutes, ID tokens for 20, refresh for an hour.
    set_lifetimes(10, 20, 60);
    let t = sign_in();
    assert_eq!(t["expires_in"], 600, "{t}");
    assert_eq!(lifetime(&t["access_token"]), 600);
    assert_eq!(lifetime(&t["id_token"]), 1200);
    let r = refresh(&t);
    assert_eq!(r.status(), 200);
    let again: Value = r.json().unwrap();
    assert_eq!(lifetime(&again["access_token"]), 600);
    assert_eq!(lifetime(&again["id_token"]), 1200);

    // alice disabled: her refresh token is refused, and userInfo too.
    let cognito = &sdk.cognito;
    let disable = cognito
        .admin_disable_user()
        .user_pool_id(&pool)
        .username("alice");
    rt.block_on(disable.send()).unwrap();
    let r = refresh(&t);
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().unwrap()["error"], "invalid_grant");
    let r = http()
        .get(o["oidc_userinfo_url"].as_str().unwrap())
        .bearer_auth(again["access_token"].as_str().unwrap())
        .send()
        .unwrap();
    assert_eq!(r.status(), 401, "userInfo for a disabled user");
    // Enabled again: the hosted login signs alice in with the client's
    // new lifetimes.
    let enable = cognito
        .admin_enable_user()
        .user_pool_id(&pool)
        .username("alice");
    rt.block_on(enable.send()).unwrap();
    set_lifetimes(5, 7, 120);
    let t = sign_in();
    assert_eq!(t["expires_in"], 300, "{t}");
    assert_eq!(lifetime(&t["id_token"]), 420);
    assert_eq!(refresh(&t).status(), 200);
}

fn node_login(url: &str, password: &str, shots: &str) -> Value {
    let dir = common::project_dir().join("tests/browser");
    assert!(
        dir.join("node_modules/playwright-core").exists() && std::path::Path::new("/usr/bin/chromium").exists(),
        "the browser test needs Debian's chromium and playwright-core: run scripts/test, which installs both"
    );
    let o = Command::new("node")
        .arg(dir.join("login.mjs"))
        .args([url, password, shots])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "the browser run failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn alice_logs_in_with_a_real_browser() {
    let dev = Dev::start();
    let o = dev.outputs();
    let shots = common::project_dir().join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let redirect = o["example_authorization_code_oidc_redirect_url"]
        .as_str()
        .unwrap();

    let bad = node_login(
        redirect,
        "wrong-password",
        shots.join("wrong-password").to_str().unwrap(),
    );
    assert_eq!(bad["error"], "Incorrect username or password.");
    assert!(
        !bad["url"].as_str().unwrap().contains("code="),
        "no code was issued: {bad}"
    );

    let ok = node_login(
        redirect,
        "HeyH0Password!",
        shots.join("alice").to_str().unwrap(),
    );
    assert!(ok["url"].as_str().unwrap().starts_with(redirect), "{ok}");
    let claims: Value = serde_json::from_str(ok["body"].as_str().unwrap().trim())
        .unwrap_or_else(|e| panic!("not the claims JSON ({e}): {ok}"));
    assert_eq!(claims["preferred_username"], "alice");
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["name"], "Alice Doe");
    assert_eq!(claims["given_name"], "Alice");
    assert_eq!(claims["family_name"], "Doe");
    assert_eq!(claims["iss"], o["oidc_issuer_url"]);
    for f in [
        "alice-login-page.png",
        "alice-result.png",
        "wrong-password-result.png",
    ] {
        assert!(
            std::fs::metadata(shots.join(f)).unwrap().len() > 1000,
            "{f}"
        );
    }
    // Nothing deployer dev starts outlives it, even after SIGKILL: its
    // moto_server dies with it, and `outputs` then says the stack is down.
    let state: Value =
        serde_json::from_slice(&std::fs::read(dev.dir.path().join("dev.json")).unwrap()).unwrap();
    let endpoint = state["local"]["endpoint"].as_str().unwrap().to_string();
    let port: u16 = endpoint.rsplit(':').next().unwrap().parse().unwrap();
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    let mut dev = dev;
    dev.child.kill().unwrap();
    dev.child.wait().unwrap();
    let t = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "moto_server outlived a killed deployer dev"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let o = dev.outputs_run();
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("is not running"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `deployer dev --watch`: a one-line change to the handler is serving in
/// seconds with no request failing during the swap; a syntax error is
/// reported and the previous code keeps serving.
#[test]
fn watch_reloads_the_handler_without_dropping_a_request() {
    let copy = common::handler_copy();
    let mut c = Command::new(common::bin());
    common::builds_in(&mut c, &copy);
    // The first dev-profile build may compile every dependency.
    let dev = Dev::start_with(c, &["--watch"], 900);
    let url = format!("http://127.0.0.1:{}/hello", dev.api);
    let get = |url: &str| -> (u16, Value) {
        match http().get(url).send() {
            Ok(r) => {
                let s = r.status().as_u16();
                (s, r.json().unwrap_or(Value::Null))
            }
            Err(e) => (0, json!(e.to_string())),
        }
    };
    let (s, body) = get(&url);
    assert_eq!(s, 200, "{body}");
    assert!(body.get("reloaded").is_none(), "{body}");
    // A client keeps asking during the reload.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(u16, Value)>::new()));
    let client = {
        let (stop, seen, url) = (stop.clone(), seen.clone(), url.clone());
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let (s, body) = get(&url);
                seen.lock().unwrap().push((s, body["reloaded"].clone()));
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    let lib = copy.path().join("handler/src/lib.rs");
    let src = std::fs::read_to_string(&lib).unwrap();
    let line = "body.insert(\"redirectURL\".into(), json!(cfg.redirect_url));";
    assert!(src.contains(line));
    std::fs::write(
        &lib,
        src.replace(
            line,
            &format!("{line} body.insert(\"reloaded\".into(), json!(\"v2\"));"),
        ),
    )
    .unwrap();
    let t0 = Instant::now();
    let said = |what: &str| dev.said.lock().unwrap().iter().any(|l| l.contains(what));
    while !(said("reloaded in") && seen.lock().unwrap().last().is_some_and(|(_, v)| v == "v2")) {
        assert!(
            t0.elapsed() < Duration::from_secs(300),
            "no reload: {:?}",
            dev.said.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!(
        "new code serving {:.1} s after the save",
        t0.elapsed().as_secs_f64()
    );
    // A syntax error: said, and the new code keeps serving.
    let good = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, format!("{good}\nfn broken( {{\n")).unwrap();
    let t0 = Instant::now();
    while !said("the build failed") {
        assert!(
            t0.elapsed() < Duration::from_secs(300),
            "no build error said: {:?}",
            dev.said.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    client.join().unwrap();
    let (s, body) = get(&url);
    assert_eq!((s, &body["reloaded"]), (200, &json!("v2")), "{body}");
    let seen = seen.lock().unwrap();
    let failed: Vec<_> = seen.iter().filter(|(s, _)| *s != 200).collect();
    assert!(
        failed.is_empty(),
        "requests failed during the swap: {failed:?}"
    );
    assert!(
        seen.iter().any(|(_, v)| v.is_null()),
        "old code served meanwhile"
    );
    assert!(seen.iter().any(|(_, v)| v == "v2"));
    assert!(
        said("error"),
        "the build error is shown: {:?}",
        dev.said.lock().unwrap()
    );
}

/// A program's own stack served offline (`cargo run --example NAME -- dev`):
/// its pool by whatever key it declares it under, its pre token generation
/// trigger run by the local Lambda host for a client-credentials token and
/// for a user's login (the user's custom attribute in the claim), and a
/// Lambda (`REQUEST`) authorizer deciding a route. Each program's own crates
/// are built for this machine.
#[test]
fn programs_are_served_offline_with_their_triggers_and_authorizers() {
    let copy = common::handler_copy();
    let start = |name: &str, config: Option<&std::path::Path>| {
        let exe = common::example(name);
        let mut c = Command::new(&exe);
        common::builds_in(&mut c, &copy).env("DEPLOYER_HANDLER_ZIP", common::handler_zip());
        if let Some(f) = config {
            c.arg("--config").arg(f);
        }
        let dev = Dev::start_with(c, &[], 600);
        // The program's outputs, from another terminal.
        let outputs = dev.outputs();
        (dev, outputs)
    };

    // `examples/hello_api.rs`: the echo crate with the program's greeting.
    let (dev, o) = start("hello_api", None);
    let r = http().get(o["url"].as_str().unwrap()).send().unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().unwrap();
    assert_eq!(
        (&body["greeting"], &body["path"]),
        (&json!("hello"), &json!("/hello"))
    );
    drop(dev);

    // The trigger: `plan` in a service's token (event version 3), `plan`
    // and the user's `tenant` in a user's.
    // Every trigger of the pool on the claims function.
    let config = copy.path().join("claims.toml");
    std::fs::write(&config, "every_trigger = true\n").unwrap();
    let (dev, o) = start("claims", Some(&config));
    let s = |k: &str| {
        o[k].as_str()
            .unwrap_or_else(|| panic!("{k} in {o}"))
            .to_string()
    };
    let r = http()
        .post(s("token_url"))
        .basic_auth(s("client_id"), Some(s("client_secret")))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let access = r.json::<Value>().unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let claims = common::jwt_claims(&access);
    assert_eq!(claims["plan"], "free", "{claims}");
    assert_eq!(claims["scope"], "orders/read");
    assert_eq!(
        claims["iss"],
        s("issuer").as_str(),
        "a trigger cannot change iss"
    );
    // ada logs in through the hosted login of the web client.
    let callback = "http://localhost:8080/callback";
    let r = http()
        .get(s("authorize_url"))
        .query(&[
            ("client_id", s("web_client_id").as_str()),
            ("response_type", "code"),
            ("scope", "openid"),
            ("redirect_uri", callback),
            ("state", "st"),
        ])
        .send()
        .unwrap();
    let page = r.text().unwrap();
    assert!(page.contains("password"), "{page}");
    assert!(page.contains("id=\"signup\" href=\"/signup?"), "{page}");
    let idp = format!("http://127.0.0.1:{}", dev.idp);
    // The login form posted as a browser would, for one of the users.
    // A form of the hosted login posted as a browser would: the web
    // client's authorization request and the page's own fields.
    let web = s("web_client_id");
    let post = |page: &str, fields: &[(&str, &str)]| {
        let mut form = vec![
            ("client_id", web.as_str()),
            ("response_type", "code"),
            ("scope", "openid"),
            ("redirect_uri", callback),
            ("state", "st"),
        ];
        form.extend_from_slice(fields);
        let url = format!("{idp}/{page}");
        http().post(url).form(&form).send().unwrap()
    };
    let sign_in_with =
        |user: &str, password: &str| post("login", &[("username", user), ("password", password)]);
    let sign_in = |user: &str| sign_in_with(user, "Tr1gger-Ex4mple!");
    // A redirect back with a code, exchanged for the user's tokens.
    let tokens_of = |r: reqwest::blocking::Response| {
        assert_eq!(r.status(), 302, "{:?}", r.text());
        let back = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
        let code = back
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.to_string())
            .expect("a code");
        let r = http()
            .post(s("token_url"))
            .basic_auth(s("web_client_id"), Some(s("web_client_secret")))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", callback),
            ])
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json::<Value>().unwrap()
    };
    let tokens = tokens_of(sign_in("ada"));
    let id = common::jwt_claims(tokens["id_token"].as_str().unwrap());
    let access = common::jwt_claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(
        (&id["plan"], &id["tenant"]),
        (&json!("free"), &json!("acme")),
        "{id}"
    );
    assert_eq!(
        (&access["plan"], &access["tenant"]),
        (&json!("free"), &json!("acme")),
        "{access}"
    );
    assert_eq!(id["cognito:username"], "ada");
    // mallory's tenant is suspended: the pre authentication trigger refuses
    // her sign-in, and the login page says why, as Cognito's does.
    let r = sign_in("mallory");
    assert_eq!(r.status(), 400);
    let page = r.text().unwrap();
    assert!(
        page.contains("PreAuthentication failed with error the tenant blocked is suspended."),
        "{page}"
    );
    // grace is in the old store only: the user migration trigger takes her
    // in with the right password (her tenant then in her tokens), not with
    // a wrong one.
    let page = sign_in_with("grace", "Gr4ce-Hopper-1906?").text().unwrap();
    assert!(
        page.contains("UserMigration failed with error Bad password."),
        "{page}"
    );
    let tokens = tokens_of(sign_in_with("grace", "Gr4ce-Hopper-1906!"));
    let id = common::jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(
        (&id["cognito:username"], &id["tenant"]),
        (&json!("grace"), &json!("navy")),
        "{id}"
    );
    // Sign-up through the hosted login, each step with its trigger:
    // refused from spam.example (pre sign-up), confirmed at once from
    // claims.example, else a code by email (its text the custom message
    // trigger's, printed by dev) that confirms the account; each signed in
    // after the post confirmation trigger.
    let sign_up = |user: &str, email: &str| {
        let password = "Tr1gger-Ex4mple!";
        post(
            "signup",
            &[("username", user), ("email", email), ("password", password)],
        )
    };
    let page = sign_up("bob", "bob@spam.example").text().unwrap();
    assert!(
        page.contains("PreSignUp failed with error sign-ups from spam.example are closed."),
        "{page}"
    );
    let tokens = tokens_of(sign_up("carol", "carol@claims.example"));
    let id = common::jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["cognito:username"], "carol");
    let r = sign_up("dan", "dan@else.example");
    assert_eq!(r.status(), 200);
    let page = r.text().unwrap();
    let signup = page
        .split("name=\"signup\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("a confirmation form: {page}"))
        .to_string();
    let email = "an email to dan@else.example (not sent): Welcome to claims: Your claims code is ";
    let said = dev.said_once(email);
    let code: String = said
        .split(email)
        .nth(1)
        .unwrap_or_else(|| panic!("the code's email on dev's terminal: {said}"))
        .chars()
        .take(6)
        .collect();
    let confirm = |code: &str| post("confirm", &[("signup", signup.as_str()), ("code", code)]);
    let r = confirm("not-it");
    assert_eq!(r.status(), 400);
    assert!(r
        .text()
        .unwrap()
        .contains("Invalid verification code provided"));
    let tokens = tokens_of(confirm(&code));
    let id = common::jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["cognito:username"], "dan");
    for user in ["carol", "dan"] {
        let said = dev.said_once(&format!("welcome, {user}"));
        assert!(said.contains(&format!("welcome, {user}")), "{said}");
    }
    drop(dev);

    // The Lambda authorizer of `GET /v1/internal`: the gate function
    // decides from the x-api-key header.
    let config = copy.path().join("two.toml");
    std::fs::write(&config, "internal_key = \"k3y-of-the-house\"\n").unwrap();
    let (dev, o) = start("two_functions", Some(&config));
    let internal = o["internal_url"]
        .as_str()
        .map(String::from)
        .unwrap_or_else(|| format!("http://127.0.0.1:{}/v1/internal", dev.api));
    let get = |key: Option<&str>| {
        let mut r = http().get(&internal);
        if let Some(k) = key {
            r = r.header("x-api-key", k);
        }
        r.send().unwrap()
    };
    assert_eq!(get(None).status(), 401, "no identity source: not invoked");
    assert_eq!(get(Some("wrong")).status(), 403);
    let r = get(Some("k3y-of-the-house"));
    assert_eq!(r.status(), 200);
    let echoed: Value = r.json().unwrap();
    assert_eq!(
        echoed["caller"], "key holder",
        "the authorizer's context reaches the function: {echoed}"
    );
    // `/v1/hello` runs the `handler` crate, configured by the program.
    let hello = o["hello_url"].as_str().unwrap();
    let r = http().get(hello).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().unwrap()["redirectURL"], hello);
    // CORS as API Gateway answers it: the preflight answered by the API
    // itself (no OPTIONS route), its headers on the function's answer, and
    // none for an origin the API does not allow.
    let header = |r: &reqwest::blocking::Response, k: &str| {
        r.headers().get(k).map(|v| v.to_str().unwrap().to_string())
    };
    let ask = |origin: &str| {
        http()
            .request(reqwest::Method::OPTIONS, hello)
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
            .unwrap()
    };
    let r = ask("https://two.example");
    assert_eq!(r.status(), 204);
    let allowed = [
        "access-control-allow-origin",
        "access-control-allow-methods",
        "access-control-allow-headers",
        "access-control-max-age",
    ]
    .map(|k| header(&r, k));
    assert_eq!(
        allowed,
        [
            Some("https://two.example".into()),
            Some("GET".into()),
            Some("authorization,content-type".into()),
            Some("300".into())
        ]
    );
    let r = ask("https://elsewhere.example");
    assert_eq!(r.status(), 204);
    assert_eq!(header(&r, "access-control-allow-origin"), None);
    let r = http()
        .get(hello)
        .header("origin", "https://two.example")
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(&r, "access-control-allow-origin").as_deref(),
        Some("https://two.example")
    );
}

/// `--watch` for a program's own crates: `examples/hello_api.rs` runs the
/// `echo` crate; an edit to it rebuilds that crate alone (not the handler),
/// and the new code serves.
#[test]
fn watch_rebuilds_only_the_crate_that_changed() {
    let copy = common::handler_copy();
    let mut c = Command::new(common::example("hello_api"));
    common::builds_in(&mut c, &copy).env("DEPLOYER_HANDLER_ZIP", common::handler_zip());
    let dev = Dev::start_with(c, &["--watch"], 600);
    let url = dev.outputs()["url"].as_str().unwrap().to_string();
    let get = || http().get(&url).send().unwrap().json::<Value>().unwrap();
    assert_eq!(get()["edited"], Value::Null);
    let said = |what: &str| dev.said.lock().unwrap().iter().any(|l| l.contains(what));
    let t0 = Instant::now();
    while !said("watching") {
        assert!(t0.elapsed() < Duration::from_secs(60), "not watching");
        std::thread::sleep(Duration::from_millis(100));
    }
    let main = copy.path().join("functions/echo/src/main.rs");
    let src = std::fs::read_to_string(&main).unwrap();
    let line = "\"greeting\": greeting,";
    assert!(src.contains(line));
    std::fs::write(
        &main,
        src.replace(line, &format!("{line} \"edited\": true,")),
    )
    .unwrap();
    let t0 = Instant::now();
    while !(said("reloaded in") && get()["edited"] == json!(true)) {
        assert!(
            t0.elapsed() < Duration::from_secs(300),
            "no reload: {:?}",
            dev.said.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        said("echo changed: rebuilding echo"),
        "{:?}",
        dev.said.lock().unwrap()
    );
    assert!(!said("handler changed"), "{:?}", dev.said.lock().unwrap());
    // The greeting (the function's configuration) is unchanged.
    assert_eq!(get()["greeting"], "hello");
}

/// A program with two APIs and two user pools (`examples/two_apis.rs`):
/// each API served on a listener of its own, each pool under its own
/// issuer, one local hosted domain for both (a client ID names its pool);
/// a token of one pool opens its own API only (401 on the other, as API
/// Gateway's JWT authorizer answers a token of another issuer).
#[test]
fn every_api_and_pool_of_a_program_is_served() {
    let copy = common::handler_copy();
    let mut c = Command::new(common::example("two_apis"));
    common::builds_in(&mut c, &copy).env("DEPLOYER_HANDLER_ZIP", common::handler_zip());
    let dev = Dev::start_with(c, &["--api-port", "0"], 600);
    let said = dev.said.lock().unwrap().join("\n");
    assert!(
        said.contains("serving the API shop/api on")
            && said.contains("serving the API admin/api on"),
        "{said}"
    );
    let o = dev.outputs();
    let s = |k: &str| {
        o[k].as_str()
            .unwrap_or_else(|| panic!("{k} in {o}"))
            .to_string()
    };
    let port = |k: &str| url::Url::parse(&s(k)).unwrap().port();
    assert_ne!(port("shop_url"), port("admin_url"), "one listener per API");
    assert_ne!(s("shop_issuer"), s("admin_issuer"));
    let doors = ["shop", "admin"];
    for door in doors {
        let issuer = s(&format!("{door}_issuer"));
        let d: Value = http()
            .get(format!("{issuer}/.well-known/openid-configuration"))
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(d["issuer"], issuer.as_str());
    }
    let idp = url::Url::parse(&s("shop_issuer")).unwrap();
    let nowhere = idp.join("/eu-west-1_nopool/.well-known/jwks.json").unwrap();
    assert_eq!(http().get(nowhere).send().unwrap().status(), 404);
    for door in doors {
        let k = |what: &str| s(&format!("{door}_{what}"));
        let r = http()
            .post(k("token_url"))
            .basic_auth(k("client_id"), Some(k("client_secret")))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "{door}");
        let token = r.json::<Value>().unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_string();
        let claims = common::jwt_claims(&token);
        assert_eq!(claims["iss"], k("issuer").as_str(), "{claims}");
        assert_eq!(claims["scope"], format!("{door}/use").as_str());
        for other in doors {
            let r = http()
                .get(s(&format!("{other}_url")))
                .bearer_auth(&token)
                .send()
                .unwrap();
            if other == door {
                assert_eq!(r.status(), 200, "{door}'s token on {other}'s API");
                let body: Value = r.json().unwrap();
                assert_eq!(body["issuer"], k("issuer").as_str(), "{body}");
                assert_eq!(body["path"], "/whoami");
            } else {
                assert_eq!(r.status(), 401, "{door}'s token on {other}'s API");
            }
        }
    }
}
