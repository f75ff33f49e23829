use super::{child_out, retag, Api};
use crate::error::{Error, Result};
use crate::kind::spec::{read_of, tag_map, Fixed, Found};
use crate::kind::*;
use crate::model::{Handle, Input, Inputs, Output, Typed};
use aws_sdk_apigatewayv2::types as sdk;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
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

/// A stage's settings, as declared and as GetStage reports them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StageSpec {
    /// `$default` or the path prefix of its URL.
    pub name: Fixed<String>,
    /// Always on: every change is deployed.
    pub auto_deploy: bool,
    /// Empty: none.
    pub description: String,
    /// Every route's burst limit; absent from a declaration that leaves
    /// throttling unmanaged (AWS has no way to unset it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub throttling_burst_limit: Option<i32>,
    /// Every route's rate limit (the same).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub throttling_rate_limit: Option<f64>,
    /// Detailed CloudWatch metrics.
    pub detailed_metrics: bool,
    /// Where access log lines go (`None`: nowhere).
    pub access_log: Option<AccessLogSpec>,
    /// Stage variables.
    pub variables: BTreeMap<String, String>,
    /// Single routes' settings, by route key.
    pub route_settings: BTreeMap<String, RouteSettingsSpec>,
    /// The stack's tags.
    pub tags: BTreeMap<String, String>,
}

/// A stage's access logging as set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccessLogSpec {
    /// The log group's ARN.
    pub destination_arn: String,
    /// The line's format.
    pub format: String,
}

/// One route's settings as set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RouteSettingsSpec {
    /// Detailed CloudWatch metrics for it.
    pub detailed_metrics: bool,
    /// Its burst limit (`None`: the stage's).
    pub throttling_burst_limit: Option<i32>,
    /// Its rate limit (`None`: the stage's).
    pub throttling_rate_limit: Option<f64>,
}

impl RouteSettingsSpec {
    fn of(r: &sdk::RouteSettings) -> Self {
        RouteSettingsSpec {
            detailed_metrics: r.detailed_metrics_enabled.unwrap_or(false),
            throttling_burst_limit: r.throttling_burst_limit,
            throttling_rate_limit: r.throttling_rate_limit,
        }
    }
    /// As sent: every field it manages.
    fn sdk(&self) -> sdk::RouteSettings {
        sdk::RouteSettings::builder()
            .detailed_metrics_enabled(self.detailed_metrics)
            .set_throttling_burst_limit(self.throttling_burst_limit)
            .set_throttling_rate_limit(self.throttling_rate_limit)
            .build()
    }
}

impl StageSpec {
    /// As GetStage reports the stage `name`.
    fn of(name: &str, st: &aws_sdk_apigatewayv2::operation::get_stage::GetStageOutput) -> Self {
        let route = st.default_route_settings.as_ref();
        let log = st.access_log_settings.as_ref();
        let log = log.filter(|l| l.destination_arn.as_deref().is_some_and(|d| !d.is_empty()));
        let routes = st.route_settings.iter().flatten();
        StageSpec {
            name: name.into(),
            auto_deploy: st.auto_deploy.unwrap_or(false),
            description: st.description.clone().unwrap_or_default(),
            throttling_burst_limit: route.and_then(|r| r.throttling_burst_limit),
            throttling_rate_limit: route.and_then(|r| r.throttling_rate_limit),
            detailed_metrics: route
                .and_then(|r| r.detailed_metrics_enabled)
                .unwrap_or(false),
            access_log: log.map(|l| AccessLogSpec {
                destination_arn: l.destination_arn.clone().unwrap_or_default(),
                format: l.format.clone().unwrap_or_default(),
            }),
            variables: st
                .stage_variables
                .clone()
                .unwrap_or_default()
                .into_iter()
                .collect(),
            route_settings: routes
                .map(|(k, r)| (k.clone(), RouteSettingsSpec::of(r)))
                .collect(),
            tags: tag_map(st.tags.clone().unwrap_or_default()),
        }
    }
    /// The stage's default route settings, as sent: every field it manages.
    fn default_route(&self) -> sdk::RouteSettings {
        RouteSettingsSpec {
            detailed_metrics: self.detailed_metrics,
            throttling_burst_limit: self.throttling_burst_limit,
            throttling_rate_limit: self.throttling_rate_limit,
        }
        .sdk()
    }
    /// The per-route settings as sent, by route key.
    fn per_route(&self) -> HashMap<String, sdk::RouteSettings> {
        let routes = self.route_settings.iter();
        routes.map(|(k, r)| (k.clone(), r.sdk())).collect()
    }
    /// Its access log settings, as sent (logging off is
    /// DeleteAccessLogSettings).
    fn access_log(&self) -> Option<sdk::AccessLogSettings> {
        self.access_log.as_ref().map(|l| {
            sdk::AccessLogSettings::builder()
                .destination_arn(&l.destination_arn)
                .format(&l.format)
                .build()
        })
    }
}

