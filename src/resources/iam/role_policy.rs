use crate::error::{Error, Result};
use crate::kind::spec::{read_of, Fixed, Found};
use crate::kind::*;
use crate::model::{Input, Inputs, Typed};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::sync::Arc;

/// Whether a statement allows or denies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Effect {
    /// `Allow` (the default).
    #[default]
    Allow,
    /// `Deny`: wins over any `Allow`.
    Deny,
}

impl Effect {
    /// IAM's word for it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

/// A condition of a statement: `test` (`StringEquals`, `ArnLike`, ...) on a
/// context key (`aws:SourceArn`, `s3:prefix`, ...) for any of `values`.
#[derive(Clone, Default)]
pub struct Condition {
    /// The operator (`StringEquals`, `StringLike`, `ArnLike`, `Bool`, ...).
    pub test: String,
    /// The context key it tests.
    pub variable: String,
    /// The values that satisfy it (any one).
    pub values: Vec<Input<String>>,
}

/// A statement of a policy document.
#[derive(Clone, Default)]
pub struct Statement {
    /// An optional ID, unique in the document.
    pub sid: Option<String>,
    /// Allow (the default) or deny.
    pub effect: Effect,
    /// The actions (`s3:GetObject`, `dynamodb:*`).
    pub actions: Vec<String>,
    /// The resources' ARNs (an output of another resource: `bucket.arn()`).
    pub resources: Vec<Input<String>>,
    /// All must hold.
    pub conditions: Vec<Condition>,
}

impl Statement {
    /// `Allow` of `actions` on `resources`.
    pub fn allow<S: Into<Input<String>>>(
        actions: impl IntoIterator<Item = impl Into<String>>,
        resources: impl IntoIterator<Item = S>,
    ) -> Statement {
        Statement {
            actions: actions.into_iter().map(Into::into).collect(),
            resources: resources.into_iter().map(Into::into).collect(),
            ..Default::default()
        }
    }
}

/// An IAM policy document (version `2012-10-17`).
#[derive(Clone, Default)]
pub struct PolicyDocument {
    /// Its statements.
    pub statements: Vec<Statement>,
}

impl PolicyDocument {
    /// The document as JSON, in the normal form `normalise` gives what IAM
    /// reports: lists sorted, one statement list. Its inputs resolve with
    /// `i`: the document is the setting `path`, unknown as a whole while one
    /// of them is.
    pub fn to_json(&self, i: &mut Inputs, path: &str) -> Value {
        let statements: Vec<Value> = self
            .statements
            .iter()
            .map(|s| {
                let mut st = json!({
                    "Effect": s.effect.as_str(),
                    "Action": sorted(s.actions.clone()),
                    "Resource": sorted(i.list(path, &s.resources)),
                });
                if let Some(sid) = &s.sid {
                    st["Sid"] = json!(sid);
                }
                if !s.conditions.is_empty() {
                    let mut conds = serde_json::Map::new();
                    for c in &s.conditions {
                        let values = sorted(i.list(path, &c.values));
                        let test = conds.entry(c.test.clone()).or_insert_with(|| json!({}));
                        test[&c.variable] = json!(values);
                    }
                    st["Condition"] = Value::Object(conds);
                }
                st
            })
            .collect();
        json!({"Version": "2012-10-17", "Statement": statements})
    }
}

/// A policy document as IAM reports it (URL-encoded JSON), in the normal
/// form of `PolicyDocument::to_json`: a single action, resource or
/// condition value becomes a one-item list, lists are sorted, a single
/// statement becomes a list of one.
pub fn normalise(doc: &str) -> Value {
    let text = urlencoding::decode(doc)
        .map(|c| c.into_owned())
        .unwrap_or_else(|_| doc.to_string());
    let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let list = |x: &Value| -> Value {
        let mut items: Vec<String> = match x {
            Value::Array(a) => a
                .iter()
                .filter_map(|i| i.as_str().map(String::from))
                .collect(),
            Value::String(s) => vec![s.clone()],
            _ => vec![],
        };
        items.sort();
        items.dedup();
        json!(items)
    };
    let statements = match &v["Statement"] {
        Value::Array(a) => a.clone(),
        s @ Value::Object(_) => vec![s.clone()],
        _ => vec![],
    };
    let statements: Vec<Value> = statements
        .iter()
        .map(|s| {
            let mut st = json!({
                "Effect": s["Effect"],
                "Action": list(&s["Action"]),
                "Resource": list(&s["Resource"]),
            });
            if let Some(sid) = s["Sid"].as_str().filter(|x| !x.is_empty()) {
                st["Sid"] = json!(sid);
            }
            if let Some(conds) = s["Condition"].as_object() {
                let mut out = serde_json::Map::new();
                for (test, vars) in conds {
                    let mut t = serde_json::Map::new();
                    for (var, values) in vars.as_object().into_iter().flatten() {
                        t.insert(var.clone(), list(values));
                    }
                    out.insert(test.clone(), Value::Object(t));
                }
                st["Condition"] = Value::Object(out);
            }
            st
        })
        .collect();
    json!({"Version": v["Version"].as_str().unwrap_or("2012-10-17"), "Statement": statements})
}

// ---------------------------------------------------------------- role policy

/// An inline policy of a role (Terraform's `aws_iam_role_policy`): what a
/// function with that role may do besides writing its logs. Its ID is
/// `ROLE:NAME`.
///
/// ```
/// use deployer::model::Handle;
/// use deployer::resources::iam::{PolicyDocument, RolePolicy, Statement};
/// use deployer::resources::lambda::Role;
/// let role = Handle::<Role>::new("role");
/// let table_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders";
/// let policy = RolePolicy {
///     role_name: role.id(),
///     name: "orders-table".into(),
///     document: PolicyDocument {
///         statements: vec![Statement::allow(["dynamodb:GetItem", "dynamodb:PutItem"], [table_arn])],
///     },
/// };
/// ```
#[derive(Default)]
pub struct RolePolicy {
    /// The role's name (`role.id()`).
    pub role_name: Input<String>,
    /// The policy's name, unique among the role's inline policies.
    pub name: String,
    /// What it allows (or denies).
    pub document: PolicyDocument,
}

fn split_id(id: &str) -> Option<(&str, &str)> {
    id.split_once(':')
}

/// An inline policy's settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RolePolicySpec {
    /// The role's name.
    pub role: Fixed<String>,
    /// Unique among the role's inline policies.
    pub name: Fixed<String>,
    /// The document in its normal form (`PolicyDocument::to_json`,
    /// `normalise`).
    pub policy: Value,
}

