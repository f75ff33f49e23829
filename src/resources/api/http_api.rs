use super::retag;
use crate::error::{Error, Result};
use crate::kind::*;
use crate::model::{Handle, Output};
use aws_sdk_apigatewayv2::types::ProtocolType;
use serde_json::{json, Value};
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
    fn replace_on(&self) -> Vec<&'static str> {
        vec!["protocol"]
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
