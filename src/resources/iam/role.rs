use crate::error::Error;
use crate::error::Result;
use crate::kind::*;
use crate::model::{Handle, Output};
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

impl Role {
    async fn read_named(cx: &Cx, name: &str) -> Result<Read> {
        // IAM's role names are unique whatever their case: compared in
        // lower case.
        if !cx
            .may_exist(RoleProvider.kind(), &name.to_lowercase(), |ask| {
                list_roles(cx, ask)
            })
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
    fn replace_on(&self) -> Vec<&'static str> {
        vec!["name", "path"]
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
