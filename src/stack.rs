//! The program: the resources this stack declares and who depends on whom.

use crate::config::Config;
use crate::resources::api::{
    Api, Authorizer, Integration, Route, Stage, DEFAULT_ROUTE, PROTECTED_ROUTE,
};
use crate::resources::cognito::{
    Client, Domain, ResourceServer, UserPool, UserRes, CLIENT_CC, CLIENT_CODE,
};
use crate::resources::lambda::{Function, Permission, Role};
use crate::resources::logs::LogGroup;
use crate::resources::Resource;
use std::sync::Arc;

pub type Res = Arc<dyn Resource>;

/// Every resource the configuration declares.
pub fn declared(cfg: &Config) -> Vec<Res> {
    let mut v: Vec<Res> = vec![
        Arc::new(Role),
        Arc::new(LogGroup {
            retention_days: Some(cfg.log_retention_days),
        }),
        Arc::new(UserPool),
        Arc::new(Domain),
        Arc::new(ResourceServer),
    ];
    for u in &cfg.users {
        v.push(Arc::new(UserRes {
            name: u.name.clone(),
            user: Some(u.clone()),
        }));
    }
    v.push(Arc::new(Client { name: CLIENT_CC }));
    v.push(Arc::new(Api));
    v.push(Arc::new(Client { name: CLIENT_CODE }));
    v.push(Arc::new(Function));
    v.push(Arc::new(Permission));
    v.push(Arc::new(Authorizer));
    v.push(Arc::new(Integration));
    v.push(Arc::new(Route {
        route_key: PROTECTED_ROUTE.into(),
    }));
    v.push(Arc::new(Route {
        route_key: DEFAULT_ROUTE.into(),
    }));
    v.push(Arc::new(Stage));
    v
}

/// The resource behind a state key, for entries no longer declared.
pub fn for_key(key: &str) -> Option<Res> {
    Some(match key {
        "role" => Arc::new(Role),
        "log_group" => Arc::new(LogGroup {
            retention_days: None,
        }),
        "user_pool" => Arc::new(UserPool),
        "domain" => Arc::new(Domain),
        "resource_server" => Arc::new(ResourceServer),
        "client/example" => Arc::new(Client { name: CLIENT_CC }),
        "client/example-authorization-code" => Arc::new(Client { name: CLIENT_CODE }),
        "api" => Arc::new(Api),
        "function" => Arc::new(Function),
        "permission" => Arc::new(Permission),
        "authorizer" => Arc::new(Authorizer),
        "integration" => Arc::new(Integration),
        "stage" => Arc::new(Stage),
        k => {
            if let Some(name) = k.strip_prefix("user/") {
                Arc::new(UserRes {
                    name: name.to_string(),
                    user: None,
                })
            } else if let Some(rk) = k.strip_prefix("route/") {
                Arc::new(Route {
                    route_key: rk.to_string(),
                })
            } else {
                return None;
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_deps_exist() {
        let d = declared(&Config::default());
        let keys: Vec<String> = d.iter().map(|r| r.key()).collect();
        for r in &d {
            assert_eq!(for_key(&r.key()).unwrap().key(), r.key());
            for dep in r.deps() {
                assert!(
                    keys.contains(&dep),
                    "{} depends on undeclared {dep}",
                    r.key()
                );
            }
        }
        assert_eq!(keys.len(), 16);
    }

    /// A resource may read only the outputs of what it depends on: its
    /// declared settings, computed from its deps' outputs alone, hold no
    /// unknown value. (A missing dep lets a step start before the value it
    /// reads exists, and "(known after apply)" would reach AWS.)
    #[test]
    fn desired_settings_read_only_declared_deps() {
        use crate::resources::{Ctx, Known, Package, Urls, UNKNOWN};
        let ctx = Ctx {
            stack: "t".into(),
            prefix: "p".into(),
            region: "eu-west-1".into(),
            account: "123456789012".into(),
            partition: "aws".into(),
            tags: Default::default(),
            architecture: Default::default(),
            users: Config::default().users,
            package: Some(Arc::new(Package {
                zip: vec![],
                sha256_b64: "sha".into(),
            })),
            urls: Urls::Aws,
        };
        for r in declared(&Config::default()) {
            let mut known = Known::default();
            for d in r.deps() {
                let outs = ["id", "arn", "endpoint", "secret", "domain"]
                    .iter()
                    .map(|k| (k.to_string(), format!("{d}-{k}")))
                    .collect();
                known.outputs.insert(d, outs);
            }
            let desired = serde_json::to_string(&r.desired(&ctx, &known)).unwrap();
            assert!(
                !desired.contains(UNKNOWN),
                "{} reads a value outside its deps: {desired}",
                r.key()
            );
        }
    }
}

#[cfg(test)]
mod partition_tests {
    use super::*;
    use crate::resources::{Ctx, Known, Urls};

    fn ctx(partition: &str, region: &str) -> Ctx {
        Ctx {
            stack: "t".into(),
            prefix: "p".into(),
            region: region.into(),
            account: "123456789012".into(),
            partition: partition.into(),
            tags: Default::default(),
            architecture: Default::default(),
            users: Config::default().users,
            package: None,
            urls: Urls::Aws,
        }
    }

    /// ARNs, the managed policy and host names follow the account's partition.
    #[test]
    fn arns_and_hosts_follow_the_partition() {
        let mut known = Known::default();
        known
            .outputs
            .insert("api".into(), [("id".to_string(), "abc".to_string())].into());
        known.outputs.insert(
            "user_pool".into(),
            [("id".to_string(), "pool1".to_string())].into(),
        );
        let table = [
            ("aws", "eu-west-1", "amazonaws.com", "amazoncognito.com"),
            (
                "aws-cn",
                "cn-north-1",
                "amazonaws.com.cn",
                "amazoncognito.com.cn",
            ),
            (
                "aws-us-gov",
                "us-gov-west-1",
                "amazonaws.com",
                "amazoncognito.com",
            ),
        ];
        for (partition, region, dns, auth) in table {
            let c = ctx(partition, region);
            let role = crate::resources::lambda::Role.desired(&c, &known);
            assert_eq!(
                role["policies"][0],
                format!("arn:{partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
            );
            let perm = crate::resources::lambda::Permission.desired(&c, &known);
            assert_eq!(
                perm["source_arn"],
                format!("arn:{partition}:execute-api:{region}:123456789012:abc/*/*")
            );
            assert_eq!(
                c.issuer("pool1"),
                format!("https://cognito-idp.{region}.{dns}/pool1")
            );
            assert_eq!(
                c.hosted_domain("d"),
                format!("https://d.auth.{region}.{auth}")
            );
        }
    }
}
