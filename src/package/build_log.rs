//! What a handler build said, and the message of a failed one.

use super::{rust_target, Profile};
use crate::config::Architecture;

/// What a handler build said, sorted for the user when it fails: the
/// compiler's own messages first (rustc's errors; a failed link's carries
/// the linker's output), then what cargo and cargo-lambda said beyond their
/// progress lines.
#[derive(Debug, Default)]
pub struct BuildLog {
    /// Rendered `compiler-message` diagnostics of level error.
    pub errors: Vec<String>,
    /// How many warnings the compiler gave.
    pub warnings: usize,
    /// cargo's and cargo-lambda's stderr, without progress lines.
    pub said: Vec<String>,
}

impl BuildLog {
    /// One line of cargo's `--message-format=json` output.
    pub fn json_line(&mut self, line: &str) {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            // Not a cargo message: something a build step printed itself.
            if !line.trim().is_empty() {
                self.said.push(line.to_string());
            }
            return;
        };
        if v["reason"] != "compiler-message" {
            return;
        }
        let m = &v["message"];
        match m["level"].as_str() {
            Some("error") | Some("error: internal compiler error") => {
                let rendered = m["rendered"]
                    .as_str()
                    .or_else(|| m["message"].as_str())
                    .unwrap_or_default()
                    .trim_end();
                // rustc's summary ("aborting due to ...") says nothing new.
                if !rendered.is_empty()
                    && !m["message"]
                        .as_str()
                        .is_some_and(|t| t.starts_with("aborting due to"))
                {
                    self.errors.push(rendered.to_string());
                }
            }
            Some("warning") => self.warnings += 1,
            _ => {}
        }
    }

    /// One line of cargo's stderr; returns the crate being compiled for a
    /// progress line.
    pub fn stderr_line<'a>(&mut self, line: &'a str) -> Option<&'a str> {
        let t = line.trim_start();
        if let Some(what) = t.strip_prefix("Compiling ") {
            return Some(what);
        }
        const PROGRESS: [&str; 8] = [
            "Downloading ",
            "Downloaded ",
            "Updating ",
            "Locking ",
            "Adding ",
            "Blocking ",
            "Fresh ",
            "Finished ",
        ];
        if !t.is_empty() && !PROGRESS.iter().any(|p| t.starts_with(p)) {
            self.said.push(line.to_string());
        }
        None
    }

    /// The message of a failed build: what the compiler and the linker said,
    /// then cargo's own words, then what to try.
    pub fn failure(&self, arch: Architecture, profile: Profile, status: &str) -> String {
        let mut out = format!(
            "building the functions' code with {} failed ({status})",
            profile.tool()
        );
        if !self.errors.is_empty() {
            out.push_str(":\n\n");
            out.push_str(&self.errors.join("\n\n"));
        } else {
            out.push_str(", and the compiler gave no message of its own");
        }
        if !self.said.is_empty() {
            // cargo repeats rustc's whole command line in its "Caused by":
            // keep the last lines, each cut to a readable length.
            let tail: Vec<String> = self
                .said
                .iter()
                .rev()
                .take(20)
                .rev()
                .map(|l| cut(l, 400))
                .collect();
            out.push_str("\n\ncargo said:\n");
            out.push_str(&tail.join("\n"));
        }
        out.push_str("\n\n");
        out.push_str(&self.next_step(arch, profile));
        out
    }

    fn next_step(&self, arch: Architecture, profile: Profile) -> String {
        let all = || self.errors.iter().chain(self.said.iter());
        let linker = self.errors.iter().any(|e| e.contains("linking with"));
        let code = self
            .errors
            .iter()
            .any(|e| e.starts_with("error[") || e.contains("-->"));
        let space = all().any(|l| l.contains("No space left on device"));
        let target = all().any(|l| {
            l.contains("target may not be installed") || l.contains("can't find crate for `core`")
        });
        if space {
            "What to try: the disk is full; free space (`cargo clean` in old checkouts) and run the command again.".into()
        } else if profile != Profile::Local
            && (target || arch == Architecture::Arm64 && self.errors.is_empty())
        {
            format!(
                "What to try: `rustup target add {}`, then run the command again.",
                rust_target(arch)
            )
        } else if linker && profile == Profile::Local {
            "What to try: the link of the handler failed with the linker's message above; a link library or flag named there is the usual cause.".into()
        } else if linker {
            "What to try: the link of `bootstrap` through zig failed with the linker's message above. A link library or flag named there is the usual cause; if the message names a file of zig's cache, remove ~/.cache/zig and target/lambda-build and run the command again.".into()
        } else if code {
            "What to try: fix the handler's code at the place the compiler names, then run the command again (with --watch the next save rebuilds).".into()
        } else {
            "What to try: run the command again with CARGO_TERM_VERBOSE=true to see every step cargo runs; the last one named above failed.".into()
        }
    }
}

fn cut(line: &str, max: usize) -> String {
    if line.chars().count() <= max {
        line.to_string()
    } else {
        let head: String = line.chars().take(max).collect();
        format!("{head} ...")
    }
}
