//! API Gateway v2: the HTTP API, its JWT authorizer, the Lambda integration,
//! the routes and the `$default` stage.

use crate::error::Error;
use crate::error::Result;
use crate::kind::*;
use crate::model::{deps_of, Handle, Input, Inputs, Output};
use aws_sdk_apigatewayv2::types::{
    AuthorizationType, AuthorizerType, IntegrationType, JwtConfiguration, ProtocolType,
};
use serde_json::{json, Value};

use std::collections::BTreeMap;
use std::sync::Arc;

macro_rules! not_found {
    ($e:expr) => {
        $e.as_service_error()
            .is_some_and(|s| s.is_not_found_exception())
    };
}

/// Brings an API Gateway resource's tags to the desired ones: the dropped
/// keys untagged, the rest (re)tagged.
async fn retag(cx: &Cx, arn: &str, d: &Props, observed: &Props, what: &str) -> Result<()> {
    let stale = stale_tags(d, observed);
    if !stale.is_empty() {
        cx.aws
            .apigw
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(stale))
            .send()
            .await
            .map_err(ctx_err(format!("untag {what}")))?;
    }
    cx.aws
        .apigw
        .tag_resource()
        .resource_arn(arn)
        .set_tags(Some(string_map(d, "tags").into_iter().collect()))
        .send()
        .await
        .map_err(ctx_err(format!("tag {what}")))?;
    Ok(())
}

fn child_out(api: &str, id: &str) -> BTreeMap<String, String> {
    [
        ("parent_id".to_string(), api.to_string()),
        ("id".to_string(), id.to_string()),
    ]
    .into()
}

// ---------------------------------------------------------------- API

/// An HTTP API.
///
/// ```
/// use deployer::resources::api::{Api, Cors};
/// let api = Api {
///     description: "The shop's API".into(),
///     cors: Some(Cors {
///         allow_origins: vec!["https://shop.example".into()],
///         allow_methods: vec!["GET".into(), "POST".into()],
///         allow_headers: vec!["authorization".into()],
///         max_age_seconds: Some(600),
///         ..Default::default()
///     }),
///     ..Api::new("shop")
/// };
/// # let _ = api;
/// ```
#[derive(Default)]
pub struct Api {
    /// Its name (not unique: the stack's tag tells its own).
    pub name: String,
    /// Its description (empty: none).
    pub description: String,
    /// Its CORS configuration: API Gateway answers browsers' preflight
    /// requests with it (`None`: no CORS).
    pub cors: Option<Cors>,
    /// True to turn off the default `execute-api` endpoint (a custom
    /// domain is then the only way in).
    pub disable_execute_api_endpoint: bool,
}

/// An HTTP API's CORS configuration. Methods and headers compare without
/// regard to case, every list as a set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cors {
    /// Origins allowed (`https://app.example`, or `*`).
    pub allow_origins: Vec<String>,
    /// Methods allowed (`GET`, `POST`, or `*`).
    pub allow_methods: Vec<String>,
    /// Request headers allowed.
    pub allow_headers: Vec<String>,
    /// Response headers the browser may read.
    pub expose_headers: Vec<String>,
    /// How long a browser may cache a preflight answer (`None`: 0).
    pub max_age_seconds: Option<i32>,
    /// Whether credentials (cookies, authorization) may be sent.
    pub allow_credentials: bool,
}

impl Cors {
    /// As a setting's value: lists sorted, methods upper case, headers
    /// lower case (they compare without regard to case).
    fn to_json(&self) -> Value {
        let set = |v: &[String], f: fn(&str) -> String| sorted(v.iter().map(|x| f(x)).collect());
        json!({
            "allow_origins": sorted(self.allow_origins.clone()),
            "allow_methods": set(&self.allow_methods, str::to_ascii_uppercase),
            "allow_headers": set(&self.allow_headers, str::to_ascii_lowercase),
            "expose_headers": set(&self.expose_headers, str::to_ascii_lowercase),
            "max_age_seconds": self.max_age_seconds.unwrap_or(0),
            "allow_credentials": self.allow_credentials,
        })
    }
    fn observed(c: &aws_sdk_apigatewayv2::types::Cors) -> Value {
        Cors {
            allow_origins: c.allow_origins.clone().unwrap_or_default(),
            allow_methods: c.allow_methods.clone().unwrap_or_default(),
            allow_headers: c.allow_headers.clone().unwrap_or_default(),
            expose_headers: c.expose_headers.clone().unwrap_or_default(),
            max_age_seconds: c.max_age,
            allow_credentials: c.allow_credentials.unwrap_or(false),
        }
        .to_json()
    }
    /// The SDK's form of a setting's value: every field sent, so that
    /// UpdateApi (which keeps the fields it is not sent) leaves exactly it.
    fn sdk(v: &Value) -> aws_sdk_apigatewayv2::types::Cors {
        let p = props(v.clone());
        let list = |k: &str| strings(&p, k);
        aws_sdk_apigatewayv2::types::Cors::builder()
            .set_allow_origins(Some(list("allow_origins")))
            .set_allow_methods(Some(list("allow_methods")))
            .set_allow_headers(Some(list("allow_headers")))
            .set_expose_headers(Some(list("expose_headers")))
            .max_age(v["max_age_seconds"].as_i64().unwrap_or(0) as i32)
            .allow_credentials(v["allow_credentials"].as_bool().unwrap_or(false))
            .build()
    }
}

