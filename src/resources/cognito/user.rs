use super::parent_out;
use crate::config::User;
use crate::error::Error;
use crate::error::Result;
use crate::kind::spec::{read_of, tag_map, Found};
use crate::kind::*;
use crate::model::{deps_of, Input, Inputs, Typed};
use aws_sdk_cognitoidentityprovider::types::{AttributeType as SdkAttribute, MessageActionType};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

// ---------------------------------------------------------------- users

/// A confirmed user of a pool with a permanent password, a member of its
/// groups (`cognito:groups` in its tokens).
pub struct PoolUser {
    /// The pool's ID (`pool.id()`).
    pub user_pool_id: Input<String>,
    /// The user name.
    pub name: String,
    /// Its password and attributes.
    pub user: User,
    /// The groups it is a member of (`group.name()`), and no other. Give
    /// the group's output, not a plain name: the output orders the user
    /// after the group (a plain name of a group made in the same run can
    /// be sent before the group exists).
    pub groups: Vec<Input<String>>,
    /// False to keep the user from signing in (`AdminDisableUser`).
    pub enabled: bool,
}

impl PoolUser {
    /// The user `user` (its name and password) in the pool, enabled, in no
    /// group.
    pub fn new(user_pool_id: Input<String>, user: User) -> PoolUser {
        PoolUser {
            user_pool_id,
            name: user.name.clone(),
            user,
            groups: vec![],
            enabled: true,
        }
    }

    /// The names of the groups the user is a member of, sorted; `None` when
    /// the user or its pool is gone (a delete that landed between this call
    /// and the user's read beside it: a killed run's request in flight).
    async fn groups_of(cx: &Cx, pool: &str, name: &str) -> Result<Option<Vec<String>>> {
        let mut pages = cx
            .aws
            .cognito
            .admin_list_groups_for_user()
            .user_pool_id(pool)
            .username(name)
            .into_paginator()
            .items()
            .send();
        let mut out = vec![];
        while let Some(g) = pages.next().await {
            let g = match g {
                Ok(g) => g,
                Err(e)
                    if e.as_service_error().is_some_and(|s| {
                        s.is_resource_not_found_exception() || s.is_user_not_found_exception()
                    }) =>
                {
                    return Ok(None)
                }
                Err(e) => return Err(Error::aws(format!("list the groups of user {name}"), e)),
            };
            out.extend(g.group_name);
        }
        Ok(Some(sorted(out)))
    }
}

/// What `desired` and `read` say of a password whose fingerprint in the state
/// matches the config: the comparison happens in `read`, against the slow
/// hash, so that the plan stays a pure diff of property maps.
pub const PASSWORD_MATCHES: &str = "(matches the fingerprint in the state)";
/// What `read` says when the config's password does not match (or the state
/// holds no fingerprint, or an old-format one): the password is set again.
pub const PASSWORD_CHANGED: &str = "(differs from the fingerprint in the state)";

/// A slow, salted fingerprint of a user's password (argon2id, PHC string
/// with its own random salt and parameters), kept in the state so that a
/// changed password in the config is noticed. A stolen state file does not
/// let weak passwords be guessed quickly offline. Never the password itself.
pub fn password_fingerprint(password: &str) -> String {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
}

/// True when `fingerprint` (a PHC string) is the argon2id hash of `password`.
/// The fast salted SHA-256 fingerprints of earlier versions never match, so
/// the first `up` after the upgrade sets the password once and records an
/// argon2id fingerprint instead.
pub fn password_matches(fingerprint: &str, password: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(fingerprint).is_ok_and(|h| {
        h.algorithm.as_str() == "argon2id"
            && argon2::Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
    })
}

/// Lower-case hexadecimal of `b`.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl PoolUser {
    /// The user of this name in the pool, if there is one.
    async fn get(
        cx: &Cx,
        pool: &str,
        name: &str,
    ) -> Result<
        Option<aws_sdk_cognitoidentityprovider::operation::admin_get_user::AdminGetUserOutput>,
    > {
        let r = cx
            .aws
            .cognito
            .admin_get_user()
            .user_pool_id(pool)
            .username(name)
            .send()
            .await;
        match r {
            Ok(u) => Ok(Some(u)),
            Err(e)
                if e.as_service_error().is_some_and(|s| {
                    s.is_user_not_found_exception() || s.is_resource_not_found_exception()
                }) =>
            {
                Ok(None)
            }
            Err(e) => Err(Error::aws(format!("get user {name}"), e)),
        }
    }
}

