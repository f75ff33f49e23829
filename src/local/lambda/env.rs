//! The environment of a function's process: the local emulator as its
//! only AWS.

use super::FunctionConfig;
use std::collections::BTreeMap;

/// Dummy credentials, in place of the execution role's that Lambda gives a
/// function: the local emulator takes any, and no real ones are given.
pub const DUMMY_ACCESS_KEY_ID: &str = "ASIADEPLOYERDEVLOCAL";
pub const DUMMY_SECRET_ACCESS_KEY: &str = "deployer-dev-dummy-secret-access-key";
pub const DUMMY_SESSION_TOKEN: &str = "deployer-dev-dummy-session-token";

/// Variables of a function's configuration that would send its AWS calls
/// elsewhere than the local emulator, or sign them with other credentials
/// (a profile, a credentials file, a container or web identity provider,
/// the instance metadata service, another endpoint): a local function
/// never gets them. Names ending in `*` are prefixes.
const NOT_PASSED: [&str; 18] = [
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_SDK_LOAD_CONFIG",
    "AWS_CONTAINER_*",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_EC2_METADATA_*",
    "AWS_ENDPOINT_URL*",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_USE_DUALSTACK_ENDPOINT",
    // Older names of the credentials, which some SDKs still read.
    "AWS_ACCESS_KEY",
    "AWS_SECRET_KEY",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
];

fn not_passed(name: &str) -> bool {
    NOT_PASSED.iter().any(|n| match n.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == *n,
    })
}

/// The environment of a function's process: its configuration's variables
/// (less what `NOT_PASSED` names), then what Lambda sets (which the
/// configuration cannot override), with the local emulator as the only
/// AWS: `AWS_ENDPOINT_URL` (`aws_endpoint`), the region, dummy credentials,
/// no instance metadata. Nothing of the host's own environment.
pub(super) fn environment(
    cfg: &FunctionConfig,
    aws_endpoint: &str,
    runtime_api: &str,
    stream: &str,
    task_root: &std::path::Path,
) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = cfg
        .env
        .iter()
        .filter(|(k, _)| !not_passed(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    // A proxy of the configuration's (as on Lambda, for the internet) is
    // not used for the emulator.
    let proxied = ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"]
        .iter()
        .any(|p| env.contains_key(*p) || env.contains_key(&p.to_ascii_lowercase()));
    let emulator_host = url::Url::parse(aws_endpoint)
        .ok()
        .and_then(|u| u.host_str().map(String::from));
    if let (true, Some(host)) = (proxied, emulator_host) {
        for k in ["NO_PROXY", "no_proxy"] {
            let v = match env.get(k).filter(|v| !v.is_empty()) {
                Some(v) => format!("{v},{host}"),
                None => host.clone(),
            };
            env.insert(k.into(), v);
        }
    }
    let root = task_root.display().to_string();
    let set = [
        ("PATH", "/usr/local/bin:/usr/bin:/bin"),
        ("LANG", "en_US.UTF-8"),
        ("TZ", ":UTC"),
        ("AWS_LAMBDA_RUNTIME_API", runtime_api),
        ("AWS_LAMBDA_FUNCTION_NAME", &cfg.name),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            &cfg.memory_mb.to_string(),
        ),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME",
            &format!("/aws/lambda/{}", cfg.name),
        ),
        ("AWS_LAMBDA_LOG_STREAM_NAME", stream),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
        ("AWS_REGION", &cfg.region),
        ("AWS_DEFAULT_REGION", &cfg.region),
        ("AWS_ACCESS_KEY_ID", DUMMY_ACCESS_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", DUMMY_SECRET_ACCESS_KEY),
        ("AWS_SESSION_TOKEN", DUMMY_SESSION_TOKEN),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("_HANDLER", "bootstrap"),
        ("LAMBDA_TASK_ROOT", &root),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()));
    env.extend(set);
    if !aws_endpoint.is_empty() {
        env.insert("AWS_ENDPOINT_URL".into(), aws_endpoint.into());
    }
    env
}