impl Handle<Api> {
    /// The API's public URL (AWS's endpoint, or the local data plane's).
    pub fn endpoint(&self) -> Output<String> {
        let key = self.key().to_string();
        Output::of_with(self.key(), "endpoint", move |ctx, e| ctx.api_url(&key, e))
    }
    /// `arn:PARTITION:execute-api:REGION:ACCOUNT:API_ID`, for permissions.
    pub fn execution_arn(&self) -> Output<String> {
        Output::of_with(self.key(), "id", |ctx, id| {
            ctx.arn("execute-api", &ctx.region, &ctx.account, id)
        })
    }
}

/// What GetApi, GetApis and CreateApi report of an API (three SDK types).
struct ApiView<'a> {
    name: Option<&'a str>,
    protocol: Option<&'a ProtocolType>,
    endpoint: Option<&'a str>,
    tags: Option<&'a std::collections::HashMap<String, String>>,
    description: Option<&'a str>,
    cors: Option<&'a aws_sdk_apigatewayv2::types::Cors>,
    disable_execute_api_endpoint: Option<bool>,
}

/// The view of an SDK answer that has the fields of an API.
macro_rules! api_view {
    ($a:expr) => {
        ApiView {
            name: $a.name.as_deref(),
            protocol: $a.protocol_type.as_ref(),
            endpoint: $a.api_endpoint.as_deref(),
            tags: $a.tags.as_ref(),
            description: $a.description.as_deref(),
            cors: $a.cors_configuration.as_ref(),
            disable_execute_api_endpoint: $a.disable_execute_api_endpoint,
        }
    };
}

impl Api {
    /// An API of this name, with no description, CORS or other setting.
    pub fn new(name: impl Into<String>) -> Api {
        Api {
            name: name.into(),
            ..Default::default()
        }
    }

