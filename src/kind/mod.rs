//! What every kind is made of, deployer's own (`crate::resources`) and a
//! user's alike: the `Kind` (typed arguments, create and update) and its
//! `Provider` (read and delete by type and ID), the context they run in
//! (`Ctx`, `Cx`), what they read (`Observed`, `Read`, `Prior`, `Known`) and
//! the helpers their property maps share. Every kind reads (not found is
//! `Missing`), creates, updates only what differs, and deletes (not found
//! is success). This module imports neither the model nor any kind.
//!
//! Settings are compared as property maps (`Props`): what the stack declares
//! against what AWS reports, normalised the same way, so that the diff is a
//! pure function shared by every kind.

use crate::aws::Clients;
use crate::error::Result;
use crate::package::Package;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

pub mod listing;
pub mod spec;

/// A resource's settings as a map (setting name to JSON value): what a kind declares (`desired`) and what AWS reports (`read`), compared key by key.
pub type Props = BTreeMap<String, Value>;

/// A kind's declared settings (`Kind::desired`): the values known now, and
/// which are not known until a dependency is created or replaced (an ID a
/// create returns). Unknown is a type, not a value in the data: a setting
/// whose input is unknown holds a placeholder in `props` and its path in
/// `unknown` (Terraform's plan keeps `after` and `after_unknown` the same
/// way). A plan counts an unknown setting as changed and shows it as
/// `(known after apply)`; the engine sends a kind only fully known settings
/// (`Desired::known`), so `create` and `update` never see a placeholder.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Desired {
    /// The settings, by name; an unknown one holds a placeholder.
    pub props: Props,
    /// The paths of the unknown settings: `role`, or `environment.C` for a
    /// map's key. A list with an unknown element is unknown as a whole.
    pub unknown: BTreeSet<String>,
}

impl From<Props> for Desired {
    fn from(props: Props) -> Desired {
        Desired {
            props,
            unknown: BTreeSet::new(),
        }
    }
}

impl Desired {
    /// Settings from a JSON object and the unknown paths noted while building it.
    pub fn new(v: Value, unknown: BTreeSet<String>) -> Desired {
        Desired {
            props: props(v),
            unknown,
        }
    }
    /// True when the setting `name` (or a key of it, `name.KEY`) is unknown.
    pub fn is_unknown(&self, name: &str) -> bool {
        self.unknown
            .iter()
            .any(|p| p == name || p.strip_prefix(name).is_some_and(|r| r.starts_with('.')))
    }
    /// The settings whose values differ from `observed`, or are unknown.
    pub fn diff(&self, observed: &Props) -> Vec<String> {
        let mut out = diff(&self.props, observed);
        out.retain(|k| !self.is_unknown(k));
        out.extend(self.props.keys().filter(|k| self.is_unknown(k)).cloned());
        out.sort();
        out
    }
    /// The settings, when every one is known: what a kind's `create` and
    /// `update` are given. Otherwise the unknown paths.
    pub fn known(self) -> std::result::Result<Props, Vec<String>> {
        if self.unknown.is_empty() {
            Ok(self.props)
        } else {
            Err(self.unknown.into_iter().collect())
        }
    }
}

/// The map of a JSON object (`props(json!({"name": n}))`); anything else is empty.
pub fn props(v: Value) -> Props {
    match v {
        Value::Object(m) => m.into_iter().collect(),
        _ => Props::new(),
    }
}

/// Where the public URLs of the stack live: AWS, or the local data plane of
/// `deployer dev`. The only thing that differs between the two targets.
#[derive(Debug, Clone)]
pub enum Urls {
    /// AWS's own URLs.
    Aws,
    /// `deployer dev`'s local data plane.
    Local {
        /// The local identity provider's base URL.
        idp: String,
        /// The local base URL of the program's first API.
        api: String,
        /// Each API's local base URL, by its resource key.
        apis: BTreeMap<String, String>,
    },
}

