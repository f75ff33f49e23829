//! The state's tests (`#[cfg(test)] mod tests` in mod.rs).

#[test]
fn a_state_too_big_to_be_one_is_refused_unread() {
    let d = tempfile::tempdir().unwrap();
    let st = Store::new(d.path(), "big");
    let f = std::fs::File::create(&st.path).unwrap();
    f.set_len(MAX_STATE_BYTES + 1).unwrap();
    let e = st.load_file("big").unwrap_err().to_string();
    assert!(e.contains("more than a state can be"), "{e}");
}
use super::*;

#[test]
fn save_load_backup_and_mode() {
    let d = tempfile::tempdir().unwrap();
    let s = Store::new(d.path(), "t");
    let mut st = State::new("t");
    s.save_file(&st).unwrap();
    st.resources.insert(
        "api".into(),
        Entry {
            id: Some("abc".into()),
            ..Default::default()
        },
    );
    s.save_file(&st).unwrap();
    assert_eq!(s.load_file("t").unwrap(), st);
    let bak: State = serde_json::from_slice(&std::fs::read(s.backup_path()).unwrap()).unwrap();
    assert!(bak.resources.is_empty());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let m = std::fs::metadata(&s.path).unwrap().permissions().mode();
        assert_eq!(m & 0o777, 0o600);
    }
}

#[test]
fn corrupt_and_newer() {
    let e = parse("{\"version\":1,\n\"stack\":", "s.json", "s.json.bak").unwrap_err();
    let m = e.to_string();
    assert!(m.contains("s.json.bak") && m.contains("line 2"), "{m}");
    let e = parse("{\"version\":9,\"stack\":\"x\"}", "s.json", "b").unwrap_err();
    assert!(matches!(e, Error::NewerState { found: 9, .. }));
}

/// A state write that fails (here: the state's directory cannot be
/// made, on every try) stops every later change: `check` says so, an
/// `update` is refused without changing the state, a background change
/// is kept for the final flush, which fails with the first error.
#[tokio::test]
async fn a_failed_write_stops_the_changes_after_it() {
    let d = tempfile::tempdir().unwrap();
    // A file where the state's directory should be.
    let blocker = d.path().join("state");
    std::fs::write(&blocker, b"not a directory").unwrap();
    let store = std::sync::Arc::new(Store::new(&blocker, "t"));
    let state = std::sync::Arc::new(Mutex::new(State::new("t")));
    store.check().unwrap();
    store.update_later(&state, |st| st.name_prefix = Some("first".into()));
    let t = std::time::Instant::now();
    while store.check().is_ok() {
        assert!(
            t.elapsed().as_secs() < 10,
            "the failed write was not noticed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let e = store.check().unwrap_err().to_string();
    assert!(
        e.contains("could not be written") && e.contains("started no change after that"),
        "{e}"
    );
    let e2 = store
        .update(&state, |st| st.name_prefix = Some("refused".into()))
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(e2, e);
    assert_eq!(
        state.lock().unwrap().name_prefix.as_deref(),
        Some("first"),
        "a refused update changed the state"
    );
    store.update_later(&state, |st| st.region = Some("kept".into()));
    assert_eq!(state.lock().unwrap().region.as_deref(), Some("kept"));
    assert_eq!(store.flush(&state).await.unwrap_err().to_string(), e);
    store.writes.idle().await;
}

/// The fingerprint key is written beside the state (mode 0600), never
/// in it, and read back by the next load.
#[tokio::test]
async fn the_fingerprint_key_is_kept_beside_the_state() {
    let d = tempfile::tempdir().unwrap();
    let s = Store::new(d.path(), "t");
    s.load("t").await.unwrap();
    let k = s.fingerprint_key();
    s.save(&State::new("t")).await.unwrap();
    let text = std::fs::read_to_string(&s.path).unwrap();
    assert!(!text.contains(&k.to_hex()));
    let kp = d.path().join("t.key");
    assert_eq!(std::fs::read_to_string(&kp).unwrap(), k.to_hex());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let m = std::fs::metadata(&kp).unwrap().permissions().mode();
        assert_eq!(m & 0o777, 0o600);
    }
    let again = Store::new(d.path(), "t");
    again.load("t").await.unwrap();
    assert_eq!(again.fingerprint_key(), k);
}

#[test]
fn second_lock_names_holder() {
    let d = tempfile::tempdir().unwrap();
    let mut a = Store::new(d.path(), "t");
    a.lock("t").unwrap();
    let mut b = Store::new(d.path(), "t");
    let e = b.lock("t").unwrap_err().to_string();
    assert!(e.contains(&format!("pid {}", std::process::id())), "{e}");
    drop(a);
    b.lock("t").unwrap();
}
