//! A Cognito pre token generation trigger (`examples/claims.rs`): adds
//! `plan` (the function's `PLAN`, else `free`) and `tenant` (the user's
//! `custom:tenant`, when set) to the tokens Cognito issues. Event version 1
//! changes the ID token; versions 2 and 3 the ID and access tokens (3: also
//! the client-credentials tokens, which have no user). As the pool's pre
//! authentication trigger too, it refuses a user of the tenant `blocked`.
//! With every trigger of the pool on it (the example's `every_trigger`):
//! pre sign-up refuses addresses of `spam.example` and confirms those of
//! `claims.example` at once; custom message writes the sign-up code's
//! email; post confirmation logs a welcome; user migration signs in the
//! users of an old store (one, `grace`). Any other event it passes back
//! unchanged.
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
            Some("PreSignUp_SignUp") => vet(e.payload),
            Some("CustomMessage_SignUp") => Ok(write_message(e.payload)),
            Some("PostConfirmation_ConfirmSignUp") => {
                println!("welcome, {}", e.payload["userName"].as_str().unwrap_or("?"));
                Ok(e.payload)
            }
            Some("UserMigration_Authentication") => migrate(e.payload),
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

/// A sign-up: refused from `spam.example`, confirmed (and its address
/// verified) at once from `claims.example`, else left to the emailed code.
fn vet(mut event: Value) -> Result<Value, String> {
    let email = event["request"]["userAttributes"]["email"]
        .as_str()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if email.ends_with("@spam.example") {
        return Err("sign-ups from spam.example are closed".into());
    }
    let ours = email.ends_with("@claims.example");
    event["response"] =
        json!({"autoConfirmUser": ours, "autoVerifyEmail": ours, "autoVerifyPhone": false});
    Ok(event)
}

/// The sign-up code's email, in the example's words (`{####}`: the code).
fn write_message(mut event: Value) -> Value {
    event["response"] = json!({
        "emailSubject": "Welcome to claims",
        "emailMessage": "Your claims code is {####}",
        "smsMessage": null,
    });
    event
}

/// The old user store: names, the SHA-256 of their passwords (a real
/// store keeps a slow hash: argon2, bcrypt), email addresses and tenants.
const OLD_STORE: [(&str, &str, &str, &str); 1] = [(
    "grace",
    "948b292050e8ab864f52b063f6d72435f6b5b7819e2baad4b3fa85bc0966f049",
    "grace@claims.example",
    "navy",
)];

/// A user unknown to the pool, signing in: taken into it with their
/// attributes when the old store knows the name and the password.
fn migrate(mut event: Value) -> Result<Value, String> {
    use sha2::{Digest, Sha256};
    let name = event["userName"].as_str().unwrap_or_default();
    let password = event["request"]["password"].as_str().unwrap_or_default();
    let hash: String = Sha256::digest(password.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let Some((_, _, email, tenant)) = OLD_STORE
        .iter()
        .find(|(n, h, _, _)| *n == name && *h == hash)
    else {
        return Err("Bad password".into());
    };
    event["response"] = json!({
        "userAttributes": {"email": email, "email_verified": "true", "custom:tenant": tenant},
        "finalUserStatus": "CONFIRMED",
        "messageAction": "SUPPRESS",
    });
    Ok(event)
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
        // Sign-ups vetted by address; the old store's user migrated with
        // the right password only.
        let sign_up = |email: &str| json!({"request": {"userAttributes": {"email": email}}});
        assert!(vet(sign_up("x@spam.example")).is_err());
        let ours = vet(sign_up("x@claims.example")).unwrap();
        assert_eq!(ours["response"]["autoConfirmUser"], true);
        let other = vet(sign_up("x@else.example")).unwrap();
        assert_eq!(other["response"]["autoConfirmUser"], false);
        let old = |user: &str, password: &str| {
            migrate(json!({"userName": user, "request": {"password": password}}))
        };
        let grace = old("grace", "Gr4ce-Hopper-1906!").unwrap();
        assert_eq!(grace["response"]["userAttributes"]["custom:tenant"], "navy");
        assert!(old("grace", "guess").is_err());
        assert!(old("mallory", "Gr4ce-Hopper-1906!").is_err());
        // A machine-to-machine token (version 3) has no user attributes.
        let m2m = respond("free", json!({"version": "3", "request": {}}));
        let id = &m2m["response"]["claimsAndScopeOverrideDetails"]["idTokenGeneration"];
        assert_eq!(id["claimsToAddOrOverride"], json!({"plan": "free"}));
    }
}
