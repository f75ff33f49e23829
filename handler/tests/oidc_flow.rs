//! The whole /oidc flow against a test OpenID provider on 127.0.0.1.

mod support;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};
use std::collections::HashMap;
use support::*;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Starts the flow; returns (query of the redirect, cookie name -> value).
fn start(
    app: &handler::App,
) -> (
    HashMap<String, String>,
    HashMap<String, String>,
    Vec<String>,
) {
    let r = rt().block_on(app.handle(event("/oidc", "", json!({}), None)));
    assert_eq!(r["statusCode"], 302);
    let loc = url::Url::parse(r["headers"]["location"].as_str().unwrap()).unwrap();
    let q: HashMap<String, String> = loc.query_pairs().into_owned().collect();
    let raw: Vec<String> = r["cookies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    let cookies = raw
        .iter()
        .map(|c| {
            let (kv, _) = c.split_once(';').unwrap();
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect();
    (q, cookies, raw)
}

fn id_token(k: &Key, iss: &str, aud: &str, nonce: &str) -> String {
    k.sign(&json!({"iss": iss, "sub": "c5e4ae65", "aud": aud, "token_use": "id", "nonce": nonce, "exp": now() + 3600, "iat": now(),
        "auth_time": now(), "cognito:username": "alice", "preferred_username": "alice", "email": "alice@example.com", "email_verified": true,
        "name": "Alice Doe", "given_name": "Alice", "family_name": "Doe"}))
}

fn callback(
    app: &handler::App,
    code: &str,
    state: &str,
    cookies: &HashMap<String, String>,
) -> Value {
    let jar: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
    rt().block_on(app.handle(event(
        "/oidc",
        &format!("code={code}&state={state}"),
        json!({}),
        Some(jar),
    )))
}

#[test]
fn redirect_parameters_pkce_and_cookies() {
    let k = Key::new("k1");
    let idp = start_idp(&[&k]);
    let app = handler::App::new(Ok(config(&idp)));
    let (q, cookies, raw) = start(&app);
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], "code-client");
    assert_eq!(q["redirect_uri"], "https://api.example/oidc");
    assert_eq!(q["scope"], "openid email profile");
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["state"], cookies["oidc_state"]);
    assert_eq!(q["nonce"], cookies["oidc_nonce"]);
    let verifier = &cookies["oidc_verifier"];
    assert!(verifier.len() >= 43);
    use sha2::Digest;
    assert_eq!(
        q["code_challenge"],
        URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
    );
    for c in raw {
        for attr in [
            "Path=/oidc",
            "HttpOnly",
            "Secure",
            "SameSite=Lax",
            "Max-Age=3600",
        ] {
            assert!(c.contains(attr), "{c} lacks {attr}");
        }
    }
    // Each login gets fresh values.
    let (q2, _, _) = start(&app);
    assert_ne!(q["state"], q2["state"]);
}

#[test]
fn successful_callback_returns_the_users_claims_and_clears_cookies() {
    let k = Key::new("k1");
    let idp = start_idp(&[&k]);
    let app = handler::App::new(Ok(config(&idp)));
    let (q, cookies, _) = start(&app);
    *idp.shared.token_reply.lock().unwrap() = Some((
        200,
        json!({"id_token": id_token(&k, &idp.issuer(), "code-client", &q["nonce"]), "access_token": "a", "token_type": "Bearer"}),
    ));
    let r = callback(&app, "the-code", &q["state"], &cookies);
    assert_eq!(r["statusCode"], 200, "{r}");
    let b = body(&r);
    assert_eq!(
        b,
        json!({"iss": idp.issuer(), "sub": "c5e4ae65", "preferred_username": "alice", "email": "alice@example.com", "email_verified": true, "name": "Alice Doe", "given_name": "Alice", "family_name": "Doe"})
    );
    for c in r["cookies"].as_array().unwrap() {
        assert!(
            c.as_str().unwrap().contains("Max-Age=0"),
            "cookies are cleared: {c}"
        );
    }
    // What the token endpoint received: basic auth, code, verifier, redirect.
    let reqs = idp.shared.token_requests.lock().unwrap();
    let (headers, form) = &reqs[0];
    assert_eq!(
        headers["authorization"],
        basic("code-client", "code-secret")
    );
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(form["code"], "the-code");
    assert_eq!(form["code_verifier"], cookies["oidc_verifier"]);
    assert_eq!(form["redirect_uri"], "https://api.example/oidc");
}

#[test]
fn each_failure_path() {
    let k = Key::new("k1");
    let idp = start_idp(&[&k]);
    let app = handler::App::new(Ok(config(&idp)));
    let (q, cookies, _) = start(&app);
    // State mismatch.
    let r = callback(&app, "c", "not-the-state", &cookies);
    assert_eq!(r["statusCode"], 400);
    assert!(body(&r)["error_description"]
        .as_str()
        .unwrap()
        .contains("state"));
    // Missing cookies.
    let r = callback(&app, "c", &q["state"], &HashMap::new());
    assert_eq!(r["statusCode"], 400);
    // Provider error.
    let r = rt().block_on(app.handle(event(
        "/oidc",
        "error=access_denied&error_description=User+cancelled",
        json!({}),
        None,
    )));
    assert_eq!(r["statusCode"], 400);
    assert_eq!(
        body(&r),
        json!({"error": "access_denied", "error_description": "User cancelled"})
    );
    // Failed exchange.
    *idp.shared.token_reply.lock().unwrap() = Some((400, json!({"error": "invalid_grant"})));
    let r = callback(&app, "c", &q["state"], &cookies);
    assert_eq!(r["statusCode"], 502);
    assert!(body(&r)["error_description"]
        .as_str()
        .unwrap()
        .contains("invalid_grant"));
    // Nonce mismatch.
    *idp.shared.token_reply.lock().unwrap() = Some((
        200,
        json!({"id_token": id_token(&k, &idp.issuer(), "code-client", "another-nonce")}),
    ));
    let r = callback(&app, "c", &q["state"], &cookies);
    assert_eq!(r["statusCode"], 401);
    assert!(body(&r)["error_description"]
        .as_str()
        .unwrap()
        .contains("nonce"));
    // ID token for another audience.
    *idp.shared.token_reply.lock().unwrap() = Some((
        200,
        json!({"id_token": id_token(&k, &idp.issuer(), "cc-client", &q["nonce"])}),
    ));
    let r = callback(&app, "c", &q["state"], &cookies);
    assert_eq!(r["statusCode"], 401);
    assert!(
        body(&r)["error_description"]
            .as_str()
            .unwrap()
            .contains("audience"),
        "{r}"
    );
    // An access token in place of the ID token.
    *idp.shared.token_reply.lock().unwrap() = Some((
        200,
        json!({"id_token": k.sign(&access_claims(&idp.issuer()))}),
    ));
    assert_eq!(
        callback(&app, "c", &q["state"], &cookies)["statusCode"],
        401
    );
}
