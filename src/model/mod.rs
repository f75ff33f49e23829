//! The program model: a stack is a Rust function that declares resources
//! whose outputs feed other resources' inputs.
//!
//! - An [`Output`] is a value known after some resources are created (a pool's
//!   ID, an API's endpoint), or a plain value; `map` and `zip` transform and
//!   combine them. Every output carries the keys of the resources it reads:
//!   the engine derives the dependency graph from them, nothing is listed by
//!   hand. An output built from a secret is secret.
//! - An [`Input`] is what a resource kind's arguments take: the same type, so a
//!   plain value (`"x".into()`) or another resource's output fits.
//! - [`Stack`] collects the declarations (`add`) and the stack's exported
//!   outputs (`export`); [`Handle`] names a declared resource and gives its
//!   outputs (`pool.id()`, `api.endpoint()`, `role.arn()`).

use crate::error::{Error, Result};
use crate::kind::{Ctx, Cx, Desired, Kind, Known, Observed, Prior, Props, Read};
use std::collections::{BTreeMap, BTreeSet};
use std::marker::PhantomData;
use std::sync::Arc;

pub mod typed;
pub use typed::Typed;

type Eval<T> = Arc<dyn Fn(&Ctx, &Known) -> Option<T> + Send + Sync>;

/// A value known now or after apply, with the resources it comes from.
/// A kind's argument takes one (`Input<T>`): a plain value, or an output of
/// another resource, transformed with `map` and combined with `zip`.
///
/// ```
/// use deployer::model::{Handle, Output};
/// use deployer::resources::api::Api;
/// let api = Handle::<Api>::new("api");
/// let url = api.endpoint().map(|e| format!("{e}/orders"));
/// assert_eq!(url.deps(), ["api"]); // the engine orders by this
/// let plain: Output<String> = "eu-west-1".into();
/// assert!(plain.deps().is_empty());
/// let both = url.zip(&plain);
/// assert_eq!(both.deps(), ["api"]);
/// ```
pub struct Output<T> {
    deps: Vec<String>,
    secret: bool,
    eval: Eval<T>,
}

/// What a resource kind's arguments take: a plain value or an output.
pub type Input<T> = Output<T>;

impl<T> Clone for Output<T> {
    fn clone(&self) -> Self {
        Output {
            deps: self.deps.clone(),
            secret: self.secret,
            eval: self.eval.clone(),
        }
    }
}

impl<T> std::fmt::Debug for Output<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Output(deps: {:?}, secret: {})", self.deps, self.secret)
    }
}

impl<T: Clone + Send + Sync + 'static> Output<T> {
    /// A plain value, known now.
    pub fn value(v: T) -> Self {
        Output {
            deps: vec![],
            secret: false,
            eval: Arc::new(move |_, _| Some(v.clone())),
        }
    }
    /// The value, or `None` while a resource it reads is not created yet.
    pub fn resolve(&self, ctx: &Ctx, known: &Known) -> Option<T> {
        (self.eval)(ctx, known)
    }
    /// The value at apply time, when every resource it reads is done (a
    /// kind's `create` and `update` reading a parent's ID): an error naming
    /// them if one is not.
    pub fn require(&self, ctx: &Ctx, known: &Known) -> Result<T> {
        self.resolve(ctx, known).ok_or_else(|| {
            Error::Other(format!(
                "internal error: a value read from {} is not known yet (a missing dependency); nothing was sent",
                self.deps.join(", ")
            ))
        })
    }
    /// A transformed output: `api.endpoint().map(|e| format!("{e}/oidc"))`.
    pub fn map<U: Clone + Send + Sync + 'static>(
        &self,
        f: impl Fn(T) -> U + Send + Sync + 'static,
    ) -> Output<U> {
        let eval = self.eval.clone();
        Output {
            deps: self.deps.clone(),
            secret: self.secret,
            eval: Arc::new(move |c, k| eval(c, k).map(&f)),
        }
    }
    /// Two outputs combined; known when both are.
    pub fn zip<U: Clone + Send + Sync + 'static>(&self, other: &Output<U>) -> Output<(T, U)> {
        let (a, b) = (self.eval.clone(), other.eval.clone());
        let mut deps = self.deps.clone();
        deps.extend(other.deps.iter().cloned());
        Output {
            deps,
            secret: self.secret || other.secret,
            eval: Arc::new(move |c, k| Some((a(c, k)?, b(c, k)?))),
        }
    }
    /// Marks the value secret: never shown in a plan, never in the state.
    pub fn secret(mut self) -> Self {
        self.secret = true;
        self
    }
    /// True when it is built from a secret: never in the state, `(sensitive)` in a plan.
    pub fn is_secret(&self) -> bool {
        self.secret
    }
    /// The keys of the resources this value reads.
    pub fn deps(&self) -> &[String] {
        &self.deps
    }
}

