use super::child_out;
use crate::error::{Error, Result};
use crate::kind::spec::{found_of, read_of, Found};
use crate::kind::*;
use crate::model::{deps_of, Input, Inputs, Typed};
use aws_sdk_apigatewayv2::types::AuthorizationType;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

// ---------------------------------------------------------------- routes

/// A route of an API to an integration, open or behind a JWT authorizer.
///
/// ```
/// use deployer::resources::api::{Route, RouteAuth};
/// let open = Route::new("api-id", "GET /hello", "integration-id");
/// assert!(matches!(open.auth, RouteAuth::None));
/// let closed = Route {
///     auth: RouteAuth::jwt("authorizer-id", ["orders/read"]),
///     ..Route::new("api-id", "GET /orders", "integration-id")
/// };
/// assert!(matches!(closed.auth, RouteAuth::Jwt { .. }));
/// ```
#[derive(Default)]
pub struct Route {
    /// The API's ID (`api.id()`).
    pub api_id: Input<String>,
    /// `GET /path`, `ANY /path/{proxy+}`, or `$default`.
    pub route_key: String,
    /// The integration's ID (`integration.id()`).
    pub integration_id: Input<String>,
    /// Who may call it: anyone (the default) or a JWT's bearer.
    pub auth: RouteAuth,
}

/// Who may call a route (its authorization type).
#[derive(Default)]
pub enum RouteAuth {
    /// Anyone (`NONE`).
    #[default]
    None,
    /// The bearer of a JWT that a JWT authorizer (`authorizer.id()`)
    /// accepts and that holds one of `scopes` (none: any valid token).
    Jwt {
        /// The authorizer's ID.
        authorizer_id: Input<String>,
        /// The scopes a token needs (one of them).
        scopes: Vec<Input<String>>,
    },
    /// Whoever a Lambda authorizer (`authorizer.id()`) lets in (`CUSTOM`).
    Lambda {
        /// The authorizer's ID.
        authorizer_id: Input<String>,
    },
}

impl RouteAuth {
    /// A JWT authorizer's, with the scopes a token needs.
    pub fn jwt<S: Into<Input<String>>>(
        authorizer_id: impl Into<Input<String>>,
        scopes: impl IntoIterator<Item = S>,
    ) -> RouteAuth {
        RouteAuth::Jwt {
            authorizer_id: authorizer_id.into(),
            scopes: scopes.into_iter().map(Into::into).collect(),
        }
    }
}

impl Route {
    /// An open route (`RouteAuth::None`) of `api_id` to `integration_id`.
    pub fn new(
        api_id: impl Into<Input<String>>,
        route_key: impl Into<String>,
        integration_id: impl Into<Input<String>>,
    ) -> Route {
        Route {
            api_id: api_id.into(),
            route_key: route_key.into(),
            integration_id: integration_id.into(),
            auth: RouteAuth::None,
        }
    }
    /// The authorizer's ID, when the route has one.
    fn authorizer(&self) -> Option<&Input<String>> {
        match &self.auth {
            RouteAuth::None => None,
            RouteAuth::Jwt { authorizer_id, .. } | RouteAuth::Lambda { authorizer_id } => {
                Some(authorizer_id)
            }
        }
    }
    #[allow(clippy::too_many_arguments)]
    fn observe(
        api: &str,
        id: &str,
        rk: Option<&str>,
        target: Option<&str>,
        at: Option<&AuthorizationType>,
        auth_id: Option<&str>,
        scopes: Option<&[String]>,
    ) -> Found<RouteSpec> {
        let spec = RouteSpec {
            route_key: rk.unwrap_or_default().to_string(),
            target: target.unwrap_or_default().to_string(),
            authorization_type: at.map(|a| a.as_str()).unwrap_or("NONE").to_string(),
            authorizer_id: auth_id.unwrap_or_default().to_string(),
            scopes: sorted(scopes.map(|s| s.to_vec()).unwrap_or_default()),
        };
        Found {
            id: id.to_string(),
            spec,
            outputs: child_out(api, id),
        }
    }
}

/// A route's settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RouteSpec {
    /// `GET /path`, `$default`.
    pub route_key: String,
    /// `integrations/ID`.
    pub target: String,
    /// `NONE`, `JWT` or `CUSTOM`.
    pub authorization_type: String,
    /// Empty without an authorizer.
    pub authorizer_id: String,
    /// The scopes a token needs (sorted; a JWT authorizer's only).
    pub scopes: Vec<String>,
}

