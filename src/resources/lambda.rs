//! Lambda and IAM: the execution role, the function, and API Gateway's
//! permission to invoke it.

use crate::config::Architecture;
use crate::error::Error;
use crate::error::Result;
use crate::kind::*;
use crate::model::{deps_of, Handle, Input, Inputs, Output};
use crate::package::Package;
use aws_sdk_lambda::operation::get_function::GetFunctionOutput;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Architecture as LArch, Environment, FunctionCode, Runtime};
use serde_json::json;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

/// "An update is in progress" (or the function is still being created):
/// Lambda's typed ResourceConflictException with the message
/// `aws::is_busy_error` knows, for each operation that can hit it. The SDK's
/// `BusyClassifier` retries these for about 25 s; this waits them out for
/// as long as a function update can take. Another conflict (a statement ID
/// that exists) is final at once.
macro_rules! update_in_progress {
    ($op:ident, $err:ident) => {
        |e: &aws_sdk_lambda::error::SdkError<aws_sdk_lambda::operation::$op::$err, _>| {
            matches!(
                e.as_service_error(),
                Some(aws_sdk_lambda::operation::$op::$err::ResourceConflictException(x))
                    if crate::aws::is_busy_error("ResourceConflictException", x.message().unwrap_or_default())
            )
        }
    };
}

/// An AWS managed policy (`service-role/AWSLambdaBasicExecutionRole`), in
/// the stack's partition.
pub fn managed_policy(ctx: &Ctx, name: &str) -> String {
    ctx.arn("iam", "", "aws", &format!("policy/{name}"))
}
/// The AWS managed policy that lets a function write its logs.
pub const BASIC_EXECUTION: &str = "service-role/AWSLambdaBasicExecutionRole";
/// The AWS managed policy that lets a function send its X-Ray traces
/// (`Tracing::Active` needs it, or an inline policy to the same effect).
pub const XRAY_WRITE: &str = "AWSXRayDaemonWriteAccess";
/// AWS managed policies that allow `xray:PutTraceSegments`.
const XRAY_POLICIES: &[&str] = &[
    "AWSXRayDaemonWriteAccess",
    "AWSXrayWriteOnlyAccess",
    "AWSXrayFullAccess",
    "AdministratorAccess",
    "PowerUserAccess",
];
/// The unreserved concurrency Lambda keeps in every account: 100, or the
/// whole limit of an account whose limit is lower (a new account's is 10:
/// it can reserve none). A reservation that would leave less is refused
/// (PutFunctionConcurrency, "decreases account's
/// UnreservedConcurrentExecution below its minimum value of [10]";
/// https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html).
pub const UNRESERVED_MINIMUM: i64 = 100;

/// The unreserved minimum of an account whose concurrency limit is `limit`.
pub fn unreserved_minimum(limit: Option<i64>) -> i64 {
    limit.map_or(UNRESERVED_MINIMUM, |l| l.min(UNRESERVED_MINIMUM))
}

/// The account's facts the functions of `nodes` need before a plan: its
/// unreserved concurrency, read (GetAccountSettings) only when one of them
/// reserves some.
pub async fn account_facts(cx: &Cx, reserves: bool) -> Result<Facts> {
    if !reserves {
        return Ok(Facts::default());
    }
    let a = cx
        .aws
        .lambda
        .get_account_settings()
        .send()
        .await
        .map_err(ctx_err(
            "read Lambda's account settings (GetAccountSettings)",
        ))?;
    let limit = a.account_limit;
    Ok(Facts {
        lambda_unreserved: limit
            .as_ref()
            .and_then(|l| l.unreserved_concurrent_executions)
            .map(i64::from),
        lambda_limit: limit.map(|l| i64::from(l.concurrent_executions)),
    })
}

/// Whether a role's settings (its managed policies) or one of the program's
/// inline policies of that role (`policies`, each a document) may allow
/// `xray:PutTraceSegments`: false only when it is known not to (AWS managed
/// policies, none of which allows it; inline policies, none of which does).
/// A policy of the account's own (its content not in the program) or a
/// statement with `NotAction` may: not refused.
fn allows_xray(managed: &[String], inline: &[&Value]) -> bool {
    let aws_managed = |p: &String| p.contains(":iam::aws:policy/");
    let managed_ok = managed.iter().any(|p| {
        !aws_managed(p)
            || XRAY_POLICIES
                .iter()
                .any(|x| p.rsplit('/').next() == Some(*x))
    });
    let action_ok = |a: &str| {
        let a = a.to_ascii_lowercase();
        match a.split_once(':') {
            Some((service, action)) => {
                iam_glob(service.as_bytes(), b"xray")
                    && iam_glob(action.as_bytes(), b"puttracesegments")
            }
            None => a == "*",
        }
    };
    let statement_ok = |st: &Value| {
        st.get("Effect").and_then(Value::as_str) == Some("Allow")
            && match (st.get("Action"), st.get("NotAction")) {
                (_, Some(_)) => true,
                (Some(Value::String(a)), _) => action_ok(a),
                (Some(Value::Array(v)), _) => v.iter().filter_map(Value::as_str).any(action_ok),
                _ => false,
            }
    };
    let inline_ok = inline.iter().any(|doc| {
        let doc: Value = match doc {
            Value::String(t) => serde_json::from_str(t).unwrap_or_default(),
            v => (*v).clone(),
        };
        match doc.get("Statement") {
            Some(Value::Array(v)) => v.iter().any(statement_ok),
            Some(st @ Value::Object(_)) => statement_ok(st),
            _ => false,
        }
    });
    managed_ok || inline_ok
}

/// IAM's wildcard match of an action: `*` any run of characters, `?` any one.
fn iam_glob(pat: &[u8], text: &[u8]) -> bool {
    match (pat.first(), text.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            iam_glob(&pat[1..], text) || (!text.is_empty() && iam_glob(pat, &text[1..]))
        }
        (Some(b'?'), Some(_)) => iam_glob(&pat[1..], &text[1..]),
        (Some(a), Some(b)) if a == b => iam_glob(&pat[1..], &text[1..]),
        _ => false,
    }
}

const WAIT: Duration = Duration::from_secs(300);

fn trust_policy(service: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole"
        }]
    })
}

// ---------------------------------------------------------------- role

/// An IAM role a service may assume, with AWS managed policies attached.
#[derive(Default)]
pub struct Role {
    /// Its name (unique in the account).
    pub name: String,
    /// The service principal that assumes it (`lambda.amazonaws.com`).
    pub service: String,
    /// Managed policy names under `arn:PARTITION:iam::aws:policy/`.
    pub managed_policies: Vec<String>,
    /// Its path (`/` by default; fixed at creation: a change is a new role).
    pub path: String,
    /// Its description (empty: none).
    pub description: String,
    /// How long a session of it may last, in seconds (3600 to 43200).
    pub max_session_seconds: i32,
    /// A managed policy (a name under `aws:policy/`, or an ARN) that bounds
    /// what it may ever do, whatever its policies allow.
    pub permissions_boundary: Option<String>,
}

impl Role {
    /// A role for Lambda functions with the basic execution policy (logs).
    pub fn for_lambda(name: impl Into<String>) -> Self {
        Role {
            name: name.into(),
            service: "lambda.amazonaws.com".into(),
            managed_policies: vec![BASIC_EXECUTION.into()],
            path: "/".into(),
            description: String::new(),
            max_session_seconds: 3600,
            permissions_boundary: None,
        }
    }
}

/// A policy's ARN: itself, or a name under `arn:PARTITION:iam::aws:policy/`.
fn policy_arn(ctx: &Ctx, name_or_arn: &str) -> String {
    if name_or_arn.starts_with("arn:") {
        name_or_arn.to_string()
    } else {
        managed_policy(ctx, name_or_arn)
    }
}

impl Handle<Role> {
    /// The role's ARN.
    pub fn arn(&self) -> Output<String> {
        self.output("arn")
    }
}

