//! The example service, a Rust port of the seed's Go handler, made safer.
//!
//! - every path but `/oidc…`: 200 JSON with `redirectURL`, the `event`
//!   (Authorization header redacted), `apiGatewayAuthorizationClaims` when
//!   API Gateway's JWT authorizer ran, `authorizationClaims` when a bearer
//!   token came (validated here against the configured issuer's JWKS);
//! - `/oidc…`: the Authorization Code flow with PKCE, state and nonce.

pub mod jwt;
pub mod oidc;

use serde_json::{json, Map, Value};
use std::sync::Arc;

pub const REDACTED: &str = "REDACTED";

/// The handler's configuration, from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub redirect_url: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// Override of the JWKS URL (for emulators that serve no discovery).
    pub jwks_url: Option<String>,
    /// When set, bearer tokens must come from one of these clients.
    pub allowed_clients: Option<Vec<String>>,
}

impl Config {
    /// Reads the environment; the error names the missing variable.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Config, String> {
        let need = |k: &str| {
            get(k)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("{k} is not set"))
        };
        Ok(Config {
            redirect_url: need("EXAMPLE_OIDC_REDIRECT_URL")?,
            issuer: need("EXAMPLE_OIDC_ISSUER_URL")?
                .trim_end_matches('/')
                .to_string(),
            client_id: need("EXAMPLE_OIDC_CLIENT_ID")?,
            client_secret: need("EXAMPLE_OIDC_CLIENT_SECRET")?,
            jwks_url: get("EXAMPLE_OIDC_JWKS_URL").filter(|v| !v.is_empty()),
            allowed_clients: get("EXAMPLE_OIDC_ALLOWED_CLIENT_IDS")
                .filter(|v| !v.is_empty())
                .map(|v| {
                    v.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                }),
        })
    }
}

/// What lives for the life of the execution environment.
pub struct App {
    pub config: Result<Config, String>,
    pub provider: Option<Arc<jwt::Provider>>,
}

impl App {
    pub fn new(config: Result<Config, String>) -> App {
        let provider = config
            .as_ref()
            .ok()
            .map(|c| Arc::new(jwt::Provider::new(c)));
        if let Err(e) = &config {
            eprintln!("handler: configuration error: {e}");
        }
        App { config, provider }
    }

    pub fn from_env() -> App {
        App::new(Config::from_env(|k| std::env::var(k).ok()))
    }

    /// Handles one API Gateway payload 2.0 event, answers a payload 2.0
    /// response.
    pub async fn handle(&self, event: Value) -> Value {
        let path = event["rawPath"]
            .as_str()
            .or(event["requestContext"]["http"]["path"].as_str())
            .unwrap_or("/")
            .to_string();
        let (cfg, provider) = match (&self.config, &self.provider) {
            (Ok(c), Some(p)) => (c, p),
            (Err(e), _) => {
                return response(
                    500,
                    json!({"error": format!("the function is misconfigured: {e}")}),
                    vec![],
                    vec![],
                )
            }
            _ => {
                return response(
                    500,
                    json!({"error": "the function is misconfigured"}),
                    vec![],
                    vec![],
                )
            }
        };
        let r = if path == "/oidc" || path.starts_with("/oidc/") {
            oidc::handle(cfg, provider, &event).await
        } else {
            self.echo(cfg, provider, &event).await
        };
        eprintln!(
            "handler: {} {} -> {}",
            event["requestContext"]["http"]["method"]
                .as_str()
                .unwrap_or("?"),
            path,
            r["statusCode"]
        );
        r
    }

    async fn echo(&self, cfg: &Config, provider: &jwt::Provider, event: &Value) -> Value {
        let mut body = Map::new();
        body.insert("redirectURL".into(), json!(cfg.redirect_url));
        let claims = &event["requestContext"]["authorizer"]["jwt"]["claims"];
        if !claims.is_null() {
            body.insert("apiGatewayAuthorizationClaims".into(), claims.clone());
        }
        if let Some(auth) = header(event, "authorization") {
            let v = match bearer(&auth) {
                // A bearer token is an access token: an ID token is not
                // taken for one.
                Some(token) => match provider.validate(token, jwt::Expect::Access).await {
                    Ok(c) => Value::Object(c),
                    Err(e) => json!(format!("ERROR: {e}")),
                },
                None => json!("ERROR: the Authorization header is not a Bearer token"),
            };
            body.insert("authorizationClaims".into(), v);
        }
        body.insert("event".into(), redact(event));
        response(200, Value::Object(body), vec![], vec![])
    }
}

/// A header of the event (payload 2.0 lower-cases names; be lenient).
pub fn header(event: &Value, name: &str) -> Option<String> {
    event["headers"]
        .as_object()
        .and_then(|h| h.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
        .and_then(|(_, v)| v.as_str().map(String::from))
}

/// The token of `Bearer <token>` (scheme case-insensitive).
pub fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The event with every credential-bearing value hidden: never echo a token.
pub fn redact(event: &Value) -> Value {
    let mut e = event.clone();
    if let Some(h) = e.get_mut("headers").and_then(|h| h.as_object_mut()) {
        for (k, v) in h.iter_mut() {
            if k.eq_ignore_ascii_case("authorization") || k.eq_ignore_ascii_case("cookie") {
                *v = json!(REDACTED);
            }
        }
    }
    if let Some(c) = e.get_mut("cookies").and_then(|c| c.as_array_mut()) {
        for v in c.iter_mut() {
            if let Some(s) = v.as_str() {
                let name = s.split('=').next().unwrap_or_default();
                *v = json!(format!("{name}={REDACTED}"));
            }
        }
    }
    e
}

/// A payload 2.0 response.
pub fn response(
    status: u16,
    body: Value,
    headers: Vec<(&str, String)>,
    cookies: Vec<String>,
) -> Value {
    let mut h = Map::new();
    h.insert("content-type".into(), json!("application/json"));
    h.insert("cache-control".into(), json!("no-store"));
    for (k, v) in headers {
        h.insert(k.to_string(), json!(v));
    }
    let mut r = json!({
        "statusCode": status,
        "headers": h,
        "body": serde_json::to_string(&body).unwrap_or_default(),
        "isBase64Encoded": false,
    });
    if !cookies.is_empty() {
        r["cookies"] = json!(cookies);
    }
    r
}
