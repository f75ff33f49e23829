//! The pool settings' tests (`#[cfg(test)] mod tests` in pool.rs).

use super::*;

/// What a program declares and what DescribeUserPool reports compare
/// alike, Cognito's defaults filled in on both sides.
#[test]
fn declared_and_read_settings_compare_alike() {
    let declared = custom_attributes_value(&[
        CustomAttribute {
            max_length: Some(64),
            ..CustomAttribute::new("tenant", AttributeType::String)
        },
        CustomAttribute {
            min_value: Some(1),
            ..CustomAttribute::new("level", AttributeType::Number)
        },
    ]);
    let pool = UserPoolType::builder()
        .schema_attributes(schema_of(&declared[0]).unwrap())
        .schema_attributes(
            SchemaAttributeType::builder()
                .name("custom:tenant")
                .attribute_data_type(AttributeDataType::String)
                .mutable(true)
                .developer_only_attribute(false)
                .string_attribute_constraints(
                    StringAttributeConstraintsType::builder()
                        .max_length("64")
                        .build(),
                )
                .build(),
        )
        .schema_attributes(required_schema("email"))
        .schema_attributes(required_schema("sub"))
        .build();
    // The first entry was sent as "level" (no prefix): not a custom one
    // as Cognito reports it.
    let read = custom_attributes_of(&pool);
    assert_eq!(read, json!([declared[1].clone()]));
    assert_eq!(required_of(&pool), json!(["email"]));
    let none = UserPoolType::builder().build();
    assert_eq!(
        verification_of(&none),
        verification_value(&VerificationMessages::default())
    );
    assert_eq!(
        invitation_of(&none),
        invitation_value(&Invitation::default())
    );
    assert_eq!(email_of(&none), email_value(&EmailSettings::default()));
    let t = triggers_sdk(
        &json!({"pre_token_generation": "arn:f", "pre_token_generation_version": "V2_0"}),
        None,
    );
    let p = UserPoolType::builder().lambda_config(t).build();
    assert_eq!(triggers_of(&p)["pre_token_generation"], "arn:f");
    assert_eq!(triggers_of(&p)["pre_token_generation_version"], "V2_0");
    assert_eq!(triggers_of(&p)["pre_sign_up"], Value::Null);
}
