//! `/oauth2/token` (client_credentials, authorization_code with PKCE,
//! refresh_token), the pool's pre token generation trigger, and
//! `/oauth2/userInfo`.

use super::pool::{client, find_user, has_flow, triggers, user_groups};
use super::{keep, oauth_error, prune, refresh_grant, Grant, Lifetimes};
use crate::local::tokens::{at_hash, now, random_id, uuid};
use crate::local::Plane;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

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

pub(super) async fn token(
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

pub(super) async fn userinfo(State(p): State<Arc<Plane>>, headers: HeaderMap) -> Response {
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
