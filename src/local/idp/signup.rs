//! The hosted login's sign-up, as Cognito's managed login runs it: the
//! form; the pool's pre sign-up trigger (which may refuse the sign-up,
//! confirm the user and verify the email address); the user made in the
//! control plane (`SignUp`: the pool's password policy and attributes);
//! unless confirmed, a confirmation code "sent" by email (the custom
//! message trigger's text, else the pool's verification message; nothing
//! is sent: `deployer dev` prints it on its terminal), then checked; the
//! post confirmation trigger; and the user signed in (a code back to the
//! client, as after a login).

use super::{
    check_request, client, described_pool, error_page, error_part, hidden_fields, html, keep,
    printable, said, secret_hash, sign_in, triggers, Trigger,
};
use crate::local::tokens::{now, uuid};
use crate::local::Plane;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// How long a confirmation code is good for (Cognito's: 24 hours).
const CODE_LIFETIME_SECONDS: i64 = 24 * 3600;

/// A sign-up waiting for its confirmation code.
#[derive(Clone)]
pub struct Pending {
    pool: String,
    /// The sign-up form (the OAuth parameters, the user name, the password):
    /// the user is signed in with it once confirmed.
    form: BTreeMap<String, String>,
    code: String,
    expires: i64,
}

/// The sign-up form (`GET /signup`), for a valid authorization request.
pub async fn page(
    State(p): State<Arc<Plane>>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    match check_request(&p, &q).await {
        Ok(_) => signup_page(&q, None),
        Err(r) => r,
    }
}

fn signup_page(q: &BTreeMap<String, String>, error: Option<&str>) -> Response {
    let (status, err) = error_part(error);
    let value = |k: &str| html(q.get(k).map(String::as_str).unwrap_or_default());
    (status, Html(format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>Sign up</title>
<style>body{{font-family:sans-serif;max-width:22em;margin:4em auto}}input{{display:block;width:100%;margin:.4em 0 1em;padding:.4em}}.error{{color:#b00}}</style></head>
<body><h1>Sign up with a new account</h1>{err}
<form method="post" action="/signup">{}
<label for="username">Username</label><input id="username" name="username" value="{}" autocomplete="username" required>
<label for="email">Email</label><input id="email" name="email" type="email" value="{}" autocomplete="email" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="new-password" required>
<button id="signup" type="submit">Sign up</button></form>
<p><small>deployer dev: local stand-in for the Cognito hosted UI</small></p></body></html>"#,
        hidden_fields(q),
        value("username"),
        value("email"),
    )))
    .into_response()
}

fn confirm_page(q: &BTreeMap<String, String>, id: &str, error: Option<&str>) -> Response {
    let (status, err) = error_part(error);
    (status, Html(format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>Confirm your account</title></head>
<body><h1>We have sent a code by email</h1>{err}
<p>Enter it below to confirm your account (<code>deployer dev</code> sends no email: the message is on its terminal).</p>
<form method="post" action="/confirm">{}<input type="hidden" name="signup" value="{}">
<label for="code">Verification code</label><input id="code" name="code" autocomplete="one-time-code" required>
<button id="confirm" type="submit">Confirm account</button></form></body></html>"#,
        hidden_fields(q),
        html(id),
    )))
    .into_response()
}

