use super::child_out;
use crate::error::{Error, Result};
use crate::kind::*;
use crate::model::{deps_of, Input, Inputs};
use aws_sdk_apigatewayv2::types::IntegrationType;
use serde_json::json;
use std::sync::Arc;

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
    fn replace_on(&self) -> Vec<&'static str> {
        vec!["type"]
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
/// itself sees it, within `ask.budget` pages (`crate::kind::listing`).
async fn list_integrations(
    cx: &Cx,
    api: &str,
    ask: crate::kind::listing::Ask,
) -> Result<Option<crate::kind::listing::Listed>> {
    use crate::kind::listing::{paged, Page};
    paged(&ask, "", |token| async move {
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
            Err(e) if not_found!(e) => return Ok(Page::ParentGone),
            Err(e) => return Err(Error::aws("list integrations", e)),
        };
        let items = page.items.unwrap_or_default().into_iter();
        let found = items
            .filter_map(|i| {
                let id = i.integration_id.clone()?;
                let o = Integration::observe(api, &id, integration_view!(i));
                Some((id, Some(o)))
            })
            .collect();
        Ok(Page::Items(found, page.next_token))
    })
    .await
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
        if let Some(r) = cx.listed_read(self.kind(), api, id, list).await {
            return Ok(r);
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
