//! Bearer validation with keys made in the test and a JWKS server on
//! 127.0.0.1, and the shapes of the responses.

mod support;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use handler::jwt::{Expect, Provider};
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use support::*;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn err(r: Result<serde_json::Map<String, Value>, String>) -> String {
    r.expect_err("the token must be rejected")
}

#[test]
fn the_validation_table() {
    let k1 = Key::new("k1");
    let idp = start_idp(&[&k1]);
    let cfg = config(&idp);
    let p = Provider::new(&cfg);
    let iss = idp.issuer();
    rt().block_on(async {
        let ok = p.validate(&k1.sign(&access_claims(&iss)), Expect::Access).await.unwrap();
        assert_eq!(ok["client_id"], "cc-client");
        assert_eq!(ok["scope"], "example/auth");
        let id = json!({"sub": "u1", "iss": iss, "aud": "code-client", "token_use": "id", "exp": now() + 60, "email_verified": true});
        let as_id = Expect::Id { audience: "code-client", nonce: None };
        assert_eq!(p.validate(&k1.sign(&id), as_id).await.unwrap()["email_verified"], true);

        let with = |f: &dyn Fn(&mut Value)| {
            let mut c = access_claims(&iss);
            f(&mut c);
            k1.sign(&c)
        };
        let cases: Vec<(&str, String, &str)> = vec![
            ("expired", with(&|c| c["exp"] = json!(now() - 60)), "ExpiredSignature"),
            ("not yet valid", with(&|c| c["nbf"] = json!(now() + 600)), "ImmatureSignature"),
            ("wrong issuer", with(&|c| c["iss"] = json!("https://evil.example")), "InvalidIssuer"),
            ("wrong token_use", with(&|c| c["token_use"] = json!("refresh")), "token_use"),
            ("wrong client", with(&|c| c["client_id"] = json!("someone-else")), "not allowed"),
            ("no exp", with(&|c| { c.as_object_mut().unwrap().remove("exp"); }), "exp"),
        ];
        for (name, token, needle) in cases {
            let e = err(p.validate(&token, Expect::Access).await);
            assert!(e.contains(needle), "{name}: {e}");
        }
        // Within the leeway an expired token still passes; beyond it, not.
        assert!(p.validate(&with(&|c| c["exp"] = json!(now() - 2)), Expect::Access).await.is_ok());

        let good = k1.sign(&access_claims(&iss));
        let parts: Vec<&str> = good.split('.').collect();
        let mut payload: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        payload["scope"] = json!("admin");
        let tampered = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(payload.to_string()), parts[2]);
        assert!(err(p.validate(&tampered, Expect::Access).await).contains("InvalidSignature"));
        let mut sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        sig[10] ^= 1;
        let bad_sig = format!("{}.{}.{}", parts[0], parts[1], URL_SAFE_NO_PAD.encode(sig));
        assert!(err(p.validate(&bad_sig, Expect::Access).await).contains("InvalidSignature"));

        // alg none: unsigned.
        let none_header = URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT", "kid": "k1"}).to_string());
        let none = format!("{none_header}.{}.", parts[1]);
        assert!(err(p.validate(&none, Expect::Access).await).contains("\"none\" is not allowed (RS256 only)"));
        // HS256 with the public key as the HMAC secret (the classic confusion).
        let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        h.kid = Some("k1".into());
        let hs = jsonwebtoken::encode(&h, &access_claims(&iss), &jsonwebtoken::EncodingKey::from_secret(k1.public_pem().as_bytes())).unwrap();
        assert!(err(p.validate(&hs, Expect::Access).await).contains("RS256 only"));
        assert!(err(p.validate("garbage", Expect::Access).await).contains("not a valid JWT"));
    });
}

