use super::child_out;
use crate::error::{Error, Result};
use crate::kind::spec::{found_of, read_of, Fixed, Found};
use crate::kind::*;
use crate::model::{deps_of, Input, Inputs, Typed};
use aws_sdk_apigatewayv2::types::IntegrationType;
use serde::{Deserialize, Serialize};
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

/// An integration's settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IntegrationSpec {
    /// `AWS_PROXY`.
    #[serde(rename = "type")]
    pub kind: Fixed<String>,
    /// The function's ARN.
    pub uri: String,
    /// `2.0` or `1.0`.
    pub payload_format_version: String,
    /// How long API Gateway waits, in milliseconds.
    pub timeout_ms: i32,
    /// Empty: none.
    pub description: String,
}

impl Integration {
    fn observe(api: &str, id: &str, i: IntegrationView) -> Found<IntegrationSpec> {
        let spec = IntegrationSpec {
            kind: Fixed(i.ty.map(|t| t.as_str()).unwrap_or_default().to_string()),
            uri: i.uri.unwrap_or_default().to_string(),
            payload_format_version: i.pfv.unwrap_or_default().to_string(),
            timeout_ms: i.timeout_ms.unwrap_or(30000),
            description: i.description.unwrap_or_default().to_string(),
        };
        Found {
            id: id.to_string(),
            spec,
            outputs: child_out(api, id),
        }
    }
}

#[async_trait::async_trait]
impl Typed for Integration {
    type Spec = IntegrationSpec;
    fn provider(&self) -> Arc<dyn Provider> {
        Arc::new(IntegrationProvider)
    }
    fn deps(&self) -> Vec<String> {
        deps_of([self.api_id.deps(), self.function_arn.deps()])
    }
    fn parent(&self) -> Option<String> {
        self.api_id.deps().first().cloned()
    }
    fn non_unique_name(&self) -> bool {
        true
    }
    fn spec(&self, i: &mut Inputs) -> IntegrationSpec {
        IntegrationSpec {
            kind: Fixed(IntegrationType::AwsProxy.as_str().to_string()),
            uri: i.input(&self.function_arn),
            payload_format_version: self.payload_format.as_str().to_string(),
            timeout_ms: self.timeout_ms.unwrap_or(30000),
            description: self.description.clone(),
        }
    }
    async fn read(&self, cx: &Cx, prior: &Prior) -> Result<Option<Found<IntegrationSpec>>> {
        let Some(api) = &prior.parent_id else {
            return Ok(None);
        };
        if let Some(id) = &prior.id {
            if let Some(f) = IntegrationProvider::find(cx, id, api).await? {
                return Ok(Some(f));
            }
        }
        // No name: ours is the Lambda proxy integration of our API.
        let list = match cx.aws.apigw.get_integrations().api_id(api).send().await {
            Ok(l) => l,
            Err(e) if not_found!(e) => return Ok(None),
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
                    return Ok(Some(Self::observe(api, id, integration_view!(i))));
                }
            }
        }
        Ok(None)
    }
    async fn create(
        &self,
        cx: &Cx,
        spec: &IntegrationSpec,
        k: &Known,
    ) -> Result<Found<IntegrationSpec>> {
        let api = self.api_id.require(&cx.ctx, k)?;
        let i = cx
            .aws
            .apigw
            .create_integration()
            .api_id(&api)
            .integration_type(IntegrationType::from(spec.kind.as_str()))
            .integration_method("POST")
            .integration_uri(&spec.uri)
            .payload_format_version(&spec.payload_format_version)
            .timeout_in_millis(spec.timeout_ms)
            .set_description(Some(spec.description.clone()).filter(|x| !x.is_empty()))
            .send()
            .await
            .map_err(ctx_err("create integration"))?;
        let id = i.integration_id.unwrap_or_default();
        Ok(Found {
            id: id.clone(),
            spec: spec.clone(),
            outputs: child_out(&api, &id),
        })
    }
    async fn update(
        &self,
        cx: &Cx,
        spec: &IntegrationSpec,
        found: &Found<IntegrationSpec>,
        _k: &Known,
    ) -> Result<Found<IntegrationSpec>> {
        let api = found.outputs.get("parent_id").cloned().unwrap_or_default();
        cx.aws
            .apigw
            .update_integration()
            .api_id(&api)
            .integration_id(&found.id)
            .integration_uri(&spec.uri)
            .payload_format_version(&spec.payload_format_version)
            .timeout_in_millis(spec.timeout_ms)
            .description(&spec.description)
            .send()
            .await
            .map_err(ctx_err("update integration"))?;
        Ok(Found {
            spec: spec.clone(),
            ..found.clone()
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
                Some((id, Some(o.observed().ok()?)))
            })
            .collect();
        Ok(Page::Items(found, page.next_token))
    })
    .await
}

/// Reads and deletes [`Integration`]s by ID.
pub struct IntegrationProvider;

impl IntegrationProvider {
    /// The integration `id` of `api`, if there is one (from the API's list
    /// when the plan listed it).
    async fn find(cx: &Cx, id: &str, api: &str) -> Result<Option<Found<IntegrationSpec>>> {
        let list = |ask| list_integrations(cx, api, ask);
        if let Some(r) = cx
            .listed_read(IntegrationProvider.kind(), api, id, list)
            .await
        {
            return found_of(r);
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
            Ok(i) => Ok(Some(Integration::observe(api, id, integration_view!(i)))),
            Err(e) if not_found!(e) => Ok(None),
            Err(e) => Err(Error::aws(format!("get integration {id}"), e)),
        }
    }
}

#[async_trait::async_trait]
impl Provider for IntegrationProvider {
    fn kind(&self) -> &'static str {
        "aws:apigatewayv2:Integration"
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
