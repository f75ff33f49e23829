//! CloudWatch Logs: a log group, such as a function's `/aws/lambda/{name}`.
//!
//! Lambda creates its function's group itself on the first invocation, with
//! no retention, and nobody deletes it. Declared before the function (see
//! `LogGroup::for_function`), `up` creates it first, with a retention, and
//! `down` deletes it after the function.

use crate::error::Error;
use crate::error::Result;
use crate::kind::spec::{read_of, removed_keys, tag_map, Fixed, Found};
use crate::kind::*;
use crate::model::{Inputs, Typed};
use aws_sdk_cloudwatchlogs::types::LogGroupClass;
use serde::{Deserialize, Serialize};

use std::collections::BTreeMap;
use std::sync::Arc;

/// A CloudWatch Logs log group, with a retention.
#[derive(Default)]
pub struct LogGroup {
    /// Its name (`/aws/lambda/FUNCTION` for a function's logs).
    pub name: String,
    /// None: kept forever.
    pub retention_days: Option<i32>,
    /// Its class, fixed at creation: a change replaces the group, its
    /// events lost.
    pub class: LogClass,
    /// The ARN of the KMS key its events are encrypted with (the key's
    /// policy must let `logs.REGION.amazonaws.com` use it); `None`:
    /// CloudWatch Logs' own encryption.
    pub kms_key: Option<crate::model::Input<String>>,
}

/// A log group's class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogClass {
    /// Every feature of CloudWatch Logs.
    #[default]
    Standard,
    /// Cheaper ingestion, fewer features (no metric filters, subscriptions
    /// or Live Tail).
    InfrequentAccess,
    /// For logs AWS services deliver (vended logs): no queries, a
    /// retention of one day.
    Delivery,
}

impl LogClass {
    fn as_str(&self) -> &'static str {
        match self {
            LogClass::Standard => "STANDARD",
            LogClass::InfrequentAccess => "INFREQUENT_ACCESS",
            LogClass::Delivery => "DELIVERY",
        }
    }
}

/// A log group's settings, as declared and as CloudWatch Logs reports them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LogGroupSpec {
    /// `/aws/lambda/FUNCTION` for a function's logs.
    pub name: Fixed<String>,
    /// Days its events are kept; `None`: forever.
    pub retention_days: Option<i32>,
    /// `STANDARD`, `INFREQUENT_ACCESS`, `DELIVERY` (as CloudWatch Logs
    /// names it, one it may add later included); fixed at creation.
    pub class: Fixed<String>,
    /// The ARN of the KMS key its events are encrypted with.
    pub kms_key_id: Option<String>,
    /// The stack's tags.
    pub tags: BTreeMap<String, String>,
}

impl LogGroupSpec {
    /// As DescribeLogGroups reports the group, with its tags.
    fn of(g: &aws_sdk_cloudwatchlogs::types::LogGroup, tags: BTreeMap<String, String>) -> Self {
        LogGroupSpec {
            name: Fixed(g.log_group_name.clone().unwrap_or_default()),
            retention_days: g.retention_in_days,
            class: Fixed(
                g.log_group_class
                    .as_ref()
                    .map_or("STANDARD", |c| c.as_str())
                    .to_string(),
            ),
            kms_key_id: g.kms_key_id.clone(),
            tags: tag_map(tags),
        }
    }
}

impl crate::model::Handle<LogGroup> {
    /// The group's name.
    pub fn name(&self) -> crate::model::Output<String> {
        self.id()
    }
    /// The group's ARN (an API stage's access log destination).
    pub fn arn(&self) -> crate::model::Output<String> {
        crate::model::Output::of_with(self.key(), "id", LogGroup::arn)
    }
}

impl LogGroup {
    /// The group Lambda writes a function's logs to.
    pub fn for_function(function_name: &str, retention_days: Option<i32>) -> Self {
        LogGroup {
            name: format!("/aws/lambda/{function_name}"),
            retention_days,
            ..Default::default()
        }
    }

    fn arn(ctx: &Ctx, name: &str) -> String {
        ctx.arn(
            "logs",
            &ctx.region,
            &ctx.account,
            &format!("log-group:{name}"),
        )
    }

    /// The groups whose names start with `ask.prefix` (DescribeLogGroups:
    /// 50 a call), within `ask.budget` calls (`crate::kind::listing`).
    async fn list(
        cx: &Cx,
        ask: crate::kind::listing::Ask,
    ) -> Result<Option<crate::kind::listing::Listed>> {
        use crate::kind::listing::{paged, Page};
        let prefix = ask.prefix.clone();
        let prefix = prefix.as_str();
        paged(&ask, prefix, |token| async move {
            let page = cx
                .aws
                .logs
                .describe_log_groups()
                .set_log_group_name_prefix(Some(prefix.to_string()).filter(|p| !p.is_empty()))
                .limit(50)
                .set_next_token(token)
                .send()
                .await
                .map_err(ctx_err(format!("list log groups under {prefix}")))?;
            let groups = page.log_groups.unwrap_or_default().into_iter();
            let names = groups
                .filter_map(|g| Some((g.log_group_name?, None)))
                .collect();
            Ok(Page::Items(names, page.next_token))
        })
        .await
    }

