//! What the control plane says of the program's pools: their app clients,
//! users and groups, and their configuration (triggers).

use super::printable;
use crate::local::Plane;
use aws_sdk_cognitoidentityprovider::types::UserPoolClientType;
use serde_json::{Map, Value};
use std::sync::Arc;

/// A client of one of the program's pools, and its pool: the local hosted
/// domain serves every pool at one address, and a client ID names its pool
/// (on AWS each pool's domain does).
pub(in crate::local) async fn client(p: &Plane, id: &str) -> Option<(String, UserPoolClientType)> {
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

pub(super) fn has_flow(c: &UserPoolClientType, flow: &str) -> bool {
    c.allowed_o_auth_flows_user_pool_client == Some(true)
        && c.allowed_o_auth_flows().iter().any(|f| f.as_str() == flow)
}

/// The groups a user is a member of, as the pool has them (none when the
/// read fails: a token without the claim, as for a user in no group).
pub(super) async fn user_groups(p: &Plane, pool: &str, username: &str) -> Vec<String> {
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
pub(super) struct User {
    pub(super) attributes: Map<String, Value>,
    pub(super) enabled: bool,
}

pub(super) async fn find_user(p: &Plane, pool: &str, username: &str) -> Option<User> {
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

pub(super) async fn user_attributes(
    p: &Plane,
    pool: &str,
    username: &str,
) -> Option<Map<String, Value>> {
    find_user(p, pool, username).await.map(|u| u.attributes)
}

/// The pool's triggers (its `LambdaConfig`), as the control plane has them.
pub(in crate::local) async fn triggers(
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
pub(in crate::local) async fn described_pool(
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

/// Whether people may sign up to the pool themselves (the login page
/// then links to the sign-up form, as Cognito's does).
pub(in crate::local) async fn sign_up_open(p: &Plane, pool: &str) -> bool {
    let described = described_pool(p, pool).await;
    let config = described
        .as_ref()
        .and_then(|d| d.user_pool.as_ref())
        .and_then(|u| u.admin_create_user_config.as_ref());
    !config.is_some_and(|c| c.allow_admin_create_user_only)
}
