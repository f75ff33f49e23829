//! The options every operation takes (the CLI's global flags) and their
//! value parsers.

use clap::Args;
use std::path::PathBuf;
use std::sync::Arc;

/// The options every operation takes (the CLI's global flags).
#[derive(Args, Debug, Clone)]
pub struct Global {
    /// Stack name: picks the state file `state/<NAME>.json` (or the S3 key
    /// `PREFIX/<NAME>.json`). Letters, digits, `-` and `_`, up to 64.
    #[arg(long, global = true, env = "DEPLOYER_STACK", default_value = "default", value_parser = stack_name)]
    pub stack: String,
    /// Optional TOML config: name_prefix, region, tags, architecture,
    /// backend, and the program's own settings.
    #[arg(long, global = true, env = "DEPLOYER_CONFIG")]
    pub config: Option<PathBuf>,
    /// AWS region (else the config file, AWS_REGION, the profile, eu-west-1).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// AWS profile (SSO profiles included).
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// Send every AWS call to this endpoint (an emulator such as moto).
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
    /// Where the state lives: `s3://BUCKET[/PREFIX]` for a shared stack
    /// (else the config's `backend`, else the local --state-dir).
    #[arg(long, global = true, env = "DEPLOYER_BACKEND")]
    pub backend: Option<String>,
    /// Where state files live (the local backend).
    #[arg(
        long,
        global = true,
        env = "DEPLOYER_STATE_DIR",
        default_value = "state"
    )]
    pub state_dir: PathBuf,
    /// Use this zip for the `handler` crate's functions instead of building
    /// it (a program whose functions are other crates builds those).
    #[arg(long, global = true, env = "DEPLOYER_HANDLER_ZIP")]
    pub handler_zip: Option<PathBuf>,
    /// Print one JSON document instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Deploy the seed's published demo password to AWS anyway (a
    /// throwaway stack): without it `up` refuses it on AWS, where the hosted
    /// login page is public. `deployer dev` and emulators never need it.
    #[arg(long, global = true, env = "DEPLOYER_ALLOW_DEMO_PASSWORD")]
    pub allow_demo_password: bool,
    /// Seconds an attempt of an AWS call may make no progress (no request
    /// bytes taken, no answer after the request was sent, the answer
    /// stopped): a stalled endpoint fails the call, naming it, instead of
    /// hanging; a slow but live upload goes on.
    #[arg(long, global = true, env = "DEPLOYER_STALL_TIMEOUT", default_value_t = crate::aws::DEFAULT_STALL_TIMEOUT_SECS)]
    pub stall_timeout: u64,
    /// Seconds one attempt of an AWS call may take (a Lambda zip upload's:
    /// at least an hour, the stall timeout guards it).
    #[arg(long, global = true, env = "DEPLOYER_ATTEMPT_TIMEOUT", default_value_t = crate::aws::DEFAULT_ATTEMPT_TIMEOUT_SECS)]
    pub attempt_timeout: u64,
    /// Seconds an AWS call may take in all, retries included (a Lambda zip
    /// upload's: at least an hour).
    #[arg(long, global = true, env = "DEPLOYER_OPERATION_TIMEOUT", default_value_t = crate::aws::DEFAULT_OPERATION_TIMEOUT_SECS)]
    pub operation_timeout: u64,
    /// At most this many of the plan's changes in flight at once (0: as
    /// many as are ready; every call is paced under AWS's request quotas
    /// anyway); the deletion of strays and of retired resources is not
    /// counted. Terraform's default is 10.
    #[arg(long, global = true, env = "DEPLOYER_PARALLELISM", default_value_t = 0)]
    pub parallelism: usize,
    /// Take at most this share (0 to 1) of each of AWS's documented request
    /// quotas: the rest is left to other callers of the account (another
    /// deploy in CI, the account's own services). A throttle slows the run
    /// further anyway.
    #[arg(long, global = true, env = "DEPLOYER_QUOTA_SHARE", default_value_t = 1.0, value_parser = quota_share)]
    pub quota_share: f64,
    /// Apply (or plan) only this resource and what it needs (its
    /// dependencies); repeatable. The rest of the stack is left as it is.
    #[arg(long = "target", global = true, value_name = "KEY")]
    pub target: Vec<String>,
    /// Allow this run to replace or delete a protected resource (its key,
    /// as `plan` shows it); repeatable.
    #[arg(long = "unprotect", global = true, value_name = "KEY")]
    pub unprotect: Vec<String>,
    /// Build the functions' code with the dev loop's profile (unoptimised,
    /// incremental, not reproducible from another clone): for a quick
    /// iteration, never a release (`up --watch` sets it).
    #[arg(long, global = true, env = "DEPLOYER_DEV_BUILD")]
    pub dev_build: bool,
    /// Build the functions' crates for this machine (`deployer dev`).
    #[arg(skip)]
    pub local_build: bool,
    /// The emulator's credentials (`deployer dev` without AWS credentials
    /// of its own): given to the SDK, not put in the process environment.
    #[arg(skip)]
    pub emulator_credentials: bool,
    /// Print nothing but errors (a `--watch` redeploy).
    #[arg(skip)]
    pub quiet: bool,
    /// Crates built already (a `--watch` redeploy rebuilds only the
    /// changed ones): used instead of building them again.
    #[arg(skip)]
    pub prebuilt: Option<Arc<crate::package::Packages>>,
    /// The program this run deploys (`App::main` sets it; the example by
    /// default).
    #[arg(skip)]
    pub app: crate::App,
}

impl Global {
    /// How this run builds the functions' code: for this machine
    /// (`deployer dev`), the dev loop's build for Lambda (`--dev-build`,
    /// `up --watch`), else the reproducible release build.
    pub fn profile(&self) -> crate::package::Profile {
        use crate::package::Profile;
        if self.local_build {
            Profile::Local
        } else if self.dev_build {
            Profile::Dev
        } else {
            Profile::Release
        }
    }
}

/// `--quota-share`: a share of AWS's quotas, more than 0 and at most 1.
pub fn quota_share(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 1.0 => Ok(v),
        _ => Err(format!(
            "`{s}` is not a share of AWS's request quotas: give a number above 0 and at most 1 (0.5: half of each quota)"
        )),
    }
}

/// A stack name names a file and an S3 key: only letters, digits, `-` and
/// `_` (no `/`, no `..`, nothing empty), checked before anything is read.
pub fn stack_name(s: &str) -> std::result::Result<String, String> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if s.is_empty() {
        return Err(
            "a stack name cannot be empty: pass --stack NAME (letters, digits, - and _)".into(),
        );
    }
    if s.len() > 64
        || !s.chars().all(ok_char)
        || !s.starts_with(|c: char| c.is_ascii_alphanumeric())
    {
        return Err(format!(
            "{s:?} is not a stack name: use 1 to 64 letters, digits, '-' and '_', starting with a letter or digit (it names the state file and S3 key, so no '/', '.' or spaces); nothing was read or written"
        ));
    }
    Ok(s.to_string())
}

impl Global {
    pub fn timeouts(&self) -> crate::aws::Timeouts {
        crate::aws::Timeouts {
            stall: std::time::Duration::from_secs(self.stall_timeout.max(1)),
            attempt: std::time::Duration::from_secs(self.attempt_timeout.max(1)),
            operation: std::time::Duration::from_secs(self.operation_timeout.max(1)),
        }
    }
}
