//! Cognito: user pool, domain, resource server, users, app clients.

use crate::config::User;
use crate::error::Error;
use crate::error::Result;
use crate::kind::*;
use crate::model::{deps_of, Handle, Input, Inputs, Output};
use aws_sdk_cognitoidentityprovider::types::{
    AdminCreateUserConfigType, AttributeType as SdkAttribute, FeatureType, MessageActionType,
    OAuthFlowType, ResourceServerScopeType, UserPoolClientType,
};
use serde_json::json;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

mod federation;
mod pool;
pub use federation::{Federation, IdentityProvider, IdentityProviderProvider, Social};
pub use pool::{
    AliasAttribute, AttributeType, AuthFactor, CustomAttribute, Email, EmailSettings, Invitation,
    PreTokenVersion, ThreatProtection, Tier, Triggers, VerificationMessages,
};

fn parent_out(parent_id: &str) -> BTreeMap<String, String> {
    [("parent_id".to_string(), parent_id.to_string())].into()
}

// ---------------------------------------------------------------- user pool

/// A user pool.
///
/// ```
/// use deployer::resources::cognito::{ContactAttribute, Mfa, PasswordPolicy, Recovery, UserPool};
/// let pool = UserPool {
///     username_attributes: vec![ContactAttribute::Email],
///     auto_verified_attributes: vec![ContactAttribute::Email],
///     password_policy: PasswordPolicy { minimum_length: 12, ..Default::default() },
///     mfa: Mfa::Optional,
///     account_recovery: vec![Recovery::VerifiedEmail],
///     ..UserPool::new("accounts")
/// };
/// # let _ = pool;
/// ```
#[derive(Default)]
pub struct UserPool {
    /// Its name (not unique: the stack's tag tells its own). A new name is
    /// a new pool.
    pub name: String,
    /// What users sign in with instead of a user name (email, phone
    /// number). Fixed at creation: a change is a new pool.
    pub username_attributes: Vec<ContactAttribute>,
    /// What users may sign in with besides their user name (email, phone
    /// number, preferred user name); not with `username_attributes`. Fixed
    /// at creation: a change is a new pool.
    pub alias_attributes: Vec<AliasAttribute>,
    /// Whether user names are case sensitive (`None`: not managed, AWS's
    /// default). Fixed at creation.
    pub username_case_sensitive: Option<bool>,
    /// What Cognito verifies by sending a code (email, phone number).
    pub auto_verified_attributes: Vec<ContactAttribute>,
    /// What a password must be.
    pub password_policy: PasswordPolicy,
    /// Multi-factor authentication (a TOTP app when not `Off`).
    pub mfa: Mfa,
    /// How a user recovers their account, in order of preference (empty:
    /// not managed, Cognito's legacy behaviour until set).
    pub account_recovery: Vec<Recovery>,
    /// True to let users sign themselves up (false: administrators create
    /// users).
    pub self_sign_up: bool,
    /// True to make Cognito refuse to delete the pool (`down` then fails
    /// until it is set false and applied).
    pub deletion_protection: bool,
    /// Custom attributes (`custom:NAME`): added in place; Cognito cannot
    /// change or remove one, so a program that does is refused.
    pub custom_attributes: Vec<CustomAttribute>,
    /// Standard attributes every user must have (`email`, `name`, ...).
    /// Fixed at creation: a change is a new pool.
    pub required_attributes: Vec<String>,
    /// Who sends its email (`None`: not managed).
    pub email: Option<EmailSettings>,
    /// The verification messages (`None`: not managed).
    pub verification_messages: Option<VerificationMessages>,
    /// The invitation to administrator-created users (`None`: not managed).
    pub invitation: Option<Invitation>,
    /// Functions Cognito calls (`None`: not managed; `Some(Triggers::default())`:
    /// none).
    pub triggers: Option<Triggers>,
    /// Its feature plan (`None`: not managed; Cognito's default for a new
    /// pool is Essentials).
    pub tier: Option<Tier>,
    /// Threat protection (`None`: not managed; the Plus tier).
    pub threat_protection: Option<ThreatProtection>,
    /// Contact attributes whose change takes effect only once the new value
    /// is verified (`None`: not managed).
    pub verify_before_update: Option<Vec<ContactAttribute>>,
    /// How a user may start signing in (choice-based sign-in; `None`: not
    /// managed, a password only; the Essentials or Plus tier).
    pub first_auth_factors: Option<Vec<AuthFactor>>,
}

/// An attribute a user signs in with or has verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ContactAttribute {
    /// `email`.
    Email,
    /// `phone_number`.
    PhoneNumber,
}

impl ContactAttribute {
    /// Cognito's name for it.
    pub fn as_str(&self) -> &'static str {
        match self {
            ContactAttribute::Email => "email",
            ContactAttribute::PhoneNumber => "phone_number",
        }
    }
}

/// A pool's password policy; `Default` is Cognito's.
#[derive(Debug, Clone, PartialEq)]
pub struct PasswordPolicy {
    /// At least this many characters (6 to 99).
    pub minimum_length: i32,
    /// At least one lower-case letter.
    pub require_lowercase: bool,
    /// At least one upper-case letter.
    pub require_uppercase: bool,
    /// At least one digit.
    pub require_numbers: bool,
    /// At least one symbol.
    pub require_symbols: bool,
    /// Days a temporary password (an administrator's) stays valid.
    pub temporary_password_validity_days: i32,
    /// Passwords a user may not reuse (0: none remembered; the Essentials
    /// or Plus tier only).
    pub password_history_size: i32,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            minimum_length: 8,
            require_lowercase: true,
            require_uppercase: true,
            require_numbers: true,
            require_symbols: true,
            temporary_password_validity_days: 7,
            password_history_size: 0,
        }
    }
}

/// A pool's multi-factor authentication.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub enum Mfa {
    /// None.
    #[default]
    Off,
    /// Users may add a TOTP app.
    Optional,
    /// Every user must use a TOTP app.
    On,
}

impl Mfa {
    fn sdk(&self) -> aws_sdk_cognitoidentityprovider::types::UserPoolMfaType {
        use aws_sdk_cognitoidentityprovider::types::UserPoolMfaType as T;
        match self {
            Mfa::Off => T::Off,
            Mfa::Optional => T::Optional,
            Mfa::On => T::On,
        }
    }
}

/// A way to recover an account.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Recovery {
    /// A code to the verified email address.
    VerifiedEmail,
    /// A code to the verified phone number.
    VerifiedPhoneNumber,
    /// Only an administrator resets the password.
    AdminOnly,
}

impl Recovery {
    fn as_str(&self) -> &'static str {
        match self {
            Recovery::VerifiedEmail => "verified_email",
            Recovery::VerifiedPhoneNumber => "verified_phone_number",
            Recovery::AdminOnly => "admin_only",
        }
    }
}

fn contact_list(v: &[ContactAttribute]) -> Vec<String> {
    sorted(v.iter().map(|a| a.as_str().to_string()).collect())
}

impl UserPool {
    /// A pool of this name with Cognito's defaults, where administrators
    /// create users.
    pub fn new(name: impl Into<String>) -> UserPool {
        UserPool {
            name: name.into(),
            ..Default::default()
        }
    }
}

/// The settings of a pool this kind manages, as DescribeUserPool reports them.
fn pool_props(p: &aws_sdk_cognitoidentityprovider::types::UserPoolType) -> Props {
    let pw = p.policies.as_ref().and_then(|x| x.password_policy.as_ref());
    let recovery: Option<Vec<Value>> = p.account_recovery_setting.as_ref().map(|r| {
        let mut m: Vec<_> = r.recovery_mechanisms().to_vec();
        m.sort_by_key(|x| x.priority);
        m.iter().map(|x| json!(x.name.as_str())).collect()
    });
    let mut v = json!({
        "name": p.name.clone().unwrap_or_default(),
        "tags": tags_value(p.user_pool_tags.clone().unwrap_or_default()),
        "admin_create_user_only": p.admin_create_user_config.as_ref().map(|c| c.allow_admin_create_user_only).unwrap_or(false),
        "username_attributes": sorted(p.username_attributes().iter().map(|a| a.as_str().to_string()).collect()),
        "username_case_sensitive": p.username_configuration.as_ref().map(|c| c.case_sensitive),
        "auto_verified_attributes": sorted(p.auto_verified_attributes().iter().map(|a| a.as_str().to_string()).collect()),
        "password_policy": {
            "minimum_length": pw.and_then(|x| x.minimum_length).unwrap_or(8),
            "require_lowercase": pw.map(|x| x.require_lowercase).unwrap_or(false),
            "require_uppercase": pw.map(|x| x.require_uppercase).unwrap_or(false),
            "require_numbers": pw.map(|x| x.require_numbers).unwrap_or(false),
            "require_symbols": pw.map(|x| x.require_symbols).unwrap_or(false),
            "temporary_password_validity_days": pw.map(|x| x.temporary_password_validity_days).unwrap_or(7),
            "password_history_size": pw.and_then(|x| x.password_history_size).unwrap_or(0),
        },
        "mfa": p.mfa_configuration.as_ref().map(|m| m.as_str()).unwrap_or("OFF"),
        "account_recovery": recovery,
        "deletion_protection": p.deletion_protection.as_ref().is_some_and(|d| d.as_str() == "ACTIVE"),
    });
    if let Value::Object(m) = &mut v {
        pool::read_into(p, m);
    }
    props(v)
}

/// The SDK's password policy from a setting's value.
fn password_policy(d: &Props) -> aws_sdk_cognitoidentityprovider::types::PasswordPolicyType {
    let pw = d.get("password_policy").cloned().unwrap_or_default();
    let int = |k: &str| pw[k].as_i64().map(|v| v as i32);
    let yes = |k: &str| pw[k].as_bool().unwrap_or(true);
    aws_sdk_cognitoidentityprovider::types::PasswordPolicyType::builder()
        .set_minimum_length(int("minimum_length"))
        .require_lowercase(yes("require_lowercase"))
        .require_uppercase(yes("require_uppercase"))
        .require_numbers(yes("require_numbers"))
        .require_symbols(yes("require_symbols"))
        .set_temporary_password_validity_days(int("temporary_password_validity_days"))
        .set_password_history_size(int("password_history_size").filter(|n| *n > 0))
        .build()
}

/// The SDK's account recovery setting (`None`: not managed).
fn account_recovery(
    d: &Props,
) -> Option<aws_sdk_cognitoidentityprovider::types::AccountRecoverySettingType> {
    use aws_sdk_cognitoidentityprovider::types::{RecoveryOptionNameType, RecoveryOptionType};
    let names = d.get("account_recovery")?.as_array()?;
    let options = names
        .iter()
        .enumerate()
        .filter_map(|(i, n)| {
            RecoveryOptionType::builder()
                .name(RecoveryOptionNameType::from(n.as_str().unwrap_or_default()))
                .priority(i as i32 + 1)
                .build()
                .ok()
        })
        .collect();
    Some(
        aws_sdk_cognitoidentityprovider::types::AccountRecoverySettingType::builder()
            .set_recovery_mechanisms(Some(options))
            .build(),
    )
}

fn deletion_protection(
    d: &Props,
) -> aws_sdk_cognitoidentityprovider::types::DeletionProtectionType {
    if d.get("deletion_protection") == Some(&json!(true)) {
        aws_sdk_cognitoidentityprovider::types::DeletionProtectionType::Active
    } else {
        aws_sdk_cognitoidentityprovider::types::DeletionProtectionType::Inactive
    }
}

