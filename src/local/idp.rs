//! The local Cognito hosted domain and issuer, backed by the user pool in
//! the control plane: discovery and JWKS under the issuer, `/oauth2/authorize`
//! with a login page, `/oauth2/token` (client_credentials, authorization_code
//! with PKCE, refresh_token), `/oauth2/userInfo`. Errors use the OAuth2
//! error format.

use super::tokens::{at_hash, now, random_id, uuid};
use super::Plane;
use aws_sdk_cognitoidentityprovider::types::{AuthFlowType, TimeUnitsType, UserPoolClientType};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use hmac::Mac;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

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
        .route(
            "/signup",
            get(super::signup::page).post(super::signup::submit),
        )
        .route("/confirm", post(super::signup::confirm))
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

/// A client of one of the program's pools, and its pool: the local hosted
/// domain serves every pool at one address, and a client ID names its pool
/// (on AWS each pool's domain does).
pub(super) async fn client(p: &Plane, id: &str) -> Option<(String, UserPoolClientType)> {
    for pool in &p.pools {
        let c = p
            .aws
            .cognito
            .describe_user_pool_client()
            .user_pool_id(pool)
            .client_id(id)
            .send()
            .await
            .ok()
            .and_then(|c| c.user_pool_client);
        if let Some(c) = c {
            return Some((pool.clone(), c));
        }
    }
    None
}

fn has_flow(c: &UserPoolClientType, flow: &str) -> bool {
    c.allowed_o_auth_flows_user_pool_client == Some(true)
        && c.allowed_o_auth_flows().iter().any(|f| f.as_str() == flow)
}

pub(super) fn error_page(status: StatusCode, message: &str) -> Response {
    (status, Html(format!("<!doctype html><html><head><title>Error</title></head><body><h1>Error</h1><p id=\"error\">{}</p></body></html>", html(message)))).into_response()
}

pub(super) fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Validates an authorization request; on success returns the login page.
async fn authorize(
    State(p): State<Arc<Plane>>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    match check_request(&p, &q).await {
        Ok(pool) => login_page(&q, None, super::signup::open(&p, &pool).await),
        Err(r) => r,
    }
}

