//! The hosted UI: the authorization request's checks, the login page, the
//! sign-in (with the pool's authentication triggers).

use super::pool::{client, find_user, has_flow, triggers};
use super::trigger::{authentication_trigger, migrate, Trigger};
use super::{found, keep, Grant, CARRIED, CODE_LIFETIME_SECONDS};
use crate::local::tokens::{now, uuid};
use crate::local::Plane;
use aws_sdk_cognitoidentityprovider::types::AuthFlowType;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::Mac;
use sha2::Sha256;
use std::collections::BTreeMap;

pub(in crate::local) fn error_page(status: StatusCode, message: &str) -> Response {
    (status, Html(format!("<!doctype html><html><head><title>Error</title></head><body><h1>Error</h1><p id=\"error\">{}</p></body></html>", html(message)))).into_response()
}

pub(in crate::local) fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Checks an authorization request; its client's pool if it is valid.
pub(in crate::local) async fn check_request(
    p: &Plane,
    q: &BTreeMap<String, String>,
) -> Result<String, Response> {
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or_default();
    let Some((pool, c)) = client(p, get("client_id")).await else {
        return Err(error_page(
            StatusCode::BAD_REQUEST,
            "invalid_request: unknown client_id",
        ));
    };
    if !c.callback_urls().iter().any(|u| u == get("redirect_uri")) {
        return Err(error_page(
            StatusCode::BAD_REQUEST,
            "redirect_mismatch: redirect_uri is not a callback URL of this client",
        ));
    }
    let back = |e: &str| {
        let mut u = url::Url::parse(get("redirect_uri")).expect("checked callback URL");
        u.query_pairs_mut().append_pair("error", e);
        if let Some(s) = q.get("state") {
            u.query_pairs_mut().append_pair("state", s);
        }
        found(u.as_str())
    };
    if get("response_type") != "code" || !has_flow(&c, "code") {
        return Err(back("unauthorized_client"));
    }
    let allowed = c.allowed_o_auth_scopes();
    if get("scope")
        .split_whitespace()
        .any(|s| !allowed.iter().any(|a| a == s))
    {
        return Err(back("invalid_scope"));
    }
    if q.contains_key("code_challenge") && get("code_challenge_method") != "S256" {
        return Err(back("invalid_request"));
    }
    Ok(pool)
}

/// The OAuth parameters of the authorization request, carried from page to
/// page as hidden form fields.
pub(in crate::local) fn hidden_fields(q: &BTreeMap<String, String>) -> String {
    CARRIED
        .iter()
        .filter_map(|k| {
            q.get(*k)
                .map(|v| format!("<input type=\"hidden\" name=\"{k}\" value=\"{}\">", html(v)))
        })
        .collect()
}

/// The same parameters as a query string (a link to the sign-up page).
fn carried_query(q: &BTreeMap<String, String>) -> String {
    let mut u = url::form_urlencoded::Serializer::new(String::new());
    for k in CARRIED {
        if let Some(v) = q.get(k) {
            u.append_pair(k, v);
        }
    }
    u.finish()
}

/// A page's status and error paragraph: 400 with the error shown, else 200.
pub(in crate::local) fn error_part(error: Option<&str>) -> (StatusCode, String) {
    match error {
        Some(e) => (
            StatusCode::BAD_REQUEST,
            format!("<p class=\"error\" id=\"error\">{}</p>", html(e)),
        ),
        None => (StatusCode::OK, String::new()),
    }
}