fn mfa_of(d: &Props) -> aws_sdk_cognitoidentityprovider::types::UserPoolMfaType {
    aws_sdk_cognitoidentityprovider::types::UserPoolMfaType::from(s(d, "mfa").as_str())
}

impl Handle<UserPool> {
    /// The pool's ARN.
    pub fn arn(&self) -> Output<String> {
        self.output("arn")
    }
    /// The pool's OIDC issuer URL (AWS's, or the local identity provider's).
    pub fn issuer(&self) -> Output<String> {
        Output::of_with(self.key(), "id", |ctx, id| ctx.issuer(id))
    }
}

impl UserPool {
    async fn describe(cx: &Cx, id: &str) -> Result<Option<Observed>> {
        let r = found_or_none(
            cx.aws
                .cognito
                .describe_user_pool()
                .user_pool_id(id)
                .send()
                .await,
            |s| s.is_resource_not_found_exception(),
            format!("describe user pool {id}"),
        )?;
        Ok(r.and_then(|o| o.user_pool).map(|p| Self::observed(id, &p)))
    }

    fn observed(id: &str, p: &aws_sdk_cognitoidentityprovider::types::UserPoolType) -> Observed {
        let mut outputs = BTreeMap::new();
        outputs.insert("id".into(), id.to_string());
        if let Some(a) = &p.arn {
            outputs.insert("arn".into(), a.clone());
        }
        if let Some(d) = &p.domain {
            outputs.insert("domain".into(), d.clone());
        }
        Observed {
            id: id.to_string(),
            props: pool_props(p),
            outputs,
        }
    }

    /// UpdateUserPool resets every setting it is not sent: send back what
    /// the pool has (DescribeUserPool), every member UpdateUserPool takes
    /// that this SDK has (not yet DcrConfiguration), with this kind's
    /// settings from `d` over it (the tags as declared: TagResource changes
    /// them, before this, and a read right after may be stale).
    async fn update_settings(cx: &Cx, id: &str, d: &Props) -> Result<()> {
        let p = cx
            .aws
            .cognito
            .describe_user_pool()
            .user_pool_id(id)
            .send()
            .await
            .map_err(ctx_err(format!("describe user pool {id}")))?
            .user_pool
            .ok_or_else(|| Error::Other(format!("user pool {id} vanished")))?;
        use aws_sdk_cognitoidentityprovider::types::{UserPoolPolicyType, VerifiedAttributeType};
        let policies = UserPoolPolicyType::builder()
            .password_policy(password_policy(d))
            .set_sign_in_policy(
                (d.get("first_auth_factors").map(pool::sign_in_sdk))
                    .or_else(|| p.policies.as_ref().and_then(|x| x.sign_in_policy.clone())),
            )
            .build();
        let admin = AdminCreateUserConfigType::builder()
            .allow_admin_create_user_only(d.get("admin_create_user_only") == Some(&json!(true)))
            .set_invite_message_template(d.get("invitation").map(pool::invitation_sdk).or_else(
                || {
                    p.admin_create_user_config
                        .as_ref()
                        .and_then(|c| c.invite_message_template.clone())
                },
            ))
            .build();
        let verified: Vec<VerifiedAttributeType> = strings(d, "auto_verified_attributes")
            .iter()
            .map(|a| VerifiedAttributeType::from(a.as_str()))
            .collect();
        // The template carries the verification messages; the older
        // separate fields only when a pool has no template.
        let template = (d.get("verification_messages").map(pool::verification_sdk))
            .or(p.verification_message_template.clone());
        let legacy = template.is_none();
        cx.aws
            .cognito
            .update_user_pool()
            .user_pool_id(id)
            .policies(policies)
            .deletion_protection(deletion_protection(d))
            .set_lambda_config(
                (d.get("triggers")
                    .map(|t| pool::triggers_sdk(t, p.lambda_config.as_ref())))
                .or(p.lambda_config.clone()),
            )
            .set_auto_verified_attributes(Some(verified))
            .set_sms_verification_message(p.sms_verification_message.clone().filter(|_| legacy))
            .set_email_verification_message(p.email_verification_message.clone().filter(|_| legacy))
            .set_email_verification_subject(p.email_verification_subject.clone().filter(|_| legacy))
            .set_verification_message_template(template)
            .set_sms_authentication_message(p.sms_authentication_message.clone())
            .set_user_attribute_update_settings(
                (d.get("verify_before_update").map(pool::verify_sdk))
                    .or(p.user_attribute_update_settings.clone()),
            )
            .mfa_configuration(mfa_of(d))
            .set_device_configuration(p.device_configuration.clone())
            .set_email_configuration(
                (d.get("email").map(pool::email_sdk)).or(p.email_configuration.clone()),
            )
            .set_sms_configuration(p.sms_configuration.clone())
            .admin_create_user_config(admin)
            .set_user_pool_add_ons(
                (d.get("threat_protection")
                    .and_then(|t| pool::threat_sdk(t, p.user_pool_add_ons.as_ref())))
                .or(p.user_pool_add_ons.clone()),
            )
            // Not managed by this kind (or not here: the tags go through
            // TagResource), sent as the pool has them.
            .set_pool_name(p.name.clone())
            .set_user_pool_tags(Some(string_map(d, "tags").into_iter().collect()))
            .set_acr_configuration(p.acr_configuration.clone())
            .set_key_configuration(p.key_configuration.clone())
            .set_issuer_configuration(p.issuer_configuration.clone())
            .set_account_recovery_setting(
                account_recovery(d).or(p.account_recovery_setting.clone()),
            )
            .set_user_pool_tier(
                (d.get("tier").and_then(pool::tier_sdk)).or(p.user_pool_tier.clone()),
            )
            .send()
            .await
            .map_err(ctx_err(format!("update user pool {id}")))?;
        Ok(())
    }

    /// MFA with a TOTP app as its factor (SetUserPoolMfaConfig: the only
    /// call that turns a factor on).
    async fn set_mfa(cx: &Cx, id: &str, d: &Props) -> Result<()> {
        let mfa = mfa_of(d);
        let totp = aws_sdk_cognitoidentityprovider::types::SoftwareTokenMfaConfigType::builder()
            .enabled(mfa.as_str() != "OFF")
            .build();
        cx.aws
            .cognito
            .set_user_pool_mfa_config()
            .user_pool_id(id)
            .mfa_configuration(mfa)
            .software_token_mfa_configuration(totp)
            .send()
            .await
            .map_err(ctx_err(format!("set the MFA of user pool {id}")))?;
        Ok(())
    }
}

impl UserPool {
    /// The pools with this stack's name and `deployer:stack-id` tag (but `skip`).
    async fn ours(&self, cx: &Cx, skip: Option<&str>) -> Result<Vec<Observed>> {
        if self.name.is_empty() {
            return Ok(vec![]);
        }
        let mut pages = cx
            .aws
            .cognito
            .list_user_pools()
            .max_results(60)
            .into_paginator()
            .items()
            .send();
        let mut candidates = vec![];
        while let Some(p) = pages.next().await {
            let p = p.map_err(ctx_err("list user pools"))?;
            if p.name.as_deref() == Some(self.name.as_str()) && p.id.as_deref() != skip {
                candidates.extend(p.id);
            }
        }
        let mut out = vec![];
        for id in candidates {
            if let Some(o) = Self::describe(cx, &id).await? {
                if o.props["tags"].get(STACK_ID_TAG).and_then(|v| v.as_str())
                    == Some(&cx.ctx.stack_id)
                {
                    out.push(o);
                }
            }
        }
        Ok(out)
    }
}