impl Output<String> {
    /// The stack's AWS account ID (known before any change: the run asks
    /// STS first).
    pub fn account() -> Self {
        Self::of_target(|ctx| ctx.account.clone())
    }
    /// The stack's region.
    pub fn region() -> Self {
        Self::of_target(|ctx| ctx.region.clone())
    }
    /// A value of the target, known before any resource is.
    fn of_target(f: fn(&Ctx) -> String) -> Self {
        Output {
            deps: vec![],
            secret: false,
            eval: Arc::new(move |ctx, _| Some(f(ctx))),
        }
    }
    /// The output `name` of the resource `key` (see [`Handle::output`]).
    pub fn of(key: &str, name: &str) -> Self {
        let (k, n) = (key.to_string(), name.to_string());
        Output {
            deps: vec![key.to_string()],
            secret: false,
            eval: Arc::new(move |_, known| known.outputs.get(&k).and_then(|o| o.get(&n)).cloned()),
        }
    }
    /// Like [`Output::of`], finished by what the target knows (the partition,
    /// the local data plane's URLs): for a kind's derived outputs.
    pub fn of_with(
        key: &str,
        name: &str,
        f: impl Fn(&Ctx, &str) -> String + Send + Sync + 'static,
    ) -> Self {
        let base = Self::of(key, name);
        let eval = base.eval.clone();
        Output {
            eval: Arc::new(move |c, k| eval(c, k).map(|v| f(c, &v))),
            ..base
        }
    }
}

/// What a kind's `desired` resolves its inputs with: the target, the
/// outputs known so far, and the settings found unknown on the way.
///
/// ```
/// # use deployer::kind::{Ctx, Desired, Known};
/// # use deployer::model::{Inputs, Output};
/// # use serde_json::json;
/// # fn desired(role: &Output<String>, env: &[(String, Output<String>)], ctx: &Ctx, k: &Known) -> Desired {
/// let mut i = Inputs::new(ctx, k);
/// let environment: std::collections::BTreeMap<String, String> = env
///     .iter()
///     .map(|(n, v)| (n.clone(), i.get(&format!("environment.{n}"), v)))
///     .collect();
/// let v = json!({"role": i.get("role", role), "environment": environment});
/// i.finish(v) // the JSON first: `finish` takes `i`
/// # }
/// ```
pub struct Inputs<'a> {
    ctx: &'a Ctx,
    known: &'a Known,
    unknown: BTreeSet<String>,
    /// The keys of the resources the inputs resolved so far read, in the
    /// order first read.
    deps: Vec<String>,
    /// How many unknown inputs `input` handed out (typed.rs).
    handed: usize,
    /// The numbers of those that are secret.
    secret: BTreeSet<usize>,
}

impl<'a> Inputs<'a> {
    /// Resolves against this target and these outputs.
    pub fn new(ctx: &'a Ctx, known: &'a Known) -> Inputs<'a> {
        Inputs {
            ctx,
            known,
            unknown: BTreeSet::new(),
            deps: vec![],
            handed: 0,
            secret: BTreeSet::new(),
        }
    }
    /// The value of `input` for the setting at `path` (`role`,
    /// `environment.C`); while it is unknown, an empty placeholder and the
    /// path noted.
    pub fn get(&mut self, path: &str, input: &Output<String>) -> String {
        self.note_deps(input.deps());
        let v = input.resolve(self.ctx, self.known);
        self.value(path, v)
    }
    /// The values of a list setting's inputs, in order: unknown as a whole
    /// (and empty) while one of them is.
    pub fn list(&mut self, path: &str, inputs: &[Output<String>]) -> Vec<String> {
        for i in inputs {
            self.note_deps(i.deps());
        }
        let v: Option<Vec<String>> = inputs
            .iter()
            .map(|i| i.resolve(self.ctx, self.known))
            .collect();
        match v {
            Some(v) => v,
            None => {
                self.unknown.insert(path.to_string());
                vec![]
            }
        }
    }
    /// A value computed some other way (`None` while unknown), for the
    /// setting at `path`.
    pub fn value(&mut self, path: &str, v: Option<String>) -> String {
        v.unwrap_or_else(|| {
            self.unknown.insert(path.to_string());
            String::new()
        })
    }
    fn note_deps(&mut self, deps: &[String]) {
        for d in deps {
            if !self.deps.contains(d) {
                self.deps.push(d.clone());
            }
        }
    }
    /// The target the inputs resolve against.
    pub fn ctx(&self) -> &Ctx {
        self.ctx
    }
    /// The declared settings: the JSON object built from the values, with
    /// the unknown paths noted.
    pub fn finish(self, v: serde_json::Value) -> Desired {
        Desired::new(v, self.unknown)
    }
}

