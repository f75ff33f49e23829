//! A user pool's further settings: custom attributes, email, message
//! templates, triggers, tier, threat protection, what changes need
//! verifying. Each is one value in the pool's settings (`Props`), read from
//! DescribeUserPool in the same shape it is declared, and turned into the
//! SDK's type for CreateUserPool and UpdateUserPool.

use crate::error::{Error, Result};
use crate::kind::{strings, Props};
use aws_sdk_cognitoidentityprovider::types::{
    AdvancedSecurityModeType, AliasAttributeType, AttributeDataType, AuthFactorType,
    DefaultEmailOptionType, EmailConfigurationType, EmailSendingAccountType, MessageTemplateType,
    NumberAttributeConstraintsType, SchemaAttributeType, SignInPolicyType,
    StringAttributeConstraintsType, UserAttributeUpdateSettingsType, UserPoolAddOnsType,
    UserPoolTierType, UserPoolType, VerificationMessageTemplateType, VerifiedAttributeType,
};
use serde_json::{json, Value};

#[path = "pool_triggers.rs"]
mod triggers;

use triggers::triggers_of;
pub(crate) use triggers::triggers_sdk;
pub use triggers::{PreTokenVersion, Triggers};

/// A custom attribute of the pool's users (`custom:NAME`). Cognito can add
/// one to a pool but never change or remove it: a program that changes or
/// drops one is refused, saying so (a new pool is the only way).
///
/// ```
/// use deployer::resources::cognito::{CustomAttribute, AttributeType};
/// let tenant = CustomAttribute { max_length: Some(64), ..CustomAttribute::new("tenant", AttributeType::String) };
/// # let _ = tenant;
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CustomAttribute {
    /// Its name without `custom:`.
    pub name: String,
    /// Its type.
    pub data_type: AttributeType,
    /// True if a user's value may change after sign-up (Cognito's default).
    pub mutable: bool,
    /// True if only administrators (developer credentials) read and write it
    /// (`dev:custom:NAME`).
    pub developer_only: bool,
    /// A string's least length (Cognito's default 0).
    pub min_length: Option<u32>,
    /// A string's greatest length (Cognito's default 2048).
    pub max_length: Option<u32>,
    /// A number's least value.
    pub min_value: Option<i64>,
    /// A number's greatest value.
    pub max_value: Option<i64>,
}

impl CustomAttribute {
    /// A mutable attribute of this name and type, Cognito's defaults else.
    pub fn new(name: impl Into<String>, data_type: AttributeType) -> Self {
        CustomAttribute {
            name: name.into(),
            data_type,
            mutable: true,
            ..Default::default()
        }
    }
}

/// A custom attribute's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AttributeType {
    /// Text.
    #[default]
    String,
    /// An integer.
    Number,
    /// A date and time.
    DateTime,
    /// True or false.
    Boolean,
}

impl AttributeType {
    fn as_str(&self) -> &'static str {
        match self {
            AttributeType::String => "String",
            AttributeType::Number => "Number",
            AttributeType::DateTime => "DateTime",
            AttributeType::Boolean => "Boolean",
        }
    }
}

/// Who sends the pool's email.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Email {
    /// Cognito (a low daily quota; for trying things).
    #[default]
    Cognito,
    /// Amazon SES, from a verified identity of yours.
    Ses {
        /// The SES identity's ARN (`arn:aws:ses:REGION:ACCOUNT:identity/EMAIL_OR_DOMAIN`).
        source_arn: String,
        /// The sender (`Name <no-reply@example.com>`); the identity when `None`.
        from: Option<String>,
        /// An SES configuration set.
        configuration_set: Option<String>,
    },
}

/// A pool's email settings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EmailSettings {
    /// Who sends it.
    pub sender: Email,
    /// Where replies go.
    pub reply_to: Option<String>,
}

