//! A test OpenID provider on 127.0.0.1: discovery, JWKS (keys can be
//! rotated, fetches are counted), and a token endpoint for the code flow.
#![allow(dead_code)]

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

pub struct Key {
    pub kid: String,
    pub private: rsa::RsaPrivateKey,
}

impl Key {
    pub fn new(kid: &str) -> Key {
        // Generating RSA keys is slow: share two per test binary.
        static KEYS: OnceLock<Vec<rsa::RsaPrivateKey>> = OnceLock::new();
        let keys = KEYS.get_or_init(|| {
            let mut rng = rand::thread_rng();
            (0..2)
                .map(|_| rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap())
                .collect()
        });
        let i = if kid.ends_with('2') { 1 } else { 0 };
        Key {
            kid: kid.into(),
            private: keys[i].clone(),
        }
    }
    pub fn jwk(&self) -> Value {
        let p = self.private.to_public_key();
        json!({"kty": "RSA", "kid": self.kid, "alg": "RS256", "use": "sig",
               "n": URL_SAFE_NO_PAD.encode(p.n().to_bytes_be()), "e": URL_SAFE_NO_PAD.encode(p.e().to_bytes_be())})
    }
    pub fn sign(&self, claims: &Value) -> String {
        let mut h = Header::new(Algorithm::RS256);
        h.kid = Some(self.kid.clone());
        let der = self.private.to_pkcs1_der().unwrap();
        encode(&h, claims, &EncodingKey::from_rsa_der(der.as_bytes())).unwrap()
    }
    pub fn public_pem(&self) -> String {
        use rsa::pkcs1::EncodeRsaPublicKey;
        self.private
            .to_public_key()
            .to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)
            .unwrap()
    }
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[derive(Default)]
pub struct Shared {
    pub jwks: Mutex<Value>,
    pub jwks_fetches: AtomicUsize,
    pub jwks_down: Mutex<bool>,
    /// The token endpoint's scripted answer, and what it received.
    pub token_reply: Mutex<Option<(u16, Value)>>,
    pub token_requests: Mutex<Vec<(HeaderMap, HashMap<String, String>)>>,
}

pub struct Idp {
    pub base: String,
    pub shared: Arc<Shared>,
    _rt: std::thread::JoinHandle<()>,
}

impl Idp {
    pub fn issuer(&self) -> String {
        self.base.clone()
    }
}

pub fn start_idp(keys: &[&Key]) -> Idp {
    let shared = Arc::new(Shared::default());
    *shared.jwks.lock().unwrap() =
        json!({"keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>()});
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let b = base.clone();
    let s = shared.clone();
    let handle = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let app = Router::new()
                .route(
                    "/.well-known/openid-configuration",
                    get(move || {
                        let b = b.clone();
                        async move {
                            Json(json!({"issuer": b, "authorization_endpoint": format!("{b}/oauth2/authorize"),
                                "token_endpoint": format!("{b}/oauth2/token"), "jwks_uri": format!("{b}/.well-known/jwks.json"),
                                "userinfo_endpoint": format!("{b}/oauth2/userInfo")}))
                        }
                    }),
                )
                .route("/.well-known/jwks.json", get(jwks))
                .route("/oauth2/token", post(token))
                .with_state(s);
            let l = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(l, app).await.unwrap();
        });
    });
    Idp {
        base,
        shared,
        _rt: handle,
    }
}

async fn jwks(State(s): State<Arc<Shared>>) -> (StatusCode, Json<Value>) {
    s.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    if *s.jwks_down.lock().unwrap() {
        return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({})));
    }
    (StatusCode::OK, Json(s.jwks.lock().unwrap().clone()))
}

async fn token(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    s.token_requests.lock().unwrap().push((headers, form));
    match s.token_reply.lock().unwrap().clone() {
        Some((status, body)) => (StatusCode::from_u16(status).unwrap(), Json(body)),
        None => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant"})),
        ),
    }
}

pub fn basic(user: &str, pass: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{pass}")))
}

pub fn config(idp: &Idp) -> handler::Config {
    handler::Config {
        redirect_url: "https://api.example/oidc".into(),
        issuer: idp.issuer(),
        client_id: "code-client".into(),
        client_secret: "code-secret".into(),
        jwks_url: None,
        allowed_clients: Some(vec!["cc-client".into(), "code-client".into()]),
    }
}

/// An API Gateway HTTP API payload 2.0 event.
pub fn event(path: &str, query: &str, headers: Value, cookies: Option<Vec<String>>) -> Value {
    let mut e = json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
        "headers": headers,
        "requestContext": {"accountId": "123456789012", "apiId": "api", "domainName": "api.example", "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "test"},
            "requestId": "r1", "routeKey": "$default", "stage": "$default", "time": "24/Nov/2026:12:00:00 +0000", "timeEpoch": 0},
        "isBase64Encoded": false
    });
    if let Some(c) = cookies {
        e["cookies"] = json!(c);
    }
    e
}

pub fn body(r: &Value) -> Value {
    serde_json::from_str(r["body"].as_str().unwrap()).unwrap()
}

pub fn access_claims(iss: &str) -> Value {
    json!({"sub": "cc-client", "iss": iss, "client_id": "cc-client", "token_use": "access", "scope": "example/auth",
           "auth_time": now(), "exp": now() + 3600, "iat": now(), "jti": "j1", "version": 2})
}