/// Several outputs as one list, known when all are.
pub fn all<T: Clone + Send + Sync + 'static>(items: &[Output<T>]) -> Output<Vec<T>> {
    let evals: Vec<Eval<T>> = items.iter().map(|o| o.eval.clone()).collect();
    Output {
        deps: items.iter().flat_map(|o| o.deps.iter().cloned()).collect(),
        secret: items.iter().any(|o| o.secret),
        eval: Arc::new(move |c, k| evals.iter().map(|e| e(c, k)).collect()),
    }
}

/// A string built from outputs, known when they all are (Pulumi's
/// `interpolate`): `format!`'s syntax with positional `{}`, each argument an
/// `Output<String>` (or anything that converts into one, a `&str`, a
/// `String`). Its resources are the arguments' (the engine orders it after
/// them); it is secret if one of them is.
///
/// ```
/// # use deployer::model::{Output, Stack};
/// # use deployer::resources::api::Api;
/// # let mut s = Stack::new();
/// let api = s.add("api", Api::new("shop"));
/// let orders = deployer::interpolate!("{}/orders?v={}", api.endpoint(), "2");
/// s.export("orders_url", orders);
/// ```
#[macro_export]
macro_rules! interpolate {
    ($fmt:literal $(, $arg:expr)* $(,)?) => {{
        let parts: ::std::vec::Vec<$crate::model::Output<::std::string::String>> =
            ::std::vec![$($crate::model::Output::<::std::string::String>::from($arg)),*];
        $crate::model::all(&parts).map(move |values| {
            #[allow(unused_mut, unused_variables)]
            let mut it = values.into_iter();
            ::std::format!($fmt $(, { let _ = ::std::stringify!($arg); it.next().unwrap_or_default() })*)
        })
    }};
}

/// A plain value of `T::default()`: what lets a kind's struct derive
/// `Default` and be declared with `..Default::default()` (or a
/// constructor's value) for the settings left as they are.
impl<T: Default + Clone + Send + Sync + 'static> Default for Output<T> {
    fn default() -> Self {
        Output::value(T::default())
    }
}

impl<T: Clone + Send + Sync + 'static> From<T> for Output<T> {
    fn from(v: T) -> Self {
        Output::value(v)
    }
}

impl From<&str> for Output<String> {
    fn from(v: &str) -> Self {
        Output::value(v.to_string())
    }
}

/// The dependency keys of a set of inputs, deduplicated in order.
pub fn deps_of<'a>(inputs: impl IntoIterator<Item = &'a [String]>) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for d in inputs.into_iter().flatten() {
        if !out.contains(d) {
            out.push(d.clone());
        }
    }
    out
}

/// A declared resource of kind `K`; its outputs are typed per kind.
pub struct Handle<K> {
    key: String,
    kind: PhantomData<fn() -> K>,
}

impl<K> Clone for Handle<K> {
    fn clone(&self) -> Self {
        Handle {
            key: self.key.clone(),
            kind: PhantomData,
        }
    }
}

impl<K> Handle<K> {
    /// A handle on the resource declared under `key` (`Stack::add` returns one).
    pub fn new(key: impl Into<String>) -> Self {
        Handle {
            key: key.into(),
            kind: PhantomData,
        }
    }
    /// The resource's key in the stack.
    pub fn key(&self) -> &str {
        &self.key
    }
    /// Any output by name (the kinds' typed accessors use this).
    pub fn output(&self, name: &str) -> Output<String> {
        Output::of(&self.key, name)
    }
    /// The resource's ID (pool ID, API ID, function name, ...).
    pub fn id(&self) -> Output<String> {
        self.output("id")
    }
}

/// What a run may not do to a resource: `Stack::protect`,
/// `Stack::protect_from_replace`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protect {
    /// No protection (the default).
    #[default]
    No,
    /// Never replaced (a replacement loses what it holds: a pool's users).
    Replace,
    /// Never replaced nor deleted, `down` included.
    All,
}

