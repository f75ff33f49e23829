//! A kind's settings as one typed value (its spec): what the program
//! declares, what AWS reports, and what create and update are given are the
//! same Rust type, mapped to and from the SDK's types in one place. The
//! engine still diffs, fingerprints and stores a generic map
//! ([`Props`]), made from the spec at this boundary by serde: a field's
//! name is its setting's name, so a typo is a compile error, not a drift.
//!
//! What a setting is, is said by its type, next to the field:
//! [`Fixed<T>`] a setting fixed at creation (a change replaces the
//! resource), [`Secret<T>`] a value never shown in a plan. Both serialize
//! as the value they hold (the map, the state and its fingerprints are the
//! same as the plain value's); [`marks`] finds them by serde's newtype
//! names. The wrapper is outermost (`Fixed<Option<String>>`): a `None` says
//! nothing of its type.

use super::{props, Observed, Props, Read};
use crate::error::{Error, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A kind's settings: a struct of named fields (its JSON form is an
/// object), with a default (its marks are read from it). Put
/// `#[serde(default)]` on the struct: a setting a newer deployer adds is
/// read from older maps as its default.
pub trait Spec:
    Serialize + DeserializeOwned + PartialEq + Clone + Default + std::fmt::Debug + Send + Sync + 'static
{
}

impl<T> Spec for T where
    T: Serialize
        + DeserializeOwned
        + PartialEq
        + Clone
        + Default
        + std::fmt::Debug
        + Send
        + Sync
        + 'static
{
}

const FIXED: &str = "deployer::Fixed";
const SECRET: &str = "deployer::Secret";

/// A setting AWS fixes at creation: a different value replaces the
/// resource (Terraform's `ForceNew`).
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Fixed<T>(pub T);

/// A secret setting (a password, a client secret): shown as
/// `(sensitive)` in a plan, never in a log or a `Debug`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps a secret value.
    pub fn new(v: T) -> Self {
        Secret(v)
    }
    /// The value, for the call that sends it.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> std::fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl<T> std::ops::Deref for Fixed<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> From<T> for Fixed<T> {
    fn from(v: T) -> Self {
        Fixed(v)
    }
}

impl From<&str> for Fixed<String> {
    fn from(v: &str) -> Self {
        Fixed(v.to_string())
    }
}

impl<T> From<T> for Secret<T> {
    fn from(v: T) -> Self {
        Secret(v)
    }
}

impl<T: Serialize> Serialize for Fixed<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_newtype_struct(FIXED, &self.0)
    }
}

impl<T: Serialize> Serialize for Secret<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_newtype_struct(SECRET, &self.0)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Fixed<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        T::deserialize(d).map(Fixed)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Secret<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        T::deserialize(d).map(Secret)
    }
}

/// What a spec's fields are, read from its default value: the fields
/// fixed at creation and the secret ones, by name.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Marks {
    /// Fields whose type is `Fixed<_>`: a change replaces the resource.
    pub fixed: Vec<&'static str>,
    /// Fields whose type is `Secret<_>` (or `Fixed<Secret<_>>`).
    pub secret: Vec<&'static str>,
}

/// The marks of spec `S`'s fields.
pub fn marks<S: Spec>() -> Marks {
    let mut m = Marks::default();
    // A spec is a struct of named fields: anything else (an enum, a
    // `#[serde(flatten)]`, which serializes as a map) would lose its marks.
    let p = S::default()
        .serialize(Probe)
        .ok()
        .filter(|p| !p.fields.is_empty());
    let p = p.unwrap_or_else(|| {
        panic!(
            "{}: a kind's spec is a struct of named fields (no #[serde(flatten)])",
            std::any::type_name::<S>()
        )
    });
    {
        for (name, f) in p.fields {
            if f.fixed {
                m.fixed.push(name);
            }
            if f.secret {
                m.secret.push(name);
            }
        }
    }
    m
}

/// A resource of spec `S` as AWS reports it (or as a create or an update
/// leaves it): its ID, its settings, and the outputs dependants read
/// (`id`, `arn`, ...; names starting with `secret` never reach the state).
#[derive(Debug, Clone, PartialEq)]
pub struct Found<S> {
    /// Its ID (what the state records, what `Provider::read` takes).
    pub id: String,
    /// Its settings.
    pub spec: S,
    /// What dependants read of it, by name.
    pub outputs: BTreeMap<String, String>,
}