/// The target every kind may read: where the stack lives, its default tags,
/// the run's Lambda package, and where public URLs point.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The stack's name (`--stack`).
    pub stack: String,
    /// The stack's identity (`State::stack_id`): what `deployer:stack-id`
    /// carries on every resource it owns.
    pub stack_id: String,
    /// The region.
    pub region: String,
    /// The account ID.
    pub account: String,
    /// The AWS partition (`aws`, `aws-cn`, `aws-us-gov`): ARNs and host names.
    pub partition: String,
    /// Tags for every resource: `Project={prefix}`, the config's tags, and
    /// the stack's name and ID (`deployer:stack`, `deployer:stack-id`).
    pub tags: BTreeMap<String, String>,
    /// The run's handler package (`Code::Handler`), if a function needs it.
    pub package: Option<Arc<Package>>,
    /// The other codes' packages (crates, zips).
    pub packages: crate::package::Packages,
    /// Where public URLs point (AWS, or the local data plane).
    pub urls: Urls,
}

impl Ctx {
    /// The package built for `code` in this run.
    pub fn package_of(&self, code: &crate::package::Code) -> Option<Arc<Package>> {
        match code {
            crate::package::Code::Handler => self.package.clone(),
            c => self.packages.get(c).cloned(),
        }
    }

    /// A target for unit tests: stack `t`, eu-west-1, account 123456789012,
    /// partition `aws`, tag `Project=cognito-example`, a handler package of
    /// no bytes (CodeSha256 `test-sha256`), AWS URLs.
    #[cfg(test)]
    pub fn for_tests() -> Ctx {
        Ctx {
            stack: "t".into(),
            stack_id: "0123456789abcdef".into(),
            region: "eu-west-1".into(),
            account: "123456789012".into(),
            partition: "aws".into(),
            tags: [
                ("Project".to_string(), "cognito-example".to_string()),
                (STACK_TAG.to_string(), "t".to_string()),
                (STACK_ID_TAG.to_string(), "0123456789abcdef".to_string()),
            ]
            .into(),
            package: Some(Arc::new(Package {
                zip: vec![],
                sha256_b64: "test-sha256".into(),
            })),
            packages: Default::default(),
            urls: Urls::Aws,
        }
    }
    /// A pool's OIDC issuer URL (AWS's, or the local identity provider's); unknown while the pool ID is.
    pub fn issuer(&self, pool_id: &str) -> String {
        match &self.urls {
            Urls::Aws => format!(
                "https://cognito-idp.{}.{}/{pool_id}",
                self.region,
                self.dns_suffix()
            ),
            Urls::Local { idp, .. } => format!("{idp}/{pool_id}"),
        }
    }
    /// A Cognito domain's hosted login base URL.
    pub fn hosted_domain(&self, domain: &str) -> String {
        match &self.urls {
            Urls::Aws => format!(
                "https://{domain}.auth.{}.amazoncognito.com{}",
                self.region,
                if self.partition == "aws-cn" {
                    ".cn"
                } else {
                    ""
                }
            ),
            Urls::Local { idp, .. } => idp.clone(),
        }
    }
    /// The public base URL of the API `key` (its endpoint on AWS, its
    /// local listener under `dev`).
    pub fn api_url(&self, key: &str, api_endpoint: &str) -> String {
        match &self.urls {
            Urls::Aws => api_endpoint.to_string(),
            Urls::Local { api, apis, .. } => apis.get(key).unwrap_or(api).clone(),
        }
    }
    /// The partition's DNS suffix for service endpoints.
    pub fn dns_suffix(&self) -> &'static str {
        if self.partition == "aws-cn" {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        }
    }
    /// An ARN in this stack's partition.
    pub fn arn(&self, service: &str, region: &str, account: &str, resource: &str) -> String {
        format!(
            "arn:{}:{service}:{region}:{account}:{resource}",
            self.partition
        )
    }
    /// Whose a resource is, by its observed tags (`None` for a kind that
    /// has none: it belongs through its parent).
    pub fn owner_of(&self, props: &Props) -> Option<Owner> {
        let tags = props.get("tags")?.as_object()?;
        let tag = |k: &str| tags.get(k).and_then(|v| v.as_str()).map(String::from);
        Some(match tag(STACK_ID_TAG) {
            Some(id) if id == self.stack_id => Owner::This,
            Some(id) => Owner::Stack {
                id,
                name: tag(STACK_TAG),
            },
            None => Owner::Nobody,
        })
    }
}