#[async_trait::async_trait]
impl Typed for Route {
    type Spec = RouteSpec;
    fn provider(&self) -> Arc<dyn Provider> {
        Arc::new(RouteProvider)
    }
    fn deps(&self) -> Vec<String> {
        let mut inputs = vec![self.api_id.deps(), self.integration_id.deps()];
        inputs.extend(self.authorizer().map(|a| a.deps()));
        if let RouteAuth::Jwt { scopes, .. } = &self.auth {
            inputs.extend(scopes.iter().map(|s| s.deps()));
        }
        deps_of(inputs)
    }
    fn parent(&self) -> Option<String> {
        self.api_id.deps().first().cloned()
    }
    fn spec(&self, i: &mut Inputs) -> RouteSpec {
        let target = i.input(&self.integration_id.map(|id| format!("integrations/{id}")));
        let (authorization_type, authorizer_id, scopes) = match &self.auth {
            RouteAuth::Jwt {
                authorizer_id,
                scopes,
            } => (
                AuthorizationType::Jwt,
                i.input(authorizer_id),
                sorted(i.inputs(scopes)),
            ),
            RouteAuth::Lambda { authorizer_id } => {
                (AuthorizationType::Custom, i.input(authorizer_id), vec![])
            }
            RouteAuth::None => (AuthorizationType::None, String::new(), vec![]),
        };
        RouteSpec {
            route_key: self.route_key.clone(),
            target,
            authorization_type: authorization_type.as_str().to_string(),
            authorizer_id,
            scopes,
        }
    }
    async fn read(&self, cx: &Cx, prior: &Prior) -> Result<Option<Found<RouteSpec>>> {
        let Some(api) = &prior.parent_id else {
            return Ok(None);
        };
        if let Some(id) = &prior.id {
            if let Some(f) = RouteProvider::find(cx, id, api).await? {
                if f.spec.route_key == self.route_key {
                    return Ok(Some(f));
                }
            }
        }
        // Route keys are unique within an API.
        let list = match cx.aws.apigw.get_routes().api_id(api).send().await {
            Ok(l) => l,
            Err(e) if not_found!(e) => return Ok(None),
            Err(e) => return Err(Error::aws("list routes", e)),
        };
        for r in list.items.unwrap_or_default() {
            if r.route_key.as_deref() == Some(self.route_key.as_str()) {
                if let Some(id) = &r.route_id {
                    return Ok(Some(Self::observe(
                        api,
                        id,
                        r.route_key.as_deref(),
                        r.target.as_deref(),
                        r.authorization_type.as_ref(),
                        r.authorizer_id.as_deref(),
                        r.authorization_scopes.as_deref(),
                    )));
                }
            }
        }
        Ok(None)
    }
    async fn create(&self, cx: &Cx, spec: &RouteSpec, k: &Known) -> Result<Found<RouteSpec>> {
        let api = self.api_id.require(&cx.ctx, k)?;
        let mut req = cx
            .aws
            .apigw
            .create_route()
            .api_id(&api)
            .route_key(&self.route_key)
            .target(&spec.target)
            .authorization_type(AuthorizationType::from(spec.authorization_type.as_str()));
        if self.authorizer().is_some() {
            req = req.authorizer_id(&spec.authorizer_id);
        }
        // AWS takes scopes only with a JWT authorizer.
        if matches!(self.auth, RouteAuth::Jwt { .. }) {
            req = req.set_authorization_scopes(Some(spec.scopes.clone()));
        }
        let r = match req.send().await {
            Ok(r) => r.route_id.unwrap_or_default(),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conflict_exception()) =>
            {
                let prior = Prior {
                    parent_id: Some(api.clone()),
                    ..Default::default()
                };
                return match Typed::read(self, cx, &prior).await? {
                    Some(f) => Typed::update(self, cx, spec, &f, k).await,
                    None => Err(Error::aws(format!("create route {}", self.route_key), e)),
                };
            }
            Err(e) => return Err(Error::aws(format!("create route {}", self.route_key), e)),
        };
        Ok(Found {
            id: r.clone(),
            spec: spec.clone(),
            outputs: child_out(&api, &r),
        })
    }
    async fn update(
        &self,
        cx: &Cx,
        spec: &RouteSpec,
        found: &Found<RouteSpec>,
        _k: &Known,
    ) -> Result<Found<RouteSpec>> {
        let api = found.outputs.get("parent_id").cloned().unwrap_or_default();
        let mut req = cx
            .aws
            .apigw
            .update_route()
            .api_id(&api)
            .route_id(&found.id)
            .target(&spec.target)
            .authorization_type(AuthorizationType::from(spec.authorization_type.as_str()));
        if self.authorizer().is_some() {
            req = req.authorizer_id(&spec.authorizer_id);
        }
        // AWS takes scopes only with a JWT authorizer, as at create.
        if matches!(self.auth, RouteAuth::Jwt { .. }) {
            req = req.set_authorization_scopes(Some(spec.scopes.clone()));
        }
        req.send()
            .await
            .map_err(ctx_err(format!("update route {}", self.route_key)))?;
        Ok(Found {
            spec: spec.clone(),
            ..found.clone()
        })
    }
}

