//! What moto cannot show, with aws-smithy-mocks: IAM propagation, update
//! conflicts, throttling, a domain that takes time to become ACTIVE, and the
//! describe-merge-send of UpdateUserPoolClient. Each test fails if an
//! expected call is missing or made too often.

use aws_sdk_cognitoidentityprovider as cip;
use aws_sdk_lambda as lambda;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use deployer::aws::{CallStats, Clients};
use deployer::config::Config;
use deployer::kind::{props, Ctx, Cx, Known, Observed, Urls};
use deployer::model::Res;
use deployer::package::Package;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

fn ctx() -> Arc<Ctx> {
    Arc::new(Ctx {
        stack: "t".into(),
        stack_id: "0123456789abcdef".into(),
        region: "eu-west-1".into(),
        account: "123456789012".into(),
        partition: "aws".into(),
        tags: [
            ("Project".to_string(), "cognito-example".to_string()),
            ("deployer:stack".to_string(), "t".to_string()),
            (
                "deployer:stack-id".to_string(),
                "0123456789abcdef".to_string(),
            ),
        ]
        .into(),
        package: Some(Arc::new(Package {
            zip: b"zip".to_vec(),
            sha256_b64: "sha".into(),
        })),
        packages: Default::default(),
        urls: Urls::Aws,
    })
}

/// A resource of the example program, by key.
fn example(key: &str) -> Res {
    deployer::App::default()
        .declare(&Config::default())
        .unwrap()
        .0
        .into_iter()
        .find(|r| r.key() == key)
        .unwrap()
}

const CLIENT_CODE: &str = "example-authorization-code";

fn cx(cognito: cip::Client, lambda: lambda::Client) -> Cx {
    Cx::new(
        Clients {
            cognito,
            lambda,
            apigw: mock_client!(aws_sdk_apigatewayv2, []),
            iam: mock_client!(aws_sdk_iam, []),
            sts: mock_client!(aws_sdk_sts, []),
            logs: mock_client!(aws_sdk_cloudwatchlogs, []),
            // Never called here (no kind of deployer's calls S3).
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::Config::builder()
                    .behavior_version_latest()
                    .build(),
            ),
            stats: Arc::new(CallStats::default()),
            pacer: Default::default(),
            region: "eu-west-1".into(),
            sdk: aws_config::SdkConfig::builder().build(),
        },
        ctx(),
    )
}

fn active_function() -> lambda::operation::get_function::GetFunctionOutput {
    lambda::operation::get_function::GetFunctionOutput::builder()
        .configuration(
            lambda::types::FunctionConfiguration::builder()
                .function_name("cognito-example")
                .function_arn("arn:aws:lambda:eu-west-1:123456789012:function:cognito-example")
                .state(lambda::types::State::Active)
                .last_update_status(lambda::types::LastUpdateStatus::Successful)
                .runtime(lambda::types::Runtime::Providedal2023)
                .handler("bootstrap")
                .build(),
        )
        .build()
}

fn known() -> Known {
    let mut k = Known::default();
    k.outputs.insert(
        "role".into(),
        [
            (
                "arn".to_string(),
                "arn:aws:iam::123456789012:role/r".to_string(),
            ),
            ("role_id".to_string(), "AROAEXAMPLE".to_string()),
        ]
        .into(),
    );
    k.outputs.insert(
        "resource_server".into(),
        [("id".to_string(), "https://api.example".to_string())].into(),
    );
    k.outputs.insert(
        "client/example".into(),
        [("id".to_string(), "ccid".to_string())].into(),
    );
    k.outputs.insert(
        "user_pool".into(),
        [("id".to_string(), "eu-west-1_pool".to_string())].into(),
    );
    k.outputs.insert(
        "api".into(),
        [
            ("id".to_string(), "api1".to_string()),
            ("endpoint".to_string(), "https://api1.example".to_string()),
        ]
        .into(),
    );
    k.outputs.insert(
        "client/example-authorization-code".to_string(),
        [
            ("id".to_string(), "cid".to_string()),
            ("secret".to_string(), "sec".to_string()),
        ]
        .into(),
    );
    k
}

#[tokio::test]
async fn create_function_waits_for_the_new_role_to_be_assumable() {
    let create = mock!(lambda::Client::create_function)
        .sequence()
        .error(|| {
            lambda::operation::create_function::CreateFunctionError::InvalidParameterValueException(
                lambda::types::error::InvalidParameterValueException::builder()
                    .message("The role defined for the function cannot be assumed by Lambda.")
                    .build(),
            )
        })
        .times(2)
        .output(|| lambda::operation::create_function::CreateFunctionOutput::builder().build())
        .build();
    let get = mock!(lambda::Client::get_function).then_output(active_function);
    let l = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, [&create, &get]);
    let c = cx(mock_client!(aws_sdk_cognitoidentityprovider, []), l);
    let k = known();
    let d = example("function")
        .desired(&c.ctx, &k)
        .known()
        .expect("every input known");
    let o = example("function")
        .create(&c, &d, &k)
        .await
        .expect("create succeeds once the role is assumable");
    assert_eq!(create.num_calls(), 3);
    assert!(o.outputs["arn"].ends_with(":function:cognito-example"));
}