/// A resource's lifecycle options, recorded in the state with it so that
/// they hold once the program no longer declares it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Lifecycle {
    /// What a run may not do to it.
    #[serde(default, skip_serializing_if = "Protect::is_no")]
    pub protect: Protect,
    /// `down` (or dropping it from the program) leaves it in AWS, released
    /// from the stack (its deployer tags removed), and forgets it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retain_on_delete: bool,
}

impl Protect {
    /// True for `No` (what the state leaves out).
    pub fn is_no(&self) -> bool {
        *self == Protect::No
    }
}

impl Lifecycle {
    /// True when nothing is set (what the state leaves out).
    pub fn is_default(&self) -> bool {
        *self == Lifecycle::default()
    }
}

/// A resource of the stack: its key, its kind, extra ordering dependencies
/// (`Stack::add_after`) and lifecycle options. What the engine plans and
/// applies.
pub struct Declared {
    key: String,
    kind: Arc<dyn Kind>,
    after: Vec<String>,
    lifecycle: Lifecycle,
}

/// A declared resource, shared between the plan and the apply.
pub type Res = Arc<Declared>;

impl Declared {
    /// A resource of `kind` under `key`, with the default lifecycle.
    pub fn new(key: impl Into<String>, kind: Arc<dyn Kind>) -> Res {
        Self::with_lifecycle(key, kind, Lifecycle::default())
    }
    /// A resource the state records (its lifecycle options with it).
    pub fn with_lifecycle(
        key: impl Into<String>,
        kind: Arc<dyn Kind>,
        lifecycle: Lifecycle,
    ) -> Res {
        Arc::new(Declared {
            key: key.into(),
            kind,
            after: vec![],
            lifecycle,
        })
    }
    /// Its protect and retain options.
    pub fn lifecycle(&self) -> Lifecycle {
        self.lifecycle
    }
    /// The code it runs (a function's).
    pub fn code(&self) -> Option<crate::package::Code> {
        self.kind.code()
    }
    /// Its key in the stack.
    pub fn key(&self) -> String {
        self.key.clone()
    }
    /// Its kind's name in the state.
    pub fn kind_name(&self) -> &'static str {
        self.kind.kind()
    }
    /// Every resource this one reads an output of, or is ordered after.
    pub fn deps(&self) -> Vec<String> {
        let mut d = self.kind.deps();
        for a in &self.after {
            if !d.contains(a) {
                d.push(a.clone());
            }
        }
        d
    }
    /// The key of the resource it lives in (`Kind::parent`).
    pub fn parent(&self) -> Option<String> {
        self.kind.parent()
    }
    /// Settings that cannot change in place (`Kind::replace_on`).
    pub fn replace_on(&self) -> Vec<&'static str> {
        self.kind.replace_on()
    }
    /// `Kind::non_unique_name`.
    pub fn non_unique_name(&self) -> bool {
        self.kind.non_unique_name()
    }
    /// `Kind::belongs_through`.
    pub fn belongs_through(&self) -> Option<(&'static str, String)> {
        self.kind.belongs_through()
    }
    /// Settings built from secret inputs (`Kind::sensitive`).
    pub fn sensitive(&self) -> BTreeSet<String> {
        self.kind.sensitive()
    }
    /// The declared settings (`Kind::desired`).
    pub fn desired(&self, ctx: &Ctx, known: &Known) -> Desired {
        self.kind.desired(ctx, known)
    }
    /// The resource as AWS reports it (`Kind::read`).
    pub async fn read(&self, cx: &Cx, prior: &Prior) -> Result<Read> {
        self.kind.read(cx, prior).await
    }
    /// Creates it (`Kind::create`).
    pub async fn create(&self, cx: &Cx, d: &Props, known: &Known) -> Result<Observed> {
        self.kind.create(cx, d, known).await
    }
    /// Updates it in place (`Kind::update`).
    pub async fn update(
        &self,
        cx: &Cx,
        d: &Props,
        o: &Observed,
        known: &Known,
    ) -> Result<Observed> {
        self.kind.update(cx, d, o, known).await
    }
    /// Deletes it by ID, through its kind's provider.
    pub async fn delete(&self, cx: &Cx, id: &str, parent_id: Option<&str>) -> Result<()> {
        self.kind.provider().delete(cx, id, parent_id).await
    }
    /// What AWS would refuse of it, knowable before any call.
    pub fn preflight(&self, p: &crate::kind::Preflight) -> Vec<String> {
        self.kind.preflight(&self.key, p)
    }
    /// What reads and deletes its kind by ID.
    pub fn provider(&self) -> Arc<dyn crate::kind::Provider> {
        self.kind.provider()
    }
    /// Its resources carry no tag (`Kind::untagged`).
    pub fn untagged(&self) -> bool {
        self.kind.untagged()
    }
    /// Other resources of its name and stack than `keep` (`Kind::strays`).
    pub async fn strays(
        &self,
        cx: &Cx,
        parent_id: Option<&str>,
        keep: &str,
        made_at: Option<i64>,
    ) -> Result<Vec<String>> {
        self.kind.strays(cx, parent_id, keep, made_at).await
    }
}