/// Checks an authorization request; its client's pool if it is valid.
pub(super) async fn check_request(
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

/// The OAuth parameters of the authorization request, carried from page to
/// page as hidden form fields.
pub(super) fn hidden_fields(q: &BTreeMap<String, String>) -> String {
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
pub(super) fn error_part(error: Option<&str>) -> (StatusCode, String) {
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
pub(super) fn login_page(
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

pub(super) fn secret_hash(secret: &str, username: &str, client_id: &str) -> String {
    let mut m = hmac::Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC key");
    m.update(format!("{username}{client_id}").as_bytes());
    STANDARD.encode(m.finalize().into_bytes())
}

/// Checks the password against the control plane; on success redirects back
/// with `code` and `state`, otherwise shows the form again with the error.
async fn login(State(p): State<Arc<Plane>>, Form(f): Form<BTreeMap<String, String>>) -> Response {
    match check_request(&p, &f).await {
        Ok(pool) => sign_in(&p, &pool, &f).await,
        Err(r) => r,
    }
}

/// Signs in the form's user (`username`, `password`) with the pool's
/// triggers around the password check, as Cognito does; on success
/// redirects back to the client with `code` and `state`, else shows the
/// login form again with the error.
pub(super) async fn sign_in(p: &Plane, pool: &str, f: &BTreeMap<String, String>) -> Response {
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let (user, client_id) = (get("username"), get("client_id"));
    let open = super::signup::open(p, pool).await;
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

/// Client authentication: HTTP Basic or client_id/client_secret in the form.
fn client_credentials(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Option<(String, String)> {
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    {
        let raw = String::from_utf8(STANDARD.decode(basic.trim()).ok()?).ok()?;
        let (id, secret) = raw.split_once(':')?;
        let dec = |s: &str| {
            urlencoding::decode(s)
                .map(|c| c.into_owned())
                .unwrap_or_else(|_| s.to_string())
        };
        return Some((dec(id), dec(secret)));
    }
    Some((
        form.get("client_id")?.clone(),
        form.get("client_secret").cloned().unwrap_or_default(),
    ))
}

/// The groups a user is a member of, as the pool has them (none when the
/// read fails: a token without the claim, as for a user in no group).
async fn user_groups(p: &Plane, pool: &str, username: &str) -> Vec<String> {
    let r = p
        .aws
        .cognito
        .admin_list_groups_for_user()
        .user_pool_id(pool)
        .username(username)
        .send()
        .await;
    match r {
        Ok(o) => o
            .groups
            .unwrap_or_default()
            .into_iter()
            .filter_map(|g| g.group_name)
            .collect(),
        Err(e) => {
            eprintln!("deployer dev: the groups of {}: {e}", printable(username));
            vec![]
        }
    }
}

/// A user of the pool: attributes, and whether the user is enabled (not
/// disabled by `AdminDisableUser`); `None` for a user the pool does not know.
struct User {
    attributes: Map<String, Value>,
    enabled: bool,
}

async fn find_user(p: &Plane, pool: &str, username: &str) -> Option<User> {
    let u = p
        .aws
        .cognito
        .admin_get_user()
        .user_pool_id(pool)
        .username(username)
        .send()
        .await
        .ok()?;
    Some(User {
        attributes: u
            .user_attributes
            .unwrap_or_default()
            .into_iter()
            .map(|a| (a.name, Value::String(a.value.unwrap_or_default())))
            .collect(),
        enabled: u.enabled,
    })
}

async fn user_attributes(p: &Plane, pool: &str, username: &str) -> Option<Map<String, Value>> {
    find_user(p, pool, username).await.map(|u| u.attributes)
}

async fn token(
    State(p): State<Arc<Plane>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let Some((client_id, secret)) = client_credentials(&headers, &form) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        );
    };
    let Some((pool, c)) = client(&p, &client_id).await else {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "unknown client");
    };
    if c.client_secret.as_deref().unwrap_or_default() != secret {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        );
    }
    let allowed: Vec<String> = c.allowed_o_auth_scopes().to_vec();
    let life = Lifetimes::of(&c);
    // Codes and refresh tokens past their lifetime are forgotten.
    let t = now();
    prune(&mut p.codes.lock().unwrap(), t, |g| g.expires);
    prune(&mut p.refresh.lock().unwrap(), t, |g| g.expires);
    match form.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {
            if !has_flow(&c, "client_credentials") {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "unauthorized_client",
                    "client_credentials is not enabled for this client",
                );
            }
            let scope = match form.get("scope") {
                Some(s) => {
                    if s.split_whitespace()
                        .any(|x| !allowed.contains(&x.to_string()))
                    {
                        return oauth_error(
                            StatusCode::BAD_REQUEST,
                            "invalid_scope",
                            "a requested scope is not allowed for this client",
                        );
                    }
                    s.clone()
                }
                None => allowed.join(" "),
            };
            let t = now();
            let mut access = json!({"sub": client_id, "token_use": "access", "scope": scope, "auth_time": t, "iss": p.issuer(&pool),
                "exp": t + life.access, "iat": t, "version": 2, "jti": uuid(), "client_id": client_id});
            // A machine-to-machine token passes the trigger from version 3.
            if let Err(e) =
                pre_token_generation(&p, &pool, &client_id, None, &mut access, None).await
            {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", &e);
            }
            let access = p.keys.sign(&access);
            Json(json!({"access_token": access, "expires_in": life.access, "token_type": "Bearer"}))
                .into_response()
        }
        Some("authorization_code") => {
            let code = form.get("code").cloned().unwrap_or_default();
            // Single use: taken out whatever happens next.
            let Some(g) = p.codes.lock().unwrap().remove(&code) else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "unknown or used code",
                );
            };
            if g.expires < now() {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "the code has expired",
                );
            }
            if g.client_id != client_id || form.get("redirect_uri") != Some(&g.redirect_uri) {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "the code was issued to another client or redirect_uri",
                );
            }
            if let Some(ch) = &g.code_challenge {
                let v = form.get("code_verifier").cloned().unwrap_or_default();
                if URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes())) != *ch {
                    return oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        "code_verifier does not match the code_challenge",
                    );
                }
            }
            issue_user_tokens(&p, &g, life, true).await
        }
        Some("refresh_token") => {
            let rt = form.get("refresh_token").cloned().unwrap_or_default();
            match refresh_grant(&p.refresh, &rt, &client_id, now()) {
                Some(g) => issue_user_tokens(&p, &g, life, false).await,
                None => oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "unknown refresh token",
                ),
            }
        }
        _ => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be client_credentials, authorization_code or refresh_token",
        ),
    }
}

