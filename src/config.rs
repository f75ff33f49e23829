//! The stack's configuration: an optional TOML file on top of the embedded
//! default. Its top-level keys are deployer's own ([`DEPLOYER_KEYS`]) and the
//! program's: a program made with [`crate::App::with_settings`] gets its own
//! read into a serde type of its own ([`Config::settings`]); a key neither
//! knows is an error that names it and the file.

use crate::error::Error;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The default `name_prefix`: every AWS name starts with it.
pub const DEFAULT_PREFIX: &str = "cognito-example";
/// The region when neither flags, environment, config nor profile name one.
pub const DEFAULT_REGION: &str = "eu-west-1";
/// The seed's demo password for alice. It is only a demo value: set
/// `password_env` in a config file for anything that is not a throwaway stack.
pub const DEMO_PASSWORD: &str = "HeyH0Password!";

/// The CPU a function runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
pub enum Architecture {
    /// Intel and AMD (`x86_64`), the default.
    #[default]
    #[serde(rename = "x86_64")]
    X86_64,
    /// AWS Graviton (`arm64`).
    #[serde(rename = "arm64")]
    Arm64,
}

impl Architecture {
    /// Lambda's name for it (`x86_64`, `arm64`).
    pub fn as_str(self) -> &'static str {
        match self {
            Architecture::X86_64 => "x86_64",
            Architecture::Arm64 => "arm64",
        }
    }
}

/// A user as the config file gives it: a password, or the environment variable that holds it.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// The user name.
    pub name: String,
    /// The password itself (a secret in a file: prefer `password_env`).
    #[serde(default)]
    pub password: Option<String>,
    /// The environment variable that holds the password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// Cognito attributes (`email`, `name`, ...).
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// deployer's own top-level keys of the config file; the others are the
/// program's (`App::with_settings`). `users` and `log_retention_days` are the
/// example program's, read by deployer for it.
pub const DEPLOYER_KEYS: [&str; 7] = [
    "name_prefix",
    "region",
    "architecture",
    "tags",
    "backend",
    "users",
    "log_retention_days",
];

/// deployer's part of the file. Unknown top-level keys are the program's,
/// collected while it is read (nested tables still refuse unknown keys).
#[derive(Clone, Deserialize, Default)]
struct FileConfig {
    name_prefix: Option<String>,
    region: Option<String>,
    architecture: Option<Architecture>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    users: Option<Vec<UserConfig>>,
    log_retention_days: Option<i32>,
    backend: Option<String>,
}

/// A user with its password resolved (never shown by `Debug`).
#[derive(Clone)]
pub struct User {
    /// The user name.
    pub name: String,
    /// The permanent password (never printed: `Debug` hides it).
    pub password: String,
    /// Cognito attributes (`email`, `name`, ...).
    pub attributes: BTreeMap<String, String>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("name", &self.name)
            .field("password", &"(hidden)")
            .field("attributes", &self.attributes)
            .finish()
    }
}

/// The config file as read: its text (which may hold passwords: never
/// printed, so no derived `Debug`) and where it came from.
#[derive(Clone)]
struct Source {
    text: std::sync::Arc<str>,
    origin: String,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Source({})", self.origin)
    }
}

/// The stack's configuration: deployer's keys of the TOML file (a program's own are read by `App::with_settings`).
#[derive(Debug, Clone)]
pub struct Config {
    /// The prefix of every AWS name the stack makes (letters, digits, `-`).
    pub name_prefix: String,
    /// Region from the file, if any (flags and the aws-config chain come after).
    pub region: Option<String>,
    /// The functions' CPU.
    pub architecture: Architecture,
    /// Tags for every resource, next to `Project` and the stack's own.
    pub tags: BTreeMap<String, String>,
    /// The example's users (`[[users]]`).
    pub users: Vec<User>,
    /// Retention of the function's log group `/aws/lambda/{prefix}`.
    pub log_retention_days: i32,
    /// Where the state lives (`s3://BUCKET[/PREFIX]`); flags and
    /// DEPLOYER_BACKEND come first.
    pub backend: Option<String>,
    /// The file, for the program's settings.
    source: Option<Source>,
    /// The file's top-level keys that are not deployer's.
    program_keys: Vec<String>,
}

