use super::retag;
use crate::error::{Error, Result};
use crate::kind::spec::{read_of, tag_map, Fixed, Found};
use crate::kind::*;
use crate::model::{Handle, Inputs, Output, Typed};
use aws_sdk_apigatewayv2::types::ProtocolType;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

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

/// An API's CORS configuration as set: lists sorted, methods upper case,
/// headers lower case (they compare without regard to case).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CorsSpec {
    /// Origins allowed.
    pub allow_origins: Vec<String>,
    /// Methods allowed, upper case.
    pub allow_methods: Vec<String>,
    /// Request headers allowed, lower case.
    pub allow_headers: Vec<String>,
    /// Response headers the browser may read, lower case.
    pub expose_headers: Vec<String>,
    /// How long a browser may cache a preflight answer.
    pub max_age_seconds: i32,
    /// Whether credentials may be sent.
    pub allow_credentials: bool,
}

impl Cors {
    /// In the normal form a setting compares in.
    fn spec(&self) -> CorsSpec {
        let set = |v: &[String], f: fn(&str) -> String| sorted(v.iter().map(|x| f(x)).collect());
        CorsSpec {
            allow_origins: sorted(self.allow_origins.clone()),
            allow_methods: set(&self.allow_methods, str::to_ascii_uppercase),
            allow_headers: set(&self.allow_headers, str::to_ascii_lowercase),
            expose_headers: set(&self.expose_headers, str::to_ascii_lowercase),
            max_age_seconds: self.max_age_seconds.unwrap_or(0),
            allow_credentials: self.allow_credentials,
        }
    }
    fn observed(c: &aws_sdk_apigatewayv2::types::Cors) -> CorsSpec {
        Cors {
            allow_origins: c.allow_origins.clone().unwrap_or_default(),
            allow_methods: c.allow_methods.clone().unwrap_or_default(),
            allow_headers: c.allow_headers.clone().unwrap_or_default(),
            expose_headers: c.expose_headers.clone().unwrap_or_default(),
            max_age_seconds: c.max_age,
            allow_credentials: c.allow_credentials.unwrap_or(false),
        }
        .spec()
    }
}

impl CorsSpec {
    /// The SDK's form: every field sent, so that UpdateApi (which keeps the
    /// fields it is not sent) leaves exactly it.
    fn sdk(&self) -> aws_sdk_apigatewayv2::types::Cors {
        aws_sdk_apigatewayv2::types::Cors::builder()
            .set_allow_origins(Some(self.allow_origins.clone()))
            .set_allow_methods(Some(self.allow_methods.clone()))
            .set_allow_headers(Some(self.allow_headers.clone()))
            .set_expose_headers(Some(self.expose_headers.clone()))
            .max_age(self.max_age_seconds)
            .allow_credentials(self.allow_credentials)
            .build()
    }
}

/// An API's settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ApiSpec {
    /// Its name (not unique).
    pub name: String,
    /// `HTTP`: fixed at creation.
    pub protocol: Fixed<String>,
    /// The stack's tags.
    pub tags: BTreeMap<String, String>,
    /// Empty: none.
    pub description: String,
    /// `None`: no CORS.
    pub cors: Option<CorsSpec>,
    /// The `execute-api` endpoint turned off.
    pub disable_execute_api_endpoint: bool,
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
    async fn ours(&self, cx: &Cx, skip: Option<&str>) -> Result<Vec<Found<ApiSpec>>> {
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

    fn observe(id: &str, a: ApiView) -> Found<ApiSpec> {
        let spec = ApiSpec {
            name: a.name.unwrap_or_default().to_string(),
            protocol: Fixed(
                a.protocol
                    .map(|p| p.as_str())
                    .unwrap_or_default()
                    .to_string(),
            ),
            tags: tag_map(a.tags.cloned().unwrap_or_default()),
            description: a.description.unwrap_or_default().to_string(),
            cors: a.cors.map(Cors::observed),
            disable_execute_api_endpoint: a.disable_execute_api_endpoint.unwrap_or(false),
        };
        Found::new(id, spec).output("endpoint", a.endpoint.unwrap_or_default())
    }
}