/// The tokens of the grant's user, living as long as the client's
/// settings say (`life`): access and ID tokens, and (`with_refresh`, a
/// code's exchange) a refresh token. Refused for a user the pool no longer
/// has, or has disabled.
async fn issue_user_tokens(p: &Plane, g: &Grant, life: Lifetimes, with_refresh: bool) -> Response {
    let pool = &g.pool_id;
    let Some(user) = find_user(p, pool, &g.username).await else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the user no longer exists",
        );
    };
    if !user.enabled {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "User is disabled.",
        );
    }
    let attrs = user.attributes;
    let sub = attrs
        .get("sub")
        .and_then(Value::as_str)
        .map(String::from)
        .unwrap_or_else(|| g.username.clone());
    let t = now();
    let mut access = json!({"sub": sub, "iss": p.issuer(pool), "version": 2, "client_id": g.client_id, "origin_jti": g.origin_jti,
        "token_use": "access", "scope": g.scope, "auth_time": g.auth_time, "exp": t + life.access, "iat": t, "jti": uuid(), "username": g.username});
    // Cognito puts the user's groups in both tokens.
    let groups = user_groups(p, pool, &g.username).await;
    if !groups.is_empty() {
        access["cognito:groups"] = json!(groups);
    }
    let mut id = json!({"sub": sub, "iss": p.issuer(pool), "cognito:username": g.username, "origin_jti": g.origin_jti,
        "aud": g.client_id, "token_use": "id", "auth_time": g.auth_time, "exp": t + life.id, "iat": t, "jti": uuid()});
    if !groups.is_empty() {
        id["cognito:groups"] = json!(groups);
    }
    if let Some(n) = &g.nonce {
        id["nonce"] = json!(n);
    }
    let scopes: Vec<&str> = g.scope.split_whitespace().collect();
    for (k, v) in &attrs {
        let wanted = match k.as_str() {
            "email" | "email_verified" => scopes.contains(&"email"),
            "sub" => false,
            _ => scopes.contains(&"profile"),
        };
        if wanted {
            id[k] = if k.ends_with("_verified") {
                json!(v == "true")
            } else {
                v.clone()
            };
        }
    }
    let user = TokenUser {
        name: &g.username,
        attributes: &attrs,
        groups: &groups,
    };
    if let Err(e) = pre_token_generation(
        p,
        pool,
        &g.client_id,
        Some(user),
        &mut access,
        Some(&mut id),
    )
    .await
    {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", &e);
    }
    let access = p.keys.sign(&access);
    id["at_hash"] = json!(at_hash(&access));
    let mut out = json!({"access_token": access, "id_token": p.keys.sign(&id), "expires_in": life.access, "token_type": "Bearer"});
    if with_refresh {
        let rt = random_id(32);
        // Good for the client's refresh token lifetime from now (a refresh
        // gives no new one: the lifetime counts from the sign-in).
        let refresh = Grant {
            expires: now() + life.refresh,
            ..g.clone()
        };
        keep(&p.refresh, rt.clone(), refresh, |g| g.expires);
        out["refresh_token"] = json!(rt);
    }
    Json(out).into_response()
}

/// The user tokens are issued to.
struct TokenUser<'a> {
    name: &'a str,
    attributes: &'a Map<String, Value>,
    groups: &'a [String],
}

