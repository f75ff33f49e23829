//! Bearer and ID token validation against the configured issuer only.
//!
//! The algorithm is pinned to RS256, the issuer comes from configuration
//! (never from the token), `exp`/`nbf` are checked with a small leeway,
//! `token_use` must be the one expected (`access` for a bearer token, `id`
//! for the code flow's ID token: one is never taken for the other), and the
//! client (`client_id` of an access token, as Cognito's carry no `aud`;
//! `aud` of an ID token) is checked against the allowed list.
//! The JWKS is cached across invocations: fetched again on an unknown `kid`
//! (at most once per `refresh_interval`), and once it is older than
//! `max_age` (a key the issuer has withdrawn is not trusted for longer).

use crate::Config;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::signature::{RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

pub const LEEWAY_SECONDS: u64 = 5;

#[derive(Debug, Clone, serde::Deserialize)]
pub struct Discovery {
    pub issuer: Option<String>,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
}

/// What a token must be, besides signed with the issuer's key, issued by
/// it and within its lifetime.
#[derive(Debug, Clone, Copy)]
pub enum Expect<'a> {
    /// A bearer access token: `token_use` `access`; its `client_id` one of
    /// the allowed clients (when a list is configured).
    Access,
    /// The code flow's ID token: `token_use` `id`, for `audience` (its
    /// `aud`, which must also be allowed), with this login's `nonce`.
    Id {
        audience: &'a str,
        nonce: Option<&'a str>,
    },
}

impl Expect<'_> {
    fn token_use(&self) -> &'static str {
        match self {
            Expect::Access => "access",
            Expect::Id { .. } => "id",
        }
    }
}

/// An RSA public key of the JWKS: modulus and exponent, big-endian.
#[derive(Debug, Clone)]
pub struct RsaKey {
    n: Vec<u8>,
    e: Vec<u8>,
}

pub struct Provider {
    pub issuer: String,
    jwks_override: Option<String>,
    allowed: Option<Vec<String>>,
    pub http: reqwest::Client,
    discovery: tokio::sync::Mutex<Option<Discovery>>,
    keys: RwLock<KeySet>,
    last_fetch: tokio::sync::Mutex<Fetches>,
    /// The least time between two fetches of the JWKS for an unknown `kid`.
    pub refresh_interval: Duration,
    /// How long a fetched JWKS is trusted: a token signed with a key of an
    /// older set makes the provider fetch it again first (and refuses the
    /// token if that fails: a withdrawn key is not trusted on).
    pub max_age: Duration,
    /// How long a failed JWKS fetch is answered from memory before the next
    /// token tries again (so that an issuer that is down is not asked on
    /// every request, nor shut out for a whole `refresh_interval`).
    pub retry_after_failure: Duration,
}

/// The usable keys of the JWKS, and when they were fetched.
#[derive(Default)]
struct KeySet {
    keys: HashMap<String, RsaKey>,
    fetched: Option<Instant>,
}

/// When the JWKS was last fetched, and the last failure since.
#[derive(Default)]
struct Fetches {
    success: Option<Instant>,
    failure: Option<(Instant, String)>,
}

