//! Running the pool's triggers (the local Lambda host) for a user: the
//! authentication triggers and the user migration trigger.

use super::pool::user_attributes;
use super::printable;
use crate::local::Plane;
use serde_json::{json, Map, Value};

/// Who a trigger runs for: the pool, the user, the app client.
pub(in crate::local) struct Trigger<'a> {
    pub p: &'a Plane,
    pub pool: &'a str,
    pub user: &'a str,
    pub client_id: &'a str,
}

impl Trigger<'_> {
    /// Runs the function `arn` with Cognito's event (version 1) of
    /// `source` and `request`: the `response` it gives back, or its error
    /// (which fails what it runs in).
    pub(in crate::local) async fn run(
        &self,
        arn: &str,
        source: &str,
        request: Value,
    ) -> Result<Value, String> {
        let p = self.p;
        let event = json!({
            "version": "1",
            "triggerSource": source,
            "region": p.region,
            "userPoolId": self.pool,
            "userName": self.user,
            "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": self.client_id},
            "request": request,
            "response": {},
        });
        let cfg = p.function_config(arn).await?;
        match p.lambda.invoke(&cfg, event).await {
            Ok(out) => Ok(out["response"].clone()),
            Err(super::lambda::InvokeError::Failed(e)) => Err(function_error(&e)),
            Err(e) => Err(format!("{e:?}")),
        }
    }

    /// The user's attributes as the pool has them (none if unknown).
    pub(in crate::local) async fn attributes(&self) -> Map<String, Value> {
        user_attributes(self.p, self.pool, self.user)
            .await
            .unwrap_or_default()
    }
}

/// Runs a pre or post authentication trigger for the user: an error is the
/// function's, which fails the sign-in.
pub(super) async fn authentication_trigger(
    at: &Trigger<'_>,
    arn: &str,
    source: &str,
) -> Result<(), String> {
    let mut request = json!({"userAttributes": at.attributes().await});
    if source.starts_with("Pre") {
        request["validationData"] = json!({});
    } else {
        request["newDeviceUsed"] = json!(false);
    }
    at.run(arn, source, request).await.map(|_| ())
}

/// A user the pool does not know, offered to its user migration trigger
/// with the password typed (`UserMigration_Authentication`): the
/// attributes it answers make the user in the pool with that password
/// (`CONFIRMED`; a welcome message is never sent here), and the sign-in
/// goes on. `false`: the function knows no such user either.
pub(super) async fn migrate(at: &Trigger<'_>, arn: &str, password: &str) -> Result<bool, String> {
    use aws_sdk_cognitoidentityprovider::types::{AttributeType, MessageActionType};
    let request = json!({"password": password, "validationData": {}});
    let r = at.run(arn, "UserMigration_Authentication", request).await?;
    let Some(attributes) = r["userAttributes"].as_object().filter(|a| !a.is_empty()) else {
        return Ok(false);
    };
    let cognito = &at.p.aws.cognito;
    let mut create = cognito
        .admin_create_user()
        .user_pool_id(at.pool)
        .username(at.user)
        .message_action(MessageActionType::Suppress);
    for (k, v) in attributes.iter().filter(|(k, _)| *k != "username") {
        let value = v
            .as_str()
            .map(String::from)
            .unwrap_or_else(|| v.to_string());
        let a = AttributeType::builder().name(k).value(value).build();
        create = create.user_attributes(a.map_err(|e| e.to_string())?);
    }
    create
        .send()
        .await
        .map_err(|e| format!("making the migrated user: {}", said(&e)))?;
    let permanent = r["finalUserStatus"].as_str() != Some("RESET_REQUIRED");
    cognito
        .admin_set_user_password()
        .user_pool_id(at.pool)
        .username(at.user)
        .password(password)
        .permanent(permanent)
        .send()
        .await
        .map_err(|e| format!("the migrated user's password: {}", said(&e)))?;
    eprintln!(
        "deployer dev: {} migrated into the pool by its user migration trigger",
        printable(at.user)
    );
    Ok(true)
}

/// What Cognito said of a refused call (its message, as its UI shows it).
pub(in crate::local) fn said<E>(e: &E) -> String
where
    E: aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata + std::fmt::Display,
{
    e.message()
        .map(String::from)
        .unwrap_or_else(|| e.to_string())
}

/// The `errorMessage` of a function's error (the raw text otherwise).
fn function_error(e: &str) -> String {
    let json = e.find('{').map(|i| &e[i..]).unwrap_or(e);
    serde_json::from_str::<Value>(json)
        .ok()
        .and_then(|v| v["errorMessage"].as_str().map(String::from))
        .unwrap_or_else(|| e.to_string())
}