/// The messages that verify an email address or phone number. `Default` is
/// Cognito's own text; a code message must contain `{####}`, a link message
/// `{##Verify Email##}`.
#[derive(Debug, Clone, PartialEq)]
pub struct VerificationMessages {
    /// True to send a link to click, false a code to type.
    pub by_link: bool,
    /// The email's subject with a code.
    pub email_subject: String,
    /// The email's text with a code.
    pub email_message: String,
    /// The email's subject with a link.
    pub email_subject_by_link: String,
    /// The email's text with a link.
    pub email_message_by_link: String,
    /// The text message.
    pub sms_message: String,
}

impl Default for VerificationMessages {
    fn default() -> Self {
        VerificationMessages {
            by_link: false,
            email_subject: "Your verification code".into(),
            email_message: "Your verification code is {####}. ".into(),
            email_subject_by_link: "Your verification link".into(),
            email_message_by_link:
                "Please click the link below to verify your email address. {##Verify Email##} "
                    .into(),
            sms_message: "Your verification code is {####}. ".into(),
        }
    }
}

/// The invitation an administrator-created user gets; `Default` is
/// Cognito's. The messages must contain `{username}` and `{####}` (the
/// temporary password).
#[derive(Debug, Clone, PartialEq)]
pub struct Invitation {
    /// The email's subject.
    pub email_subject: String,
    /// The email's text.
    pub email_message: String,
    /// The text message.
    pub sms_message: String,
}

impl Default for Invitation {
    fn default() -> Self {
        Invitation {
            email_subject: "Your temporary password".into(),
            email_message: "Your username is {username} and temporary password is {####}. ".into(),
            sms_message: "Your username is {username} and temporary password is {####}. ".into(),
        }
    }
}

/// Which sign-in features a pool has: Lite, Essentials (Cognito's default
/// for a new pool), Plus (threat protection).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// The lowest price, the fewest features.
    Lite,
    /// Managed login, passwordless, access-token customisation.
    Essentials,
    /// Essentials and threat protection.
    Plus,
}

/// Threat protection (advanced security; the Plus tier).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreatProtection {
    /// Off.
    Off,
    /// Risks are scored and logged, nothing is blocked.
    Audit,
    /// Risky sign-ins are blocked or challenged.
    Enforced,
}

impl ThreatProtection {
    pub(super) fn as_str(&self) -> &'static str {
        match self {
            ThreatProtection::Off => "OFF",
            ThreatProtection::Audit => "AUDIT",
            ThreatProtection::Enforced => "ENFORCED",
        }
    }
}

impl Tier {
    pub(super) fn as_str(&self) -> &'static str {
        match self {
            Tier::Lite => "LITE",
            Tier::Essentials => "ESSENTIALS",
            Tier::Plus => "PLUS",
        }
    }
}

/// What a user may sign in with besides their user name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AliasAttribute {
    /// `email`.
    Email,
    /// `phone_number`.
    PhoneNumber,
    /// `preferred_username`.
    PreferredUsername,
}

impl AliasAttribute {
    pub(super) fn as_str(&self) -> &'static str {
        match self {
            AliasAttribute::Email => "email",
            AliasAttribute::PhoneNumber => "phone_number",
            AliasAttribute::PreferredUsername => "preferred_username",
        }
    }
}

/// A way to start signing in (choice-based sign-in).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFactor {
    /// A password.
    Password,
    /// A one-time code by email.
    EmailOtp,
    /// A one-time code by text message.
    SmsOtp,
    /// A passkey.
    WebAuthn,
}

impl AuthFactor {
    pub(super) fn as_str(&self) -> &'static str {
        match self {
            AuthFactor::Password => "PASSWORD",
            AuthFactor::EmailOtp => "EMAIL_OTP",
            AuthFactor::SmsOtp => "SMS_OTP",
            AuthFactor::WebAuthn => "WEB_AUTHN",
        }
    }
}

pub(super) fn sorted_names<T>(v: &[T], name: fn(&T) -> &'static str) -> Value {
    let mut names: Vec<&str> = v.iter().map(name).collect();
    names.sort();
    json!(names)
}