/// A program's exported outputs, by name, in declaration order.
pub type Exports = Vec<(String, Output<String>)>;

/// The program's declarations: resources and exported outputs.
///
/// ```
/// use deployer::model::Stack;
/// use deployer::resources::lambda::{Function, Role};
/// use deployer::resources::logs::LogGroup;
///
/// let mut s = Stack::new();
/// let role = s.add("role", Role::for_lambda("orders-lambda"));
/// let logs = s.add("logs", LogGroup::for_function("orders", Some(14)));
/// // The function reads the role's ARN: created after it. It reads
/// // nothing of its log group, so it says to come after it.
/// let f = s.add_after("function", Function::new("orders", role.arn()), &[logs.key()]);
/// s.export("function_arn", f.arn());
/// assert_eq!(s.exports().len(), 1);
/// ```
#[derive(Default)]
pub struct Stack {
    resources: Vec<Declared>,
    exports: Vec<(String, Output<String>)>,
    moves: Vec<(String, String)>,
}

impl Stack {
    /// An empty stack.
    pub fn new() -> Self {
        Self::default()
    }
    /// Declares a resource under a key unique in the stack (the key of its
    /// state entry and of its plan line).
    pub fn add<K: Kind + 'static>(&mut self, key: impl Into<String>, kind: K) -> Handle<K> {
        self.add_after(key, kind, &[])
    }
    /// Declares a resource that must also be created after (and deleted
    /// before) `after`, which it does not read an output of.
    pub fn add_after<K: Kind + 'static>(
        &mut self,
        key: impl Into<String>,
        kind: K,
        after: &[&str],
    ) -> Handle<K> {
        let key = key.into();
        self.resources.push(Declared {
            key: key.clone(),
            kind: Arc::new(kind),
            after: after.iter().map(|s| s.to_string()).collect(),
            lifecycle: Lifecycle::default(),
        });
        Handle::new(key)
    }
    fn lifecycle_of(&mut self, key: &str) -> &mut Lifecycle {
        &mut self
            .resources
            .iter_mut()
            .find(|r| r.key == key)
            .expect("a handle of this stack names a declared resource")
            .lifecycle
    }
    /// Says that the resource now declared as `to` was declared as `from`
    /// (a refactor: a key renamed): its state entry moves, and the resource
    /// is neither replaced nor deleted (Pulumi's aliases, Terraform's
    /// `moved`). The move is saved with the run, so the line can go once
    /// every stack ran it.
    ///
    /// ```
    /// # use deployer::model::Stack;
    /// # use deployer::resources::cognito::UserPool;
    /// # let mut s = Stack::new();
    /// let pool = s.add("accounts", UserPool::new("accounts"));
    /// s.moved("pool", &pool);
    /// ```
    pub fn moved<K>(&mut self, from: impl Into<String>, to: &Handle<K>) {
        self.moves.push((from.into(), to.key().to_string()));
    }
    /// The moves the program declared (`moved`): (from, to).
    pub fn moves(&self) -> &[(String, String)] {
        &self.moves
    }
    /// Refuses to delete or replace the resource (`down` included):
    /// `plan`, `up` and `down` stop before any change and name the flag
    /// that allows it this once (`--unprotect KEY`).
    ///
    /// ```
    /// # use deployer::model::Stack;
    /// # use deployer::resources::cognito::UserPool;
    /// let mut s = Stack::new();
    /// let pool = s.add("pool", UserPool::new("accounts"));
    /// s.protect(&pool);
    /// ```
    pub fn protect<K>(&mut self, h: &Handle<K>) {
        self.lifecycle_of(h.key()).protect = Protect::All;
    }
    /// Refuses to replace the resource (a replacement deletes what it
    /// holds); `down` still deletes it.
    pub fn protect_from_replace<K>(&mut self, h: &Handle<K>) {
        let l = self.lifecycle_of(h.key());
        if l.protect == Protect::No {
            l.protect = Protect::Replace;
        }
    }
    /// `down`, or dropping it from the program, leaves the resource in AWS:
    /// its deployer tags are removed (no stack owns it any more) and the
    /// state forgets it.
    pub fn retain_on_delete<K>(&mut self, h: &Handle<K>) {
        self.lifecycle_of(h.key()).retain_on_delete = true;
    }
    /// Exports a stack output (`deployer outputs`). Secret outputs are shown
    /// only with `--show-secrets`.
    pub fn export(&mut self, name: impl Into<String>, value: Output<String>) {
        self.exports.push((name.into(), value));
    }
    /// The exported outputs, in declaration order.
    pub fn exports(&self) -> &[(String, Output<String>)] {
        &self.exports
    }

    /// The resources, checked: keys unique, every reference declared, no
    /// cycle (an error naming it).
    pub fn resources(self) -> Result<(Vec<Res>, Exports)> {
        let mut keys = BTreeSet::new();
        for r in &self.resources {
            if !keys.insert(r.key.clone()) {
                return Err(Error::Other(format!(
                    "the program declares `{}` twice: give each resource its own key",
                    r.key
                )));
            }
        }
        let res: Vec<Res> = self.resources.into_iter().map(Arc::new).collect();
        for r in &res {
            for d in r.deps() {
                if !keys.contains(&d) {
                    return Err(Error::Other(format!(
                        "`{}` reads an output of `{d}`, which the program does not declare",
                        r.key
                    )));
                }
            }
        }
        if let Some(cycle) = find_cycle(&res) {
            return Err(Error::Other(format!(
                "the program's resources depend on each other in a circle: {}; break it by passing a plain value instead of one of these outputs",
                cycle.join(" -> ")
            )));
        }
        for (name, out) in &self.exports {
            for d in out.deps() {
                if !keys.contains(d) {
                    return Err(Error::Other(format!(
                        "output `{name}` reads `{d}`, which the program does not declare"
                    )));
                }
            }
        }
        Ok((res, self.exports))
    }
}