impl Ctx {
    /// For a create that met a resource of its name ("already exists"):
    /// adopting it is allowed only when it carries this stack's ID (what a
    /// create of this stack whose answer was lost leaves).
    pub fn ensure_ours(&self, what: &str, o: &Observed) -> Result<()> {
        match self.owner_of(&o.props) {
            None | Some(Owner::This) => Ok(()),
            Some(owner) => Err(crate::error::Error::Other(format!(
                "{what} {} already exists and belongs to {owner}, not to stack {:?}: nothing of it was changed. Give this stack names of its own (another name_prefix)",
                o.id, self.stack
            ))),
        }
    }
}

/// The tag that names the stack a resource belongs to (for people).
pub const STACK_TAG: &str = "deployer:stack";
/// The tag that carries the owning stack's identity (what is checked).
pub const STACK_ID_TAG: &str = "deployer:stack-id";

/// Whose a resource is.
#[derive(Debug, Clone, PartialEq)]
pub enum Owner {
    /// This stack.
    This,
    /// Another stack (of another name, or of this name in another checkout).
    Stack {
        /// Its stack ID.
        id: String,
        /// Its stack's name, if tagged.
        name: Option<String>,
    },
    /// No deployer stack: made by hand, by another tool, or before this
    /// version of deployer tagged what it makes.
    Nobody,
    /// An untagged resource held by one that is not this stack's (a
    /// domain on another pool): `setting` holds that one's ID.
    Through {
        /// The setting that holds the holder's ID.
        setting: &'static str,
        /// The holder's ID.
        id: String,
    },
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Owner::This => write!(f, "this stack"),
            Owner::Stack { id, name: Some(n) } => write!(f, "stack {n:?} (stack ID {id})"),
            Owner::Stack { id, name: None } => write!(f, "another stack (stack ID {id})"),
            Owner::Nobody => write!(
                f,
                "no deployer stack (it has no {STACK_ID_TAG} tag and this stack's state does not record it)"
            ),
            Owner::Through { setting, id } => {
                write!(f, "{id} (its {setting}), which is not this stack's")
            }
        }
    }
}

/// Outputs of the resources already read or created, by resource key.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// Each resource's outputs by name, by resource key.
    pub outputs: BTreeMap<String, BTreeMap<String, String>>,
}

impl Known {
    /// The output `name` of resource `key`; `None` while it is not known.
    pub fn get(&self, key: &str, name: &str) -> Option<String> {
        self.outputs.get(key).and_then(|o| o.get(name)).cloned()
    }
}

/// A resource as AWS reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    /// Its ID (pool ID, API ID, function name, ...).
    pub id: String,
    /// Its settings, named as the kind's `desired` names them.
    pub props: Props,
    /// Outputs for dependants; names starting with `secret` never reach the
    /// state file.
    pub outputs: BTreeMap<String, String>,
}

/// What a read found.
#[derive(Debug, Clone, PartialEq)]
pub enum Read {
    /// The resource, as AWS reports it.
    Found(Observed),
    /// No such resource.
    Missing,
}

/// What a read knows from the state file.
#[derive(Debug, Clone, Default)]
pub struct Prior {
    /// Its ID, if the state records one.
    pub id: Option<String>,
    /// A create was started and its answer not recorded (a crash, a lost response).
    pub pending_create: bool,
    /// When this stack last started to create it (`Entry::made_at`).
    pub made_at: Option<i64>,
    /// The ID of the resource it lives in (pool, API, function), if any.
    pub parent_id: Option<String>,
    /// Its outputs as the state records them.
    pub outputs: BTreeMap<String, String>,
    /// The outputs of every resource as the state records them, for a
    /// read that looks for a lost resource by what it points to.
    pub known: Known,
}