#[tokio::test]
async fn other_create_errors_are_not_retried() {
    let create = mock!(lambda::Client::create_function).then_error(|| {
        lambda::operation::create_function::CreateFunctionError::InvalidParameterValueException(
            lambda::types::error::InvalidParameterValueException::builder()
                .message("Unzipped size must be smaller than 262144000 bytes")
                .build(),
        )
    });
    let l = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, [&create]);
    let c = cx(mock_client!(aws_sdk_cognitoidentityprovider, []), l);
    let k = known();
    let d = example("function")
        .desired(&c.ctx, &k)
        .known()
        .expect("every input known");
    let e = example("function")
        .create(&c, &d, &k)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("Unzipped size"), "{e}");
    assert_eq!(create.num_calls(), 1);
}

#[tokio::test]
async fn configuration_update_waits_out_an_update_in_progress() {
    let upd = mock!(lambda::Client::update_function_configuration)
        .sequence()
        .error(|| {
            lambda::operation::update_function_configuration::UpdateFunctionConfigurationError::ResourceConflictException(
                lambda::types::error::ResourceConflictException::builder().message("The operation cannot be performed at this time. An update is in progress").build(),
            )
        })
        .times(2)
        .output(|| lambda::operation::update_function_configuration::UpdateFunctionConfigurationOutput::builder().build())
        .build();
    let code = mock!(lambda::Client::update_function_code).then_output(|| {
        lambda::operation::update_function_code::UpdateFunctionCodeOutput::builder().build()
    });
    let get = mock!(lambda::Client::get_function).then_output(active_function);
    let l = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, [&upd, &code, &get]);
    let c = cx(mock_client!(aws_sdk_cognitoidentityprovider, []), l);
    let k = known();
    let d = example("function")
        .desired(&c.ctx, &k)
        .known()
        .expect("every input known");
    let mut observed_props = d.clone();
    observed_props.insert(
        "environment".into(),
        json!({"EXAMPLE_OIDC_ISSUER_URL": "https://evil"}),
    );
    let o = Observed {
        id: "cognito-example".into(),
        props: observed_props,
        outputs: BTreeMap::new(),
    };
    example("function")
        .update(&c, &d, &o, &k)
        .await
        .expect("update succeeds after the conflict clears");
    assert_eq!(upd.num_calls(), 3);
    assert_eq!(
        code.num_calls(),
        0,
        "only the configuration differed: no code upload"
    );
}

