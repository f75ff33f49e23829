//! The local function's logs: what Lambda writes to CloudWatch Logs, written
//! to the emulator's CloudWatch Logs (group `/aws/lambda/{prefix}`, one stream
//! per instance) so that `deployer logs` reads them the way it reads AWS's,
//! and shown in the dev terminal prefixed with the request ID.

use super::lambda::LogSink;
use std::collections::HashSet;
use tokio::sync::mpsc;

pub struct CloudWatchSink {
    tx: mpsc::UnboundedSender<(String, i64, String)>,
    echo: bool,
}

impl CloudWatchSink {
    /// Starts the writer task: lines are batched (one `PutLogEvents` per
    /// stream every 200 ms at most).
    pub fn start(client: aws_sdk_cloudwatchlogs::Client, group: String, echo: bool) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<(String, i64, String)>();
        tokio::spawn(async move {
            let mut streams: HashSet<String> = HashSet::new();
            while let Some(first) = rx.recv().await {
                let mut batch = vec![first];
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                while let Ok(x) = rx.try_recv() {
                    batch.push(x);
                }
                for (stream, events) in by_stream(batch) {
                    if streams.insert(stream.clone()) {
                        let _ = client
                            .create_log_stream()
                            .log_group_name(&group)
                            .log_stream_name(&stream)
                            .send()
                            .await;
                    }
                    let events = events
                        .into_iter()
                        .filter_map(|(t, m)| {
                            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                                .timestamp(t)
                                .message(m)
                                .build()
                                .ok()
                        })
                        .collect::<Vec<_>>();
                    if let Err(e) = client
                        .put_log_events()
                        .log_group_name(&group)
                        .log_stream_name(&stream)
                        .set_log_events(Some(events))
                        .send()
                        .await
                    {
                        eprintln!(
                            "deployer dev: could not write the function's logs to {group}: {}",
                            aws_smithy_types::error::display::DisplayErrorContext(e)
                        );
                    }
                }
            }
        });
        CloudWatchSink { tx, echo }
    }
}

/// A batch's lines per stream, each stream's in the order of their
/// timestamps (stable: lines of the same millisecond keep the order they
/// came in). CloudWatch Logs refuses a `PutLogEvents` whose events are not
/// in chronological order, and the whole batch is lost: a function's stdout
/// and stderr are read by two tasks, and the host's own REPORT line by a
/// third, so a line stamped earlier can arrive later.
fn by_stream(
    batch: Vec<(String, i64, String)>,
) -> std::collections::BTreeMap<String, Vec<(i64, String)>> {
    let mut out: std::collections::BTreeMap<String, Vec<(i64, String)>> = Default::default();
    for (s, t, l) in batch {
        out.entry(s).or_default().push((t, l));
    }
    for events in out.values_mut() {
        events.sort_by_key(|(t, _)| *t);
    }
    out
}

impl LogSink for CloudWatchSink {
    fn line(&self, stream: &str, request_id: &str, line: &str) {
        if self.echo {
            let short: String = request_id.chars().take(8).collect();
            eprintln!("[{short}] {line}");
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let _ = self.tx.send((stream.to_string(), now, line.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Seen in a test run: a handler's line stamped a millisecond before the
    /// END line arrived after it, and the batch with the cold start's
    /// `Init Duration` was refused.
    #[test]
    fn each_streams_lines_go_in_chronological_order() {
        let l = |s: &str, t: i64, m: &str| (s.to_string(), t, m.to_string());
        let got = by_stream(vec![
            l("a", 10, "START"),
            l("b", 11, "START b"),
            l("a", 13, "END"),
            l("a", 12, "handler: GET / -> 200"),
            l("a", 13, "REPORT"),
        ]);
        let a: Vec<_> = got["a"].iter().map(|(t, m)| (*t, m.as_str())).collect();
        assert_eq!(
            a,
            [
                (10, "START"),
                (12, "handler: GET / -> 200"),
                (13, "END"),
                (13, "REPORT")
            ]
        );
        assert_eq!(got["b"], [(11, "START b".to_string())]);
    }
}
