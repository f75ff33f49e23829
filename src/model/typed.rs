//! A kind written as one typed spec ([`Typed`]): it says what its settings
//! are (`spec`), reads them back from AWS, and creates and updates from
//! them; everything the engine asks of a [`Kind`] (the settings map, the
//! unknown ones, what forces a replace, what is secret) is derived here,
//! at the boundary, from the spec's type and value.

use super::Inputs;
use crate::error::Result;
use crate::kind::spec::{found_of, marks, read_of, to_props, Found, Spec};
use crate::kind::{
    Ctx, Cx, Desired, Kind, Known, Observed, Preflight, Prior, Props, Provider, Read,
};
use std::collections::BTreeSet;
use std::sync::Arc;

/// A kind whose settings are one typed value (`Self::Spec`). Every kind
/// that implements it is a [`Kind`].
#[async_trait::async_trait]
pub trait Typed: Send + Sync {
    /// Its settings.
    type Spec: Spec;
    /// What reads and deletes its resources by ID.
    fn provider(&self) -> Arc<dyn Provider>;
    /// Keys of the resources whose outputs it reads. By default those of
    /// the inputs its `spec` resolves; a kind that also reads an input
    /// outside its spec (its parent's ID, for its calls) lists them all
    /// (`model::deps_of`).
    fn deps(&self) -> Vec<String> {
        let (ctx, known) = (no_target(), Known::default());
        let mut i = Inputs::new(&ctx, &known);
        self.spec(&mut i);
        i.deps
    }
    /// Its ID when the program gives it (a name AWS keys it by): where the
    /// state records none (a create whose answer was lost), the default
    /// `read` looks for this one.
    fn declared_id(&self) -> Option<String> {
        None
    }
    /// The settings as declared, its inputs resolved by `i`
    /// ([`Inputs::input`]: a placeholder while unknown).
    fn spec(&self, i: &mut Inputs) -> Self::Spec;
    /// The declared resource as AWS reports it, `None` if there is none.
    /// By default the one of the ID the state records.
    async fn read(&self, cx: &Cx, prior: &Prior) -> Result<Option<Found<Self::Spec>>> {
        let id = prior.id.clone().filter(|i| !i.is_empty());
        let Some(id) = id.or_else(|| self.declared_id()) else {
            return Ok(None);
        };
        let provider = self.provider();
        found_of(provider.read(cx, &id, prior.parent_id.as_deref()).await?)
    }
    /// Creates it as `spec` says; returns it as `read` would see it.
    async fn create(&self, cx: &Cx, spec: &Self::Spec, known: &Known) -> Result<Found<Self::Spec>>;
    /// Changes what differs between `spec` and `found` in place (a `Fixed`
    /// setting never differs here); returns it as `read` would see it.
    async fn update(
        &self,
        cx: &Cx,
        spec: &Self::Spec,
        found: &Found<Self::Spec>,
        known: &Known,
    ) -> Result<Found<Self::Spec>>;
    /// See [`Kind::parent`].
    fn parent(&self) -> Option<String> {
        None
    }
    /// Settings secret beyond its `Secret` fields and those built from a
    /// secret input (`Output::secret`, found by building the spec), see
    /// [`Kind::sensitive`].
    fn sensitive(&self) -> BTreeSet<String> {
        BTreeSet::new()
    }
    /// See [`Kind::belongs_through`].
    fn belongs_through(&self) -> Option<(&'static str, String)> {
        None
    }
    /// See [`Kind::code`].
    fn code(&self) -> Option<crate::package::Code> {
        None
    }
    /// See [`Kind::non_unique_name`].
    fn non_unique_name(&self) -> bool {
        false
    }
    /// See [`Kind::preflight`].
    fn preflight(&self, _key: &str, _p: &Preflight) -> Vec<String> {
        vec![]
    }
    /// See [`Kind::untagged`].
    fn untagged(&self) -> bool {
        false
    }
    /// See [`Kind::strays`].
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

#[async_trait::async_trait]
impl<T: Typed> Kind for T {
    fn provider(&self) -> Arc<dyn Provider> {
        Typed::provider(self)
    }
    fn deps(&self) -> Vec<String> {
        Typed::deps(self)
    }
    fn parent(&self) -> Option<String> {
        Typed::parent(self)
    }
    fn sensitive(&self) -> BTreeSet<String> {
        let mut s = Typed::sensitive(self);
        s.extend(marks::<T::Spec>().secret.into_iter().map(String::from));
        s.extend(secret_settings(self));
        s
    }
    fn replace_on(&self) -> Vec<&'static str> {
        marks::<T::Spec>().fixed
    }
    fn belongs_through(&self) -> Option<(&'static str, String)> {
        Typed::belongs_through(self)
    }
    fn code(&self) -> Option<crate::package::Code> {
        Typed::code(self)
    }
    fn non_unique_name(&self) -> bool {
        Typed::non_unique_name(self)
    }
    fn preflight(&self, key: &str, p: &Preflight) -> Vec<String> {
        Typed::preflight(self, key, p)
    }
    fn desired(&self, ctx: &Ctx, known: &Known) -> Desired {
        let mut i = Inputs::new(ctx, known);
        let spec = self.spec(&mut i);
        i.finish_spec(&spec)
    }
    async fn read(&self, cx: &Cx, prior: &Prior) -> Result<Read> {
        read_of(Typed::read(self, cx, prior).await?)
    }
    async fn create(&self, cx: &Cx, desired: &Props, known: &Known) -> Result<Observed> {
        let spec = crate::kind::spec::from_props(desired)?;
        Typed::create(self, cx, &spec, known).await?.observed()
    }
    async fn update(
        &self,
        cx: &Cx,
        desired: &Props,
        observed: &Observed,
        known: &Known,
    ) -> Result<Observed> {
        let spec = crate::kind::spec::from_props(desired)?;
        let found = Found::from_observed(observed)?;
        Typed::update(self, cx, &spec, &found, known)
            .await?
            .observed()
    }
    fn untagged(&self) -> bool {
        Typed::untagged(self)
    }
    async fn strays(
        &self,
        cx: &Cx,
        parent_id: Option<&str>,
        keep: &str,
        made_at: Option<i64>,
    ) -> Result<Vec<String>> {
        Typed::strays(self, cx, parent_id, keep, made_at).await
    }
}