#[tokio::test]
async fn throttled_reads_are_retried_by_the_configured_policy() {
    const OK: &str = r#"{"Configuration":{"FunctionName":"cognito-example","FunctionArn":"arn:aws:lambda:eu-west-1:123456789012:function:cognito-example","State":"Active"}}"#;
    let get = mock!(lambda::Client::get_function)
        .sequence()
        .http_status(200, Some(OK.into()))
        .times(5)
        .http_status(
            429,
            Some(r#"{"__type":"TooManyRequestsException","message":"Rate exceeded"}"#.into()),
        )
        .http_status(200, Some(OK.into()))
        .build();
    let l = mock_client!(aws_sdk_lambda, RuleMode::Sequential, [&get], |c| c
        .retry_config(deployer::aws::retry_config())
        .time_source(aws_smithy_async::time::SystemTimeSource::new())
        .sleep_impl(aws_smithy_async::rt::sleep::TokioSleep::new()));
    let c = cx(mock_client!(aws_sdk_cognitoidentityprovider, []), l);
    let t = std::time::Instant::now();
    for _ in 0..6 {
        let r = example("function")
            .read(&c, &Default::default())
            .await
            .expect("throttling is retried, not returned");
        assert!(matches!(r, deployer::kind::Read::Found(_)));
    }
    assert!(
        get.num_calls() >= 7,
        "six reads and one retry: {}",
        get.num_calls()
    );
    eprintln!("six reads with one throttle took {:?}", t.elapsed());
}

#[tokio::test]
async fn domain_create_waits_until_active() {
    let create = mock!(cip::Client::create_user_pool_domain).then_output(|| {
        cip::operation::create_user_pool_domain::CreateUserPoolDomainOutput::builder().build()
    });
    let desc = |status: cip::types::DomainStatusType| {
        move || {
            cip::operation::describe_user_pool_domain::DescribeUserPoolDomainOutput::builder()
                .domain_description(
                    cip::types::DomainDescriptionType::builder()
                        .domain("d")
                        .user_pool_id("eu-west-1_pool")
                        .status(status.clone())
                        .build(),
                )
                .build()
        }
    };
    let describe = mock!(cip::Client::describe_user_pool_domain)
        .sequence()
        .output(desc(cip::types::DomainStatusType::Creating))
        .times(2)
        .output(desc(cip::types::DomainStatusType::Active))
        .build();
    let cog = mock_client!(
        aws_sdk_cognitoidentityprovider,
        RuleMode::MatchAny,
        [&create, &describe]
    );
    let c = cx(cog, mock_client!(aws_sdk_lambda, []));
    let d =
        props(json!({"domain": "d", "user_pool_id": "eu-west-1_pool", "managed_login_version": 1}));
    let o = example("domain").create(&c, &d, &known()).await.unwrap();
    assert_eq!(o.outputs["status"], "ACTIVE");
    assert_eq!(create.num_calls(), 1);
    assert_eq!(describe.num_calls(), 3);
}

#[tokio::test]
async fn client_update_sends_back_every_field_it_does_not_manage() {
    let current = || {
        cip::types::UserPoolClientType::builder()
            .client_id("cid")
            .client_name(CLIENT_CODE)
            .client_secret("sec")
            .refresh_token_validity(30)
            .logout_urls("https://keep.example/logout")
            .explicit_auth_flows(cip::types::ExplicitAuthFlowsType::AllowRefreshTokenAuth)
            .allowed_o_auth_flows(cip::types::OAuthFlowType::Implicit)
            .build()
    };
    let describe = mock!(cip::Client::describe_user_pool_client).then_output(move || {
        cip::operation::describe_user_pool_client::DescribeUserPoolClientOutput::builder()
            .user_pool_client(current())
            .build()
    });
    let update = mock!(cip::Client::update_user_pool_client)
        .match_requests(|r| {
            // 30 days (the unit's default) as minutes, with the unit;
            // logout URLs are the client's declared ones (none here).
            r.refresh_token_validity() == Some(30 * 24 * 60)
                && r.token_validity_units().and_then(|u| u.refresh_token())
                    == Some(&cip::types::TimeUnitsType::Minutes)
                && r.logout_urls().is_empty()
                && r.explicit_auth_flows()
                    == [cip::types::ExplicitAuthFlowsType::AllowRefreshTokenAuth]
                && r.allowed_o_auth_flows() == [cip::types::OAuthFlowType::Code]
                && r.callback_urls() == ["https://api1.example/oidc".to_string()]
        })
        .then_output(|| {
            cip::operation::update_user_pool_client::UpdateUserPoolClientOutput::builder()
                .user_pool_client(
                    cip::types::UserPoolClientType::builder()
                        .client_id("cid")
                        .client_name(CLIENT_CODE)
                        .build(),
                )
                .build()
        });
    let cog = mock_client!(
        aws_sdk_cognitoidentityprovider,
        RuleMode::MatchAny,
        [&describe, &update]
    );
    let c = cx(cog, mock_client!(aws_sdk_lambda, []));
    let res = example("client/example-authorization-code");
    let k = known();
    let d = res.desired(&c.ctx, &k).known().expect("every input known");
    let o = Observed {
        id: "cid".into(),
        props: props(json!({})),
        outputs: [("parent_id".to_string(), "eu-west-1_pool".to_string())].into(),
    };
    let n = res
        .update(&c, &d, &o, &k)
        .await
        .expect("the update request matched: every field was sent back");
    assert_eq!(update.num_calls(), 1);
    assert_eq!(
        n.outputs["secret"], "sec",
        "the secret survives an update that does not return it"
    );
}

// ------------------------------------------------------------------
// Retry predicates, with the exact codes and messages AWS answers.

/// The pure predicate behind `BusyClassifier`: what is retried, and the
/// look-alikes that are not (an "already exists" conflict is final).
#[test]
fn busy_error_predicate_table() {
    use deployer::aws::is_busy_error;
    let table = [
        ("ConflictException", "Unable to complete operation due to concurrent modification. Please try again later.", true),
        ("ConflictException", "Route with key GET /x already exists for this API", false),
        ("ConcurrentModificationException", "Cannot modify user pool client concurrently. Please try again.", true),
        ("ResourceConflictException", "The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:eu-west-1:123456789012:function:cognito-example", true),
        ("ResourceConflictException", "The operation cannot be performed at this time. The function is currently in the following state: Pending", true),
        ("ResourceConflictException", "Function already exist: cognito-example", false),
        ("ResourceConflictException", "The statement id (apigateway-invoke) provided already exists. Please provide a new statement id, or remove the existing statement.", false),
        ("InvalidParameterException", "User pool cannot be deleted. It has a domain configured that should be deleted first.", false),
        ("ConcurrentModification", "Cannot perform the operation on the role cognito-example-lambda because a conflicting operation is in progress.", true),
        ("LimitExceededException", "The limit of user pools for this account has been exceeded.", false),
    ];
    for (code, message, want) in table {
        assert_eq!(is_busy_error(code, message), want, "{code}: {message}");
    }
    assert!(deployer::resources::cognito::pool_has_domain(Some(
        "User pool cannot be deleted. It has a domain configured that should be deleted first."
    )));
    assert!(deployer::aws::is_role_not_assumable(Some(
        "The role defined for the function cannot be assumed by Lambda."
    )));
    assert!(deployer::aws::is_role_not_assumable(Some("Lambda was unable to configure access to your environment variables because the KMS key is invalid for CreateGrant. Please check your KMS key settings. KMS Exception: InvalidArnException KMS Message: ARN does not refer to a valid principal: arn:aws:iam::123456789012:role/cognito-example-lambda")));
    assert!(deployer::aws::is_role_not_assumable(Some("Lambda was unable to configure access to your environment variables because the KMS key is invalid for CreateGrant. Please check your KMS key settings. KMS Exception: NotFoundException KMS Message: Principal not found")));
    assert!(!deployer::aws::is_role_not_assumable(Some(
        "Value 'x' at 'role' failed to satisfy constraint"
    )));
}

/// The error code of each protocol's error shape.
#[test]
fn error_codes_of_every_protocol() {
    use deployer::aws::error_code_and_message as parse;
    assert_eq!(
        parse(
            Some("ConflictException:http://internal.amazon.com/coral/com.amazonaws.apigatewayv2/"),
            br#"{"message":"Unable to complete operation due to concurrent modification. Please try again later."}"#
        ),
        ("ConflictException".into(), "Unable to complete operation due to concurrent modification. Please try again later.".into())
    );
    assert_eq!(
        parse(None, br#"{"__type":"com.amazonaws.cognito#ConcurrentModificationException","message":"busy"}"#).0,
        "ConcurrentModificationException"
    );
    assert_eq!(
        parse(None, b"<ErrorResponse><Error><Type>Sender</Type><Code>DeleteConflict</Code><Message>Cannot delete entity, must detach all policies first.</Message></Error></ErrorResponse>"),
        ("DeleteConflict".into(), "Cannot delete entity, must detach all policies first.".into())
    );
}

fn aws_error(
    status: u16,
    code: &'static str,
    body: &'static str,
) -> impl Fn() -> aws_smithy_runtime_api::http::Response + Send + Sync + 'static {
    move || {
        let mut r = aws_smithy_runtime_api::http::Response::new(
            aws_smithy_runtime_api::http::StatusCode::try_from(status).unwrap(),
            aws_smithy_types::body::SdkBody::from(body),
        );
        r.headers_mut().insert("x-amzn-ErrorType", code);
        r.headers_mut().insert("Content-Type", "application/json");
        r
    }
}

macro_rules! realistic_client {
    ($sdk:ident, $mode:expr, $rules:expr) => {
        realistic_client!(
            $sdk,
            $mode,
            $rules,
            deployer::aws::BusyClassifier::default()
        )
    };
    ($sdk:ident, $mode:expr, $rules:expr, $classifier:expr) => {
        mock_client!($sdk, $mode, $rules, |c| c
            .retry_config(deployer::aws::retry_config())
            .retry_classifier($classifier)
            .time_source(aws_smithy_async::time::SystemTimeSource::new())
            .sleep_impl(aws_smithy_async::rt::sleep::TokioSleep::new()))
    };
}

#[tokio::test]
async fn apigw_concurrent_modification_is_retried_and_already_exists_is_not() {
    use aws_sdk_apigatewayv2 as apigw;
    const BUSY: &str = r#"{"message":"Unable to complete operation due to concurrent modification. Please try again later."}"#;
    let route = mock!(apigw::Client::create_route)
        .sequence()
        .http_response(aws_error(409, "ConflictException", BUSY))
        .times(2)
        .output(|| {
            apigw::operation::create_route::CreateRouteOutput::builder()
                .route_id("r1")
                .build()
        })
        .build();
    let c = realistic_client!(aws_sdk_apigatewayv2, RuleMode::Sequential, [&route]);
    let out = c
        .create_route()
        .api_id("a")
        .route_key("GET /x")
        .send()
        .await
        .unwrap();
    assert_eq!(out.route_id(), Some("r1"));
    assert_eq!(route.num_calls(), 3);

    let exists = mock!(apigw::Client::create_route).then_http_response(aws_error(
        409,
        "ConflictException",
        r#"{"message":"Route with key GET /x already exists for this API"}"#,
    ));
    let c = realistic_client!(aws_sdk_apigatewayv2, RuleMode::Sequential, [&exists]);
    let e = c
        .create_route()
        .api_id("a")
        .route_key("GET /x")
        .send()
        .await
        .unwrap_err();
    assert!(e
        .as_service_error()
        .is_some_and(|s| s.is_conflict_exception()));
    assert_eq!(exists.num_calls(), 1, "an already-exists conflict is final");
}

#[tokio::test]
async fn cognito_concurrent_client_write_is_retried() {
    let create = mock!(cip::Client::create_user_pool_client)
        .sequence()
        .http_response(aws_error(
            400,
            "ConcurrentModificationException",
            r#"{"__type":"ConcurrentModificationException","message":"Cannot modify user pool client concurrently."}"#,
        ))
        .times(3)
        .output(|| cip::operation::create_user_pool_client::CreateUserPoolClientOutput::builder().build())
        .build();
    let c = realistic_client!(
        aws_sdk_cognitoidentityprovider,
        RuleMode::Sequential,
        [&create]
    );
    c.create_user_pool_client()
        .user_pool_id("p")
        .client_name("example")
        .send()
        .await
        .unwrap();
    assert_eq!(create.num_calls(), 4);
}

#[tokio::test]
async fn lambda_update_in_progress_and_pending_are_retried() {
    let update = mock!(lambda::Client::update_function_configuration)
        .sequence()
        .http_response(aws_error(409, "ResourceConflictException", r#"{"Type":"User","message":"The operation cannot be performed at this time. The function is currently in the following state: Pending"}"#))
        .http_response(aws_error(409, "ResourceConflictException", r#"{"Type":"User","message":"The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:eu-west-1:123456789012:function:cognito-example"}"#))
        .output(|| lambda::operation::update_function_configuration::UpdateFunctionConfigurationOutput::builder().build())
        .build();
    let c = realistic_client!(aws_sdk_lambda, RuleMode::Sequential, [&update]);
    c.update_function_configuration()
        .function_name("cognito-example")
        .send()
        .await
        .unwrap();
    assert_eq!(update.num_calls(), 3);
}

#[tokio::test]
async fn create_function_waits_out_the_kms_create_grant_message() {
    let create = mock!(lambda::Client::create_function)
        .sequence()
        .error(|| {
            lambda::operation::create_function::CreateFunctionError::InvalidParameterValueException(
                lambda::types::error::InvalidParameterValueException::builder()
                    .message("Lambda was unable to configure access to your environment variables because the KMS key is invalid for CreateGrant. Please check your KMS key settings. KMS Exception: InvalidArnException KMS Message: ARN does not refer to a valid principal: arn:aws:iam::123456789012:role/r")
                    .build(),
            )
        })
        .output(|| lambda::operation::create_function::CreateFunctionOutput::builder().build())
        .build();
    let get = mock!(lambda::Client::get_function).then_output(active_function);
    let l = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, [&create, &get]);
    let c = cx(mock_client!(aws_sdk_cognitoidentityprovider, []), l);
    let k = known();
    let d = example("function")
        .desired(&c.ctx, &k)
        .known()
        .expect("every input known");
    example("function").create(&c, &d, &k).await.unwrap();
    assert_eq!(create.num_calls(), 2);
}

#[tokio::test]
async fn delete_role_waits_out_delete_conflict_and_pool_waits_for_its_domain() {
    use aws_sdk_iam as iam;
    let list = mock!(iam::Client::list_attached_role_policies).then_output(|| {
        iam::operation::list_attached_role_policies::ListAttachedRolePoliciesOutput::builder()
            .build()
    });
    let inline = mock!(iam::Client::list_role_policies).then_output(|| {
        iam::operation::list_role_policies::ListRolePoliciesOutput::builder()
            .set_policy_names(Some(vec![]))
            .build()
            .unwrap()
    });
    let delete = mock!(iam::Client::delete_role)
        .sequence()
        .error(|| {
            iam::operation::delete_role::DeleteRoleError::DeleteConflictException(
                iam::types::error::DeleteConflictException::builder()
                    .message("Cannot delete entity, must detach all policies first.")
                    .build(),
            )
        })
        .times(2)
        .output(|| iam::operation::delete_role::DeleteRoleOutput::builder().build())
        .build();
    let mut c = cx(
        mock_client!(aws_sdk_cognitoidentityprovider, []),
        mock_client!(aws_sdk_lambda, []),
    );
    c.aws.iam = mock_client!(aws_sdk_iam, RuleMode::MatchAny, [&list, &inline, &delete]);
    example("role")
        .delete(&c, "cognito-example-lambda", None)
        .await
        .unwrap();
    assert_eq!(delete.num_calls(), 3);

    let describe = mock!(cip::Client::describe_user_pool).then_output(|| {
        cip::operation::describe_user_pool::DescribeUserPoolOutput::builder()
            .user_pool(
                cip::types::UserPoolType::builder()
                    .id("eu-west-1_p")
                    .name("cognito-example")
                    .build(),
            )
            .build()
    });
    let del_pool = mock!(cip::Client::delete_user_pool)
        .sequence()
        .error(|| {
            cip::operation::delete_user_pool::DeleteUserPoolError::InvalidParameterException(
                cip::types::error::InvalidParameterException::builder()
                    .message("User pool cannot be deleted. It has a domain configured that should be deleted first.")
                    .build(),
            )
        })
        .times(2)
        .output(|| cip::operation::delete_user_pool::DeleteUserPoolOutput::builder().build())
        .build();
    let c = cx(
        mock_client!(
            aws_sdk_cognitoidentityprovider,
            RuleMode::MatchAny,
            [&describe, &del_pool]
        ),
        mock_client!(aws_sdk_lambda, []),
    );
    example("user_pool")
        .delete(&c, "eu-west-1_p", None)
        .await
        .unwrap();
    assert_eq!(del_pool.num_calls(), 3);
}

/// A connection that takes the request and never answers (AWS applied it,
/// the response was lost).
#[derive(Debug, Clone, Default)]
struct LostResponses {
    calls: Arc<std::sync::atomic::AtomicUsize>,
}

impl aws_smithy_runtime_api::client::http::HttpConnector for LostResponses {
    fn call(
        &self,
        _request: aws_smithy_runtime_api::client::orchestrator::HttpRequest,
    ) -> aws_smithy_runtime_api::client::http::HttpConnectorFuture {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        aws_smithy_runtime_api::client::http::HttpConnectorFuture::ready(Err(
            aws_smithy_runtime_api::client::result::ConnectorError::io(
                "connection closed before message completed".into(),
            ),
        ))
    }
}

impl aws_smithy_runtime_api::client::http::HttpClient for LostResponses {
    fn http_connector(
        &self,
        _settings: &aws_smithy_runtime_api::client::http::HttpConnectorSettings,
        _components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
    ) -> aws_smithy_runtime_api::client::http::SharedHttpConnector {
        aws_smithy_runtime_api::client::http::SharedHttpConnector::new(self.clone())
    }
}

/// The SDK retries a read whose response was lost, but never a create: its
/// outcome is unknown, and the engine looks for what it made first.
#[tokio::test]
async fn a_create_whose_response_is_lost_is_not_retried_blindly() {
    let conn = LostResponses::default();
    let cfg = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("eu-west-1"))
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new("a", "b", None, None, "test"),
            ),
        )
        .http_client(conn.clone())
        .retry_config(deployer::aws::retry_config())
        .sleep_impl(aws_smithy_async::rt::sleep::TokioSleep::new())
        .time_source(aws_smithy_async::time::SystemTimeSource::new())
        .build();
    let clients = Clients::new(&cfg);
    let e = clients
        .cognito
        .create_user_pool()
        .pool_name("cognito-example")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        conn.calls.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the create was sent once"
    );
    let err = deployer::error::Error::aws("create user pool", e);
    assert!(err.is_ambiguous(), "{err}");
    assert!(
        err.to_string().contains("may or may not have been applied"),
        "{err}"
    );

    let before = conn.calls.load(std::sync::atomic::Ordering::SeqCst);
    let _ = clients
        .cognito
        .describe_user_pool()
        .user_pool_id("p")
        .send()
        .await
        .unwrap_err();
    let reads = conn.calls.load(std::sync::atomic::Ordering::SeqCst) - before;
    assert_eq!(
        reads as u32,
        deployer::aws::retry_config().max_attempts(),
        "a read is retried"
    );
}

