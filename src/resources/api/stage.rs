use super::{child_out, retag, Api};
use crate::error::{Error, Result};
use crate::kind::*;
use crate::model::{Handle, Input, Inputs, Output};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

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
    fn replace_on(&self) -> Vec<&'static str> {
        vec!["name"]
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
