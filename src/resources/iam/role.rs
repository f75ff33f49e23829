use crate::error::Error;
use crate::error::Result;
use crate::kind::spec::{read_of, removed_keys, tag_map, Fixed, Found};
use crate::kind::*;
use crate::model::{Handle, Inputs, Output, Typed};
use serde::{Deserialize, Serialize};
use serde_json::json;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

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

/// Whether a role's settings (its managed policies) or one of the program's
/// inline policies of that role (`policies`, each a document) may allow
/// `xray:PutTraceSegments`: false only when it is known not to (AWS managed
/// policies, none of which allows it; inline policies, none of which does).
/// A policy of the account's own (its content not in the program) or a
/// statement with `NotAction` may: not refused.
pub(crate) fn allows_xray(managed: &[String], inline: &[&Value]) -> bool {
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

/// A role's settings, as declared and as IAM reports them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RoleSpec {
    /// Unique in the account.
    pub name: Fixed<String>,
    /// Its trust policy (who may assume it).
    pub trust: Value,
    /// The managed policies' ARNs, sorted.
    pub policies: Vec<String>,
    /// The stack's tags.
    pub tags: BTreeMap<String, String>,
    /// Fixed at creation.
    pub path: Fixed<String>,
    /// Empty: none.
    pub description: String,
    /// How long a session may last, in seconds.
    pub max_session_seconds: i32,
    /// The ARN of the policy that bounds it.
    pub permissions_boundary: Option<String>,
}

/// IAM's tags of a role, as its calls take them.
fn iam_tags(tags: &BTreeMap<String, String>) -> Result<Vec<aws_sdk_iam::types::Tag>> {
    tags.iter()
        .map(|(k, v)| aws_sdk_iam::types::Tag::builder().key(k).value(v).build())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::Other(e.to_string()))
}

impl Role {
    async fn read_named(cx: &Cx, name: &str) -> Result<Option<Found<RoleSpec>>> {
        // IAM's role names are unique whatever their case: compared in
        // lower case.
        if !cx
            .may_exist(RoleProvider.kind(), &name.to_lowercase(), |ask| {
                list_roles(cx, ask)
            })
            .await
        {
            return Ok(None);
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
            return Ok(None);
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
                return Ok(None)
            }
            Err(e) => return Err(Error::aws("list attached role policies", e)),
        };
        let policies = sorted(attached.into_iter().filter_map(|p| p.policy_arn).collect());
        let tags = role.tags.unwrap_or_default().into_iter();
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
        let spec = RoleSpec {
            name: Fixed(name.clone()),
            trust,
            policies,
            tags: tag_map(tags.map(|t| (t.key, t.value))),
            path: Fixed(role.path.clone()),
            description: role.description.clone().unwrap_or_default(),
            max_session_seconds: role.max_session_duration.unwrap_or(3600),
            permissions_boundary: role
                .permissions_boundary
                .as_ref()
                .and_then(|b| b.permissions_boundary_arn.clone()),
        };
        // The role's unique ID (AROA...): a role deleted and made again
        // under the same name has another, and what was granted to the old
        // one (Lambda's KMS grant for a function's environment) is void.
        Ok(Some(
            Found::new(name, spec)
                .output("arn", arn)
                .output("role_id", role.role_id.clone()),
        ))
    }
}