impl Role {
    async fn read_named(cx: &Cx, name: &str) -> Result<Read> {
        if !cx
            .may_exist(RoleProvider.kind(), name, |ask| list_roles(cx, ask))
            .await
        {
            return Ok(Read::Missing);
        }
        let name = name.to_string();
        // The attachments only of a role that exists: IAM's request quota is
        // the scarce thing at scale (a fresh stack's roles do not exist
        // yet), a round trip less so.
        let role = cx.aws.iam.get_role().role_name(&name).send().await;
        let role = match role {
            Ok(r) => r.role,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_no_such_entity_exception()) =>
            {
                None
            }
            Err(e) => return Err(Error::aws(format!("get IAM role {name}"), e)),
        };
        let Some(role) = role else {
            return Ok(Read::Missing);
        };
        let trust: Value = role
            .assume_role_policy_document
            .as_deref()
            .map(|d| {
                urlencoding::decode(d)
                    .map(|c| c.into_owned())
                    .unwrap_or_else(|_| d.to_string())
            })
            .and_then(|d| serde_json::from_str(&d).ok())
            .unwrap_or(Value::Null);
        let attached = cx
            .aws
            .iam
            .list_attached_role_policies()
            .role_name(&name)
            .send()
            .await;
        let attached = match attached {
            Ok(a) => a.attached_policies.unwrap_or_default(),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_no_such_entity_exception()) =>
            {
                return Ok(Read::Missing)
            }
            Err(e) => return Err(Error::aws("list attached role policies", e)),
        };
        let policies = sorted(attached.into_iter().filter_map(|p| p.policy_arn).collect());
        let tags = role
            .tags
            .unwrap_or_default()
            .into_iter()
            .map(|t| (t.key, t.value));
        // Right after CreateRole, IAM can briefly report the role's unique ID
        // (AROA...) where its ARN belongs; the ARN is deterministic, so build
        // it rather than pass an ID to Lambda or record a perpetual diff.
        let arn = if role.arn.starts_with("arn:") {
            role.arn.clone()
        } else {
            cx.ctx.arn(
                "iam",
                "",
                &cx.ctx.account,
                &format!("role{}{name}", role.path),
            )
        };
        let mut outputs = BTreeMap::new();
        outputs.insert("arn".into(), arn);
        outputs.insert("id".into(), name.clone());
        // The role's unique ID (AROA...): a role deleted and made again
        // under the same name has another, and what was granted to the old
        // one (Lambda's KMS grant for a function's environment) is void.
        outputs.insert("role_id".into(), role.role_id.clone());
        Ok(Read::Found(Observed {
            id: name.clone(),
            props: props(json!({
                "name": name, "trust": trust, "policies": policies, "tags": tags_value(tags),
                "path": role.path,
                "description": role.description.clone().unwrap_or_default(),
                "max_session_seconds": role.max_session_duration.unwrap_or(3600),
                "permissions_boundary": role.permissions_boundary.as_ref().and_then(|b| b.permissions_boundary_arn.clone()),
            })),
            outputs,
        }))
    }
}

#[async_trait::async_trait]
impl Kind for Role {
    fn provider(&self) -> Arc<dyn Provider> {
        Arc::new(RoleProvider)
    }
    fn replace_on(&self) -> &'static [&'static str] {
        &["name", "path"]
    }
    fn deps(&self) -> Vec<String> {
        vec![]
    }
    fn desired(&self, ctx: &Ctx, _k: &Known) -> Desired {
        // Sorted, as `read` lists them (IAM keeps no order).
        let policies: Vec<String> = sorted(
            self.managed_policies
                .iter()
                .map(|p| managed_policy(ctx, p))
                .collect(),
        );
        props(json!({
            "name": self.name,
            "trust": trust_policy(&self.service),
            "policies": policies,
            "tags": tags_value(ctx.tags.clone()),
            "path": if self.path.is_empty() { "/" } else { self.path.as_str() },
            "description": self.description,
            "max_session_seconds": self.max_session_seconds,
            "permissions_boundary": self.permissions_boundary.as_deref().map(|b| policy_arn(ctx, b)),
        }))
        .into()
    }
    async fn read(&self, cx: &Cx, prior: &Prior) -> Result<Read> {
        for name in names_to_read(&self.name, prior) {
            if let Read::Found(o) = Self::read_named(cx, &name).await? {
                return Ok(Read::Found(o));
            }
        }
        Ok(Read::Missing)
    }
    async fn create(&self, cx: &Cx, d: &Props, k: &Known) -> Result<Observed> {
        let name = self.name.clone();
        let tags = string_map(d, "tags")
            .into_iter()
            .map(|(k, v)| aws_sdk_iam::types::Tag::builder().key(k).value(v).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::Other(e.to_string()))?;
        match cx
            .aws
            .iam
            .create_role()
            .role_name(&name)
            .assume_role_policy_document(d["trust"].to_string())
            .set_tags(Some(tags))
            .path(s(d, "path"))
            .set_description(Some(s(d, "description")).filter(|x| !x.is_empty()))
            .set_max_session_duration(
                d.get("max_session_seconds")
                    .and_then(|v| v.as_i64())
                    .map(|v| v as i32),
            )
            .set_permissions_boundary(
                d.get("permissions_boundary")
                    .and_then(|v| v.as_str())
                    .map(String::from),
            )
            .send()
            .await
        {
            // Made now, with what was asked and nothing attached: no read
            // back (a new role is invisible to GetRole for a moment, and the
            // ARN CreateRole answers is the role's). The attachments follow.
            Ok(r) => {
                if let Some(role) = r.role {
                    let mut created = d.clone();
                    created.insert("policies".into(), json!([]));
                    let o = Observed {
                        id: name.clone(),
                        props: created,
                        outputs: [
                            ("arn".to_string(), role.arn),
                            ("id".to_string(), name.clone()),
                            ("role_id".to_string(), role.role_id),
                        ]
                        .into(),
                    };
                    return self.update(cx, d, &o, k).await;
                }
            }
            // Unique name: adopt it (lost state entry, interrupted run).
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_entity_already_exists_exception()) => {}
            Err(e) => return Err(Error::aws(format!("create IAM role {name}"), e)),
        }
        // Found under its name: read it back (it may be another's, and a
        // role made a moment ago is invisible to GetRole for a while).
        let found = crate::aws::with_backoff(
            "read back the new IAM role",
            Duration::from_secs(60),
            |e: &Option<Error>| e.is_none(),
            || async {
                match Self::read_named(cx, &name).await {
                    Ok(Read::Found(o)) => Ok(o),
                    Ok(_) => Err(None),
                    Err(e) => Err(Some(e)),
                }
            },
        )
        .await;
        match found {
            Ok(o) => {
                cx.ctx.ensure_ours("IAM role", &o)?;
                self.update(cx, d, &o, k).await
            }
            Err(Some(e)) => Err(e),
            Err(None) => Err(Error::Other(format!(
                "IAM role {name} is still not visible a minute after it was created; run `deployer up` again"
            ))),
        }
    }
    async fn update(&self, cx: &Cx, d: &Props, o: &Observed, _k: &Known) -> Result<Observed> {
        let name = &o.id;
        if d.get("trust") != o.props.get("trust") {
            cx.aws
                .iam
                .update_assume_role_policy()
                .role_name(name)
                .policy_document(d["trust"].to_string())
                .send()
                .await
                .map_err(ctx_err("update role trust policy"))?;
        }
        if d.get("description") != o.props.get("description")
            || d.get("max_session_seconds") != o.props.get("max_session_seconds")
        {
            let u = cx.aws.iam.update_role().role_name(name);
            u.description(s(d, "description"))
                .set_max_session_duration(
                    d.get("max_session_seconds")
                        .and_then(|v| v.as_i64())
                        .map(|v| v as i32),
                )
                .send()
                .await
                .map_err(ctx_err("update role"))?;
        }
        if d.get("permissions_boundary") != o.props.get("permissions_boundary") {
            match d.get("permissions_boundary").and_then(|v| v.as_str()) {
                Some(arn) => {
                    let p = cx.aws.iam.put_role_permissions_boundary().role_name(name);
                    p.permissions_boundary(arn)
                        .send()
                        .await
                        .map_err(ctx_err("set the role's permissions boundary"))?;
                }
                None => {
                    let p = cx
                        .aws
                        .iam
                        .delete_role_permissions_boundary()
                        .role_name(name);
                    p.send()
                        .await
                        .map_err(ctx_err("remove the role's permissions boundary"))?;
                }
            }
        }
        let want = strings(d, "policies");
        let have = strings(&o.props, "policies");
        // A role made a moment ago may not be found yet (IAM is eventually
        // consistent): retried, as terraform-provider-aws retries IAM's
        // NoSuchEntity within its propagation timeout.
        let attach = want.iter().filter(|p| !have.contains(p)).map(|p| {
            crate::aws::with_backoff(
                "the new role to be visible to IAM",
                Duration::from_secs(60),
                |e: &aws_sdk_iam::error::SdkError<
                    aws_sdk_iam::operation::attach_role_policy::AttachRolePolicyError,
                    _,
                >| {
                    // The role's absence, not the policy's ("Policy ... does
                    // not exist or is not attachable": a mistake, said now).
                    e.as_service_error().is_some_and(|s| {
                        s.is_no_such_entity_exception()
                            && s.meta()
                                .message()
                                .is_some_and(|m| m.contains("role with name"))
                    })
                },
                move || {
                    cx.aws
                        .iam
                        .attach_role_policy()
                        .role_name(name)
                        .policy_arn(p)
                        .send()
                },
            )
        });
        for (p, r) in want
            .iter()
            .filter(|p| !have.contains(p))
            .zip(futures::future::join_all(attach).await)
        {
            r.map_err(ctx_err(format!("attach {p}")))?;
        }
        for p in have.iter().filter(|p| !want.contains(p)) {
            cx.aws
                .iam
                .detach_role_policy()
                .role_name(name)
                .policy_arn(p)
                .send()
                .await
                .map_err(ctx_err(format!("detach {p}")))?;
        }
        if d.get("tags") != o.props.get("tags") {
            let want = string_map(d, "tags");
            let stale = stale_tags(d, &o.props);
            if !stale.is_empty() {
                cx.aws
                    .iam
                    .untag_role()
                    .role_name(name)
                    .set_tag_keys(Some(stale))
                    .send()
                    .await
                    .map_err(ctx_err("untag role"))?;
            }
            let tags = want
                .into_iter()
                .map(|(k, v)| aws_sdk_iam::types::Tag::builder().key(k).value(v).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| Error::Other(e.to_string()))?;
            cx.aws
                .iam
                .tag_role()
                .role_name(name)
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(ctx_err("tag role"))?;
        }
        Ok(Observed {
            props: d.clone(),
            ..o.clone()
        })
    }
}