impl Prior {
    /// The ID the state records, else `declared` (a kind whose ID is a name
    /// it declares: found again after a create whose answer was lost).
    pub fn id_or(&self, declared: &str) -> String {
        self.id.clone().unwrap_or_else(|| declared.to_string())
    }
}

/// What a kind's calls run with: the run's AWS clients and its target.
pub struct Cx {
    /// The AWS clients (`aws.sdk` for another service's).
    pub aws: Clients,
    /// Region, account, tags, URLs, the run's packages.
    pub ctx: Arc<Ctx>,
    /// The plan's read round's list reads (`crate::kind::listing`); None outside
    /// that round.
    pub listing: Option<Arc<crate::kind::listing::Listing>>,
}

impl Cx {
    /// A context for calls outside the plan's read round (no listing).
    pub fn new(aws: Clients, ctx: Arc<Ctx>) -> Cx {
        Cx {
            aws,
            ctx,
            listing: None,
        }
    }

    /// False when the plan's list of `kind` (made once by `list`, see
    /// `crate::kind::listing`) shows that `name` does not exist: its read by
    /// itself would only be told "not found". True otherwise (no listing,
    /// too few to list, the list cut short or refused, or `name` listed).
    pub async fn may_exist<F, Fut>(&self, kind: &'static str, name: &str, list: F) -> bool
    where
        F: FnOnce(crate::kind::listing::Ask) -> Fut,
        Fut: std::future::Future<Output = Result<Option<crate::kind::listing::Listed>>>,
    {
        match &self.listing {
            Some(l) => l.holds(kind, name, list).await != Some(false),
            None => true,
        }
    }

    /// The resource `id` of `kind` inside `scope` (a child kind's parent
    /// ID) as the plan's list of them (made once by `list`) reports it, for
    /// a list that carries everything a read does: None outside the plan's
    /// read round or when the list cannot say
    /// (`crate::kind::listing::Listing::list`).
    pub async fn listed_read<F, Fut>(
        &self,
        kind: &'static str,
        scope: &str,
        id: &str,
        list: F,
    ) -> Option<Read>
    where
        F: FnOnce(crate::kind::listing::Ask) -> Fut,
        Fut: std::future::Future<Output = Result<Option<crate::kind::listing::Listed>>>,
    {
        let l = self.listing.as_ref()?.list(kind, scope, list).await?;
        Some(l.found.get(id).cloned().map_or(Read::Missing, Read::Found))
    }
}

/// A declared resource as `Kind::preflight` sees it: its kind, its
/// settings (the unknown ones marked), the keys of what it reads.
#[derive(Debug, Clone)]
pub struct Planned {
    /// Its kind's name (`aws:iam:Role`).
    pub kind: &'static str,
    /// Its declared settings.
    pub desired: Desired,
    /// The keys of the resources whose outputs it reads.
    pub deps: Vec<String>,
}

/// Facts of the account that a documented rule needs, read once per run
/// before the plan (only when a declared resource needs them).
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Lambda's `UnreservedConcurrentExecutions` (GetAccountSettings): read
    /// when a function reserves concurrency.
    pub lambda_unreserved: Option<i64>,
    /// Lambda's account concurrency limit (`ConcurrentExecutions`).
    pub lambda_limit: Option<i64>,
}

/// What a kind's `preflight` sees of the whole program before any change.
pub struct Preflight<'a> {
    /// Every declared resource, by key.
    pub declared: &'a BTreeMap<String, Planned>,
    /// What the run read of each resource the state knows (by key).
    pub reads: &'a BTreeMap<String, Read>,
    /// The account's facts (`Facts`).
    pub facts: &'a Facts,
}

