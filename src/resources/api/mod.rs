//! API Gateway v2: the HTTP API, its JWT authorizer, the Lambda integration,
//! the routes and the `$default` stage.

use crate::error::Result;
use crate::kind::{ctx_err, Cx};
use std::collections::BTreeMap;

macro_rules! not_found {
    ($e:expr) => {
        $e.as_service_error()
            .is_some_and(|s| s.is_not_found_exception())
    };
}

// `not_found!` is defined above the modules so that every one of them sees it.
mod authorizer;
mod http_api;
mod integration;
mod route;
mod stage;

pub use authorizer::{Authorizer, AuthorizerProvider, LambdaAuthorizer};
pub use http_api::{Api, ApiProvider, Cors};
pub use integration::{Integration, IntegrationProvider, PayloadFormat};
pub use route::{Route, RouteAuth, RouteProvider};
pub use stage::{AccessLog, RouteSettings, Stage, StageProvider, Throttling};

/// Brings an API Gateway resource's tags to the desired ones: the dropped
/// keys untagged, the rest (re)tagged.
async fn retag(
    cx: &Cx,
    arn: &str,
    want: &BTreeMap<String, String>,
    had: &BTreeMap<String, String>,
    what: &str,
) -> Result<()> {
    let stale = crate::kind::spec::removed_keys(had, want);
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
        .set_tags(Some(want.clone().into_iter().collect()))
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