    /// The APIs with this stack's name and `deployer:stack` tag (but `skip`).
    async fn ours(&self, cx: &Cx, skip: Option<&str>) -> Result<Vec<Observed>> {
        if self.name.is_empty() {
            return Ok(vec![]);
        }
        let mut token: Option<String> = None;
        let mut out = vec![];
        loop {
            let page = cx
                .aws
                .apigw
                .get_apis()
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(ctx_err("list APIs"))?;
            for a in page.items.unwrap_or_default() {
                let ours = a.name.as_deref() == Some(self.name.as_str())
                    && a.tags.as_ref().and_then(|t| t.get(STACK_ID_TAG)) == Some(&cx.ctx.stack_id);
                match &a.api_id {
                    Some(id) if ours && Some(id.as_str()) != skip => {
                        out.push(Self::observe(id, api_view!(a)))
                    }
                    _ => {}
                }
            }
            token = page.next_token;
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    fn observe(id: &str, a: ApiView) -> Observed {
        let mut outputs = BTreeMap::new();
        outputs.insert("id".into(), id.to_string());
        outputs.insert(
            "endpoint".into(),
            a.endpoint.unwrap_or_default().to_string(),
        );
        Observed {
            id: id.to_string(),
            props: props(json!({
                "name": a.name.unwrap_or_default(),
                "protocol": a.protocol.map(|p| p.as_str()).unwrap_or_default(),
                "tags": tags_value(a.tags.cloned().unwrap_or_default()),
                "description": a.description.unwrap_or_default(),
                "cors": a.cors.map(Cors::observed),
                "disable_execute_api_endpoint": a.disable_execute_api_endpoint.unwrap_or(false),
            })),
            outputs,
        }
    }
}

#[async_trait::async_trait]
impl Kind for Api {
    fn provider(&self) -> Arc<dyn Provider> {
        Arc::new(ApiProvider)
    }
    fn deps(&self) -> Vec<String> {
        vec![]
    }
    fn replace_on(&self) -> &'static [&'static str] {
        &["protocol"]
    }
    fn non_unique_name(&self) -> bool {
        true
    }
    fn desired(&self, ctx: &Ctx, _k: &Known) -> Desired {
        props(json!({
            "name": self.name,
            "protocol": "HTTP",
            "tags": tags_value(ctx.tags.clone()),
            "description": self.description,
            "cors": self.cors.as_ref().map(Cors::to_json),
            "disable_execute_api_endpoint": self.disable_execute_api_endpoint,
        }))
        .into()
    }
    async fn read(&self, cx: &Cx, prior: &Prior) -> Result<Read> {
        if let Some(id) = &prior.id {
            if let Read::Found(o) = ApiProvider.read(cx, id, None).await? {
                return Ok(Read::Found(o));
            }
        }
        // API names are not unique: find ours by name and stack tag.
        Ok(match self.ours(cx, None).await?.into_iter().next() {
            Some(o) => Read::Found(o),
            None => Read::Missing,
        })
    }
    async fn strays(
        &self,
        cx: &Cx,
        _parent: Option<&str>,
        keep: &str,
        _made_at: Option<i64>,
    ) -> Result<Vec<String>> {
        Ok(self
            .ours(cx, Some(keep))
            .await?
            .into_iter()
            .map(|o| o.id)
            .collect())
    }
    async fn create(&self, cx: &Cx, d: &Props, _k: &Known) -> Result<Observed> {
        let a = cx
            .aws
            .apigw
            .create_api()
            .name(s(d, "name"))
            .protocol_type(ProtocolType::Http)
            .set_tags(Some(string_map(d, "tags").into_iter().collect()))
            .set_description(Some(s(d, "description")).filter(|x| !x.is_empty()))
            .set_cors_configuration(d.get("cors").filter(|c| !c.is_null()).map(Cors::sdk))
            .disable_execute_api_endpoint(d["disable_execute_api_endpoint"] == json!(true))
            .send()
            .await
            .map_err(ctx_err("create API"))?;
        let id = a
            .api_id
            .clone()
            .ok_or_else(|| Error::Other("CreateApi returned no ID".into()))?;
        Ok(Self::observe(&id, api_view!(a)))
    }
    async fn update(&self, cx: &Cx, d: &Props, o: &Observed, _k: &Known) -> Result<Observed> {
        let changed = |k: &str| d.get(k) != o.props.get(k);
        let cors = d.get("cors").filter(|c| !c.is_null());
        if changed("cors") && cors.is_none() {
            ok_if_gone(
                cx.aws
                    .apigw
                    .delete_cors_configuration()
                    .api_id(&o.id)
                    .send()
                    .await,
                |e| e.is_not_found_exception(),
                "delete the API's CORS configuration",
            )?;
        }
        let settings = ["name", "description", "disable_execute_api_endpoint"];
        if settings.iter().any(|k| changed(k)) || (changed("cors") && cors.is_some()) {
            // Every field it manages: UpdateApi keeps what it is not sent.
            cx.aws
                .apigw
                .update_api()
                .api_id(&o.id)
                .name(s(d, "name"))
                .description(s(d, "description"))
                .disable_execute_api_endpoint(d["disable_execute_api_endpoint"] == json!(true))
                .set_cors_configuration(cors.filter(|_| changed("cors")).map(Cors::sdk))
                .send()
                .await
                .map_err(ctx_err("update API"))?;
        }
        if d.get("tags") != o.props.get("tags") {
            let arn = cx
                .ctx
                .arn("apigateway", &cx.ctx.region, "", &format!("/apis/{}", o.id));
            retag(cx, &arn, d, &o.props, "API").await?;
        }
        let mut n = o.clone();
        n.props = d.clone();
        Ok(n)
    }
}

/// Reads and deletes [`Api`]s by ID.
pub struct ApiProvider;

#[async_trait::async_trait]
impl Provider for ApiProvider {
    fn kind(&self) -> &'static str {
        "aws:apigatewayv2:Api"
    }
    async fn read(&self, cx: &Cx, id: &str, _parent: Option<&str>) -> Result<Read> {
        match cx.aws.apigw.get_api().api_id(id).send().await {
            Ok(a) => Ok(Read::Found(Api::observe(id, api_view!(a)))),
            Err(e) if not_found!(e) => Ok(Read::Missing),
            Err(e) => Err(Error::aws(format!("get API {id}"), e)),
        }
    }
    async fn delete(&self, cx: &Cx, id: &str, _p: Option<&str>) -> Result<()> {
        match cx.aws.apigw.delete_api().api_id(id).send().await {
            Ok(_) => Ok(()),
            Err(e) if not_found!(e) => Ok(()),
            Err(e) => Err(Error::aws(format!("delete API {id}"), e)),
        }
    }
}

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
    fn replace_on(&self) -> &'static [&'static str] {
        &["type"]
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

// ---------------------------------------------------------------- integration

/// A Lambda proxy integration (payload 2.0) of an API.
#[derive(Default)]
pub struct Integration {
    /// The API's ID (`api.id()`).
    pub api_id: Input<String>,
    /// The function's ARN (`function.arn()`).
    pub function_arn: Input<String>,
    /// How long API Gateway waits for the function, in milliseconds (50
    /// to 30000; `None`: 30000).
    pub timeout_ms: Option<i32>,
    /// Its description (empty: none).
    pub description: String,
    /// The event the function gets: payload format 2.0 (the default) or
    /// 1.0 (REST-API-like; `deployer dev` serves 2.0 only).
    pub payload_format: PayloadFormat,
}

/// An HTTP API's Lambda event format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PayloadFormat {
    /// `2.0`.
    #[default]
    V2,
    /// `1.0`.
    V1,
}

impl PayloadFormat {
    /// API Gateway's name for it.
    pub fn as_str(&self) -> &'static str {
        match self {
            PayloadFormat::V2 => "2.0",
            PayloadFormat::V1 => "1.0",
        }
    }
}

/// What GetIntegration(s) report of an integration.
struct IntegrationView<'a> {
    ty: Option<&'a IntegrationType>,
    uri: Option<&'a str>,
    pfv: Option<&'a str>,
    timeout_ms: Option<i32>,
    description: Option<&'a str>,
}