/// A target of no stack, account or region: what a spec is built against
/// to see which inputs it reads.
fn no_target() -> Ctx {
    Ctx {
        stack: String::new(),
        stack_id: String::new(),
        region: String::new(),
        account: String::new(),
        partition: "aws".into(),
        tags: Default::default(),
        package: None,
        packages: Default::default(),
        urls: crate::kind::Urls::Aws,
    }
}

/// What the `N`th unknown input reads as while a spec is built
/// (`MARK N END`): found again in the spec's map, where its setting's path
/// is noted as unknown and the placeholder emptied. No `:` or `/` in it: a
/// spec that splits an input as an ARN would cut it.
const MARK: &str = "\u{1}unknown";
const END: char = '\u{1}';

impl Inputs<'_> {
    /// The value of `input`, or a placeholder while it is unknown (its
    /// setting then shows as `(known after apply)`; the engine never gives
    /// create or update a spec that holds one). Use the value as it is:
    /// a value computed from an input is an `Output::map` of it.
    pub fn input(&mut self, input: &super::Output<String>) -> String {
        self.note_deps(input.deps());
        input.resolve(self.ctx, self.known).unwrap_or_else(|| {
            if input.is_secret() {
                self.secret.insert(self.handed);
            }
            self.handed += 1;
            format!("{MARK}{}{END}", self.handed - 1)
        })
    }
    /// The values of several inputs, in order (a list with an unknown one is
    /// unknown as a whole).
    pub fn inputs(&mut self, inputs: &[super::Output<String>]) -> Vec<String> {
        inputs.iter().map(|i| self.input(i)).collect()
    }
    /// The declared settings of `spec`: its map, each setting that holds
    /// an unknown input noted (a map's key as `setting.KEY`; a list as a
    /// whole, emptied; a map with an unknown key as a whole) and emptied.
    ///
    /// Panics when the spec lost an unknown input it was handed (it
    /// transformed the placeholder): its value would be taken as known.
    pub fn finish_spec<S: serde::Serialize>(self, spec: &S) -> Desired {
        self.walk(spec).0
    }
    /// `finish_spec`, and where each unknown input went (its number to the
    /// paths of the settings that hold it).
    fn walk<S: serde::Serialize>(mut self, spec: &S) -> (Desired, Places) {
        let mut props = to_props(spec).unwrap_or_else(|e| panic!("{e}"));
        let mut seen = Places::new();
        for (name, v) in props.iter_mut() {
            unknown_in(name, v, &mut self.unknown, &mut seen);
        }
        if let Some(lost) = (0..self.handed).find(|n| !seen.contains_key(n)) {
            panic!(
                "{}: unknown input {lost} is not in the spec as it was handed out (the spec changed it): build a value from an input with Output::map",
                std::any::type_name::<S>()
            );
        }
        let desired = Desired {
            props,
            unknown: self.unknown,
        };
        (desired, seen)
    }
}