#[async_trait::async_trait]
impl Kind for UserPool {
    fn provider(&self) -> Arc<dyn Provider> {
        Arc::new(UserPoolProvider)
    }
    fn deps(&self) -> Vec<String> {
        self.triggers.as_ref().map(|t| t.deps()).unwrap_or_default()
    }
    fn replace_on(&self) -> &'static [&'static str] {
        &[
            "name",
            "username_attributes",
            "alias_attributes",
            "username_case_sensitive",
            "required_attributes",
        ]
    }
    fn non_unique_name(&self) -> bool {
        true
    }
    fn desired(&self, ctx: &Ctx, k: &Known) -> Desired {
        let pw = &self.password_policy;
        let mut v = json!({
            "name": self.name,
            "tags": tags_value(ctx.tags.clone()),
            "admin_create_user_only": !self.self_sign_up,
            "username_attributes": contact_list(&self.username_attributes),
            "auto_verified_attributes": contact_list(&self.auto_verified_attributes),
            "password_policy": {
                "minimum_length": pw.minimum_length,
                "require_lowercase": pw.require_lowercase,
                "require_uppercase": pw.require_uppercase,
                "require_numbers": pw.require_numbers,
                "require_symbols": pw.require_symbols,
                "temporary_password_validity_days": pw.temporary_password_validity_days,
                "password_history_size": pw.password_history_size,
            },
            "mfa": self.mfa.sdk().as_str(),
            "deletion_protection": self.deletion_protection,
        });
        // Left unset, these are not managed (Cognito has no way to unset them).
        if let Some(c) = self.username_case_sensitive {
            v["username_case_sensitive"] = json!(c);
        }
        if !self.account_recovery.is_empty() {
            v["account_recovery"] = json!(self
                .account_recovery
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>());
        }
        let mut i = Inputs::new(ctx, k);
        pool::declared_into(self, &mut i, &mut v);
        i.finish(v)
    }
    async fn read(&self, cx: &Cx, prior: &Prior) -> Result<Read> {
        if let Some(id) = &prior.id {
            if let Some(o) = Self::describe(cx, id).await? {
                return Ok(Read::Found(o));
            }
        }
        // Pool names are not unique: find ours by name and stack tag.
        Ok(match self.ours(cx, None).await?.into_iter().next() {
            Some(o) => Read::Found(o),
            None => Read::Missing,
        })
    }
    async fn strays(
        &self,
        cx: &Cx,
        _parent: Option<&str>,
        keep: &str,
        _made_at: Option<i64>,
    ) -> Result<Vec<String>> {
        // Tagged: the stack ID proves it ours.
        Ok(self
            .ours(cx, Some(keep))
            .await?
            .into_iter()
            .map(|o| o.id)
            .collect())
    }
    async fn create(&self, cx: &Cx, d: &Props, _k: &Known) -> Result<Observed> {
        use aws_sdk_cognitoidentityprovider::types::{
            UserPoolPolicyType, UsernameAttributeType, UsernameConfigurationType,
            VerifiedAttributeType,
        };
        let admin = AdminCreateUserConfigType::builder()
            .allow_admin_create_user_only(d.get("admin_create_user_only") == Some(&json!(true)))
            .set_invite_message_template(d.get("invitation").map(pool::invitation_sdk))
            .build();
        let out = cx
            .aws
            .cognito
            .create_user_pool()
            .pool_name(s(d, "name"))
            .set_user_pool_tags(Some(string_map(d, "tags").into_iter().collect()))
            .admin_create_user_config(admin)
            .policies(
                UserPoolPolicyType::builder()
                    .password_policy(password_policy(d))
                    .set_sign_in_policy(d.get("first_auth_factors").map(pool::sign_in_sdk))
                    .build(),
            )
            .set_username_attributes(Some(
                strings(d, "username_attributes")
                    .iter()
                    .map(|a| UsernameAttributeType::from(a.as_str()))
                    .collect(),
            ))
            .set_alias_attributes(pool::aliases_sdk(d))
            .set_username_configuration(
                d.get("username_case_sensitive")
                    .and_then(|v| v.as_bool())
                    .and_then(|c| {
                        UsernameConfigurationType::builder()
                            .case_sensitive(c)
                            .build()
                            .ok()
                    }),
            )
            .set_auto_verified_attributes(Some(
                strings(d, "auto_verified_attributes")
                    .iter()
                    .map(|a| VerifiedAttributeType::from(a.as_str()))
                    .collect(),
            ))
            .set_account_recovery_setting(account_recovery(d))
            .deletion_protection(deletion_protection(d))
            .set_schema(pool::schema(d))
            .set_email_configuration(d.get("email").map(pool::email_sdk))
            .set_verification_message_template(
                d.get("verification_messages").map(pool::verification_sdk),
            )
            .set_lambda_config(d.get("triggers").map(|t| pool::triggers_sdk(t, None)))
            .set_user_pool_tier(d.get("tier").and_then(pool::tier_sdk))
            .set_user_pool_add_ons(
                d.get("threat_protection")
                    .and_then(|t| pool::threat_sdk(t, None)),
            )
            .set_user_attribute_update_settings(d.get("verify_before_update").map(pool::verify_sdk))
            .send()
            .await
            .map_err(ctx_err("create user pool"))?;
        let pool = out
            .user_pool
            .ok_or_else(|| Error::Other("CreateUserPool returned no pool".into()))?;
        let id = pool
            .id
            .clone()
            .ok_or_else(|| Error::Other("CreateUserPool returned no pool ID".into()))?;
        // MFA after the pool: its factor is turned on by its own call, and
        // the pool is read again. Else CreateUserPool's answer is the pool.
        if s(d, "mfa") == "OFF" {
            return Ok(Self::observed(&id, &pool));
        }
        Self::set_mfa(cx, &id, d).await?;
        Self::describe(cx, &id)
            .await?
            .ok_or_else(|| Error::Other(format!("user pool {id} vanished after create")))
    }
    async fn update(&self, cx: &Cx, d: &Props, o: &Observed, _k: &Known) -> Result<Observed> {
        // Tags go through TagResource/UntagResource: UpdateUserPool resets
        // every setting it is not sent, so it is called only for a setting
        // this kind manages, with all of them.
        if d.get("tags") != o.props.get("tags") {
            let arn = cx.ctx.arn(
                "cognito-idp",
                &cx.ctx.region,
                &cx.ctx.account,
                &format!("userpool/{}", o.id),
            );
            let stale = stale_tags(d, &o.props);
            if !stale.is_empty() {
                cx.aws
                    .cognito
                    .untag_resource()
                    .resource_arn(&arn)
                    .set_tag_keys(Some(stale))
                    .send()
                    .await
                    .map_err(ctx_err(format!("untag user pool {}", o.id)))?;
            }
            cx.aws
                .cognito
                .tag_resource()
                .resource_arn(&arn)
                .set_tags(Some(string_map(d, "tags").into_iter().collect()))
                .send()
                .await
                .map_err(ctx_err(format!("tag user pool {}", o.id)))?;
        }
        let changed = |k: &str| d.get(k).is_some() && d.get(k) != o.props.get(k);
        if changed("custom_attributes") {
            let add = pool::custom_attributes_to_add(&o.id, d, &o.props)?;
            if !add.is_empty() {
                cx.aws
                    .cognito
                    .add_custom_attributes()
                    .user_pool_id(&o.id)
                    .set_custom_attributes(Some(add))
                    .send()
                    .await
                    .map_err(ctx_err(format!(
                        "add custom attributes to user pool {}",
                        o.id
                    )))?;
            }
        }
        let settings = [
            "admin_create_user_only",
            "auto_verified_attributes",
            "password_policy",
            "mfa",
            "account_recovery",
            "deletion_protection",
            "email",
            "verification_messages",
            "invitation",
            "triggers",
            "tier",
            "threat_protection",
            "verify_before_update",
            "first_auth_factors",
        ];
        // MFA's factor first: Cognito refuses MFA on or optional in
        // UpdateUserPool while no factor is enabled (Terraform calls
        // SetUserPoolMfaConfig first too); turning it off works either way.
        if changed("mfa") {
            Self::set_mfa(cx, &o.id, d).await?;
        }
        if settings.iter().any(|k| changed(k)) {
            Self::update_settings(cx, &o.id, d).await?;
        }
        Self::describe(cx, &o.id)
            .await?
            .ok_or_else(|| Error::Other(format!("user pool {} vanished after update", o.id)))
    }
}

/// Reads and deletes [`UserPool`]s by ID.
pub struct UserPoolProvider;

#[async_trait::async_trait]
impl Provider for UserPoolProvider {
    fn kind(&self) -> &'static str {
        "aws:cognito:UserPool"
    }
    async fn read(&self, cx: &Cx, id: &str, _parent: Option<&str>) -> Result<Read> {
        Ok(match UserPool::describe(cx, id).await? {
            Some(o) => Read::Found(o),
            None => Read::Missing,
        })
    }
    async fn delete(&self, cx: &Cx, id: &str, _parent: Option<&str>) -> Result<()> {
        // A pool with a domain cannot be deleted: remove the domain first.
        if let Some(o) = UserPool::describe(cx, id).await? {
            if let Some(d) = o.outputs.get("domain") {
                delete_domain(cx, d, id).await?;
            }
        }
        // DeleteUserPoolDomain is asynchronous: until the domain is really
        // gone, DeleteUserPool answers InvalidParameterException "User pool
        // cannot be deleted. It has a domain configured that should be
        // deleted first."
        let r = crate::aws::with_backoff(
            "delete user pool (its domain is still being deleted)",
            std::time::Duration::from_secs(120),
            |e: &aws_sdk_cognitoidentityprovider::error::SdkError<
                aws_sdk_cognitoidentityprovider::operation::delete_user_pool::DeleteUserPoolError,
                _,
            >| {
                use aws_sdk_cognitoidentityprovider::operation::delete_user_pool::DeleteUserPoolError as E;
                matches!(e.as_service_error(), Some(E::InvalidParameterException(x)) if pool_has_domain(x.message()))
            },
            || cx.aws.cognito.delete_user_pool().user_pool_id(id).send(),
        )
        .await;
        match r {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(())
            }
            Err(e)
                if e.as_service_error().is_some_and(|s| {
                    s.is_invalid_parameter_exception()
                        && s.meta().message().is_some_and(|m| m.contains("deletion protection"))
                }) =>
            {
                Err(Error::Other(format!(
                    "user pool {id} was not deleted: its deletion protection is on, and Cognito refuses. Set `deletion_protection: false` on it, run `deployer up`, then this again"
                )))
            }
            Err(e) => Err(Error::aws(format!("delete user pool {id}"), e)),
        }
    }
}

/// Cognito's answer to DeleteUserPool while the pool's domain is still
/// being deleted.
pub fn pool_has_domain(message: Option<&str>) -> bool {
    message.is_some_and(|m| m.contains("has a domain configured"))
}

// ---------------------------------------------------------------- domain

/// The pool's hosted domain (`PREFIX.auth.REGION.amazoncognito.com`).
pub struct Domain {
    /// The domain prefix, exact or derived.
    pub prefix: DomainPrefix,
    /// The pool's ID (`pool.id()`).
    pub user_pool_id: Input<String>,
}

/// A Cognito domain prefix is global to a region: either exact, or unique per
/// (seed, account, region) so that two accounts keeping one default do not
/// clash. A UUIDv5 is hexadecimal and so never holds the reserved words
/// aws/amazon/cognito.
pub enum DomainPrefix {
    /// This prefix.
    Exact(String),
    /// A UUIDv5 of this seed, the account and the region.
    Unique(String),
}

impl Domain {
    fn prefix(&self, ctx: &Ctx) -> String {
        match &self.prefix {
            DomainPrefix::Exact(p) => p.clone(),
            DomainPrefix::Unique(seed) => {
                let name = format!("urn:{seed}:{}:{}", ctx.account, ctx.region);
                uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, name.as_bytes()).to_string()
            }
        }
    }
}

impl Handle<Domain> {
    /// The hosted UI's base URL (AWS's, or the local identity provider's).
    pub fn url(&self) -> Output<String> {
        Output::of_with(self.key(), "domain", |ctx, d| ctx.hosted_domain(d))
    }
}

async fn delete_domain(cx: &Cx, domain: &str, pool: &str) -> Result<()> {
    match cx
        .aws
        .cognito
        .delete_user_pool_domain()
        .domain(domain)
        .user_pool_id(pool)
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
        // Cognito answers InvalidParameterException both for a domain that
        // is already gone and for one it refuses to delete (another pool's,
        // a custom domain in use): look, and ignore it only when the domain
        // is no longer this pool's.
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_invalid_parameter_exception()) =>
        {
            match Domain::describe(cx, domain).await? {
                Some(o) if o.outputs.get("parent_id").map(String::as_str) == Some(pool) => {
                    Err(Error::aws(format!("delete user pool domain {domain}"), e))
                }
                _ => Ok(()),
            }
        }
        Err(e) => Err(Error::aws(format!("delete user pool domain {domain}"), e)),
    }
}

impl Domain {
    async fn describe(cx: &Cx, domain: &str) -> Result<Option<Observed>> {
        let out = cx
            .aws
            .cognito
            .describe_user_pool_domain()
            .domain(domain)
            .send()
            .await;
        let d = match out {
            Ok(o) => o.domain_description,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                None
            }
            Err(e) => return Err(Error::aws(format!("describe domain {domain}"), e)),
        };
        let Some(d) = d else { return Ok(None) };
        let pool = d.user_pool_id.clone().unwrap_or_default();
        if pool.is_empty() {
            return Ok(None); // AWS answers an empty description for no domain
        }
        let mut outputs = parent_out(&pool);
        outputs.insert("domain".into(), domain.to_string());
        if let Some(st) = &d.status {
            outputs.insert("status".into(), st.as_str().to_string());
        }
        Ok(Some(Observed {
            id: domain.to_string(),
            props: props(json!({
                "domain": domain,
                "user_pool_id": pool,
                "managed_login_version": d.managed_login_version.unwrap_or(1),
            })),
            outputs,
        }))
    }

    async fn wait_active(cx: &Cx, domain: &str) -> Result<Observed> {
        // A prefix domain takes up to about a minute to become ACTIVE.
        let r = crate::aws::with_backoff(
            "domain to become ACTIVE",
            std::time::Duration::from_secs(180),
            |e: &Error| matches!(e, Error::Other(m) if m.starts_with("not active")),
            || async {
                match Self::describe(cx, domain).await? {
                    Some(o) if o.outputs.get("status").is_none_or(|s| s == "ACTIVE") => Ok(o),
                    Some(o) if o.outputs.get("status").is_some_and(|s| s == "FAILED") => Err(
                        Error::Other(format!("Cognito domain {domain} is FAILED; run `deployer up` again to recreate it")),
                    ),
                    _ => Err(Error::Other(format!("not active yet: {domain}"))),
                }
            },
        )
        .await;
        r.map_err(|e| match e {
            Error::Other(m) if m.starts_with("not active") => Error::Other(format!(
                "Cognito domain {domain} did not become ACTIVE within 3 minutes; run `deployer up` again"
            )),
            e => e,
        })
    }
}