/// Every role of the account (ListRoles: 1,000 a call, no filter by name),
/// within `ask.budget` calls (`crate::listing`).
async fn list_roles(cx: &Cx, ask: crate::listing::Ask) -> Result<Option<crate::listing::Listed>> {
    let mut names = BTreeSet::new();
    let mut marker = None;
    for _ in 0..ask.budget {
        let page = cx
            .aws
            .iam
            .list_roles()
            .max_items(1000)
            .set_marker(marker)
            .send()
            .await
            .map_err(ctx_err("list IAM roles"))?;
        names.extend(page.roles.into_iter().map(|r| r.role_name));
        marker = page.marker.filter(|_| page.is_truncated);
        if marker.is_none() {
            return Ok(Some(crate::listing::Listed {
                prefix: String::new(),
                names,
                ..Default::default()
            }));
        }
    }
    Ok(None)
}

/// Every function of the region (ListFunctions: 50 a call, no filter by
/// name), within `ask.budget` calls (`crate::listing`).
async fn list_functions(
    cx: &Cx,
    ask: crate::listing::Ask,
) -> Result<Option<crate::listing::Listed>> {
    let mut names = BTreeSet::new();
    let mut marker = None;
    for _ in 0..ask.budget {
        let page = cx
            .aws
            .lambda
            .list_functions()
            .max_items(50)
            .set_marker(marker)
            .send()
            .await
            .map_err(ctx_err("list functions"))?;
        names.extend(
            page.functions
                .unwrap_or_default()
                .into_iter()
                .filter_map(|f| f.function_name),
        );
        marker = page.next_marker.filter(|m| !m.is_empty());
        if marker.is_none() {
            return Ok(Some(crate::listing::Listed {
                prefix: String::new(),
                names,
                ..Default::default()
            }));
        }
    }
    Ok(None)
}

/// Reads and deletes [`Role`]s by ID.
pub struct RoleProvider;

#[async_trait::async_trait]
impl Provider for RoleProvider {
    fn kind(&self) -> &'static str {
        "aws:iam:Role"
    }
    async fn read(&self, cx: &Cx, id: &str, _parent: Option<&str>) -> Result<Read> {
        Role::read_named(cx, id).await
    }
    async fn delete(&self, cx: &Cx, id: &str, _p: Option<&str>) -> Result<()> {
        // Its inline policies go with it (IAM refuses to delete a role that
        // has any): the stack's own are deleted before as resources of their
        // own; one put by hand would block the delete forever. Both lists at
        // once, then every detach and delete at once: two round trips.
        let (attached, inline) = tokio::join!(
            cx.aws
                .iam
                .list_attached_role_policies()
                .role_name(id)
                .send(),
            cx.aws.iam.list_role_policies().role_name(id).send()
        );
        let gone =
            |e: &aws_sdk_iam::Error| matches!(e, aws_sdk_iam::Error::NoSuchEntityException(_));
        let attached = match attached.map_err(aws_sdk_iam::Error::from) {
            Ok(a) => a.attached_policies.unwrap_or_default(),
            Err(e) if gone(&e) => return Ok(()),
            Err(e) => return Err(Error::aws("list attached role policies", e)),
        };
        let inline = match inline.map_err(aws_sdk_iam::Error::from) {
            Ok(l) => l.policy_names,
            Err(e) if gone(&e) => return Ok(()),
            Err(e) => return Err(Error::aws("list inline role policies", e)),
        };
        let deletes = inline.iter().map(|name| async move {
            ok_if_gone(
                cx.aws
                    .iam
                    .delete_role_policy()
                    .role_name(id)
                    .policy_name(name)
                    .send()
                    .await,
                |s| s.is_no_such_entity_exception(),
                format!("delete inline policy {name} of role {id}"),
            )
        });
        let detaches = attached
            .into_iter()
            .filter_map(|p| p.policy_arn)
            .map(|p| async move {
                ok_if_gone(
                    cx.aws
                        .iam
                        .detach_role_policy()
                        .role_name(id)
                        .policy_arn(&p)
                        .send()
                        .await,
                    |s| s.is_no_such_entity_exception(),
                    format!("detach {p}"),
                )
            });
        let (deleted, detached) = tokio::join!(
            futures::future::join_all(deletes),
            futures::future::join_all(detaches)
        );
        for r in deleted.into_iter().chain(detached) {
            r?;
        }
        // Right after the detach, IAM can still answer DeleteConflict.
        let r = crate::aws::with_backoff(
            "delete IAM role (policies still being detached)",
            Duration::from_secs(60),
            |e: &aws_sdk_iam::error::SdkError<
                aws_sdk_iam::operation::delete_role::DeleteRoleError,
                _,
            >| {
                e.as_service_error()
                    .is_some_and(|s| s.is_delete_conflict_exception())
            },
            || cx.aws.iam.delete_role().role_name(id).send(),
        )
        .await;
        match r {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_no_such_entity_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(Error::aws(format!("delete IAM role {id}"), e)),
        }
    }
}

// ---------------------------------------------------------------- function