macro_rules! integration_view {
    ($i:expr) => {
        IntegrationView {
            ty: $i.integration_type.as_ref(),
            uri: $i.integration_uri.as_deref(),
            pfv: $i.payload_format_version.as_deref(),
            timeout_ms: $i.timeout_in_millis,
            description: $i.description.as_deref(),
        }
    };
}

impl Integration {
    fn observe(api: &str, id: &str, i: IntegrationView) -> Observed {
        Observed {
            id: id.to_string(),
            props: props(json!({
                "type": i.ty.map(|t| t.as_str()).unwrap_or_default(),
                "uri": i.uri.unwrap_or_default(),
                "payload_format_version": i.pfv.unwrap_or_default(),
                "timeout_ms": i.timeout_ms.unwrap_or(30000),
                "description": i.description.unwrap_or_default(),
            })),
            outputs: child_out(api, id),
        }
    }
}

#[async_trait::async_trait]
impl Kind for Integration {
    fn provider(&self) -> Arc<dyn Provider> {
        Arc::new(IntegrationProvider)
    }
    fn deps(&self) -> Vec<String> {
        deps_of([self.api_id.deps(), self.function_arn.deps()])
    }
    fn parent(&self) -> Option<String> {
        self.api_id.deps().first().cloned()
    }
    fn replace_on(&self) -> &'static [&'static str] {
        &["type"]
    }
    fn non_unique_name(&self) -> bool {
        true
    }
    fn desired(&self, ctx: &Ctx, k: &Known) -> Desired {
        let mut i = Inputs::new(ctx, k);
        let v = json!({
            "type": "AWS_PROXY",
            "uri": i.get("uri", &self.function_arn),
            "payload_format_version": self.payload_format.as_str(),
            "timeout_ms": self.timeout_ms.unwrap_or(30000),
            "description": self.description,
        });
        i.finish(v)
    }
    async fn read(&self, cx: &Cx, prior: &Prior) -> Result<Read> {
        let Some(api) = &prior.parent_id else {
            return Ok(Read::Missing);
        };
        if let Some(id) = &prior.id {
            if let Read::Found(o) = IntegrationProvider.read(cx, id, Some(api)).await? {
                return Ok(Read::Found(o));
            }
        }
        // No name: ours is the Lambda proxy integration of our API.
        let list = match cx.aws.apigw.get_integrations().api_id(api).send().await {
            Ok(l) => l,
            Err(e) if not_found!(e) => return Ok(Read::Missing),
            Err(e) => return Err(Error::aws("list integrations", e)),
        };
        // The function as the state knows it; unknown, any proxy
        // integration of our API is ours.
        let func = self
            .function_arn
            .resolve(&cx.ctx, &prior.known)
            .and_then(|arn| {
                arn.rsplit_once(":function:")
                    .map(|(_, n)| format!(":function:{n}"))
            });
        for i in list.items.unwrap_or_default() {
            let uri = i.integration_uri.clone().unwrap_or_default();
            let same_function = func
                .as_ref()
                .is_none_or(|f| uri.ends_with(f) || uri.contains(&format!("{f}/")));
            if i.integration_type == Some(IntegrationType::AwsProxy) && same_function {
                if let Some(id) = &i.integration_id {
                    return Ok(Read::Found(Self::observe(api, id, integration_view!(i))));
                }
            }
        }
        Ok(Read::Missing)
    }
    async fn create(&self, cx: &Cx, d: &Props, k: &Known) -> Result<Observed> {
        let api = self.api_id.require(&cx.ctx, k)?;
        let i = cx
            .aws
            .apigw
            .create_integration()
            .api_id(&api)
            .integration_type(IntegrationType::AwsProxy)
            .integration_method("POST")
            .integration_uri(s(d, "uri"))
            .payload_format_version(s(d, "payload_format_version"))
            .set_timeout_in_millis(
                d.get("timeout_ms")
                    .and_then(|v| v.as_i64())
                    .map(|v| v as i32),
            )
            .set_description(Some(s(d, "description")).filter(|x| !x.is_empty()))
            .send()
            .await
            .map_err(ctx_err("create integration"))?;
        let id = i.integration_id.unwrap_or_default();
        Ok(Observed {
            id: id.clone(),
            props: d.clone(),
            outputs: child_out(&api, &id),
        })
    }
    async fn update(&self, cx: &Cx, d: &Props, o: &Observed, _k: &Known) -> Result<Observed> {
        let api = o.outputs.get("parent_id").cloned().unwrap_or_default();
        cx.aws
            .apigw
            .update_integration()
            .api_id(&api)
            .integration_id(&o.id)
            .integration_uri(s(d, "uri"))
            .payload_format_version(s(d, "payload_format_version"))
            .set_timeout_in_millis(
                d.get("timeout_ms")
                    .and_then(|v| v.as_i64())
                    .map(|v| v as i32),
            )
            .description(s(d, "description"))
            .send()
            .await
            .map_err(ctx_err("update integration"))?;
        Ok(Observed {
            props: d.clone(),
            ..o.clone()
        })
    }
}