#[async_trait::async_trait]
impl Typed for Role {
    type Spec = RoleSpec;
    fn provider(&self) -> Arc<dyn Provider> {
        Arc::new(RoleProvider)
    }
    fn spec(&self, i: &mut Inputs) -> RoleSpec {
        let ctx = i.ctx();
        // Sorted, as `read` lists them (IAM keeps no order).
        let policies = self.managed_policies.iter().map(|p| managed_policy(ctx, p));
        RoleSpec {
            name: Fixed(self.name.clone()),
            trust: trust_policy(&self.service),
            policies: sorted(policies.collect()),
            tags: tag_map(ctx.tags.clone()),
            path: Fixed(
                if self.path.is_empty() {
                    "/"
                } else {
                    &self.path
                }
                .to_string(),
            ),
            description: self.description.clone(),
            max_session_seconds: self.max_session_seconds,
            permissions_boundary: self
                .permissions_boundary
                .as_deref()
                .map(|b| policy_arn(ctx, b)),
        }
    }
    async fn read(&self, cx: &Cx, prior: &Prior) -> Result<Option<Found<RoleSpec>>> {
        for name in names_to_read(&self.name, prior) {
            if let Some(f) = Self::read_named(cx, &name).await? {
                return Ok(Some(f));
            }
        }
        Ok(None)
    }
    async fn create(&self, cx: &Cx, spec: &RoleSpec, k: &Known) -> Result<Found<RoleSpec>> {
        let name = self.name.clone();
        match cx
            .aws
            .iam
            .create_role()
            .role_name(&name)
            .assume_role_policy_document(spec.trust.to_string())
            .set_tags(Some(iam_tags(&spec.tags)?))
            .path(spec.path.as_str())
            .set_description(Some(spec.description.clone()).filter(|x| !x.is_empty()))
            .max_session_duration(spec.max_session_seconds)
            .set_permissions_boundary(spec.permissions_boundary.clone())
            .send()
            .await
        {
            // Made now, with what was asked and nothing attached: no read
            // back (a new role is invisible to GetRole for a moment, and the
            // ARN CreateRole answers is the role's). The attachments follow.
            Ok(r) => {
                if let Some(role) = r.role {
                    let created = RoleSpec {
                        policies: vec![],
                        ..spec.clone()
                    };
                    let f = Found::new(name.clone(), created)
                        .output("arn", role.arn)
                        .output("role_id", role.role_id);
                    return Typed::update(self, cx, spec, &f, k).await;
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
                    Ok(Some(f)) => Ok(f),
                    Ok(None) => Err(None),
                    Err(e) => Err(Some(e)),
                }
            },
        )
        .await;
        match found {
            Ok(f) => {
                f.ensure_ours(&cx.ctx, "IAM role")?;
                Typed::update(self, cx, spec, &f, k).await
            }
            Err(Some(e)) => Err(e),
            Err(None) => Err(Error::Other(format!(
                "IAM role {name} is still not visible a minute after it was created; run `deployer up` again"
            ))),
        }
    }
    async fn update(
        &self,
        cx: &Cx,
        spec: &RoleSpec,
        found: &Found<RoleSpec>,
        _k: &Known,
    ) -> Result<Found<RoleSpec>> {
        let (name, had) = (&found.id, &found.spec);
        if spec.trust != had.trust {
            cx.aws
                .iam
                .update_assume_role_policy()
                .role_name(name)
                .policy_document(spec.trust.to_string())
                .send()
                .await
                .map_err(ctx_err("update role trust policy"))?;
        }
        if spec.description != had.description
            || spec.max_session_seconds != had.max_session_seconds
        {
            let u = cx.aws.iam.update_role().role_name(name);
            u.description(&spec.description)
                .max_session_duration(spec.max_session_seconds)
                .send()
                .await
                .map_err(ctx_err("update role"))?;
        }
        if spec.permissions_boundary != had.permissions_boundary {
            match &spec.permissions_boundary {
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
        let (want, have) = (&spec.policies, &had.policies);
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
        if spec.tags != had.tags {
            let stale = removed_keys(&had.tags, &spec.tags);
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
            cx.aws
                .iam
                .tag_role()
                .role_name(name)
                .set_tags(Some(iam_tags(&spec.tags)?))
                .send()
                .await
                .map_err(ctx_err("tag role"))?;
        }
        Ok(Found {
            spec: spec.clone(),
            ..found.clone()
        })
    }
}

/// Every role of the account (ListRoles: 1,000 a call, no filter by name),
/// within `ask.budget` calls (`crate::kind::listing`).
async fn list_roles(
    cx: &Cx,
    ask: crate::kind::listing::Ask,
) -> Result<Option<crate::kind::listing::Listed>> {
    use crate::kind::listing::{paged, Page};
    paged(&ask, "", |marker| async move {
        let page = cx
            .aws
            .iam
            .list_roles()
            .max_items(1000)
            .set_marker(marker)
            .send()
            .await
            .map_err(ctx_err("list IAM roles"))?;
        let names = page
            .roles
            .into_iter()
            .map(|r| (r.role_name.to_lowercase(), None))
            .collect();
        Ok(Page::Items(
            names,
            page.marker.filter(|_| page.is_truncated),
        ))
    })
    .await
}

/// Reads and deletes [`Role`]s by ID.
pub struct RoleProvider;

#[async_trait::async_trait]
impl Provider for RoleProvider {
    fn kind(&self) -> &'static str {
        "aws:iam:Role"
    }
    async fn read(&self, cx: &Cx, id: &str, _parent: Option<&str>) -> Result<Read> {
        read_of(Role::read_named(cx, id).await?)
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