/// A Lambda function running the run's Rust package (`provided.al2023`,
/// `bootstrap`).
pub struct Function {
    /// Its name (unique in the account and region).
    pub name: String,
    /// Its code: the run's handler package (the default), a crate of the
    /// workspace (`Code::krate("orders")`), or a zip. An unchanged crate
    /// builds the same bytes, so its function's code is not updated.
    pub code: crate::package::Code,
    /// The execution role's ARN.
    pub role: Input<String>,
    /// The CPU it runs on.
    pub architecture: Architecture,
    /// Environment variables; a secret input is never shown in a plan.
    pub environment: BTreeMap<String, Input<String>>,
    /// How long one invocation may run, in seconds.
    pub timeout_seconds: i32,
    /// Its memory in MB (CPU grows with it).
    pub memory_mb: i32,
    /// Its description (empty: none).
    pub description: String,
    /// Its `/tmp` in MB (512 to 10240).
    pub ephemeral_storage_mb: i32,
    /// Concurrent executions reserved for it, and its ceiling (`None`:
    /// none reserved, the account's pool).
    pub reserved_concurrency: Option<i32>,
    /// X-Ray tracing of its invocations.
    pub tracing: Tracing,
    /// How it logs: the format, levels and log group.
    pub logging: Logging,
    /// Layer version ARNs (`arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION`),
    /// at most five, in the order Lambda unpacks them into `/opt` (a later
    /// one's files over an earlier one's). Empty: none.
    pub layers: Vec<Input<String>>,
}

/// A function's X-Ray tracing.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub enum Tracing {
    /// Traced only when the caller's request is.
    #[default]
    PassThrough,
    /// Every invocation sampled and traced.
    Active,
}

/// A function's logging configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Logging {
    /// JSON lines (with levels) instead of plain text.
    pub json: bool,
    /// With `json`: the lowest level of the function's own lines that is
    /// kept (`TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR`, `FATAL`; empty:
    /// `INFO`, which Lambda stores and reports when none is sent).
    pub application_level: String,
    /// With `json`: the lowest level of Lambda's own lines (`DEBUG`,
    /// `INFO`, `WARN`; empty: `INFO`, as Lambda stores it).
    pub system_level: String,
    /// The log group (empty: `/aws/lambda/NAME`).
    pub log_group: String,
}

/// A function's timeout by default, in seconds.
pub const TIMEOUT_SECONDS: i32 = 10;
/// A function's memory by default, in MB.
pub const MEMORY_MB: i32 = 128;

impl Function {
    /// A function of `name` running the handler package as `role`, with the default timeout, memory and architecture and no environment.
    ///
    /// ```
    /// use deployer::model::Handle;
    /// use deployer::package::Code;
    /// use deployer::resources::lambda::{Function, Role};
    /// let role = Handle::<Role>::new("role");
    /// let mut f = Function::new("orders", role.arn());
    /// f.code = Code::krate("orders"); // the crate `orders` of the workspace
    /// f.memory_mb = 256;
    /// f.environment.insert("TABLE".into(), "orders".into());
    /// ```
    pub fn new(name: impl Into<String>, role: Input<String>) -> Self {
        Function {
            name: name.into(),
            code: crate::package::Code::Handler,
            role,
            architecture: Architecture::default(),
            environment: BTreeMap::new(),
            timeout_seconds: TIMEOUT_SECONDS,
            memory_mb: MEMORY_MB,
            description: String::new(),
            ephemeral_storage_mb: 512,
            reserved_concurrency: None,
            tracing: Tracing::default(),
            logging: Logging::default(),
            layers: vec![],
        }
    }
}

/// A function's logging settings as a setting's value (the log group
/// `/aws/lambda/NAME` when none is named; levels only with JSON, `INFO`
/// where none is named: Lambda stores and reports `INFO` for a level it is
/// not sent, so an empty one would be planned as a change on every run;
/// terraform-provider-aws#35301).
fn logging_value(name: &str, json_format: bool, app: &str, system: &str, group: &str) -> Value {
    let group = if group.is_empty() {
        format!("/aws/lambda/{name}")
    } else {
        group.to_string()
    };
    let level = |l: &str| match (json_format, l.is_empty()) {
        (false, _) => String::new(),
        (true, true) => "INFO".to_string(),
        (true, false) => l.to_ascii_uppercase(),
    };
    json!({
        "format": if json_format { "JSON" } else { "Text" },
        "application_level": level(app),
        "system_level": level(system),
        "log_group": group,
    })
}

/// The SDK's logging configuration from a setting's value.
fn logging_config(d: &Props) -> aws_sdk_lambda::types::LoggingConfig {
    use aws_sdk_lambda::types::{ApplicationLogLevel, LogFormat, SystemLogLevel};
    let l = d.get("logging").cloned().unwrap_or_default();
    let text = |k: &str| l[k].as_str().unwrap_or_default().to_string();
    let json_format = text("format") == "JSON";
    aws_sdk_lambda::types::LoggingConfig::builder()
        .log_format(LogFormat::from(text("format").as_str()))
        .set_application_log_level(
            Some(text("application_level"))
                .filter(|v| json_format && !v.is_empty())
                .map(|v| ApplicationLogLevel::from(v.as_str())),
        )
        .set_system_log_level(
            Some(text("system_level"))
                .filter(|v| json_format && !v.is_empty())
                .map(|v| SystemLogLevel::from(v.as_str())),
        )
        .log_group(text("log_group"))
        .build()
}

fn tracing_config(d: &Props) -> aws_sdk_lambda::types::TracingConfig {
    aws_sdk_lambda::types::TracingConfig::builder()
        .mode(aws_sdk_lambda::types::TracingMode::from(
            s(d, "tracing").as_str(),
        ))
        .build()
}

fn ephemeral_storage(d: &Props) -> Option<aws_sdk_lambda::types::EphemeralStorage> {
    let mb = d.get("ephemeral_storage_mb")?.as_i64()? as i32;
    aws_sdk_lambda::types::EphemeralStorage::builder()
        .size(mb)
        .build()
        .ok()
}

impl Handle<Function> {
    /// The function's ARN.
    pub fn arn(&self) -> Output<String> {
        self.output("arn")
    }
    /// The function's name (its ID).
    pub fn name(&self) -> Output<String> {
        self.id()
    }
}

impl Function {
    /// The unique ID of the role its `role` input reads, as `k` knows it
    /// (`None` while unknown; empty for a role not declared in the stack).
    fn role_id(&self, k: &Known) -> Option<String> {
        match self.role.deps().first() {
            Some(role) => k.get(role, "role_id"),
            None => Some(String::new()),
        }
    }

    async fn get(cx: &Cx, name: &str) -> Result<Option<Observed>> {
        Ok(Self::get_function(cx, name)
            .await?
            .and_then(|f| Self::observed(name, f)))
    }

    async fn get_function(cx: &Cx, name: &str) -> Result<Option<GetFunctionOutput>> {
        if !name.contains(':')
            && !cx
                .may_exist(FunctionProvider.kind(), name, |ask| list_functions(cx, ask))
                .await
        {
            return Ok(None);
        }
        match cx
            .aws
            .lambda
            .get_function()
            .function_name(name)
            .send()
            .await
        {
            Ok(f) => Ok(Some(f)),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(Error::aws(format!("get function {name}"), e)),
        }
    }

    /// Reads the function until `settled` says its state has settled
    /// (`Ok(true)`; an error for a failed one), and answers that read: at
    /// once, then every 0.5 s for 10 s (a new function is Active within
    /// seconds; the SDK's waiters back off to 2, 4, 8 s and overshot by up
    /// to 2 s), then every 2 s, within 5 minutes.
    async fn poll(
        cx: &Cx,
        name: &str,
        what: &str,
        settled: impl Fn(&aws_sdk_lambda::types::FunctionConfiguration) -> Result<bool>,
    ) -> Result<Observed> {
        let start = std::time::Instant::now();
        loop {
            let f = Self::get_function(cx, name).await?.ok_or_else(|| {
                Error::Other(format!("function {name} vanished while waiting for {what}"))
            })?;
            if settled(f.configuration.as_ref().ok_or_else(|| {
                Error::Other(format!(
                    "function {name}: GetFunction answered no configuration"
                ))
            })?)? {
                return Self::observed(name, f)
                    .ok_or_else(|| Error::Other(format!("function {name} vanished")));
            }
            if start.elapsed() > WAIT {
                return Err(Error::Other(format!(
                    "function {name}: still waiting for {what} after {} s; run `deployer up` again",
                    WAIT.as_secs()
                )));
            }
            crate::aws::note_wait(what);
            let every = if start.elapsed() < Duration::from_secs(10) {
                500
            } else {
                2000
            };
            tokio::time::sleep(Duration::from_millis(every)).await;
        }
    }