#[async_trait::async_trait]
impl Kind for Domain {
    fn provider(&self) -> Arc<dyn Provider> {
        Arc::new(DomainProvider)
    }
    fn deps(&self) -> Vec<String> {
        self.user_pool_id.deps().to_vec()
    }
    fn replace_on(&self) -> &'static [&'static str] {
        &["domain", "user_pool_id"]
    }
    fn belongs_through(&self) -> Option<(&'static str, String)> {
        let pool = self.user_pool_id.deps().first()?.clone();
        Some(("user_pool_id", pool))
    }
    fn desired(&self, ctx: &Ctx, k: &Known) -> Desired {
        let mut i = Inputs::new(ctx, k);
        let v = json!({
            "domain": self.prefix(ctx),
            "user_pool_id": i.get("user_pool_id", &self.user_pool_id),
            "managed_login_version": 1,
        });
        i.finish(v)
    }
    async fn read(&self, cx: &Cx, prior: &Prior) -> Result<Read> {
        let want = self.prefix(&cx.ctx);
        let name = prior.id.clone().unwrap_or_else(|| want.clone());
        if name.is_empty() {
            return Ok(Read::Missing);
        }
        Ok(match Self::describe(cx, &name).await? {
            Some(o) => Read::Found(o),
            None if name != want && !want.is_empty() => match Self::describe(cx, &want).await? {
                Some(o) => Read::Found(o),
                None => Read::Missing,
            },
            None => Read::Missing,
        })
    }
    async fn create(&self, cx: &Cx, d: &Props, _k: &Known) -> Result<Observed> {
        let domain = s(d, "domain");
        let pool = s(d, "user_pool_id");
        let r = crate::aws::with_backoff(
            "create Cognito domain",
            std::time::Duration::from_secs(60),
            |e: &aws_sdk_cognitoidentityprovider::error::SdkError<_, _>| {
                e.as_service_error()
                    .is_some_and(|s: &aws_sdk_cognitoidentityprovider::operation::create_user_pool_domain::CreateUserPoolDomainError| s.is_concurrent_modification_exception())
            },
            || {
                cx.aws
                    .cognito
                    .create_user_pool_domain()
                    .domain(&domain)
                    .user_pool_id(&pool)
                    .managed_login_version(1)
                    .send()
            },
        )
        .await;
        if let Err(e) = r {
            // Adopt a domain already on this pool (lost state entry).
            match Self::describe(cx, &domain).await? {
                Some(o) if s(&o.props, "user_pool_id") == pool => {}
                _ => return Err(Error::aws(format!("create Cognito domain {domain}"), e)),
            }
        }
        Self::wait_active(cx, &domain).await
    }
    async fn update(&self, cx: &Cx, d: &Props, o: &Observed, _k: &Known) -> Result<Observed> {
        cx.aws
            .cognito
            .update_user_pool_domain()
            .domain(&o.id)
            .user_pool_id(s(d, "user_pool_id"))
            .managed_login_version(1)
            .send()
            .await
            .map_err(ctx_err(format!("update Cognito domain {}", o.id)))?;
        Self::wait_active(cx, &o.id).await
    }
}

/// Reads and deletes [`Domain`]s by ID.
pub struct DomainProvider;

#[async_trait::async_trait]
impl Provider for DomainProvider {
    fn kind(&self) -> &'static str {
        "aws:cognito:UserPoolDomain"
    }
    async fn read(&self, cx: &Cx, id: &str, _parent: Option<&str>) -> Result<Read> {
        Ok(match Domain::describe(cx, id).await? {
            Some(o) => Read::Found(o),
            None => Read::Missing,
        })
    }
    async fn delete(&self, cx: &Cx, id: &str, parent: Option<&str>) -> Result<()> {
        let pool = match parent {
            Some(p) => p.to_string(),
            None => match Domain::describe(cx, id).await? {
                Some(o) => s(&o.props, "user_pool_id"),
                None => return Ok(()),
            },
        };
        delete_domain(cx, id, &pool).await
    }
}

// ---------------------------------------------------------------- resource server

/// An OAuth resource server (API) of a pool, with its scopes.
#[derive(Default)]
pub struct ResourceServer {
    /// The pool's ID (`pool.id()`).
    pub user_pool_id: Input<String>,
    /// Its identifier, the scopes' prefix (`IDENTIFIER/NAME`).
    pub identifier: String,
    /// Its display name.
    pub name: String,
    /// (scope name, description)
    pub scopes: Vec<(String, String)>,
}

impl Handle<ResourceServer> {
    /// A scope's full name (`IDENTIFIER/NAME`), for an app client.
    pub fn scope(&self, name: &str) -> Output<String> {
        let name = name.to_string();
        self.id().map(move |id| format!("{id}/{name}"))
    }
}

#[async_trait::async_trait]
impl Kind for ResourceServer {
    fn provider(&self) -> Arc<dyn Provider> {
        Arc::new(ResourceServerProvider)
    }
    fn deps(&self) -> Vec<String> {
        self.user_pool_id.deps().to_vec()
    }
    fn parent(&self) -> Option<String> {
        self.user_pool_id.deps().first().cloned()
    }
    fn desired(&self, _ctx: &Ctx, _k: &Known) -> Desired {
        let scopes: Vec<Value> = self
            .scopes
            .iter()
            .map(|(n, d)| json!({"name": n, "description": d}))
            .collect();
        props(json!({"name": self.name, "scopes": scopes})).into()
    }
    async fn read(&self, cx: &Cx, prior: &Prior) -> Result<Read> {
        let ident = prior.id_or(&self.identifier);
        ResourceServerProvider
            .read(cx, &ident, prior.parent_id.as_deref())
            .await
    }
    async fn create(&self, cx: &Cx, d: &Props, k: &Known) -> Result<Observed> {
        let pool = self.user_pool_id.require(&cx.ctx, k)?;
        let r = cx
            .aws
            .cognito
            .create_resource_server()
            .user_pool_id(&pool)
            .identifier(&self.identifier)
            .name(s(d, "name"))
            .set_scopes(Some(scopes(d)?))
            .send()
            .await;
        if let Err(e) = r {
            // Identifiers are unique per pool: adopt one that already exists.
            let prior = Prior {
                parent_id: Some(pool.clone()),
                ..Default::default()
            };
            return match self.read(cx, &prior).await? {
                Read::Found(o) => self.update(cx, d, &o, k).await,
                _ => Err(Error::aws("create resource server", e)),
            };
        }
        let mut outputs = parent_out(&pool);
        outputs.insert("id".into(), self.identifier.clone());
        Ok(Observed {
            id: self.identifier.clone(),
            props: d.clone(),
            outputs,
        })
    }
    async fn update(&self, cx: &Cx, d: &Props, o: &Observed, _k: &Known) -> Result<Observed> {
        if diff(d, &o.props).is_empty() {
            return Ok(o.clone());
        }
        cx.aws
            .cognito
            .update_resource_server()
            .user_pool_id(o.outputs.get("parent_id").cloned().unwrap_or_default())
            .identifier(&o.id)
            .name(s(d, "name"))
            .set_scopes(Some(scopes(d)?))
            .send()
            .await
            .map_err(ctx_err("update resource server"))?;
        Ok(Observed {
            props: d.clone(),
            ..o.clone()
        })
    }
}

/// Reads and deletes [`ResourceServer`]s by ID.
pub struct ResourceServerProvider;

#[async_trait::async_trait]
impl Provider for ResourceServerProvider {
    fn kind(&self) -> &'static str {
        "aws:cognito:ResourceServer"
    }
    async fn read(&self, cx: &Cx, id: &str, parent: Option<&str>) -> Result<Read> {
        let Some(pool) = parent else {
            return Ok(Read::Missing);
        };
        let ident = id.to_string();
        let r = cx
            .aws
            .cognito
            .describe_resource_server()
            .user_pool_id(pool)
            .identifier(&ident)
            .send()
            .await;
        let rs = match r {
            Ok(o) => o.resource_server,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                None
            }
            Err(e) => return Err(Error::aws("describe resource server", e)),
        };
        let Some(rs) = rs else {
            return Ok(Read::Missing);
        };
        let scopes: Vec<Value> = rs
            .scopes
            .unwrap_or_default()
            .into_iter()
            .map(|s| json!({"name": s.scope_name, "description": s.scope_description}))
            .collect();
        let mut outputs = parent_out(pool);
        outputs.insert("id".into(), ident.clone());
        Ok(Read::Found(Observed {
            id: ident,
            props: props(json!({"name": rs.name.unwrap_or_default(), "scopes": scopes})),
            outputs,
        }))
    }
    async fn delete(&self, cx: &Cx, id: &str, parent: Option<&str>) -> Result<()> {
        let Some(pool) = parent else { return Ok(()) };
        match cx
            .aws
            .cognito
            .delete_resource_server()
            .user_pool_id(pool)
            .identifier(id)
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
            Err(e) => Err(Error::aws("delete resource server", e)),
        }
    }
}

fn scopes(d: &Props) -> Result<Vec<ResourceServerScopeType>> {
    d.get("scopes")
        .and_then(|v| v.as_array())
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|sc| {
            ResourceServerScopeType::builder()
                .scope_name(sc["name"].as_str().unwrap_or_default())
                .scope_description(sc["description"].as_str().unwrap_or_default())
                .build()
                .map_err(|e| Error::Other(e.to_string()))
        })
        .collect()
}

// ---------------------------------------------------------------- users

/// A confirmed user of a pool with a permanent password, a member of its
/// groups (`cognito:groups` in its tokens).
pub struct PoolUser {
    /// The pool's ID (`pool.id()`).
    pub user_pool_id: Input<String>,
    /// The user name.
    pub name: String,
    /// Its password and attributes.
    pub user: User,
    /// The groups it is a member of (`group.name()`), and no other. Give
    /// the group's output, not a plain name: the output orders the user
    /// after the group (a plain name of a group made in the same run can
    /// be sent before the group exists).
    pub groups: Vec<Input<String>>,
    /// False to keep the user from signing in (`AdminDisableUser`).
    pub enabled: bool,
}

impl PoolUser {
    /// The user `user` (its name and password) in the pool, enabled, in no
    /// group.
    pub fn new(user_pool_id: Input<String>, user: User) -> PoolUser {
        PoolUser {
            user_pool_id,
            name: user.name.clone(),
            user,
            groups: vec![],
            enabled: true,
        }
    }

    /// The names of the groups the user is a member of, sorted; `None` when
    /// the user or its pool is gone (a delete that landed between this call
    /// and the user's read beside it: a killed run's request in flight).
    async fn groups_of(cx: &Cx, pool: &str, name: &str) -> Result<Option<Vec<String>>> {
        let mut pages = cx
            .aws
            .cognito
            .admin_list_groups_for_user()
            .user_pool_id(pool)
            .username(name)
            .into_paginator()
            .items()
            .send();
        let mut out = vec![];
        while let Some(g) = pages.next().await {
            let g = match g {
                Ok(g) => g,
                Err(e)
                    if e.as_service_error().is_some_and(|s| {
                        s.is_resource_not_found_exception() || s.is_user_not_found_exception()
                    }) =>
                {
                    return Ok(None)
                }
                Err(e) => return Err(Error::aws(format!("list the groups of user {name}"), e)),
            };
            out.extend(g.group_name);
        }
        Ok(Some(sorted(out)))
    }
}

/// What `desired` and `read` say of a password whose fingerprint in the state
/// matches the config: the comparison happens in `read`, against the slow
/// hash, so that the plan stays a pure diff of property maps.
pub const PASSWORD_MATCHES: &str = "(matches the fingerprint in the state)";
/// What `read` says when the config's password does not match (or the state
/// holds no fingerprint, or an old-format one): the password is set again.
pub const PASSWORD_CHANGED: &str = "(differs from the fingerprint in the state)";

