//! deployer: infrastructure as a Rust program, deployed straight through
//! the AWS SDK for Rust (no Terraform, no CloudFormation). A stack is a
//! function that declares resources ([`model::Stack`]) and wires one's
//! outputs into another's inputs; [`App`] makes it a command line with
//! `up`, `plan`, `down`, `outputs`, `dev` and `state`.
//!
//! ```no_run
//! use deployer::model::Stack;
//! use deployer::resources::api::{Api, Stage};
//!
//! fn program(cfg: &deployer::config::Config, s: &mut Stack) -> deployer::error::Result<()> {
//!     let api = s.add("api", Api::new(format!("{}-api", cfg.name_prefix)));
//!     s.add("stage", Stage::new(api.id()));
//!     s.export("url", api.endpoint());
//!     Ok(())
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     deployer::App::new(program).main()
//! }
//! ```
//!
//! The public API is [`App`], [`config`], [`model`], [`kind`] (what a kind
//! of your own is made of), [`resources`] (deployer's kinds), [`package`]
//! (a function's code), [`error`], [`aws`] and [`cli`]. The modules hidden
//! from these docs (the engine, the operations, the offline mode, the
//! state store) are the binary's own, public for its tests only.
#![warn(missing_docs)]

pub mod app;
pub mod aws;
pub mod cli;
pub mod config;
#[doc(hidden)]
pub mod engine;
pub mod error;
#[doc(hidden)]
pub mod example;
pub mod kind;
#[doc(hidden)]
pub mod local;
pub mod model;
#[doc(hidden)]
pub mod ops;
#[doc(hidden)]
pub mod outputs;
pub mod pace;
pub mod package;
#[doc(hidden)]
pub mod render;
pub mod resources;
mod stall;
#[doc(hidden)]
pub mod state;
#[doc(hidden)]
pub mod tools;

pub use app::App;

#[cfg(test)]
mod cycles_tests;

#[cfg(test)]
mod settings_golden_tests;

#[cfg(test)]
mod layering {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    /// The lines of a file outside its test code: a `#[cfg(test)]` module
    /// (`mod tests { ... }`, to its closing brace) and the one item after
    /// any other `#[cfg(test)]`.
    pub(super) fn without_tests(text: &str) -> Vec<&str> {
        let mut out = vec![];
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if line.trim() != "#[cfg(test)]" {
                out.push(line);
                continue;
            }
            let Some(item) = lines.next() else { break };
            if item.trim_start().starts_with("mod ") && item.trim_end().ends_with('{') {
                let mut depth = 1i32;
                for l in lines.by_ref() {
                    depth += l.matches('{').count() as i32 - l.matches('}').count() as i32;
                    if depth <= 0 {
                        break;
                    }
                }
            }
        }
        out
    }

    #[test]
    fn test_code_is_left_out_and_nothing_else() {
        let text = "use crate::a;\n#[cfg(test)]\nuse crate::t;\nfn f() {}\n#[cfg(test)]\nmod tests {\n    fn g() { crate::t2 }\n}\nuse crate::b;\n";
        assert_eq!(
            without_tests(text),
            vec!["use crate::a;", "fn f() {}", "use crate::b;"]
        );
    }

    /// The crate's top-level modules and the ones each uses (`crate::x`
    /// paths outside comments and test modules).
    fn uses() -> BTreeMap<String, BTreeSet<String>> {
        fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    out.push(p);
                }
            }
        }
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = vec![];
        walk(&src, &mut files);
        let top = |p: &Path| {
            let rel = p.strip_prefix(&src).unwrap();
            let first = rel.components().next().unwrap().as_os_str();
            first.to_string_lossy().trim_end_matches(".rs").to_string()
        };
        let mut uses: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for f in files {
            let module = top(&f);
            if module == "lib" || module == "main" {
                continue;
            }
            // A test module in a file of its own (`tests.rs`, `x_tests.rs`).
            let name = f.file_name().unwrap().to_string_lossy();
            if name == "tests.rs" || name.ends_with("_tests.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&f).unwrap();
            let code = without_tests(&text);
            let entry = uses.entry(module.clone()).or_default();
            for line in code.iter().filter(|l| !l.trim_start().starts_with("//")) {
                for (i, _) in line.match_indices("crate::") {
                    let rest = &line[i + "crate::".len()..];
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    let name = if name == "App" { "app".into() } else { name };
                    if name != module && !name.is_empty() {
                        entry.insert(name);
                    }
                }
            }
        }
        uses
    }

    /// No import circle between the crate's modules: the model and the
    /// kinds' common parts (`kind`) import no kind, no kind imports the
    /// model's users, the CLI is above everything it runs.
    #[test]
    fn no_import_circle() {
        let uses = uses();
        assert!(uses["kind"].contains("package") && uses["model"].contains("kind"));
        for (from, tos) in &uses {
            for to in tos {
                let mut seen = BTreeSet::new();
                let mut stack = vec![to.clone()];
                while let Some(m) = stack.pop() {
                    assert!(
                        &m != from,
                        "import circle: {from} uses {to}, which leads back to {from}"
                    );
                    if seen.insert(m.clone()) {
                        stack.extend(uses.get(&m).into_iter().flatten().cloned());
                    }
                }
            }
        }
    }
}
