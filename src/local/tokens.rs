//! Keys and JWTs of the local Cognito: RS256 with a key made at start, and
//! the JWT authorizer's validation rules as API Gateway documents them.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{
    decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use rand::RngCore;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

pub struct Keys {
    pub kid: String,
    encoding: EncodingKey,
    pub jwk: Value,
}

impl Keys {
    pub fn generate() -> Keys {
        let mut rng = rand::thread_rng();
        let private = rsa::RsaPrivateKey::new(&mut rng, 2048).expect("RSA key generation");
        let public = private.to_public_key();
        let kid = random_id(12);
        let der = private.to_pkcs1_der().expect("DER");
        Keys {
            jwk: json!({"kid": kid, "kty": "RSA", "alg": "RS256", "use": "sig",
                "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()), "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be())}),
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
            kid,
        }
    }

    pub fn sign(&self, claims: &Value) -> String {
        let mut h = Header::new(Algorithm::RS256);
        h.kid = Some(self.kid.clone());
        encode(&h, claims, &self.encoding).expect("signing")
    }

    pub fn jwks(&self) -> Value {
        json!({"keys": [self.jwk]})
    }
}

pub fn random_id(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn uuid() -> String {
    let h = random_id(16);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// OIDC at_hash: base64url of the left half of SHA-256 of the access token.
pub fn at_hash(access_token: &str) -> String {
    let d = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&d[..16])
}

/// Why a JWT authorizer refused a request: 401 or 403 as API Gateway answers.
#[derive(Debug, PartialEq)]
pub enum Denied {
    Unauthorized(String),
    Forbidden(String),
}

/// The JWT authorizer of an HTTP API, as AWS documents it: the token (with
/// or without `Bearer `), RS256 against the issuer's JWKS, `iss` exact,
/// `aud` or else `client_id` in the audience, `exp`/`nbf`, and at least one
/// of the route's scopes in the `scope` claim.
pub fn authorize(
    identity: Option<&str>,
    jwks: &Value,
    issuer: &str,
    audience: &[String],
    route_scopes: &[String],
) -> Result<Map<String, Value>, Denied> {
    let u = |m: &str| Denied::Unauthorized(m.to_string());
    let raw = identity
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| u("no token in the identity source"))?;
    let token = match raw.split_once(' ') {
        Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") => t.trim(),
        _ => raw,
    };
    let header = decode_header(token).map_err(|e| u(&format!("not a JWT: {e}")))?;
    if header.alg != Algorithm::RS256 {
        return Err(u("algorithm is not RS256"));
    }
    let kid = header.kid.ok_or_else(|| u("no kid"))?;
    let jwk = jwks["keys"]
        .as_array()
        .and_then(|ks| ks.iter().find(|k| k["kid"] == kid.as_str()))
        .ok_or_else(|| u("kid not in the issuer's JWKS"))?;
    let key = DecodingKey::from_rsa_components(
        jwk["n"].as_str().unwrap_or_default(),
        jwk["e"].as_str().unwrap_or_default(),
    )
    .map_err(|e| u(&e.to_string()))?;
    let mut v = Validation::new(Algorithm::RS256);
    v.set_issuer(&[issuer]);
    v.validate_aud = false;
    v.validate_nbf = true;
    v.leeway = 0;
    v.set_required_spec_claims(&["exp", "iss"]);
    let claims = decode::<Map<String, Value>>(token, &key, &v)
        .map_err(|e| u(&e.to_string()))?
        .claims;
    let aud: Vec<String> = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        _ => vec![],
    };
    let matched = if !aud.is_empty() {
        aud.iter().any(|a| audience.contains(a))
    } else {
        claims
            .get("client_id")
            .and_then(Value::as_str)
            .is_some_and(|c| audience.iter().any(|a| a == c))
    };
    if !matched {
        return Err(u("audience does not match"));
    }
    if !route_scopes.is_empty() {
        let have: Vec<&str> = claims
            .get("scope")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        if !route_scopes.iter().any(|s| have.contains(&s.as_str())) {
            return Err(Denied::Forbidden("no required scope".into()));
        }
    }
    Ok(claims)
}