impl Preflight<'_> {
    /// The declared resources of `kind`, by key.
    pub fn of_kind<'b>(&'b self, kind: &'b str) -> impl Iterator<Item = (&'b String, &'b Planned)> {
        self.declared.iter().filter(move |(_, p)| p.kind == kind)
    }
    /// The observed settings of `key`, when it exists.
    pub fn observed(&self, key: &str) -> Option<&Props> {
        match self.reads.get(key) {
            Some(Read::Found(o)) => Some(&o.props),
            _ => None,
        }
    }
}

/// How a kind's resources are read and deleted by type and ID alone,
/// without the arguments a program declares them with (Pulumi's provider).
/// It is what deletes a resource the program no longer declares: the state
/// records each resource's kind, ID and parent's ID, and the provider of
/// that kind does the rest. A kind written outside deployer brings its own
/// (`Kind::provider`); `App::provider` keeps it known after the program
/// drops the last resource of that kind.
#[async_trait::async_trait]
pub trait Provider: Send + Sync {
    /// The kind's name in the state (`aws:cognito:UserPool`,
    /// `acme:s3:Bucket`): unique across every kind a program uses.
    fn kind(&self) -> &'static str;
    /// The resource of this ID (inside the resource `parent_id` for a
    /// child: a pool's client, an API's route), as AWS reports it; `Missing`
    /// when it is not there.
    async fn read(&self, cx: &Cx, id: &str, parent_id: Option<&str>) -> Result<Read>;
    /// Deletes the resource of this ID; one already gone is success.
    async fn delete(&self, cx: &Cx, id: &str, parent_id: Option<&str>) -> Result<()>;
}

/// A resource kind: typed arguments (the struct a program fills in) plus
/// create and update from them; reading by ID and deleting are its
/// provider's (`Provider`). `examples/own_kind.rs` is a complete one written
/// outside deployer (an S3 bucket with versioning and tags), deployed and
/// deleted by `tests/program.rs`; README "Writing a kind" walks through it.
#[async_trait::async_trait]
pub trait Kind: Send + Sync {
    /// What reads and deletes this kind's resources by ID.
    fn provider(&self) -> Arc<dyn Provider>;
    /// The kind's name in the state: its provider's.
    fn kind(&self) -> &'static str {
        self.provider().kind()
    }
    /// Keys of the resources whose outputs its inputs read: derived from the
    /// inputs (`model::deps_of`), never listed by hand.
    fn deps(&self) -> Vec<String>;
    /// The resource whose deletion deletes this one too (pool, API,
    /// function): the one its parent-ID input reads.
    fn parent(&self) -> Option<String> {
        None
    }
    /// Settings (`environment.KEY` for a map's key) built from secret
    /// inputs: shown as `(sensitive)` in a plan.
    fn sensitive(&self) -> BTreeSet<String> {
        BTreeSet::new()
    }
    /// Settings that cannot change in place: a difference means replace.
    fn replace_on(&self) -> Vec<&'static str> {
        vec![]
    }
    /// For a kind with neither tags nor a parent that holds it (a Cognito
    /// domain): the setting that holds the ID of the resource it belongs
    /// to, and that resource's key. Ownership goes through that resource.
    fn belongs_through(&self) -> Option<(&'static str, String)> {
        None
    }
    /// The code it runs (a function's), built before the run.
    fn code(&self) -> Option<crate::package::Code> {
        None
    }
    /// True when its name is not unique in AWS: an intent is recorded before
    /// create, and a replacement is created before the old one is deleted.
    fn non_unique_name(&self) -> bool {
        false
    }
    /// What AWS would refuse of this resource that is knowable before any
    /// call (a documented rule, given the rest of the program and the
    /// account's `Facts`): each a sentence saying what to change. `plan`
    /// and `up` stop on any, before the first change. `key` is its own.
    fn preflight(&self, _key: &str, _p: &Preflight) -> Vec<String> {
        vec![]
    }
    /// The declared settings: a pure function of the context and the outputs
    /// of the dependencies, with the ones not known yet marked as such
    /// (`model::Inputs` resolves a kind's inputs and notes them).
    fn desired(&self, ctx: &Ctx, known: &Known) -> Desired;
    /// The declared resource as AWS reports it. By default, the one of the
    /// ID the state records (`Provider::read`); a kind whose create can
    /// lose its answer looks it up by name when the state has no ID.
    async fn read(&self, cx: &Cx, prior: &Prior) -> Result<Read> {
        match prior.id.as_deref().filter(|i| !i.is_empty()) {
            Some(id) => {
                self.provider()
                    .read(cx, id, prior.parent_id.as_deref())
                    .await
            }
            None => Ok(Read::Missing),
        }
    }
    /// Creates the resource from `desired` (the inputs known: `known` holds the outputs of what it reads); returns it as `read` would see it.
    async fn create(&self, cx: &Cx, desired: &Props, known: &Known) -> Result<Observed>;
    /// Changes what differs between `desired` and `observed` in place (the settings in `replace_on` never reach it); returns it as `read` would see it.
    async fn update(
        &self,
        cx: &Cx,
        desired: &Props,
        observed: &Observed,
        known: &Known,
    ) -> Result<Observed>;
    /// Its resources carry no tag (an app client): another of its name is
    /// this stack's only after a create of it lost its answer, so strays
    /// are looked for then and never otherwise (a hand-made one of the same
    /// name is somebody's).
    fn untagged(&self) -> bool {
        false
    }
    /// For a kind whose name is not unique: the IDs of other resources with
    /// this one's name and stack tag (inside `parent_id` for a child) than
    /// `keep`, the one the state tracks. A create whose answer was lost and
    /// whose lookup came too early can leave one; `up` removes them, so that
    /// there is exactly one of each.
    /// `made_at`: when this stack last started to create it (a kind whose
    /// resources carry no tag counts only those made since as its own).
    async fn strays(
        &self,
        _cx: &Cx,
        _parent_id: Option<&str>,
        _keep: &str,
        _made_at: Option<i64>,
    ) -> Result<Vec<String>> {
        Ok(vec![])
    }
}

