use super::*;
use crate::kind::{Facts, Preflight};

fn refusals(pool: &UserPool, observed_tier: Option<&str>) -> Vec<String> {
    let declared = BTreeMap::new();
    let mut reads = BTreeMap::new();
    if let Some(t) = observed_tier {
        reads.insert(
            "pool".to_string(),
            Read::Found(Observed {
                id: "eu-west-1_x".into(),
                props: props(json!({ "tier": t })),
                outputs: BTreeMap::new(),
            }),
        );
    }
    let facts = Facts::default();
    let p = Preflight {
        declared: &declared,
        reads: &reads,
        facts: &facts,
    };
    pool.preflight("pool", &p)
}

#[test]
fn a_v2_token_trigger_needs_essentials_or_plus() {
    let with = |version, tier| UserPool {
        triggers: Some(Triggers {
            pre_token_generation: Some("arn:aws:lambda:eu-west-1:1:function:t".into()),
            pre_token_generation_version: version,
            ..Default::default()
        }),
        tier,
        ..UserPool::new("accounts")
    };
    use pool::PreTokenVersion::{V1, V2, V3};
    let e = refusals(&with(V2, Some(Tier::Lite)), None);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].contains("needs the Essentials or Plus tier"), "{e:?}");
    assert_eq!(refusals(&with(V3, Some(Tier::Lite)), None).len(), 1);
    assert!(refusals(&with(V2, Some(Tier::Essentials)), None).is_empty());
    assert!(refusals(&with(V3, Some(Tier::Plus)), None).is_empty());
    assert!(refusals(&with(V1, Some(Tier::Lite)), None).is_empty());
    // Undeclared: as AWS reports the pool (a new one is Essentials).
    assert!(refusals(&with(V2, None), None).is_empty());
    assert_eq!(refusals(&with(V2, None), Some("LITE")).len(), 1);
    assert!(refusals(&with(V2, None), Some("ESSENTIALS")).is_empty());
}