/// Signature, issuer and lifetime only (no audience rule).
pub fn verify(token: &str, jwks: &Value, issuer: &str) -> Option<Map<String, Value>> {
    let kid = decode_header(token).ok()?.kid?;
    let jwk = jwks["keys"]
        .as_array()?
        .iter()
        .find(|k| k["kid"] == kid.as_str())?;
    let key = DecodingKey::from_rsa_components(jwk["n"].as_str()?, jwk["e"].as_str()?).ok()?;
    let mut v = Validation::new(Algorithm::RS256);
    v.set_issuer(&[issuer]);
    v.validate_aud = false;
    decode::<Map<String, Value>>(token, &key, &v)
        .ok()
        .map(|d| d.claims)
}

/// Claims as API Gateway hands them to the integration: every value a string.
pub fn stringify_claims(claims: &Map<String, Value>) -> Map<String, Value> {
    claims
        .iter()
        .map(|(k, v)| {
            let s = match v {
                Value::String(s) => s.clone(),
                Value::Array(a) => format!(
                    "[{}]",
                    a.iter()
                        .map(|x| x
                            .as_str()
                            .map(String::from)
                            .unwrap_or_else(|| x.to_string()))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                other => other.to_string(),
            };
            (k.clone(), Value::String(s))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> &'static Keys {
        static K: std::sync::OnceLock<Keys> = std::sync::OnceLock::new();
        K.get_or_init(Keys::generate)
    }

    fn access(iss: &str, client: &str, scope: &str) -> Value {
        json!({"iss": iss, "client_id": client, "token_use": "access", "scope": scope, "exp": now() + 60, "iat": now(), "sub": client})
    }

    #[test]
    fn authorizer_rules() {
        let k = keys();
        let jwks = k.jwks();
        let iss = "http://127.0.0.1:1/pool";
        let aud = vec!["good".to_string()];
        let scopes = vec!["example/auth".to_string()];
        let ok = k.sign(&access(iss, "good", "example/auth"));
        assert!(authorize(Some(&format!("Bearer {ok}")), &jwks, iss, &aud, &scopes).is_ok());
        assert!(
            authorize(Some(&ok), &jwks, iss, &aud, &scopes).is_ok(),
            "without the Bearer prefix too"
        );
        let deny = |t: Option<&str>, s: &[String]| authorize(t, &jwks, iss, &aud, s).unwrap_err();
        assert!(matches!(deny(None, &scopes), Denied::Unauthorized(_)));
        assert!(matches!(
            deny(Some("Bearer x.y.z"), &scopes),
            Denied::Unauthorized(_)
        ));
        assert!(matches!(
            deny(
                Some(&k.sign(&access(iss, "other", "example/auth"))),
                &scopes
            ),
            Denied::Unauthorized(_)
        ));
        assert!(matches!(
            deny(
                Some(&k.sign(&access("http://evil/pool", "good", "example/auth"))),
                &scopes
            ),
            Denied::Unauthorized(_)
        ));
        assert_eq!(
            deny(Some(&k.sign(&access(iss, "good", "openid"))), &scopes),
            Denied::Forbidden("no required scope".into())
        );
        let mut expired = access(iss, "good", "example/auth");
        expired["exp"] = json!(now() - 10);
        assert!(matches!(
            deny(Some(&k.sign(&expired)), &scopes),
            Denied::Unauthorized(_)
        ));
        // An ID token: `aud` is checked, not client_id.
        let id = json!({"iss": iss, "aud": "good", "token_use": "id", "exp": now() + 60});
        assert!(authorize(Some(&k.sign(&id)), &jwks, iss, &aud, &[]).is_ok());
        let id_other = json!({"iss": iss, "aud": "other", "client_id": "good", "exp": now() + 60});
        assert!(authorize(Some(&k.sign(&id_other)), &jwks, iss, &aud, &[]).is_err());
        // A key the issuer does not publish.
        let other = Keys::generate();
        assert!(matches!(
            deny(
                Some(&other.sign(&access(iss, "good", "example/auth"))),
                &scopes
            ),
            Denied::Unauthorized(_)
        ));
    }

    #[test]
    fn claims_become_strings() {
        let m = stringify_claims(
            json!({"exp": 5, "b": true, "s": "x", "groups": ["a", "b"]})
                .as_object()
                .unwrap(),
        );
        assert_eq!(
            Value::Object(m),
            json!({"exp": "5", "b": "true", "s": "x", "groups": "[a b]"})
        );
    }
}