/// Every integration of `api` (GetIntegrations), each as a read of it by
/// itself sees it, within `ask.budget` pages (`crate::listing`).
async fn list_integrations(
    cx: &Cx,
    api: &str,
    ask: crate::listing::Ask,
) -> Result<Option<crate::listing::Listed>> {
    let mut found = BTreeMap::new();
    let mut token = None;
    for _ in 0..ask.budget {
        let page = match cx
            .aws
            .apigw
            .get_integrations()
            .api_id(api)
            .set_next_token(token)
            .send()
            .await
        {
            Ok(p) => p,
            // No API, no integration.
            Err(e) if not_found!(e) => return Ok(Some(Default::default())),
            Err(e) => return Err(Error::aws("list integrations", e)),
        };
        for i in page.items.unwrap_or_default() {
            if let Some(id) = i.integration_id.as_deref() {
                found.insert(
                    id.to_string(),
                    Integration::observe(api, id, integration_view!(i)),
                );
            }
        }
        token = page.next_token.filter(|t| !t.is_empty());
        if token.is_none() {
            return Ok(Some(crate::listing::Listed {
                prefix: String::new(),
                names: found.keys().cloned().collect(),
                found,
            }));
        }
    }
    Ok(None)
}

/// Reads and deletes [`Integration`]s by ID.
pub struct IntegrationProvider;

#[async_trait::async_trait]
impl Provider for IntegrationProvider {
    fn kind(&self) -> &'static str {
        "aws:apigatewayv2:Integration"
    }
    async fn read(&self, cx: &Cx, id: &str, parent: Option<&str>) -> Result<Read> {
        let Some(api) = parent else {
            return Ok(Read::Missing);
        };
        let list = |ask| list_integrations(cx, api, ask);
        if let Some(l) = cx.listed(self.kind(), api, list).await {
            return Ok(l.found.get(id).cloned().map_or(Read::Missing, Read::Found));
        }
        match cx
            .aws
            .apigw
            .get_integration()
            .api_id(api)
            .integration_id(id)
            .send()
            .await
        {
            Ok(i) => Ok(Read::Found(Integration::observe(
                api,
                id,
                integration_view!(i),
            ))),
            Err(e) if not_found!(e) => Ok(Read::Missing),
            Err(e) => Err(Error::aws(format!("get integration {id}"), e)),
        }
    }
    async fn delete(&self, cx: &Cx, id: &str, api: Option<&str>) -> Result<()> {
        let Some(api) = api else { return Ok(()) };
        ok_if_gone(
            cx.aws
                .apigw
                .delete_integration()
                .api_id(api)
                .integration_id(id)
                .send()
                .await,
            |s| s.is_not_found_exception(),
            format!("delete integration {id}"),
        )
    }
}

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
/// it, within `ask.budget` pages (`crate::listing`).
async fn list_routes(
    cx: &Cx,
    api: &str,
    ask: crate::listing::Ask,
) -> Result<Option<crate::listing::Listed>> {
    let mut found = BTreeMap::new();
    let mut token = None;
    for _ in 0..ask.budget {
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
            Err(e) if not_found!(e) => return Ok(Some(Default::default())),
            Err(e) => return Err(Error::aws("list routes", e)),
        };
        for r in page.items.unwrap_or_default() {
            if let Some(id) = r.route_id.as_deref() {
                let o = Route::observe(
                    api,
                    id,
                    r.route_key.as_deref(),
                    r.target.as_deref(),
                    r.authorization_type.as_ref(),
                    r.authorizer_id.as_deref(),
                    r.authorization_scopes.as_deref(),
                );
                found.insert(id.to_string(), o);
            }
        }
        token = page.next_token.filter(|t| !t.is_empty());
        if token.is_none() {
            return Ok(Some(crate::listing::Listed {
                prefix: String::new(),
                names: found.keys().cloned().collect(),
                found,
            }));
        }
    }
    Ok(None)
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
        if let Some(l) = cx.listed(self.kind(), api, list).await {
            return Ok(l.found.get(id).cloned().map_or(Read::Missing, Read::Found));
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

// ---------------------------------------------------------------- stage

/// A stage of the API, deployed on every change (auto-deploy): `$default`
/// (served at the API's root) unless named (served under `/{name}`).
///
/// ```
/// use deployer::resources::api::{AccessLog, Stage, Throttling};
/// # use deployer::model::Output;
/// # let (api_id, log_group_arn): (Output<String>, Output<String>) = ("a".into(), "l".into());
/// let stage = Stage {
///     name: "v1".into(),
///     throttling: Some(Throttling { burst_limit: 50, rate_limit: 20.0 }),
///     access_log: Some(AccessLog::json(log_group_arn)),
///     variables: [("flavour".to_string(), "plain".to_string())].into(),
///     ..Stage::new(api_id)
/// };
/// # let _ = stage;
/// ```
#[derive(Default)]
pub struct Stage {
    /// The API's ID (`api.id()`).
    pub api_id: Input<String>,
    /// Its name: empty or `$default` for the API's root, else the path
    /// prefix of its URL (`Handle<Stage>::url`). A new name is a new stage.
    pub name: String,
    /// Its description (empty: none).
    pub description: String,
    /// Every route's throttling (`None`: left as it is, the account's
    /// limits at first; lift a limit by setting it higher).
    pub throttling: Option<Throttling>,
    /// Detailed (per route) CloudWatch metrics.
    pub detailed_metrics: bool,
    /// Where each request's access log line goes (`None`: nowhere).
    pub access_log: Option<AccessLog>,
    /// Stage variables (`${stageVariables.name}` in integrations).
    pub variables: BTreeMap<String, String>,
    /// Settings of single routes, by route key (`"GET /orders"`), over the
    /// stage's: API Gateway refuses settings of a route the API does not
    /// have, so declare the stage after those routes
    /// (`s.add_after("stage", stage, &["route/orders"])`). A route key
    /// dropped here has its settings deleted.
    pub route_settings: BTreeMap<String, RouteSettings>,
}

/// One route's settings in a stage.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RouteSettings {
    /// Its throttling (`None`: the stage's).
    pub throttling: Option<Throttling>,
    /// Detailed CloudWatch metrics for it.
    pub detailed_metrics: bool,
}

