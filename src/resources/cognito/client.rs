use super::parent_out;
use crate::error::Error;
use crate::error::Result;
use crate::kind::*;
use crate::model::{deps_of, Handle, Input, Inputs, Output};
use aws_sdk_cognitoidentityprovider::types::{FeatureType, OAuthFlowType, UserPoolClientType};
use serde_json::json;
use std::sync::Arc;

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
    fn replace_on(&self) -> Vec<&'static str> {
        vec!["generate_secret"]
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
}
