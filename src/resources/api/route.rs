use super::child_out;
use crate::error::{Error, Result};
use crate::kind::*;
use crate::model::{deps_of, Input, Inputs};
use aws_sdk_apigatewayv2::types::AuthorizationType;
use serde_json::json;
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
    ) -> Observed {
        Observed {
            id: id.to_string(),
            props: props(json!({
                "route_key": rk.unwrap_or_default(),
                "target": target.unwrap_or_default(),
                "authorization_type": at.map(|a| a.as_str()).unwrap_or("NONE"),
                "authorizer_id": auth_id.unwrap_or_default(),
                "scopes": sorted(scopes.map(|s| s.to_vec()).unwrap_or_default()),
            })),
            outputs: child_out(api, id),
        }
    }
}

#[async_trait::async_trait]
impl Kind for Route {
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
    fn desired(&self, ctx: &Ctx, k: &Known) -> Desired {
        let mut i = Inputs::new(ctx, k);
        let target = i.get(
            "target",
            &self.integration_id.map(|id| format!("integrations/{id}")),
        );
        let v = match &self.auth {
            RouteAuth::Jwt {
                authorizer_id: authorizer,
                scopes,
            } => json!({
                "route_key": self.route_key, "target": target, "authorization_type": "JWT",
                "authorizer_id": i.get("authorizer_id", authorizer), "scopes": sorted(i.list("scopes", scopes)),
            }),
            RouteAuth::Lambda { authorizer_id } => json!({
                "route_key": self.route_key, "target": target, "authorization_type": "CUSTOM",
                "authorizer_id": i.get("authorizer_id", authorizer_id), "scopes": [],
            }),
            RouteAuth::None => json!({
                "route_key": self.route_key, "target": target, "authorization_type": "NONE",
                "authorizer_id": "", "scopes": [],
            }),
        };
        i.finish(v)
    }
    async fn read(&self, cx: &Cx, prior: &Prior) -> Result<Read> {
        let Some(api) = &prior.parent_id else {
            return Ok(Read::Missing);
        };
        if let Some(id) = &prior.id {
            if let Read::Found(o) = RouteProvider.read(cx, id, Some(api)).await? {
                if s(&o.props, "route_key") == self.route_key {
                    return Ok(Read::Found(o));
                }
            }
        }
        // Route keys are unique within an API.
        let list = match cx.aws.apigw.get_routes().api_id(api).send().await {
            Ok(l) => l,
            Err(e) if not_found!(e) => return Ok(Read::Missing),
            Err(e) => return Err(Error::aws("list routes", e)),
        };
        for r in list.items.unwrap_or_default() {
            if r.route_key.as_deref() == Some(self.route_key.as_str()) {
                if let Some(id) = &r.route_id {
                    return Ok(Read::Found(Self::observe(
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
        Ok(Read::Missing)
    }
    async fn create(&self, cx: &Cx, d: &Props, k: &Known) -> Result<Observed> {
        let api = self.api_id.require(&cx.ctx, k)?;
        let mut req = cx
            .aws
            .apigw
            .create_route()
            .api_id(&api)
            .route_key(&self.route_key)
            .target(s(d, "target"))
            .authorization_type(AuthorizationType::from(s(d, "authorization_type").as_str()));
        if self.authorizer().is_some() {
            req = req.authorizer_id(s(d, "authorizer_id"));
        }
        // AWS takes scopes only with a JWT authorizer.
        if matches!(self.auth, RouteAuth::Jwt { .. }) {
            req = req.set_authorization_scopes(Some(strings(d, "scopes")));
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
                return match self.read(cx, &prior).await? {
                    Read::Found(o) => self.update(cx, d, &o, k).await,
                    _ => Err(Error::aws(format!("create route {}", self.route_key), e)),
                };
            }
            Err(e) => return Err(Error::aws(format!("create route {}", self.route_key), e)),
        };
        Ok(Observed {
            id: r.clone(),
            props: d.clone(),
            outputs: child_out(&api, &r),
        })
    }
    async fn update(&self, cx: &Cx, d: &Props, o: &Observed, _k: &Known) -> Result<Observed> {
        let api = o.outputs.get("parent_id").cloned().unwrap_or_default();
        let mut req = cx
            .aws
            .apigw
            .update_route()
            .api_id(&api)
            .route_id(&o.id)
            .target(s(d, "target"))
            .authorization_type(AuthorizationType::from(s(d, "authorization_type").as_str()));
        if self.authorizer().is_some() {
            req = req.authorizer_id(s(d, "authorizer_id"));
        }
        // AWS takes scopes only with a JWT authorizer, as at create.
        if matches!(self.auth, RouteAuth::Jwt { .. }) {
            req = req.set_authorization_scopes(Some(strings(d, "scopes")));
        }
        req.send()
            .await
            .map_err(ctx_err(format!("update route {}", self.route_key)))?;
        Ok(Observed {
            props: d.clone(),
            ..o.clone()
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
                Some((id, Some(o)))
            })
            .collect();
        Ok(Page::Items(found, page.next_token))
    })
    .await
}

/// Reads and deletes [`Route`]s by ID.
pub struct RouteProvider;

#[async_trait::async_trait]
impl Provider for RouteProvider {
    fn kind(&self) -> &'static str {
        "aws:apigatewayv2:Route"
    }
    async fn read(&self, cx: &Cx, id: &str, parent: Option<&str>) -> Result<Read> {
        let Some(api) = parent else {
            return Ok(Read::Missing);
        };
        let list = |ask| list_routes(cx, api, ask);
        if let Some(r) = cx.listed_read(self.kind(), api, id, list).await {
            return Ok(r);
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
            Ok(r) => Ok(Read::Found(Route::observe(
                api,
                id,
                r.route_key.as_deref(),
                r.target.as_deref(),
                r.authorization_type.as_ref(),
                r.authorizer_id.as_deref(),
                r.authorization_scopes.as_deref(),
            ))),
            Err(e) if not_found!(e) => Ok(Read::Missing),
            Err(e) => Err(Error::aws(format!("get route {id}"), e)),
        }
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
