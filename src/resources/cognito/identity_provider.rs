//! A pool's identity provider (Terraform's `aws_cognito_identity_provider`):
//! users sign in through another IdP (OIDC, SAML, Google, ...) and Cognito
//! issues its own tokens.

use super::parent_out;
use crate::error::{Error, Result};
use crate::kind::spec::{found_of, read_of, Fixed, Found};
use crate::kind::*;
use crate::model::{deps_of, Handle, Input, Inputs, Output, Typed};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Users of a pool sign in through another identity provider; a client
/// lists its name in `identity_providers` to offer it.
///
/// ```
/// use deployer::model::Handle;
/// use deployer::resources::cognito::{Federation, IdentityProvider, UserPool};
/// let pool = Handle::<UserPool>::new("pool");
/// let corp = IdentityProvider {
///     attribute_mapping: [("email".to_string(), "email".to_string())].into(),
///     ..IdentityProvider::new(pool.id(), "corp", Federation::Oidc {
///         issuer: "https://login.corp.example".into(),
///         client_id: "deployer".into(),
///         client_secret: "from-your-settings".into(),
///         scopes: vec!["openid".into(), "email".into()],
///     })
/// };
/// # let _ = corp;
/// ```
pub struct IdentityProvider {
    /// The pool's ID (`pool.id()`).
    pub user_pool_id: Input<String>,
    /// Its name in the pool (what clients list); a new name replaces it.
    pub name: String,
    /// Which provider and how to reach it; a change of type replaces it.
    pub federation: Federation,
    /// The pool's attribute from the provider's (`"email" -> "email"`);
    /// `username` is the provider's ID of the user unless given (`sub`;
    /// Facebook `id`, Login with Amazon `user_id`; SAML: the NameID, none
    /// mapped).
    pub attribute_mapping: BTreeMap<String, String>,
    /// Other names for it (an email domain users type to be sent there).
    pub identifiers: Vec<String>,
}

/// An identity provider and its details. Secrets (`client_secret`,
/// `private_key`) take an `Input`: mark one `.secret()` and it is never
/// shown in a plan nor kept in the state.
pub enum Federation {
    /// An OpenID Connect provider.
    Oidc {
        /// Its issuer URL (its discovery document is read by Cognito).
        issuer: String,
        /// The client ID Cognito uses there.
        client_id: String,
        /// The client's secret.
        client_secret: Input<String>,
        /// The scopes asked for (`openid` first).
        scopes: Vec<String>,
    },
    /// A SAML 2.0 provider.
    Saml {
        /// The URL of its metadata document.
        metadata_url: String,
        /// True to sign users out of the provider too.
        sign_out: bool,
    },
    /// Google, Facebook or Login with Amazon.
    Social {
        /// Which one.
        provider: Social,
        /// Your app's client ID there.
        client_id: String,
        /// Your app's secret there.
        client_secret: Input<String>,
        /// The scopes asked for.
        scopes: Vec<String>,
    },
    /// Sign in with Apple.
    Apple {
        /// The services ID.
        client_id: String,
        /// Your team ID.
        team_id: String,
        /// The key's ID.
        key_id: String,
        /// The key itself (PEM).
        private_key: Input<String>,
        /// The scopes asked for (`email`, `name`).
        scopes: Vec<String>,
    },
}

/// A social identity provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Social {
    /// Google.
    Google,
    /// Facebook.
    Facebook,
    /// Login with Amazon.
    Amazon,
}

impl IdentityProvider {
    /// A provider of this name in the pool, `username` from the provider's
    /// ID of the user.
    pub fn new(
        user_pool_id: Input<String>,
        name: impl Into<String>,
        federation: Federation,
    ) -> Self {
        IdentityProvider {
            user_pool_id,
            name: name.into(),
            federation,
            attribute_mapping: BTreeMap::new(),
            identifiers: vec![],
        }
    }

