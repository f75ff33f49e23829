//! The AWS module's tests (`#[cfg(test)] mod tests` in mod.rs).

use super::*;

#[test]
fn creates_are_never_retried_blindly() {
    for op in [
        "CreateUserPool",
        "CreateApi",
        "CreateUserPoolClient",
        "AdminCreateUser",
        "AddPermission",
        "CreateLogGroup",
    ] {
        assert!(is_create(op), "{op}");
    }
    for op in [
        "UpdateUserPoolClient",
        "DeleteApi",
        "TagResource",
        "AttachRolePolicy",
        "AdminSetUserPassword",
        "PutRetentionPolicy",
    ] {
        assert!(!is_create(op), "{op}");
    }
}

#[test]
fn mutating_classification() {
    for op in [
        "CreateFunction",
        "AdminSetUserPassword",
        "TagResource",
        "AddPermission",
    ] {
        assert!(is_mutating(op), "{op}");
    }
    for op in [
        "GetFunction",
        "ListUserPools",
        "DescribeUserPool",
        "AdminGetUser",
        "AdminListGroupsForUser",
        "GetCallerIdentity",
    ] {
        assert!(!is_mutating(op), "{op}");
    }
}

#[tokio::test]
async fn backoff_retries_then_succeeds_and_gives_up() {
    let mut n = 0;
    let r: std::result::Result<u32, &str> = with_backoff(
        "t",
        Duration::from_secs(10),
        |e: &&str| *e == "again",
        || {
            n += 1;
            let v = n;
            async move {
                if v < 3 {
                    Err("again")
                } else {
                    Ok(v)
                }
            }
        },
    )
    .await;
    assert_eq!(r, Ok(3));
    let r: std::result::Result<u32, &str> = with_backoff(
        "t",
        Duration::from_millis(100),
        |_| true,
        || async { Err("x") },
    )
    .await;
    assert_eq!(r, Err("x"));
}

/// A passing state of AWS that ends after 1, 4, 6 or 15 s (IAM
/// propagation, a function Pending) is waited out within 1.25 s of its
/// end (a try at most every second, jittered, for the first 20 s),
/// with a try every 0.75 s at most. Tokio's clock is paused: the sleeps
/// take no time.
#[tokio::test(start_paused = true)]
async fn a_wait_ends_close_to_when_aws_is_ready() {
    for ready_s in [1u64, 4, 6, 15] {
        let t0 = tokio::time::Instant::now();
        let ready = Duration::from_secs(ready_s);
        let mut calls = 0u64;
        let r: std::result::Result<(), &str> = with_backoff(
            "t",
            Duration::from_secs(120),
            |_| true,
            || {
                calls += 1;
                let done = t0.elapsed() >= ready;
                async move {
                    if done {
                        Ok(())
                    } else {
                        Err("not yet")
                    }
                }
            },
        )
        .await;
        assert_eq!(r, Ok(()));
        let late = t0.elapsed() - ready;
        assert!(
            late <= Duration::from_millis(1250),
            "ready after {ready_s} s, waited {late:?} longer"
        );
        // At most a try every 0.75 s after the first three (the
        // jitter's least): a bound that holds for every draw of it (the
        // bound of one a second failed twice in a day on unlucky draws).
        assert!(
            calls <= ready_s * 4 / 3 + 4,
            "ready after {ready_s} s: {calls} calls"
        );
    }
}
