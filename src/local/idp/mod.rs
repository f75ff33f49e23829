//! The local Cognito hosted domain and issuer, backed by the user pool in
//! the control plane: discovery and JWKS under the issuer, `/oauth2/authorize`
//! with a login page, `/oauth2/token` (client_credentials, authorization_code
//! with PKCE, refresh_token), `/oauth2/userInfo`. Errors use the OAuth2
//! error format.

mod hosted_ui;
mod pool;
pub mod signup;
mod token;
mod trigger;

pub(super) use hosted_ui::{
    check_request, error_page, error_part, hidden_fields, html, login_page, secret_hash, sign_in,
};
pub(super) use pool::{client, described_pool, triggers};
pub(super) use trigger::{said, Trigger};

use super::tokens::{self, now};
use super::{lambda, Plane};
use aws_sdk_cognitoidentityprovider::types::{TimeUnitsType, UserPoolClientType};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use token::{token, userinfo};

/// How long an authorization code is good for (Cognito's: 5 minutes).
pub const CODE_LIFETIME_SECONDS: i64 = 300;

/// How long an app client's tokens live, in seconds: its
/// `AccessTokenValidity`, `IdTokenValidity` and `RefreshTokenValidity` in
/// its `TokenValidityUnits`, as the control plane reports them. Cognito's
/// defaults where one is unset: an hour for access and ID tokens, 30 days
/// for refresh tokens; a value without a unit is in hours (access, ID) or
/// days (refresh).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    pub access: i64,
    pub id: i64,
    pub refresh: i64,
}

impl Lifetimes {
    pub fn of(c: &UserPoolClientType) -> Lifetimes {
        const HOUR: i64 = 3600;
        const DAY: i64 = 24 * HOUR;
        let units = c.token_validity_units.as_ref();
        Lifetimes {
            access: lifetime(
                c.access_token_validity,
                units.and_then(|u| u.access_token.as_ref()),
                HOUR,
                HOUR,
            ),
            id: lifetime(
                c.id_token_validity,
                units.and_then(|u| u.id_token.as_ref()),
                HOUR,
                HOUR,
            ),
            refresh: lifetime(
                Some(c.refresh_token_validity),
                units.and_then(|u| u.refresh_token.as_ref()),
                DAY,
                30 * DAY,
            ),
        }
    }
}

/// A validity in seconds: `value` in `unit` (else `default_unit` seconds),
/// or `default` when the client sets none (0 or absent).
fn lifetime(
    value: Option<i32>,
    unit: Option<&TimeUnitsType>,
    default_unit: i64,
    default: i64,
) -> i64 {
    let Some(v) = value.filter(|v| *v > 0) else {
        return default;
    };
    let per = match unit {
        Some(TimeUnitsType::Seconds) => 1,
        Some(TimeUnitsType::Minutes) => 60,
        Some(TimeUnitsType::Hours) => 3600,
        Some(TimeUnitsType::Days) => 86400,
        _ => default_unit,
    };
    i64::from(v) * per
}

/// Keeps `value` under `key` in `map`, first forgetting every entry past
/// its expiry (`expires`): the codes, refresh tokens and sign-ups no longer
/// good for anything are not kept for the life of `deployer dev`.
pub(super) fn keep<V>(
    map: &Mutex<HashMap<String, V>>,
    key: String,
    value: V,
    expires: impl Fn(&V) -> i64,
) {
    let mut m = map.lock().unwrap_or_else(|e| e.into_inner());
    prune(&mut m, now(), expires);
    m.insert(key, value);
}

/// Forgets the entries of `map` that expired before `at`.
pub(super) fn prune<V>(map: &mut HashMap<String, V>, at: i64, expires: impl Fn(&V) -> i64) {
    map.retain(|_, v| expires(v) >= at);
}

/// What the refresh token `rt` stands for, if it was issued to `client_id`
/// and is still within its lifetime at `at` (those past it are forgotten).
pub(super) fn refresh_grant(
    map: &Mutex<HashMap<String, Grant>>,
    rt: &str,
    client_id: &str,
    at: i64,
) -> Option<Grant> {
    let mut m = map.lock().unwrap_or_else(|e| e.into_inner());
    prune(&mut m, at, |g| g.expires);
    m.get(rt).filter(|g| g.client_id == client_id).cloned()
}

/// `s` as it can be shown on the terminal: control characters (escape
/// sequences, carriage returns, new lines) and the characters that reorder
/// text (bidirectional overrides) escaped, so that what a user typed (a
/// name, an email address) cannot rewrite or fake a line of
/// `deployer dev`'s.
pub fn printable(s: &str) -> String {
    let reorders = |c: char| {
        matches!(
            c,
            '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
    };
    s.chars()
        .map(|c| match c.is_control() || reorders(c) {
            true => c.escape_default().to_string(),
            false => c.to_string(),
        })
        .collect()
}

/// What an authorization code or refresh token stands for.
#[derive(Debug, Clone)]
pub struct Grant {
    /// The pool the client and the user are in.
    pub pool_id: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub username: String,
    pub auth_time: i64,
    /// When the code (or refresh token) stops being good.
    pub expires: i64,
    pub origin_jti: String,
}

pub fn router(plane: Arc<Plane>) -> Router {
    Router::new()
        .route("/{pool}/.well-known/openid-configuration", get(discovery))
        .route("/{pool}/.well-known/jwks.json", get(jwks))
        .route("/oauth2/authorize", get(authorize))
        .route("/login", get(authorize).post(login))
        .route("/signup", get(signup::page).post(signup::submit))
        .route("/confirm", post(signup::confirm))
        .route("/oauth2/token", post(token))
        .route("/oauth2/userInfo", get(userinfo))
        .with_state(plane)
}

/// A 302, as Cognito's hosted UI answers.
fn found(location: &str) -> Response {
    (
        StatusCode::FOUND,
        [(header::LOCATION, location.to_string())],
    )
        .into_response()
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// A 404 for an issuer path that is not one of the program's pools.
fn pool_not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"message": "User pool not found"})),
    )
        .into_response()
}

async fn discovery(State(p): State<Arc<Plane>>, Path(pool): Path<String>) -> Response {
    if !p.pools.contains(&pool) {
        return pool_not_found();
    }
    let issuer = p.issuer(&pool);
    let b = &p.idp_base;
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{b}/oauth2/authorize"),
        "token_endpoint": format!("{b}/oauth2/token"),
        "userinfo_endpoint": format!("{b}/oauth2/userInfo"),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "response_types_supported": ["code", "token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "phone", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
    }))
    .into_response()
}

async fn jwks(State(p): State<Arc<Plane>>, Path(pool): Path<String>) -> Response {
    if !p.pools.contains(&pool) {
        return pool_not_found();
    }
    Json(p.keys.jwks()).into_response()
}

/// Validates an authorization request; on success returns the login page.
async fn authorize(
    State(p): State<Arc<Plane>>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    match check_request(&p, &q).await {
        Ok(pool) => login_page(&q, None, pool::sign_up_open(&p, &pool).await),
        Err(r) => r,
    }
}

pub(super) const CARRIED: [&str; 8] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
];

/// Checks the password against the control plane; on success redirects back
/// with `code` and `state`, otherwise shows the form again with the error.
async fn login(State(p): State<Arc<Plane>>, Form(f): Form<BTreeMap<String, String>>) -> Response {
    match check_request(&p, &f).await {
        Ok(pool) => sign_in(&p, &pool, &f).await,
        Err(r) => r,
    }
}

#[cfg(test)]
mod tests;