/// moto serves no UntagResource for a stage; this is the call AWS gets when
/// a tag leaves the config.
#[tokio::test]
async fn stage_update_untags_a_dropped_tag() {
    use aws_sdk_apigatewayv2 as apigw;
    let untag = mock!(apigw::Client::untag_resource)
        .match_requests(|r| {
            r.resource_arn() == Some("arn:aws:apigateway:eu-west-1::/apis/api1/stages/$default")
                && r.tag_keys() == ["CostCenter".to_string()]
        })
        .then_output(|| apigw::operation::untag_resource::UntagResourceOutput::builder().build());
    let tag = mock!(apigw::Client::tag_resource)
        .match_requests(|r| {
            r.tags().is_some_and(|t| {
                t.len() == 3
                    && t["Project"] == "cognito-example"
                    && t["deployer:stack-id"] == "0123456789abcdef"
            })
        })
        .then_output(|| apigw::operation::tag_resource::TagResourceOutput::builder().build());
    let mut c = cx(
        mock_client!(aws_sdk_cognitoidentityprovider, []),
        mock_client!(aws_sdk_lambda, []),
    );
    c.aws.apigw = mock_client!(aws_sdk_apigatewayv2, RuleMode::MatchAny, [&untag, &tag]);
    let k = known();
    let d = example("stage")
        .desired(&c.ctx, &k)
        .known()
        .expect("every input known");
    // As declared but for a tag: no UpdateStage, tags only.
    let mut observed = d.clone();
    observed.insert(
        "tags".into(),
        json!({"Project": "cognito-example", "CostCenter": "42", "deployer:stack": "t", "deployer:stack-id": "0123456789abcdef"}),
    );
    let o = Observed {
        id: "$default".into(),
        props: observed,
        outputs: [("parent_id".to_string(), "api1".to_string())].into(),
    };
    let n = example("stage").update(&c, &d, &o, &k).await.unwrap();
    assert_eq!(n.props, d);
    assert_eq!((untag.num_calls(), tag.num_calls()), (1, 1));
}