    /// Cognito's type name and the details as Cognito's keys.
    fn details(&self) -> Details<'_> {
        let scopes = |s: &[String], sep: &str| s.join(sep);
        let (kind, plain, secret) = match &self.federation {
            Federation::Oidc {
                issuer,
                client_id,
                client_secret,
                scopes: sc,
            } => (
                "OIDC",
                [
                    ("oidc_issuer", issuer.clone()),
                    ("client_id", client_id.clone()),
                    ("authorize_scopes", scopes(sc, " ")),
                    ("attributes_request_method", "GET".to_string()),
                ]
                .into(),
                Some(("client_secret", client_secret)),
            ),
            Federation::Saml {
                metadata_url,
                sign_out,
            } => (
                "SAML",
                [
                    ("MetadataURL", metadata_url.clone()),
                    ("IDPSignout", sign_out.to_string()),
                ]
                .into(),
                None,
            ),
            Federation::Social {
                provider,
                client_id,
                client_secret,
                scopes: sc,
            } => (
                match provider {
                    Social::Google => "Google",
                    Social::Facebook => "Facebook",
                    Social::Amazon => "LoginWithAmazon",
                },
                [
                    ("client_id", client_id.clone()),
                    (
                        "authorize_scopes",
                        scopes(
                            sc,
                            if *provider == Social::Facebook {
                                ","
                            } else {
                                " "
                            },
                        ),
                    ),
                ]
                .into(),
                Some(("client_secret", client_secret)),
            ),
            Federation::Apple {
                client_id,
                team_id,
                key_id,
                private_key,
                scopes: sc,
            } => (
                "SignInWithApple",
                [
                    ("client_id", client_id.clone()),
                    ("team_id", team_id.clone()),
                    ("key_id", key_id.clone()),
                    ("authorize_scopes", scopes(sc, " ")),
                ]
                .into(),
                Some(("private_key", private_key)),
            ),
        };
        Details {
            kind,
            plain,
            secret,
        }
    }
}

/// A provider's details: its type, the plain ones, and the secret one (if
/// any) as an input.
struct Details<'a> {
    kind: &'static str,
    plain: BTreeMap<&'static str, String>,
    secret: Option<(&'static str, &'a Input<String>)>,
}

impl Details<'_> {
    /// `details` as Cognito reports them, reduced to what is declared (it
    /// adds the endpoints it discovered, the certificates); a secret it does
    /// not report back is taken as `secret`.
    fn project(&self, details: &mut BTreeMap<String, String>, secret: Option<String>) {
        let name = self.secret.map(|(k, _)| k);
        details.retain(|k, _| self.plain.contains_key(k.as_str()) || Some(k.as_str()) == name);
        if let (Some(k), Some(v)) = (name, secret) {
            details.entry(k.to_string()).or_insert(v);
        }
    }
}

/// An identity provider's settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IdentityProviderSpec {
    /// Its name in the pool.
    pub name: Fixed<String>,
    /// Cognito's type (`OIDC`, `SAML`, `Google`, ...).
    #[serde(rename = "type")]
    pub kind: Fixed<Option<String>>,
    /// Cognito's provider details (its keys), the secret one included.
    pub details: BTreeMap<String, String>,
    /// The pool's attribute from the provider's, `username` included.
    pub attribute_mapping: BTreeMap<String, String>,
    /// Other names for it, sorted.
    pub identifiers: Vec<String>,
}

impl Handle<IdentityProvider> {
    /// Its name (what a client's `identity_providers` lists): the client
    /// then comes after it.
    pub fn name(&self) -> Output<String> {
        self.id()
    }
}

/// The attribute mapping with the `username` Cognito maps by itself when a
/// provider of this type is made without one: the provider's own ID of the
/// user (Google, Sign in with Apple and OIDC `sub`, Facebook `id`, Login
/// with Amazon `user_id`). SAML maps none: the username comes from the
/// assertion's NameID. A `username` given is kept as it is.
/// (https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-specifying-attribute-mapping.html)
fn mapping_with_username(kind: &str, m: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut m = m.clone();
    if let Some(id) = username_source(kind) {
        m.entry("username".into()).or_insert_with(|| id.into());
    }
    m
}

/// The provider's attribute Cognito maps to `username` by default.
fn username_source(kind: &str) -> Option<&'static str> {
    match kind {
        "Facebook" => Some("id"),
        "LoginWithAmazon" => Some("user_id"),
        "Google" | "SignInWithApple" | "OIDC" => Some("sub"),
        _ => None,
    }
}

