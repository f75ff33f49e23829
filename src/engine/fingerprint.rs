//! Fingerprints of applied settings (keyed, and the unkeyed ones of older
//! states), which tell a program change from drift.

use crate::kind::Props;
use std::collections::BTreeMap;

/// A fingerprint of a setting's value as applied: what the state keeps
/// (`Entry::applied`) to tell a program change from drift, without holding
/// the value (it may be secret: a function's environment with an API key).
///
/// HMAC-SHA256 under the stack's random key (`FingerprintKey`, 256 bits,
/// kept beside the state and never in it), cut to 128 bits and marked
/// `k1:`. Why a key and not a slow salted hash (argon2 with a salt in the
/// state): whoever reads the state alone (a copy, `state show --json`, a
/// CI artifact, a pasted bug report) cannot test a single guess of a
/// value, whereas a salt in the state only slows each guess down, and a
/// human-chosen key is guessed all the same; and a keyed hash costs
/// microseconds, where argon2 at a safe cost would add seconds to every
/// plan (every setting of every resource is fingerprinted).
pub fn fingerprint(key: &crate::state::FingerprintKey, v: &serde_json::Value) -> String {
    use hmac::Mac;
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(&key.0).expect("HMAC takes a key of any size");
    mac.update(canonical_json(v).as_bytes());
    let h = mac.finalize().into_bytes();
    let hex: String = h.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("{KEYED}{hex}")
}

/// The mark of a keyed fingerprint (`fingerprint`).
const KEYED: &str = "k1:";

/// A value as one canonical JSON text: a map's keys in order, whatever
/// order AWS listed them in.
fn canonical_json(v: &serde_json::Value) -> String {
    fn canonical(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => {
                let sorted: BTreeMap<&String, serde_json::Value> =
                    m.iter().map(|(k, v)| (k, canonical(v))).collect();
                serde_json::json!(sorted)
            }
            serde_json::Value::Array(a) => {
                serde_json::Value::Array(a.iter().map(canonical).collect())
            }
            other => other.clone(),
        }
    }
    serde_json::to_string(&canonical(v)).unwrap_or_default()
}

/// The unkeyed fingerprint of states written before `fingerprint` was
/// keyed (8 bytes of SHA-256, 16 hex digits): only compared, once, and
/// replaced by a keyed one by the run that reads it (`rekeyed`).
pub(super) fn legacy_fingerprint(v: &serde_json::Value) -> String {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(canonical_json(v).as_bytes());
    h.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// True when `fp`, as the state holds it (keyed, or of an older state),
/// is the fingerprint of `v`.
pub fn fingerprint_matches(
    key: &crate::state::FingerprintKey,
    v: &serde_json::Value,
    fp: &str,
) -> bool {
    if fp.starts_with(KEYED) {
        fingerprint(key, v) == fp
    } else {
        legacy_fingerprint(v) == fp
    }
}

/// The fingerprints of every setting of `p`.
pub fn fingerprints(key: &crate::state::FingerprintKey, p: &Props) -> BTreeMap<String, String> {
    p.iter()
        .map(|(k, v)| (k.clone(), fingerprint(key, v)))
        .collect()
}

/// The fingerprints of an unchanged resource with the old (unkeyed) ones
/// replaced by keyed ones of what it holds now (what the program declares:
/// nothing differs), or None when it has no old one.
pub fn rekeyed(
    key: &crate::state::FingerprintKey,
    applied: &BTreeMap<String, String>,
    observed: &Props,
) -> Option<BTreeMap<String, String>> {
    if applied.values().all(|fp| fp.starts_with(KEYED)) {
        return None;
    }
    Some(
        applied
            .iter()
            .map(|(k, fp)| {
                if fp.starts_with(KEYED) {
                    (k.clone(), fp.clone())
                } else {
                    let v = observed.get(k).unwrap_or(&serde_json::Value::Null);
                    (k.clone(), fingerprint(key, v))
                }
            })
            .collect(),
    )
}
