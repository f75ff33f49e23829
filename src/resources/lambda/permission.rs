use crate::error::Error;
use crate::error::Result;
use crate::kind::*;
use crate::model::{deps_of, Input, Inputs, Output};
use serde_json::json;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

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

    /// API Gateway may invoke the function from any route and stage of the
    /// API whose execution ARN is given (`api.execution_arn()`): the
    /// `/*/*` suffix added here.
    ///
    /// ```
    /// use deployer::model::{Handle, Stack};
    /// use deployer::resources::api::Api;
    /// use deployer::resources::lambda::{Function, Permission, Role};
    /// let mut s = Stack::new();
    /// let api = s.add("api", Api::new("notes"));
    /// let role = s.add("role", Role::for_lambda("notes-run"));
    /// let f = s.add("function", Function::new("notes", role.arn()));
    /// s.add("permission", Permission::for_api(f.name(), api.execution_arn()));
    /// ```
    pub fn for_api(function: Input<String>, api_execution_arn: Input<String>) -> Self {
        Self::for_api_gateway(function, api_execution_arn.map(|a| format!("{a}/*/*")))
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
