//! A user pool's own settings as the pool kind compares them: read from
//! DescribeUserPool, turned into the SDK's types, and declared.

use super::super::pool;
use super::UserPool;
use crate::kind::*;
use crate::model::Inputs;
use serde_json::json;
use serde_json::Value;

/// The settings of a pool this kind manages, as DescribeUserPool reports them.
pub(super) fn pool_props(p: &aws_sdk_cognitoidentityprovider::types::UserPoolType) -> Props {
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
pub(super) fn password_policy(
    d: &Props,
) -> aws_sdk_cognitoidentityprovider::types::PasswordPolicyType {
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
pub(super) fn account_recovery(
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

pub(super) fn deletion_protection(
    d: &Props,
) -> aws_sdk_cognitoidentityprovider::types::DeletionProtectionType {
    if d.get("deletion_protection") == Some(&json!(true)) {
        aws_sdk_cognitoidentityprovider::types::DeletionProtectionType::Active
    } else {
        aws_sdk_cognitoidentityprovider::types::DeletionProtectionType::Inactive
    }
}

pub(super) fn mfa_of(d: &Props) -> aws_sdk_cognitoidentityprovider::types::UserPoolMfaType {
    aws_sdk_cognitoidentityprovider::types::UserPoolMfaType::from(s(d, "mfa").as_str())
}

/// These settings as the program declares them, each under its name (a
/// setting left `None` is absent: not managed).
pub(super) fn declared_into(pool: &UserPool, i: &mut Inputs, v: &mut Value) {
    v["custom_attributes"] = pool::custom_attributes_value(&pool.custom_attributes);
    let mut required = pool.required_attributes.clone();
    required.sort();
    v["required_attributes"] = json!(required);
    if let Some(e) = &pool.email {
        v["email"] = pool::email_value(e);
    }
    if let Some(m) = &pool.verification_messages {
        v["verification_messages"] = pool::verification_value(m);
    }
    if let Some(m) = &pool.invitation {
        v["invitation"] = pool::invitation_value(m);
    }
    if let Some(t) = &pool.tier {
        v["tier"] = json!(t.as_str());
    }
    if let Some(t) = &pool.threat_protection {
        v["threat_protection"] = json!(t.as_str());
    }
    if let Some(a) = &pool.verify_before_update {
        v["verify_before_update"] = pool::sorted_names(a, |c| c.as_str());
    }
    v["alias_attributes"] = pool::sorted_names(&pool.alias_attributes, |a| a.as_str());
    if let Some(f) = &pool.first_auth_factors {
        v["first_auth_factors"] = pool::sorted_names(f, |a| a.as_str());
    }
    if let Some(t) = &pool.triggers {
        v["triggers"] = t.value(i);
    }
}