impl Provider {
    pub fn new(cfg: &Config) -> Provider {
        Provider {
            issuer: cfg.issuer.clone(),
            jwks_override: cfg.jwks_url.clone(),
            allowed: cfg.allowed_clients.clone(),
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(3))
                .timeout(Duration::from_secs(5))
                .build()
                .expect("HTTP client"),
            discovery: tokio::sync::Mutex::new(None),
            keys: RwLock::new(KeySet::default()),
            last_fetch: tokio::sync::Mutex::new(Fetches::default()),
            refresh_interval: Duration::from_secs(60),
            max_age: Duration::from_secs(3600),
            retry_after_failure: Duration::from_secs(1),
        }
    }

    /// The issuer's discovery document, fetched once.
    pub async fn discovery(&self) -> Result<Discovery, String> {
        let mut d = self.discovery.lock().await;
        if let Some(d) = &*d {
            return Ok(d.clone());
        }
        let url = format!("{}/.well-known/openid-configuration", self.issuer);
        let doc: Discovery = self
            .http
            .get(&url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| format!("cannot fetch the OpenID configuration from {url}: {e}"))?
            .json()
            .await
            .map_err(|e| format!("the OpenID configuration at {url} is not valid: {e}"))?;
        if let Some(iss) = &doc.issuer {
            if iss.trim_end_matches('/') != self.issuer {
                return Err(format!(
                    "the OpenID configuration names issuer {iss}, not the configured {}",
                    self.issuer
                ));
            }
        }
        *d = Some(doc.clone());
        Ok(doc)
    }

    async fn jwks_url(&self) -> Result<String, String> {
        match &self.jwks_override {
            Some(u) => Ok(u.clone()),
            None => Ok(self.discovery().await?.jwks_uri),
        }
    }

    /// Fetches the JWKS unless it was fetched less than `refresh_interval`
    /// (and `max_age`) ago (the very first fetch always happens). Only a
    /// successful fetch counts: after a failed one the next token tries
    /// again (at most once per `retry_after_failure`), and a set that is
    /// unreadable or holds no usable key leaves the keys already known in
    /// place (still trusted until `max_age`).
    async fn refresh(&self) -> Result<bool, String> {
        let mut last = self.last_fetch.lock().await;
        if let Some(t) = last.success {
            if t.elapsed() < self.refresh_interval.min(self.max_age) {
                return Ok(false);
            }
        }
        if let Some((t, why)) = &last.failure {
            if t.elapsed() < self.retry_after_failure {
                return Err(why.clone());
            }
        }
        let fetched = self.fetch_keys().await;
        match fetched {
            Ok(keys) => {
                let at = Instant::now();
                last.success = Some(at);
                last.failure = None;
                *self.keys.write().unwrap_or_else(|e| e.into_inner()) = KeySet {
                    keys,
                    fetched: Some(at),
                };
                Ok(true)
            }
            Err(why) => {
                last.failure = Some((Instant::now(), why.clone()));
                Err(why)
            }
        }
    }

    /// The JWKS's usable keys (RSA, RS256), or why there are none.
    async fn fetch_keys(&self) -> Result<HashMap<String, RsaKey>, String> {
        let url = self.jwks_url().await?;
        let set: Value = self
            .http
            .get(&url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| format!("cannot fetch the JWKS from {url}: {e}"))?
            .json()
            .await
            .map_err(|e| format!("the JWKS at {url} is not valid JSON: {e}"))?;
        let mut keys = HashMap::new();
        for k in set["keys"].as_array().cloned().unwrap_or_default() {
            let alg_ok = k["alg"].as_str().is_none_or(|a| a == "RS256");
            if k["kty"] != "RSA" || !alg_ok {
                continue;
            }
            if let (Some(kid), Some(n), Some(e)) =
                (k["kid"].as_str(), k["n"].as_str(), k["e"].as_str())
            {
                if let (Ok(n), Ok(e)) = (URL_SAFE_NO_PAD.decode(n), URL_SAFE_NO_PAD.decode(e)) {
                    keys.insert(kid.to_string(), RsaKey { n, e });
                }
            }
        }
        if keys.is_empty() {
            return Err(format!("the JWKS at {url} holds no RS256 key"));
        }
        Ok(keys)
    }

    /// The key `kid` of a set fetched less than `max_age` ago: from the
    /// cache, else after fetching the set again (rate-limited).
    async fn key(&self, kid: &str) -> Result<RsaKey, String> {
        if let Some(k) = self.cached(kid) {
            return Ok(k);
        }
        self.refresh().await?;
        if let Some(k) = self.cached(kid) {
            return Ok(k);
        }
        let set = self.keys.read().unwrap_or_else(|e| e.into_inner());
        match set.keys.contains_key(kid) {
            true => Err(format!(
                "the token's signing key {kid:?} is from a JWKS fetched over {} s ago, which could not be fetched again",
                self.max_age.as_secs()
            )),
            false => Err(format!(
                "the token's signing key {kid:?} is not in the issuer's JWKS"
            )),
        }
    }

    /// The key `kid`, if the cached set has it and is younger than `max_age`.
    fn cached(&self, kid: &str) -> Option<RsaKey> {
        let set = self.keys.read().unwrap_or_else(|e| e.into_inner());
        let fresh = set.fetched.is_some_and(|t| t.elapsed() < self.max_age);
        fresh.then(|| set.keys.get(kid).cloned()).flatten()
    }

    /// Validates a token as `expect` says; returns its claims, or why it is
    /// not valid.
    pub async fn validate(
        &self,
        token: &str,
        expect: Expect<'_>,
    ) -> Result<Map<String, Value>, String> {
        let (claims, key_id, signed, signature) = parse(token)?;
        let key = self.key(&key_id).await?;
        RsaPublicKeyComponents {
            n: &key.n,
            e: &key.e,
        }
        .verify(&RSA_PKCS1_2048_8192_SHA256, signed.as_bytes(), &signature)
        .map_err(|_| "the token is not valid: InvalidSignature".to_string())?;
        check_time_and_issuer(&claims, &self.issuer, now())?;
        let token_use = claims
            .get("token_use")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if token_use != expect.token_use() {
            return Err(format!(
                "expected an {} token, got token_use {token_use:?}",
                expect.token_use()
            ));
        }
        // The client the token was issued to: an access token's
        // `client_id` (Cognito's carry no `aud`), an ID token's `aud`.
        let client = match expect {
            Expect::Access => claims
                .get("client_id")
                .and_then(Value::as_str)
                .map(String::from),
            Expect::Id { .. } => match claims.get("aud") {
                Some(Value::String(a)) => Some(a.clone()),
                Some(Value::Array(a)) if a.len() == 1 => a[0].as_str().map(String::from),
                _ => None,
            },
        };
        if let Some(allowed) = &self.allowed {
            if !client.as_ref().is_some_and(|c| allowed.contains(c)) {
                return Err(format!(
                    "the token was issued to client {:?}, which is not allowed",
                    client.unwrap_or_default()
                ));
            }
        }
        if let Expect::Id { audience, nonce } = expect {
            if client.as_deref() != Some(audience) {
                return Err(format!(
                    "the token is for audience {:?}, not {audience:?}",
                    client.unwrap_or_default(),
                ));
            }
            if let Some(n) = nonce {
                if claims.get("nonce").and_then(Value::as_str) != Some(n) {
                    return Err("the ID token's nonce does not match this login".into());
                }
            }
        }
        Ok(claims)
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Splits and decodes a compact JWS: (claims, kid, signed part, signature).
/// Only `alg: RS256` passes: `none`, HS256 (a public key used as an HMAC
/// secret) and every other algorithm are refused before any key is used.
type Parsed<'a> = (Map<String, Value>, String, &'a str, Vec<u8>);

