//! The stack's outputs, named as the seed's Terraform outputs.

use crate::resources::api::API;
use crate::resources::cognito::{Client, CLIENT_CC, DOMAIN, POOL};
use crate::resources::{Ctx, Known};
use std::collections::BTreeMap;

pub const NAMES: [&str; 10] = [
    "oidc_issuer_url",
    "oidc_configuration_url",
    "oidc_authorization_url",
    "oidc_token_url",
    "oidc_jwks_url",
    "oidc_userinfo_url",
    "example_client_id",
    "example_client_secret",
    "example_url",
    "example_authorization_code_oidc_redirect_url",
];
pub const SECRET: &str = "example_client_secret";
pub const HIDDEN: &str = "(hidden: pass --show-secrets)";

/// Computes every output; the secret is `None` unless it is known.
pub fn compute(ctx: &Ctx, k: &Known) -> BTreeMap<&'static str, Option<String>> {
    let issuer = ctx.issuer(&k.get(POOL, "id"));
    let hosted = ctx.hosted_domain(&k.get(DOMAIN, "domain"));
    let url = ctx.api_url(&k.get(API, "endpoint"));
    let cc = Client::key_of(CLIENT_CC);
    let secret = k.outputs.get(&cc).and_then(|o| o.get("secret")).cloned();
    [
        ("oidc_issuer_url", Some(issuer.clone())),
        (
            "oidc_configuration_url",
            Some(format!("{issuer}/.well-known/openid-configuration")),
        ),
        (
            "oidc_authorization_url",
            Some(format!("{hosted}/oauth2/authorize")),
        ),
        ("oidc_token_url", Some(format!("{hosted}/oauth2/token"))),
        (
            "oidc_jwks_url",
            Some(format!("{issuer}/.well-known/jwks.json")),
        ),
        (
            "oidc_userinfo_url",
            Some(format!("{hosted}/oauth2/userInfo")),
        ),
        ("example_client_id", Some(k.get(&cc, "id"))),
        (SECRET, secret),
        ("example_url", Some(url.clone())),
        (
            "example_authorization_code_oidc_redirect_url",
            Some(format!("{url}/oidc")),
        ),
    ]
    .into_iter()
    .collect()
}