#[test]
fn unknown_kid_refetches_once_then_rejects() {
    let k1 = Key::new("k1");
    let k2 = Key::new("k2");
    let idp = start_idp(&[&k1]);
    let p = Provider::new(&config(&idp));
    let iss = idp.issuer();
    rt().block_on(async {
        p.validate(&k1.sign(&access_claims(&iss)), Expect::Access)
            .await
            .unwrap();
        p.validate(&k1.sign(&access_claims(&iss)), Expect::Access)
            .await
            .unwrap();
        assert_eq!(
            idp.shared.jwks_fetches.load(Ordering::SeqCst),
            1,
            "the JWKS is cached"
        );
        // Unknown kid right after a fetch: rate-limited, no refetch, rejected.
        let e = err(p
            .validate(&k2.sign(&access_claims(&iss)), Expect::Access)
            .await);
        assert!(e.contains("\"k2\" is not in the issuer's JWKS"), "{e}");
        assert_eq!(idp.shared.jwks_fetches.load(Ordering::SeqCst), 1);
    });
    // After the interval, an unknown kid triggers one refetch (a rotation).
    let mut p = Provider::new(&config(&idp));
    p.refresh_interval = std::time::Duration::from_millis(50);
    rt().block_on(async {
        p.validate(&k1.sign(&access_claims(&iss)), Expect::Access)
            .await
            .unwrap();
        let before = idp.shared.jwks_fetches.load(Ordering::SeqCst);
        *idp.shared.jwks.lock().unwrap() = json!({"keys": [k1.jwk(), k2.jwk()]});
        tokio::time::sleep(std::time::Duration::from_millis(60)).await;
        p.validate(&k2.sign(&access_claims(&iss)), Expect::Access)
            .await
            .expect("rotated key found after one refetch");
        assert_eq!(idp.shared.jwks_fetches.load(Ordering::SeqCst), before + 1);
        let k3 = Key {
            kid: "k3".into(),
            private: k2.private.clone(),
        };
        tokio::time::sleep(std::time::Duration::from_millis(60)).await;
        assert!(err(p
            .validate(&k3.sign(&access_claims(&iss)), Expect::Access)
            .await)
        .contains("\"k3\""));
        assert_eq!(
            idp.shared.jwks_fetches.load(Ordering::SeqCst),
            before + 2,
            "one refetch, then rejected"
        );
    });
}

/// One failed JWKS fetch does not shut tokens out for the refresh interval,
/// and an empty or unreadable set keeps the keys already known.
#[test]
fn a_failed_or_empty_jwks_fetch_keeps_what_works() {
    let k1 = Key::new("k1");
    let k2 = Key::new("k2");
    let idp = start_idp(&[&k1]);
    let iss = idp.issuer();
    // The first fetch fails; the issuer comes back: the next token after
    // the short failure hold-off is accepted (not 60 s later).
    *idp.shared.jwks_down.lock().unwrap() = true;
    let mut p = Provider::new(&config(&idp));
    p.retry_after_failure = std::time::Duration::from_millis(50);
    rt().block_on(async {
        let e = err(p
            .validate(&k1.sign(&access_claims(&iss)), Expect::Access)
            .await);
        assert!(e.contains("cannot fetch the JWKS"), "{e}");
        *idp.shared.jwks_down.lock().unwrap() = false;
        tokio::time::sleep(std::time::Duration::from_millis(60)).await;
        p.validate(&k1.sign(&access_claims(&iss)), Expect::Access)
            .await
            .expect("accepted once the issuer answers again");
    });
    // A key rotation check meets an empty set, then a broken one: k1 keeps
    // working, k2 is refused.
    let mut p = Provider::new(&config(&idp));
    p.refresh_interval = std::time::Duration::from_millis(10);
    p.retry_after_failure = std::time::Duration::from_millis(10);
    rt().block_on(async {
        p.validate(&k1.sign(&access_claims(&iss)), Expect::Access)
            .await
            .unwrap();
        for broken in [json!({"keys": []}), json!({"nothing": true})] {
            *idp.shared.jwks.lock().unwrap() = broken.clone();
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            let e = err(p
                .validate(&k2.sign(&access_claims(&iss)), Expect::Access)
                .await);
            assert!(e.contains("holds no RS256 key"), "{broken}: {e}");
            p.validate(&k1.sign(&access_claims(&iss)), Expect::Access)
                .await
                .unwrap_or_else(|e| panic!("{broken}: the known key was wiped: {e}"));
        }
    });
}