// ------------------------------------------------- settings as values

/// The custom attributes' value (sorted by name, Cognito's default string
/// lengths filled in so that a pool that reports them and one that does not
/// compare alike).
pub(super) fn custom_attributes_value(v: &[CustomAttribute]) -> Value {
    let mut out: Vec<Value> = v
        .iter()
        .map(|a| {
            attribute_value(
                &a.name,
                a.data_type.as_str(),
                a.mutable,
                a.developer_only,
                [
                    a.min_length.map(i64::from),
                    a.max_length.map(i64::from),
                    a.min_value,
                    a.max_value,
                ],
            )
        })
        .collect();
    out.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    Value::Array(out)
}

fn attribute_value(
    name: &str,
    data_type: &str,
    mutable: bool,
    developer_only: bool,
    [min_length, max_length, min_value, max_value]: [Option<i64>; 4],
) -> Value {
    let string = data_type == "String";
    let number = data_type == "Number";
    json!({
        "name": name,
        "type": data_type,
        "mutable": mutable,
        "developer_only": developer_only,
        "min_length": if string { Some(min_length.unwrap_or(0)) } else { None },
        "max_length": if string { Some(max_length.unwrap_or(2048)) } else { None },
        "min_value": if number { min_value } else { None },
        "max_value": if number { max_value } else { None },
    })
}

/// The custom attributes DescribeUserPool reports, as the value above.
fn custom_attributes_of(p: &UserPoolType) -> Value {
    let mut out: Vec<Value> = p
        .schema_attributes()
        .iter()
        .filter_map(|a| {
            let full = a.name.as_deref()?;
            let name = full
                .strip_prefix("dev:")
                .unwrap_or(full)
                .strip_prefix("custom:")?;
            let num = |s: Option<&String>| s.and_then(|x| x.parse::<i64>().ok());
            let sc = a.string_attribute_constraints.as_ref();
            let nc = a.number_attribute_constraints.as_ref();
            Some(attribute_value(
                name,
                a.attribute_data_type
                    .as_ref()
                    .map(|t| t.as_str())
                    .unwrap_or("String"),
                a.mutable.unwrap_or(true),
                a.developer_only_attribute.unwrap_or(false) || full.starts_with("dev:"),
                [
                    num(sc.and_then(|c| c.min_length.as_ref())),
                    num(sc.and_then(|c| c.max_length.as_ref())),
                    num(nc.and_then(|c| c.min_value.as_ref())),
                    num(nc.and_then(|c| c.max_value.as_ref())),
                ],
            ))
        })
        .collect();
    out.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    Value::Array(out)
}

/// The standard attributes every user must have, sorted.
fn required_of(p: &UserPoolType) -> Value {
    let mut v: Vec<String> = p
        .schema_attributes()
        .iter()
        .filter(|a| a.required == Some(true))
        .filter_map(|a| a.name.clone())
        // `sub` is required in every pool (Cognito's own).
        .filter(|n| !n.contains("custom:") && n != "sub")
        .collect();
    v.sort();
    json!(v)
}

/// A custom attribute's schema entry for CreateUserPool / AddCustomAttributes.
fn schema_of(a: &Value) -> Option<SchemaAttributeType> {
    let t = a["type"].as_str()?;
    let n = |k: &str| a[k].as_i64().map(|x| x.to_string());
    let mut b = SchemaAttributeType::builder()
        .name(a["name"].as_str()?)
        .attribute_data_type(AttributeDataType::from(t))
        .mutable(a["mutable"].as_bool().unwrap_or(true))
        .developer_only_attribute(a["developer_only"].as_bool().unwrap_or(false));
    if t == "String" {
        b = b.string_attribute_constraints(
            StringAttributeConstraintsType::builder()
                .set_min_length(n("min_length"))
                .set_max_length(n("max_length"))
                .build(),
        );
    }
    if t == "Number" && (n("min_value").is_some() || n("max_value").is_some()) {
        b = b.number_attribute_constraints(
            NumberAttributeConstraintsType::builder()
                .set_min_value(n("min_value"))
                .set_max_value(n("max_value"))
                .build(),
        );
    }
    Some(b.build())
}