impl<S: Spec> Found<S> {
    /// Found, with its ID as the output `id`.
    pub fn new(id: impl Into<String>, spec: S) -> Found<S> {
        let id = id.into();
        let outputs = [("id".to_string(), id.clone())].into();
        Found { id, spec, outputs }
    }
    /// With the output `name`.
    pub fn output(mut self, name: &str, value: impl Into<String>) -> Self {
        self.outputs.insert(name.into(), value.into());
        self
    }
    /// As the engine keeps it: the settings as a map.
    pub fn observed(self) -> Result<Observed> {
        Ok(Observed {
            id: self.id,
            props: to_props(&self.spec)?,
            outputs: self.outputs,
        })
    }
    /// Refuses one that belongs to another stack (by its tags), as
    /// [`super::Ctx::ensure_ours`] does: a create that found its name taken
    /// adopts only this stack's own.
    pub fn ensure_ours(&self, ctx: &super::Ctx, what: &str) -> Result<()> {
        ctx.ensure_ours(what, &self.clone().observed()?)
    }
    /// From the engine's map (what a read or the last apply left).
    pub fn from_observed(o: &Observed) -> Result<Found<S>> {
        Ok(Found {
            id: o.id.clone(),
            spec: from_props(&o.props)?,
            outputs: o.outputs.clone(),
        })
    }
}

/// What a typed read found, as the engine's `Read`.
pub fn read_of<S: Spec>(found: Option<Found<S>>) -> Result<Read> {
    Ok(match found {
        Some(f) => Read::Found(f.observed()?),
        None => Read::Missing,
    })
}

/// The engine's `Read` as a typed one (a read served from the plan's list).
pub fn found_of<S: Spec>(r: Read) -> Result<Option<Found<S>>> {
    match r {
        Read::Found(o) => Found::from_observed(&o).map(Some),
        Read::Missing => Ok(None),
    }
}

/// A spec as the engine's settings map.
pub fn to_props<S: Serialize>(spec: &S) -> Result<Props> {
    match serde_json::to_value(spec) {
        Ok(v @ serde_json::Value::Object(_)) => Ok(props(v)),
        Ok(other) => Err(Error::Other(format!(
            "a kind's spec must serialize to a JSON object, not {other}"
        ))),
        Err(e) => Err(Error::Other(format!(
            "a kind's spec does not serialize: {e}"
        ))),
    }
}

/// The engine's settings map as spec `S` (the error names the type and
/// what serde found wrong, never the settings: a secret may be one).
pub fn from_props<S: DeserializeOwned>(p: &Props) -> Result<S> {
    let v = serde_json::Value::Object(p.clone().into_iter().collect());
    serde_json::from_value(v).map_err(|e| {
        Error::Other(format!(
            "settings do not read as {}: {e}",
            std::any::type_name::<S>()
        ))
    })
}

/// Tags as a spec's field, without the `aws:` ones AWS adds.
pub fn tag_map<I: IntoIterator<Item = (K, V)>, K: Into<String>, V: Into<String>>(
    it: I,
) -> BTreeMap<String, String> {
    it.into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .filter(|(k, _)| !k.starts_with("aws:"))
        .collect()
}

/// The keys of `old` that `new` lacks: the tags to remove.
pub fn removed_keys(old: &BTreeMap<String, String>, new: &BTreeMap<String, String>) -> Vec<String> {
    old.keys()
        .filter(|k| !new.contains_key(*k))
        .cloned()
        .collect()
}

/// What serializing a value says of its type: its outermost wrappers and,
/// for a struct, each field's.
#[derive(Debug, Default)]
struct Probed {
    fixed: bool,
    secret: bool,
    fields: Vec<(&'static str, Probed)>,
}

/// A serde serializer that records newtype names instead of writing.
struct Probe;

#[derive(Debug)]
struct Unprobed;

impl std::fmt::Display for Unprobed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not a plain setting")
    }
}

impl std::error::Error for Unprobed {}

impl serde::ser::Error for Unprobed {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Unprobed
    }
}

type Plain = serde::ser::Impossible<Probed, Unprobed>;

macro_rules! plain {
    ($($f:ident($t:ty)),* $(,)?) => {
        $(fn $f(self, _: $t) -> std::result::Result<Probed, Unprobed> {
            Ok(Probed::default())
        })*
    };
}

