//! CloudWatch Logs: a log group, such as a function's `/aws/lambda/{name}`.
//!
//! Lambda creates its function's group itself on the first invocation, with
//! no retention, and nobody deletes it. Declared before the function (see
//! `LogGroup::for_function`), `up` creates it first, with a retention, and
//! `down` deletes it after the function.

use crate::error::Error;
use crate::error::Result;
use crate::kind::*;
use serde_json::json;

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
}

impl LogClass {
    fn as_str(&self) -> &'static str {
        match self {
            LogClass::Standard => "STANDARD",
            LogClass::InfrequentAccess => "INFREQUENT_ACCESS",
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

    async fn describe(cx: &Cx, name: &str) -> Result<Option<Observed>> {
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
        let mut outputs = BTreeMap::new();
        outputs.insert("id".into(), name.to_string());
        Ok(Some(Observed {
            id: name.to_string(),
            props: props(json!({
                "name": name,
                "retention_days": g.retention_in_days,
                "class": g.log_group_class.as_ref().map(|c| c.as_str()).unwrap_or("STANDARD"),
                "kms_key_id": g.kms_key_id,
                "tags": tags_value(tags),
            })),
            outputs,
        }))
    }
}

#[async_trait::async_trait]
impl Kind for LogGroup {
    fn provider(&self) -> Arc<dyn Provider> {
        Arc::new(LogGroupProvider)
    }
    fn deps(&self) -> Vec<String> {
        self.kms_key
            .as_ref()
            .map(|k| k.deps().to_vec())
            .unwrap_or_default()
    }
    fn replace_on(&self) -> &'static [&'static str] {
        &["name", "class"]
    }
    fn desired(&self, ctx: &Ctx, k: &Known) -> Desired {
        let mut i = crate::model::Inputs::new(ctx, k);
        let key = self.kms_key.as_ref().map(|a| i.get("kms_key_id", a));
        i.finish(json!({
            "name": self.name,
            "retention_days": self.retention_days,
            "class": self.class.as_str(),
            "kms_key_id": key,
            "tags": tags_value(ctx.tags.clone()),
        }))
    }
    async fn read(&self, cx: &Cx, prior: &Prior) -> Result<Read> {
        for name in names_to_read(&self.name, prior) {
            if let Some(o) = Self::describe(cx, &name).await? {
                return Ok(Read::Found(o));
            }
        }
        Ok(Read::Missing)
    }
    async fn create(&self, cx: &Cx, d: &Props, k: &Known) -> Result<Observed> {
        let name = s(d, "name");
        match cx
            .aws
            .logs
            .create_log_group()
            .log_group_name(&name)
            .log_group_class(aws_sdk_cloudwatchlogs::types::LogGroupClass::from(
                s(d, "class").as_str(),
            ))
            .set_kms_key_id(
                d.get("kms_key_id")
                    .and_then(|k| k.as_str())
                    .map(String::from),
            )
            .set_tags(Some(string_map(d, "tags").into_iter().collect()))
            .send()
            .await
        {
            // Made as declared but for its retention (CreateLogGroup takes
            // none): no read back (its tags' quota is 5 a second).
            Ok(_) => {
                let mut made = d.clone();
                made.insert("retention_days".into(), serde_json::Value::Null);
                let mut outputs = BTreeMap::new();
                outputs.insert("id".into(), name.clone());
                let o = Observed {
                    id: name,
                    props: made,
                    outputs,
                };
                return self.update(cx, d, &o, k).await;
            }
            // Unique name: adopt the group Lambda (or an interrupted run) made.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_already_exists_exception()) => {}
            Err(e) => return Err(Error::aws(format!("create log group {name}"), e)),
        }
        match Self::describe(cx, &name).await? {
            Some(o) => {
                cx.ctx.ensure_ours("log group", &o)?;
                self.update(cx, d, &o, k).await
            }
            None => Err(Error::Other(format!(
                "log group {name} vanished after create"
            ))),
        }
    }
    async fn update(&self, cx: &Cx, d: &Props, o: &Observed, _k: &Known) -> Result<Observed> {
        let name = o.id.clone();
        if d.get("retention_days") != o.props.get("retention_days") {
            match d.get("retention_days").and_then(|v| v.as_i64()) {
                Some(days) => {
                    cx.aws
                        .logs
                        .put_retention_policy()
                        .log_group_name(&name)
                        .retention_in_days(days as i32)
                        .send()
                        .await
                        .map_err(ctx_err(format!("set the retention of log group {name}")))?;
                }
                None => {
                    cx.aws
                        .logs
                        .delete_retention_policy()
                        .log_group_name(&name)
                        .send()
                        .await
                        .map_err(ctx_err(format!("remove the retention of log group {name}")))?;
                }
            }
        }
        if d.get("kms_key_id") != o.props.get("kms_key_id") {
            let logs = &cx.aws.logs;
            match d.get("kms_key_id").and_then(|k| k.as_str()) {
                Some(key) => logs
                    .associate_kms_key()
                    .log_group_name(&name)
                    .kms_key_id(key)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(ctx_err(format!("encrypt log group {name} with {key}"))),
                None => logs
                    .disassociate_kms_key()
                    .log_group_name(&name)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(ctx_err(format!(
                        "stop encrypting log group {name} with its key"
                    ))),
            }?;
        }
        if d.get("tags") != o.props.get("tags") {
            let arn = Self::arn(&cx.ctx, &name);
            let want = string_map(d, "tags");
            let stale = stale_tags(d, &o.props);
            if !stale.is_empty() {
                cx.aws
                    .logs
                    .untag_resource()
                    .resource_arn(&arn)
                    .set_tag_keys(Some(stale))
                    .send()
                    .await
                    .map_err(ctx_err(format!("untag log group {name}")))?;
            }
            cx.aws
                .logs
                .tag_resource()
                .resource_arn(&arn)
                .set_tags(Some(want.into_iter().collect()))
                .send()
                .await
                .map_err(ctx_err(format!("tag log group {name}")))?;
        }
        Ok(Observed {
            props: d.clone(),
            ..o.clone()
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
        Ok(match LogGroup::describe(cx, id).await? {
            Some(o) => Read::Found(o),
            None => Read::Missing,
        })
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
