//! A Cognito trigger: a pre token generation function (the `claims` crate,
//! `functions/claims`) adds the caller's `plan` and the user's `tenant` (a
//! custom attribute) to every token the pool issues, client-credentials
//! tokens included (event version 3). The pool also shows the settings a
//! real one carries: a custom attribute, its verification and invitation
//! messages, sign-in by email as an alias, the Plus tier with threat
//! protection in audit mode, a public client; `ada_disabled = true` keeps
//! its user from signing in.
//! `cargo run --example claims -- up` (or plan, down, dev, ...).
use deployer::config::{Config, User};
use deployer::model::Input;
use deployer::model::Stack;
use deployer::package::Code;
use deployer::resources::cognito::{
    AliasAttribute, AttributeType, AuthFactor, Client, ContactAttribute, CustomAttribute, Domain,
    DomainPrefix, Email, EmailSettings, Federation, IdentityProvider, Invitation, OAuthFlow,
    PoolUser, PreTokenVersion, ResourceServer, ThreatProtection, Tier, Triggers, UserPool,
    VerificationMessages,
};
use deployer::resources::lambda::{Function, Permission, Role};
use deployer::resources::logs::{LogClass, LogGroup};

/// The example's settings (`--config` file).
#[derive(serde::Deserialize)]
struct Settings {
    /// The plan the trigger puts in every token (default `free`).
    plan: Option<String>,
    /// The tenant of the user `ada` (default `acme`).
    tenant: Option<String>,
    /// Without a trigger (the pool then has none).
    no_trigger: Option<bool>,
    /// Every one of the pool's ten triggers runs the function (which passes
    /// back unchanged the events it has nothing to say about).
    every_trigger: Option<bool>,
    /// The company IdP's client secret: with it, people may also sign in
    /// through that OpenID Connect provider (federation).
    corp_secret: Option<String>,
    /// An SES identity's ARN: the pool's email is sent through it, and a
    /// user may start signing in with a code by email.
    ses_identity: Option<String>,
    /// ada may not sign in.
    ada_disabled: Option<bool>,
    /// A KMS key's ARN: the function's logs encrypted with it.
    logs_key: Option<String>,
    /// The function's logs in the cheaper Infrequent Access class.
    logs_infrequent: Option<bool>,
    /// Where the web client's hosted login sends a user back to (default
    /// `http://localhost:8080/callback`; a deployed app's is https).
    web_callback: Option<String>,
}

