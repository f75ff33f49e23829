use super::child_out;
use crate::error::{Error, Result};
use crate::kind::spec::{read_of, Fixed, Found};
use crate::kind::*;
use crate::model::{deps_of, Input, Inputs, Typed};
use aws_sdk_apigatewayv2::types::{AuthorizerType, JwtConfiguration};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

// For the doc link to `RouteAuth::Lambda` (an import used only there would
// be an unused import in other builds).
#[cfg(doc)]
use super::RouteAuth;

// ---------------------------------------------------------------- authorizer

/// An authorizer of an API: a JWT authorizer (tokens from `issuer` for
/// `audience`), or with `lambda` set a Lambda (`REQUEST`) authorizer: a
/// function of the stack that decides from the request.
///
/// A Lambda authorizer's function needs a [`Permission`](crate::resources::lambda::Permission)
/// for `apigateway.amazonaws.com` from
/// `interpolate!("{}/authorizers/{}", api.execution_arn(), authorizer.id())`;
/// its routes take [`RouteAuth::Lambda`].
#[derive(Default)]
pub struct Authorizer {
    /// The API's ID (`api.id()`).
    pub api_id: Input<String>,
    /// Its name within the API.
    pub name: String,
    /// A JWT authorizer's token issuer (`pool.issuer()`).
    pub issuer: Input<String>,
    /// A JWT authorizer's audiences (client IDs): a token has one of them.
    pub audience: Vec<Input<String>>,
    /// Where the identity is in a request (`$request.header.Authorization`,
    /// `$request.querystring.key`, ...); empty: the `Authorization` header.
    pub identity_sources: Vec<String>,
    /// `Some`: a Lambda (`REQUEST`) authorizer; `issuer` and `audience` are
    /// then not used. Changing the type replaces the authorizer.
    pub lambda: Option<LambdaAuthorizer>,
}

/// A Lambda authorizer's function and how API Gateway calls it.
#[derive(Default)]
pub struct LambdaAuthorizer {
    /// The function that decides (`function.arn()`).
    pub function_arn: Input<String>,
    /// The event it is given: `"2.0"` (empty: `"2.0"`) or `"1.0"`.
    pub payload_format_version: String,
    /// It answers `{"isAuthorized": bool, "context": {...}}` (payload 2.0
    /// only) instead of an IAM policy document.
    pub simple_responses: bool,
    /// How long API Gateway keeps an answer for the same identity, 0 to
    /// 3600 s (0: asked on every request; `None`: 300, the console's and
    /// CDK's default; the API documents none, so deployer always sends it).
    pub result_ttl_seconds: Option<i32>,
}

impl Authorizer {
    /// A JWT authorizer of `api_id`: tokens from `issuer` for one of `audience`.
    pub fn jwt(
        api_id: impl Into<Input<String>>,
        name: impl Into<String>,
        issuer: impl Into<Input<String>>,
        audience: Vec<Input<String>>,
    ) -> Authorizer {
        Authorizer {
            api_id: api_id.into(),
            name: name.into(),
            issuer: issuer.into(),
            audience,
            ..Default::default()
        }
    }
    /// A Lambda (`REQUEST`) authorizer of `api_id`, answered by `function_arn`
    /// in the simple format (payload 2.0), its answers kept 300 s.
    pub fn lambda(
        api_id: impl Into<Input<String>>,
        name: impl Into<String>,
        function_arn: impl Into<Input<String>>,
    ) -> Authorizer {
        Authorizer {
            api_id: api_id.into(),
            name: name.into(),
            lambda: Some(LambdaAuthorizer {
                function_arn: function_arn.into(),
                simple_responses: true,
                ..Default::default()
            }),
            ..Default::default()
        }
    }
    fn observe(
        api: &str,
        a: &aws_sdk_apigatewayv2::operation::get_authorizer::GetAuthorizerOutput,
    ) -> Found<AuthorizerSpec> {
        let jwt = a.jwt_configuration.as_ref();
        let spec = AuthorizerSpec {
            name: a.name.clone().unwrap_or_default(),
            kind: Fixed(
                a.authorizer_type
                    .as_ref()
                    .map(|t| t.as_str())
                    .unwrap_or_default()
                    .into(),
            ),
            identity_source: a.identity_source.clone().unwrap_or_default(),
            issuer: Some(jwt.and_then(|j| j.issuer.clone()).unwrap_or_default()),
            audience: Some(sorted(
                jwt.and_then(|j| j.audience.clone()).unwrap_or_default(),
            )),
            uri: Some(a.authorizer_uri.clone().unwrap_or_default()),
            payload_format_version: Some(
                a.authorizer_payload_format_version
                    .clone()
                    .unwrap_or_default(),
            ),
            simple_responses: Some(a.enable_simple_responses.unwrap_or(false)),
            result_ttl_seconds: Some(a.authorizer_result_ttl_in_seconds.unwrap_or(0)),
        };
        let id = a.authorizer_id.clone().unwrap_or_default();
        Found {
            outputs: child_out(api, &id),
            id,
            spec,
        }
    }
    /// The URI API Gateway invokes a function by.
    fn invocation_uri(ctx: &Ctx, function_arn: &str) -> String {
        ctx.arn(
            "apigateway",
            &ctx.region,
            "lambda",
            &format!("path/2015-03-31/functions/{function_arn}/invocations"),
        )
    }
    /// CreateAuthorizer's and UpdateAuthorizer's settings, of either type.
    fn settings(spec: &AuthorizerSpec) -> AuthorizerSettings {
        let request = spec.kind.as_str() == AuthorizerType::Request.as_str();
        AuthorizerSettings {
            identity_source: spec.identity_source.clone(),
            jwt: (!request).then(|| {
                JwtConfiguration::builder()
                    .issuer(spec.issuer.clone().unwrap_or_default())
                    .set_audience(Some(spec.audience.clone().unwrap_or_default()))
                    .build()
            }),
            uri: request.then(|| spec.uri.clone().unwrap_or_default()),
            payload_format_version: request
                .then(|| spec.payload_format_version.clone().unwrap_or_default()),
            simple_responses: request.then(|| spec.simple_responses == Some(true)),
            result_ttl_seconds: request.then(|| spec.result_ttl_seconds.unwrap_or(0)),
        }
    }
    async fn get(cx: &Cx, api: &str, id: &str) -> Result<Option<Found<AuthorizerSpec>>> {
        match cx
            .aws
            .apigw
            .get_authorizer()
            .api_id(api)
            .authorizer_id(id)
            .send()
            .await
        {
            Ok(a) => Ok(Some(Self::observe(api, &a))),
            Err(e) if not_found!(e) => Ok(None),
            Err(e) => Err(Error::aws(format!("get authorizer {id}"), e)),
        }
    }
}

