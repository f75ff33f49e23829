//! Lambda and IAM: the execution role, the function, and API Gateway's
//! permission to invoke it.

use crate::error::Result;
use crate::kind::*;

/// "An update is in progress" (or the function is still being created):
/// Lambda's typed ResourceConflictException with the message
/// `aws::is_busy_error` knows, for each operation that can hit it. The SDK's
/// `BusyClassifier` retries these for about 25 s; this waits them out for
/// as long as a function update can take. Another conflict (a statement ID
/// that exists) is final at once.
macro_rules! update_in_progress {
    ($op:ident, $err:ident) => {
        |e: &aws_sdk_lambda::error::SdkError<aws_sdk_lambda::operation::$op::$err, _>| {
            matches!(
                e.as_service_error(),
                Some(aws_sdk_lambda::operation::$op::$err::ResourceConflictException(x))
                    if crate::aws::is_busy_error("ResourceConflictException", x.message().unwrap_or_default())
            )
        }
    };
}

mod function;
mod permission;
mod settings;

pub use crate::resources::iam::role::{
    managed_policy, Role, RoleProvider, BASIC_EXECUTION, XRAY_WRITE,
};
pub use function::{
    config_role_not_assumable, role_not_assumable, Function, FunctionProvider, Logging, Tracing,
    MEMORY_MB, TIMEOUT_SECONDS,
};
pub use permission::{Permission, PermissionProvider};

/// The unreserved concurrency Lambda keeps in every account: 100, or the
/// whole limit of an account whose limit is lower (a new account's is 10:
/// it can reserve none). A reservation that would leave less is refused
/// (PutFunctionConcurrency, "decreases account's
/// UnreservedConcurrentExecution below its minimum value of [10]";
/// https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html).
pub const UNRESERVED_MINIMUM: i64 = 100;

/// The unreserved minimum of an account whose concurrency limit is `limit`.
pub fn unreserved_minimum(limit: Option<i64>) -> i64 {
    limit.map_or(UNRESERVED_MINIMUM, |l| l.min(UNRESERVED_MINIMUM))
}