/// A function moved to a new role meets the role's propagation on
/// UpdateFunctionConfiguration as CreateFunction does: both messages are
/// retried, the KMS one whatever KMS exception it names.
#[tokio::test]
async fn configuration_update_waits_for_a_new_role_to_be_assumable() {
    use lambda::operation::update_function_configuration::UpdateFunctionConfigurationError as E;
    let invalid = |m: &'static str| {
        move || {
            E::InvalidParameterValueException(
                lambda::types::error::InvalidParameterValueException::builder()
                    .message(m)
                    .build(),
            )
        }
    };
    let upd = mock!(lambda::Client::update_function_configuration)
        .sequence()
        .error(invalid("The role defined for the function cannot be assumed by Lambda."))
        .error(invalid("Lambda was unable to configure access to your environment variables because the KMS key is invalid for CreateGrant. Please check your KMS key settings. KMS Exception: NotFoundException KMS Message: Principal not found"))
        .output(|| lambda::operation::update_function_configuration::UpdateFunctionConfigurationOutput::builder().build())
        .build();
    let get = mock!(lambda::Client::get_function).then_output(active_function);
    let l = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, [&upd, &get]);
    let c = cx(mock_client!(aws_sdk_cognitoidentityprovider, []), l);
    let k = known();
    let d = example("function")
        .desired(&c.ctx, &k)
        .known()
        .expect("every input known");
    let mut observed_props = d.clone();
    observed_props.insert("role".into(), json!("arn:aws:iam::123456789012:role/old"));
    let o = Observed {
        id: "cognito-example".into(),
        props: observed_props,
        outputs: BTreeMap::new(),
    };
    example("function")
        .update(&c, &d, &o, &k)
        .await
        .expect("the update succeeds once the role is assumable");
    assert_eq!(upd.num_calls(), 3);
}