/// A slow, salted fingerprint of a user's password (argon2id, PHC string
/// with its own random salt and parameters), kept in the state so that a
/// changed password in the config is noticed. A stolen state file does not
/// let weak passwords be guessed quickly offline. Never the password itself.
pub fn password_fingerprint(password: &str) -> String {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
}

/// True when `fingerprint` (a PHC string) is the argon2id hash of `password`.
/// The fast salted SHA-256 fingerprints of earlier versions never match, so
/// the first `up` after the upgrade sets the password once and records an
/// argon2id fingerprint instead.
pub fn password_matches(fingerprint: &str, password: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(fingerprint).is_ok_and(|h| {
        h.algorithm.as_str() == "argon2id"
            && argon2::Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
    })
}

/// Lower-case hexadecimal of `b`.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl PoolUser {
    /// The user of this name in the pool, if there is one.
    async fn get(
        cx: &Cx,
        pool: &str,
        name: &str,
    ) -> Result<
        Option<aws_sdk_cognitoidentityprovider::operation::admin_get_user::AdminGetUserOutput>,
    > {
        let r = cx
            .aws
            .cognito
            .admin_get_user()
            .user_pool_id(pool)
            .username(name)
            .send()
            .await;
        match r {
            Ok(u) => Ok(Some(u)),
            Err(e)
                if e.as_service_error().is_some_and(|s| {
                    s.is_user_not_found_exception() || s.is_resource_not_found_exception()
                }) =>
            {
                Ok(None)
            }
            Err(e) => Err(Error::aws(format!("get user {name}"), e)),
        }
    }
}

#[async_trait::async_trait]
impl Kind for PoolUser {
    fn provider(&self) -> Arc<dyn Provider> {
        Arc::new(PoolUserProvider)
    }
    fn deps(&self) -> Vec<String> {
        deps_of(
            std::iter::once(self.user_pool_id.deps()).chain(self.groups.iter().map(|g| g.deps())),
        )
    }
    fn parent(&self) -> Option<String> {
        self.user_pool_id.deps().first().cloned()
    }
    fn desired(&self, ctx: &Ctx, k: &Known) -> Desired {
        let mut i = Inputs::new(ctx, k);
        let v = json!({
            "attributes": tags_value(self.user.attributes.clone()),
            "password": PASSWORD_MATCHES,
            "status": "CONFIRMED",
            "enabled": self.enabled,
            "groups": sorted(i.list("groups", &self.groups)),
        });
        i.finish(v)
    }
    async fn read(&self, cx: &Cx, prior: &Prior) -> Result<Read> {
        let Some(pool) = &prior.parent_id else {
            return Ok(Read::Missing);
        };
        // Both at once (one round trip); for a missing user, the groups'
        // answer (an error) is not looked at.
        let (u, groups) = tokio::join!(
            PoolUser::get(cx, pool, &self.name),
            Self::groups_of(cx, pool, &self.name)
        );
        let Some(u) = u? else {
            return Ok(Read::Missing);
        };
        let Some(groups) = groups? else {
            return Ok(Read::Missing);
        };
        let attrs = u
            .user_attributes
            .unwrap_or_default()
            .into_iter()
            .filter(|a| self.user.attributes.contains_key(&a.name))
            .map(|a| (a.name, a.value.unwrap_or_default()));
        let status = u
            .user_status
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        let stored = prior
            .outputs
            .get("password_fingerprint")
            .cloned()
            .unwrap_or_default();
        let matches = status == "CONFIRMED" && password_matches(&stored, &self.user.password);
        let password = if matches {
            PASSWORD_MATCHES
        } else {
            PASSWORD_CHANGED
        };
        let mut outputs = parent_out(pool);
        outputs.insert("id".into(), self.name.clone());
        if !stored.is_empty() {
            outputs.insert("password_fingerprint".into(), stored);
        }
        Ok(Read::Found(Observed {
            id: self.name.clone(),
            props: props(json!({
                "attributes": tags_value(attrs),
                "password": password,
                "status": status,
                "enabled": u.enabled,
                "groups": groups,
            })),
            outputs,
        }))
    }
    async fn create(&self, cx: &Cx, d: &Props, k: &Known) -> Result<Observed> {
        let pool = self.user_pool_id.require(&cx.ctx, k)?;
        let attrs = attribute_list(&string_map(d, "attributes"))?;
        let r = cx
            .aws
            .cognito
            .admin_create_user()
            .user_pool_id(&pool)
            .username(&self.name)
            .message_action(MessageActionType::Suppress)
            .set_user_attributes(Some(attrs))
            .send()
            .await;
        match r {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_username_exists_exception()) => {}
            Err(e) => return Err(Error::aws(format!("create user {}", self.name), e)),
        }
        let prior = Prior {
            parent_id: Some(pool),
            ..Default::default()
        };
        match self.read(cx, &prior).await? {
            Read::Found(o) => self.update(cx, d, &o, k).await,
            _ => Err(Error::Other(format!(
                "user {} vanished after create",
                self.name
            ))),
        }
    }
    async fn update(&self, cx: &Cx, d: &Props, o: &Observed, _k: &Known) -> Result<Observed> {
        let pool = o.outputs.get("parent_id").cloned().unwrap_or_default();
        let want = string_map(d, "attributes");
        let have = string_map(&o.props, "attributes");
        let changed: BTreeMap<String, String> = want
            .into_iter()
            .filter(|(k, v)| have.get(k) != Some(v))
            .collect();
        if !changed.is_empty() {
            cx.aws
                .cognito
                .admin_update_user_attributes()
                .user_pool_id(&pool)
                .username(&self.name)
                .set_user_attributes(Some(attribute_list(&changed)?))
                .send()
                .await
                .map_err(ctx_err(format!("update attributes of user {}", self.name)))?;
        }
        if d.get("enabled") != o.props.get("enabled") {
            if d.get("enabled") == Some(&Value::Bool(false)) {
                cx.aws
                    .cognito
                    .admin_disable_user()
                    .user_pool_id(&pool)
                    .username(&self.name)
                    .send()
                    .await
                    .map_err(ctx_err(format!("disable user {}", self.name)))?;
            } else {
                cx.aws
                    .cognito
                    .admin_enable_user()
                    .user_pool_id(&pool)
                    .username(&self.name)
                    .send()
                    .await
                    .map_err(ctx_err(format!("enable user {}", self.name)))?;
            }
        }
        // Membership: added to the declared groups, removed from the others.
        let (want, have) = (strings(d, "groups"), strings(&o.props, "groups"));
        for g in want.iter().filter(|g| !have.contains(g)) {
            let r = cx.aws.cognito.admin_add_user_to_group().user_pool_id(&pool);
            r.username(&self.name)
                .group_name(g)
                .send()
                .await
                .map_err(ctx_err(format!("add user {} to group {g}", self.name)))?;
        }
        for g in have.iter().filter(|g| !want.contains(g)) {
            let r = cx
                .aws
                .cognito
                .admin_remove_user_from_group()
                .user_pool_id(&pool);
            r.username(&self.name)
                .group_name(g)
                .send()
                .await
                .map_err(ctx_err(format!("remove user {} from group {g}", self.name)))?;
        }
        let mut outputs = o.outputs.clone();
        if d.get("password") != o.props.get("password") || d.get("status") != o.props.get("status")
        {
            let u = &self.user;
            cx.aws
                .cognito
                .admin_set_user_password()
                .user_pool_id(&pool)
                .username(&self.name)
                .password(&u.password)
                .permanent(true)
                .send()
                .await
                .map_err(|e| {
                    Error::aws(
                        format!("set the password of user {} (check it meets the pool's password policy)", self.name),
                        e,
                    )
                })?;
            outputs.insert(
                "password_fingerprint".into(),
                password_fingerprint(&u.password),
            );
        }
        Ok(Observed {
            id: self.name.clone(),
            props: d.clone(),
            outputs,
        })
    }
}

/// Reads and deletes [`PoolUser`]s by ID.
pub struct PoolUserProvider;

#[async_trait::async_trait]
impl Provider for PoolUserProvider {
    fn kind(&self) -> &'static str {
        "aws:cognito:User"
    }
    async fn read(&self, cx: &Cx, id: &str, parent: Option<&str>) -> Result<Read> {
        let Some(pool) = parent else {
            return Ok(Read::Missing);
        };
        let Some(u) = PoolUser::get(cx, pool, id).await? else {
            return Ok(Read::Missing);
        };
        let attrs = u
            .user_attributes
            .unwrap_or_default()
            .into_iter()
            .map(|a| (a.name, a.value.unwrap_or_default()));
        let mut outputs = parent_out(pool);
        outputs.insert("id".into(), id.to_string());
        Ok(Read::Found(Observed {
            id: id.to_string(),
            props: props(json!({
                "attributes": tags_value(attrs),
                "status": u.user_status.map(|s| s.as_str().to_string()),
                "enabled": u.enabled,
            })),
            outputs,
        }))
    }
    async fn delete(&self, cx: &Cx, id: &str, parent: Option<&str>) -> Result<()> {
        let Some(pool) = parent else { return Ok(()) };
        match cx
            .aws
            .cognito
            .admin_delete_user()
            .user_pool_id(pool)
            .username(id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error().is_some_and(|s| {
                    s.is_user_not_found_exception() || s.is_resource_not_found_exception()
                }) =>
            {
                Ok(())
            }
            Err(e) => Err(Error::aws(format!("delete user {id}"), e)),
        }
    }
}

fn attribute_list(m: &BTreeMap<String, String>) -> Result<Vec<SdkAttribute>> {
    m.iter()
        .map(|(k, v)| {
            SdkAttribute::builder()
                .name(k)
                .value(v)
                .build()
                .map_err(|e| Error::Other(e.to_string()))
        })
        .collect()
}

// ---------------------------------------------------------------- app clients

/// An OAuth 2.0 flow an app client may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum OAuthFlow {
    /// The authorization code grant (a user signs in; the hosted login).
    Code,
    /// The implicit grant (tokens in the redirect; legacy browser apps).
    Implicit,
    /// The client credentials grant (a service with the client's secret).
    ClientCredentials,
}

impl OAuthFlow {
    /// Cognito's name for it (`code`, `implicit`, `client_credentials`).
    pub fn as_str(&self) -> &'static str {
        match self {
            OAuthFlow::Code => "code",
            OAuthFlow::Implicit => "implicit",
            OAuthFlow::ClientCredentials => "client_credentials",
        }
    }
}