/// The function's log retention when the file sets none.
pub const DEFAULT_LOG_RETENTION_DAYS: i32 = 30;
/// The values CloudWatch Logs accepts for a retention in days.
pub const LOG_RETENTION_DAYS: [i32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// The example's default user: alice, with the seed's published demo password.
pub fn default_alice() -> User {
    let attributes = [
        ("preferred_username", "alice"),
        ("name", "Alice Doe"),
        ("given_name", "Alice"),
        ("family_name", "Doe"),
        ("email", "alice@example.com"),
        ("email_verified", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    User {
        name: "alice".into(),
        password: DEMO_PASSWORD.into(),
        attributes,
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            name_prefix: DEFAULT_PREFIX.into(),
            region: None,
            architecture: Architecture::X86_64,
            tags: BTreeMap::new(),
            users: vec![default_alice()],
            log_retention_days: DEFAULT_LOG_RETENTION_DAYS,
            backend: None,
            source: None,
            program_keys: vec![],
        }
    }
}

impl Config {
    /// The file at `path`, or the embedded default without one: an error names the file and what is wrong.
    pub fn load(path: Option<&Path>) -> Result<Config, Error> {
        let Some(path) = path else {
            return Ok(Config::default());
        };
        let text = std::fs::read_to_string(path).map_err(|e| Error::Config {
            path: path.display().to_string(),
            message: format!("cannot read it: {e}"),
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// The config from `text`; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Config, Error> {
        let bad = |message: String| Error::Config {
            path: origin.to_string(),
            message,
        };
        let mut program_keys = vec![];
        let file: FileConfig = serde_ignored::deserialize(toml::Deserializer::new(text), |path| {
            program_keys.push(path.to_string())
        })
        .map_err(|e| bad(describe_toml_error(text, &e)))?;
        // A key one or two letters from deployer's own is a typo, not the
        // program's: said now, by every command (a misspelt `region`
        // would otherwise send `outputs` to the default region).
        for k in &program_keys {
            if let Some(near) = DEPLOYER_KEYS
                .iter()
                .find(|d| strsim::damerau_levenshtein(k, d) <= if d.len() <= 5 { 1 } else { 2 })
            {
                return Err(bad(format!(
                    "unknown key `{k}`: did you mean `{near}`? (deployer's keys: {})",
                    DEPLOYER_KEYS.join(", ")
                )));
            }
        }
        let mut cfg = Config {
            source: Some(Source {
                text: text.into(),
                origin: origin.to_string(),
            }),
            program_keys,
            ..Config::default()
        };
        if let Some(p) = file.name_prefix {
            cfg.name_prefix = p;
        }
        cfg.region = file.region;
        cfg.architecture = file.architecture.unwrap_or_default();
        cfg.tags = file.tags;
        cfg.backend = file.backend;
        if let Some(d) = file.log_retention_days {
            cfg.log_retention_days = d;
        }
        if let Some(users) = file.users {
            cfg.users = users
                .into_iter()
                .map(|u| {
                    let password = match (&u.password, &u.password_env) {
                        (Some(p), None) => p.clone(),
                        (None, Some(var)) => std::env::var(var).map_err(|_| {
                            bad(format!(
                                "user {:?} takes its password from ${var}, which is not set: export {var}=...",
                                u.name
                            ))
                        })?,
                        (None, None) => {
                            return Err(bad(format!(
                                "user {:?} has no password: set `password` or `password_env`",
                                u.name
                            )))
                        }
                        (Some(_), Some(_)) => {
                            return Err(bad(format!(
                                "user {:?} sets both `password` and `password_env`: keep one",
                                u.name
                            )))
                        }
                    };
                    Ok(User {
                        name: u.name,
                        password,
                        attributes: u.attributes,
                    })
                })
                .collect::<Result<_, Error>>()?;
        }
        cfg.validate().map_err(bad)?;
        Ok(cfg)
    }

    /// The program's own settings: the file's top-level keys read into `T`
    /// (any serde type; `#[serde(default)]` fields for what may be left
    /// out). deployer's keys are skipped, so `T` must not refuse unknown
    /// fields at its top level (`deny_unknown_fields`): a key that neither
    /// deployer nor `T` knows is an error here, naming the key and the file.
    /// Without a config file, `T` is read from an empty table.
    ///
    /// ```
    /// #[derive(serde::Deserialize, Debug)]
    /// struct Settings {
    ///     #[serde(default = "hello")]
    ///     greeting: String,
    /// }
    /// fn hello() -> String {
    ///     "hello".into()
    /// }
    /// let cfg = deployer::config::Config::parse(
    ///     "name_prefix = \"demo\"\ngreeting = \"hi\"\n",
    ///     "stack.toml",
    /// )
    /// .unwrap();
    /// let s: Settings = cfg.settings().unwrap();
    /// assert_eq!(s.greeting, "hi");
    /// let typo = deployer::config::Config::parse("greting = \"hi\"\n", "stack.toml").unwrap();
    /// let e = typo.settings::<Settings>().unwrap_err().to_string();
    /// assert!(e.contains("stack.toml") && e.contains("`greting`"), "{e}");
    /// ```
    pub fn settings<T: serde::de::DeserializeOwned>(&self) -> Result<T, Error> {
        let (text, origin) = match &self.source {
            Some(s) => (&*s.text, s.origin.as_str()),
            None => ("", "(no config file)"),
        };
        let bad = |message: String| Error::Config {
            path: origin.to_string(),
            message,
        };
        let mut unknown = vec![];
        let value: T = serde_ignored::deserialize(toml::Deserializer::new(text), |path| {
            let p = path.to_string();
            let top = p.split('.').next().unwrap_or_default();
            if !DEPLOYER_KEYS.contains(&top) {
                unknown.push(p);
            }
        })
        .map_err(|e| {
            let m = describe_toml_error(text, &e);
            bad(if self.source.is_none() {
                format!("{m}: the program needs settings of its own; pass --config FILE")
            } else {
                format!("the program's settings: {m}")
            })
        })?;
        match unknown.first() {
            Some(k) => Err(bad(format!(
                "unknown key `{k}`: neither deployer's ({}) nor one of the program's settings",
                DEPLOYER_KEYS.join(", ")
            ))),
            None => Ok(value),
        }
    }

    /// For a program with no settings of its own (`App::new`): a top-level
    /// key of the file that is not deployer's is unknown.
    pub(crate) fn refuse_program_keys(&self) -> Result<(), Error> {
        match (&self.source, self.program_keys.first()) {
            (Some(s), Some(k)) => Err(Error::Config {
                path: s.origin.clone(),
                message: format!(
                    "unknown key `{k}`: not one of deployer's ({}), and this program has no settings of its own (a program reads settings when its main is `App::with_settings(program)`)",
                    DEPLOYER_KEYS.join(", ")
                ),
            }),
            _ => Ok(()),
        }
    }

    /// Checks what AWS would reject later, so that nothing is half-created.
    pub fn validate(&self) -> Result<(), String> {
        validate_prefix(&self.name_prefix)?;
        let mut seen = std::collections::BTreeSet::new();
        for u in &self.users {
            if u.name.is_empty() || u.name.len() > 128 || u.name.chars().any(char::is_whitespace) {
                return Err(format!(
                    "user name {:?} is not a valid Cognito user name",
                    u.name
                ));
            }
            if !seen.insert(u.name.clone()) {
                return Err(format!("user {:?} is declared twice", u.name));
            }
            if u.password.len() < 8 {
                return Err(format!(
                    "the password of user {:?} is shorter than 8 characters, which the user pool's default policy rejects",
                    u.name
                ));
            }
        }
        if !LOG_RETENTION_DAYS.contains(&self.log_retention_days) {
            return Err(format!(
                "log_retention_days = {} is not a retention CloudWatch Logs accepts; use one of {LOG_RETENTION_DAYS:?}",
                self.log_retention_days
            ));
        }
        for k in self.tags.keys() {
            if k == "Project" || k.starts_with("deployer:") || k.starts_with("aws:") {
                return Err(format!("tag {k:?} is reserved: deployer sets it itself"));
            }
        }
        Ok(())
    }
}

/// `name_prefix` names the Lambda function (64 characters of `[A-Za-z0-9_-]`),
/// the IAM role (`{prefix}-lambda`, 64 characters), the user pool and the API.
pub fn validate_prefix(p: &str) -> Result<(), String> {
    if p.is_empty() {
        return Err("name_prefix is empty".into());
    }
    if p.len() > 57 {
        return Err(format!(
            "name_prefix {p:?} is {} characters long; at most 57 fit the IAM role name `{{prefix}}-lambda` (64) and the Lambda function name",
            p.len()
        ));
    }
    if let Some(c) = p
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Err(format!(
            "name_prefix {p:?} has the character {c:?}; use only letters, digits, '-' and '_' (Lambda function and Cognito names reject the rest)"
        ));
    }
    Ok(())
}

/// A TOML error as line, column and key, never the offending line itself:
/// toml's own rendering quotes the line, which may hold a password.
fn describe_toml_error(text: &str, e: &toml::de::Error) -> String {
    let mut at = String::new();
    if let Some(span) = e.span() {
        let start = span.start.min(text.len());
        let before = &text[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        at = format!("line {line}, column {column}");
        // The key whose value is at fault: the last `key =` before the
        // error on its line (inline tables hold several).
        let upto = &text[line_start..start];
        if let Some(eq) = upto.rfind('=') {
            let key = upto[..eq]
                .rsplit(['{', ',', ' '])
                .find(|k| !k.trim().is_empty())
                .unwrap_or_default()
                .trim();
            if !key.is_empty() {
                at.push_str(&format!(", key `{key}`"));
            }
        }
        at.push_str(": ");
    }
    format!("{at}{}", redact_values(e.message()))
}

/// serde's messages quote the value they refused (`invalid type: string
/// "…"`, ``invalid value: integer `…` ``): keep the kind, hide the value.
fn redact_values(message: &str) -> String {
    if !(message.starts_with("invalid type:") || message.starts_with("invalid value:")) {
        return message.to_string();
    }
    let mut out = String::new();
    let mut rest = message;
    // Only the first quoted part is the value; what follows ("expected
    // ...") is the schema's.
    if let Some(i) = rest.find(['"', '`']) {
        let q = rest.as_bytes()[i] as char;
        if let Some(j) = rest[i + 1..].find(q) {
            out.push_str(&rest[..i]);
            out.push_str("(value hidden)");
            rest = &rest[i + 1 + j + 1..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A config error says where (line, column, key) and never shows a
    /// secret's value, whatever is wrong around it.
    #[test]
    fn config_errors_never_show_a_password() {
        let cases = [
            "[[users]]\nname = \"bob\"\npassword = \"S3cret-pw!\"\npasword_env = \"X\"\n",
            "[[users]]\nname = \"bob\"\npassword = \"S3cret-pw!\" oops\n",
            "users = [{ name = \"bob\", password = 123456789 }]\n",
            "[[users]]\nname = \"bob\"\npassword = \"S3cret-pw!\"\nattributes = { email = 5 }\n",
            "log_retention_days = \"S3cret-pw!\"\n",
        ];
        for text in cases {
            let e = Config::parse(text, "c.toml").unwrap_err().to_string();
            assert!(!e.contains("S3cret-pw!") && !e.contains("123456789"), "{e}");
            assert!(e.contains("line "), "{e}");
        }
        let e = Config::parse(cases[0], "c.toml").unwrap_err().to_string();
        assert!(e.contains("line 4, column 1"), "{e}");
        assert!(e.contains("pasword_env"), "the unknown key is named: {e}");
        let e = Config::parse(cases[2], "c.toml").unwrap_err().to_string();
        assert!(e.contains("key `password`"), "{e}");
        assert!(
            e.contains("invalid type: integer (value hidden), expected a string"),
            "{e}"
        );
    }

    /// A program's own settings: read next to deployer's keys; a key that
    /// neither knows, a wrong type, a missing file are errors naming the key
    /// and the file; a program that reads none refuses keys not deployer's.
    #[test]
    fn a_programs_own_settings() {
        #[derive(Deserialize, Debug)]
        struct Limits {
            burst: u32,
        }
        #[derive(Deserialize, Debug)]
        struct S {
            greeting: Option<String>,
            limits: Option<Limits>,
        }
        let text = "name_prefix = \"demo\"\ngreeting = \"hi\"\n[limits]\nburst = 5\n[[users]]\nname = \"bob\"\npassword = \"S3cret-pw!\"\n";
        let c = Config::parse(text, "mine.toml").unwrap();
        assert_eq!(c.name_prefix, "demo");
        assert_eq!(c.users[0].name, "bob");
        let s: S = c.settings().unwrap();
        assert_eq!(s.greeting.as_deref(), Some("hi"));
        assert_eq!(s.limits.unwrap().burst, 5);
        // The file's text (a password) never shows in Debug.
        assert!(!format!("{c:?}").contains("S3cret-pw!"));

        let c = Config::parse("greting = \"hi\"\n", "mine.toml").unwrap();
        let e = c.settings::<S>().unwrap_err().to_string();
        assert!(
            e.contains("mine.toml") && e.contains("unknown key `greting`"),
            "{e}"
        );
        let c = Config::parse("[limits]\nburst = \"S3cret-pw!\"\n", "mine.toml").unwrap();
        let e = c.settings::<S>().unwrap_err().to_string();
        assert!(
            e.contains("mine.toml") && e.contains("line 2") && e.contains("key `burst`"),
            "{e}"
        );
        assert!(!e.contains("S3cret-pw!"), "{e}");

        // A program that reads no settings: a key not deployer's is unknown.
        let c = Config::parse("greeting = \"hi\"\n", "mine.toml").unwrap();
        let e = c.refuse_program_keys().unwrap_err().to_string();
        assert!(
            e.contains("mine.toml") && e.contains("unknown key `greeting`"),
            "{e}"
        );
        // Settings a program needs, and no file.
        #[derive(Deserialize, Debug)]
        struct Needs {
            #[allow(dead_code)]
            greeting: String,
        }
        let e = Config::default()
            .settings::<Needs>()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("missing field `greeting`") && e.contains("--config"),
            "{e}"
        );
    }

    #[test]
    fn default_is_the_seed() {
        let c = Config::default();
        assert_eq!(c.name_prefix, "cognito-example");
        assert_eq!(c.users[0].name, "alice");
        assert_eq!(c.users[0].attributes["email_verified"], "true");
    }

    #[test]
    fn prefix_rules() {
        assert!(validate_prefix("cognito-example").is_ok());
        assert!(validate_prefix(&"a".repeat(58))
            .unwrap_err()
            .contains("58 characters"));
        assert!(validate_prefix("bad prefix").unwrap_err().contains("' '"));
        assert!(validate_prefix("x.y").is_err());
    }

    #[test]
    fn file_overrides() {
        let c = Config::parse(
            r#"
name_prefix = "demo"
region = "us-east-1"
architecture = "arm64"
[tags]
Owner = "me"
[[users]]
name = "bob"
password = "Passw0rd!long"
attributes = { email = "bob@example.com" }
"#,
            "t.toml",
        )
        .unwrap();
        assert_eq!(c.name_prefix, "demo");
        assert_eq!(c.architecture, Architecture::Arm64);
        assert_eq!(c.users.len(), 1);
        assert_eq!(c.users[0].attributes["email"], "bob@example.com");
        let e = Config::parse(
            "[[users]]\nname='x'\npassword_env='NOPE_NOT_SET_42'\n",
            "t.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("NOPE_NOT_SET_42"), "{e}");
        let e = Config::parse("nme_prefix='x'", "t.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("t.toml")
                && e.contains("unknown key `nme_prefix`: did you mean `name_prefix`?"),
            "{e}"
        );
    }
}