/// A route without a JWT authorizer is updated without AuthorizationScopes
/// (AWS accepts scopes only for JWT); the protected one gets its scopes.
#[tokio::test]
async fn route_update_sends_scopes_only_with_a_jwt_authorizer() {
    use aws_sdk_apigatewayv2 as apigw;
    let open = mock!(apigw::Client::update_route)
        .match_requests(|r| r.route_id() == Some("r-open") && r.authorization_scopes.is_none())
        .then_output(|| apigw::operation::update_route::UpdateRouteOutput::builder().build());
    let protected = mock!(apigw::Client::update_route)
        .match_requests(|r| {
            r.route_id() == Some("r-jwt")
                && r.authorization_scopes.as_deref() == Some(&["example/auth".to_string()])
        })
        .then_output(|| apigw::operation::update_route::UpdateRouteOutput::builder().build());
    let mut c = cx(
        mock_client!(aws_sdk_cognitoidentityprovider, []),
        mock_client!(aws_sdk_lambda, []),
    );
    c.aws.apigw = mock_client!(
        aws_sdk_apigatewayv2,
        RuleMode::MatchAny,
        [&open, &protected]
    );
    let mut k = known();
    k.outputs.insert(
        "integration".into(),
        [("id".to_string(), "int1".to_string())].into(),
    );
    k.outputs.insert(
        "authorizer".into(),
        [("id".to_string(), "auth1".to_string())].into(),
    );
    k.outputs.insert(
        "resource_server".into(),
        [("id".to_string(), "example".to_string())].into(),
    );
    for (key, id) in [
        ("route/$default", "r-open"),
        ("route/GET /jwt-cognito-protected", "r-jwt"),
    ] {
        let d = example(key)
            .desired(&c.ctx, &k)
            .known()
            .expect("every input known");
        let o = Observed {
            id: id.into(),
            props: props(json!({"target": "integrations/old"})),
            outputs: [("parent_id".to_string(), "api1".to_string())].into(),
        };
        example(key)
            .update(&c, &d, &o, &k)
            .await
            .unwrap_or_else(|e| panic!("{key}: {e}"));
    }
    assert_eq!((open.num_calls(), protected.num_calls()), (1, 1));
}