/// The pool's pre token generation trigger: its function's ARN and the
/// event's version (`"1"`, `"2"`, `"3"`), if it has one.
async fn pre_token_trigger(p: &Plane, pool: &str) -> Option<(String, String)> {
    let l = triggers(p, pool).await?;
    if let Some(c) = &l.pre_token_generation_config {
        let v = match c.lambda_version.as_str() {
            "V2_0" => "2",
            "V3_0" => "3",
            _ => "1",
        };
        return Some((c.lambda_arn.clone(), v.to_string()));
    }
    l.pre_token_generation.clone().map(|a| (a, "1".to_string()))
}

/// The pool's triggers (its `LambdaConfig`), as the control plane has them.
pub(super) async fn triggers(
    p: &Plane,
    pool: &str,
) -> Option<aws_sdk_cognitoidentityprovider::types::LambdaConfigType> {
    described_pool(p, pool)
        .await?
        .user_pool
        .as_ref()?
        .lambda_config
        .clone()
}

/// The pool as the control plane describes it (read within `READ_TTL`):
/// its triggers, whether people may sign up, its verification message.
pub(super) async fn described_pool(
    p: &Plane,
    pool: &str,
) -> Option<
    Arc<aws_sdk_cognitoidentityprovider::operation::describe_user_pool::DescribeUserPoolOutput>,
> {
    p.reads
        .get(
            format!("DescribeUserPool {pool}"),
            p.aws.cognito.describe_user_pool().user_pool_id(pool).send(),
        )
        .await
        .ok()
}

/// Who a trigger runs for: the pool, the user, the app client.
pub(super) struct Trigger<'a> {
    pub p: &'a Plane,
    pub pool: &'a str,
    pub user: &'a str,
    pub client_id: &'a str,
}

impl Trigger<'_> {
    /// Runs the function `arn` with Cognito's event (version 1) of
    /// `source` and `request`: the `response` it gives back, or its error
    /// (which fails what it runs in).
    pub(super) async fn run(
        &self,
        arn: &str,
        source: &str,
        request: Value,
    ) -> Result<Value, String> {
        let p = self.p;
        let event = json!({
            "version": "1",
            "triggerSource": source,
            "region": p.region,
            "userPoolId": self.pool,
            "userName": self.user,
            "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": self.client_id},
            "request": request,
            "response": {},
        });
        let cfg = p.function_config(arn).await?;
        match p.lambda.invoke(&cfg, event).await {
            Ok(out) => Ok(out["response"].clone()),
            Err(super::lambda::InvokeError::Failed(e)) => Err(function_error(&e)),
            Err(e) => Err(format!("{e:?}")),
        }
    }

    /// The user's attributes as the pool has them (none if unknown).
    pub(super) async fn attributes(&self) -> Map<String, Value> {
        user_attributes(self.p, self.pool, self.user)
            .await
            .unwrap_or_default()
    }
}

/// Runs a pre or post authentication trigger for the user: an error is the
/// function's, which fails the sign-in.
async fn authentication_trigger(at: &Trigger<'_>, arn: &str, source: &str) -> Result<(), String> {
    let mut request = json!({"userAttributes": at.attributes().await});
    if source.starts_with("Pre") {
        request["validationData"] = json!({});
    } else {
        request["newDeviceUsed"] = json!(false);
    }
    at.run(arn, source, request).await.map(|_| ())
}