#[async_trait::async_trait]
impl Typed for IdentityProvider {
    type Spec = IdentityProviderSpec;
    fn provider(&self) -> Arc<dyn Provider> {
        Arc::new(IdentityProviderProvider)
    }
    fn deps(&self) -> Vec<String> {
        deps_of(
            std::iter::once(self.user_pool_id.deps())
                .chain(self.details().secret.map(|(_, i)| i.deps())),
        )
    }
    fn parent(&self) -> Option<String> {
        self.user_pool_id.deps().first().cloned()
    }
    fn spec(&self, i: &mut Inputs) -> IdentityProviderSpec {
        let Details {
            kind,
            plain,
            secret,
        } = self.details();
        let mut details: BTreeMap<String, String> =
            plain.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        // A secret input (`.secret()`): its detail shows as sensitive.
        if let Some((name, input)) = secret {
            details.insert(name.into(), i.input(input));
        }
        IdentityProviderSpec {
            name: Fixed(self.name.clone()),
            kind: Fixed(Some(kind.to_string())),
            details,
            attribute_mapping: mapping_with_username(kind, &self.attribute_mapping),
            identifiers: sorted(self.identifiers.clone()),
        }
    }
    async fn read(&self, cx: &Cx, prior: &Prior) -> Result<Option<Found<IdentityProviderSpec>>> {
        let name = prior.id_or(&self.name);
        let provider = IdentityProviderProvider.read(cx, &name, prior.parent_id.as_deref());
        let Some(mut f) = found_of::<IdentityProviderSpec>(provider.await?)? else {
            return Ok(None);
        };
        let details = self.details();
        let secret = details
            .secret
            .and_then(|(_, input)| input.resolve(&cx.ctx, &prior.known));
        details.project(&mut f.spec.details, secret);
        Ok(Some(f))
    }
    async fn create(
        &self,
        cx: &Cx,
        spec: &IdentityProviderSpec,
        k: &Known,
    ) -> Result<Found<IdentityProviderSpec>> {
        use aws_sdk_cognitoidentityprovider::types::IdentityProviderTypeType;
        let pool = self.user_pool_id.require(&cx.ctx, k)?;
        let r = cx
            .aws
            .cognito
            .create_identity_provider()
            .user_pool_id(&pool)
            .provider_name(&self.name)
            .provider_type(IdentityProviderTypeType::from(
                spec.kind.as_deref().unwrap_or_default(),
            ))
            .set_provider_details(Some(spec.details.clone().into_iter().collect()))
            .set_attribute_mapping(Some(spec.attribute_mapping.clone().into_iter().collect()))
            .set_idp_identifiers(Some(spec.identifiers.clone()))
            .send()
            .await;
        match r {
            Ok(_) => {}
            // Unique in this stack's pool: a create whose answer was lost.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_duplicate_provider_exception()) =>
            {
                let had = Found::new(self.name.clone(), IdentityProviderSpec::default());
                return Typed::update(self, cx, spec, &had, k).await;
            }
            Err(e) => {
                return Err(Error::aws(
                    format!("create identity provider {}", self.name),
                    e,
                ))
            }
        }
        self.read_back(cx, &pool, spec).await
    }
    async fn update(
        &self,
        cx: &Cx,
        spec: &IdentityProviderSpec,
        _found: &Found<IdentityProviderSpec>,
        k: &Known,
    ) -> Result<Found<IdentityProviderSpec>> {
        let pool = self.user_pool_id.require(&cx.ctx, k)?;
        cx.aws
            .cognito
            .update_identity_provider()
            .user_pool_id(&pool)
            .provider_name(&self.name)
            .set_provider_details(Some(spec.details.clone().into_iter().collect()))
            .set_attribute_mapping(Some(spec.attribute_mapping.clone().into_iter().collect()))
            .set_idp_identifiers(Some(spec.identifiers.clone()))
            .send()
            .await
            .map_err(ctx_err(format!("update identity provider {}", self.name)))?;
        self.read_back(cx, &pool, spec).await
    }
}