#[async_trait::async_trait]
impl Typed for RolePolicy {
    type Spec = RolePolicySpec;
    fn provider(&self) -> Arc<dyn Provider> {
        Arc::new(RolePolicyProvider)
    }
    fn spec(&self, i: &mut Inputs) -> RolePolicySpec {
        RolePolicySpec {
            role: Fixed(i.input(&self.role_name)),
            name: Fixed(self.name.clone()),
            policy: self.document.to_json(i, "policy"),
        }
    }
    async fn read(&self, cx: &Cx, prior: &Prior) -> Result<Option<Found<RolePolicySpec>>> {
        let id = match &prior.id {
            Some(id) => id.clone(),
            // Not recorded (a lost answer): by the role's name and its own.
            None => match self.role_name.resolve(&cx.ctx, &prior.known) {
                Some(role) => format!("{role}:{}", self.name),
                None => return Ok(None),
            },
        };
        RolePolicyProvider::find(cx, &id).await
    }
    async fn create(
        &self,
        cx: &Cx,
        spec: &RolePolicySpec,
        _k: &Known,
    ) -> Result<Found<RolePolicySpec>> {
        put(cx, spec).await
    }
    async fn update(
        &self,
        cx: &Cx,
        spec: &RolePolicySpec,
        _found: &Found<RolePolicySpec>,
        _k: &Known,
    ) -> Result<Found<RolePolicySpec>> {
        put(cx, spec).await
    }
}

/// PutRolePolicy: creates or replaces the document (idempotent).
async fn put(cx: &Cx, spec: &RolePolicySpec) -> Result<Found<RolePolicySpec>> {
    let (role, name) = (spec.role.as_str(), spec.name.as_str());
    cx.aws
        .iam
        .put_role_policy()
        .role_name(role)
        .policy_name(name)
        .policy_document(spec.policy.to_string())
        .send()
        .await
        .map_err(ctx_err(format!("put inline policy {name} of role {role}")))?;
    Ok(Found::new(format!("{role}:{name}"), spec.clone()))
}

/// Reads and deletes [`RolePolicy`]s by ID (`ROLE:NAME`).
pub struct RolePolicyProvider;

impl RolePolicyProvider {
    /// The inline policy `ROLE:NAME`, if there is one.
    async fn find(cx: &Cx, id: &str) -> Result<Option<Found<RolePolicySpec>>> {
        let Some((role, name)) = split_id(id) else {
            return Ok(None);
        };
        let got = cx
            .aws
            .iam
            .get_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await;
        match got {
            Ok(p) => {
                let spec = RolePolicySpec {
                    role: role.into(),
                    name: name.into(),
                    policy: normalise(&p.policy_document),
                };
                Ok(Some(Found::new(id, spec)))
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_no_such_entity_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(Error::aws(format!("get inline policy {id}"), e)),
        }
    }
}

#[async_trait::async_trait]
impl Provider for RolePolicyProvider {
    fn kind(&self) -> &'static str {
        "aws:iam:RolePolicy"
    }
    async fn read(&self, cx: &Cx, id: &str, _parent: Option<&str>) -> Result<Read> {
        read_of(Self::find(cx, id).await?)
    }
    async fn delete(&self, cx: &Cx, id: &str, _parent: Option<&str>) -> Result<()> {
        let Some((role, name)) = split_id(id) else {
            return Ok(());
        };
        ok_if_gone(
            cx.aws
                .iam
                .delete_role_policy()
                .role_name(role)
                .policy_name(name)
                .send()
                .await,
            |s| s.is_no_such_entity_exception(),
            format!("delete inline policy {id}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the program declares and what IAM reports (one statement as an
    /// object, single values as strings, URL-encoded) compare equal.
    #[test]
    fn a_declared_document_equals_its_normal_form_as_iam_reports_it() {
        let doc = PolicyDocument {
            statements: vec![Statement {
                sid: Some("Data".into()),
                conditions: vec![Condition {
                    test: "StringEquals".into(),
                    variable: "aws:RequestedRegion".into(),
                    values: vec!["eu-west-1".into()],
                }],
                ..Statement::allow(["s3:PutObject", "s3:GetObject"], ["arn:aws:s3:::b/*"])
            }],
        };
        let (c, k) = (Ctx::for_tests(), Known::default());
        let ours = doc.to_json(&mut crate::model::Inputs::new(&c, &k), "policy");
        let iam = r#"{"Version":"2012-10-17","Statement":{"Sid":"Data","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}}}"#;
        let encoded = urlencoding::encode(iam).into_owned();
        assert_eq!(normalise(&encoded), ours);
        assert_eq!(normalise(iam), ours);
        let other = iam.replace("s3:PutObject", "s3:DeleteObject");
        assert_ne!(normalise(&other), ours);
    }
}
