//! The library's errors: each says what went wrong and what to do next.

/// What went wrong; its message (`Display`) says what to do next.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The config file (or a program's settings in it) is wrong.
    #[error("config {path}: {message}")]
    Config {
        /// The file.
        path: String,
        /// What is wrong, never a value (a password may be one).
        message: String,
    },

    #[error("state file {path} is not valid JSON ({detail}); nothing was changed. The previous copy is {backup}: inspect it and copy it over {path} if it is good, or move {path} away to start from what AWS holds (resources are adopted by name and tag)")]
    /// The state file does not parse; nothing was changed.
    CorruptState {
        /// The state file.
        path: String,
        /// The parser's message.
        detail: String,
        /// The previous copy's path.
        backup: String,
    },

    #[error("state file {path} has schema version {found}, newer than this deployer understands ({supported}); upgrade deployer, nothing was changed")]
    /// The state was written by a newer deployer.
    NewerState {
        /// The state file.
        path: String,
        /// Its schema version.
        found: u32,
        /// The newest this deployer reads.
        supported: u32,
    },

    #[error("state file {path} belongs to a stack in {found}; this run targets {wanted}. Pass --region {found} (or another --stack)")]
    /// The state is of a stack in another region than this run's.
    WrongTarget {
        /// The state file.
        path: String,
        /// The state's region.
        found: String,
        /// This run's region.
        wanted: String,
    },

    #[error("stack {stack} is locked by another deployer ({holder}); wait for it to finish. If that process is gone, the lock is released with it")]
    /// Another run holds the local state's lock.
    Locked {
        /// The stack.
        stack: String,
        /// Who holds it (host, process, command).
        holder: String,
    },

    #[error("stack {stack} is locked by {holder}. Wait for that run to finish; if it is gone (killed), free the lock with `deployer --stack {stack} unlock {id}` (with the same --backend)")]
    /// Another run holds the S3 backend's lock.
    LockedS3 {
        /// The stack.
        stack: String,
        /// Who holds it (host, process, command, since when).
        holder: String,
        /// The lock's ID, for `deployer unlock`.
        id: String,
    },

    #[error("no AWS region: pass --region, set AWS_REGION, or set `region` in the config file or your AWS profile")]
    /// No region anywhere (flags, environment, config, profile).
    NoRegion,

    #[error("no AWS credentials: {detail}. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (run `aws sso login` for an SSO profile)")]
    /// No AWS credentials were found.
    NoCredentials {
        /// The credential chain's message.
        detail: String,
    },

    #[error("{context}: {message}")]
    /// AWS answered with an error.
    Aws {
        /// What was being done (`create user pool x`).
        context: String,
        /// AWS's code and message.
        message: String,
    },

    /// The request was sent and no answer came back: it may have been
    /// applied. A create is looked for before it is tried again.
    #[error("{context}: no answer from AWS, the request may or may not have been applied ({message}); run `deployer up` again: it looks for what the request may have made before trying again")]
    Ambiguous {
        /// What was being done.
        context: String,
        /// The SDK's message.
        message: String,
    },

    /// Anything else, with what to do in its message.
    #[error("{0}")]
    Other(String),

    /// The handler build failed: the compiler's and the linker's own
    /// messages first, then cargo's, then what to try.
    #[error("{0}")]
    Build(String),

    /// `plan --detailed-exitcode` with changes pending (exit code 2).
    #[error("{0} changes pending")]
    ChangesPending(usize),

    /// A file could not be read or written.
    #[error("io error on {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The system's error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// An SDK error with what was being done: `Ambiguous` when no answer
    /// came back (the request may have been applied), else `Aws`; a hard
    /// quota and a timeout say what to do about them.
    pub fn aws<E: std::error::Error>(context: impl Into<String>, e: E) -> Error {
        let unknown = no_response(&e);
        let mut message = aws_smithy_types::error::display::DisplayErrorContext(e).to_string();
        // A hard quota (Cognito's LimitExceededException, IAM's
        // LimitExceeded): retrying cannot help.
        if unknown && message.contains("timed out") {
            // Which timeout it was, in the SDK's and the stall guard's own
            // words (src/stall.rs), and the flag that sets it.
            let flag = if message.contains("operation timeout (all attempts") {
                "--operation-timeout sets how long a call may take in all, retries included"
            } else if message.contains("operation attempt timeout") {
                "--attempt-timeout sets how long one attempt may take"
            } else if message.contains("HTTP connect timeout") {
                "connecting may take 10 s; check the endpoint and the network"
            } else {
                "the endpoint stopped answering; --stall-timeout sets how long an attempt may make no progress"
            };
            message.push_str(&format!(" (the call timed out: {flag})"));
        }
        if message.contains("LimitExceeded") {
            message.push_str(". This is a quota of the AWS account, not throttling: free what counts against it (old user pools, clients, roles) or ask for a higher quota in the Service Quotas console, then run again");
        }
        if unknown {
            Error::Ambiguous {
                context: context.into(),
                message,
            }
        } else {
            Error::Aws {
                context: context.into(),
                message,
            }
        }
    }
    /// True when the request may or may not have been applied.
    pub fn is_ambiguous(&self) -> bool {
        matches!(self, Error::Ambiguous { .. })
    }
    /// An I/O error on `path`.
    pub fn io(path: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// The library's result: an [`Error`] says what to do next.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// True when an SDK error says no (readable) answer arrived: the request may
/// have been applied. (SdkError's own wording.)
pub fn no_response<E: std::error::Error>(e: &E) -> bool {
    let message = aws_smithy_types::error::display::DisplayErrorContext(e).to_string();
    [
        "dispatch failure",
        "response error",
        "request has timed out",
    ]
    .iter()
    .any(|p| message.starts_with(p))
}