/// The providers a run knows, by kind name: deployer's own, the ones the
/// `App` registers, and those of every kind the program declares.
#[derive(Clone, Default)]
pub struct Providers(BTreeMap<&'static str, Arc<dyn Provider>>);

impl std::fmt::Debug for Providers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

impl Providers {
    /// Adds (or replaces) the provider of its kind.
    pub fn add(&mut self, p: Arc<dyn Provider>) {
        self.0.insert(p.kind(), p);
    }
    /// The provider of a kind, by its name in the state.
    pub fn get(&self, kind: &str) -> Option<Arc<dyn Provider>> {
        self.0.get(kind).cloned()
    }
}

/// A state entry the program no longer declares: its provider, and the key
/// of the parent it was recorded with. Read by its ID and deleted; never
/// created or updated.
pub struct Orphan {
    provider: Arc<dyn Provider>,
    parent: Option<String>,
}

impl Orphan {
    /// The orphan of a state entry: its kind's provider and the key of the parent it was recorded with.
    pub fn new(provider: Arc<dyn Provider>, parent: Option<String>) -> Orphan {
        Orphan { provider, parent }
    }
}

#[async_trait::async_trait]
impl Kind for Orphan {
    fn provider(&self) -> Arc<dyn Provider> {
        self.provider.clone()
    }
    fn deps(&self) -> Vec<String> {
        self.parent.iter().cloned().collect()
    }
    fn parent(&self) -> Option<String> {
        self.parent.clone()
    }
    fn desired(&self, _ctx: &Ctx, _known: &Known) -> Desired {
        Desired::default()
    }
    async fn create(&self, _cx: &Cx, _d: &Props, _k: &Known) -> Result<Observed> {
        Err(crate::error::Error::Other(format!(
            "a {} the program no longer declares is never created",
            self.kind()
        )))
    }
    async fn update(&self, _cx: &Cx, _d: &Props, _o: &Observed, _k: &Known) -> Result<Observed> {
        Err(crate::error::Error::Other(format!(
            "a {} the program no longer declares is never updated",
            self.kind()
        )))
    }
}

/// The names to read a uniquely named resource by: the one the state
/// records first (after a rename the old one is still this stack's, and is
/// replaced, not forgotten), then the declared one.
pub fn names_to_read(name: &str, prior: &Prior) -> Vec<String> {
    let mut out: Vec<String> = prior.id.iter().filter(|i| !i.is_empty()).cloned().collect();
    if !name.is_empty() && !out.iter().any(|n| n == name) {
        out.push(name.to_string());
    }
    out
}

/// The keys of `desired` whose values differ from what was observed.
pub fn diff(desired: &Props, observed: &Props) -> Vec<String> {
    desired
        .iter()
        .filter(|(k, v)| observed.get(*k).unwrap_or(&Value::Null) != *v)
        .map(|(k, _)| k.clone())
        .collect()
}

/// A setting as a string (`""` when absent or null; another type as its JSON).
pub fn s(p: &Props, k: &str) -> String {
    match p.get(k) {
        Some(Value::String(v)) => v.clone(),
        Some(Value::Null) | None => String::new(),
        Some(v) => v.to_string(),
    }
}

/// A setting's list of strings (empty when absent).
pub fn strings(p: &Props, k: &str) -> Vec<String> {
    p.get(k)
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// A setting's map of strings (tags, environment; empty when absent).
pub fn string_map(p: &Props, k: &str) -> BTreeMap<String, String> {
    p.get(k)
        .and_then(|v| v.as_object())
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// The tag keys `observed` has and `desired` no longer declares: what an
/// update must untag.
pub fn stale_tags(desired: &Props, observed: &Props) -> Vec<String> {
    let (want, had) = (string_map(desired, "tags"), string_map(observed, "tags"));
    spec::removed_keys(&had, &want)
}

/// Sorted and deduplicated, for a set-valued setting compared as a list.
pub fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

/// Tags as a setting's value, without the `aws:` ones AWS adds.
pub fn tags_value<I: IntoIterator<Item = (K, V)>, K: Into<String>, V: Into<String>>(
    it: I,
) -> Value {
    let tags = spec::tag_map(it).into_iter();
    Value::Object(tags.map(|(k, v)| (k, Value::String(v))).collect())
}

impl Observed {
    /// The outputs that may be written to the state file (never secrets).
    pub fn state_outputs(&self) -> BTreeMap<String, String> {
        self.outputs
            .iter()
            .filter(|(k, _)| !k.starts_with("secret"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// A delete's result: done, or already gone (not found is success).
pub fn ok_if_gone<T, E, R>(
    r: std::result::Result<T, aws_smithy_runtime_api::client::result::SdkError<E, R>>,
    gone: impl FnOnce(&E) -> bool,
    what: impl Into<String>,
) -> Result<()>
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match r {
        Ok(_) => Ok(()),
        Err(e) if e.as_service_error().is_some_and(gone) => Ok(()),
        Err(e) => Err(crate::error::Error::aws(what, e)),
    }
}

/// A read's result: the answer, or `None` when the resource is not found.
pub fn found_or_none<T, E, R>(
    r: std::result::Result<T, aws_smithy_runtime_api::client::result::SdkError<E, R>>,
    gone: impl FnOnce(&E) -> bool,
    what: impl Into<String>,
) -> Result<Option<T>>
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match r {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.as_service_error().is_some_and(gone) => Ok(None),
        Err(e) => Err(crate::error::Error::aws(what, e)),
    }
}

/// Wraps an SDK error with what was being done.
pub fn ctx_err<E: std::error::Error>(
    what: impl Into<String>,
) -> impl FnOnce(E) -> crate::error::Error {
    let what = what.into();
    move |e| crate::error::Error::aws(what, e)
}

#[cfg(test)]
mod tests;