/// The first dependency cycle, as keys `a -> b -> a`.
fn find_cycle(res: &[Res]) -> Option<Vec<String>> {
    let deps: BTreeMap<String, Vec<String>> = res.iter().map(|r| (r.key(), r.deps())).collect();
    // 0 = unvisited, 1 = on the path, 2 = done.
    let mut mark: BTreeMap<&str, u8> = BTreeMap::new();
    fn visit<'a>(
        k: &'a str,
        deps: &'a BTreeMap<String, Vec<String>>,
        mark: &mut BTreeMap<&'a str, u8>,
        path: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        match mark.get(k) {
            Some(2) => return None,
            Some(1) => {
                let at = path.iter().position(|p| *p == k).unwrap_or(0);
                let mut c: Vec<String> = path[at..].iter().map(|s| s.to_string()).collect();
                c.push(k.to_string());
                return Some(c);
            }
            _ => {}
        }
        mark.insert(k, 1);
        path.push(k);
        for d in deps.get(k).into_iter().flatten() {
            if let Some(c) = visit(d, deps, mark, path) {
                return Some(c);
            }
        }
        path.pop();
        mark.insert(k, 2);
        None
    }
    for k in deps.keys() {
        if let Some(c) = visit(k, &deps, &mut mark, &mut vec![]) {
            return Some(c);
        }
    }
    None
}

/// The stack outputs' values from what is known (`None`: not known yet, or
/// a secret whose value is not at hand).
pub fn export_values(
    exports: &[(String, Output<String>)],
    ctx: &Ctx,
    known: &Known,
) -> BTreeMap<String, Option<String>> {
    exports
        .iter()
        .map(|(n, o)| (n.clone(), o.resolve(ctx, known)))
        .collect()
}

/// A stack program: declares its resources and outputs from the config.
/// An error stops the run before any change. `App::new` makes one runnable;
/// `App::with_settings` gives a program settings of its own.
pub type Program = fn(&crate::config::Config, &mut Stack) -> Result<()>;

/// A key renamed by the program (`Stack::moved`): (from, to).
pub type Moves = Vec<(String, String)>;

#[cfg(test)]
mod tests;