/// The account's facts the functions of `nodes` need before a plan: its
/// unreserved concurrency, read (GetAccountSettings) only when one of them
/// reserves some.
pub async fn account_facts(cx: &Cx, reserves: bool) -> Result<Facts> {
    if !reserves {
        return Ok(Facts::default());
    }
    let a = cx
        .aws
        .lambda
        .get_account_settings()
        .send()
        .await
        .map_err(ctx_err(
            "read Lambda's account settings (GetAccountSettings)",
        ))?;
    let limit = a.account_limit;
    Ok(Facts {
        lambda_unreserved: limit
            .as_ref()
            .and_then(|l| l.unreserved_concurrent_executions)
            .map(i64::from),
        lambda_limit: limit.map(|l| i64::from(l.concurrent_executions)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Handle;
    use serde_json::{json, Value};
    use std::collections::BTreeMap;

    /// The program as `preflight` sees it: a role with `policies` (managed
    /// policy ARNs), its inline policies' documents, and the functions.
    fn program(
        policies: &[&str],
        inline: &[Value],
        functions: &[(&str, Option<i64>)],
    ) -> BTreeMap<String, Planned> {
        let mut d = BTreeMap::new();
        let role = json!({"policies": policies.iter().map(|p| format!("arn:aws:iam::aws:policy/{p}")).collect::<Vec<_>>()});
        d.insert(
            "role".to_string(),
            Planned {
                kind: "aws:iam:Role",
                desired: props(role).into(),
                deps: vec![],
            },
        );
        for (n, doc) in inline.iter().enumerate() {
            d.insert(
                format!("policy/{n}"),
                Planned {
                    kind: "aws:iam:RolePolicy",
                    desired: props(json!({"policy": doc})).into(),
                    deps: vec!["role".into()],
                },
            );
        }
        for (key, reserved) in functions {
            d.insert(
                key.to_string(),
                Planned {
                    kind: "aws:lambda:Function",
                    desired: props(json!({"reserved_concurrency": reserved})).into(),
                    deps: vec!["role".into()],
                },
            );
        }
        d
    }

    fn traced() -> Function {
        let mut f = Function::new("f", Handle::<Role>::new("role").arn());
        f.tracing = Tracing::Active;
        f
    }

    /// Active tracing with a role of the program that may not send traces
    /// is refused before any call; the managed policy, or an inline one
    /// allowing xray:PutTraceSegments, lets it through.
    #[test]
    fn tracing_needs_a_role_that_may_send_traces() {
        let facts = Facts::default();
        let reads = BTreeMap::new();
        let check = |declared: &BTreeMap<String, Planned>| {
            let p = Preflight {
                declared,
                reads: &reads,
                facts: &facts,
            };
            traced().preflight("function/f", &p)
        };
        let basic = program(&["service-role/AWSLambdaBasicExecutionRole"], &[], &[]);
        let refused = check(&basic);
        assert_eq!(refused.len(), 1, "{refused:?}");
        assert!(
            refused[0].contains("PutTraceSegments") && refused[0].contains(XRAY_WRITE),
            "{}",
            refused[0]
        );
        let managed = program(&[BASIC_EXECUTION, XRAY_WRITE], &[], &[]);
        assert!(check(&managed).is_empty());
        let allow = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "Resource": "*"}]});
        assert!(check(&program(
            &[BASIC_EXECUTION],
            &[allow.to_string().into()],
            &[]
        ))
        .is_empty());
        let wild =
            json!({"Statement": [{"Effect": "Allow", "Action": "xray:Put*", "Resource": "*"}]});
        assert!(check(&program(&[BASIC_EXECUTION], &[wild], &[])).is_empty());
        let other =
            json!({"Statement": [{"Effect": "Allow", "Action": "xray:Get*", "Resource": "*"}]});
        assert_eq!(check(&program(&[BASIC_EXECUTION], &[other], &[])).len(), 1);
        // A policy of the account's own: its content is not known here.
        let mut own = program(&[BASIC_EXECUTION], &[], &[]);
        own.get_mut("role").unwrap().desired.props.insert(
            "policies".into(),
            json!(["arn:aws:iam::123456789012:policy/tracing"]),
        );
        assert!(check(&own).is_empty());
        let deny = json!({"Statement": {"Effect": "Deny", "Action": "xray:*", "Resource": "*"}});
        assert_eq!(check(&program(&[BASIC_EXECUTION], &[deny], &[])).len(), 1);
        // Untraced: nothing to check.
        let p = Preflight {
            declared: &basic,
            reads: &reads,
            facts: &facts,
        };
        let plain = Function::new("f", Handle::<Role>::new("role").arn());
        assert!(plain.preflight("function/f", &p).is_empty());
    }

    /// Reservations are refused when they would leave less than 100
    /// unreserved (the whole limit of an account below 100), counted once
    /// for the whole program, against what the functions already reserve.
    #[test]
    fn reservations_keep_the_unreserved_minimum() {
        let f = Function::new("f", Handle::<Role>::new("role").arn());
        let declared = program(
            &[],
            &[],
            &[("function/a", Some(5)), ("function/b", Some(3))],
        );
        let run = |unreserved: i64, reads: &BTreeMap<String, Read>| {
            let facts = Facts {
                lambda_unreserved: Some(unreserved),
                lambda_limit: Some(1000),
            };
            let p = Preflight {
                declared: &declared,
                reads,
                facts: &facts,
            };
            (f.preflight("function/a", &p), f.preflight("function/b", &p))
        };
        let none = BTreeMap::new();
        let (a, b) = run(100, &none);
        assert_eq!(a.len(), 1, "{a:?}");
        assert_eq!(unreserved_minimum(Some(10)), 10);
        assert_eq!(unreserved_minimum(Some(1000)), 100);
        assert!(
            a[0].contains("reserves 8 more") && a[0].contains("function/a +5, function/b +3"),
            "{}",
            a[0]
        );
        assert!(b.is_empty(), "said once: {b:?}");
        assert_eq!(run(108, &none), (vec![], vec![]));
        // Already reserving 5 of them: 3 more.
        let mut reads = BTreeMap::new();
        reads.insert(
            "function/a".to_string(),
            Read::Found(Observed {
                id: "a".into(),
                props: props(json!({"reserved_concurrency": 5})),
                outputs: BTreeMap::new(),
            }),
        );
        assert_eq!(run(103, &reads), (vec![], vec![]));
        let (_, b) = run(102, &reads);
        assert!(
            b[0].contains("reserves 3 more concurrent executions (function/b +3)"),
            "{b:?}"
        );
    }
}