/// An app client of a pool, with a secret, for OAuth flows.
///
/// ```
/// use deployer::model::Handle;
/// use deployer::resources::cognito::{Client, OAuthFlow, ResourceServer, UserPool};
/// let (pool, rs) = (Handle::<UserPool>::new("pool"), Handle::<ResourceServer>::new("rs"));
/// let service = Client {
///     user_pool_id: pool.id(),
///     name: "billing".into(),
///     flows: vec![OAuthFlow::ClientCredentials],
///     scopes: vec![rs.scope("invoices.read")],
///     ..Default::default() // no hosted login: no identity provider, no callback
/// };
/// assert!(service.callback_urls.is_empty());
/// ```
#[derive(Default)]
pub struct Client {
    /// The pool's ID (`pool.id()`).
    pub user_pool_id: Input<String>,
    /// Its name (not unique within the pool).
    pub name: String,
    /// The OAuth flows it may use.
    pub flows: Vec<OAuthFlow>,
    /// The OAuth scopes it may ask for (`rs.scope("read")`, `openid`, ...).
    pub scopes: Vec<Input<String>>,
    /// The identity providers its users sign in with (`"COGNITO".into()`,
    /// a federated one's `idp.name()`: the client comes after it).
    pub identity_providers: Vec<Input<String>>,
    /// Where the hosted login may send a user back to.
    pub callback_urls: Vec<Input<String>>,
    /// Where the hosted login may send a user after signing out.
    pub logout_urls: Vec<Input<String>>,
    /// The callback URL used when a request names none (empty: none).
    pub default_redirect_uri: String,
    /// The sign-in flows of Cognito's own API it may use (empty: not
    /// managed, Cognito's default).
    pub auth_flows: Vec<AuthFlow>,
    /// How long its tokens are valid (`None` each: not managed).
    pub token_validity: TokenValidity,
    /// Sign-in errors that do not say whether a user exists (`None`: not
    /// managed).
    pub prevent_user_existence_errors: Option<bool>,
    /// Whether its refresh tokens can be revoked (`None`: not managed).
    pub enable_token_revocation: Option<bool>,
    /// Minutes a sign-in session stays valid between steps, 3 to 15
    /// (`None`: not managed).
    pub auth_session_validity_minutes: Option<i32>,
    /// The user attributes it may read (`email`, `custom:tenant`, ...;
    /// `None`: not managed, Cognito's default is every attribute).
    pub read_attributes: Option<Vec<String>>,
    /// The user attributes it may change (`None`: not managed, Cognito's
    /// default is every writable attribute).
    pub write_attributes: Option<Vec<String>>,
    /// Whether a refresh gives a new refresh token too (`None`: not
    /// managed). With rotation on, Cognito refuses `AuthFlow::RefreshToken`
    /// among `auth_flows`: a client refreshes with GetTokensFromRefreshToken.
    pub refresh_token_rotation: Option<RefreshTokenRotation>,
    /// True for a client without a secret (a browser or mobile app, with
    /// PKCE); fixed at creation: a change is a new client.
    pub public: bool,
}

/// Refresh token rotation of an app client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshTokenRotation {
    /// A refresh token is used until it expires (Cognito's default).
    Disabled,
    /// Each refresh returns a new refresh token; the old one still works
    /// for `retry_grace_period_seconds` (0 to 60) in case the answer was
    /// lost.
    Enabled {
        /// Seconds the previous refresh token keeps working.
        retry_grace_period_seconds: u8,
    },
}

/// How long an app client's tokens are valid; each `None` is not managed.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TokenValidity {
    /// The access token's lifetime (5 minutes to a day).
    pub access: Option<std::time::Duration>,
    /// The ID token's lifetime (5 minutes to a day).
    pub id: Option<std::time::Duration>,
    /// The refresh token's lifetime (an hour to ten years).
    pub refresh: Option<std::time::Duration>,
}

/// A sign-in flow of Cognito's own API (`InitiateAuth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AuthFlow {
    /// Secure remote password.
    UserSrp,
    /// The password sent as is.
    UserPassword,
    /// An administrator's sign-in with a password (`AdminInitiateAuth`).
    AdminUserPassword,
    /// Custom challenges (Lambda triggers).
    Custom,
    /// Refresh tokens for new tokens.
    RefreshToken,
    /// Choice-based sign-in (passwordless, passkeys).
    User,
}

impl AuthFlow {
    /// Cognito's name for it (`ALLOW_USER_SRP_AUTH`, ...).
    pub fn as_str(&self) -> &'static str {
        match self {
            AuthFlow::UserSrp => "ALLOW_USER_SRP_AUTH",
            AuthFlow::UserPassword => "ALLOW_USER_PASSWORD_AUTH",
            AuthFlow::AdminUserPassword => "ALLOW_ADMIN_USER_PASSWORD_AUTH",
            AuthFlow::Custom => "ALLOW_CUSTOM_AUTH",
            AuthFlow::RefreshToken => "ALLOW_REFRESH_TOKEN_AUTH",
            AuthFlow::User => "ALLOW_USER_AUTH",
        }
    }
}

/// A client's access, ID and refresh token lifetimes in seconds, as it
/// reports them (each in its own unit).
fn validities(c: &UserPoolClientType) -> [Option<i64>; 3] {
    let u = c.token_validity_units.as_ref();
    [
        validity_seconds(
            c.access_token_validity,
            u.and_then(|u| u.access_token.as_ref()),
            "hours",
        ),
        validity_seconds(
            c.id_token_validity,
            u.and_then(|u| u.id_token.as_ref()),
            "hours",
        ),
        validity_seconds(
            Some(c.refresh_token_validity),
            u.and_then(|u| u.refresh_token.as_ref()),
            "days",
        ),
    ]
}

/// A token's lifetime in seconds, from a client's validity and its unit
/// (Cognito's defaults: hours for access and ID tokens, days for refresh).
fn validity_seconds(
    v: Option<i32>,
    unit: Option<&aws_sdk_cognitoidentityprovider::types::TimeUnitsType>,
    default_unit: &str,
) -> Option<i64> {
    let unit = unit.map(|u| u.as_str()).unwrap_or(default_unit);
    let per = match unit {
        "seconds" => 1,
        "minutes" => 60,
        "hours" => 3600,
        _ => 86400,
    };
    v.filter(|v| *v > 0).map(|v| v as i64 * per)
}

impl Handle<Client> {
    /// The client secret: never in the state, never in a plan.
    pub fn secret(&self) -> Output<String> {
        self.output("secret").secret()
    }
}

impl Client {
    /// The pool's clients of this name made since `made_at` (less
    /// `CLOCK_SKEW_SECS`); every one when it is not known.
    async fn made_since(
        &self,
        cx: &Cx,
        pool: &str,
        made_at: Option<i64>,
    ) -> Result<Vec<UserPoolClientType>> {
        let mut out = vec![];
        for id in self.named(cx, pool).await? {
            if let Some(c) = Self::describe(cx, pool, &id).await? {
                let made = c.creation_date.map(|d| d.secs());
                let since = made_at.map(|t| t - CLOCK_SKEW_SECS);
                if since.is_none_or(|t| made.is_none_or(|m| m >= t)) {
                    out.push(c);
                }
            }
        }
        Ok(out)
    }

    /// The IDs of the pool's app clients with this name (none when the pool
    /// is gone, and its clients with it).
    async fn named(&self, cx: &Cx, pool: &str) -> Result<Vec<String>> {
        let mut pages = cx
            .aws
            .cognito
            .list_user_pool_clients()
            .user_pool_id(pool)
            .max_results(60)
            .into_paginator()
            .items()
            .send();
        let mut out = vec![];
        while let Some(c) = pages.next().await {
            let c = match c {
                Ok(c) => c,
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_resource_not_found_exception()) =>
                {
                    return Ok(vec![])
                }
                Err(e) => return Err(Error::aws("list app clients", e)),
            };
            if !self.name.is_empty() && c.client_name.as_deref() == Some(self.name.as_str()) {
                out.extend(c.client_id);
            }
        }
        Ok(out)
    }

    fn observe(pool: &str, c: &UserPoolClientType) -> Observed {
        let mut flows: Vec<String> = c
            .allowed_o_auth_flows
            .clone()
            .unwrap_or_default()
            .iter()
            .map(|f| f.as_str().to_string())
            .collect();
        flows.sort();
        let id = c.client_id.clone().unwrap_or_default();
        let lifetimes = validities(c);
        let rotation = c.refresh_token_rotation.as_ref();
        let mut outputs = parent_out(pool);
        outputs.insert("id".into(), id.clone());
        if let Some(sec) = &c.client_secret {
            outputs.insert("secret".into(), sec.clone());
        }
        Observed {
            id,
            props: props(json!({
                "name": c.client_name.clone().unwrap_or_default(),
                "generate_secret": c.client_secret.is_some(),
                "oauth_user_pool_client": c.allowed_o_auth_flows_user_pool_client.unwrap_or(false),
                "flows": flows,
                "scopes": sorted(c.allowed_o_auth_scopes.clone().unwrap_or_default()),
                "identity_providers": sorted(c.supported_identity_providers.clone().unwrap_or_default()),
                "callback_urls": sorted(c.callback_urls.clone().unwrap_or_default()),
                "logout_urls": sorted(c.logout_urls.clone().unwrap_or_default()),
                "default_redirect_uri": c.default_redirect_uri.clone().unwrap_or_default(),
                "auth_flows": sorted(c.explicit_auth_flows().iter().map(|f| f.as_str().to_string()).collect()),
                "access_token_seconds": lifetimes[0],
                "id_token_seconds": lifetimes[1],
                "refresh_token_seconds": lifetimes[2],
                "prevent_user_existence_errors": c.prevent_user_existence_errors.as_ref().map(|p| p.as_str() == "ENABLED"),
                "enable_token_revocation": c.enable_token_revocation,
                "auth_session_validity_minutes": c.auth_session_validity,
                "read_attributes": sorted(c.read_attributes.clone().unwrap_or_default()),
                "write_attributes": sorted(c.write_attributes.clone().unwrap_or_default()),
                // Never set reads as Cognito's default: disabled.
                "refresh_token_rotation": rotation.map_or("DISABLED", |r| r.feature.as_str()),
                "refresh_token_grace_seconds": rotation
                    .filter(|r| r.feature == FeatureType::Enabled)
                    .map(|r| r.retry_grace_period_seconds.unwrap_or(0)),
            })),
            outputs,
        }
    }

    async fn describe(cx: &Cx, pool: &str, id: &str) -> Result<Option<UserPoolClientType>> {
        match cx
            .aws
            .cognito
            .describe_user_pool_client()
            .user_pool_id(pool)
            .client_id(id)
            .send()
            .await
        {
            Ok(o) => Ok(o.user_pool_client),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(Error::aws(format!("describe app client {id}"), e)),
        }
    }
}

fn flows_of(d: &Props) -> Vec<OAuthFlowType> {
    strings(d, "flows")
        .iter()
        .map(|f| OAuthFlowType::from(f.as_str()))
        .collect()
}

