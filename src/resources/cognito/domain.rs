use super::parent_out;
use crate::error::Error;
use crate::error::Result;
use crate::kind::spec::{read_of, Fixed, Found};
use crate::kind::*;
use crate::model::{Handle, Input, Inputs, Output, Typed};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

// ---------------------------------------------------------------- domain

/// Cognito's answer to DeleteUserPool while the pool's domain is still
/// being deleted.
pub fn pool_has_domain(message: Option<&str>) -> bool {
    message.is_some_and(|m| m.contains("has a domain configured"))
}

/// The pool's hosted domain (`PREFIX.auth.REGION.amazoncognito.com`).
pub struct Domain {
    /// The domain prefix, exact or derived.
    pub prefix: DomainPrefix,
    /// The pool's ID (`pool.id()`).
    pub user_pool_id: Input<String>,
}

/// A Cognito domain prefix is global to a region: either exact, or unique per
/// (seed, account, region) so that two accounts keeping one default do not
/// clash. A UUIDv5 is hexadecimal and so never holds the reserved words
/// aws/amazon/cognito.
pub enum DomainPrefix {
    /// This prefix.
    Exact(String),
    /// A UUIDv5 of this seed, the account and the region.
    Unique(String),
}

impl Domain {
    fn prefix(&self, ctx: &Ctx) -> String {
        match &self.prefix {
            DomainPrefix::Exact(p) => p.clone(),
            DomainPrefix::Unique(seed) => {
                let name = format!("urn:{seed}:{}:{}", ctx.account, ctx.region);
                uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, name.as_bytes()).to_string()
            }
        }
    }
}

impl Handle<Domain> {
    /// The hosted UI's base URL (AWS's, or the local identity provider's).
    pub fn url(&self) -> Output<String> {
        Output::of_with(self.key(), "domain", |ctx, d| ctx.hosted_domain(d))
    }
}

pub(super) async fn delete_domain(cx: &Cx, domain: &str, pool: &str) -> Result<()> {
    match cx
        .aws
        .cognito
        .delete_user_pool_domain()
        .domain(domain)
        .user_pool_id(pool)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Ok(())
        }
        // Cognito answers InvalidParameterException both for a domain that
        // is already gone and for one it refuses to delete (another pool's,
        // a custom domain in use): look, and ignore it only when the domain
        // is no longer this pool's.
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_invalid_parameter_exception()) =>
        {
            match Domain::describe(cx, domain).await? {
                Some(f) if *f.spec.user_pool_id == pool => {
                    Err(Error::aws(format!("delete user pool domain {domain}"), e))
                }
                _ => Ok(()),
            }
        }
        Err(e) => Err(Error::aws(format!("delete user pool domain {domain}"), e)),
    }
}

/// A domain's settings: its prefix and pool fixed at creation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DomainSpec {
    /// The prefix (`PREFIX.auth.REGION.amazoncognito.com`).
    pub domain: Fixed<String>,
    /// The pool it serves.
    pub user_pool_id: Fixed<String>,
    /// 1: the classic hosted UI (2 would be managed login).
    pub managed_login_version: i32,
}

impl Domain {
    async fn describe(cx: &Cx, domain: &str) -> Result<Option<Found<DomainSpec>>> {
        let out = cx
            .aws
            .cognito
            .describe_user_pool_domain()
            .domain(domain)
            .send()
            .await;
        let d = match out {
            Ok(o) => o.domain_description,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                None
            }
            Err(e) => return Err(Error::aws(format!("describe domain {domain}"), e)),
        };
        let Some(d) = d else { return Ok(None) };
        let pool = d.user_pool_id.clone().unwrap_or_default();
        if pool.is_empty() {
            return Ok(None); // AWS answers an empty description for no domain
        }
        let spec = DomainSpec {
            domain: domain.into(),
            user_pool_id: Fixed(pool.clone()),
            managed_login_version: d.managed_login_version.unwrap_or(1),
        };
        let mut f = Found::new(domain, spec);
        f.outputs = parent_out(&pool);
        f.outputs.insert("domain".into(), domain.to_string());
        if let Some(st) = &d.status {
            f.outputs.insert("status".into(), st.as_str().to_string());
        }
        Ok(Some(f))
    }

    async fn wait_active(cx: &Cx, domain: &str) -> Result<Found<DomainSpec>> {
        // A prefix domain takes up to about a minute to become ACTIVE.
        let r = crate::aws::with_backoff(
            "domain to become ACTIVE",
            std::time::Duration::from_secs(180),
            |e: &Error| matches!(e, Error::Other(m) if m.starts_with("not active")),
            || async {
                match Self::describe(cx, domain).await? {
                    Some(o) if o.outputs.get("status").is_none_or(|s| s == "ACTIVE") => Ok(o),
                    Some(o) if o.outputs.get("status").is_some_and(|s| s == "FAILED") => Err(
                        Error::Other(format!("Cognito domain {domain} is FAILED; run `deployer up` again to recreate it")),
                    ),
                    _ => Err(Error::Other(format!("not active yet: {domain}"))),
                }
            },
        )
        .await;
        r.map_err(|e| match e {
            Error::Other(m) if m.starts_with("not active") => Error::Other(format!(
                "Cognito domain {domain} did not become ACTIVE within 3 minutes; run `deployer up` again"
            )),
            e => e,
        })
    }
}