/// IAM's conflict answer (409 `ConcurrentModification`, no `Exception`, in
/// its query-XML protocol) is retried by the classifier every client has.
#[tokio::test]
async fn iam_concurrent_modification_is_retried() {
    use aws_sdk_iam as iam;
    let attach = mock!(iam::Client::attach_role_policy)
        .sequence()
        .http_response(|| {
            aws_smithy_runtime_api::http::Response::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(409).unwrap(),
                aws_smithy_types::body::SdkBody::from("<ErrorResponse><Error><Type>Sender</Type><Code>ConcurrentModification</Code><Message>Cannot perform the operation on the role cognito-example-lambda because a conflicting operation is in progress.</Message></Error></ErrorResponse>"),
            )
        })
        .times(2)
        .output(|| iam::operation::attach_role_policy::AttachRolePolicyOutput::builder().build())
        .build();
    let c = realistic_client!(aws_sdk_iam, RuleMode::Sequential, [&attach]);
    c.attach_role_policy()
        .role_name("cognito-example-lambda")
        .policy_arn("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
        .send()
        .await
        .expect("the conflict is waited out");
    assert_eq!(attach.num_calls(), 3);
}

/// Cognito's `LimitExceededException` is a quota of the account: one call,
/// no retry (the SDK's standard list would retry it as a throttle), and the
/// message says it is a quota and what to do.
#[tokio::test]
async fn cognito_limit_exceeded_fails_at_once_with_the_quota_named() {
    let create = mock!(cip::Client::create_user_pool).then_http_response(aws_error(
        400,
        "LimitExceededException",
        r#"{"__type":"LimitExceededException","message":"The limit of user pools for this account has been exceeded."}"#,
    ));
    let c = realistic_client!(
        aws_sdk_cognitoidentityprovider,
        RuleMode::Sequential,
        [&create],
        deployer::aws::BusyClassifier::cognito()
    );
    let t = std::time::Instant::now();
    let e = c
        .create_user_pool()
        .pool_name("p")
        .send()
        .await
        .unwrap_err();
    assert_eq!(create.num_calls(), 1, "a quota is not retried");
    assert!(t.elapsed() < std::time::Duration::from_secs(2));
    let e = deployer::error::Error::aws("create user pool", e).to_string();
    assert!(e.contains("quota"), "{e}");
    assert!(e.contains("LimitExceededException"), "{e}");
    // Throttling stays retried on the same client.
    let throttled = mock!(cip::Client::create_user_pool)
        .sequence()
        .http_response(aws_error(
            400,
            "TooManyRequestsException",
            r#"{"__type":"TooManyRequestsException","message":"Rate exceeded"}"#,
        ))
        .output(|| cip::operation::create_user_pool::CreateUserPoolOutput::builder().build())
        .build();
    let c = realistic_client!(
        aws_sdk_cognitoidentityprovider,
        RuleMode::Sequential,
        [&throttled],
        deployer::aws::BusyClassifier::cognito()
    );
    c.create_user_pool().pool_name("p").send().await.unwrap();
    assert_eq!(throttled.num_calls(), 2);
}

