use super::*;
use crate::config::Config;

#[test]
fn stack_names_are_safe_file_and_key_names() {
    for ok in ["default", "prod", "dev-2", "team_a", "A1"] {
        assert_eq!(stack_name(ok).as_deref(), Ok(ok));
    }
    for bad in [
        "",
        "../x",
        "a/b",
        "..",
        ".hidden",
        "a b",
        "-x",
        "_x",
        "a.b",
        "x\\y",
        &"a".repeat(65),
    ] {
        assert!(stack_name(bad).is_err(), "{bad:?} was accepted");
    }
}

#[test]
fn the_demo_password_is_refused_on_aws_only() {
    let demo = Config::default();
    let e = check_demo_password(&demo, None, false)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("user alice") && e.contains("--allow-demo-password"),
        "{e}"
    );
    assert!(!e.contains(crate::config::DEMO_PASSWORD), "{e}");
    assert!(check_demo_password(
        &demo,
        Some("https://cognito-idp.eu-west-1.amazonaws.com"),
        false
    )
    .is_err());
    // Opted in, an emulator, or a password of the user's own.
    assert!(check_demo_password(&demo, None, true).is_ok());
    assert!(check_demo_password(&demo, Some("http://127.0.0.1:5000"), false).is_ok());
    let mut own = Config::default();
    own.users[0].password = "an-own-Passw0rd!".into();
    assert!(check_demo_password(&own, None, false).is_ok());
}