#[async_trait::async_trait]
impl Typed for Stage {
    type Spec = StageSpec;
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
    fn spec(&self, i: &mut Inputs) -> StageSpec {
        let routes = self.route_settings.iter().map(|(k, r)| {
            let t = r.throttling.as_ref();
            let r = RouteSettingsSpec {
                detailed_metrics: r.detailed_metrics,
                throttling_burst_limit: t.map(|t| t.burst_limit),
                throttling_rate_limit: t.map(|t| t.rate_limit),
            };
            (k.clone(), r)
        });
        StageSpec {
            name: self.stage_name().into(),
            auto_deploy: true,
            description: self.description.clone(),
            // Throttling left unset is not managed.
            throttling_burst_limit: self.throttling.map(|t| t.burst_limit),
            throttling_rate_limit: self.throttling.map(|t| t.rate_limit),
            detailed_metrics: self.detailed_metrics,
            // Unknown as a whole while its log group is.
            access_log: self.access_log.as_ref().map(|l| AccessLogSpec {
                destination_arn: i.get("access_log", &l.destination_arn),
                format: l.format.clone(),
            }),
            variables: self.variables.clone(),
            route_settings: routes.collect(),
            tags: tag_map(i.ctx().tags.clone()),
        }
    }
    async fn read(&self, cx: &Cx, prior: &Prior) -> Result<Option<Found<StageSpec>>> {
        let Some(api) = &prior.parent_id else {
            return Ok(None);
        };
        // By the recorded name first (a renamed stage is replaced).
        let name = prior.id_or(self.stage_name());
        StageProvider::find(cx, &name, api).await
    }
    async fn create(&self, cx: &Cx, spec: &StageSpec, k: &Known) -> Result<Found<StageSpec>> {
        let api = self.api_id.require(&cx.ctx, k)?;
        let name = self.stage_name().to_string();
        let r = cx
            .aws
            .apigw
            .create_stage()
            .api_id(&api)
            .stage_name(&name)
            .auto_deploy(true)
            .set_description(Some(spec.description.clone()).filter(|x| !x.is_empty()))
            .default_route_settings(spec.default_route())
            .set_access_log_settings(spec.access_log())
            .set_stage_variables(Some(spec.variables.clone().into_iter().collect()))
            .set_route_settings(Some(spec.per_route()).filter(|r| !r.is_empty()))
            .set_tags(Some(spec.tags.clone().into_iter().collect()))
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
            return match StageProvider::find(cx, &name, &api).await? {
                Some(f) => Typed::update(self, cx, spec, &f, k).await,
                None => Err(Error::aws(
                    format!("create stage {name} (AWS answered a conflict and no stage is there; run `deployer up` again)"),
                    e,
                )),
            };
        }
        Ok(Found {
            id: name.clone(),
            spec: spec.clone(),
            outputs: child_out(&api, &name),
        })
    }
    async fn update(
        &self,
        cx: &Cx,
        spec: &StageSpec,
        found: &Found<StageSpec>,
        _k: &Known,
    ) -> Result<Found<StageSpec>> {
        let api = found.outputs.get("parent_id").cloned().unwrap_or_default();
        let (had, stage) = (&found.spec, found.id.as_str());
        // Throttling left unmanaged (`None`) is never a change.
        let route = (spec.throttling_burst_limit.is_some()
            && spec.throttling_burst_limit != had.throttling_burst_limit)
            || (spec.throttling_rate_limit.is_some()
                && spec.throttling_rate_limit != had.throttling_rate_limit)
            || spec.detailed_metrics != had.detailed_metrics;
        let routes_changed = spec.route_settings != had.route_settings;
        // A route's settings dropped: deleted (UpdateStage keeps what it is
        // not sent), before the others are sent.
        if routes_changed {
            for key in had.route_settings.keys() {
                if spec.route_settings.contains_key(key) {
                    continue;
                }
                let r = cx
                    .aws
                    .apigw
                    .delete_route_settings()
                    .api_id(&api)
                    .stage_name(stage)
                    .route_key(key)
                    .send()
                    .await;
                ok_if_gone(r, |s| s.is_not_found_exception(), "delete route settings")?;
            }
        }
        let log_changed = spec.access_log != had.access_log;
        let others = spec.auto_deploy != had.auto_deploy
            || spec.description != had.description
            || log_changed
            || spec.variables != had.variables;
        let per_route = routes_changed && !spec.route_settings.is_empty();
        if per_route || route || others {
            // UpdateStage keeps what it is not sent, stage variables too:
            // a variable is removed by sending it empty (as Terraform does).
            let mut u = cx
                .aws
                .apigw
                .update_stage()
                .api_id(&api)
                .stage_name(stage)
                .auto_deploy(true)
                .description(&spec.description);
            if route {
                u = u.default_route_settings(spec.default_route());
            }
            let log_off = log_changed && spec.access_log.is_none();
            if log_changed && !log_off {
                u = u.set_access_log_settings(spec.access_log());
            }
            if per_route {
                u = u.set_route_settings(Some(spec.per_route()));
            }
            if spec.variables != had.variables {
                let dropped = had
                    .variables
                    .keys()
                    .filter(|k| !spec.variables.contains_key(*k));
                let mut variables: HashMap<String, String> =
                    dropped.map(|k| (k.clone(), String::new())).collect();
                variables.extend(spec.variables.clone());
                u = u.set_stage_variables(Some(variables));
            }
            u.send()
                .await
                .map_err(ctx_err(format!("update stage {stage}")))?;
            // Logging off: DeleteAccessLogSettings, the documented way.
            if log_off {
                let r = cx
                    .aws
                    .apigw
                    .delete_access_log_settings()
                    .api_id(&api)
                    .stage_name(stage)
                    .send()
                    .await;
                ok_if_gone(
                    r,
                    |s| s.is_not_found_exception(),
                    "delete access log settings",
                )?;
            }
        }
        if spec.tags != had.tags {
            let arn = cx.ctx.arn(
                "apigateway",
                &cx.ctx.region,
                "",
                &format!("/apis/{api}/stages/{stage}"),
            );
            retag(cx, &arn, &spec.tags, &had.tags, "stage").await?;
        }
        Ok(Found {
            spec: spec.clone(),
            ..found.clone()
        })
    }
}

/// Reads and deletes [`Stage`]s by ID.
pub struct StageProvider;

impl StageProvider {
    /// The stage `name` of `api`, if there is one.
    async fn find(cx: &Cx, name: &str, api: &str) -> Result<Option<Found<StageSpec>>> {
        match cx
            .aws
            .apigw
            .get_stage()
            .api_id(api)
            .stage_name(name)
            .send()
            .await
        {
            Ok(st) => Ok(Some(Found {
                id: name.into(),
                spec: StageSpec::of(name, &st),
                outputs: child_out(api, name),
            })),
            Err(e) if not_found!(e) => Ok(None),
            Err(e) => Err(Error::aws(format!("get stage {name}"), e)),
        }
    }
}

#[async_trait::async_trait]
impl Provider for StageProvider {
    fn kind(&self) -> &'static str {
        "aws:apigatewayv2:Stage"
    }
    async fn read(&self, cx: &Cx, id: &str, parent: Option<&str>) -> Result<Read> {
        let Some(api) = parent else {
            return Ok(Read::Missing);
        };
        read_of(Self::find(cx, id, api).await?)
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