/// A required standard attribute's schema entry (CreateUserPool).
fn required_schema(name: &str) -> SchemaAttributeType {
    SchemaAttributeType::builder()
        .name(name)
        .attribute_data_type(AttributeDataType::String)
        .mutable(true)
        .required(true)
        .build()
}

pub(super) fn email_value(e: &EmailSettings) -> Value {
    let (account, source_arn, from, set) = match &e.sender {
        Email::Cognito => ("COGNITO_DEFAULT", None, None, None),
        Email::Ses {
            source_arn,
            from,
            configuration_set,
        } => (
            "DEVELOPER",
            Some(source_arn.clone()),
            from.clone(),
            configuration_set.clone(),
        ),
    };
    json!({"account": account, "source_arn": source_arn, "from": from, "configuration_set": set, "reply_to": e.reply_to})
}

fn email_of(p: &UserPoolType) -> Value {
    let e = p.email_configuration.as_ref();
    json!({
        "account": e.and_then(|e| e.email_sending_account.as_ref()).map(|a| a.as_str()).unwrap_or("COGNITO_DEFAULT"),
        "source_arn": e.and_then(|e| e.source_arn.clone()),
        "from": e.and_then(|e| e.from.clone()),
        "configuration_set": e.and_then(|e| e.configuration_set.clone()),
        "reply_to": e.and_then(|e| e.reply_to_email_address.clone()),
    })
}

pub(crate) fn email_sdk(v: &Value) -> EmailConfigurationType {
    let s = |k: &str| v[k].as_str().map(String::from);
    EmailConfigurationType::builder()
        .email_sending_account(EmailSendingAccountType::from(
            v["account"].as_str().unwrap_or("COGNITO_DEFAULT"),
        ))
        .set_source_arn(s("source_arn"))
        .set_from(s("from"))
        .set_configuration_set(s("configuration_set"))
        .set_reply_to_email_address(s("reply_to"))
        .build()
}

/// The verification messages as a setting's value: the email pair of the
/// option in use (code, or link) and the text message. Only that pair is
/// sent and compared (the API model: a code template with `{####}`, a link
/// template with `{##...##}`, each for its `DefaultEmailOption`).
pub(super) fn verification_value(m: &VerificationMessages) -> Value {
    let (subject, message) = if m.by_link {
        (&m.email_subject_by_link, &m.email_message_by_link)
    } else {
        (&m.email_subject, &m.email_message)
    };
    verification_json(m.by_link, subject, message, &m.sms_message)
}

fn verification_json(by_link: bool, subject: &str, message: &str, sms: &str) -> Value {
    let option = if by_link {
        "CONFIRM_WITH_LINK"
    } else {
        "CONFIRM_WITH_CODE"
    };
    json!({
        "default_email_option": option,
        "email_subject": subject,
        "email_message": message,
        "sms_message": sms,
    })
}

fn verification_of(p: &UserPoolType) -> Value {
    let t = p.verification_message_template.as_ref();
    let d = VerificationMessages::default();
    let or = |v: Option<&String>, d: &str| v.cloned().unwrap_or_else(|| d.to_string());
    let by_link = t.and_then(|t| t.default_email_option.as_ref())
        == Some(&DefaultEmailOptionType::ConfirmWithLink);
    let (subject, message) = if by_link {
        (
            or(
                t.and_then(|t| t.email_subject_by_link.as_ref()),
                &d.email_subject_by_link,
            ),
            or(
                t.and_then(|t| t.email_message_by_link.as_ref()),
                &d.email_message_by_link,
            ),
        )
    } else {
        (
            or(t.and_then(|t| t.email_subject.as_ref()), &d.email_subject),
            or(t.and_then(|t| t.email_message.as_ref()), &d.email_message),
        )
    };
    let sms = or(t.and_then(|t| t.sms_message.as_ref()), &d.sms_message);
    verification_json(by_link, &subject, &message, &sms)
}

