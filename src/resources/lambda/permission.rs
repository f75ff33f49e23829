use crate::error::Error;
use crate::error::Result;
use crate::kind::spec::{read_of, Fixed, Found};
use crate::kind::*;
use crate::model::{deps_of, Input, Inputs, Output, Typed};
use serde::{Deserialize, Serialize};
use serde_json::Value;
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
    /// the principal, source ARN and account: a statement ID is fixed at
    /// creation, and every setting here replaces it.
    fn sid(&self, spec: &PermissionSpec) -> String {
        if !self.statement_id.is_empty() {
            return self.statement_id.clone();
        }
        use sha2::{Digest, Sha256};
        let principal = spec.principal.as_str();
        let service = principal.split('.').next().unwrap_or("invoke");
        let what = format!(
            "{principal} {} {}",
            *spec.source_arn,
            spec.source_account.as_deref().unwrap_or_default()
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

/// A permission's settings: every one fixed at creation (a statement of a
/// resource policy is added and removed, never changed).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PermissionSpec {
    /// `lambda:InvokeFunction`.
    pub action: Fixed<String>,
    /// Who may invoke it (`apigateway.amazonaws.com`).
    pub principal: Fixed<String>,
    /// From where (an API's execution ARN pattern, a pool's ARN).
    pub source_arn: Fixed<String>,
    /// The account the call must come from; `None`: any.
    pub source_account: Fixed<Option<String>>,
}

/// The only action a permission grants.
const INVOKE: &str = "lambda:InvokeFunction";

#[async_trait::async_trait]
impl Typed for Permission {
    type Spec = PermissionSpec;
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
    fn spec(&self, i: &mut Inputs) -> PermissionSpec {
        PermissionSpec {
            action: INVOKE.into(),
            principal: self.principal.as_str().into(),
            source_arn: Fixed(i.input(&self.source_arn)),
            source_account: Fixed(self.source_account.as_ref().map(|a| i.input(a))),
        }
    }
    async fn read(&self, cx: &Cx, prior: &Prior) -> Result<Option<Found<PermissionSpec>>> {
        // No ID recorded (a run stopped between AddPermission and its
        // record): the statement ID this declaration makes, from what the
        // state knows of its source.
        let sid = match (&prior.id, self.statement_id.is_empty()) {
            (Some(id), _) => id.clone(),
            (None, false) => self.statement_id.clone(),
            (None, true) => match self.desired(&cx.ctx, &prior.known).known() {
                Ok(d) => self.sid(&crate::kind::spec::from_props(&d)?),
                Err(_) => return Ok(None),
            },
        };
        PermissionProvider::find(cx, &sid, prior.parent_id.as_deref()).await
    }
    async fn create(
        &self,
        cx: &Cx,
        spec: &PermissionSpec,
        k: &Known,
    ) -> Result<Found<PermissionSpec>> {
        let func = self.function.require(&cx.ctx, k)?;
        let sid = self.sid(spec);
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
                    .action(spec.action.as_str())
                    .principal(spec.principal.as_str())
                    .source_arn(spec.source_arn.as_str())
                    .set_source_account(spec.source_account.0.clone())
                    .send()
            },
        )
        .await;
        if let Err(e) = r {
            // The statement ID is unique per function: adopt a matching one.
            return match PermissionProvider::find(cx, sid, Some(&func)).await? {
                Some(f) if &f.spec == spec => Ok(f),
                _ => Err(Error::aws(
                    format!("add permission for {}", *spec.principal),
                    e,
                )),
            };
        }
        Ok(Found::new(sid, spec.clone()).output("parent_id", func))
    }
    async fn update(
        &self,
        _cx: &Cx,
        _spec: &PermissionSpec,
        found: &Found<PermissionSpec>,
        _k: &Known,
    ) -> Result<Found<PermissionSpec>> {
        Ok(found.clone()) // every setting is fixed
    }
}

/// Reads and deletes [`Permission`]s by ID.
pub struct PermissionProvider;

impl PermissionProvider {
    /// The statement `sid` of function `parent`'s policy, if there is one.
    async fn find(
        cx: &Cx,
        sid: &str,
        parent: Option<&str>,
    ) -> Result<Option<Found<PermissionSpec>>> {
        let Some(func) = parent.map(String::from) else {
            return Ok(None);
        };
        let policy = match cx.aws.lambda.get_policy().function_name(&func).send().await {
            Ok(p) => p.policy.unwrap_or_default(),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(Error::aws("get function policy", e)),
        };
        let v: Value = serde_json::from_str(&policy).unwrap_or(Value::Null);
        let stmts = match &v["Statement"] {
            Value::Array(a) => a.clone(),
            Value::Object(_) => vec![v["Statement"].clone()],
            _ => vec![],
        };
        let Some(st) = stmts.into_iter().find(|s| s["Sid"] == sid) else {
            return Ok(None);
        };
        let principal = match &st["Principal"] {
            Value::String(p) => p.clone(),
            p => p["Service"].as_str().unwrap_or_default().to_string(),
        };
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let spec = PermissionSpec {
            action: Fixed(text(&st["Action"])),
            principal: Fixed(principal),
            source_arn: Fixed(text(&st["Condition"]["ArnLike"]["AWS:SourceArn"])),
            source_account: Fixed(
                st["Condition"]["StringEquals"]["AWS:SourceAccount"]
                    .as_str()
                    .map(String::from),
            ),
        };
        Ok(Some(Found::new(sid, spec).output("parent_id", func)))
    }
}

#[async_trait::async_trait]
impl Provider for PermissionProvider {
    fn kind(&self) -> &'static str {
        "aws:lambda:Permission"
    }
    async fn read(&self, cx: &Cx, id: &str, parent: Option<&str>) -> Result<Read> {
        read_of(Self::find(cx, id, parent).await?)
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