/// Each unknown input's number, to the paths of the settings that hold it.
type Places = std::collections::BTreeMap<usize, BTreeSet<String>>;

/// The settings of `kind` built from a secret input (`Output::secret`):
/// its spec built once with every input unknown, and the places of the
/// secret ones.
fn secret_settings<T: Typed + ?Sized>(kind: &T) -> BTreeSet<String> {
    let (ctx, known) = (no_target(), Known::default());
    let mut i = Inputs::new(&ctx, &known);
    let spec = kind.spec(&mut i);
    let secret = std::mem::take(&mut i.secret);
    let (_, places) = i.walk(&spec);
    let paths = secret.iter().filter_map(|n| places.get(n)).flatten();
    paths.cloned().collect()
}

/// The placeholders in `s`, by number.
fn marks_in(s: &str) -> Vec<usize> {
    s.split(MARK)
        .skip(1)
        .filter_map(|rest| rest.split(END).next()?.parse().ok())
        .collect()
}

/// Notes (and empties) the values under `path` that hold a placeholder;
/// `seen` gets the numbers found, each with `path`.
fn unknown_in(
    path: &str,
    v: &mut serde_json::Value,
    unknown: &mut BTreeSet<String>,
    seen: &mut Places,
) {
    let mut note = |marks: Vec<usize>| {
        for n in marks {
            seen.entry(n).or_default().insert(path.to_string());
        }
    };
    use serde_json::Value;
    match v {
        Value::String(s) if s.contains(MARK) => {
            note(marks_in(s));
            unknown.insert(path.to_string());
            s.clear();
        }
        Value::Array(items) => {
            let texts: Vec<String> = items.iter().flat_map(strings_in).collect();
            if texts.iter().any(|t| t.contains(MARK)) {
                note(texts.iter().flat_map(|t| marks_in(t)).collect());
                unknown.insert(path.to_string());
                items.clear();
            }
        }
        Value::Object(m) => {
            let keyed: Vec<String> = m.keys().filter(|k| k.contains(MARK)).cloned().collect();
            if !keyed.is_empty() {
                note(keyed.iter().flat_map(|k| marks_in(k)).collect());
                note(
                    m.values()
                        .flat_map(strings_in)
                        .flat_map(|s| marks_in(&s))
                        .collect(),
                );
                unknown.insert(path.to_string());
                m.clear();
                return;
            }
            for (k, v) in m.iter_mut() {
                unknown_in(&format!("{path}.{k}"), v, unknown, seen);
            }
        }
        _ => {}
    }
}