/// The template for CreateUserPool / UpdateUserPool: the email pair of its
/// option only, and the text message.
pub(crate) fn verification_sdk(v: &Value) -> VerificationMessageTemplateType {
    let s = |k: &str| v[k].as_str().map(String::from);
    let by_link = v["default_email_option"].as_str() == Some("CONFIRM_WITH_LINK");
    let b = VerificationMessageTemplateType::builder()
        .default_email_option(if by_link {
            DefaultEmailOptionType::ConfirmWithLink
        } else {
            DefaultEmailOptionType::ConfirmWithCode
        })
        .set_sms_message(s("sms_message"));
    if by_link {
        b.set_email_subject_by_link(s("email_subject"))
            .set_email_message_by_link(s("email_message"))
            .build()
    } else {
        b.set_email_subject(s("email_subject"))
            .set_email_message(s("email_message"))
            .build()
    }
}

pub(super) fn invitation_value(m: &Invitation) -> Value {
    json!({"email_subject": m.email_subject, "email_message": m.email_message, "sms_message": m.sms_message})
}

fn invitation_of(p: &UserPoolType) -> Value {
    let t = p
        .admin_create_user_config
        .as_ref()
        .and_then(|c| c.invite_message_template.as_ref());
    let d = Invitation::default();
    let or = |v: Option<&String>, d: &str| v.cloned().unwrap_or_else(|| d.to_string());
    json!({
        "email_subject": or(t.and_then(|t| t.email_subject.as_ref()), &d.email_subject),
        "email_message": or(t.and_then(|t| t.email_message.as_ref()), &d.email_message),
        "sms_message": or(t.and_then(|t| t.sms_message.as_ref()), &d.sms_message),
    })
}

pub(crate) fn invitation_sdk(v: &Value) -> MessageTemplateType {
    let s = |k: &str| v[k].as_str().map(String::from);
    MessageTemplateType::builder()
        .set_email_subject(s("email_subject"))
        .set_email_message(s("email_message"))
        .set_sms_message(s("sms_message"))
        .build()
}

pub(crate) fn tier_sdk(v: &Value) -> Option<UserPoolTierType> {
    v.as_str().map(UserPoolTierType::from)
}

/// The threat protection mode for CreateUserPool / UpdateUserPool; `keep`
/// is what the pool has (its additional flows' mode, which this kind does
/// not manage, is kept: UpdateUserPool resets what it is not sent).
pub(crate) fn threat_sdk(
    v: &Value,
    keep: Option<&UserPoolAddOnsType>,
) -> Option<UserPoolAddOnsType> {
    UserPoolAddOnsType::builder()
        .advanced_security_mode(AdvancedSecurityModeType::from(v.as_str()?))
        .set_advanced_security_additional_flows(
            keep.and_then(|k| k.advanced_security_additional_flows.clone()),
        )
        .build()
        .ok()
}

/// The schema CreateUserPool is sent: the custom attributes and the
/// required standard ones (`None` when there are neither).
pub(crate) fn schema(d: &Props) -> Option<Vec<SchemaAttributeType>> {
    let custom = d
        .get("custom_attributes")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .filter_map(schema_of);
    let required = strings(d, "required_attributes");
    let all: Vec<_> = custom
        .chain(required.iter().map(|n| required_schema(n)))
        .collect();
    (!all.is_empty()).then_some(all)
}

/// The alias attributes for CreateUserPool (`None` when there are none).
pub(crate) fn aliases_sdk(d: &Props) -> Option<Vec<AliasAttributeType>> {
    let a = strings(d, "alias_attributes");
    (!a.is_empty()).then(|| {
        a.iter()
            .map(|n| AliasAttributeType::from(n.as_str()))
            .collect()
    })
}

