use super::*;
use crate::config::Config;
use crate::state::State;

/// A state entry the program no longer declares is deleted through the
/// provider of its kind; a kind no provider is known for stops the run
/// naming the kind, the key and what to do.
#[test]
fn orphans_get_their_kinds_provider_or_a_clear_error() {
    let app = crate::App::new(|_, _| Ok(()));
    let cfg = Config::default();
    let mut st = State::new("t");
    let entry = |kind: &str, parent: Option<&str>| crate::state::Entry {
        id: Some("x1".into()),
        kind: Some(kind.into()),
        parent: parent.map(String::from),
        ..Default::default()
    };
    st.resources
        .insert("api".into(), entry("aws:apigatewayv2:Api", None));
    st.resources.insert(
        "route/hi".into(),
        entry("aws:apigatewayv2:Route", Some("api")),
    );
    let nodes = nodes_for(&app, &cfg, &mut st.clone(), true).unwrap().nodes;
    let route = nodes.iter().find(|n| n.res.key() == "route/hi").unwrap();
    assert!(!route.declared);
    assert_eq!(route.res.kind_name(), "aws:apigatewayv2:Route");
    assert_eq!(route.res.parent().as_deref(), Some("api"));

    st.resources
        .insert("data".into(), entry("acme:s3:Bucket", None));
    let e = nodes_for(&app, &cfg, &mut st, true)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("\"data\"") && e.contains("acme:s3:Bucket") && e.contains("App::provider"),
        "{e}"
    );
}
