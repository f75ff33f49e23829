//! Rendering a run: live progress on a terminal, plain lines otherwise,
//! the plan with its value diffs.

use crate::engine::{Action, Event, Step, StepReport};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};

/// How far a run is: what the summary line and the `--json` progress
/// events say.
#[derive(Debug, Default)]
struct Counts {
    total: usize,
    done: usize,
    in_flight: BTreeMap<String, std::time::Instant>,
    began: Option<std::time::Instant>,
}

impl Counts {
    /// (done, total, in flight, waiting on AWS, waiting for their turn
    /// under the quotas, throttled so far, seconds left by the pace so far).
    fn summary(&self, pacer: Option<&crate::pace::Pacer>) -> serde_json::Value {
        let on_aws = self
            .in_flight
            .keys()
            .filter(|k| crate::aws::waiting(k).is_some())
            .count();
        let pace = pacer.map(|p| p.stats()).unwrap_or_default();
        let left = self.total.saturating_sub(self.done);
        let eta = match (self.began, self.done) {
            (Some(t), d) if d > 0 && left > 0 => {
                Some((t.elapsed().as_secs_f64() / d as f64 * left as f64).round() as u64)
            }
            _ => None,
        };
        serde_json::json!({
            "done": self.done, "total": self.total, "in_flight": self.in_flight.len(),
            "waiting_on_aws": on_aws, "waiting_for_quota": pace.waiting,
            "throttled": pace.throttled, "seconds_left": eta,
        })
    }

    fn line(&self, pacer: Option<&crate::pace::Pacer>) -> String {
        let s = self.summary(pacer);
        let mut line = format!(
            "{}/{} done, {} in flight",
            s["done"], s["total"], s["in_flight"]
        );
        let (aws, quota) = (
            s["waiting_on_aws"].as_u64(),
            s["waiting_for_quota"].as_u64(),
        );
        if aws > Some(0) || quota > Some(0) {
            line.push_str(&format!(
                " ({} waiting on AWS, {} calls waiting for their turn under AWS's quotas)",
                aws.unwrap_or(0),
                quota.unwrap_or(0)
            ));
        }
        if s["throttled"].as_u64() > Some(0) {
            line.push_str(&format!(", {} throttled", s["throttled"]));
        }
        if let Some(left) = s["seconds_left"].as_u64() {
            line.push_str(&format!("; about {left} s left"));
        }
        line
    }
}

/// The most steps shown with a spinner of their own (the others are
/// counted on the summary line): a run of hundreds would scroll away.
const SPINNERS: usize = 8;

/// Live progress on a terminal: a summary line (done, in flight, waiting on
/// AWS or for their turn under AWS's quotas, throttled, time left), and a
/// spinner for each of the first steps in flight (what it waits for, since
/// when); plain lines otherwise.
struct Live {
    multi: indicatif::MultiProgress,
    summary: indicatif::ProgressBar,
    bars: Mutex<BTreeMap<String, indicatif::ProgressBar>>,
}