/// An authorizer's settings: those of its type only (a JWT authorizer's
/// issuer and audience, a Lambda authorizer's function, payload, answer
/// format and cache); a read reports every one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthorizerSpec {
    /// Its name within the API.
    pub name: String,
    /// `JWT` or `REQUEST`: fixed at creation.
    #[serde(rename = "type")]
    pub kind: Fixed<String>,
    /// Where the identity is in a request.
    pub identity_source: Vec<String>,
    /// A JWT authorizer's token issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// A JWT authorizer's audiences (sorted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<Vec<String>>,
    /// A Lambda authorizer's invocation URI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// A Lambda authorizer's event format.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_format_version: Option<String>,
    /// A Lambda authorizer answers `{"isAuthorized": ..}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub simple_responses: Option<bool>,
    /// How long a Lambda authorizer's answer is kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_ttl_seconds: Option<i32>,
}

/// What an authorizer is created and updated with (`None`: not of its type).
struct AuthorizerSettings {
    identity_source: Vec<String>,
    jwt: Option<JwtConfiguration>,
    uri: Option<String>,
    payload_format_version: Option<String>,
    simple_responses: Option<bool>,
    result_ttl_seconds: Option<i32>,
}

#[async_trait::async_trait]
impl Typed for Authorizer {
    type Spec = AuthorizerSpec;
    fn provider(&self) -> Arc<dyn Provider> {
        Arc::new(AuthorizerProvider)
    }
    fn deps(&self) -> Vec<String> {
        let function = self.lambda.as_ref().map(|l| l.function_arn.deps());
        deps_of(
            [self.api_id.deps(), self.issuer.deps()]
                .into_iter()
                .chain(self.audience.iter().map(|a| a.deps()))
                .chain(function),
        )
    }
    fn parent(&self) -> Option<String> {
        self.api_id.deps().first().cloned()
    }
    fn non_unique_name(&self) -> bool {
        true
    }
    fn spec(&self, i: &mut Inputs) -> AuthorizerSpec {
        let identity_source = if self.identity_sources.is_empty() {
            vec!["$request.header.Authorization".to_string()]
        } else {
            self.identity_sources.clone()
        };
        let Some(l) = &self.lambda else {
            return AuthorizerSpec {
                name: self.name.clone(),
                kind: Fixed(AuthorizerType::Jwt.as_str().into()),
                identity_source,
                issuer: Some(i.input(&self.issuer)),
                audience: Some(sorted(i.inputs(&self.audience))),
                ..Default::default()
            };
        };
        let arn = i.input(&l.function_arn);
        let version = match l.payload_format_version.as_str() {
            "" => "2.0",
            v => v,
        };
        AuthorizerSpec {
            name: self.name.clone(),
            kind: Fixed(AuthorizerType::Request.as_str().into()),
            identity_source,
            uri: Some(Self::invocation_uri(i.ctx(), &arn)),
            payload_format_version: Some(version.into()),
            simple_responses: Some(l.simple_responses),
            result_ttl_seconds: Some(l.result_ttl_seconds.unwrap_or(300)),
            ..Default::default()
        }
    }
    async fn read(&self, cx: &Cx, prior: &Prior) -> Result<Option<Found<AuthorizerSpec>>> {
        let Some(api) = &prior.parent_id else {
            return Ok(None);
        };
        if let Some(id) = &prior.id {
            if let Some(f) = Self::get(cx, api, id).await? {
                return Ok(Some(f));
            }
        }
        // An ID in the state that is not found means the authorizer is gone.
        // Only a lost entry or an interrupted create needs the list.
        if prior.id.is_some() && !prior.pending_create {
            return Ok(None);
        }
        let listed = cx
            .aws
            .apigw
            .get_authorizers()
            .api_id(api)
            .customize()
            .config_override(
                aws_sdk_apigatewayv2::config::Builder::default()
                    .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(2)),
            )
            .send()
            .await;
        match listed {
            Ok(list) => {
                for a in list.items.unwrap_or_default() {
                    if !self.name.is_empty() && a.name.as_deref() == Some(self.name.as_str()) {
                        if let Some(id) = a.authorizer_id {
                            if let Some(f) = Self::get(cx, api, &id).await? {
                                return Ok(Some(f));
                            }
                        }
                    }
                }
                Ok(None)
            }
            Err(e) if not_found!(e) => Ok(None),
            Err(e) => Err(Error::aws("list authorizers", e)),
        }
    }
    async fn create(
        &self,
        cx: &Cx,
        spec: &AuthorizerSpec,
        k: &Known,
    ) -> Result<Found<AuthorizerSpec>> {
        let api = self.api_id.require(&cx.ctx, k)?;
        let a = Self::settings(spec);
        let created = cx
            .aws
            .apigw
            .create_authorizer()
            .api_id(&api)
            .name(&self.name)
            .authorizer_type(AuthorizerType::from(spec.kind.as_str()))
            .set_identity_source(Some(a.identity_source))
            .set_jwt_configuration(a.jwt)
            .set_authorizer_uri(a.uri)
            .set_authorizer_payload_format_version(a.payload_format_version)
            .set_enable_simple_responses(a.simple_responses)
            .set_authorizer_result_ttl_in_seconds(a.result_ttl_seconds)
            .send()
            .await
            .map_err(ctx_err("create authorizer"))?;
        let id = created.authorizer_id.unwrap_or_default();
        Ok(Found {
            outputs: child_out(&api, &id),
            id,
            spec: spec.clone(),
        })
    }
    async fn update(
        &self,
        cx: &Cx,
        spec: &AuthorizerSpec,
        found: &Found<AuthorizerSpec>,
        _k: &Known,
    ) -> Result<Found<AuthorizerSpec>> {
        let api = found.outputs.get("parent_id").cloned().unwrap_or_default();
        let a = Self::settings(spec);
        cx.aws
            .apigw
            .update_authorizer()
            .api_id(&api)
            .authorizer_id(&found.id)
            .name(&spec.name)
            .set_identity_source(Some(a.identity_source))
            .set_jwt_configuration(a.jwt)
            .set_authorizer_uri(a.uri)
            .set_authorizer_payload_format_version(a.payload_format_version)
            .set_enable_simple_responses(a.simple_responses)
            .set_authorizer_result_ttl_in_seconds(a.result_ttl_seconds)
            .send()
            .await
            .map_err(ctx_err("update authorizer"))?;
        Ok(Found {
            spec: spec.clone(),
            ..found.clone()
        })
    }
}

/// Reads and deletes [`Authorizer`]s by ID.
pub struct AuthorizerProvider;

#[async_trait::async_trait]
impl Provider for AuthorizerProvider {
    fn kind(&self) -> &'static str {
        "aws:apigatewayv2:Authorizer"
    }
    async fn read(&self, cx: &Cx, id: &str, parent: Option<&str>) -> Result<Read> {
        let Some(api) = parent else {
            return Ok(Read::Missing);
        };
        read_of(Authorizer::get(cx, api, id).await?)
    }
    async fn delete(&self, cx: &Cx, id: &str, api: Option<&str>) -> Result<()> {
        let Some(api) = api else { return Ok(()) };
        ok_if_gone(
            cx.aws
                .apigw
                .delete_authorizer()
                .api_id(api)
                .authorizer_id(id)
                .send()
                .await,
            |s| s.is_not_found_exception(),
            format!("delete authorizer {id}"),
        )
    }
}