    /// Waits for a new function to become Active.
    async fn wait_active(cx: &Cx, name: &str) -> Result<Observed> {
        use aws_sdk_lambda::types::State;
        Self::poll(cx, name, "the function to become Active", |c| {
            match c.state() {
                Some(State::Active) | None => Ok(true),
                Some(State::Failed) => Err(Error::Other(format!(
                    "function {name} failed to become Active: {}",
                    c.state_reason().unwrap_or("no reason given")
                ))),
                _ => Ok(false),
            }
        })
        .await
    }

    fn observed(name: &str, f: GetFunctionOutput) -> Option<Observed> {
        let c = f.configuration?;
        let env: BTreeMap<String, String> = c
            .environment
            .and_then(|e| e.variables)
            .map(|v| v.into_iter().collect())
            .unwrap_or_default();
        let mut outputs = BTreeMap::new();
        outputs.insert("arn".into(), c.function_arn.clone().unwrap_or_default());
        outputs.insert("id".into(), name.to_string());
        let lc = c.logging_config.as_ref();
        let logging = logging_value(
            name,
            lc.and_then(|l| l.log_format.as_ref())
                .is_some_and(|f| f.as_str() == "JSON"),
            lc.and_then(|l| l.application_log_level.as_ref())
                .map(|v| v.as_str())
                .unwrap_or_default(),
            lc.and_then(|l| l.system_log_level.as_ref())
                .map(|v| v.as_str())
                .unwrap_or_default(),
            lc.and_then(|l| l.log_group.as_deref()).unwrap_or_default(),
        );
        Some(Observed {
            id: name.to_string(),
            props: props(json!({
                "name": name,
                "runtime": c.runtime.as_ref().map(|r| r.as_str()).unwrap_or_default(),
                "handler": c.handler.unwrap_or_default(),
                "role": c.role.unwrap_or_default(),
                "architecture": c.architectures.unwrap_or_default().first().map(|a| a.as_str().to_string()).unwrap_or_else(|| "x86_64".into()),
                "code_sha256": c.code_sha256.unwrap_or_default(),
                "environment": tags_value(env),
                "timeout": c.timeout.unwrap_or_default(),
                "memory": c.memory_size.unwrap_or_default(),
                "tags": tags_value(f.tags.unwrap_or_default()),
                "description": c.description.unwrap_or_default(),
                "ephemeral_storage_mb": c.ephemeral_storage.map(|e| e.size).unwrap_or(512),
                "reserved_concurrency": f.concurrency.and_then(|x| x.reserved_concurrent_executions),
                "tracing": c.tracing_config.and_then(|t| t.mode).map(|m| m.as_str().to_string()).unwrap_or("PassThrough".into()),
                "logging": logging,
                "layers": c.layers.unwrap_or_default().into_iter().filter_map(|l| l.arn).collect::<Vec<_>>(),
            })),
            outputs,
        })
    }

    fn package(&self, cx: &Cx) -> Result<Arc<Package>> {
        cx.ctx.package_of(&self.code).ok_or_else(|| {
            Error::Other(format!(
                "function {}: {} was not built for this run",
                self.name, self.code
            ))
        })
    }

    /// Reserves `n` concurrent executions (PutFunctionConcurrency), or
    /// none (DeleteFunctionConcurrency).
    async fn set_concurrency(cx: &Cx, name: &str, n: Option<i32>) -> Result<()> {
        match n {
            Some(n) => {
                let r = cx.aws.lambda.put_function_concurrency().function_name(name);
                r.reserved_concurrent_executions(n)
                    .send()
                    .await
                    .map_err(ctx_err(format!("reserve concurrency of function {name}")))?;
            }
            None => {
                let r = cx
                    .aws
                    .lambda
                    .delete_function_concurrency()
                    .function_name(name);
                r.send().await.map_err(ctx_err(format!(
                    "release the concurrency of function {name}"
                )))?;
            }
        }
        Ok(())
    }

    async fn wait_updated(cx: &Cx, name: &str) -> Result<Observed> {
        use aws_sdk_lambda::types::LastUpdateStatus as L;
        Self::poll(
            cx,
            name,
            "the function update to finish (LastUpdateStatus)",
            |c| match c.last_update_status() {
                Some(L::Successful) | None => Ok(true),
                Some(L::Failed) => Err(Error::Other(format!(
                    "function {name}: the update failed (LastUpdateStatus=Failed): {}",
                    c.last_update_status_reason().unwrap_or("no reason given")
                ))),
                _ => Ok(false),
            },
        )
        .await
    }
}

/// True for Lambda's answer while a new role is not assumable yet (IAM propagation), by code and message.
pub fn role_not_assumable(
    e: &aws_sdk_lambda::operation::create_function::CreateFunctionError,
) -> bool {
    match e {
        aws_sdk_lambda::operation::create_function::CreateFunctionError::InvalidParameterValueException(x) => {
            crate::aws::is_role_not_assumable(x.message())
        }
        _ => false,
    }
}

/// The role-propagation answers of `role_not_assumable`, for
/// UpdateFunctionConfiguration (a function moved to a new role).
pub fn config_role_not_assumable(
    e: &aws_sdk_lambda::operation::update_function_configuration::UpdateFunctionConfigurationError,
) -> bool {
    match e {
        aws_sdk_lambda::operation::update_function_configuration::UpdateFunctionConfigurationError::InvalidParameterValueException(x) => {
            crate::aws::is_role_not_assumable(x.message())
        }
        _ => false,
    }
}