/// The sign-in policy: the first factors a user may choose from.
pub(crate) fn sign_in_sdk(v: &Value) -> SignInPolicyType {
    SignInPolicyType::builder()
        .set_allowed_first_auth_factors(Some(
            v.as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(AuthFactorType::from)
                .collect(),
        ))
        .build()
}

/// Which contact attributes are verified before a change takes effect.
pub(crate) fn verify_sdk(v: &Value) -> UserAttributeUpdateSettingsType {
    UserAttributeUpdateSettingsType::builder()
        .set_attributes_require_verification_before_update(Some(
            v.as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(VerifiedAttributeType::from)
                .collect(),
        ))
        .build()
}

/// The custom attributes to add to a pool that has `observed`; an error if
/// the program changes or drops one (Cognito cannot).
pub(crate) fn custom_attributes_to_add(
    id: &str,
    d: &Props,
    observed: &Props,
) -> Result<Vec<SchemaAttributeType>> {
    let list = |p: &Props| -> Vec<Value> {
        p.get("custom_attributes")
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
    };
    let (want, have) = (list(d), list(observed));
    let named = |l: &[Value], n: &Value| l.iter().find(|a| a["name"] == *n).cloned();
    let name = |a: &Value| a["name"].as_str().unwrap_or_default().to_string();
    let mut refused = vec![];
    for h in &have {
        match named(&want, &h["name"]) {
            None => refused.push(format!("custom:{} is dropped", name(h))),
            Some(w) if w != *h => refused.push(format!("custom:{} changes ({h} -> {w})", name(h))),
            Some(_) => {}
        }
    }
    if !refused.is_empty() {
        return Err(Error::Other(format!(
            "user pool {id}: {}; Cognito cannot change or delete a custom attribute. Declare it as the pool has it, or declare a pool under a new name (a new pool: its users are not moved)",
            refused.join(", ")
        )));
    }
    Ok(want
        .iter()
        .filter(|w| named(&have, &w["name"]).is_none())
        .filter_map(schema_of)
        .collect())
}

/// These settings as DescribeUserPool reports them, each under its name.
pub(crate) fn read_into(p: &UserPoolType, v: &mut serde_json::Map<String, Value>) {
    v.insert("custom_attributes".into(), custom_attributes_of(p));
    v.insert("required_attributes".into(), required_of(p));
    v.insert("email".into(), email_of(p));
    v.insert("verification_messages".into(), verification_of(p));
    v.insert("invitation".into(), invitation_of(p));
    v.insert("triggers".into(), triggers_of(p));
    v.insert(
        "tier".into(),
        json!(p.user_pool_tier.as_ref().map(|t| t.as_str())),
    );
    v.insert(
        "threat_protection".into(),
        json!(p
            .user_pool_add_ons
            .as_ref()
            .map(|a| a.advanced_security_mode.as_str())),
    );
    let mut aliases: Vec<&str> = p.alias_attributes().iter().map(|a| a.as_str()).collect();
    aliases.sort();
    v.insert("alias_attributes".into(), json!(aliases));
    let mut factors: Vec<&str> = p
        .policies
        .as_ref()
        .and_then(|x| x.sign_in_policy.as_ref())
        .map(|s| {
            s.allowed_first_auth_factors()
                .iter()
                .map(|f| f.as_str())
                .collect()
        })
        .unwrap_or_else(|| vec!["PASSWORD"]);
    factors.sort();
    v.insert("first_auth_factors".into(), json!(factors));
    let mut verify: Vec<String> = p
        .user_attribute_update_settings
        .as_ref()
        .map(|u| {
            u.attributes_require_verification_before_update()
                .iter()
                .map(|a| a.as_str().to_string())
                .collect()
        })
        .unwrap_or_default();
    verify.sort();
    v.insert("verify_before_update".into(), json!(verify));
}

#[cfg(test)]
#[path = "pool_tests.rs"]
mod tests;