/// Where an access token is expected (a bearer token), an ID token is
/// refused, even one of an allowed client and otherwise valid; the client of
/// an access token is its `client_id` (Cognito's carry no `aud`); and an
/// access token is not taken for the code flow's ID token either.
#[test]
fn an_id_token_is_not_an_access_token() {
    let k1 = Key::new("k1");
    let idp = start_idp(&[&k1]);
    let p = Provider::new(&config(&idp));
    let iss = idp.issuer();
    let id = json!({"sub": "u1", "iss": iss, "aud": "code-client", "token_use": "id", "exp": now() + 60});
    let as_id = Expect::Id {
        audience: "code-client",
        nonce: None,
    };
    rt().block_on(async {
        p.validate(&k1.sign(&id), as_id)
            .await
            .expect("a valid ID token");
        let e = err(p.validate(&k1.sign(&id), Expect::Access).await);
        assert!(e.contains("expected an access token"), "{e}");
        let mut no_use = id.clone();
        no_use.as_object_mut().unwrap().remove("token_use");
        let e = err(p.validate(&k1.sign(&no_use), Expect::Access).await);
        assert!(e.contains("token_use"), "{e}");
        // An access token naming an allowed client in `aud` only.
        let mut c = access_claims(&iss);
        c["client_id"] = json!("someone-else");
        c["aud"] = json!("code-client");
        let e = err(p.validate(&k1.sign(&c), Expect::Access).await);
        assert!(e.contains("\"someone-else\", which is not allowed"), "{e}");
        // An access token of the code client where its ID token is expected.
        let mut c = access_claims(&iss);
        c["client_id"] = json!("code-client");
        c["aud"] = json!("code-client");
        let e = err(p.validate(&k1.sign(&c), as_id).await);
        assert!(e.contains("expected an id token"), "{e}");
    });
    // The service: an ID token as the bearer token gives an ERROR, not claims.
    let app = handler::App::new(Ok(config(&idp)));
    let bearer = json!({"authorization": format!("Bearer {}", k1.sign(&id))});
    let b = body(&rt().block_on(app.handle(event("/", "", bearer, None))));
    let claims = b["authorizationClaims"].as_str().unwrap_or_default();
    assert!(
        claims.starts_with("ERROR: ") && claims.contains("expected an access token"),
        "{b}"
    );
}

/// The JWKS is trusted for `max_age`, then fetched again before a token is
/// accepted: a key the issuer has withdrawn stops being trusted; and when
/// that fetch fails the token is refused, not checked against the old set.
#[test]
fn the_jwks_is_fetched_again_after_its_max_age() {
    let k1 = Key::new("k1");
    let k2 = Key::new("k2");
    let idp = start_idp(&[&k1]);
    let iss = idp.issuer();
    let fetches = || idp.shared.jwks_fetches.load(Ordering::SeqCst);
    let max_age = std::time::Duration::from_secs(2);
    let mut p = Provider::new(&config(&idp));
    p.max_age = max_age;
    p.retry_after_failure = std::time::Duration::from_millis(10);
    let (t1, t2) = (k1.sign(&access_claims(&iss)), k2.sign(&access_claims(&iss)));
    rt().block_on(async {
        p.validate(&t1, Expect::Access).await.unwrap();
        // The issuer withdraws k1 (and publishes k2).
        *idp.shared.jwks.lock().unwrap() = json!({"keys": [k2.jwk()]});
        p.validate(&t1, Expect::Access)
            .await
            .expect("cached within its max age");
        assert_eq!(fetches(), 1, "the JWKS is cached");
        tokio::time::sleep(max_age + std::time::Duration::from_millis(100)).await;
        let e = err(p.validate(&t1, Expect::Access).await);
        assert!(e.contains("\"k1\" is not in the issuer's JWKS"), "{e}");
        assert_eq!(fetches(), 2, "fetched again once older than its max age");
        p.validate(&t2, Expect::Access)
            .await
            .expect("the new set's key");
        assert_eq!(fetches(), 2);
        // The set is old again and the issuer does not answer: refused.
        tokio::time::sleep(max_age + std::time::Duration::from_millis(100)).await;
        *idp.shared.jwks_down.lock().unwrap() = true;
        let e = err(p.validate(&t2, Expect::Access).await);
        assert!(e.contains("cannot fetch the JWKS"), "{e}");
        *idp.shared.jwks_down.lock().unwrap() = false;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        p.validate(&t2, Expect::Access)
            .await
            .expect("accepted once the issuer answers");
    });
}

