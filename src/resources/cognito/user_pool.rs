use super::domain::{delete_domain, pool_has_domain};
use super::pool::{
    self, AliasAttribute, AuthFactor, CustomAttribute, EmailSettings, Invitation, ThreatProtection,
    Tier, Triggers, VerificationMessages,
};
use crate::error::Error;
use crate::error::Result;
use crate::kind::*;
use crate::model::{Handle, Inputs, Output};
use aws_sdk_cognitoidentityprovider::types::AdminCreateUserConfigType;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

// ---------------------------------------------------------------- user pool

#[path = "user_pool_settings.rs"]
mod settings;
use settings::{
    account_recovery, declared_into, deletion_protection, mfa_of, password_policy, pool_props,
};

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
    /// A pre token generation trigger of event version 2 or 3 needs the
    /// Essentials or Plus tier ("In user pools with the Essentials or Plus
    /// feature plan, you can generate the version two or V2_0 trigger
    /// event ... and the version three or V3_0": Cognito's developer guide,
    /// Pre token generation Lambda trigger): refused on a pool declared
    /// Lite, or left undeclared on a pool AWS reports as Lite (a new pool
    /// is Essentials unless it says otherwise).
    fn preflight(&self, key: &str, p: &Preflight) -> Vec<String> {
        let Some(t) = &self.triggers else {
            return vec![];
        };
        if t.pre_token_generation.is_none()
            || matches!(t.pre_token_generation_version, pool::PreTokenVersion::V1)
        {
            return vec![];
        }
        let lite = match &self.tier {
            Some(tier) => matches!(tier, Tier::Lite),
            None => p
                .observed(key)
                .and_then(|o| o.get("tier"))
                .and_then(|v| v.as_str())
                .is_some_and(|t| t == "LITE"),
        };
        if !lite {
            return vec![];
        }
        vec![format!(
            "`{key}` ({}): a pre token generation trigger of event version {} needs the Essentials or Plus tier, and the pool is Lite: set `tier: Some(Tier::Essentials)` (or Plus), or the trigger's version to V1",
            self.name,
            if matches!(t.pre_token_generation_version, pool::PreTokenVersion::V2) { "2" } else { "3" },
        )]
    }
    fn deps(&self) -> Vec<String> {
        self.triggers.as_ref().map(|t| t.deps()).unwrap_or_default()
    }
    fn replace_on(&self) -> Vec<&'static str> {
        vec![
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
        declared_into(self, &mut i, &mut v);
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

#[cfg(test)]
#[path = "user_pool_tests.rs"]
mod tests;