/// A stage's throttling of every route: a token bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Throttling {
    /// The bucket's size: requests allowed at once.
    pub burst_limit: i32,
    /// Requests per second in the long run.
    pub rate_limit: f64,
}

/// A stage's access logging: a log group and the line's format.
#[derive(Debug, Clone, Default)]
pub struct AccessLog {
    /// The log group's ARN (`log_group.arn()`).
    pub destination_arn: Input<String>,
    /// The line, with `$context` variables.
    pub format: String,
}

impl AccessLog {
    /// One JSON line a request: its ID, source IP, time, route, status,
    /// latency and error.
    pub fn json(destination_arn: Input<String>) -> AccessLog {
        AccessLog {
            destination_arn,
            format: concat!(
                r#"{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","#,
                r#""requestTime":"$context.requestTime","routeKey":"$context.routeKey","#,
                r#""status":"$context.status","latency":"$context.responseLatency","#,
                r#""error":"$context.error.message"}"#
            )
            .into(),
        }
    }
}

impl Stage {
    /// The API's `$default` stage, with no other setting.
    pub fn new(api_id: Input<String>) -> Stage {
        Stage {
            api_id,
            ..Default::default()
        }
    }
    fn stage_name(&self) -> &str {
        if self.name.is_empty() {
            STAGE_NAME
        } else {
            &self.name
        }
    }
}

impl Handle<Stage> {
    /// The stage's URL: the API's endpoint, followed by `/{name}` for a
    /// named stage.
    pub fn url(&self, api: &Handle<Api>) -> Output<String> {
        api.endpoint().zip(&self.id()).map(|(e, n)| {
            if n == STAGE_NAME {
                e
            } else {
                format!("{e}/{n}")
            }
        })
    }
}

const STAGE_NAME: &str = "$default";

/// A stage's settings as a kind's property map sees them (what GetStage,
/// GetStages and CreateStage report).
fn stage_props(
    auto_deploy: Option<bool>,
    description: Option<&str>,
    route: Option<&aws_sdk_apigatewayv2::types::RouteSettings>,
    log: Option<&aws_sdk_apigatewayv2::types::AccessLogSettings>,
    variables: Option<&std::collections::HashMap<String, String>>,
    tags: Option<&std::collections::HashMap<String, String>>,
    routes: Option<&std::collections::HashMap<String, aws_sdk_apigatewayv2::types::RouteSettings>>,
) -> Props {
    let routes: BTreeMap<&String, Value> = routes
        .into_iter()
        .flatten()
        .map(|(k, r)| {
            let v = json!({
                "detailed_metrics": r.detailed_metrics_enabled.unwrap_or(false),
                "throttling_burst_limit": r.throttling_burst_limit,
                "throttling_rate_limit": r.throttling_rate_limit,
            });
            (k, v)
        })
        .collect();
    let log = log
        .filter(|l| l.destination_arn.as_deref().is_some_and(|d| !d.is_empty()))
        .map(|l| json!({"destination_arn": l.destination_arn, "format": l.format.as_deref().unwrap_or_default()}));
    let variables: BTreeMap<&String, &String> = variables.into_iter().flatten().collect();
    props(json!({
        "auto_deploy": auto_deploy.unwrap_or(false),
        "description": description.unwrap_or_default(),
        "throttling_burst_limit": route.and_then(|r| r.throttling_burst_limit),
        "throttling_rate_limit": route.and_then(|r| r.throttling_rate_limit),
        "detailed_metrics": route.and_then(|r| r.detailed_metrics_enabled).unwrap_or(false),
        "access_log": log,
        "variables": variables,
        "route_settings": routes,
        "tags": tags_value(tags.cloned().unwrap_or_default()),
    }))
}

/// The per-route settings as sent, by route key.
fn per_route_settings(
    d: &Props,
) -> std::collections::HashMap<String, aws_sdk_apigatewayv2::types::RouteSettings> {
    let routes = d.get("route_settings").and_then(Value::as_object);
    routes
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), route_settings(&props(v.clone()))))
        .collect()
}