/// `POST /signup`: the pre sign-up trigger, the user made, then either
/// signed in (confirmed by the trigger) or asked for the emailed code.
pub async fn submit(
    State(p): State<Arc<Plane>>,
    Form(f): Form<BTreeMap<String, String>>,
) -> Response {
    let pool = match check_request(&p, &f).await {
        Ok(pool) => pool,
        Err(r) => return r,
    };
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let (user, client_id, email) = (get("username"), get("client_id"), get("email"));
    let described = described_pool(&p, &pool).await;
    let described = described.as_ref().and_then(|d| d.user_pool.as_ref());
    let admin_only = described
        .and_then(|d| d.admin_create_user_config.as_ref())
        .is_some_and(|c| c.allow_admin_create_user_only);
    if admin_only {
        return error_page(
            StatusCode::BAD_REQUEST,
            "SignUp is not permitted for this user pool",
        );
    }
    let triggers = described.and_then(|d| d.lambda_config.clone());
    let at = Trigger {
        p: &p,
        pool: &pool,
        user: &user,
        client_id: &client_id,
    };
    let attributes = json!({"email": email});
    // Pre sign-up: refuse, or confirm and verify at once.
    let (mut confirm, mut verify) = (false, false);
    if let Some(arn) = triggers.as_ref().and_then(|t| t.pre_sign_up.clone()) {
        let request = json!({"userAttributes": attributes, "validationData": {}});
        match at.run(&arn, "PreSignUp_SignUp", request).await {
            Ok(r) => {
                confirm = r["autoConfirmUser"] == json!(true);
                verify = r["autoVerifyEmail"] == json!(true);
            }
            Err(e) => {
                return signup_page(&f, Some(&format!("PreSignUp failed with error {e}.")));
            }
        }
    }
    let secret = client(&p, &client_id)
        .await
        .and_then(|(_, c)| c.client_secret)
        .unwrap_or_default();
    let email_attr = aws_sdk_cognitoidentityprovider::types::AttributeType::builder()
        .name("email")
        .value(&email)
        .build()
        .expect("name is set");
    let mut sign_up = p
        .aws
        .cognito
        .sign_up()
        .client_id(&client_id)
        .username(&user)
        .password(get("password"))
        .user_attributes(email_attr);
    if !secret.is_empty() {
        sign_up = sign_up.secret_hash(secret_hash(&secret, &user, &client_id));
    }
    if let Err(e) = sign_up.send().await {
        return signup_page(&f, Some(&said(&e)));
    }
    if confirm {
        return confirmed(&p, &pool, &f, verify).await;
    }
    // A code by email: the custom message trigger writes it, else the
    // pool's verification message.
    let code = format!(
        "{:06}",
        u32::from_str_radix(&uuid()[..8], 16).unwrap_or(0) % 1_000_000
    );
    let template = described.and_then(|d| d.verification_message_template.as_ref());
    let mut subject = template
        .and_then(|t| t.email_subject.clone())
        .unwrap_or_else(|| "Your verification code".into());
    let mut message = template
        .and_then(|t| t.email_message.clone())
        .unwrap_or_else(|| "Your verification code is {####}. ".into());
    if let Some(arn) = triggers.as_ref().and_then(|t| t.custom_message.clone()) {
        let request = json!({"userAttributes": attributes, "codeParameter": "{####}",
            "linkParameter": "{##Click Here##}", "usernameParameter": null});
        match at.run(&arn, "CustomMessage_SignUp", request).await {
            Ok(r) => {
                if let Some(m) = r["emailMessage"].as_str().filter(|m| !m.is_empty()) {
                    message = m.to_string();
                }
                if let Some(s) = r["emailSubject"].as_str().filter(|s| !s.is_empty()) {
                    subject = s.to_string();
                }
            }
            Err(e) => {
                return signup_page(&f, Some(&format!("CustomMessage failed with error {e}.")));
            }
        }
    }
    let message = message.replace("{####}", &code);
    // What the user typed (the address; the message may quote it) is
    // shown escaped: it cannot fake or rewrite a line of the terminal.
    eprintln!(
        "deployer dev: an email to {} (not sent): {}: {}",
        printable(&email),
        printable(&subject),
        printable(&message)
    );
    let id = uuid();
    let pending = Pending {
        pool,
        form: f.clone(),
        code,
        expires: now() + CODE_LIFETIME_SECONDS,
    };
    // Sign-ups whose code has expired are forgotten.
    keep(&p.signups, id.clone(), pending, |s| s.expires);
    confirm_page(&f, &id, None)
}

/// `POST /confirm`: the emailed code checked, the user confirmed and signed in.
pub async fn confirm(
    State(p): State<Arc<Plane>>,
    Form(f): Form<BTreeMap<String, String>>,
) -> Response {
    let id = f.get("signup").cloned().unwrap_or_default();
    let pending = p.signups.lock().unwrap().get(&id).cloned();
    let Some(pending) = pending.filter(|s| s.expires >= now()) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "ExpiredCodeException: Invalid code provided, please request a code again.",
        );
    };
    if f.get("code").map(|c| c.trim()) != Some(pending.code.as_str()) {
        return confirm_page(
            &pending.form,
            &id,
            Some("Invalid verification code provided, please try again."),
        );
    }
    p.signups.lock().unwrap().remove(&id);
    // The code came by email: the address is verified.
    confirmed(&p, &pending.pool, &pending.form, true).await
}

/// The user confirmed (and the email address verified, if `verify`): the
/// post confirmation trigger, then signed in.
async fn confirmed(
    p: &Plane,
    pool: &str,
    form: &BTreeMap<String, String>,
    verify: bool,
) -> Response {
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let (user, client_id) = (get("username"), get("client_id"));
    let cognito = &p.aws.cognito;
    let r = cognito
        .admin_confirm_sign_up()
        .user_pool_id(pool)
        .username(&user)
        .send()
        .await;
    if let Err(e) = r {
        return error_page(StatusCode::BAD_REQUEST, &said(&e));
    }
    if verify {
        let verified = aws_sdk_cognitoidentityprovider::types::AttributeType::builder()
            .name("email_verified")
            .value("true")
            .build()
            .expect("name is set");
        let r = cognito
            .admin_update_user_attributes()
            .user_pool_id(pool)
            .username(&user)
            .user_attributes(verified)
            .send()
            .await;
        if let Err(e) = r {
            return error_page(StatusCode::BAD_REQUEST, &said(&e));
        }
    }
    let at = Trigger {
        p,
        pool,
        user: &user,
        client_id: &client_id,
    };
    let triggers = triggers(p, pool).await;
    if let Some(arn) = triggers.and_then(|t| t.post_confirmation) {
        let request = json!({"userAttributes": Value::Object(at.attributes().await)});
        if let Err(e) = at
            .run(&arn, "PostConfirmation_ConfirmSignUp", request)
            .await
        {
            return error_page(
                StatusCode::BAD_REQUEST,
                &format!("PostConfirmation failed with error {e}."),
            );
        }
    }
    sign_in(p, pool, form).await
}
