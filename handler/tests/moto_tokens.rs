//! Real Cognito-shaped tokens: minted by moto_server's cognito-idp for a
//! user in a pool it created, validated against moto's JWKS.

use aws_sdk_cognitoidentityprovider as cip;
use handler::jwt::{Expect, Provider};
use std::process::{Command, Stdio};

struct Moto(std::process::Child);
impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn moto_minted_access_and_id_tokens_validate() {
    let exe = deployer::tools::ensure("moto_server").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _moto = Moto(
        Command::new(exe)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let endpoint = format!("http://127.0.0.1:{port}");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        for _ in 0..300 {
            if reqwest::get(format!("{endpoint}/moto-api/")).await.is_ok() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let cfg = deployer::aws::defaults()
            .region(aws_config::Region::new("eu-west-1"))
            .endpoint_url(&endpoint)
            .credentials_provider(aws_credential_types_shim())
            .load()
            .await;
        let c = cip::Client::new(&cfg);
        let pool = c
            .create_user_pool()
            .pool_name("tokens")
            .send()
            .await
            .unwrap()
            .user_pool
            .unwrap()
            .id
            .unwrap();
        let client = c
            .create_user_pool_client()
            .user_pool_id(&pool)
            .client_name("app")
            .explicit_auth_flows(cip::types::ExplicitAuthFlowsType::AllowAdminUserPasswordAuth)
            .send()
            .await
            .unwrap()
            .user_pool_client
            .unwrap()
            .client_id
            .unwrap();
        c.admin_create_user()
            .user_pool_id(&pool)
            .username("alice")
            .message_action(cip::types::MessageActionType::Suppress)
            .send()
            .await
            .unwrap();
        c.admin_set_user_password()
            .user_pool_id(&pool)
            .username("alice")
            .password("HeyH0Password!")
            .permanent(true)
            .send()
            .await
            .unwrap();
        let auth = c
            .admin_initiate_auth()
            .user_pool_id(&pool)
            .client_id(&client)
            .auth_flow(cip::types::AuthFlowType::AdminUserPasswordAuth)
            .auth_parameters("USERNAME", "alice")
            .auth_parameters("PASSWORD", "HeyH0Password!")
            .send()
            .await
            .unwrap()
            .authentication_result
            .unwrap();
        let config = handler::Config {
            redirect_url: "https://x/oidc".into(),
            issuer: format!("https://cognito-idp.eu-west-1.amazonaws.com/{pool}"),
            client_id: client.clone(),
            client_secret: "unused".into(),
            jwks_url: Some(format!("{endpoint}/{pool}/.well-known/jwks.json")),
            allowed_clients: Some(vec![client.clone()]),
        };
        let p = Provider::new(&config);
        let access_token = auth.access_token.unwrap();
        let access = p
            .validate(&access_token, Expect::Access)
            .await
            .expect("moto's access token validates");
        assert_eq!(access["token_use"], "access");
        assert_eq!(access["client_id"], client);
        assert_eq!(access["username"], "alice");
        let id = p
            .validate(
                &auth.id_token.unwrap(),
                Expect::Id {
                    audience: &client,
                    nonce: None,
                },
            )
            .await
            .expect("moto's ID token validates");
        assert_eq!(id["token_use"], "id");
        assert_eq!(id["aud"], client);
        // Another pool's issuer is refused, even with the same (moto-wide) key.
        let other = Provider::new(&handler::Config {
            issuer: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_other".into(),
            ..config
        });
        let e = other
            .validate(&access_token, Expect::Access)
            .await
            .unwrap_err();
        assert!(e.contains("InvalidIssuer"), "{e}");
    });
}

fn aws_credential_types_shim() -> aws_config::meta::credentials::CredentialsProviderChain {
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    aws_config::meta::credentials::CredentialsProviderChain::first_try(
        "env",
        aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
    )
}