/// A user's settings. Its password is never one: `password` says whether
/// the config's matches the fingerprint in the state (`PASSWORD_MATCHES`,
/// `PASSWORD_CHANGED`). A read by ID alone (an orphan's) knows neither it
/// nor the groups.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PoolUserSpec {
    /// The declared attributes (a read keeps only those).
    pub attributes: BTreeMap<String, String>,
    /// Whether the password is as the config says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// `CONFIRMED` once its password is permanent.
    pub status: Option<String>,
    /// False: it may not sign in.
    pub enabled: bool,
    /// The groups it is a member of, sorted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
}

#[async_trait::async_trait]
impl Typed for PoolUser {
    type Spec = PoolUserSpec;
    fn provider(&self) -> Arc<dyn Provider> {
        Arc::new(PoolUserProvider)
    }
    fn deps(&self) -> Vec<String> {
        deps_of(
            std::iter::once(self.user_pool_id.deps()).chain(self.groups.iter().map(|g| g.deps())),
        )
    }
    fn parent(&self) -> Option<String> {
        self.user_pool_id.deps().first().cloned()
    }
    fn spec(&self, i: &mut Inputs) -> PoolUserSpec {
        PoolUserSpec {
            attributes: tag_map(self.user.attributes.clone()),
            password: Some(PASSWORD_MATCHES.into()),
            status: Some("CONFIRMED".into()),
            enabled: self.enabled,
            groups: Some(sorted(i.inputs(&self.groups))),
        }
    }
    async fn read(&self, cx: &Cx, prior: &Prior) -> Result<Option<Found<PoolUserSpec>>> {
        let Some(pool) = &prior.parent_id else {
            return Ok(None);
        };
        // Both at once (one round trip); for a missing user, the groups'
        // answer (an error) is not looked at.
        let (u, groups) = tokio::join!(
            PoolUser::get(cx, pool, &self.name),
            Self::groups_of(cx, pool, &self.name)
        );
        let Some(u) = u? else {
            return Ok(None);
        };
        let Some(groups) = groups? else {
            return Ok(None);
        };
        let attrs = u
            .user_attributes
            .unwrap_or_default()
            .into_iter()
            .filter(|a| self.user.attributes.contains_key(&a.name))
            .map(|a| (a.name, a.value.unwrap_or_default()));
        let status = u
            .user_status
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        let stored = prior
            .outputs
            .get("password_fingerprint")
            .cloned()
            .unwrap_or_default();
        let matches = status == "CONFIRMED" && password_matches(&stored, &self.user.password);
        let password = if matches {
            PASSWORD_MATCHES
        } else {
            PASSWORD_CHANGED
        };
        let spec = PoolUserSpec {
            attributes: tag_map(attrs),
            password: Some(password.into()),
            status: Some(status),
            enabled: u.enabled,
            groups: Some(groups),
        };
        let mut f = Found::new(self.name.clone(), spec);
        f.outputs.extend(parent_out(pool));
        if !stored.is_empty() {
            f.outputs.insert("password_fingerprint".into(), stored);
        }
        Ok(Some(f))
    }
    async fn create(&self, cx: &Cx, spec: &PoolUserSpec, k: &Known) -> Result<Found<PoolUserSpec>> {
        let pool = self.user_pool_id.require(&cx.ctx, k)?;
        let attrs = attribute_list(&spec.attributes)?;
        let r = cx
            .aws
            .cognito
            .admin_create_user()
            .user_pool_id(&pool)
            .username(&self.name)
            .message_action(MessageActionType::Suppress)
            .set_user_attributes(Some(attrs))
            .send()
            .await;
        match r {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_username_exists_exception()) => {}
            Err(e) => return Err(Error::aws(format!("create user {}", self.name), e)),
        }
        let prior = Prior {
            parent_id: Some(pool),
            ..Default::default()
        };
        match Typed::read(self, cx, &prior).await? {
            Some(f) => Typed::update(self, cx, spec, &f, k).await,
            None => Err(Error::Other(format!(
                "user {} vanished after create",
                self.name
            ))),
        }
    }
    async fn update(
        &self,
        cx: &Cx,
        spec: &PoolUserSpec,
        found: &Found<PoolUserSpec>,
        _k: &Known,
    ) -> Result<Found<PoolUserSpec>> {
        let pool = found.outputs.get("parent_id").cloned().unwrap_or_default();
        let had = &found.spec;
        let changed: BTreeMap<String, String> = spec
            .attributes
            .iter()
            .filter(|(k, v)| had.attributes.get(*k) != Some(v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !changed.is_empty() {
            cx.aws
                .cognito
                .admin_update_user_attributes()
                .user_pool_id(&pool)
                .username(&self.name)
                .set_user_attributes(Some(attribute_list(&changed)?))
                .send()
                .await
                .map_err(ctx_err(format!("update attributes of user {}", self.name)))?;
        }
        if spec.enabled != had.enabled {
            if !spec.enabled {
                cx.aws
                    .cognito
                    .admin_disable_user()
                    .user_pool_id(&pool)
                    .username(&self.name)
                    .send()
                    .await
                    .map_err(ctx_err(format!("disable user {}", self.name)))?;
            } else {
                cx.aws
                    .cognito
                    .admin_enable_user()
                    .user_pool_id(&pool)
                    .username(&self.name)
                    .send()
                    .await
                    .map_err(ctx_err(format!("enable user {}", self.name)))?;
            }
        }
        // Membership: added to the declared groups, removed from the others.
        let (want, have) = (
            spec.groups.clone().unwrap_or_default(),
            had.groups.clone().unwrap_or_default(),
        );
        for g in want.iter().filter(|g| !have.contains(g)) {
            let r = cx.aws.cognito.admin_add_user_to_group().user_pool_id(&pool);
            r.username(&self.name)
                .group_name(g)
                .send()
                .await
                .map_err(ctx_err(format!("add user {} to group {g}", self.name)))?;
        }
        for g in have.iter().filter(|g| !want.contains(g)) {
            let r = cx
                .aws
                .cognito
                .admin_remove_user_from_group()
                .user_pool_id(&pool);
            r.username(&self.name)
                .group_name(g)
                .send()
                .await
                .map_err(ctx_err(format!("remove user {} from group {g}", self.name)))?;
        }
        let mut outputs = found.outputs.clone();
        if spec.password != had.password || spec.status != had.status {
            let u = &self.user;
            cx.aws
                .cognito
                .admin_set_user_password()
                .user_pool_id(&pool)
                .username(&self.name)
                .password(&u.password)
                .permanent(true)
                .send()
                .await
                .map_err(|e| {
                    Error::aws(
                        format!("set the password of user {} (check it meets the pool's password policy)", self.name),
                        e,
                    )
                })?;
            outputs.insert(
                "password_fingerprint".into(),
                password_fingerprint(&u.password),
            );
        }
        Ok(Found {
            id: self.name.clone(),
            spec: spec.clone(),
            outputs,
        })
    }
}

/// Reads and deletes [`PoolUser`]s by ID.
pub struct PoolUserProvider;

#[async_trait::async_trait]
impl Provider for PoolUserProvider {
    fn kind(&self) -> &'static str {
        "aws:cognito:User"
    }
    async fn read(&self, cx: &Cx, id: &str, parent: Option<&str>) -> Result<Read> {
        let Some(pool) = parent else {
            return Ok(Read::Missing);
        };
        let Some(u) = PoolUser::get(cx, pool, id).await? else {
            return Ok(Read::Missing);
        };
        let attrs = u.user_attributes.unwrap_or_default().into_iter();
        let spec = PoolUserSpec {
            attributes: tag_map(attrs.map(|a| (a.name, a.value.unwrap_or_default()))),
            password: None,
            status: u.user_status.map(|s| s.as_str().to_string()),
            enabled: u.enabled,
            groups: None,
        };
        let mut f = Found::new(id, spec);
        f.outputs.extend(parent_out(pool));
        read_of(Some(f))
    }
    async fn delete(&self, cx: &Cx, id: &str, parent: Option<&str>) -> Result<()> {
        let Some(pool) = parent else { return Ok(()) };
        match cx
            .aws
            .cognito
            .admin_delete_user()
            .user_pool_id(pool)
            .username(id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error().is_some_and(|s| {
                    s.is_user_not_found_exception() || s.is_resource_not_found_exception()
                }) =>
            {
                Ok(())
            }
            Err(e) => Err(Error::aws(format!("delete user {id}"), e)),
        }
    }
}

fn attribute_list(m: &BTreeMap<String, String>) -> Result<Vec<SdkAttribute>> {
    m.iter()
        .map(|(k, v)| {
            SdkAttribute::builder()
                .name(k)
                .value(v)
                .build()
                .map_err(|e| Error::Other(e.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_a_salted_argon2id_hash() {
        let a = password_fingerprint("HeyH0Password!");
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert!(!a.contains("HeyH0Password"));
        // Salted: the same password hashes differently each time.
        let b = password_fingerprint("HeyH0Password!");
        assert_ne!(a, b);
        assert!(password_matches(&a, "HeyH0Password!"));
        assert!(password_matches(&b, "HeyH0Password!"));
        assert!(!password_matches(&a, "HeyH0Password?"));
        // The fast SHA-256 fingerprint of earlier versions never matches:
        // the password is set once more and an argon2id one is recorded.
        assert!(!password_matches(
            "0123456789abcdef0123456789abcdef",
            "HeyH0Password!"
        ));
        assert!(!password_matches("", "HeyH0Password!"));
    }
}
