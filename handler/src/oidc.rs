//! `/oidc`: the Authorization Code flow with PKCE (S256), `state` and
//! `nonce` kept in HttpOnly, Secure, SameSite=Lax cookies scoped to the
//! redirect path.

use crate::jwt::{Expect, Provider};
use crate::{header, response, Config};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

pub const STATE_COOKIE: &str = "oidc_state";
pub const NONCE_COOKIE: &str = "oidc_nonce";
pub const VERIFIER_COOKIE: &str = "oidc_verifier";
pub const COOKIE_MAX_AGE: u32 = 3600;
pub const USER_CLAIMS: [&str; 8] = [
    "iss",
    "sub",
    "preferred_username",
    "email",
    "email_verified",
    "name",
    "given_name",
    "family_name",
];

pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// PKCE S256: base64url(SHA-256(verifier)).
pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn cookie_path(cfg: &Config) -> String {
    url::Url::parse(&cfg.redirect_url)
        .map(|u| u.path().to_string())
        .unwrap_or_else(|_| "/oidc".into())
}

fn set_cookie(name: &str, value: &str, path: &str, max_age: u32) -> String {
    format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; Secure; SameSite=Lax")
}

fn query(event: &Value) -> HashMap<String, String> {
    let raw = event["rawQueryString"].as_str().unwrap_or_default();
    url::form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect()
}

fn cookies(event: &Value) -> HashMap<String, String> {
    let mut all: Vec<String> = event["cookies"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    if let Some(h) = header(event, "cookie") {
        all.extend(h.split(';').map(|s| s.trim().to_string()));
    }
    all.iter()
        .filter_map(|c| {
            c.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        })
        .collect()
}

fn error(status: u16, error: &str, description: impl Into<String>) -> Value {
    response(
        status,
        json!({"error": error, "error_description": description.into()}),
        vec![],
        vec![],
    )
}

pub async fn handle(cfg: &Config, provider: &Provider, event: &Value) -> Value {
    let q = query(event);
    if let Some(e) = q.get("error") {
        return error(
            400,
            e,
            q.get("error_description").cloned().unwrap_or_default(),
        );
    }
    let path = cookie_path(cfg);
    let Some(code) = q.get("code") else {
        return start(cfg, provider, &path).await;
    };
    let c = cookies(event);
    let (Some(state), Some(nonce), Some(verifier)) = (
        c.get(STATE_COOKIE),
        c.get(NONCE_COOKIE),
        c.get(VERIFIER_COOKIE),
    ) else {
        return error(
            400,
            "invalid_request",
            "the login cookies are missing: start again at this URL without parameters",
        );
    };
    if q.get("state") != Some(state) {
        return error(
            400,
            "invalid_request",
            "state does not match this login: start again",
        );
    }
    let d = match provider.discovery().await {
        Ok(d) => d,
        Err(e) => return error(502, "server_error", e),
    };
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", cfg.redirect_url.as_str()),
        ("code_verifier", verifier.as_str()),
        ("client_id", cfg.client_id.as_str()),
    ];
    let r = provider
        .http
        .post(&d.token_endpoint)
        .basic_auth(&cfg.client_id, Some(&cfg.client_secret))
        .form(&form)
        .send()
        .await;
    let tokens: Value = match r {
        Ok(r) if r.status().is_success() => match r.json().await {
            Ok(v) => v,
            Err(e) => {
                return error(
                    502,
                    "server_error",
                    format!("the token endpoint answered no JSON: {e}"),
                )
            }
        },
        Ok(r) => {
            let status = r.status();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            return error(
                502,
                "server_error",
                format!(
                    "the code exchange failed ({status}): {}",
                    body["error"].as_str().unwrap_or("no error code")
                ),
            );
        }
        Err(e) => {
            return error(
                502,
                "server_error",
                format!("the code exchange failed: {e}"),
            )
        }
    };
    let Some(id_token) = tokens["id_token"].as_str() else {
        return error(
            502,
            "server_error",
            "the token endpoint returned no id_token",
        );
    };
    let claims = match provider
        .validate(
            id_token,
            Expect::Id {
                audience: &cfg.client_id,
                nonce: Some(nonce),
            },
        )
        .await
    {
        Ok(c) => c,
        Err(e) => return error(401, "invalid_token", e),
    };
    let out: Map<String, Value> = USER_CLAIMS
        .iter()
        .filter_map(|k| claims.get(*k).map(|v| (k.to_string(), v.clone())))
        .collect();
    let clear = [STATE_COOKIE, NONCE_COOKIE, VERIFIER_COOKIE]
        .iter()
        .map(|n| set_cookie(n, "", &path, 0))
        .collect();
    response(200, Value::Object(out), vec![], clear)
}

async fn start(cfg: &Config, provider: &Provider, path: &str) -> Value {
    let d = match provider.discovery().await {
        Ok(d) => d,
        Err(e) => return error(502, "server_error", e),
    };
    let (state, nonce, verifier) = (random_token(), random_token(), random_token());
    let mut url = match url::Url::parse(&d.authorization_endpoint) {
        Ok(u) => u,
        Err(e) => {
            return error(
                502,
                "server_error",
                format!("bad authorization endpoint: {e}"),
            )
        }
    };
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &cfg.client_id)
        .append_pair("redirect_uri", &cfg.redirect_url)
        .append_pair("scope", "openid email profile")
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &challenge(&verifier))
        .append_pair("code_challenge_method", "S256");
    let cookies = vec![
        set_cookie(STATE_COOKIE, &state, path, COOKIE_MAX_AGE),
        set_cookie(NONCE_COOKIE, &nonce, path, COOKIE_MAX_AGE),
        set_cookie(VERIFIER_COOKIE, &verifier, path, COOKIE_MAX_AGE),
    ];
    response(
        302,
        json!({"location": url.as_str()}),
        vec![("location", url.to_string())],
        cookies,
    )
}