#[test]
fn jwks_endpoint_down_is_a_clear_error() {
    let k1 = Key::new("k1");
    let idp = start_idp(&[&k1]);
    *idp.shared.jwks_down.lock().unwrap() = true;
    let p = Provider::new(&config(&idp));
    rt().block_on(async {
        let e = err(p
            .validate(&k1.sign(&access_claims(&idp.issuer())), Expect::Access)
            .await);
        assert!(
            e.contains("cannot fetch the JWKS") && e.contains("503"),
            "{e}"
        );
    });
    // Nothing listening at all.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cfg = config(&idp);
    cfg.issuer = format!("http://127.0.0.1:{port}");
    let p = Provider::new(&cfg);
    rt().block_on(async {
        let e = err(p
            .validate(&k1.sign(&access_claims(&cfg.issuer)), Expect::Access)
            .await);
        assert!(e.contains("cannot fetch the OpenID configuration"), "{e}");
    });
}

#[test]
fn response_shapes() {
    let k1 = Key::new("k1");
    let idp = start_idp(&[&k1]);
    let app = handler::App::new(Ok(config(&idp)));
    let token = k1.sign(&access_claims(&idp.issuer()));
    rt().block_on(async {
        // A bearer token: validated claims, header redacted in the echo.
        let r = app.handle(event("/", "", json!({"authorization": format!("Bearer {token}"), "x-other": "1"}), None)).await;
        assert_eq!(r["statusCode"], 200);
        assert_eq!(r["headers"]["content-type"], "application/json");
        let b = body(&r);
        assert_eq!(b["redirectURL"], "https://api.example/oidc");
        assert_eq!(b["authorizationClaims"]["token_use"], "access");
        assert_eq!(b["authorizationClaims"]["client_id"], "cc-client");
        assert_eq!(b["authorizationClaims"]["exp"].as_i64().map(|e| e > now()), Some(true), "claim types kept");
        assert_eq!(b["event"]["headers"]["authorization"], handler::REDACTED);
        assert_eq!(b["event"]["headers"]["x-other"], "1");
        assert!(!r["body"].as_str().unwrap().contains(&token), "the token is never echoed");
        assert!(b.get("apiGatewayAuthorizationClaims").is_none());
        // API Gateway's authorizer ran: its claims come through as given.
        let mut e = event("/jwt-cognito-protected", "", json!({"authorization": format!("Bearer {token}")}), None);
        e["requestContext"]["authorizer"] = json!({"jwt": {"claims": {"client_id": "cc-client", "scope": "example/auth", "exp": "1764000000"}, "scopes": null}});
        let b = body(&app.handle(e).await);
        assert_eq!(b["apiGatewayAuthorizationClaims"]["scope"], "example/auth");
        assert_eq!(b["apiGatewayAuthorizationClaims"]["exp"], "1764000000");
        // No Authorization header: no authorizationClaims.
        let b = body(&app.handle(event("/", "", json!({}), None)).await);
        assert!(b.get("authorizationClaims").is_none());
        assert!(b["event"]["requestContext"]["http"]["path"] == "/");
        // Garbage in the header: an ERROR string, not a failure.
        for garbage in ["Basic dXNlcjpwYXNz", "Bearer not.a.jwt", "Bearer", "🙂"] {
            let b = body(&app.handle(event("/", "", json!({"authorization": garbage}), None)).await);
            assert!(b["authorizationClaims"].as_str().unwrap().starts_with("ERROR: "), "{garbage}: {b}");
        }
    });
}

#[test]
fn missing_configuration_is_a_500_naming_the_variable() {
    let env = |k: &str| match k {
        "EXAMPLE_OIDC_REDIRECT_URL" => Some("https://x/oidc".to_string()),
        "EXAMPLE_OIDC_ISSUER_URL" => Some("https://issuer".to_string()),
        _ => None,
    };
    let app = handler::App::new(handler::Config::from_env(env));
    let r = rt().block_on(app.handle(event("/", "", json!({}), None)));
    assert_eq!(r["statusCode"], 500);
    assert!(body(&r)["error"]
        .as_str()
        .unwrap()
        .contains("EXAMPLE_OIDC_CLIENT_ID is not set"));
}
