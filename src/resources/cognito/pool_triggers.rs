//! A user pool's triggers: the functions Cognito calls, declared, read
//! from DescribeUserPool and sent to CreateUserPool and UpdateUserPool.

use crate::model::{Inputs, Output};
use aws_sdk_cognitoidentityprovider::types::{
    LambdaConfigType, PreTokenGenerationLambdaVersionType, PreTokenGenerationVersionConfigType,
    UserPoolType,
};
use serde_json::{json, Value};

/// Functions of the stack that Cognito calls (`function.arn()`); each needs
/// a [`Permission::for_cognito`](crate::resources::lambda::Permission::for_cognito).
/// `None`: no such trigger.
#[derive(Debug, Clone, Default)]
pub struct Triggers {
    /// Before a sign-up: may refuse it, confirm or verify the user.
    pub pre_sign_up: Option<Output<String>>,
    /// Writes the pool's messages (verification, invitation, ...).
    pub custom_message: Option<Output<String>>,
    /// After a user confirms their account.
    pub post_confirmation: Option<Output<String>>,
    /// Before a sign-in: may refuse it.
    pub pre_authentication: Option<Output<String>>,
    /// After a sign-in.
    pub post_authentication: Option<Output<String>>,
    /// Custom authentication: which challenge comes next.
    pub define_auth_challenge: Option<Output<String>>,
    /// Custom authentication: makes a challenge.
    pub create_auth_challenge: Option<Output<String>>,
    /// Custom authentication: checks an answer.
    pub verify_auth_challenge_response: Option<Output<String>>,
    /// Before tokens are issued: adds, changes or removes claims and scopes.
    pub pre_token_generation: Option<Output<String>>,
    /// The event version `pre_token_generation` receives.
    pub pre_token_generation_version: PreTokenVersion,
    /// Signs in a user unknown to the pool against your old user store.
    pub user_migration: Option<Output<String>>,
}

/// The pre token generation event's version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PreTokenVersion {
    /// V1: the ID token's claims and groups (every tier).
    #[default]
    V1,
    /// V2: the ID and access tokens' claims and scopes (Essentials, Plus).
    V2,
    /// V3: V2, and machine-to-machine (client credentials) tokens too.
    V3,
}

impl PreTokenVersion {
    fn as_str(&self) -> &'static str {
        match self {
            PreTokenVersion::V1 => "V1_0",
            PreTokenVersion::V2 => "V2_0",
            PreTokenVersion::V3 => "V3_0",
        }
    }
}

/// The triggers' names as Cognito's `LambdaConfig` has them, in order.
const TRIGGERS: [&str; 10] = [
    "pre_sign_up",
    "custom_message",
    "post_confirmation",
    "pre_authentication",
    "post_authentication",
    "define_auth_challenge",
    "create_auth_challenge",
    "verify_auth_challenge_response",
    "pre_token_generation",
    "user_migration",
];

impl Triggers {
    fn each(&self) -> [&Option<Output<String>>; 10] {
        [
            &self.pre_sign_up,
            &self.custom_message,
            &self.post_confirmation,
            &self.pre_authentication,
            &self.post_authentication,
            &self.define_auth_challenge,
            &self.create_auth_challenge,
            &self.verify_auth_challenge_response,
            &self.pre_token_generation,
            &self.user_migration,
        ]
    }
    /// The keys of the functions they read.
    pub fn deps(&self) -> Vec<String> {
        crate::model::deps_of(self.each().into_iter().flatten().map(|o| o.deps()))
    }
    /// The setting's value: each trigger's function ARN (null: none) and
    /// the pre token generation event's version.
    pub(crate) fn value(&self, i: &mut Inputs) -> Value {
        let mut v = serde_json::Map::new();
        for (name, arn) in TRIGGERS.iter().zip(self.each()) {
            let arn = arn
                .as_ref()
                .map(|a| json!(i.get(&format!("triggers.{name}"), a)));
            v.insert(name.to_string(), arn.unwrap_or(Value::Null));
        }
        v.insert(
            "pre_token_generation_version".into(),
            match self.pre_token_generation {
                Some(_) => json!(self.pre_token_generation_version.as_str()),
                None => Value::Null,
            },
        );
        Value::Object(v)
    }
}

pub(super) fn triggers_of(p: &UserPoolType) -> Value {
    let l = p.lambda_config.as_ref();
    let get = |f: fn(&LambdaConfigType) -> Option<&String>| json!(l.and_then(f));
    let (pre_token, version) = match l.and_then(|l| l.pre_token_generation_config.as_ref()) {
        Some(c) => (
            Some(c.lambda_arn.clone()),
            Some(c.lambda_version.as_str().to_string()),
        ),
        None => match l.and_then(|l| l.pre_token_generation.clone()) {
            Some(arn) => (Some(arn), Some("V1_0".to_string())),
            None => (None, None),
        },
    };
    json!({
        "pre_sign_up": get(|l| l.pre_sign_up.as_ref()),
        "custom_message": get(|l| l.custom_message.as_ref()),
        "post_confirmation": get(|l| l.post_confirmation.as_ref()),
        "pre_authentication": get(|l| l.pre_authentication.as_ref()),
        "post_authentication": get(|l| l.post_authentication.as_ref()),
        "define_auth_challenge": get(|l| l.define_auth_challenge.as_ref()),
        "create_auth_challenge": get(|l| l.create_auth_challenge.as_ref()),
        "verify_auth_challenge_response": get(|l| l.verify_auth_challenge_response.as_ref()),
        "pre_token_generation": pre_token,
        "pre_token_generation_version": version,
        "user_migration": get(|l| l.user_migration.as_ref()),
    })
}

/// The triggers for CreateUserPool / UpdateUserPool; `keep` is what the pool
/// has (the custom senders, their KMS key and the inbound federation
/// trigger, which this kind does not manage, are kept: UpdateUserPool resets
/// what it is not sent).
pub(crate) fn triggers_sdk(v: &Value, keep: Option<&LambdaConfigType>) -> LambdaConfigType {
    let s = |k: &str| v[k].as_str().map(String::from);
    let pre_token = s("pre_token_generation").and_then(|arn| {
        PreTokenGenerationVersionConfigType::builder()
            .lambda_arn(arn)
            .lambda_version(PreTokenGenerationLambdaVersionType::from(
                v["pre_token_generation_version"].as_str().unwrap_or("V1_0"),
            ))
            .build()
            .ok()
    });
    LambdaConfigType::builder()
        .set_pre_sign_up(s("pre_sign_up"))
        .set_custom_message(s("custom_message"))
        .set_post_confirmation(s("post_confirmation"))
        .set_pre_authentication(s("pre_authentication"))
        .set_post_authentication(s("post_authentication"))
        .set_define_auth_challenge(s("define_auth_challenge"))
        .set_create_auth_challenge(s("create_auth_challenge"))
        .set_verify_auth_challenge_response(s("verify_auth_challenge_response"))
        .set_pre_token_generation(s("pre_token_generation"))
        .set_pre_token_generation_config(pre_token)
        .set_user_migration(s("user_migration"))
        .set_custom_sms_sender(keep.and_then(|k| k.custom_sms_sender.clone()))
        .set_custom_email_sender(keep.and_then(|k| k.custom_email_sender.clone()))
        .set_kms_key_id(keep.and_then(|k| k.kms_key_id.clone()))
        .set_inbound_federation(keep.and_then(|k| k.inbound_federation.clone()))
        .build()
}
