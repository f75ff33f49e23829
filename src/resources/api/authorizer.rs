use super::child_out;
use crate::error::{Error, Result};
use crate::kind::*;
use crate::model::{deps_of, Input, Inputs};
use aws_sdk_apigatewayv2::types::{AuthorizerType, JwtConfiguration};
use serde_json::{json, Value};
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
    ) -> Observed {
        let jwt = a.jwt_configuration.as_ref();
        Observed {
            id: a.authorizer_id.clone().unwrap_or_default(),
            props: props(json!({
                "name": a.name.clone().unwrap_or_default(),
                "type": a.authorizer_type.as_ref().map(|t| t.as_str()).unwrap_or_default(),
                "identity_source": a.identity_source.clone().unwrap_or_default(),
                "issuer": jwt.and_then(|j| j.issuer.clone()).unwrap_or_default(),
                "audience": sorted(jwt.and_then(|j| j.audience.clone()).unwrap_or_default()),
                "uri": a.authorizer_uri.clone().unwrap_or_default(),
                "payload_format_version": a.authorizer_payload_format_version.clone().unwrap_or_default(),
                "simple_responses": a.enable_simple_responses.unwrap_or(false),
                "result_ttl_seconds": a.authorizer_result_ttl_in_seconds.unwrap_or(0),
            })),
            outputs: child_out(api, a.authorizer_id.as_deref().unwrap_or_default()),
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
    fn settings(d: &Props) -> AuthorizerSettings {
        let request = s(d, "type") == "REQUEST";
        AuthorizerSettings {
            identity_source: strings(d, "identity_source"),
            jwt: (!request).then(|| {
                JwtConfiguration::builder()
                    .issuer(s(d, "issuer"))
                    .set_audience(Some(strings(d, "audience")))
                    .build()
            }),
            uri: request.then(|| s(d, "uri")),
            payload_format_version: request.then(|| s(d, "payload_format_version")),
            simple_responses: request.then(|| d["simple_responses"] == json!(true)),
            result_ttl_seconds: request.then(|| {
                d.get("result_ttl_seconds")
                    .and_then(Value::as_i64)
                    .unwrap_or(0) as i32
            }),
        }
    }
    async fn get(cx: &Cx, api: &str, id: &str) -> Result<Option<Observed>> {
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
impl Kind for Authorizer {
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
    fn replace_on(&self) -> Vec<&'static str> {
        vec!["type"]
    }
    fn non_unique_name(&self) -> bool {
        true
    }
    fn desired(&self, ctx: &Ctx, k: &Known) -> Desired {
        let mut i = Inputs::new(ctx, k);
        let identity_source = if self.identity_sources.is_empty() {
            vec!["$request.header.Authorization".to_string()]
        } else {
            self.identity_sources.clone()
        };
        let v = match &self.lambda {
            None => json!({
                "name": self.name,
                "type": "JWT",
                "identity_source": identity_source,
                "issuer": i.get("issuer", &self.issuer),
                "audience": sorted(i.list("audience", &self.audience)),
            }),
            Some(l) => {
                let arn = l.function_arn.resolve(ctx, k);
                let uri = arn.map(|a| Self::invocation_uri(ctx, &a));
                let version = match l.payload_format_version.as_str() {
                    "" => "2.0",
                    v => v,
                };
                json!({
                    "name": self.name,
                    "type": "REQUEST",
                    "identity_source": identity_source,
                    "uri": i.value("uri", uri),
                    "payload_format_version": version,
                    "simple_responses": l.simple_responses,
                    "result_ttl_seconds": l.result_ttl_seconds.unwrap_or(300),
                })
            }
        };
        i.finish(v)
    }
    async fn read(&self, cx: &Cx, prior: &Prior) -> Result<Read> {
        let Some(api) = &prior.parent_id else {
            return Ok(Read::Missing);
        };
        if let Some(id) = &prior.id {
            if let Some(o) = Self::get(cx, api, id).await? {
                return Ok(Read::Found(o));
            }
        }
        // An ID in the state that is not found means the authorizer is gone.
        // Only a lost entry or an interrupted create needs the list.
        if prior.id.is_some() && !prior.pending_create {
            return Ok(Read::Missing);
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
                            if let Some(o) = Self::get(cx, api, &id).await? {
                                return Ok(Read::Found(o));
                            }
                        }
                    }
                }
                Ok(Read::Missing)
            }
            Err(e) if not_found!(e) => Ok(Read::Missing),
            Err(e) => Err(Error::aws("list authorizers", e)),
        }
    }
    async fn create(&self, cx: &Cx, d: &Props, k: &Known) -> Result<Observed> {
        let api = self.api_id.require(&cx.ctx, k)?;
        let a = Self::settings(d);
        let created = cx
            .aws
            .apigw
            .create_authorizer()
            .api_id(&api)
            .name(&self.name)
            .authorizer_type(AuthorizerType::from(s(d, "type").as_str()))
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
        Ok(Observed {
            id: id.clone(),
            props: d.clone(),
            outputs: child_out(&api, &id),
        })
    }
    async fn update(&self, cx: &Cx, d: &Props, o: &Observed, _k: &Known) -> Result<Observed> {
        let api = o.outputs.get("parent_id").cloned().unwrap_or_default();
        let a = Self::settings(d);
        cx.aws
            .apigw
            .update_authorizer()
            .api_id(&api)
            .authorizer_id(&o.id)
            .name(s(d, "name"))
            .set_identity_source(Some(a.identity_source))
            .set_jwt_configuration(a.jwt)
            .set_authorizer_uri(a.uri)
            .set_authorizer_payload_format_version(a.payload_format_version)
            .set_enable_simple_responses(a.simple_responses)
            .set_authorizer_result_ttl_in_seconds(a.result_ttl_seconds)
            .send()
            .await
            .map_err(ctx_err("update authorizer"))?;
        Ok(Observed {
            props: d.clone(),
            ..o.clone()
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
        Ok(match Authorizer::get(cx, api, id).await? {
            Some(o) => Read::Found(o),
            None => Read::Missing,
        })
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