#[async_trait::async_trait]
impl Typed for Domain {
    type Spec = DomainSpec;
    fn provider(&self) -> Arc<dyn Provider> {
        Arc::new(DomainProvider)
    }
    fn belongs_through(&self) -> Option<(&'static str, String)> {
        let pool = self.user_pool_id.deps().first()?.clone();
        Some(("user_pool_id", pool))
    }
    fn spec(&self, i: &mut Inputs) -> DomainSpec {
        DomainSpec {
            domain: Fixed(self.prefix(i.ctx())),
            user_pool_id: Fixed(i.input(&self.user_pool_id)),
            managed_login_version: 1,
        }
    }
    async fn read(&self, cx: &Cx, prior: &Prior) -> Result<Option<Found<DomainSpec>>> {
        let want = self.prefix(&cx.ctx);
        let name = prior.id.clone().unwrap_or_else(|| want.clone());
        if name.is_empty() {
            return Ok(None);
        }
        Ok(match Self::describe(cx, &name).await? {
            Some(f) => Some(f),
            None if name != want && !want.is_empty() => Self::describe(cx, &want).await?,
            None => None,
        })
    }
    async fn create(&self, cx: &Cx, spec: &DomainSpec, _k: &Known) -> Result<Found<DomainSpec>> {
        let (domain, pool) = (spec.domain.as_str(), spec.user_pool_id.as_str());
        let r = crate::aws::with_backoff(
            "create Cognito domain",
            std::time::Duration::from_secs(60),
            |e: &aws_sdk_cognitoidentityprovider::error::SdkError<_, _>| {
                e.as_service_error()
                    .is_some_and(|s: &aws_sdk_cognitoidentityprovider::operation::create_user_pool_domain::CreateUserPoolDomainError| s.is_concurrent_modification_exception())
            },
            || {
                cx.aws
                    .cognito
                    .create_user_pool_domain()
                    .domain(domain)
                    .user_pool_id(pool)
                    .managed_login_version(spec.managed_login_version)
                    .send()
            },
        )
        .await;
        if let Err(e) = r {
            // Adopt a domain already on this pool (lost state entry).
            match Self::describe(cx, domain).await? {
                Some(f) if *f.spec.user_pool_id == pool => {}
                _ => return Err(Error::aws(format!("create Cognito domain {domain}"), e)),
            }
        }
        Self::wait_active(cx, domain).await
    }
    async fn update(
        &self,
        cx: &Cx,
        spec: &DomainSpec,
        found: &Found<DomainSpec>,
        _k: &Known,
    ) -> Result<Found<DomainSpec>> {
        cx.aws
            .cognito
            .update_user_pool_domain()
            .domain(&found.id)
            .user_pool_id(spec.user_pool_id.as_str())
            .managed_login_version(spec.managed_login_version)
            .send()
            .await
            .map_err(ctx_err(format!("update Cognito domain {}", found.id)))?;
        Self::wait_active(cx, &found.id).await
    }
}

/// Reads and deletes [`Domain`]s by ID.
pub struct DomainProvider;

#[async_trait::async_trait]
impl Provider for DomainProvider {
    fn kind(&self) -> &'static str {
        "aws:cognito:UserPoolDomain"
    }
    async fn read(&self, cx: &Cx, id: &str, _parent: Option<&str>) -> Result<Read> {
        read_of(Domain::describe(cx, id).await?)
    }
    async fn delete(&self, cx: &Cx, id: &str, parent: Option<&str>) -> Result<()> {
        let pool = match parent {
            Some(p) => p.to_string(),
            None => match Domain::describe(cx, id).await? {
                Some(f) => f.spec.user_pool_id.0,
                None => return Ok(()),
            },
        };
        delete_domain(cx, id, &pool).await
    }
}