    async fn describe(cx: &Cx, name: &str) -> Result<Option<Found<LogGroupSpec>>> {
        if !cx
            .may_exist(LogGroupProvider.kind(), name, |ask| Self::list(cx, ask))
            .await
        {
            return Ok(None);
        }
        // The tags only of a group that exists: ListTagsForResource's quota
        // is half DescribeLogGroups' (5 and 10 a second), and a fresh
        // stack's groups do not exist yet.
        let arn = Self::arn(&cx.ctx, name);
        let out = cx
            .aws
            .logs
            .describe_log_groups()
            .log_group_name_prefix(name)
            .send()
            .await
            .map_err(ctx_err(format!("describe log group {name}")))?;
        let Some(g) = out
            .log_groups
            .unwrap_or_default()
            .into_iter()
            .find(|g| g.log_group_name.as_deref() == Some(name))
        else {
            return Ok(None);
        };
        let tags = cx
            .aws
            .logs
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await;
        let tags = match tags {
            Ok(t) => t.tags.unwrap_or_default(),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(Error::aws(format!("list tags of log group {name}"), e)),
        };
        Ok(Some(Found::new(name, LogGroupSpec::of(&g, tag_map(tags)))))
    }
}

#[async_trait::async_trait]
impl Typed for LogGroup {
    type Spec = LogGroupSpec;
    fn provider(&self) -> Arc<dyn Provider> {
        Arc::new(LogGroupProvider)
    }
    fn spec(&self, i: &mut Inputs) -> LogGroupSpec {
        LogGroupSpec {
            name: Fixed(self.name.clone()),
            retention_days: self.retention_days,
            class: Fixed(self.class.as_str().to_string()),
            kms_key_id: self.kms_key.as_ref().map(|k| i.input(k)),
            tags: tag_map(i.ctx().tags.clone()),
        }
    }
    async fn read(&self, cx: &Cx, prior: &Prior) -> Result<Option<Found<LogGroupSpec>>> {
        for name in names_to_read(&self.name, prior) {
            if let Some(f) = Self::describe(cx, &name).await? {
                return Ok(Some(f));
            }
        }
        Ok(None)
    }
    async fn create(&self, cx: &Cx, spec: &LogGroupSpec, k: &Known) -> Result<Found<LogGroupSpec>> {
        let name = spec.name.to_string();
        match cx
            .aws
            .logs
            .create_log_group()
            .log_group_name(&name)
            .log_group_class(LogGroupClass::from(spec.class.as_str()))
            .set_kms_key_id(spec.kms_key_id.clone())
            .set_tags(Some(spec.tags.clone().into_iter().collect()))
            .send()
            .await
        {
            // Made as declared but for its retention (CreateLogGroup takes
            // none): no read back (its tags' quota is 5 a second).
            Ok(_) => {
                let made = LogGroupSpec {
                    retention_days: None,
                    ..spec.clone()
                };
                return Typed::update(self, cx, spec, &Found::new(name, made), k).await;
            }
            // Unique name: adopt the group Lambda (or an interrupted run) made.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_already_exists_exception()) => {}
            Err(e) => return Err(Error::aws(format!("create log group {name}"), e)),
        }
        match Self::describe(cx, &name).await? {
            Some(f) => {
                f.ensure_ours(&cx.ctx, "log group")?;
                Typed::update(self, cx, spec, &f, k).await
            }
            None => Err(Error::Other(format!(
                "log group {name} vanished after create"
            ))),
        }
    }
    async fn update(
        &self,
        cx: &Cx,
        spec: &LogGroupSpec,
        found: &Found<LogGroupSpec>,
        _k: &Known,
    ) -> Result<Found<LogGroupSpec>> {
        let name = found.id.as_str();
        let logs = &cx.aws.logs;
        let had = &found.spec;
        if spec.retention_days != had.retention_days {
            match spec.retention_days {
                Some(days) => logs
                    .put_retention_policy()
                    .log_group_name(name)
                    .retention_in_days(days)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(ctx_err(format!("set the retention of log group {name}"))),
                None => logs
                    .delete_retention_policy()
                    .log_group_name(name)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(ctx_err(format!("remove the retention of log group {name}"))),
            }?;
        }
        if spec.kms_key_id != had.kms_key_id {
            match &spec.kms_key_id {
                Some(key) => logs
                    .associate_kms_key()
                    .log_group_name(name)
                    .kms_key_id(key)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(ctx_err(format!("encrypt log group {name} with {key}"))),
                None => logs
                    .disassociate_kms_key()
                    .log_group_name(name)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(ctx_err(format!(
                        "stop encrypting log group {name} with its key"
                    ))),
            }?;
        }
        if spec.tags != had.tags {
            let arn = Self::arn(&cx.ctx, name);
            let stale = removed_keys(&had.tags, &spec.tags);
            if !stale.is_empty() {
                logs.untag_resource()
                    .resource_arn(&arn)
                    .set_tag_keys(Some(stale))
                    .send()
                    .await
                    .map_err(ctx_err(format!("untag log group {name}")))?;
            }
            logs.tag_resource()
                .resource_arn(&arn)
                .set_tags(Some(spec.tags.clone().into_iter().collect()))
                .send()
                .await
                .map_err(ctx_err(format!("tag log group {name}")))?;
        }
        Ok(Found {
            spec: spec.clone(),
            ..found.clone()
        })
    }
}

/// Reads and deletes [`LogGroup`]s by ID.
pub struct LogGroupProvider;

#[async_trait::async_trait]
impl Provider for LogGroupProvider {
    fn kind(&self) -> &'static str {
        "aws:logs:LogGroup"
    }
    async fn read(&self, cx: &Cx, id: &str, _parent: Option<&str>) -> Result<Read> {
        read_of(LogGroup::describe(cx, id).await?)
    }
    async fn delete(&self, cx: &Cx, id: &str, _p: Option<&str>) -> Result<()> {
        ok_if_gone(
            cx.aws
                .logs
                .delete_log_group()
                .log_group_name(id)
                .send()
                .await,
            |e| e.is_resource_not_found_exception(),
            format!("delete log group {id}"),
        )
    }
}
