//! deployer's own kinds: one file per AWS service, one struct per kind with
//! typed arguments whose cross-resource values are `Input`s, and its
//! provider. A kind knows nothing of the stack that uses it and imports no
//! other kind; what they are made of is `crate::kind`.

use crate::kind::{Provider, Providers};
use std::sync::Arc;

pub mod api;
pub mod cognito;
pub mod iam;
pub mod lambda;
pub mod logs;

/// The providers of deployer's own kinds.
pub fn providers() -> Providers {
    let mut p = Providers::default();
    let all: [Arc<dyn Provider>; 17] = [
        Arc::new(lambda::RoleProvider),
        Arc::new(logs::LogGroupProvider),
        Arc::new(lambda::FunctionProvider),
        Arc::new(lambda::PermissionProvider),
        Arc::new(cognito::UserPoolProvider),
        Arc::new(cognito::DomainProvider),
        Arc::new(cognito::ResourceServerProvider),
        Arc::new(cognito::PoolUserProvider),
        Arc::new(cognito::ClientProvider),
        Arc::new(cognito::GroupProvider),
        Arc::new(cognito::IdentityProviderProvider),
        Arc::new(api::ApiProvider),
        Arc::new(api::AuthorizerProvider),
        Arc::new(api::IntegrationProvider),
        Arc::new(api::RouteProvider),
        Arc::new(api::StageProvider),
        Arc::new(iam::RolePolicyProvider),
    ];
    for x in all {
        p.add(x);
    }
    p
}