/// Every string in `v`, keys included.
fn strings_in(v: &serde_json::Value) -> Vec<String> {
    use serde_json::Value;
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().flat_map(strings_in).collect(),
        Value::Object(m) => m
            .iter()
            .flat_map(|(k, v)| std::iter::once(k.clone()).chain(strings_in(v)))
            .collect(),
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use crate::kind::spec::Fixed;
    use crate::kind::{Ctx, Known};
    use crate::model::{Inputs, Output};
    use serde::Serialize;
    use std::collections::BTreeMap;

    #[derive(Serialize)]
    struct S {
        name: Fixed<String>,
        role: String,
        arn: String,
        env: BTreeMap<String, String>,
        list: Vec<String>,
    }

    /// An unknown input is found in the spec's map wherever it went: a
    /// setting, a map's key, a list (unknown as a whole), a string built
    /// from it; each emptied and its path noted.
    #[test]
    fn unknown_inputs_are_found_by_their_place_in_the_spec() {
        let (ctx, known) = (Ctx::for_tests(), Known::default());
        let mut i = Inputs::new(&ctx, &known);
        let later = Output::of("role", "arn");
        let now: Output<String> = "x".into();
        let s = S {
            name: Fixed("n".into()),
            role: i.input(&later),
            arn: format!("{}/*", i.input(&later)),
            env: [("A".into(), i.input(&now)), ("B".into(), i.input(&later))].into(),
            list: i.inputs(&[now.clone(), later.clone()]),
        };
        let d = i.finish_spec(&s);
        assert_eq!(
            d.unknown.iter().map(String::as_str).collect::<Vec<_>>(),
            ["arn", "env.B", "list", "role"]
        );
        assert_eq!(d.props["role"], "");
        assert_eq!(d.props["arn"], "");
        assert_eq!(d.props["env"], serde_json::json!({"A": "x", "B": ""}));
        assert_eq!(d.props["list"], serde_json::json!([]));
        assert_eq!(d.props["name"], "n");
    }

    /// A spec that changed an unknown input (cut it as an ARN) would send
    /// the pieces as known values: refused.
    #[test]
    #[should_panic(expected = "is not in the spec as it was handed out")]
    fn a_spec_that_changes_an_unknown_input_is_refused() {
        let (ctx, known) = (Ctx::for_tests(), Known::default());
        let mut i = Inputs::new(&ctx, &known);
        let arn = i.input(&Output::of("role", "arn"));
        let name = arn.rsplit(':').next().unwrap_or_default().to_uppercase();
        i.finish_spec(&serde_json::json!({ "name": name }));
    }

    /// A map keyed by an unknown input is unknown as a whole; the inputs'
    /// resources are the dependencies, in the order first read.
    #[test]
    fn an_unknown_key_hides_its_map_and_deps_keep_their_order() {
        let (ctx, known) = (Ctx::for_tests(), Known::default());
        let mut i = Inputs::new(&ctx, &known);
        let k = i.input(&Output::of("b", "id"));
        let v = i.input(&Output::of("a", "id"));
        let again = i.input(&Output::of("b", "arn"));
        let d = i.deps.clone();
        let spec = serde_json::json!({ "m": { k: "x" }, "v": v, "w": again });
        let got = i.finish_spec(&spec);
        assert_eq!(d, ["b", "a"]);
        assert_eq!(
            got.unknown.iter().map(String::as_str).collect::<Vec<_>>(),
            ["m", "v", "w"]
        );
        assert_eq!(got.props["m"], serde_json::json!({}));
    }

    /// A setting built from a secret input is sensitive: found where the
    /// input went (a map's key), with no name rule and no list kept by hand.
    #[test]
    fn a_setting_built_from_a_secret_input_is_sensitive() {
        use crate::kind::spec::Found;
        use crate::kind::{Cx, Prior, Provider};
        use crate::model::Typed;
        struct K(Output<String>, Output<String>);
        #[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
        #[serde(default)]
        struct Spec {
            env: BTreeMap<String, String>,
            plain: String,
        }
        #[async_trait::async_trait]
        impl Typed for K {
            type Spec = Spec;
            fn provider(&self) -> std::sync::Arc<dyn Provider> {
                unimplemented!()
            }
            fn spec(&self, i: &mut Inputs) -> Spec {
                Spec {
                    env: [("TOKEN".into(), i.input(&self.0))].into(),
                    plain: i.input(&self.1),
                }
            }
            async fn read(&self, _: &Cx, _: &Prior) -> crate::error::Result<Option<Found<Spec>>> {
                Ok(None)
            }
            async fn create(
                &self,
                _: &Cx,
                _: &Spec,
                _: &Known,
            ) -> crate::error::Result<Found<Spec>> {
                unimplemented!()
            }
            async fn update(
                &self,
                _: &Cx,
                _: &Spec,
                _: &Found<Spec>,
                _: &Known,
            ) -> crate::error::Result<Found<Spec>> {
                unimplemented!()
            }
        }
        let k = K(Output::of("c", "secret").secret(), Output::of("c", "id"));
        let sensitive = crate::kind::Kind::sensitive(&k);
        assert_eq!(sensitive.into_iter().collect::<Vec<_>>(), ["env.TOKEN"]);
        assert_eq!(crate::kind::Kind::deps(&k), ["c"]);
    }
}