/// A client's settings of `d` over what it has (`cur`, or nothing on
/// create): Create- and UpdateUserPoolClient take the same fields, and the
/// update resets every field it is not sent.
macro_rules! client_settings {
    ($b:expr, $d:expr, $cur:expr) => {{
        use aws_sdk_cognitoidentityprovider::types::{
            ExplicitAuthFlowsType, PreventUserExistenceErrorTypes, RefreshTokenRotationType,
            TimeUnitsType, TokenValidityUnitsType,
        };
        let d: &Props = $d;
        let cur: Option<&UserPoolClientType> = $cur;
        let has = |k: &str| d.get(k).is_some_and(|v| !v.is_null());
        let secs = |k: &str| d.get(k).and_then(|v| v.as_i64());
        let minutes = |k: &str, kept: Option<i64>| secs(k).or(kept).map(|s| (s / 60) as i32);
        let auth_flows: Option<Vec<ExplicitAuthFlowsType>> = if has("auth_flows") {
            Some(
                strings(d, "auth_flows")
                    .iter()
                    .map(|f| ExplicitAuthFlowsType::from(f.as_str()))
                    .collect(),
            )
        } else {
            cur.and_then(|c| c.explicit_auth_flows.clone())
        };
        let prevent = match d
            .get("prevent_user_existence_errors")
            .and_then(|v| v.as_bool())
        {
            Some(true) => Some(PreventUserExistenceErrorTypes::Enabled),
            Some(false) => Some(PreventUserExistenceErrorTypes::Legacy),
            None => cur.and_then(|c| c.prevent_user_existence_errors.clone()),
        };
        let attributes = |k: &str, kept: Option<Vec<String>>| {
            if has(k) {
                Some(strings(d, k))
            } else {
                kept
            }
        };
        let rotation = match d.get("refresh_token_rotation").and_then(|v| v.as_str()) {
            Some(feature) => RefreshTokenRotationType::builder()
                .feature(FeatureType::from(feature))
                .set_retry_grace_period_seconds(
                    secs("refresh_token_grace_seconds").map(|s| s as i32),
                )
                .build()
                .ok(),
            None => cur.and_then(|c| c.refresh_token_rotation.clone()),
        };
        let kept = cur.map(validities).unwrap_or_default();
        let access = minutes("access_token_seconds", kept[0]);
        let id = minutes("id_token_seconds", kept[1]);
        let refresh = minutes("refresh_token_seconds", kept[2]);
        // Lifetimes in minutes (whole minutes of the declared duration).
        // Each unit goes with its value only: a unit sent without its value
        // would turn that token's default (the refresh token's 30 days)
        // into minutes.
        let unit = |v: Option<i32>| v.map(|_| TimeUnitsType::Minutes);
        let units = (access.is_some() || id.is_some() || refresh.is_some()).then(|| {
            TokenValidityUnitsType::builder()
                .set_access_token(unit(access))
                .set_id_token(unit(id))
                .set_refresh_token(unit(refresh))
                .build()
        });
        $b.client_name(s(d, "name"))
            .allowed_o_auth_flows_user_pool_client(true)
            .set_allowed_o_auth_flows(Some(flows_of(d)))
            .set_allowed_o_auth_scopes(opt_list(strings(d, "scopes")))
            .set_supported_identity_providers(opt_list(strings(d, "identity_providers")))
            .set_callback_urls(opt_list(strings(d, "callback_urls")))
            .set_logout_urls(opt_list(strings(d, "logout_urls")))
            .set_default_redirect_uri(Some(s(d, "default_redirect_uri")).filter(|u| !u.is_empty()))
            .set_explicit_auth_flows(auth_flows)
            .set_token_validity_units(units)
            .set_access_token_validity(access)
            .set_id_token_validity(id)
            .set_refresh_token_validity(refresh)
            .set_prevent_user_existence_errors(prevent)
            .set_enable_token_revocation(
                d.get("enable_token_revocation")
                    .and_then(|v| v.as_bool())
                    .or(cur.and_then(|c| c.enable_token_revocation)),
            )
            .set_auth_session_validity(
                secs("auth_session_validity_minutes")
                    .map(|m| m as i32)
                    .or(cur.and_then(|c| c.auth_session_validity)),
            )
            .set_read_attributes(attributes(
                "read_attributes",
                cur.and_then(|c| c.read_attributes.clone()),
            ))
            .set_write_attributes(attributes(
                "write_attributes",
                cur.and_then(|c| c.write_attributes.clone()),
            ))
            .set_refresh_token_rotation(rotation)
    }};
}

fn opt_list(v: Vec<String>) -> Option<Vec<String>> {
    if v.is_empty() {
        None
    } else {
        Some(v)
    }
}

/// Why Cognito refuses a callback URL, or `None`: "Be an absolute URI ...
/// Not include a fragment component ... Amazon Cognito requires HTTPS over
/// HTTP except for http://localhost, http://127.0.0.1 and http://[::1]"
/// (CreateUserPoolClient, CallbackURLs; awsim's rule 20). An app's own
/// scheme (`myapp://cb`) is allowed.
fn callback_refused(u: &str) -> Option<&'static str> {
    let Ok(url) = url::Url::parse(u) else {
        return Some("is not an absolute URL");
    };
    if url.fragment().is_some() {
        return Some("has a fragment (#...)");
    }
    let local = matches!(
        url.host(),
        Some(url::Host::Domain("localhost"))
            | Some(url::Host::Ipv4(std::net::Ipv4Addr::LOCALHOST))
            | Some(url::Host::Ipv6(std::net::Ipv6Addr::LOCALHOST))
    );
    (url.scheme() == "http" && !local).then_some("is plain http to a host other than localhost")
}

#[async_trait::async_trait]
impl Kind for Client {
    fn provider(&self) -> Arc<dyn Provider> {
        Arc::new(ClientProvider)
    }
    fn deps(&self) -> Vec<String> {
        deps_of(
            std::iter::once(self.user_pool_id.deps())
                .chain(self.scopes.iter().map(|s| s.deps()))
                .chain(self.identity_providers.iter().map(|s| s.deps()))
                .chain(self.callback_urls.iter().map(|s| s.deps()))
                .chain(self.logout_urls.iter().map(|s| s.deps())),
        )
    }
    fn parent(&self) -> Option<String> {
        self.user_pool_id.deps().first().cloned()
    }
    fn replace_on(&self) -> &'static [&'static str] {
        &["generate_secret"]
    }
    fn non_unique_name(&self) -> bool {
        true
    }
    fn preflight(&self, key: &str, p: &Preflight) -> Vec<String> {
        let Some(me) = p.declared.get(key) else {
            return vec![];
        };
        // A list with an unknown element (an API's URL before the API
        // exists) is checked when it is known: AWS refuses it at apply.
        let urls = match me.desired.unknown.contains("callback_urls") {
            true => vec![],
            false => strings(&me.desired.props, "callback_urls"),
        };
        let mut refused: Vec<String> = urls
            .iter()
            .filter_map(|u| callback_refused(u).map(|why| (u, why)))
            .map(|(u, why)| {
                format!(
                    "`{key}` ({}): callback URL {u:?} {why}: Cognito refuses it (\"Invalid CallbackURL\"). Use https, or http only to localhost, 127.0.0.1 or [::1]",
                    self.name
                )
            })
            .collect();
        if !self.default_redirect_uri.is_empty()
            && !me.desired.unknown.contains("callback_urls")
            && !urls.contains(&self.default_redirect_uri)
        {
            refused.push(format!(
                "`{key}` ({}): default_redirect_uri {:?} is not one of its callback_urls: Cognito refuses it (\"DefaultRedirectURI must be in CallbackURLs\"). Add it to callback_urls",
                self.name, self.default_redirect_uri
            ));
        }
        refused
    }
    fn desired(&self, ctx: &Ctx, k: &Known) -> Desired {
        let mut flows: Vec<&str> = self.flows.iter().map(|f| f.as_str()).collect();
        flows.sort();
        let mut i = Inputs::new(ctx, k);
        let mut v = json!({
            "name": self.name,
            "generate_secret": !self.public,
            "oauth_user_pool_client": true,
            "flows": flows,
            "scopes": sorted(i.list("scopes", &self.scopes)),
            "identity_providers": sorted(i.list("identity_providers", &self.identity_providers)),
            "callback_urls": sorted(i.list("callback_urls", &self.callback_urls)),
            "logout_urls": sorted(i.list("logout_urls", &self.logout_urls)),
            "default_redirect_uri": self.default_redirect_uri,
        });
        // Left unset, these are not managed: Cognito's defaults stand.
        if !self.auth_flows.is_empty() {
            let flows: Vec<&str> = self.auth_flows.iter().map(|f| f.as_str()).collect();
            v["auth_flows"] = json!(sorted(flows.into_iter().map(String::from).collect()));
        }
        let t = &self.token_validity;
        for (k, d) in [
            ("access_token_seconds", t.access),
            ("id_token_seconds", t.id),
            ("refresh_token_seconds", t.refresh),
        ] {
            if let Some(d) = d {
                // Cognito keeps whole minutes.
                v[k] = json!(d.as_secs() / 60 * 60);
            }
        }
        if let Some(p) = self.prevent_user_existence_errors {
            v["prevent_user_existence_errors"] = json!(p);
        }
        if let Some(r) = self.enable_token_revocation {
            v["enable_token_revocation"] = json!(r);
        }
        if let Some(m) = self.auth_session_validity_minutes {
            v["auth_session_validity_minutes"] = json!(m);
        }
        for (k, attrs) in [
            ("read_attributes", &self.read_attributes),
            ("write_attributes", &self.write_attributes),
        ] {
            if let Some(a) = attrs {
                v[k] = json!(sorted(a.clone()));
            }
        }
        match self.refresh_token_rotation {
            Some(RefreshTokenRotation::Disabled) => {
                v["refresh_token_rotation"] = json!("DISABLED");
            }
            Some(RefreshTokenRotation::Enabled {
                retry_grace_period_seconds,
            }) => {
                v["refresh_token_rotation"] = json!("ENABLED");
                v["refresh_token_grace_seconds"] = json!(retry_grace_period_seconds);
            }
            None => {}
        }
        i.finish(v)
    }
    async fn read(&self, cx: &Cx, prior: &Prior) -> Result<Read> {
        let Some(pool) = &prior.parent_id else {
            return Ok(Read::Missing);
        };
        if let Some(id) = &prior.id {
            if let Some(c) = Self::describe(cx, pool, id).await? {
                return Ok(Read::Found(Self::observe(pool, &c)));
            }
        }
        // Client names are not unique and clients take no tags: one of that
        // name in the stack's pool made since this stack started to create
        // it is its own (left by an interrupted create); one made before is
        // somebody's by hand, never adopted.
        Ok(
            match self.made_since(cx, pool, prior.made_at).await?.first() {
                Some(c) => Read::Found(Self::observe(pool, c)),
                None => Read::Missing,
            },
        )
    }
    fn untagged(&self) -> bool {
        true
    }
    async fn strays(
        &self,
        cx: &Cx,
        pool: Option<&str>,
        keep: &str,
        _made_at: Option<i64>,
    ) -> Result<Vec<String>> {
        // Asked only after a create of it lost its answer (`untagged`):
        // another of its name made within the time that create's retries
        // took (by AWS's clock, around the one kept) is what it left.
        let Some(pool) = pool else { return Ok(vec![]) };
        let Some(kept) = Self::describe(cx, pool, keep).await? else {
            return Ok(vec![]);
        };
        let Some(at) = kept.creation_date.map(|d| d.secs()) else {
            return Ok(vec![]);
        };
        let mut out = vec![];
        for c in self.made_since(cx, pool, None).await? {
            let near = c
                .creation_date
                .is_some_and(|d| (d.secs() - at).abs() <= LOST_CREATE_WINDOW_SECS);
            match c.client_id {
                Some(id) if id != keep && near => out.push(id),
                _ => {}
            }
        }
        Ok(out)
    }
    async fn create(&self, cx: &Cx, d: &Props, k: &Known) -> Result<Observed> {
        let pool = self.user_pool_id.require(&cx.ctx, k)?;
        let out = cx
            .aws
            .cognito
            .create_user_pool_client()
            .user_pool_id(&pool)
            .generate_secret(d.get("generate_secret") == Some(&json!(true)));
        let out = client_settings!(out, d, None)
            .send()
            .await
            .map_err(ctx_err(format!("create app client {}", self.name)))?;
        let c = out
            .user_pool_client
            .ok_or_else(|| Error::Other("CreateUserPoolClient returned no client".into()))?;
        Ok(Self::observe(&pool, &c))
    }
    async fn update(&self, cx: &Cx, d: &Props, o: &Observed, _k: &Known) -> Result<Observed> {
        // UpdateUserPoolClient resets every field it is not sent: describe,
        // merge what we manage into what is there, send all.
        let pool = o.outputs.get("parent_id").cloned().unwrap_or_default();
        let cur = Self::describe(cx, &pool, &o.id)
            .await?
            .ok_or_else(|| Error::Other(format!("app client {} vanished before update", o.id)))?;
        let out = cx
            .aws
            .cognito
            .update_user_pool_client()
            .user_pool_id(&pool)
            .client_id(&o.id)
            .set_enable_propagate_additional_user_context_data(
                cur.enable_propagate_additional_user_context_data,
            )
            .set_analytics_configuration(cur.analytics_configuration.clone());
        let out = client_settings!(out, d, Some(&cur))
            .send()
            .await
            .map_err(ctx_err(format!("update app client {}", self.name)))?;
        let mut c = out
            .user_pool_client
            .ok_or_else(|| Error::Other("UpdateUserPoolClient returned no client".into()))?;
        if c.client_secret.is_none() {
            c.client_secret = cur.client_secret;
        }
        Ok(Self::observe(&pool, &c))
    }
}