/// The login form; with a link to the sign-up form if the pool lets people
/// sign up (`signup`).
pub(in crate::local) fn login_page(
    q: &BTreeMap<String, String>,
    error: Option<&str>,
    signup: bool,
) -> Response {
    let hidden = hidden_fields(q);
    let (status, err) = error_part(error);
    let signup = match signup {
        true => format!(
            "<p>Need an account? <a id=\"signup\" href=\"{}\">Sign up</a></p>",
            html(&format!("/signup?{}", carried_query(q)))
        ),
        false => String::new(),
    };
    (status, Html(format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>Sign in</title>
<style>body{{font-family:sans-serif;max-width:22em;margin:4em auto}}input{{display:block;width:100%;margin:.4em 0 1em;padding:.4em}}.error{{color:#b00}}</style></head>
<body><h1>Sign in with your username and password</h1>{err}
<form method="post" action="/login">{hidden}
<label for="username">Username</label><input id="username" name="username" autocomplete="username" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button id="signin" type="submit">Sign in</button></form>{signup}
<p><small>deployer dev: local stand-in for the Cognito hosted UI</small></p></body></html>"#
    )))
        .into_response()
}

pub(in crate::local) fn secret_hash(secret: &str, username: &str, client_id: &str) -> String {
    let mut m = hmac::Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC key");
    m.update(format!("{username}{client_id}").as_bytes());
    STANDARD.encode(m.finalize().into_bytes())
}

/// Signs in the form's user (`username`, `password`) with the pool's
/// triggers around the password check, as Cognito does; on success
/// redirects back to the client with `code` and `state`, else shows the
/// login form again with the error.
pub(in crate::local) async fn sign_in(
    p: &Plane,
    pool: &str,
    f: &BTreeMap<String, String>,
) -> Response {
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let (user, client_id) = (get("username"), get("client_id"));
    let open = super::pool::sign_up_open(p, pool).await;
    let secret = client(p, &client_id)
        .await
        .and_then(|(_, c)| c.client_secret)
        .unwrap_or_default();
    // The pool's authentication triggers, as Cognito runs them around the
    // password check (a known user only); a user the pool does not know
    // is first offered to its user migration trigger.
    let pool_triggers = triggers(p, pool).await;
    let pre = pool_triggers
        .as_ref()
        .and_then(|t| t.pre_authentication.clone());
    let post = pool_triggers
        .as_ref()
        .and_then(|t| t.post_authentication.clone());
    let at = Trigger {
        p,
        pool,
        user: &user,
        client_id: &client_id,
    };
    let mut known = find_user(p, pool, &user).await.is_some();
    let migration = pool_triggers
        .as_ref()
        .and_then(|t| t.user_migration.clone());
    if let (Some(arn), false) = (&migration, known) {
        match migrate(&at, arn, &get("password")).await {
            Ok(migrated) => known = migrated,
            Err(e) => {
                let e = format!("UserMigration failed with error {e}.");
                return login_page(f, Some(&e), open);
            }
        }
    }
    if let (Some(arn), true) = (&pre, known) {
        let source = "PreAuthentication_Authentication";
        if let Err(e) = authentication_trigger(&at, arn, source).await {
            let e = format!("PreAuthentication failed with error {e}.");
            return login_page(f, Some(&e), open);
        }
    }
    let mut req = p
        .aws
        .cognito
        .admin_initiate_auth()
        .user_pool_id(pool)
        .client_id(&client_id)
        .auth_flow(AuthFlowType::AdminUserPasswordAuth)
        .auth_parameters("USERNAME", &user)
        .auth_parameters("PASSWORD", get("password"));
    if !secret.is_empty() {
        req = req.auth_parameters("SECRET_HASH", secret_hash(&secret, &user, &client_id));
    }
    match req.send().await {
        Ok(r) if r.authentication_result.is_some() => {}
        _ => return login_page(f, Some("Incorrect username or password."), open),
    }
    if let Some(arn) = &post {
        let source = "PostAuthentication_Authentication";
        if let Err(e) = authentication_trigger(&at, arn, source).await {
            let e = format!("PostAuthentication failed with error {e}.");
            return login_page(f, Some(&e), open);
        }
    }
    let code = uuid();
    let grant = Grant {
        pool_id: pool.to_string(),
        client_id,
        redirect_uri: get("redirect_uri"),
        scope: get("scope"),
        nonce: f.get("nonce").cloned(),
        code_challenge: f.get("code_challenge").cloned(),
        username: user,
        auth_time: now(),
        expires: now() + CODE_LIFETIME_SECONDS,
        origin_jti: uuid(),
    };
    keep(&p.codes, code.clone(), grant, |g| g.expires);
    let mut u = url::Url::parse(&get("redirect_uri")).expect("checked callback URL");
    u.query_pairs_mut().append_pair("code", &code);
    if let Some(s) = f.get("state") {
        u.query_pairs_mut().append_pair("state", s);
    }
    found(u.as_str())
}