/// A user the pool does not know, offered to its user migration trigger
/// with the password typed (`UserMigration_Authentication`): the
/// attributes it answers make the user in the pool with that password
/// (`CONFIRMED`; a welcome message is never sent here), and the sign-in
/// goes on. `false`: the function knows no such user either.
async fn migrate(at: &Trigger<'_>, arn: &str, password: &str) -> Result<bool, String> {
    use aws_sdk_cognitoidentityprovider::types::{AttributeType, MessageActionType};
    let request = json!({"password": password, "validationData": {}});
    let r = at.run(arn, "UserMigration_Authentication", request).await?;
    let Some(attributes) = r["userAttributes"].as_object().filter(|a| !a.is_empty()) else {
        return Ok(false);
    };
    let cognito = &at.p.aws.cognito;
    let mut create = cognito
        .admin_create_user()
        .user_pool_id(at.pool)
        .username(at.user)
        .message_action(MessageActionType::Suppress);
    for (k, v) in attributes.iter().filter(|(k, _)| *k != "username") {
        let value = v
            .as_str()
            .map(String::from)
            .unwrap_or_else(|| v.to_string());
        let a = AttributeType::builder().name(k).value(value).build();
        create = create.user_attributes(a.map_err(|e| e.to_string())?);
    }
    create
        .send()
        .await
        .map_err(|e| format!("making the migrated user: {}", said(&e)))?;
    let permanent = r["finalUserStatus"].as_str() != Some("RESET_REQUIRED");
    cognito
        .admin_set_user_password()
        .user_pool_id(at.pool)
        .username(at.user)
        .password(password)
        .permanent(permanent)
        .send()
        .await
        .map_err(|e| format!("the migrated user's password: {}", said(&e)))?;
    eprintln!(
        "deployer dev: {} migrated into the pool by its user migration trigger",
        printable(at.user)
    );
    Ok(true)
}

/// What Cognito said of a refused call (its message, as its UI shows it).
pub(super) fn said<E>(e: &E) -> String
where
    E: aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata + std::fmt::Display,
{
    e.message()
        .map(String::from)
        .unwrap_or_else(|| e.to_string())
}

/// The `errorMessage` of a function's error (the raw text otherwise).
fn function_error(e: &str) -> String {
    let json = e.find('{').map(|i| &e[i..]).unwrap_or(e);
    serde_json::from_str::<Value>(json)
        .ok()
        .and_then(|v| v["errorMessage"].as_str().map(String::from))
        .unwrap_or_else(|| e.to_string())
}

/// Claims a trigger may not add, change or remove (Cognito ignores them).
const RESERVED_CLAIMS: [&str; 19] = [
    "acr",
    "amr",
    "aud",
    "at_hash",
    "auth_time",
    "azp",
    "client_id",
    "cognito:username",
    "exp",
    "iat",
    "identities",
    "iss",
    "jti",
    "nbf",
    "nonce",
    "origin_jti",
    "scope",
    "sub",
    "token_use",
];

