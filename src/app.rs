//! A stack program as the CLI runs it: the function that declares the
//! resources, how it reads its own settings, and the providers of the kinds
//! it uses that are not deployer's. Nothing here is global: the CLI is given an [`App`] and passes
//! it down to every command.
//!
//! ```no_run
//! use deployer::{config::Config, model::Stack, App};
//!
//! #[derive(serde::Deserialize)]
//! struct Settings {
//!     greeting: String,
//! }
//!
//! fn program(cfg: &Config, settings: &Settings, s: &mut Stack) -> deployer::error::Result<()> {
//!     let _ = (cfg, &settings.greeting, s);
//!     Ok(())
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     App::with_settings(program).main()
//! }
//! ```

use crate::config::Config;
use crate::error::{Error, Result};
use crate::kind::{Provider, Providers};
use crate::model::{Exports, Moves, Res, Stack};
use std::collections::BTreeSet;
use std::sync::Arc;

type Declare = dyn Fn(&Config, &mut Stack) -> Result<()> + Send + Sync;

/// A stack program, ready for the CLI (`App::main`).
#[derive(Clone)]
pub struct App {
    program: Arc<Declare>,
    providers: Vec<Arc<dyn Provider>>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").finish_non_exhaustive()
    }
}

/// The example stack (what the `deployer` binary deploys).
impl Default for App {
    fn default() -> Self {
        App::new(crate::example::program)
    }
}

impl App {
    /// A program with no settings of its own: a top-level key of the config
    /// file that is not deployer's is refused, naming the key and the file.
    pub fn new(program: impl Fn(&Config, &mut Stack) -> Result<()> + Send + Sync + 'static) -> App {
        App {
            program: Arc::new(move |cfg, s| {
                cfg.refuse_program_keys()?;
                program(cfg, s)
            }),
            providers: vec![],
        }
    }

    /// A program with settings of its own: the config file's top-level keys
    /// that are not deployer's are read into `S` (any serde type) before the
    /// program runs. A key that neither deployer nor `S` knows is refused,
    /// naming the key and the file; a wrong type names line, column and key.
    pub fn with_settings<S: serde::de::DeserializeOwned + 'static>(
        program: impl Fn(&Config, &S, &mut Stack) -> Result<()> + Send + Sync + 'static,
    ) -> App {
        App {
            program: Arc::new(move |cfg, s| {
                let settings: S = cfg.settings()?;
                program(cfg, &settings, s)
            }),
            providers: vec![],
        }
    }

    /// Registers the provider of a kind written outside deployer, so that a
    /// resource of that kind is deleted after the program drops it (the
    /// kinds the program declares are known through their resources; one it
    /// no longer declares anywhere is known only from here).
    /// `examples/own_kind.rs` writes a kind and its provider.
    ///
    /// ```
    /// use deployer::kind::{Cx, Provider, Read};
    /// struct QueueProvider;
    /// #[async_trait::async_trait]
    /// impl Provider for QueueProvider {
    ///     fn kind(&self) -> &'static str {
    ///         "acme:sqs:Queue"
    ///     }
    ///     async fn read(&self, _: &Cx, _: &str, _: Option<&str>) -> deployer::error::Result<Read> {
    ///         Ok(Read::Missing) // a real one asks AWS
    ///     }
    ///     async fn delete(&self, _: &Cx, _: &str, _: Option<&str>) -> deployer::error::Result<()> {
    ///         Ok(())
    ///     }
    /// }
    /// let app = deployer::App::new(|_, _| Ok(())).provider(QueueProvider);
    /// assert!(app.providers(&[]).get("acme:sqs:Queue").is_some());
    /// ```
    pub fn provider(mut self, p: impl Provider + 'static) -> App {
        self.providers.push(Arc::new(p));
        self
    }

    /// The providers of a run: deployer's own, the registered ones, and
    /// those of the kinds `declared` uses.
    pub fn providers(&self, declared: &[Res]) -> Providers {
        let mut p = crate::resources::providers();
        for x in &self.providers {
            p.add(x.clone());
        }
        for r in declared {
            p.add(r.provider());
        }
        p
    }

    /// Runs the program: its resources (checked) and exported outputs.
    pub fn declare(&self, cfg: &Config) -> Result<(Vec<Res>, Exports)> {
        self.declare_with_moves(cfg).map(|(r, e, _)| (r, e))
    }

    /// `declare`, with the program's moves (checked: each `to` declared, no
    /// `from` declared, no key moved twice).
    pub fn declare_with_moves(&self, cfg: &Config) -> Result<(Vec<Res>, Exports, Moves)> {
        let mut s = Stack::new();
        (self.program)(cfg, &mut s)?;
        let moves = s.moves().to_vec();
        let (res, exports) = s.resources()?;
        let declared: BTreeSet<String> = res.iter().map(|r| r.key()).collect();
        let mut seen = BTreeSet::new();
        for (from, to) in &moves {
            if declared.contains(from) {
                return Err(Error::Other(format!(
                    "the program says `{from}` moved to `{to}`, but still declares `{from}`: drop one of the two"
                )));
            }
            if !seen.insert(from.clone()) || !seen.insert(format!("to {to}")) {
                return Err(Error::Other(format!(
                    "the program moves `{from}` or `{to}` twice: one move per key"
                )));
            }
        }
        Ok((res, exports, moves))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Settings {
        api_name: String,
    }

    fn with_settings(cfg: &Config, st: &Settings, s: &mut Stack) -> Result<()> {
        let _ = cfg;
        s.add("api", crate::resources::api::Api::new(st.api_name.clone()));
        Ok(())
    }

    /// The settings reach the program typed; a program without settings
    /// refuses a key that is not deployer's, before it runs.
    #[test]
    fn a_program_gets_its_settings_or_refuses_keys() {
        let cfg = Config::parse("name_prefix = \"p\"\napi_name = \"x\"\n", "s.toml").unwrap();
        let (res, _) = App::with_settings(with_settings).declare(&cfg).unwrap();
        assert_eq!(res.len(), 1);
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let r = ran.clone();
        let plain = App::new(move |_, _| {
            r.store(true, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        });
        let e = plain.declare(&cfg).err().unwrap().to_string();
        assert!(e.contains("`api_name`") && e.contains("s.toml"), "{e}");
        assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
        let none = Config::parse("name_prefix = \"p\"\n", "s.toml").unwrap();
        let e = App::with_settings(with_settings)
            .declare(&none)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("api_name") && e.contains("s.toml"), "{e}");
    }
}