/// Every route of `api` (GetRoutes), each as a read of it by itself sees
/// it, within `ask.budget` pages (`crate::kind::listing`).
async fn list_routes(
    cx: &Cx,
    api: &str,
    ask: crate::kind::listing::Ask,
) -> Result<Option<crate::kind::listing::Listed>> {
    use crate::kind::listing::{paged, Page};
    paged(&ask, "", |token| async move {
        let page = match cx
            .aws
            .apigw
            .get_routes()
            .api_id(api)
            .set_next_token(token)
            .send()
            .await
        {
            Ok(p) => p,
            // No API, no route.
            Err(e) if not_found!(e) => return Ok(Page::ParentGone),
            Err(e) => return Err(Error::aws("list routes", e)),
        };
        let items = page.items.unwrap_or_default().into_iter();
        let found = items
            .filter_map(|r| {
                let id = r.route_id.clone()?;
                let o = Route::observe(
                    api,
                    &id,
                    r.route_key.as_deref(),
                    r.target.as_deref(),
                    r.authorization_type.as_ref(),
                    r.authorizer_id.as_deref(),
                    r.authorization_scopes.as_deref(),
                );
                Some((id, Some(o.observed().ok()?)))
            })
            .collect();
        Ok(Page::Items(found, page.next_token))
    })
    .await
}

/// Reads and deletes [`Route`]s by ID.
pub struct RouteProvider;

impl RouteProvider {
    /// The route `id` of `api`, if there is one (from the API's list when
    /// the plan listed it).
    async fn find(cx: &Cx, id: &str, api: &str) -> Result<Option<Found<RouteSpec>>> {
        let list = |ask| list_routes(cx, api, ask);
        if let Some(r) = cx.listed_read(RouteProvider.kind(), api, id, list).await {
            return found_of(r);
        }
        match cx
            .aws
            .apigw
            .get_route()
            .api_id(api)
            .route_id(id)
            .send()
            .await
        {
            Ok(r) => Ok(Some(Route::observe(
                api,
                id,
                r.route_key.as_deref(),
                r.target.as_deref(),
                r.authorization_type.as_ref(),
                r.authorizer_id.as_deref(),
                r.authorization_scopes.as_deref(),
            ))),
            Err(e) if not_found!(e) => Ok(None),
            Err(e) => Err(Error::aws(format!("get route {id}"), e)),
        }
    }
}

#[async_trait::async_trait]
impl Provider for RouteProvider {
    fn kind(&self) -> &'static str {
        "aws:apigatewayv2:Route"
    }
    async fn read(&self, cx: &Cx, id: &str, parent: Option<&str>) -> Result<Read> {
        let Some(api) = parent else {
            return Ok(Read::Missing);
        };
        read_of(Self::find(cx, id, api).await?)
    }
    async fn delete(&self, cx: &Cx, id: &str, api: Option<&str>) -> Result<()> {
        let Some(api) = api else { return Ok(()) };
        ok_if_gone(
            cx.aws
                .apigw
                .delete_route()
                .api_id(api)
                .route_id(id)
                .send()
                .await,
            |s| s.is_not_found_exception(),
            format!("delete route {id}"),
        )
    }
}