/// A stage's default route settings, as sent: every field it manages.
fn route_settings(d: &Props) -> aws_sdk_apigatewayv2::types::RouteSettings {
    aws_sdk_apigatewayv2::types::RouteSettings::builder()
        .detailed_metrics_enabled(d.get("detailed_metrics") == Some(&json!(true)))
        .set_throttling_burst_limit(
            d.get("throttling_burst_limit")
                .and_then(|v| v.as_i64())
                .map(|v| v as i32),
        )
        .set_throttling_rate_limit(d.get("throttling_rate_limit").and_then(|v| v.as_f64()))
        .build()
}

/// A stage's access log settings, as sent (logging off is
/// DeleteAccessLogSettings).
fn access_log_settings(d: &Props) -> aws_sdk_apigatewayv2::types::AccessLogSettings {
    let log = d.get("access_log").filter(|l| !l.is_null());
    aws_sdk_apigatewayv2::types::AccessLogSettings::builder()
        .set_destination_arn(
            log.and_then(|l| l["destination_arn"].as_str())
                .map(String::from),
        )
        .set_format(log.and_then(|l| l["format"].as_str()).map(String::from))
        .build()
}

#[async_trait::async_trait]
impl Kind for Stage {
    fn provider(&self) -> Arc<dyn Provider> {
        Arc::new(StageProvider)
    }
    fn deps(&self) -> Vec<String> {
        let mut deps = self.api_id.deps().to_vec();
        if let Some(log) = &self.access_log {
            deps.extend(log.destination_arn.deps().iter().cloned());
        }
        deps
    }
    fn parent(&self) -> Option<String> {
        self.api_id.deps().first().cloned()
    }
    fn replace_on(&self) -> &'static [&'static str] {
        &["name"]
    }
    fn desired(&self, ctx: &Ctx, k: &Known) -> Desired {
        let mut i = Inputs::new(ctx, k);
        let log = self.access_log.as_ref().map(|l| {
            json!({"destination_arn": i.get("access_log", &l.destination_arn), "format": l.format})
        });
        let mut v = json!({
            "name": self.stage_name(),
            "auto_deploy": true,
            "description": self.description,
            "detailed_metrics": self.detailed_metrics,
            "access_log": log,
            "variables": self.variables,
            "route_settings": self.route_settings.iter().map(|(k, r)| {
                let t = r.throttling.as_ref();
                (k.clone(), json!({
                    "detailed_metrics": r.detailed_metrics,
                    "throttling_burst_limit": t.map(|t| t.burst_limit),
                    "throttling_rate_limit": t.map(|t| t.rate_limit),
                }))
            }).collect::<BTreeMap<_, _>>(),
            "tags": tags_value(ctx.tags.clone()),
        });
        // Throttling left unset is not managed (AWS has no way to unset it).
        if let Some(t) = &self.throttling {
            v["throttling_burst_limit"] = json!(t.burst_limit);
            v["throttling_rate_limit"] = json!(t.rate_limit);
        }
        i.finish(v)
    }
    async fn read(&self, cx: &Cx, prior: &Prior) -> Result<Read> {
        let Some(api) = &prior.parent_id else {
            return Ok(Read::Missing);
        };
        // By the recorded name first (a renamed stage is replaced).
        let name = prior.id_or(self.stage_name());
        StageProvider.read(cx, &name, Some(api)).await
    }
    async fn create(&self, cx: &Cx, d: &Props, k: &Known) -> Result<Observed> {
        let api = self.api_id.require(&cx.ctx, k)?;
        let name = self.stage_name().to_string();
        let r = cx
            .aws
            .apigw
            .create_stage()
            .api_id(&api)
            .stage_name(&name)
            .auto_deploy(true)
            .set_description(Some(s(d, "description")).filter(|x| !x.is_empty()))
            .default_route_settings(route_settings(d))
            .set_access_log_settings(
                d.get("access_log")
                    .filter(|l| !l.is_null())
                    .map(|_| access_log_settings(d)),
            )
            .set_stage_variables(Some(string_map(d, "variables").into_iter().collect()))
            .set_route_settings(Some(per_route_settings(d)).filter(|r| !r.is_empty()))
            .set_tags(Some(string_map(d, "tags").into_iter().collect()))
            .send()
            .await;
        if let Err(e) = r {
            if !e
                .as_service_error()
                .is_some_and(|s| s.is_conflict_exception())
            {
                return Err(Error::aws(format!("create stage {name}"), e));
            }
            // "Already exists": adopt the stage an interrupted run made.
            // A conflict that leaves no stage to read is an error: the run
            // records only what it has seen.
            let prior = Prior {
                parent_id: Some(api.clone()),
                ..Default::default()
            };
            return match self.read(cx, &prior).await? {
                Read::Found(o) => self.update(cx, d, &o, k).await,
                _ => Err(Error::aws(
                    format!("create stage {name} (AWS answered a conflict and no stage is there; run `deployer up` again)"),
                    e,
                )),
            };
        }
        Ok(Observed {
            id: name.clone(),
            props: d.clone(),
            outputs: child_out(&api, &name),
        })
    }
    async fn update(&self, cx: &Cx, d: &Props, o: &Observed, _k: &Known) -> Result<Observed> {
        let api = o.outputs.get("parent_id").cloned().unwrap_or_default();
        let changed = |k: &str| d.get(k).is_some() && d.get(k) != o.props.get(k);
        let route = [
            "throttling_burst_limit",
            "throttling_rate_limit",
            "detailed_metrics",
        ];
        // A route's settings dropped: deleted (UpdateStage keeps what it is
        // not sent), before the others are sent.
        if changed("route_settings") {
            let want = per_route_settings(d);
            let had = o.props.get("route_settings").and_then(Value::as_object);
            for key in had.into_iter().flatten().map(|(k, _)| k) {
                if want.contains_key(key) {
                    continue;
                }
                let r = cx
                    .aws
                    .apigw
                    .delete_route_settings()
                    .api_id(&api)
                    .stage_name(&o.id)
                    .route_key(key)
                    .send()
                    .await;
                ok_if_gone(r, |s| s.is_not_found_exception(), "delete route settings")?;
            }
        }
        let settings = ["auto_deploy", "description", "access_log", "variables"];
        let per_route = changed("route_settings") && !per_route_settings(d).is_empty();
        if per_route || route.iter().chain(&settings).any(|k| changed(k)) {
            // UpdateStage keeps what it is not sent, stage variables too:
            // a variable is removed by sending it empty (as Terraform does).
            let mut u = cx
                .aws
                .apigw
                .update_stage()
                .api_id(&api)
                .stage_name(&o.id)
                .auto_deploy(true)
                .description(s(d, "description"));
            if route.iter().any(|k| changed(k)) {
                u = u.default_route_settings(route_settings(d));
            }
            let log_off = changed("access_log") && d.get("access_log").is_none_or(Value::is_null);
            if changed("access_log") && !log_off {
                u = u.access_log_settings(access_log_settings(d));
            }
            if per_route {
                u = u.set_route_settings(Some(per_route_settings(d)));
            }
            if changed("variables") {
                let want = string_map(d, "variables");
                let mut variables: std::collections::HashMap<String, String> =
                    string_map(&o.props, "variables")
                        .into_keys()
                        .filter(|k| !want.contains_key(k))
                        .map(|k| (k, String::new()))
                        .collect();
                variables.extend(want);
                u = u.set_stage_variables(Some(variables));
            }
            u.send()
                .await
                .map_err(ctx_err(format!("update stage {}", o.id)))?;
            // Logging off: DeleteAccessLogSettings, the documented way.
            if log_off {
                let r = cx
                    .aws
                    .apigw
                    .delete_access_log_settings()
                    .api_id(&api)
                    .stage_name(&o.id)
                    .send()
                    .await;
                ok_if_gone(
                    r,
                    |s| s.is_not_found_exception(),
                    "delete access log settings",
                )?;
            }
        }
        if d.get("tags") != o.props.get("tags") {
            let arn = cx.ctx.arn(
                "apigateway",
                &cx.ctx.region,
                "",
                &format!("/apis/{api}/stages/{}", o.id),
            );
            retag(cx, &arn, d, &o.props, "stage").await?;
        }
        Ok(Observed {
            props: d.clone(),
            ..o.clone()
        })
    }
}

