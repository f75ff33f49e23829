//! A Cognito pre token generation trigger (`examples/claims.rs`): adds
//! `plan` (the function's `PLAN`, else `free`) and `tenant` (the user's
//! `custom:tenant`, when set) to the tokens Cognito issues. Event version 1
//! changes the ID token; versions 2 and 3 the ID and access tokens (3: also
//! the client-credentials tokens, which have no user). As the pool's pre
//! authentication trigger too, it refuses a user of the tenant `blocked`;
//! any other trigger's event it passes back unchanged.
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Map, Value};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let plan = std::env::var("PLAN")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "free".into());
    lambda_runtime::run(service_fn(move |e: LambdaEvent<Value>| {
        let answer = match e.payload["triggerSource"].as_str() {
            Some(s) if s.starts_with("PreAuthentication") => admit(e.payload),
            Some(s) if s.starts_with("TokenGeneration") => Ok(respond(&plan, e.payload)),
            _ => Ok(e.payload),
        };
        async move { answer.map_err(Error::from) }
    }))
    .await
}

/// A pre authentication event: the event back (sign-in goes on), or an
/// error Cognito shows the user (sign-in refused).
fn admit(event: Value) -> Result<Value, String> {
    match event["request"]["userAttributes"]["custom:tenant"].as_str() {
        Some("blocked") => Err("the tenant blocked is suspended".into()),
        _ => Ok(event),
    }
}

/// The event with its `response` filled in, as Cognito wants it back.
fn respond(plan: &str, mut event: Value) -> Value {
    let mut claims = Map::new();
    claims.insert("plan".into(), json!(plan));
    if let Some(t) = event["request"]["userAttributes"]["custom:tenant"].as_str() {
        claims.insert("tenant".into(), json!(t));
    }
    let claims = Value::Object(claims);
    event["response"] = if event["version"].as_str().unwrap_or("1") == "1" {
        json!({"claimsOverrideDetails": {"claimsToAddOrOverride": claims}})
    } else {
        json!({"claimsAndScopeOverrideDetails": {
            "idTokenGeneration": {"claimsToAddOrOverride": claims},
            "accessTokenGeneration": {"claimsToAddOrOverride": claims},
        }})
    };
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_the_plan_and_the_users_tenant_in_each_version() {
        let user = json!({"version": "2", "triggerSource": "TokenGeneration_HostedAuth",
            "request": {"userAttributes": {"sub": "x", "custom:tenant": "acme"}}, "response": {}});
        let out = respond("gold", user);
        let access = &out["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"];
        assert_eq!(
            access["claimsToAddOrOverride"],
            json!({"plan": "gold", "tenant": "acme"})
        );
        let v1 = respond(
            "free",
            json!({"version": "1", "request": {"userAttributes": {}}}),
        );
        assert_eq!(
            v1["response"]["claimsOverrideDetails"]["claimsToAddOrOverride"],
            json!({"plan": "free"})
        );
        // Pre authentication: a blocked tenant is refused.
        let sign_in = |t: &str| {
            json!({"triggerSource": "PreAuthentication_Authentication",
            "request": {"userAttributes": {"custom:tenant": t}}, "response": {}})
        };
        assert!(admit(sign_in("acme")).is_ok());
        assert!(admit(sign_in("blocked")).unwrap_err().contains("suspended"));
        // A machine-to-machine token (version 3) has no user attributes.
        let m2m = respond("free", json!({"version": "3", "request": {}}));
        let id = &m2m["response"]["claimsAndScopeOverrideDetails"]["idTokenGeneration"];
        assert_eq!(id["claimsToAddOrOverride"], json!({"plan": "free"}));
    }
}
