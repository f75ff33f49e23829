use super::parent_out;
use crate::error::Error;
use crate::error::Result;
use crate::kind::*;
use crate::model::{Handle, Input, Inputs, Output};
use serde_json::json;
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
                Some(o) if o.outputs.get("parent_id").map(String::as_str) == Some(pool) => {
                    Err(Error::aws(format!("delete user pool domain {domain}"), e))
                }
                _ => Ok(()),
            }
        }
        Err(e) => Err(Error::aws(format!("delete user pool domain {domain}"), e)),
    }
}

impl Domain {
    async fn describe(cx: &Cx, domain: &str) -> Result<Option<Observed>> {
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
        let mut outputs = parent_out(&pool);
        outputs.insert("domain".into(), domain.to_string());
        if let Some(st) = &d.status {
            outputs.insert("status".into(), st.as_str().to_string());
        }
        Ok(Some(Observed {
            id: domain.to_string(),
            props: props(json!({
                "domain": domain,
                "user_pool_id": pool,
                "managed_login_version": d.managed_login_version.unwrap_or(1),
            })),
            outputs,
        }))
    }

    async fn wait_active(cx: &Cx, domain: &str) -> Result<Observed> {
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
impl Kind for Domain {
    fn provider(&self) -> Arc<dyn Provider> {
        Arc::new(DomainProvider)
    }
    fn deps(&self) -> Vec<String> {
        self.user_pool_id.deps().to_vec()
    }
    fn replace_on(&self) -> &'static [&'static str] {
        &["domain", "user_pool_id"]
    }
    fn belongs_through(&self) -> Option<(&'static str, String)> {
        let pool = self.user_pool_id.deps().first()?.clone();
        Some(("user_pool_id", pool))
    }
    fn desired(&self, ctx: &Ctx, k: &Known) -> Desired {
        let mut i = Inputs::new(ctx, k);
        let v = json!({
            "domain": self.prefix(ctx),
            "user_pool_id": i.get("user_pool_id", &self.user_pool_id),
            "managed_login_version": 1,
        });
        i.finish(v)
    }
    async fn read(&self, cx: &Cx, prior: &Prior) -> Result<Read> {
        let want = self.prefix(&cx.ctx);
        let name = prior.id.clone().unwrap_or_else(|| want.clone());
        if name.is_empty() {
            return Ok(Read::Missing);
        }
        Ok(match Self::describe(cx, &name).await? {
            Some(o) => Read::Found(o),
            None if name != want && !want.is_empty() => match Self::describe(cx, &want).await? {
                Some(o) => Read::Found(o),
                None => Read::Missing,
            },
            None => Read::Missing,
        })
    }
    async fn create(&self, cx: &Cx, d: &Props, _k: &Known) -> Result<Observed> {
        let domain = s(d, "domain");
        let pool = s(d, "user_pool_id");
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
                    .domain(&domain)
                    .user_pool_id(&pool)
                    .managed_login_version(1)
                    .send()
            },
        )
        .await;
        if let Err(e) = r {
            // Adopt a domain already on this pool (lost state entry).
            match Self::describe(cx, &domain).await? {
                Some(o) if s(&o.props, "user_pool_id") == pool => {}
                _ => return Err(Error::aws(format!("create Cognito domain {domain}"), e)),
            }
        }
        Self::wait_active(cx, &domain).await
    }
    async fn update(&self, cx: &Cx, d: &Props, o: &Observed, _k: &Known) -> Result<Observed> {
        cx.aws
            .cognito
            .update_user_pool_domain()
            .domain(&o.id)
            .user_pool_id(s(d, "user_pool_id"))
            .managed_login_version(1)
            .send()
            .await
            .map_err(ctx_err(format!("update Cognito domain {}", o.id)))?;
        Self::wait_active(cx, &o.id).await
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
        Ok(match Domain::describe(cx, id).await? {
            Some(o) => Read::Found(o),
            None => Read::Missing,
        })
    }
    async fn delete(&self, cx: &Cx, id: &str, parent: Option<&str>) -> Result<()> {
        let pool = match parent {
            Some(p) => p.to_string(),
            None => match Domain::describe(cx, id).await? {
                Some(o) => s(&o.props, "user_pool_id"),
                None => return Ok(()),
            },
        };
        delete_domain(cx, id, &pool).await
    }
}