/// Reads and deletes [`Stage`]s by ID.
pub struct StageProvider;

#[async_trait::async_trait]
impl Provider for StageProvider {
    fn kind(&self) -> &'static str {
        "aws:apigatewayv2:Stage"
    }
    async fn read(&self, cx: &Cx, id: &str, parent: Option<&str>) -> Result<Read> {
        let Some(api) = parent else {
            return Ok(Read::Missing);
        };
        match cx
            .aws
            .apigw
            .get_stage()
            .api_id(api)
            .stage_name(id)
            .send()
            .await
        {
            Ok(st) => {
                let mut props = stage_props(
                    st.auto_deploy,
                    st.description.as_deref(),
                    st.default_route_settings.as_ref(),
                    st.access_log_settings.as_ref(),
                    st.stage_variables.as_ref(),
                    st.tags.as_ref(),
                    st.route_settings.as_ref(),
                );
                props.insert("name".into(), json!(id));
                Ok(Read::Found(Observed {
                    id: id.into(),
                    props,
                    outputs: child_out(api, id),
                }))
            }
            Err(e) if not_found!(e) => Ok(Read::Missing),
            Err(e) => Err(Error::aws(format!("get stage {id}"), e)),
        }
    }
    async fn delete(&self, cx: &Cx, id: &str, api: Option<&str>) -> Result<()> {
        let Some(api) = api else { return Ok(()) };
        let name = if id.is_empty() { STAGE_NAME } else { id };
        ok_if_gone(
            cx.aws
                .apigw
                .delete_stage()
                .api_id(api)
                .stage_name(name)
                .send()
                .await,
            |s| s.is_not_found_exception(),
            "delete stage",
        )
    }
}