/// Runs the pool's pre token generation trigger (the local Lambda host) over
/// the claims about to be signed, as Cognito does: version 1 changes the ID
/// token (and the groups); 2 and 3 both tokens and the access token's
/// scopes; a client-credentials token (no user) only from version 3. An
/// error names the trigger's failure, as Cognito's token endpoint does.
async fn pre_token_generation(
    p: &Plane,
    pool: &str,
    client_id: &str,
    user: Option<TokenUser<'_>>,
    access: &mut Value,
    mut id: Option<&mut Value>,
) -> Result<(), String> {
    let Some((arn, version)) = pre_token_trigger(p, pool).await else {
        return Ok(());
    };
    if user.is_none() && version != "3" {
        return Ok(());
    }
    let scopes: Vec<String> = access["scope"]
        .as_str()
        .unwrap_or_default()
        .split_whitespace()
        .map(String::from)
        .collect();
    let source = if user.is_some() {
        "TokenGeneration_HostedAuth"
    } else {
        "TokenGeneration_ClientCredentials"
    };
    let groups: Vec<String> = user.as_ref().map(|u| u.groups.to_vec()).unwrap_or_default();
    let mut request = json!({
        "userAttributes": user.as_ref().map(|u| Value::Object(u.attributes.clone())).unwrap_or(json!({})),
        "groupConfiguration": {"groupsToOverride": groups, "iamRolesToOverride": [], "preferredRole": null},
    });
    if version != "1" {
        request["scopes"] = json!(scopes);
    }
    let event = json!({
        "version": version,
        "triggerSource": source,
        "region": p.region,
        "userPoolId": pool,
        "userName": user.as_ref().map(|u| u.name),
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": client_id},
        "request": request,
        "response": {},
    });
    let cfg = p
        .function_config(&arn)
        .await
        .map_err(|e| format!("PreTokenGeneration failed: {e}"))?;
    let out = p
        .lambda
        .invoke(&cfg, event)
        .await
        .map_err(|e| format!("PreTokenGeneration failed with error {e:?}."))?;
    let r = &out["response"];
    let apply = |token: &mut Value, change: &Value| {
        if let Some(add) = change["claimsToAddOrOverride"].as_object() {
            for (k, v) in add
                .iter()
                .filter(|(k, _)| !RESERVED_CLAIMS.contains(&k.as_str()))
            {
                token[k] = v.clone();
            }
        }
        for k in change["claimsToSuppress"].as_array().into_iter().flatten() {
            if let (Some(k), Some(m)) = (k.as_str(), token.as_object_mut()) {
                if !RESERVED_CLAIMS.contains(&k) {
                    m.remove(k);
                }
            }
        }
    };
    let set_groups = |token: &mut Value, g: &Value| {
        if let Some(g) = g["groupsToOverride"].as_array() {
            match token.as_object_mut() {
                Some(m) if g.is_empty() => {
                    m.remove("cognito:groups");
                }
                Some(m) => {
                    m.insert("cognito:groups".into(), json!(g));
                }
                None => {}
            }
        }
    };
    if version == "1" {
        let d = &r["claimsOverrideDetails"];
        if let Some(id) = id.as_deref_mut() {
            apply(id, d);
            set_groups(id, &d["groupOverrideDetails"]);
        }
        set_groups(access, &d["groupOverrideDetails"]);
        return Ok(());
    }
    let d = &r["claimsAndScopeOverrideDetails"];
    if let Some(id) = id {
        apply(id, &d["idTokenGeneration"]);
        set_groups(id, &d["groupOverrideDetails"]);
    }
    let a = &d["accessTokenGeneration"];
    apply(access, a);
    set_groups(access, &d["groupOverrideDetails"]);
    let mut scopes = scopes;
    for add in a["scopesToAdd"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !scopes.iter().any(|s| s == add) {
            scopes.push(add.to_string());
        }
    }
    let drop: Vec<&str> = a["scopesToSuppress"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    scopes.retain(|s| !drop.contains(&s.as_str()));
    access["scope"] = json!(scopes.join(" "));
    Ok(())
}

async fn userinfo(State(p): State<Arc<Plane>>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    // The token's pool: the one whose issuer it verifies against.
    let jwks = p.keys.jwks();
    let verified = p.pools.iter().find_map(|pool| {
        super::tokens::verify(token, &jwks, &p.issuer(pool)).map(|c| (pool.clone(), c))
    });
    let Some((pool, claims)) = verified else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "Access token is not valid",
        );
    };
    let scopes: Vec<&str> = claims
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    if claims.get("token_use").and_then(Value::as_str) != Some("access")
        || !scopes.contains(&"openid")
    {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "Access token does not contain openid scope",
        );
    }
    let username = claims
        .get("username")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match find_user(&p, &pool, username).await {
        Some(u) if !u.enabled => oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "User is disabled.",
        ),
        Some(u) => {
            let mut a = u.attributes;
            a.insert("username".into(), json!(username));
            Json(Value::Object(a)).into_response()
        }
        None => oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "User does not exist",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cognitoidentityprovider::types::TokenValidityUnitsType;

    /// Token lifetimes are the client's, in its units; Cognito's defaults
    /// (and default units) where it sets none, as moto reports a client
    /// made without them (`RefreshTokenValidity` 30, nothing else).
    #[test]
    fn token_lifetimes_follow_the_client() {
        let moto_default = UserPoolClientType::builder()
            .refresh_token_validity(30)
            .build();
        assert_eq!(
            Lifetimes::of(&moto_default),
            Lifetimes {
                access: 3600,
                id: 3600,
                refresh: 30 * 86400
            }
        );
        assert_eq!(
            Lifetimes::of(&UserPoolClientType::builder().build()),
            Lifetimes::of(&moto_default),
            "nothing set: Cognito's defaults"
        );
        let units = TokenValidityUnitsType::builder()
            .access_token(TimeUnitsType::Minutes)
            .id_token(TimeUnitsType::Seconds)
            .refresh_token(TimeUnitsType::Hours)
            .build();
        let set = UserPoolClientType::builder()
            .access_token_validity(5)
            .id_token_validity(600)
            .refresh_token_validity(2)
            .token_validity_units(units)
            .build();
        assert_eq!(
            Lifetimes::of(&set),
            Lifetimes {
                access: 300,
                id: 600,
                refresh: 7200
            }
        );
        // Values without units: hours, and days for the refresh token.
        let bare = UserPoolClientType::builder()
            .access_token_validity(2)
            .id_token_validity(3)
            .refresh_token_validity(7)
            .build();
        assert_eq!(
            Lifetimes::of(&bare),
            Lifetimes {
                access: 7200,
                id: 10800,
                refresh: 7 * 86400
            }
        );
    }

    fn grant(expires: i64) -> Grant {
        Grant {
            pool_id: "pool".into(),
            client_id: "client".into(),
            redirect_uri: "http://127.0.0.1/cb".into(),
            scope: "openid".into(),
            nonce: None,
            code_challenge: None,
            username: "alice".into(),
            auth_time: now(),
            expires,
            origin_jti: uuid(),
        }
    }

    /// Codes and refresh tokens past their lifetime are forgotten when the
    /// next one is kept; those still good stay.
    #[test]
    fn expired_grants_are_pruned() {
        let map = Mutex::new(HashMap::new());
        let t = now();
        map.lock().unwrap().extend([
            ("old".to_string(), grant(t - 1)),
            ("live".to_string(), grant(t + 60)),
        ]);
        keep(&map, "new".into(), grant(t + 300), |g| g.expires);
        let mut left: Vec<String> = map.lock().unwrap().keys().cloned().collect();
        left.sort();
        assert_eq!(left, ["live", "new"]);
        prune(&mut map.lock().unwrap(), t + 61, |g| g.expires);
        let left: Vec<String> = map.lock().unwrap().keys().cloned().collect();
        assert_eq!(left, ["new"]);
    }

    /// A refresh token is good for its client only, until its expiry (the
    /// client's refresh token lifetime from the sign-in); then it is
    /// refused and forgotten.
    #[test]
    fn a_refresh_token_ends_with_its_lifetime() {
        let map = Mutex::new(HashMap::new());
        let t = now();
        map.lock()
            .unwrap()
            .insert("rt".to_string(), grant(t + 3600));
        assert!(refresh_grant(&map, "rt", "client", t).is_some());
        assert!(refresh_grant(&map, "rt", "client", t + 3600).is_some());
        assert!(refresh_grant(&map, "rt", "another-client", t).is_none());
        assert!(refresh_grant(&map, "unknown", "client", t).is_none());
        assert!(refresh_grant(&map, "rt", "client", t + 3601).is_none());
        assert!(
            map.lock().unwrap().is_empty(),
            "the expired token is forgotten"
        );
    }

    /// What a user types reaches the terminal escaped: no escape sequence,
    /// no new line, no carriage return, no reordering of the text.
    #[test]
    fn typed_text_is_printed_escaped() {
        assert_eq!(printable("alice@example.com"), "alice@example.com");
        assert_eq!(printable("Zoë Doe"), "Zoë Doe");
        assert_eq!(
            printable("a\u{1b}[2J\u{1b}]0;owned\u{7}b"),
            "a\\u{1b}[2J\\u{1b}]0;owned\\u{7}b"
        );
        assert_eq!(
            printable("x@y.z\ndeployer dev: fake\r"),
            "x@y.z\\ndeployer dev: fake\\r"
        );
        assert_eq!(printable("\u{202e}moc.live"), "\\u{202e}moc.live");
        assert!(!printable("\u{9b}31m\u{0}").chars().any(char::is_control));
    }
}