fn program(cfg: &Config, settings: &Settings, s: &mut Stack) -> deployer::error::Result<()> {
    let name = format!("{}-claims", cfg.name_prefix);
    let role = s.add("role", Role::for_lambda(format!("{name}-lambda")));
    let logs = LogGroup {
        kms_key: settings.logs_key.clone().map(Into::into),
        class: match settings.logs_infrequent {
            Some(true) => LogClass::InfrequentAccess,
            _ => LogClass::Standard,
        },
        ..LogGroup::for_function(&name, Some(7))
    };
    let logs = s.add("logs", logs);
    let mut f = Function::new(name.clone(), role.arn());
    f.code = Code::krate("claims");
    let plan = settings.plan.clone().unwrap_or("free".into());
    f.environment.insert("PLAN".into(), plan.into());
    let trigger = s.add_after("function", f, &[logs.key()]);
    let every = |arn: &deployer::model::Output<String>| Triggers {
        pre_sign_up: Some(arn.clone()),
        custom_message: Some(arn.clone()),
        post_confirmation: Some(arn.clone()),
        pre_authentication: Some(arn.clone()),
        post_authentication: Some(arn.clone()),
        define_auth_challenge: Some(arn.clone()),
        create_auth_challenge: Some(arn.clone()),
        verify_auth_challenge_response: Some(arn.clone()),
        pre_token_generation: Some(arn.clone()),
        pre_token_generation_version: PreTokenVersion::V3,
        user_migration: Some(arn.clone()),
    };
    let triggers = match (settings.no_trigger, settings.every_trigger) {
        (Some(true), _) => Triggers::default(),
        (_, Some(true)) => every(&trigger.arn()),
        _ => Triggers {
            pre_token_generation: Some(trigger.arn()),
            // The same function refuses a suspended tenant's sign-in.
            pre_authentication: Some(trigger.arn()),
            pre_token_generation_version: PreTokenVersion::V3,
            ..Default::default()
        },
    };
    // Email through SES when the program is given an identity, else
    // Cognito's own with a reply-to address.
    let (email, factors) = match &settings.ses_identity {
        Some(arn) => {
            let sender = Email::Ses {
                source_arn: arn.clone(),
                from: None,
                configuration_set: None,
            };
            (
                sender,
                Some(vec![AuthFactor::Password, AuthFactor::EmailOtp]),
            )
        }
        None => (Email::Cognito, None),
    };
    let email = EmailSettings {
        sender: email,
        reply_to: Some("support@claims.example".into()),
    };
    let pool = UserPool {
        // Sign-in by user name or email address; every user has an email
        // address, verified before a change of it takes effect.
        alias_attributes: vec![AliasAttribute::Email],
        required_attributes: vec!["email".into()],
        auto_verified_attributes: vec![ContactAttribute::Email],
        verify_before_update: Some(vec![ContactAttribute::Email]),
        email: Some(email),
        first_auth_factors: factors,
        // People sign up themselves (the pre sign-up trigger vets them).
        self_sign_up: true,
        tier: Some(Tier::Plus),
        threat_protection: Some(ThreatProtection::Audit),
        custom_attributes: vec![CustomAttribute {
            max_length: Some(64),
            ..CustomAttribute::new("tenant", AttributeType::String)
        }],
        verification_messages: Some(VerificationMessages {
            email_subject: "Your claims code".into(),
            ..Default::default()
        }),
        invitation: Some(Invitation {
            email_subject: "Welcome to claims".into(),
            ..Default::default()
        }),
        triggers: Some(triggers),
        ..UserPool::new(name.clone())
    };
    let pool = s.add("pool", pool);
    // Cognito may invoke the trigger for this pool only.
    let cognito = Permission::for_cognito(trigger.name(), pool.arn());
    s.add("permission", cognito);
    let prefix = DomainPrefix::Unique(name.clone());
    let domain = s.add(
        "domain",
        Domain {
            prefix,
            user_pool_id: pool.id(),
        },
    );
    let scopes = vec![("read".into(), "Read orders".into())];
    let rs = ResourceServer {
        user_pool_id: pool.id(),
        identifier: "orders".into(),
        name: name.clone(),
        scopes,
    };
    let rs = s.add("scopes", rs);
    let client = Client {
        user_pool_id: pool.id(),
        name: "service".into(),
        flows: vec![OAuthFlow::ClientCredentials],
        scopes: vec![rs.scope("read")],
        ..Default::default()
    };
    let client = s.add("client", client);
    // People of a company sign in through its own OpenID Connect provider;
    // its email becomes theirs in the pool.
    let mut providers: Vec<Input<String>> = vec!["COGNITO".into()];
    if let Some(secret) = &settings.corp_secret {
        let corp = Federation::Oidc {
            issuer: "https://login.corp.example".into(),
            client_id: "claims".into(),
            client_secret: Input::from(secret.clone()).secret(),
            scopes: vec!["openid".into(), "email".into()],
        };
        let corp = IdentityProvider {
            attribute_mapping: [("email".to_string(), "email".to_string())].into(),
            identifiers: vec!["corp.example".into()],
            ..IdentityProvider::new(pool.id(), "corp", corp)
        };
        providers.push(s.add("idp/corp", corp).name());
    }
    let web = Client {
        user_pool_id: pool.id(),
        name: "web".into(),
        flows: vec![OAuthFlow::Code],
        scopes: vec!["openid".into()],
        identity_providers: providers,
        callback_urls: vec![settings
            .web_callback
            .clone()
            .unwrap_or("http://localhost:8080/callback".into())
            .into()],
        ..Default::default()
    };
    let web = s.add("client/web", web);
    // A single-page app: a public client (no secret), the code flow with PKCE.
    let spa = Client {
        user_pool_id: pool.id(),
        name: "spa".into(),
        public: true,
        flows: vec![OAuthFlow::Code],
        scopes: vec!["openid".into()],
        callback_urls: vec!["http://localhost:5173/".into()],
        ..Default::default()
    };
    s.add("client/spa", spa);
    let tenant = settings.tenant.clone().unwrap_or("acme".into());
    let ada = User {
        name: "ada".into(),
        password: "Tr1gger-Ex4mple!".into(),
        attributes: [
            ("custom:tenant".to_string(), tenant),
            ("email".to_string(), "ada@claims.example".to_string()),
        ]
        .into(),
    };
    let enabled = !settings.ada_disabled.unwrap_or(false);
    s.add(
        "user/ada",
        PoolUser {
            enabled,
            ..PoolUser::new(pool.id(), ada)
        },
    );
    // A user of a suspended tenant: the pre authentication trigger refuses her.
    let mallory = User {
        name: "mallory".into(),
        password: "Tr1gger-Ex4mple!".into(),
        attributes: [
            ("custom:tenant".to_string(), "blocked".to_string()),
            ("email".to_string(), "mallory@claims.example".to_string()),
        ]
        .into(),
    };
    s.add("user/mallory", PoolUser::new(pool.id(), mallory));
    s.export("client_id", client.id());
    s.export("client_secret", client.secret());
    s.export("web_client_id", web.id());
    s.export("web_client_secret", web.secret());
    s.export("issuer", pool.issuer());
    s.export(
        "authorize_url",
        deployer::interpolate!("{}/oauth2/authorize", domain.url()),
    );
    s.export(
        "token_url",
        deployer::interpolate!("{}/oauth2/token", domain.url()),
    );
    Ok(())
}

fn main() -> std::process::ExitCode {
    deployer::App::with_settings(program).main()
}