/// Reads and deletes [`Client`]s by ID.
pub struct ClientProvider;

#[async_trait::async_trait]
impl Provider for ClientProvider {
    fn kind(&self) -> &'static str {
        "aws:cognito:UserPoolClient"
    }
    async fn read(&self, cx: &Cx, id: &str, parent: Option<&str>) -> Result<Read> {
        let Some(pool) = parent else {
            return Ok(Read::Missing);
        };
        Ok(match Client::describe(cx, pool, id).await? {
            Some(c) => Read::Found(Client::observe(pool, &c)),
            None => Read::Missing,
        })
    }
    async fn delete(&self, cx: &Cx, id: &str, parent: Option<&str>) -> Result<()> {
        let Some(pool) = parent else { return Ok(()) };
        match cx
            .aws
            .cognito
            .delete_user_pool_client()
            .user_pool_id(pool)
            .client_id(id)
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
            Err(e) => Err(Error::aws(format!("delete app client {id}"), e)),
        }
    }
}

/// How far this machine's clock may be from AWS's when a lost create is
/// looked for by name (`Client::made_since`): SigV4 refuses a request
/// signed more than 5 minutes off (the SDK corrects a larger skew, so a
/// clock further off may miss the client its create made: a second is made,
/// and swept as a stray).
const CLOCK_SKEW_SECS: i64 = 300;

/// How long a create's retries may take: another client of the same name
/// made that close to the one kept, after a create of it lost its answer,
/// is what that create left.
const LOST_CREATE_WINDOW_SECS: i64 = 600;

// ---------------------------------------------------------------- groups

/// A group of a pool's users (Terraform's `aws_cognito_user_group`): its
/// members' tokens carry its name in `cognito:groups`; with a role, the
/// identity pool's credentials for its members.
///
/// ```
/// use deployer::model::Handle;
/// use deployer::resources::cognito::{Group, UserPool};
/// let pool = Handle::<UserPool>::new("pool");
/// let admins = Group {
///     user_pool_id: pool.id(),
///     name: "admins".into(),
///     description: "Can refund orders".into(),
///     precedence: Some(1),
///     ..Default::default()
/// };
/// ```
#[derive(Default)]
pub struct Group {
    /// The pool's ID (`pool.id()`).
    pub user_pool_id: Input<String>,
    /// Its name, unique in the pool (a new name replaces the group).
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Which group's role wins for a user in several (lower first).
    pub precedence: Option<i32>,
    /// An IAM role's ARN for its members (`role.arn()`), if any.
    pub role_arn: Option<Input<String>>,
}

impl Handle<Group> {
    /// The group's name (a user's `groups`: the user joins after it exists).
    pub fn name(&self) -> Output<String> {
        self.id()
    }
}

#[async_trait::async_trait]
impl Kind for Group {
    fn provider(&self) -> Arc<dyn Provider> {
        Arc::new(GroupProvider)
    }
    fn deps(&self) -> Vec<String> {
        let mut inputs = vec![self.user_pool_id.deps()];
        inputs.extend(self.role_arn.iter().map(|r| r.deps()));
        deps_of(inputs)
    }
    fn parent(&self) -> Option<String> {
        self.user_pool_id.deps().first().cloned()
    }
    fn replace_on(&self) -> &'static [&'static str] {
        &["name"]
    }
    fn desired(&self, ctx: &Ctx, k: &Known) -> Desired {
        let mut i = Inputs::new(ctx, k);
        let v = json!({
            "name": self.name,
            "description": self.description,
            "precedence": self.precedence,
            "role_arn": self.role_arn.as_ref().map(|r| i.get("role_arn", r)),
        });
        i.finish(v)
    }
    async fn read(&self, cx: &Cx, prior: &Prior) -> Result<Read> {
        // Unique in its pool: by the recorded name, else the declared one.
        let name = prior.id_or(&self.name);
        GroupProvider
            .read(cx, &name, prior.parent_id.as_deref())
            .await
    }
    async fn create(&self, cx: &Cx, d: &Props, k: &Known) -> Result<Observed> {
        let pool = self.user_pool_id.require(&cx.ctx, k)?;
        let r = cx
            .aws
            .cognito
            .create_group()
            .user_pool_id(&pool)
            .group_name(&self.name)
            .description(s(d, "description"))
            .set_precedence(self.precedence)
            .set_role_arn(d.get("role_arn").and_then(|v| v.as_str()).map(String::from))
            .send()
            .await;
        match r {
            Ok(_) => {}
            // In this stack's pool, so this stack's (a create whose answer
            // was lost): brought to what is declared.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_group_exists_exception()) =>
            {
                let o = Observed {
                    id: self.name.clone(),
                    props: Props::new(),
                    outputs: BTreeMap::new(),
                };
                return self.update(cx, d, &o, k).await;
            }
            Err(e) => return Err(Error::aws(format!("create group {}", self.name), e)),
        }
        match GroupProvider.read(cx, &self.name, Some(&pool)).await? {
            Read::Found(o) => Ok(o),
            Read::Missing => Err(Error::Other(format!(
                "group {} vanished after create",
                self.name
            ))),
        }
    }
    async fn update(&self, cx: &Cx, d: &Props, _o: &Observed, k: &Known) -> Result<Observed> {
        let pool = self.user_pool_id.require(&cx.ctx, k)?;
        // Every field, as declared. Whether UpdateGroup keeps or clears a
        // field it is not sent is not documented, and a role or precedence
        // can be cleared by no value it takes: when the read-back still has
        // one the program dropped, the group is made again with its
        // members (`remade`).
        cx.aws
            .cognito
            .update_group()
            .user_pool_id(&pool)
            .group_name(&self.name)
            .description(s(d, "description"))
            .set_precedence(self.precedence)
            .set_role_arn(d.get("role_arn").and_then(|v| v.as_str()).map(String::from))
            .send()
            .await
            .map_err(ctx_err(format!("update group {}", self.name)))?;
        let o = match GroupProvider.read(cx, &self.name, Some(&pool)).await? {
            Read::Found(o) => o,
            Read::Missing => {
                return Err(Error::Other(format!(
                    "group {} vanished after update",
                    self.name
                )))
            }
        };
        let kept = |k: &str| {
            d.get(k).is_none_or(Value::is_null) && o.props.get(k).is_some_and(|v| !v.is_null())
        };
        if kept("precedence") || kept("role_arn") {
            return self.remade(cx, &pool, d, k).await;
        }
        Ok(o)
    }
}

impl Group {
    /// The group made again as declared, with the members it had (what
    /// clears a role or precedence where UpdateGroup keeps what it is not
    /// sent): its members are listed, it is deleted and created, and each
    /// is added back.
    async fn remade(&self, cx: &Cx, pool: &str, d: &Props, k: &Known) -> Result<Observed> {
        let mut members = vec![];
        let mut pages = cx
            .aws
            .cognito
            .list_users_in_group()
            .user_pool_id(pool)
            .group_name(&self.name)
            .into_paginator()
            .items()
            .send();
        while let Some(u) = pages.next().await {
            let u = u.map_err(ctx_err(format!("list the members of group {}", self.name)))?;
            members.extend(u.username);
        }
        // Said before the delete: a run stopped between the delete and the
        // last member added back leaves this line to put them back by.
        eprintln!(
            "deployer: group {} keeps a role or precedence UpdateGroup cannot clear: made again, its members added back: {}",
            self.name,
            if members.is_empty() { "(none)".to_string() } else { members.join(", ") }
        );
        GroupProvider.delete(cx, &self.name, Some(pool)).await?;
        let o = self.create(cx, d, k).await?;
        for m in members {
            cx.aws
                .cognito
                .admin_add_user_to_group()
                .user_pool_id(pool)
                .group_name(&self.name)
                .username(&m)
                .send()
                .await
                .map_err(ctx_err(format!("add {m} back to group {}", self.name)))?;
        }
        Ok(o)
    }
}

/// Reads and deletes [`Group`]s by name, in their pool.
pub struct GroupProvider;

#[async_trait::async_trait]
impl Provider for GroupProvider {
    fn kind(&self) -> &'static str {
        "aws:cognito:UserPoolGroup"
    }
    async fn read(&self, cx: &Cx, id: &str, parent: Option<&str>) -> Result<Read> {
        let Some(pool) = parent else {
            return Ok(Read::Missing);
        };
        let g = found_or_none(
            cx.aws
                .cognito
                .get_group()
                .user_pool_id(pool)
                .group_name(id)
                .send()
                .await,
            |s| s.is_resource_not_found_exception(),
            format!("get group {id}"),
        )?;
        let Some(g) = g.and_then(|g| g.group) else {
            return Ok(Read::Missing);
        };
        let mut outputs = parent_out(pool);
        outputs.insert("id".into(), id.to_string());
        Ok(Read::Found(Observed {
            id: id.to_string(),
            props: props(json!({
                "name": id,
                "description": g.description.unwrap_or_default(),
                "precedence": g.precedence,
                "role_arn": g.role_arn,
            })),
            outputs,
        }))
    }
    async fn delete(&self, cx: &Cx, id: &str, parent: Option<&str>) -> Result<()> {
        let Some(pool) = parent else { return Ok(()) };
        ok_if_gone(
            cx.aws
                .cognito
                .delete_group()
                .user_pool_id(pool)
                .group_name(id)
                .send()
                .await,
            |s| s.is_resource_not_found_exception(),
            format!("delete group {id}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_urls_as_cognito_takes_them() {
        for ok in [
            "https://app.example.com/cb",
            "http://localhost:8080/callback",
            "http://127.0.0.1:3000/",
            "http://[::1]:5173/",
            "myapp://signed-in",
        ] {
            assert_eq!(callback_refused(ok), None, "{ok}");
        }
        for (bad, why) in [
            ("http://app.example.com/cb", "plain http"),
            ("https://app.example.com/cb#top", "fragment"),
            ("/callback", "absolute"),
            ("http://localhost.example.com/", "plain http"),
        ] {
            let got = callback_refused(bad).unwrap_or_else(|| panic!("{bad} taken"));
            assert!(got.contains(why), "{bad}: {got}");
        }
    }

    #[test]
    fn fingerprint_is_a_salted_argon2id_hash() {
        let a = password_fingerprint("HeyH0Password!");
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert!(!a.contains("HeyH0Password"));
        // Salted: the same password hashes differently each time.
        let b = password_fingerprint("HeyH0Password!");
        assert_ne!(a, b);
        assert!(password_matches(&a, "HeyH0Password!"));
        assert!(password_matches(&b, "HeyH0Password!"));
        assert!(!password_matches(&a, "HeyH0Password?"));
        // The fast SHA-256 fingerprint of earlier versions never matches:
        // the password is set once more and an argon2id one is recorded.
        assert!(!password_matches(
            "0123456789abcdef0123456789abcdef",
            "HeyH0Password!"
        ));
        assert!(!password_matches("", "HeyH0Password!"));
    }
}