impl IdentityProvider {
    /// What the provider is now, its details reduced to the declared ones
    /// (the secret as sent, if Cognito does not report it).
    async fn read_back(
        &self,
        cx: &Cx,
        pool: &str,
        spec: &IdentityProviderSpec,
    ) -> Result<Found<IdentityProviderSpec>> {
        let read = IdentityProviderProvider.read(cx, &self.name, Some(pool));
        let Some(mut f) = found_of::<IdentityProviderSpec>(read.await?)? else {
            return Err(Error::Other(format!(
                "identity provider {} vanished after it was written",
                self.name
            )));
        };
        let details = self.details();
        let sent = details
            .secret
            .and_then(|(k, _)| spec.details.get(k).cloned());
        details.project(&mut f.spec.details, sent);
        Ok(f)
    }
}

/// Reads and deletes [`IdentityProvider`]s by name, in their pool.
pub struct IdentityProviderProvider;

#[async_trait::async_trait]
impl Provider for IdentityProviderProvider {
    fn kind(&self) -> &'static str {
        "aws:cognito:IdentityProvider"
    }
    async fn read(&self, cx: &Cx, id: &str, parent: Option<&str>) -> Result<Read> {
        let Some(pool) = parent else {
            return Ok(Read::Missing);
        };
        let p = found_or_none(
            cx.aws
                .cognito
                .describe_identity_provider()
                .user_pool_id(pool)
                .provider_name(id)
                .send()
                .await,
            |s| s.is_resource_not_found_exception(),
            format!("describe identity provider {id}"),
        )?;
        let Some(p) = p.and_then(|o| o.identity_provider) else {
            return Ok(Read::Missing);
        };
        let map = |m: Option<std::collections::HashMap<String, String>>| {
            m.unwrap_or_default().into_iter().collect()
        };
        let spec = IdentityProviderSpec {
            name: id.into(),
            kind: Fixed(p.provider_type.as_ref().map(|t| t.as_str().to_string())),
            details: map(p.provider_details),
            attribute_mapping: map(p.attribute_mapping),
            identifiers: sorted(p.idp_identifiers.unwrap_or_default()),
        };
        let mut f = Found::new(id, spec);
        f.outputs.extend(parent_out(pool));
        read_of(Some(f))
    }
    async fn delete(&self, cx: &Cx, id: &str, parent: Option<&str>) -> Result<()> {
        let Some(pool) = parent else { return Ok(()) };
        ok_if_gone(
            cx.aws
                .cognito
                .delete_identity_provider()
                .user_pool_id(pool)
                .provider_name(id)
                .send()
                .await,
            |s| s.is_resource_not_found_exception(),
            format!("delete identity provider {id}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `username` as Cognito maps it by itself for each provider type: the
    /// provider's ID of the user, none for SAML; one given is kept.
    #[test]
    fn username_is_mapped_as_cognito_maps_it_per_provider() {
        let mapping = |federation: Federation, given: &[(&str, &str)]| {
            let mut p = IdentityProvider::new("us-east-1_x".to_string().into(), "p", federation);
            p.attribute_mapping = given
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect();
            let d = p.desired(&Ctx::for_tests(), &Known::default());
            d.props["attribute_mapping"].clone()
        };
        let social = |provider| Federation::Social {
            provider,
            client_id: "c".into(),
            client_secret: "s".to_string().into(),
            scopes: vec![],
        };
        assert_eq!(mapping(social(Social::Facebook), &[])["username"], "id");
        assert_eq!(mapping(social(Social::Amazon), &[])["username"], "user_id");
        assert_eq!(mapping(social(Social::Google), &[])["username"], "sub");
        let oidc = Federation::Oidc {
            issuer: "https://login.example".into(),
            client_id: "c".into(),
            client_secret: "s".to_string().into(),
            scopes: vec!["openid".into()],
        };
        assert_eq!(mapping(oidc, &[])["username"], "sub");
        let saml = || Federation::Saml {
            metadata_url: "https://idp.example/metadata".into(),
            sign_out: false,
        };
        let m = mapping(
            saml(),
            &[(
                "email",
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
            )],
        );
        assert!(m.get("username").is_none(), "{m}");
        assert_eq!(
            mapping(social(Social::Facebook), &[("username", "email")])["username"],
            "email"
        );
    }
}