#[async_trait::async_trait]
impl Kind for Function {
    fn provider(&self) -> Arc<dyn Provider> {
        Arc::new(FunctionProvider)
    }
    fn preflight(&self, key: &str, p: &Preflight) -> Vec<String> {
        let mut refused = vec![];
        // Active tracing: Lambda refuses a role that may not send traces
        // ("The provided execution role does not have permissions to call
        // PutTraceSegments on XRAY"; https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html).
        // Known when the role is the program's own.
        if self.tracing == Tracing::Active {
            for role_key in self.role.deps() {
                let Some(role) = p.declared.get(role_key) else {
                    continue;
                };
                if role.kind != "aws:iam:Role" {
                    continue;
                }
                let inline: Vec<&Value> = p
                    .of_kind("aws:iam:RolePolicy")
                    .filter(|(_, rp)| rp.deps.contains(role_key))
                    .filter_map(|(_, rp)| rp.desired.props.get("policy"))
                    .collect();
                if !allows_xray(&strings(&role.desired.props, "policies"), &inline) {
                    refused.push(format!(
                        "`{key}` ({}) traces with X-Ray (Tracing::Active), but its role `{role_key}` may not send traces: Lambda refuses it (\"The provided execution role does not have permissions to call PutTraceSegments on XRAY\"). Add `{XRAY_WRITE}` to the role's managed_policies, or a RolePolicy of that role allowing xray:PutTraceSegments and xray:PutTelemetryRecords",
                        self.name
                    ));
                }
            }
        }
        // Reserved concurrency: Lambda keeps 100 of the account's
        // concurrency unreserved (all of it below 100).
        // The program's reservations are added up once, by the first
        // function (by key) that reserves more than it has.
        if let Some(unreserved) = p.facts.lambda_unreserved {
            let more = |k: &str, pl: &Planned| {
                let want = pl
                    .desired
                    .props
                    .get("reserved_concurrency")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                let have = p
                    .observed(k)
                    .and_then(|o| o.get("reserved_concurrency"))
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                want - have
            };
            let growing: Vec<(&String, i64)> = p
                .of_kind("aws:lambda:Function")
                .map(|(k, pl)| (k, more(k, pl)))
                .filter(|(_, m)| *m > 0)
                .collect();
            let added: i64 = p
                .of_kind("aws:lambda:Function")
                .map(|(k, pl)| more(k, pl))
                .sum();
            let minimum = unreserved_minimum(p.facts.lambda_limit);
            if growing.first().is_some_and(|(k, _)| k.as_str() == key)
                && unreserved - added < minimum
            {
                refused.push(format!(
                    "the program reserves {added} more concurrent executions ({}), but the account has {unreserved} unreserved and Lambda keeps at least {minimum} unreserved: PutFunctionConcurrency would be refused. Reserve less, or ask AWS for a higher concurrency quota (Service Quotas: Lambda, Concurrent executions; a new account has 10, and Lambda keeps 100 unreserved once it has more)",
                    growing.iter().map(|(k, m)| format!("{k} +{m}")).collect::<Vec<_>>().join(", ")
                ));
            }
        }
        refused
    }
    fn code(&self) -> Option<crate::package::Code> {
        Some(self.code.clone())
    }
    fn replace_on(&self) -> &'static [&'static str] {
        &["name"]
    }
    fn deps(&self) -> Vec<String> {
        deps_of(
            std::iter::once(self.role.deps())
                .chain(self.environment.values().map(|v| v.deps()))
                .chain(self.layers.iter().map(|l| l.deps())),
        )
    }
    fn sensitive(&self) -> BTreeSet<String> {
        self.environment
            .iter()
            .filter(|(_, v)| v.is_secret())
            .map(|(k, _)| format!("environment.{k}"))
            .collect()
    }
    fn desired(&self, ctx: &Ctx, k: &Known) -> Desired {
        let mut i = Inputs::new(ctx, k);
        let env: BTreeMap<String, String> = self
            .environment
            .iter()
            .map(|(n, v)| (n.clone(), i.get(&format!("environment.{n}"), v)))
            .collect();
        let v = json!({
            "name": self.name,
            "runtime": "provided.al2023",
            "handler": "bootstrap",
            "role": i.get("role", &self.role),
            "architecture": self.architecture.as_str(),
            "code_sha256": i.value("code_sha256", ctx.package_of(&self.code).map(|p| p.sha256_b64.clone())),
            "environment": env,
            "timeout": self.timeout_seconds,
            "memory": self.memory_mb,
            "tags": tags_value(ctx.tags.clone()),
            "role_id": i.value("role_id", self.role_id(k)),
            "description": self.description,
            "ephemeral_storage_mb": self.ephemeral_storage_mb,
            "reserved_concurrency": self.reserved_concurrency,
            "tracing": match self.tracing {
                Tracing::PassThrough => "PassThrough",
                Tracing::Active => "Active",
            },
            "logging": logging_value(
                &self.name,
                self.logging.json,
                &self.logging.application_level,
                &self.logging.system_level,
                &self.logging.log_group,
            ),
            // In order: the order is how Lambda stacks them.
            "layers": i.list("layers", &self.layers),
        });
        i.finish(v)
    }
    async fn read(&self, cx: &Cx, prior: &Prior) -> Result<Read> {
        let mut found = None;
        for name in names_to_read(&self.name, prior) {
            found = Self::get(cx, &name).await?;
            if found.is_some() {
                break;
            }
        }
        Ok(match found {
            Some(mut o) => {
                // Lambda does not report which role incarnation its grant
                // names: the one this stack configured it with is recorded
                // (else the role's, as recorded).
                let configured = prior
                    .outputs
                    .get("role_id")
                    .cloned()
                    .or_else(|| self.role_id(&prior.known))
                    .unwrap_or_default();
                o.props.insert("role_id".into(), json!(configured));
                o.outputs.insert("role_id".into(), configured);
                Read::Found(o)
            }
            None => Read::Missing,
        })
    }
    async fn create(&self, cx: &Cx, d: &Props, k: &Known) -> Result<Observed> {
        let name = self.name.clone();
        let pkg = self.package(cx)?;
        let env = Environment::builder()
            .set_variables(Some(string_map(d, "environment").into_iter().collect()))
            .build();
        // A new role is not assumable by Lambda for several seconds.
        let r = crate::aws::with_backoff(
            "the role to be assumable by Lambda",
            Duration::from_secs(120),
            |e: &aws_sdk_lambda::error::SdkError<
                aws_sdk_lambda::operation::create_function::CreateFunctionError,
                _,
            >| { e.as_service_error().is_some_and(role_not_assumable) },
            || {
                cx.aws
                    .lambda
                    .create_function()
                    .function_name(&name)
                    .runtime(Runtime::from(s(d, "runtime").as_str()))
                    .handler(s(d, "handler"))
                    .role(s(d, "role"))
                    .architectures(LArch::from(s(d, "architecture").as_str()))
                    .code(
                        FunctionCode::builder()
                            .zip_file(Blob::new(pkg.zip.clone()))
                            .build(),
                    )
                    .environment(env.clone())
                    .timeout(self.timeout_seconds)
                    .memory_size(self.memory_mb)
                    .set_description(Some(s(d, "description")).filter(|x| !x.is_empty()))
                    .set_ephemeral_storage(ephemeral_storage(d))
                    .tracing_config(tracing_config(d))
                    .logging_config(logging_config(d))
                    .set_layers(Some(strings(d, "layers")).filter(|l| !l.is_empty()))
                    .set_tags(Some(string_map(d, "tags").into_iter().collect()))
                    .send()
            },
        )
        .await;
        match r {
            Ok(_) => {}
            // Unique name: adopt the function an interrupted run created.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_conflict_exception()) =>
            {
                if let Some(o) = Self::get(cx, &name).await? {
                    cx.ctx.ensure_ours("function", &o)?;
                    return self.update(cx, d, &o, k).await;
                }
                return Err(Error::aws(format!("create function {name}"), e));
            }
            Err(e) => {
                let hint = if e.as_service_error().is_some_and(role_not_assumable) {
                    " (the role is still not assumable after 2 minutes: run `deployer up` again)"
                } else {
                    ""
                };
                return Err(Error::aws(format!("create function {name}{hint}"), e));
            }
        }
        // Lambda changes a function only once it is Active (a Pending one
        // answers ResourceConflictException).
        let mut o = Self::wait_active(cx, &name).await?;
        if let Some(n) = d.get("reserved_concurrency").and_then(|v| v.as_i64()) {
            Self::set_concurrency(cx, &name, Some(n as i32)).await?;
            o.props.insert("reserved_concurrency".into(), json!(n));
        }
        o.props.insert("role_id".into(), json!(s(d, "role_id")));
        o.outputs.insert("role_id".into(), s(d, "role_id"));
        Ok(o)
    }
    async fn update(&self, cx: &Cx, d: &Props, o: &Observed, _k: &Known) -> Result<Observed> {
        let name = o.id.clone();
        let changed = diff(d, &o.props);
        let code_changed = changed
            .iter()
            .any(|k| k == "code_sha256" || k == "architecture");
        let config_changed = changed.iter().any(|k| {
            [
                "runtime",
                "handler",
                "role",
                // The same role ARN sent again: Lambda grants the new role.
                "role_id",
                "environment",
                "timeout",
                "memory",
                "description",
                "ephemeral_storage_mb",
                "tracing",
                "logging",
                "layers",
            ]
            .contains(&k.as_str())
        });
        if code_changed {
            let pkg = self.package(cx)?;
            crate::aws::with_backoff(
                "update function code",
                WAIT,
                update_in_progress!(update_function_code, UpdateFunctionCodeError),
                || {
                    cx.aws
                        .lambda
                        .update_function_code()
                        .function_name(&name)
                        .zip_file(Blob::new(pkg.zip.clone()))
                        .architectures(LArch::from(s(d, "architecture").as_str()))
                        .send()
                },
            )
            .await
            .map_err(ctx_err(format!("update code of function {name}")))?;
            Self::wait_updated(cx, &name).await?;
        }
        if config_changed {
            // Environment is replaced as a whole: always send all of it.
            let env = Environment::builder()
                .set_variables(Some(string_map(d, "environment").into_iter().collect()))
                .build();
            // A role changed to a new one meets the same propagation as at
            // create: retried like an update in progress.
            let in_progress = update_in_progress!(
                update_function_configuration,
                UpdateFunctionConfigurationError
            );
            crate::aws::with_backoff(
                "update function configuration",
                WAIT,
                |e: &aws_sdk_lambda::error::SdkError<
                    aws_sdk_lambda::operation::update_function_configuration::UpdateFunctionConfigurationError,
                    _,
                >| {
                    in_progress(e) || e.as_service_error().is_some_and(config_role_not_assumable)
                },
                || {
                    cx.aws
                        .lambda
                        .update_function_configuration()
                        .function_name(&name)
                        .runtime(Runtime::from(s(d, "runtime").as_str()))
                        .handler(s(d, "handler"))
                        .role(s(d, "role"))
                        .environment(env.clone())
                        .timeout(self.timeout_seconds)
                        .memory_size(self.memory_mb)
                        .description(s(d, "description"))
                        .set_ephemeral_storage(ephemeral_storage(d))
                        .tracing_config(tracing_config(d))
                        .logging_config(logging_config(d))
                        // All of them, in order (none: an empty list).
                        .set_layers(Some(strings(d, "layers")))
                        .send()
                },
            )
            .await
            .map_err(ctx_err(format!("update configuration of function {name}")))?;
            Self::wait_updated(cx, &name).await?;
        }
        if changed.iter().any(|k| k == "reserved_concurrency") {
            let n = d.get("reserved_concurrency").and_then(|v| v.as_i64());
            Self::set_concurrency(cx, &name, n.map(|n| n as i32)).await?;
        }
        if changed.iter().any(|k| k == "tags") {
            let arn = o.outputs.get("arn").cloned().unwrap_or_default();
            let want = string_map(d, "tags");
            let stale = stale_tags(d, &o.props);
            if !stale.is_empty() {
                cx.aws
                    .lambda
                    .untag_resource()
                    .resource(&arn)
                    .set_tag_keys(Some(stale))
                    .send()
                    .await
                    .map_err(ctx_err("untag function"))?;
            }
            cx.aws
                .lambda
                .tag_resource()
                .resource(&arn)
                .set_tags(Some(want.into_iter().collect()))
                .send()
                .await
                .map_err(ctx_err("tag function"))?;
        }
        let mut outputs = o.outputs.clone();
        outputs.insert("role_id".into(), s(d, "role_id"));
        Ok(Observed {
            props: d.clone(),
            outputs,
            ..o.clone()
        })
    }
}

