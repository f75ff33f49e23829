use super::*;
use serde_json::json;

#[test]
fn diff_lists_changed_declared_keys_only() {
    let d = props(json!({"a": 1, "b": ["x"], "c": "same"}));
    let o = props(json!({"a": 2, "c": "same", "extra": true}));
    assert_eq!(diff(&d, &o), vec!["a".to_string(), "b".to_string()]);
    assert!(diff(&d, &d).is_empty());
}

#[test]
fn an_unknown_setting_is_changed_and_never_sent() {
    let d = Desired::new(
        json!({"name": "f", "role": "", "environment": {"A": "1", "C": ""}}),
        ["role".to_string(), "environment.C".to_string()].into(),
    );
    let o = props(json!({"name": "f", "role": "", "environment": {"A": "1", "C": ""}}));
    // Equal placeholders are no match: unknown is changed.
    assert_eq!(
        d.diff(&o),
        vec!["environment".to_string(), "role".to_string()]
    );
    assert!(d.is_unknown("environment") && !d.is_unknown("env") && !d.is_unknown("name"));
    assert_eq!(
        d.clone().known(),
        Err(vec!["environment.C".to_string(), "role".to_string()])
    );
    let known = Desired::from(o.clone());
    assert!(known.diff(&o).is_empty());
    assert_eq!(known.known(), Ok(o));
}
