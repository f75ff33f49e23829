//! Rendering a run: live progress on a terminal, plain lines otherwise,
//! the plan with its value diffs.

use crate::engine::{Action, Event, Step, StepReport};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};

/// Live progress of the steps in flight (a spinner each, with what it waits
/// for and since when), on a terminal only; plain lines otherwise.
struct Live {
    multi: indicatif::MultiProgress,
    bars: Mutex<BTreeMap<String, indicatif::ProgressBar>>,
}

impl Live {
    fn new() -> Option<Arc<Live>> {
        if !std::io::stdout().is_terminal() || std::env::var_os("DEPLOYER_NO_PROGRESS").is_some() {
            return None;
        }
        let live = Arc::new(Live {
            multi: indicatif::MultiProgress::new(),
            bars: Mutex::new(BTreeMap::new()),
        });
        // Refresh what each step waits for.
        let weak = Arc::downgrade(&live);
        std::thread::spawn(move || {
            while let Some(l) = weak.upgrade() {
                for (key, bar) in l.bars.lock().unwrap().iter() {
                    if let Some((what, since)) = crate::aws::waiting(key) {
                        bar.set_message(format!(
                            "{key}: waiting for {what} ({} s)",
                            since.as_secs()
                        ));
                    }
                }
                drop(l);
                std::thread::sleep(std::time::Duration::from_millis(250));
            }
        });
        Some(live)
    }

    fn started(&self, key: &str, action: Action) {
        let bar = self.multi.add(indicatif::ProgressBar::new_spinner());
        bar.set_style(
            indicatif::ProgressStyle::with_template("  {spinner} {msg} {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.set_message(format!("{} {key}", action.verb()));
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        self.bars.lock().unwrap().insert(key.to_string(), bar);
    }

    fn finished(&self, key: &str, line: String) {
        if let Some(bar) = self.bars.lock().unwrap().remove(key) {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
        let _ = self.multi.println(line);
    }
}

pub fn printer(json: bool, sink: Arc<Mutex<Vec<StepReport>>>) -> crate::engine::Sink {
    let live = if json { None } else { Live::new() };
    Arc::new(move |e: Event| match e {
        Event::Started { key, action } => {
            if let Some(l) = &live {
                l.started(&key, action);
            }
        }
        Event::Finished {
            key,
            action,
            changed,
            took,
        } => {
            if !json {
                let sym = match action {
                    Action::Same => "=",
                    Action::Create => "+",
                    Action::Update => "~",
                    Action::Replace => "±",
                    Action::Delete => "-",
                };
                let what = if changed.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", changed.join(", "))
                };
                let line = format!(
                    "  {sym} {:<10}{key}{what}  {:.2}s",
                    action.verb(),
                    took.as_secs_f64()
                );
                match &live {
                    Some(l) => l.finished(&key, line),
                    None => println!("{line}"),
                }
            }
            sink.lock().unwrap().push(StepReport {
                key,
                action,
                changed,
                seconds: took.as_secs_f64(),
            });
        }
    })
}

pub fn print_plan(steps: &[Step], moved: &[(String, String)], json: bool) {
    if json {
        let moved: Vec<_> = moved
            .iter()
            .map(|(from, to)| serde_json::json!({"from": from, "to": to}))
            .collect();
        println!("{}", serde_json::json!({ "plan": steps, "moved": moved }));
        return;
    }
    for (from, to) in moved {
        println!("  moved     {from} -> {to} [Stack::moved: the state entry only; nothing in AWS]");
    }
    let busy: Vec<&Step> = steps.iter().filter(|s| s.action != Action::Same).collect();
    if busy.is_empty() {
        println!(
            "No changes: the stack matches its declaration ({} resources).",
            steps.len()
        );
        return;
    }
    for s in steps {
        let mut line = format!("  {:<10}{}", s.action.verb(), s.key);
        if !s.changed.is_empty() {
            line.push_str(&format!(" ({})", s.changed.join(", ")));
        }
        if let Some(r) = &s.reason {
            line.push_str(&format!(" [{r}]"));
        }
        if s.with_parent {
            line.push_str(" [with its parent]");
        }
        if let Some(c) = s.cause {
            line.push_str(&format!(" [{}]", c.label()));
        }
        if s.retain {
            line.push_str(" [retained: left in AWS without its deployer tags]");
        }
        println!("{line}");
        for d in &s.diffs {
            let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".into());
            println!("      {}: {} -> {}", d.setting, show(&d.old), show(&d.new));
        }
    }
    let count = |a: Action| steps.iter().filter(|s| s.action == a).count();
    println!(
        "Plan: {} to create, {} to update, {} to replace, {} to delete, {} unchanged.",
        count(Action::Create),
        count(Action::Update),
        count(Action::Replace),
        count(Action::Delete),
        count(Action::Same)
    );
}
