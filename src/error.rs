//! The library's errors: each says what went wrong and what to do next.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("config {path}: {message}")]
    Config { path: String, message: String },

    #[error("state file {path} is not valid JSON ({detail}); nothing was changed. The previous copy is {backup}: inspect it and copy it over {path} if it is good, or move {path} away to start from what AWS holds (resources are adopted by name and tag)")]
    CorruptState {
        path: String,
        detail: String,
        backup: String,
    },

    #[error("state file {path} has schema version {found}, newer than this deployer understands ({supported}); upgrade deployer, nothing was changed")]
    NewerState {
        path: String,
        found: u32,
        supported: u32,
    },

    #[error("state file {path} belongs to a stack in {found}; this run targets {wanted}. Pass --region {found} (or another --stack)")]
    WrongTarget {
        path: String,
        found: String,
        wanted: String,
    },

    #[error("stack {stack} is locked by another deployer ({holder}); wait for it to finish. If that process is gone, the lock is released with it")]
    Locked { stack: String, holder: String },

    #[error("no AWS region: pass --region, set AWS_REGION, or set `region` in the config file or your AWS profile")]
    NoRegion,

    #[error("no AWS credentials: {detail}. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (run `aws sso login` for an SSO profile)")]
    NoCredentials { detail: String },

    #[error("{context}: {message}")]
    Aws { context: String, message: String },

    #[error("{0}")]
    Other(String),

    #[error("io error on {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub fn aws<E: std::error::Error>(context: impl Into<String>, e: E) -> Error {
        Error::Aws {
            context: context.into(),
            message: aws_smithy_types::error::display::DisplayErrorContext(e).to_string(),
        }
    }
    pub fn io(path: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