impl serde::Serializer for Probe {
    type Ok = Probed;
    type Error = Unprobed;
    type SerializeSeq = Plain;
    type SerializeTuple = Plain;
    type SerializeTupleStruct = Plain;
    type SerializeTupleVariant = Plain;
    type SerializeMap = Plain;
    type SerializeStruct = Fields;
    type SerializeStructVariant = Plain;

    plain!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_unit_struct(&'static str),
    );
    fn serialize_none(self) -> std::result::Result<Probed, Unprobed> {
        Ok(Probed::default())
    }
    fn serialize_unit(self) -> std::result::Result<Probed, Unprobed> {
        Ok(Probed::default())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> std::result::Result<Probed, Unprobed> {
        v.serialize(Probe)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> std::result::Result<Probed, Unprobed> {
        Ok(Probed::default())
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        v: &T,
    ) -> std::result::Result<Probed, Unprobed> {
        let inner = v.serialize(Probe).unwrap_or_default();
        Ok(Probed {
            fixed: inner.fixed || name == FIXED,
            secret: inner.secret || name == SECRET,
            fields: inner.fields,
        })
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> std::result::Result<Probed, Unprobed> {
        Ok(Probed::default())
    }
    fn serialize_seq(self, _: Option<usize>) -> std::result::Result<Plain, Unprobed> {
        Err(Unprobed)
    }
    fn serialize_tuple(self, _: usize) -> std::result::Result<Plain, Unprobed> {
        Err(Unprobed)
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> std::result::Result<Plain, Unprobed> {
        Err(Unprobed)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> std::result::Result<Plain, Unprobed> {
        Err(Unprobed)
    }
    fn serialize_map(self, _: Option<usize>) -> std::result::Result<Plain, Unprobed> {
        Err(Unprobed)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> std::result::Result<Fields, Unprobed> {
        Ok(Fields(vec![]))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> std::result::Result<Plain, Unprobed> {
        Err(Unprobed)
    }
}

/// A struct's fields as probed.
struct Fields(Vec<(&'static str, Probed)>);

impl serde::ser::SerializeStruct for Fields {
    type Ok = Probed;
    type Error = Unprobed;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> std::result::Result<(), Unprobed> {
        // A field whose value is a list or a map is plain.
        self.0.push((key, v.serialize(Probe).unwrap_or_default()));
        Ok(())
    }
    fn end(self) -> std::result::Result<Probed, Unprobed> {
        Ok(Probed {
            fields: self.0,
            ..Probed::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
    #[serde(default)]
    struct S {
        name: Fixed<String>,
        zone: Fixed<Option<String>>,
        password: Secret<String>,
        key: Fixed<Secret<String>>,
        maybe: Option<Secret<String>>,
        list: Fixed<Vec<String>>,
        tags: BTreeMap<String, String>,
        plain: i32,
    }

    /// The wrappers say what a field is, and write the value they hold.
    #[test]
    fn marks_come_from_the_fields_types_and_the_map_is_the_plain_values() {
        let m = marks::<S>();
        assert_eq!(m.fixed, ["name", "zone", "key", "list"]);
        // `maybe` is `None` in the default: an `Option` outside says nothing.
        assert_eq!(m.secret, ["password", "key"]);
        let s = S {
            name: "n".into(),
            password: Secret::new("p".into()),
            list: Fixed(vec!["a".into()]),
            plain: 3,
            ..S::default()
        };
        let p = to_props(&s).unwrap();
        assert_eq!(p["name"], "n");
        assert_eq!(p["zone"], serde_json::Value::Null);
        assert_eq!(p["password"], "p");
        assert_eq!(p["list"], serde_json::json!(["a"]));
        assert_eq!(p["plain"], 3);
        assert_eq!(from_props::<S>(&p).unwrap(), s);
        // A setting a newer deployer adds reads as its default from an older map.
        let mut older = p.clone();
        older.remove("plain");
        assert_eq!(from_props::<S>(&older).unwrap().plain, 0);
        assert!(!format!("{s:?}").contains("\"p\""), "{s:?}");
    }

    /// A map that is not of the spec says which settings and which type.
    #[test]
    fn a_map_of_another_shape_is_refused_with_its_settings() {
        let p = props(serde_json::json!({"plain": "three"}));
        let e = from_props::<S>(&p).unwrap_err().to_string();
        assert!(e.contains("three") && e.contains("S"), "{e}");
    }
}