fn parse(token: &str) -> Result<Parsed<'_>, String> {
    let bad = |why: &str| format!("the token is not a valid JWT: {why}");
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("it does not have three parts"));
    };
    let header: Value = URL_SAFE_NO_PAD
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| bad("the header is not base64url JSON"))?;
    match header["alg"].as_str() {
        Some("RS256") => {}
        Some(alg) => {
            return Err(format!(
                "the token's algorithm {alg:?} is not allowed (RS256 only)"
            ))
        }
        None => return Err(bad("the header has no alg")),
    }
    let kid = header["kid"]
        .as_str()
        .ok_or("the token has no kid")?
        .to_string();
    let claims: Map<String, Value> = URL_SAFE_NO_PAD
        .decode(p)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| bad("the payload is not base64url JSON"))?;
    let signature = URL_SAFE_NO_PAD
        .decode(sig)
        .map_err(|_| bad("the signature is not base64url"))?;
    if signature.is_empty() {
        return Err(bad("the signature is empty"));
    }
    Ok((claims, kid, &token[..h.len() + 1 + p.len()], signature))
}

fn check_time_and_issuer(
    claims: &Map<String, Value>,
    issuer: &str,
    now: i64,
) -> Result<(), String> {
    let leeway = LEEWAY_SECONDS as i64;
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or("the token is not valid: missing required claim exp")?;
    if now > exp + leeway {
        return Err("the token is not valid: ExpiredSignature".into());
    }
    if let Some(nbf) = claims.get("nbf") {
        let nbf = nbf
            .as_i64()
            .ok_or("the token is not valid: nbf is not a number")?;
        if now + leeway < nbf {
            return Err("the token is not valid: ImmatureSignature (not valid yet)".into());
        }
    }
    if claims.get("iss").and_then(Value::as_str) != Some(issuer) {
        return Err(format!(
            "the token is not valid: InvalidIssuer (expected {issuer})"
        ));
    }
    Ok(())
}
