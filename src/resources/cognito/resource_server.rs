use super::parent_out;
use crate::error::Error;
use crate::error::Result;
use crate::kind::*;
use crate::model::{Handle, Input, Output};
use aws_sdk_cognitoidentityprovider::types::ResourceServerScopeType;
use serde_json::json;
use serde_json::Value;
use std::sync::Arc;

// ---------------------------------------------------------------- resource server

/// An OAuth resource server (API) of a pool, with its scopes.
#[derive(Default)]
pub struct ResourceServer {
    /// The pool's ID (`pool.id()`).
    pub user_pool_id: Input<String>,
    /// Its identifier, the scopes' prefix (`IDENTIFIER/NAME`).
    pub identifier: String,
    /// Its display name.
    pub name: String,
    /// (scope name, description)
    pub scopes: Vec<(String, String)>,
}

impl Handle<ResourceServer> {
    /// A scope's full name (`IDENTIFIER/NAME`), for an app client.
    pub fn scope(&self, name: &str) -> Output<String> {
        let name = name.to_string();
        self.id().map(move |id| format!("{id}/{name}"))
    }
}

#[async_trait::async_trait]
impl Kind for ResourceServer {
    fn provider(&self) -> Arc<dyn Provider> {
        Arc::new(ResourceServerProvider)
    }
    fn deps(&self) -> Vec<String> {
        self.user_pool_id.deps().to_vec()
    }
    fn parent(&self) -> Option<String> {
        self.user_pool_id.deps().first().cloned()
    }
    fn desired(&self, _ctx: &Ctx, _k: &Known) -> Desired {
        let scopes: Vec<Value> = self
            .scopes
            .iter()
            .map(|(n, d)| json!({"name": n, "description": d}))
            .collect();
        props(json!({"name": self.name, "scopes": scopes})).into()
    }
    async fn read(&self, cx: &Cx, prior: &Prior) -> Result<Read> {
        let ident = prior.id_or(&self.identifier);
        ResourceServerProvider
            .read(cx, &ident, prior.parent_id.as_deref())
            .await
    }
    async fn create(&self, cx: &Cx, d: &Props, k: &Known) -> Result<Observed> {
        let pool = self.user_pool_id.require(&cx.ctx, k)?;
        let r = cx
            .aws
            .cognito
            .create_resource_server()
            .user_pool_id(&pool)
            .identifier(&self.identifier)
            .name(s(d, "name"))
            .set_scopes(Some(scopes(d)?))
            .send()
            .await;
        if let Err(e) = r {
            // Identifiers are unique per pool: adopt one that already exists.
            let prior = Prior {
                parent_id: Some(pool.clone()),
                ..Default::default()
            };
            return match self.read(cx, &prior).await? {
                Read::Found(o) => self.update(cx, d, &o, k).await,
                _ => Err(Error::aws("create resource server", e)),
            };
        }
        let mut outputs = parent_out(&pool);
        outputs.insert("id".into(), self.identifier.clone());
        Ok(Observed {
            id: self.identifier.clone(),
            props: d.clone(),
            outputs,
        })
    }
    async fn update(&self, cx: &Cx, d: &Props, o: &Observed, _k: &Known) -> Result<Observed> {
        if diff(d, &o.props).is_empty() {
            return Ok(o.clone());
        }
        cx.aws
            .cognito
            .update_resource_server()
            .user_pool_id(o.outputs.get("parent_id").cloned().unwrap_or_default())
            .identifier(&o.id)
            .name(s(d, "name"))
            .set_scopes(Some(scopes(d)?))
            .send()
            .await
            .map_err(ctx_err("update resource server"))?;
        Ok(Observed {
            props: d.clone(),
            ..o.clone()
        })
    }
}

/// Reads and deletes [`ResourceServer`]s by ID.
pub struct ResourceServerProvider;

#[async_trait::async_trait]
impl Provider for ResourceServerProvider {
    fn kind(&self) -> &'static str {
        "aws:cognito:ResourceServer"
    }
    async fn read(&self, cx: &Cx, id: &str, parent: Option<&str>) -> Result<Read> {
        let Some(pool) = parent else {
            return Ok(Read::Missing);
        };
        let ident = id.to_string();
        let r = cx
            .aws
            .cognito
            .describe_resource_server()
            .user_pool_id(pool)
            .identifier(&ident)
            .send()
            .await;
        let rs = match r {
            Ok(o) => o.resource_server,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                None
            }
            Err(e) => return Err(Error::aws("describe resource server", e)),
        };
        let Some(rs) = rs else {
            return Ok(Read::Missing);
        };
        let scopes: Vec<Value> = rs
            .scopes
            .unwrap_or_default()
            .into_iter()
            .map(|s| json!({"name": s.scope_name, "description": s.scope_description}))
            .collect();
        let mut outputs = parent_out(pool);
        outputs.insert("id".into(), ident.clone());
        Ok(Read::Found(Observed {
            id: ident,
            props: props(json!({"name": rs.name.unwrap_or_default(), "scopes": scopes})),
            outputs,
        }))
    }
    async fn delete(&self, cx: &Cx, id: &str, parent: Option<&str>) -> Result<()> {
        let Some(pool) = parent else { return Ok(()) };
        match cx
            .aws
            .cognito
            .delete_resource_server()
            .user_pool_id(pool)
            .identifier(id)
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
            Err(e) => Err(Error::aws("delete resource server", e)),
        }
    }
}

fn scopes(d: &Props) -> Result<Vec<ResourceServerScopeType>> {
    d.get("scopes")
        .and_then(|v| v.as_array())
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|sc| {
            ResourceServerScopeType::builder()
                .scope_name(sc["name"].as_str().unwrap_or_default())
                .scope_description(sc["description"].as_str().unwrap_or_default())
                .build()
                .map_err(|e| Error::Other(e.to_string()))
        })
        .collect()
}