/// Reads and deletes [`Function`]s by ID.
pub struct FunctionProvider;

#[async_trait::async_trait]
impl Provider for FunctionProvider {
    fn kind(&self) -> &'static str {
        "aws:lambda:Function"
    }
    async fn read(&self, cx: &Cx, id: &str, _parent: Option<&str>) -> Result<Read> {
        Ok(match Function::get(cx, id).await? {
            Some(o) => Read::Found(o),
            None => Read::Missing,
        })
    }
    async fn delete(&self, cx: &Cx, id: &str, _p: Option<&str>) -> Result<()> {
        match cx
            .aws
            .lambda
            .delete_function()
            .function_name(id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(Error::aws(format!("delete function {id}"), e)),
        }
    }
}

// ---------------------------------------------------------------- permission

/// A statement of a function's resource policy: `principal` may invoke it
/// from `source_arn`.
#[derive(Default)]
pub struct Permission {
    /// The function's name (`function.name()`): the parent.
    pub function: Input<String>,
    /// The statement's ID (unique in the function's policy). Empty (the
    /// constructors'): derived from the principal and the source
    /// (`apigateway-1f2e3d4c`), so that one function may be invoked from
    /// several APIs or pools, each a statement of its own.
    pub statement_id: String,
    /// Who may invoke it (`apigateway.amazonaws.com`).
    pub principal: String,
    /// From where (`arn:...:execute-api:...`, a user pool's ARN).
    pub source_arn: Input<String>,
    /// The account the call must come from (`Some(Output::account())`: the
    /// stack's own); `None`: any, as `source_arn` allows.
    pub source_account: Option<Input<String>>,
}

impl Permission {
    /// The statement's ID: the declared one, else `<service>-<8 hex>` from
    /// the principal, source ARN and account (`d`, resolved): a statement ID
    /// is fixed at creation, and every setting here replaces it.
    fn sid(&self, d: &Props) -> String {
        if !self.statement_id.is_empty() {
            return self.statement_id.clone();
        }
        use sha2::{Digest, Sha256};
        let principal = s(d, "principal");
        let service = principal.split('.').next().unwrap_or("invoke");
        let what = format!(
            "{principal} {} {}",
            s(d, "source_arn"),
            d.get("source_account")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
        );
        let h = Sha256::digest(what.as_bytes());
        let hex: String = h[..4].iter().map(|b| format!("{b:02x}")).collect();
        format!("{service}-{hex}")
    }

    /// Cognito may invoke the function as a trigger of the pool
    /// (`pool.arn()`), from the stack's own account.
    pub fn for_cognito(function: Input<String>, pool_arn: Input<String>) -> Self {
        Permission {
            function,
            statement_id: String::new(),
            principal: "cognito-idp.amazonaws.com".into(),
            source_arn: pool_arn,
            source_account: Some(Output::account()),
        }
    }

    /// API Gateway may invoke the function from the given execution ARN
    /// pattern (`api.execution_arn()` + `/*/*`).
    pub fn for_api_gateway(function: Input<String>, source_arn: Input<String>) -> Self {
        Permission {
            function,
            statement_id: String::new(),
            principal: "apigateway.amazonaws.com".into(),
            source_arn,
            source_account: None,
        }
    }
}

#[async_trait::async_trait]
impl Kind for Permission {
    fn provider(&self) -> Arc<dyn Provider> {
        Arc::new(PermissionProvider)
    }
    fn deps(&self) -> Vec<String> {
        deps_of(
            [self.function.deps(), self.source_arn.deps()]
                .into_iter()
                .chain(self.source_account.iter().map(|a| a.deps())),
        )
    }
    fn parent(&self) -> Option<String> {
        self.function.deps().first().cloned()
    }
    fn replace_on(&self) -> &'static [&'static str] {
        &["action", "principal", "source_arn", "source_account"]
    }
    fn desired(&self, ctx: &Ctx, k: &Known) -> Desired {
        let mut i = Inputs::new(ctx, k);
        let account = self
            .source_account
            .as_ref()
            .map(|a| i.get("source_account", a));
        let v = json!({"action": "lambda:InvokeFunction", "principal": self.principal, "source_arn": i.get("source_arn", &self.source_arn), "source_account": account});
        i.finish(v)
    }
    async fn read(&self, cx: &Cx, prior: &Prior) -> Result<Read> {
        // No ID recorded (a run stopped between AddPermission and its
        // record): the statement ID this declaration makes, from what the
        // state knows of its source.
        let sid = match (&prior.id, self.statement_id.is_empty()) {
            (Some(id), _) => id.clone(),
            (None, false) => self.statement_id.clone(),
            (None, true) => match self.desired(&cx.ctx, &prior.known).known() {
                Ok(d) => self.sid(&d),
                Err(_) => return Ok(Read::Missing),
            },
        };
        PermissionProvider
            .read(cx, &sid, prior.parent_id.as_deref())
            .await
    }
    async fn create(&self, cx: &Cx, d: &Props, k: &Known) -> Result<Observed> {
        let func = self.function.require(&cx.ctx, k)?;
        let sid = self.sid(d);
        let sid = sid.as_str();
        let r = crate::aws::with_backoff(
            "add permission",
            Duration::from_secs(60),
            update_in_progress!(add_permission, AddPermissionError),
            || {
                cx.aws
                    .lambda
                    .add_permission()
                    .function_name(&func)
                    .statement_id(sid)
                    .action(s(d, "action"))
                    .principal(s(d, "principal"))
                    .source_arn(s(d, "source_arn"))
                    .set_source_account(
                        d.get("source_account")
                            .and_then(|a| a.as_str())
                            .map(String::from),
                    )
                    .send()
            },
        )
        .await;
        if let Err(e) = r {
            // The statement ID is unique per function: adopt a matching one.
            let prior = Prior {
                id: Some(sid.to_string()),
                parent_id: Some(func.clone()),
                ..Default::default()
            };
            match self.read(cx, &prior).await? {
                Read::Found(o) if diff(d, &o.props).is_empty() => return Ok(o),
                _ => {
                    return Err(Error::aws(
                        format!("add permission for {}", s(d, "principal")),
                        e,
                    ))
                }
            }
        }
        let mut outputs = BTreeMap::new();
        outputs.insert("parent_id".into(), func);
        outputs.insert("id".into(), sid.to_string());
        Ok(Observed {
            id: sid.to_string(),
            props: d.clone(),
            outputs,
        })
    }
    async fn update(&self, _cx: &Cx, _d: &Props, o: &Observed, _k: &Known) -> Result<Observed> {
        Ok(o.clone()) // every setting is replace_on
    }
}