/// DeleteUserPoolDomain's InvalidParameterException is ignored only when
/// the domain is no longer the pool's: a refusal (the domain still there)
/// is an error, not a silent success.
#[tokio::test]
async fn domain_delete_ignores_only_a_domain_already_gone() {
    let refused = || {
        mock!(cip::Client::delete_user_pool_domain).then_error(|| {
            cip::operation::delete_user_pool_domain::DeleteUserPoolDomainError::InvalidParameterException(
                cip::types::error::InvalidParameterException::builder()
                    .message("The domain cannot be deleted now.")
                    .build(),
            )
        })
    };
    let described = |pool: Option<&'static str>| {
        mock!(cip::Client::describe_user_pool_domain).then_output(move || {
            let mut d = cip::types::DomainDescriptionType::builder().domain("d");
            if let Some(p) = pool {
                d = d
                    .user_pool_id(p)
                    .status(cip::types::DomainStatusType::Active);
            }
            cip::operation::describe_user_pool_domain::DescribeUserPoolDomainOutput::builder()
                .domain_description(d.build())
                .build()
        })
    };
    // Still the pool's: the refusal is reported.
    let (del, desc) = (refused(), described(Some("eu-west-1_pool")));
    let c = cx(
        mock_client!(
            aws_sdk_cognitoidentityprovider,
            RuleMode::MatchAny,
            [&del, &desc]
        ),
        mock_client!(aws_sdk_lambda, []),
    );
    let e = example("domain")
        .delete(&c, "d", Some("eu-west-1_pool"))
        .await
        .expect_err("a domain that is still there was not deleted");
    assert!(e.to_string().contains("cannot be deleted now"), "{e}");
    // Gone (AWS describes an empty domain): nothing to do.
    let (del, desc) = (refused(), described(None));
    let c = cx(
        mock_client!(
            aws_sdk_cognitoidentityprovider,
            RuleMode::MatchAny,
            [&del, &desc]
        ),
        mock_client!(aws_sdk_lambda, []),
    );
    example("domain")
        .delete(&c, "d", Some("eu-west-1_pool"))
        .await
        .expect("a domain already gone is deleted");
    assert_eq!((del.num_calls(), desc.num_calls()), (1, 1));
}

/// CreateStage answers a conflict and no stage can be read back: the run
/// fails instead of recording a `$default` stage it has not seen; a stage
/// that is there is adopted.
#[tokio::test]
async fn stage_create_records_only_a_stage_it_has_seen() {
    use aws_sdk_apigatewayv2 as apigw;
    let conflict = || {
        mock!(apigw::Client::create_stage).then_error(|| {
            apigw::operation::create_stage::CreateStageError::ConflictException(
                apigw::types::error::ConflictException::builder()
                    .message("Stage already exists")
                    .build(),
            )
        })
    };
    let (create, get) = (
        conflict(),
        mock!(apigw::Client::get_stage).then_error(|| {
            apigw::operation::get_stage::GetStageError::NotFoundException(
                apigw::types::error::NotFoundException::builder()
                    .message("Invalid stage identifier specified")
                    .build(),
            )
        }),
    );
    let mut c = cx(
        mock_client!(aws_sdk_cognitoidentityprovider, []),
        mock_client!(aws_sdk_lambda, []),
    );
    c.aws.apigw = mock_client!(aws_sdk_apigatewayv2, RuleMode::MatchAny, [&create, &get]);
    let k = known();
    let d = example("stage")
        .desired(&c.ctx, &k)
        .known()
        .expect("every input known");
    let e = example("stage")
        .create(&c, &d, &k)
        .await
        .expect_err("nothing seen, nothing recorded");
    assert!(e.to_string().contains("no stage is there"), "{e}");
    // The stage is there: adopted (and brought to the desired settings).
    let (create, get) = (
        conflict(),
        mock!(apigw::Client::get_stage).then_output(|| {
            apigw::operation::get_stage::GetStageOutput::builder()
                .stage_name("$default")
                .auto_deploy(true)
                .set_tags(Some(ctx().tags.clone().into_iter().collect()))
                .build()
        }),
    );
    c.aws.apigw = mock_client!(aws_sdk_apigatewayv2, RuleMode::MatchAny, [&create, &get]);
    let o = example("stage").create(&c, &d, &k).await.unwrap();
    assert_eq!(o.id, "$default");
    assert_eq!(get.num_calls(), 1);
}