#[async_trait::async_trait]
impl Typed for Api {
    type Spec = ApiSpec;
    fn provider(&self) -> Arc<dyn Provider> {
        Arc::new(ApiProvider)
    }
    fn non_unique_name(&self) -> bool {
        true
    }
    fn spec(&self, i: &mut Inputs) -> ApiSpec {
        ApiSpec {
            name: self.name.clone(),
            protocol: Fixed(ProtocolType::Http.as_str().to_string()),
            tags: tag_map(i.ctx().tags.clone()),
            description: self.description.clone(),
            cors: self.cors.as_ref().map(Cors::spec),
            disable_execute_api_endpoint: self.disable_execute_api_endpoint,
        }
    }
    async fn read(&self, cx: &Cx, prior: &Prior) -> Result<Option<Found<ApiSpec>>> {
        if let Some(id) = &prior.id {
            if let Some(f) = ApiProvider::find(cx, id).await? {
                return Ok(Some(f));
            }
        }
        // API names are not unique: find ours by name and stack tag.
        Ok(self.ours(cx, None).await?.into_iter().next())
    }
    async fn strays(
        &self,
        cx: &Cx,
        _parent: Option<&str>,
        keep: &str,
        _made_at: Option<i64>,
    ) -> Result<Vec<String>> {
        let ours = self.ours(cx, Some(keep)).await?;
        Ok(ours.into_iter().map(|f| f.id).collect())
    }
    async fn create(&self, cx: &Cx, spec: &ApiSpec, _k: &Known) -> Result<Found<ApiSpec>> {
        let a = cx
            .aws
            .apigw
            .create_api()
            .name(&spec.name)
            .protocol_type(ProtocolType::from(spec.protocol.as_str()))
            .set_tags(Some(spec.tags.clone().into_iter().collect()))
            .set_description(Some(spec.description.clone()).filter(|x| !x.is_empty()))
            .set_cors_configuration(spec.cors.as_ref().map(CorsSpec::sdk))
            .disable_execute_api_endpoint(spec.disable_execute_api_endpoint)
            .send()
            .await
            .map_err(ctx_err("create API"))?;
        let id = a
            .api_id
            .clone()
            .ok_or_else(|| Error::Other("CreateApi returned no ID".into()))?;
        Ok(Self::observe(&id, api_view!(a)))
    }
    async fn update(
        &self,
        cx: &Cx,
        spec: &ApiSpec,
        found: &Found<ApiSpec>,
        _k: &Known,
    ) -> Result<Found<ApiSpec>> {
        let (had, id) = (&found.spec, found.id.as_str());
        let cors_changed = spec.cors != had.cors;
        if cors_changed && spec.cors.is_none() {
            ok_if_gone(
                cx.aws
                    .apigw
                    .delete_cors_configuration()
                    .api_id(id)
                    .send()
                    .await,
                |e| e.is_not_found_exception(),
                "delete the API's CORS configuration",
            )?;
        }
        let settings = spec.name != had.name
            || spec.description != had.description
            || spec.disable_execute_api_endpoint != had.disable_execute_api_endpoint;
        if settings || (cors_changed && spec.cors.is_some()) {
            // Every field it manages: UpdateApi keeps what it is not sent.
            cx.aws
                .apigw
                .update_api()
                .api_id(id)
                .name(&spec.name)
                .description(&spec.description)
                .disable_execute_api_endpoint(spec.disable_execute_api_endpoint)
                .set_cors_configuration(
                    spec.cors
                        .as_ref()
                        .filter(|_| cors_changed)
                        .map(CorsSpec::sdk),
                )
                .send()
                .await
                .map_err(ctx_err("update API"))?;
        }
        if spec.tags != had.tags {
            let arn = cx
                .ctx
                .arn("apigateway", &cx.ctx.region, "", &format!("/apis/{id}"));
            retag(cx, &arn, &spec.tags, &had.tags, "API").await?;
        }
        Ok(Found {
            spec: spec.clone(),
            ..found.clone()
        })
    }
}

/// Reads and deletes [`Api`]s by ID.
pub struct ApiProvider;

impl ApiProvider {
    /// The API `id`, if there is one.
    async fn find(cx: &Cx, id: &str) -> Result<Option<Found<ApiSpec>>> {
        match cx.aws.apigw.get_api().api_id(id).send().await {
            Ok(a) => Ok(Some(Api::observe(id, api_view!(a)))),
            Err(e) if not_found!(e) => Ok(None),
            Err(e) => Err(Error::aws(format!("get API {id}"), e)),
        }
    }
}

#[async_trait::async_trait]
impl Provider for ApiProvider {
    fn kind(&self) -> &'static str {
        "aws:apigatewayv2:Api"
    }
    async fn read(&self, cx: &Cx, id: &str, _parent: Option<&str>) -> Result<Read> {
        read_of(Self::find(cx, id).await?)
    }
    async fn delete(&self, cx: &Cx, id: &str, _p: Option<&str>) -> Result<()> {
        match cx.aws.apigw.delete_api().api_id(id).send().await {
            Ok(_) => Ok(()),
            Err(e) if not_found!(e) => Ok(()),
            Err(e) => Err(Error::aws(format!("delete API {id}"), e)),
        }
    }
}