/// Reads and deletes [`Permission`]s by ID.
pub struct PermissionProvider;

#[async_trait::async_trait]
impl Provider for PermissionProvider {
    fn kind(&self) -> &'static str {
        "aws:lambda:Permission"
    }
    async fn read(&self, cx: &Cx, id: &str, parent: Option<&str>) -> Result<Read> {
        let Some(func) = parent.map(String::from) else {
            return Ok(Read::Missing);
        };
        let sid = id.to_string();
        let policy = match cx.aws.lambda.get_policy().function_name(&func).send().await {
            Ok(p) => p.policy.unwrap_or_default(),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                return Ok(Read::Missing)
            }
            Err(e) => return Err(Error::aws("get function policy", e)),
        };
        let v: Value = serde_json::from_str(&policy).unwrap_or(Value::Null);
        let stmts = match &v["Statement"] {
            Value::Array(a) => a.clone(),
            Value::Object(_) => vec![v["Statement"].clone()],
            _ => vec![],
        };
        let Some(st) = stmts.into_iter().find(|s| s["Sid"] == sid.as_str()) else {
            return Ok(Read::Missing);
        };
        let principal = match &st["Principal"] {
            Value::String(p) => p.clone(),
            p => p["Service"].as_str().unwrap_or_default().to_string(),
        };
        let source = st["Condition"]["ArnLike"]["AWS:SourceArn"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let account = st["Condition"]["StringEquals"]["AWS:SourceAccount"].as_str();
        let mut outputs = BTreeMap::new();
        outputs.insert("parent_id".into(), func.clone());
        outputs.insert("id".into(), sid.clone());
        Ok(Read::Found(Observed {
            id: sid,
            props: props(
                json!({"action": st["Action"].as_str().unwrap_or_default(), "principal": principal, "source_arn": source, "source_account": account}),
            ),
            outputs,
        }))
    }
    async fn delete(&self, cx: &Cx, id: &str, func: Option<&str>) -> Result<()> {
        let Some(func) = func else { return Ok(()) };
        match cx
            .aws
            .lambda
            .remove_permission()
            .function_name(func)
            .statement_id(id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(Error::aws("remove permission", e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The program as `preflight` sees it: a role with `policies` (managed
    /// policy ARNs), its inline policies' documents, and the functions.
    fn program(
        policies: &[&str],
        inline: &[Value],
        functions: &[(&str, Option<i64>)],
    ) -> BTreeMap<String, Planned> {
        let mut d = BTreeMap::new();
        let role = json!({"policies": policies.iter().map(|p| format!("arn:aws:iam::aws:policy/{p}")).collect::<Vec<_>>()});
        d.insert(
            "role".to_string(),
            Planned {
                kind: "aws:iam:Role",
                desired: props(role).into(),
                deps: vec![],
            },
        );
        for (n, doc) in inline.iter().enumerate() {
            d.insert(
                format!("policy/{n}"),
                Planned {
                    kind: "aws:iam:RolePolicy",
                    desired: props(json!({"policy": doc})).into(),
                    deps: vec!["role".into()],
                },
            );
        }
        for (key, reserved) in functions {
            d.insert(
                key.to_string(),
                Planned {
                    kind: "aws:lambda:Function",
                    desired: props(json!({"reserved_concurrency": reserved})).into(),
                    deps: vec!["role".into()],
                },
            );
        }
        d
    }

    fn traced() -> Function {
        let mut f = Function::new("f", Handle::<Role>::new("role").arn());
        f.tracing = Tracing::Active;
        f
    }

    /// Active tracing with a role of the program that may not send traces
    /// is refused before any call; the managed policy, or an inline one
    /// allowing xray:PutTraceSegments, lets it through.
    #[test]
    fn tracing_needs_a_role_that_may_send_traces() {
        let facts = Facts::default();
        let reads = BTreeMap::new();
        let check = |declared: &BTreeMap<String, Planned>| {
            let p = Preflight {
                declared,
                reads: &reads,
                facts: &facts,
            };
            traced().preflight("function/f", &p)
        };
        let basic = program(&["service-role/AWSLambdaBasicExecutionRole"], &[], &[]);
        let refused = check(&basic);
        assert_eq!(refused.len(), 1, "{refused:?}");
        assert!(
            refused[0].contains("PutTraceSegments") && refused[0].contains(XRAY_WRITE),
            "{}",
            refused[0]
        );
        let managed = program(&[BASIC_EXECUTION, XRAY_WRITE], &[], &[]);
        assert!(check(&managed).is_empty());
        let allow = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "Resource": "*"}]});
        assert!(check(&program(
            &[BASIC_EXECUTION],
            &[allow.to_string().into()],
            &[]
        ))
        .is_empty());
        let wild =
            json!({"Statement": [{"Effect": "Allow", "Action": "xray:Put*", "Resource": "*"}]});
        assert!(check(&program(&[BASIC_EXECUTION], &[wild], &[])).is_empty());
        let other =
            json!({"Statement": [{"Effect": "Allow", "Action": "xray:Get*", "Resource": "*"}]});
        assert_eq!(check(&program(&[BASIC_EXECUTION], &[other], &[])).len(), 1);
        // A policy of the account's own: its content is not known here.
        let mut own = program(&[BASIC_EXECUTION], &[], &[]);
        own.get_mut("role").unwrap().desired.props.insert(
            "policies".into(),
            json!(["arn:aws:iam::123456789012:policy/tracing"]),
        );
        assert!(check(&own).is_empty());
        let deny = json!({"Statement": {"Effect": "Deny", "Action": "xray:*", "Resource": "*"}});
        assert_eq!(check(&program(&[BASIC_EXECUTION], &[deny], &[])).len(), 1);
        // Untraced: nothing to check.
        let p = Preflight {
            declared: &basic,
            reads: &reads,
            facts: &facts,
        };
        let plain = Function::new("f", Handle::<Role>::new("role").arn());
        assert!(plain.preflight("function/f", &p).is_empty());
    }

    /// Reservations are refused when they would leave less than 100
    /// unreserved (the whole limit of an account below 100), counted once
    /// for the whole program, against what the functions already reserve.
    #[test]
    fn reservations_keep_the_unreserved_minimum() {
        let f = Function::new("f", Handle::<Role>::new("role").arn());
        let declared = program(
            &[],
            &[],
            &[("function/a", Some(5)), ("function/b", Some(3))],
        );
        let run = |unreserved: i64, reads: &BTreeMap<String, Read>| {
            let facts = Facts {
                lambda_unreserved: Some(unreserved),
                lambda_limit: Some(1000),
            };
            let p = Preflight {
                declared: &declared,
                reads,
                facts: &facts,
            };
            (f.preflight("function/a", &p), f.preflight("function/b", &p))
        };
        let none = BTreeMap::new();
        let (a, b) = run(100, &none);
        assert_eq!(a.len(), 1, "{a:?}");
        assert_eq!(unreserved_minimum(Some(10)), 10);
        assert_eq!(unreserved_minimum(Some(1000)), 100);
        assert!(
            a[0].contains("reserves 8 more") && a[0].contains("function/a +5, function/b +3"),
            "{}",
            a[0]
        );
        assert!(b.is_empty(), "said once: {b:?}");
        assert_eq!(run(108, &none), (vec![], vec![]));
        // Already reserving 5 of them: 3 more.
        let mut reads = BTreeMap::new();
        reads.insert(
            "function/a".to_string(),
            Read::Found(Observed {
                id: "a".into(),
                props: props(json!({"reserved_concurrency": 5})),
                outputs: BTreeMap::new(),
            }),
        );
        assert_eq!(run(103, &reads), (vec![], vec![]));
        let (_, b) = run(102, &reads);
        assert!(
            b[0].contains("reserves 3 more concurrent executions (function/b +3)"),
            "{b:?}"
        );
    }
}
