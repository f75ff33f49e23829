//! What moto cannot show, with aws-smithy-mocks: IAM propagation, update
//! conflicts, throttling, a domain that takes time to become ACTIVE, and the
//! describe-merge-send of UpdateUserPoolClient. Each test fails if an
//! expected call is missing or made too often.

use aws_sdk_cognitoidentityprovider as cip;
use aws_sdk_lambda as lambda;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use deployer::aws::{CallStats, Clients};
use deployer::config::{Architecture, Config};
use deployer::resources::cognito::{Client as AppClient, Domain, CLIENT_CODE};
use deployer::resources::lambda::Function;
use deployer::resources::{props, Ctx, Cx, Known, Observed, Package, Resource, Urls};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

fn ctx() -> Arc<Ctx> {
    Arc::new(Ctx {
        stack: "t".into(),
        prefix: "cognito-example".into(),
        region: "eu-west-1".into(),
        account: "123456789012".into(),
        tags: [("Project".to_string(), "cognito-example".to_string())].into(),
        architecture: Architecture::X86_64,
        users: Config::default().users,
        package: Some(Arc::new(Package {
            zip: b"zip".to_vec(),
            sha256_b64: "sha".into(),
        })),
        urls: Urls::Aws,
    })
}

fn cx(cognito: cip::Client, lambda: lambda::Client) -> Cx {
    Cx {
        aws: Clients {
            cognito,
            lambda,
            apigw: mock_client!(aws_sdk_apigatewayv2, []),
            iam: mock_client!(aws_sdk_iam, []),
            sts: mock_client!(aws_sdk_sts, []),
            stats: Arc::new(CallStats::default()),
            region: "eu-west-1".into(),
        },
        ctx: ctx(),
    }
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
        [(
            "arn".to_string(),
            "arn:aws:iam::123456789012:role/r".to_string(),
        )]
        .into(),
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
        AppClient::key_of(CLIENT_CODE),
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
    let d = Function.desired(&c.ctx, &k);
    let o = Function
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
    let d = Function.desired(&c.ctx, &k);
    let e = Function.create(&c, &d, &k).await.unwrap_err().to_string();
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
    let d = Function.desired(&c.ctx, &k);
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
    Function
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
        let r = Function
            .read(&c, &Default::default())
            .await
            .expect("throttling is retried, not returned");
        assert!(matches!(r, deployer::resources::Read::Found(_)));
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
    let o = Domain.create(&c, &d, &known()).await.unwrap();
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
            r.refresh_token_validity() == Some(30)
                && r.logout_urls() == ["https://keep.example/logout".to_string()]
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
    let res = AppClient { name: CLIENT_CODE };
    let k = known();
    let d = res.desired(&c.ctx, &k);
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
