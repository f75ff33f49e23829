use super::parent_out;
use crate::error::Error;
use crate::error::Result;
use crate::kind::spec::{read_of, Found};
use crate::kind::*;
use crate::model::{Handle, Input, Inputs, Output, Typed};
use aws_sdk_cognitoidentityprovider::types::ResourceServerScopeType;
use serde::{Deserialize, Serialize};
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

/// A resource server's settings (its identifier is its ID).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResourceServerSpec {
    /// Its display name.
    pub name: String,
    /// Its scopes, in the order declared.
    pub scopes: Vec<Scope>,
}

/// A scope of a resource server.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Scope {
    /// The name after `IDENTIFIER/`.
    pub name: String,
    /// What it allows.
    pub description: String,
}

impl Scope {
    fn sdk(&self) -> Result<ResourceServerScopeType> {
        ResourceServerScopeType::builder()
            .scope_name(&self.name)
            .scope_description(&self.description)
            .build()
            .map_err(|e| Error::Other(e.to_string()))
    }
}

/// The scopes as Cognito takes them.
fn scopes(spec: &ResourceServerSpec) -> Result<Vec<ResourceServerScopeType>> {
    spec.scopes.iter().map(Scope::sdk).collect()
}

#[async_trait::async_trait]
impl Typed for ResourceServer {
    type Spec = ResourceServerSpec;
    fn provider(&self) -> Arc<dyn Provider> {
        Arc::new(ResourceServerProvider)
    }
    fn deps(&self) -> Vec<String> {
        self.user_pool_id.deps().to_vec()
    }
    fn parent(&self) -> Option<String> {
        self.user_pool_id.deps().first().cloned()
    }
    fn spec(&self, _i: &mut Inputs) -> ResourceServerSpec {
        let scopes = self.scopes.iter().map(|(name, description)| Scope {
            name: name.clone(),
            description: description.clone(),
        });
        ResourceServerSpec {
            name: self.name.clone(),
            scopes: scopes.collect(),
        }
    }
    async fn read(&self, cx: &Cx, prior: &Prior) -> Result<Option<Found<ResourceServerSpec>>> {
        let ident = prior.id_or(&self.identifier);
        ResourceServerProvider::find(cx, &ident, prior.parent_id.as_deref()).await
    }
    async fn create(
        &self,
        cx: &Cx,
        spec: &ResourceServerSpec,
        k: &Known,
    ) -> Result<Found<ResourceServerSpec>> {
        let pool = self.user_pool_id.require(&cx.ctx, k)?;
        let r = cx
            .aws
            .cognito
            .create_resource_server()
            .user_pool_id(&pool)
            .identifier(&self.identifier)
            .name(&spec.name)
            .set_scopes(Some(scopes(spec)?))
            .send()
            .await;
        if let Err(e) = r {
            // Identifiers are unique per pool: adopt one that already exists.
            return match ResourceServerProvider::find(cx, &self.identifier, Some(&pool)).await? {
                Some(f) => Typed::update(self, cx, spec, &f, k).await,
                None => Err(Error::aws("create resource server", e)),
            };
        }
        let mut f = Found::new(self.identifier.clone(), spec.clone());
        f.outputs.extend(parent_out(&pool));
        Ok(f)
    }
    async fn update(
        &self,
        cx: &Cx,
        spec: &ResourceServerSpec,
        found: &Found<ResourceServerSpec>,
        _k: &Known,
    ) -> Result<Found<ResourceServerSpec>> {
        if spec == &found.spec {
            return Ok(found.clone());
        }
        cx.aws
            .cognito
            .update_resource_server()
            .user_pool_id(found.outputs.get("parent_id").cloned().unwrap_or_default())
            .identifier(&found.id)
            .name(&spec.name)
            .set_scopes(Some(scopes(spec)?))
            .send()
            .await
            .map_err(ctx_err("update resource server"))?;
        Ok(Found {
            spec: spec.clone(),
            ..found.clone()
        })
    }
}

/// Reads and deletes [`ResourceServer`]s by ID.
pub struct ResourceServerProvider;

impl ResourceServerProvider {
    /// The resource server `id` of `pool`, if there is one.
    async fn find(
        cx: &Cx,
        id: &str,
        pool: Option<&str>,
    ) -> Result<Option<Found<ResourceServerSpec>>> {
        let Some(pool) = pool else {
            return Ok(None);
        };
        let r = cx
            .aws
            .cognito
            .describe_resource_server()
            .user_pool_id(pool)
            .identifier(id)
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
            return Ok(None);
        };
        let scopes = rs.scopes.unwrap_or_default().into_iter().map(|s| Scope {
            name: s.scope_name,
            description: s.scope_description,
        });
        let spec = ResourceServerSpec {
            name: rs.name.unwrap_or_default(),
            scopes: scopes.collect(),
        };
        let mut f = Found::new(id, spec);
        f.outputs.extend(parent_out(pool));
        Ok(Some(f))
    }
}

#[async_trait::async_trait]
impl Provider for ResourceServerProvider {
    fn kind(&self) -> &'static str {
        "aws:cognito:ResourceServer"
    }
    async fn read(&self, cx: &Cx, id: &str, parent: Option<&str>) -> Result<Read> {
        read_of(Self::find(cx, id, parent).await?)
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
