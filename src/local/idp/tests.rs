use super::*;
use crate::local::tokens::uuid;
use aws_sdk_cognitoidentityprovider::types::TokenValidityUnitsType;

/// Token lifetimes are the client's, in its units; Cognito's defaults
/// (and default units) where it sets none, as moto reports a client
/// made without them (`RefreshTokenValidity` 30, nothing else).
#[test]
fn token_lifetimes_follow_the_client() {
    let moto_default = UserPoolClientType::builder()
        .refresh_token_validity(30)
        .build();
    assert_eq!(
        Lifetimes::of(&moto_default),
        Lifetimes {
            access: 3600,
            id: 3600,
            refresh: 30 * 86400
        }
    );
    assert_eq!(
        Lifetimes::of(&UserPoolClientType::builder().build()),
        Lifetimes::of(&moto_default),
        "nothing set: Cognito's defaults"
    );
    let units = TokenValidityUnitsType::builder()
        .access_token(TimeUnitsType::Minutes)
        .id_token(TimeUnitsType::Seconds)
        .refresh_token(TimeUnitsType::Hours)
        .build();
    let set = UserPoolClientType::builder()
        .access_token_validity(5)
        .id_token_validity(600)
        .refresh_token_validity(2)
        .token_validity_units(units)
        .build();
    assert_eq!(
        Lifetimes::of(&set),
        Lifetimes {
            access: 300,
            id: 600,
            refresh: 7200
        }
    );
    // Values without units: hours, and days for the refresh token.
    let bare = UserPoolClientType::builder()
        .access_token_validity(2)
        .id_token_validity(3)
        .refresh_token_validity(7)
        .build();
    assert_eq!(
        Lifetimes::of(&bare),
        Lifetimes {
            access: 7200,
            id: 10800,
            refresh: 7 * 86400
        }
    );
}

fn grant(expires: i64) -> Grant {
    Grant {
        pool_id: "pool".into(),
        client_id: "client".into(),
        redirect_uri: "http://127.0.0.1/cb".into(),
        scope: "openid".into(),
        nonce: None,
        code_challenge: None,
        username: "alice".into(),
        auth_time: now(),
        expires,
        origin_jti: uuid(),
    }
}

/// Codes and refresh tokens past their lifetime are forgotten when the
/// next one is kept; those still good stay.
#[test]
fn expired_grants_are_pruned() {
    let map = Mutex::new(HashMap::new());
    let t = now();
    map.lock().unwrap().extend([
        ("old".to_string(), grant(t - 1)),
        ("live".to_string(), grant(t + 60)),
    ]);
    keep(&map, "new".into(), grant(t + 300), |g| g.expires);
    let mut left: Vec<String> = map.lock().unwrap().keys().cloned().collect();
    left.sort();
    assert_eq!(left, ["live", "new"]);
    prune(&mut map.lock().unwrap(), t + 61, |g| g.expires);
    let left: Vec<String> = map.lock().unwrap().keys().cloned().collect();
    assert_eq!(left, ["new"]);
}

/// A refresh token is good for its client only, until its expiry (the
/// client's refresh token lifetime from the sign-in); then it is
/// refused and forgotten.
#[test]
fn a_refresh_token_ends_with_its_lifetime() {
    let map = Mutex::new(HashMap::new());
    let t = now();
    map.lock()
        .unwrap()
        .insert("rt".to_string(), grant(t + 3600));
    assert!(refresh_grant(&map, "rt", "client", t).is_some());
    assert!(refresh_grant(&map, "rt", "client", t + 3600).is_some());
    assert!(refresh_grant(&map, "rt", "another-client", t).is_none());
    assert!(refresh_grant(&map, "unknown", "client", t).is_none());
    assert!(refresh_grant(&map, "rt", "client", t + 3601).is_none());
    assert!(
        map.lock().unwrap().is_empty(),
        "the expired token is forgotten"
    );
}

/// What a user types reaches the terminal escaped: no escape sequence,
/// no new line, no carriage return, no reordering of the text.
#[test]
fn typed_text_is_printed_escaped() {
    assert_eq!(printable("alice@example.com"), "alice@example.com");
    assert_eq!(printable("Zoë Doe"), "Zoë Doe");
    assert_eq!(
        printable("a\u{1b}[2J\u{1b}]0;owned\u{7}b"),
        "a\\u{1b}[2J\\u{1b}]0;owned\\u{7}b"
    );
    assert_eq!(
        printable("x@y.z\ndeployer dev: fake\r"),
        "x@y.z\\ndeployer dev: fake\\r"
    );
    assert_eq!(printable("\u{202e}moc.live"), "\\u{202e}moc.live");
    assert!(!printable("\u{9b}31m\u{0}").chars().any(char::is_control));
}
