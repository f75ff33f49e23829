//! Time to validate a bearer token with a warm JWKS cache (goal < 50 µs).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use criterion::{criterion_group, criterion_main, Criterion};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::json;
use std::io::{Read, Write};

/// A one-shot JWKS server on 127.0.0.1 (the cache is warmed once).
fn serve_jwks(jwks: String) -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/jwks.json", l.local_addr().unwrap());
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = l.accept() {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = write!(s, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{jwks}", jwks.len());
        }
    });
    url
}

fn bench(c: &mut Criterion) {
    let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
    let p = key.to_public_key();
    let jwks = json!({"keys": [{"kty": "RSA", "kid": "k1", "alg": "RS256", "n": URL_SAFE_NO_PAD.encode(p.n().to_bytes_be()), "e": URL_SAFE_NO_PAD.encode(p.e().to_bytes_be())}]});
    let cfg = handler::Config {
        redirect_url: "https://x/oidc".into(),
        issuer: "https://issuer.example".into(),
        client_id: "c".into(),
        client_secret: "s".into(),
        jwks_url: Some(serve_jwks(jwks.to_string())),
        allowed_clients: Some(vec!["cc".into()]),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    h.kid = Some("k1".into());
    let claims = json!({"iss": "https://issuer.example", "client_id": "cc", "token_use": "access", "scope": "example/auth", "exp": now + 3600, "iat": now, "sub": "cc"});
    let token = jsonwebtoken::encode(
        &h,
        &claims,
        &jsonwebtoken::EncodingKey::from_rsa_der(key.to_pkcs1_der().unwrap().as_bytes()),
    )
    .unwrap();
    let provider = handler::jwt::Provider::new(&cfg);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(provider.validate(&token, handler::jwt::Expect::Access))
        .expect("warm the JWKS cache");
    c.bench_function("validate RS256 access token (warm JWKS cache)", |b| {
        b.iter(|| {
            rt.block_on(
                provider.validate(std::hint::black_box(&token), handler::jwt::Expect::Access),
            )
            .unwrap()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
