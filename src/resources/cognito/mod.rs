//! Cognito: user pool, domain, resource server, users, app clients.

use std::collections::BTreeMap;

mod client;
mod domain;
mod group;
mod identity_provider;
mod pool;
mod resource_server;
mod user;
mod user_pool;
pub use client::{
    AuthFlow, Client, ClientProvider, OAuthFlow, RefreshTokenRotation, TokenValidity,
};
pub use domain::{pool_has_domain, Domain, DomainPrefix, DomainProvider};
pub use group::{Group, GroupProvider};
pub use identity_provider::{Federation, IdentityProvider, IdentityProviderProvider, Social};
pub use pool::{
    AliasAttribute, AttributeType, AuthFactor, CustomAttribute, Email, EmailSettings, Invitation,
    PreTokenVersion, ThreatProtection, Tier, Triggers, VerificationMessages,
};
pub use resource_server::{ResourceServer, ResourceServerProvider};
pub use user::{
    hex, password_fingerprint, password_matches, PoolUser, PoolUserProvider, PASSWORD_CHANGED,
    PASSWORD_MATCHES,
};
pub use user_pool::{ContactAttribute, Mfa, PasswordPolicy, Recovery, UserPool, UserPoolProvider};

fn parent_out(parent_id: &str) -> BTreeMap<String, String> {
    [("parent_id".to_string(), parent_id.to_string())].into()
}