impl Live {
    fn new(
        counts: Arc<Mutex<Counts>>,
        pacer: Option<Arc<crate::pace::Pacer>>,
    ) -> Option<Arc<Live>> {
        if !std::io::stdout().is_terminal() || std::env::var_os("DEPLOYER_NO_PROGRESS").is_some() {
            return None;
        }
        let multi = indicatif::MultiProgress::new();
        let summary = multi.add(indicatif::ProgressBar::new_spinner());
        summary.set_style(
            indicatif::ProgressStyle::with_template("{msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        let live = Arc::new(Live {
            multi,
            summary,
            bars: Mutex::new(BTreeMap::new()),
        });
        // Refresh what each step waits for, and the summary.
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
                let c = counts.lock().unwrap();
                if c.total > SPINNERS {
                    l.summary.set_message(c.line(pacer.as_deref()));
                }
                drop(c);
                drop(l);
                std::thread::sleep(std::time::Duration::from_millis(250));
            }
        });
        Some(live)
    }

    fn started(&self, key: &str, action: Action) {
        let mut bars = self.bars.lock().unwrap();
        if bars.len() >= SPINNERS {
            return;
        }
        let bar = self.multi.add(indicatif::ProgressBar::new_spinner());
        bar.set_style(
            indicatif::ProgressStyle::with_template("  {spinner} {msg} {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.set_message(format!("{} {key}", action.verb()));
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bars.insert(key.to_string(), bar);
    }

    fn finished(&self, key: &str, line: String) {
        if let Some(bar) = self.bars.lock().unwrap().remove(key) {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
        let _ = self.multi.println(line);
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.summary.finish_and_clear();
    }
}

/// With `--json`: a progress event on standard error every 5 s of a run
/// (`{"progress": {"done": .., "total": .., "in_flight": ..,
/// "waiting_on_aws": .., "waiting_for_quota": .., "throttled": ..,
/// "seconds_left": ..}}`), one JSON document a line; standard output keeps
/// the one result document.
fn json_ticker(counts: Arc<Mutex<Counts>>, pacer: Option<Arc<crate::pace::Pacer>>) {
    let weak = Arc::downgrade(&counts);
    drop(counts);
    std::thread::spawn(move || loop {
        std::thread::sleep(std::time::Duration::from_secs(5));
        let Some(c) = weak.upgrade() else { return };
        let c = c.lock().unwrap();
        if c.began.is_some() && c.done < c.total {
            eprintln!(
                "{}",
                serde_json::json!({ "progress": c.summary(pacer.as_deref()) })
            );
        }
    });
}

/// The run's event sink: live progress on a terminal (plain lines
/// otherwise; with `events`, `--json`'s progress events on standard error), and each
/// finished step into `sink`. `pacer`: the run's gates (how many calls wait
/// for their turn under AWS's quotas, how many were throttled).
pub fn printer(
    json: bool,
    sink: Arc<Mutex<Vec<StepReport>>>,
    pacer: Option<Arc<crate::pace::Pacer>>,
    events: bool,
) -> crate::engine::Sink {
    let counts = Arc::new(Mutex::new(Counts::default()));
    let live = if json {
        if events {
            json_ticker(counts.clone(), pacer.clone());
        }
        None
    } else {
        Live::new(counts.clone(), pacer)
    };
    Arc::new(move |e: Event| match e {
        Event::Begin { steps } => {
            let mut c = counts.lock().unwrap();
            c.total += steps;
            c.began.get_or_insert_with(std::time::Instant::now);
        }
        Event::Started { key, action } => {
            counts
                .lock()
                .unwrap()
                .in_flight
                .insert(key.clone(), std::time::Instant::now());
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
            {
                let mut c = counts.lock().unwrap();
                if c.in_flight.remove(&key).is_some() {
                    c.done += 1;
                }
            }
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

/// `text` and a newline on stdout, false once stdout is closed (a reader
/// that went away: `deployer logs -f | head`, `deployer dev | head -1`):
/// a long-running command stops printing, or stops, instead of panicking
/// as `println!` does.
pub fn print_out(text: &str) -> bool {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}").and_then(|()| out.flush()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_counts_what_is_done_in_flight_and_left() {
        let mut c = Counts {
            total: 10,
            done: 4,
            began: Some(std::time::Instant::now() - std::time::Duration::from_secs(8)),
            ..Default::default()
        };
        c.in_flight
            .insert("function/a".into(), std::time::Instant::now());
        let s = c.summary(None);
        assert_eq!(s["done"], 4);
        assert_eq!(s["total"], 10);
        assert_eq!(s["in_flight"], 1);
        // 8 s for 4: about 12 s for the 6 left.
        assert_eq!(s["seconds_left"], 12);
        assert_eq!(c.line(None), "4/10 done, 1 in flight; about 12 s left");
    }
}
