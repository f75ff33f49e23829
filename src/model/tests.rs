//! The model's tests (`#[cfg(test)] mod tests` in mod.rs).

use super::*;
use crate::resources::api::{Api, Stage};
use crate::resources::lambda::{Function, Role};

fn ctx() -> Ctx {
    Ctx::for_tests()
}

#[test]
fn outputs_map_zip_and_carry_deps_and_secrecy() {
    let a = Output::of("a", "id");
    let b = Output::of("b", "secret").secret();
    let both = a.zip(&b).map(|(x, y)| format!("{x}:{y}"));
    assert_eq!(both.deps(), ["a", "b"]);
    assert!(both.is_secret());
    let mut k = Known::default();
    assert_eq!(both.resolve(&ctx(), &k), None);
    let c = ctx();
    let x: Output<String> = "x".into();
    let mut i = Inputs::new(&c, &k);
    assert_eq!(i.get("both", &both), "");
    assert_eq!(
        i.list("list", &[x.clone(), both.clone()]),
        Vec::<String>::new()
    );
    assert_eq!(i.list("plain", &[x]), ["x"]);
    let d = i.finish(serde_json::json!({"both": "", "list": [], "plain": ["x"]}));
    assert_eq!(d.unknown, ["both".to_string(), "list".to_string()].into());
    k.outputs
        .insert("a".into(), [("id".to_string(), "1".to_string())].into());
    assert_eq!(both.resolve(&ctx(), &k), None, "known only when both are");
    k.outputs
        .insert("b".into(), [("secret".to_string(), "s".to_string())].into());
    assert_eq!(both.resolve(&ctx(), &k).as_deref(), Some("1:s"));
    let plain: Input<String> = "x".into();
    assert!(plain.deps().is_empty() && !plain.is_secret());
    assert_eq!(all(&[a, plain]).deps(), ["a"]);
}

/// `interpolate!`: known when every argument is, in order, with their
/// resources and secrecy.
#[test]
fn interpolate_formats_outputs() {
    let a = Output::of("api", "endpoint");
    let b = Output::of("client", "secret").secret();
    let url = crate::interpolate!("{}/cb?c={}&v={}", a, b, "2");
    assert_eq!(url.deps(), ["api", "client"]);
    assert!(url.is_secret());
    let mut k = Known::default();
    assert_eq!(url.resolve(&ctx(), &k), None);
    k.outputs.insert(
        "api".into(),
        [("endpoint".to_string(), "https://x".to_string())].into(),
    );
    k.outputs.insert(
        "client".into(),
        [("secret".to_string(), "s".to_string())].into(),
    );
    assert_eq!(
        url.resolve(&ctx(), &k).as_deref(),
        Some("https://x/cb?c=s&v=2")
    );
    let plain = crate::interpolate!("plain");
    assert_eq!(plain.resolve(&ctx(), &k).as_deref(), Some("plain"));
}

#[test]
fn a_cycle_is_refused_naming_it() {
    let mut s = Stack::new();
    let f = Handle::<Function>::new("f");
    let role = s.add(
        "role",
        Role {
            managed_policies: vec![],
            ..Role::for_lambda("r")
        },
    );
    let _ = role;
    // f reads the stage's ID, the stage reads f's ARN as its API.
    let mut func = Function::new("f", Handle::<Stage>::new("stage").id());
    func.environment.insert("X".into(), f.arn());
    s.add("f", func);
    s.add("stage", Stage::new(f.arn()));
    let err = s.resources().err().unwrap().to_string();
    assert!(
        err.contains("circle") && err.contains("f -> stage -> f"),
        "{err}"
    );
}

#[test]
fn undeclared_references_and_duplicate_keys_are_refused() {
    let mut s = Stack::new();
    s.add("stage", Stage::new(Handle::<Api>::new("api").id()));
    let err = s.resources().err().unwrap().to_string();
    assert!(err.contains("`stage` reads an output of `api`"), "{err}");

    let mut s = Stack::new();
    s.add("api", Api::new("a"));
    s.add("api", Api::new("b"));
    let err = s.resources().err().unwrap().to_string();
    assert!(err.contains("declares `api` twice"), "{err}");
}
