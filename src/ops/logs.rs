//! `deployer logs [KEY] [--follow] [--since 10m]`: a function's CloudWatch
//! Logs, or every function's of the stack merged in time order
//! (`FilterLogEvents` on `/aws/lambda/{function}`, polled every second for
//! `--follow`). For a `deployer dev` stack they come from the emulator, where
//! the local function's lines are written the way Lambda writes them.

use super::{read_store, stack_sdk, Global};
use crate::config::Config;
use crate::error::{Error, Result};
use std::collections::HashSet;

/// "30s", "10m", "2h", "1d" in milliseconds.
pub fn parse_since(s: &str) -> Result<i64> {
    let bad = || {
        Error::Other(format!(
            "--since {s:?} is not a duration: use a number and s, m, h or d (30s, 10m, 2h, 1d)"
        ))
    };
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?);
    let n: i64 = n.parse().map_err(|_| bad())?;
    let ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(bad()),
    };
    Ok(n * ms)
}

/// `deployer logs [KEY]`: the logs of the stack's function `KEY` (its key
/// in the program or its name), else of every function the stack records,
/// merged in time order (each line then names its function).
pub async fn logs(g: &Global, key: Option<&str>, follow: bool, since: &str) -> Result<()> {
    let back = parse_since(since)?;
    let cfg = Config::load(g.config.as_deref())?;
    let store = read_store(g, &cfg).await?;
    let state = store.load(&g.stack).await?;
    let prefix = state.name_prefix.clone().ok_or_else(|| {
        Error::Other(format!(
            "stack {:?} has no state at {}: run `deployer up` (or `deployer dev`) first",
            g.stack,
            store.path.display()
        ))
    })?;
    // The stack's functions, by key: their names as the state records them.
    let functions: Vec<(String, String)> = state
        .resources
        .iter()
        .filter(|(k, e)| {
            e.kind_and_parent(k)
                .is_some_and(|(kind, _)| kind == "aws:lambda:Function")
        })
        .filter_map(|(k, e)| Some((k.clone(), e.id.clone()?)))
        .collect();
    let chosen: Vec<(String, String)> = match key {
        Some(want) => {
            let found: Vec<_> = functions
                .iter()
                .filter(|(k, name)| k == want || name == want)
                .cloned()
                .collect();
            if found.is_empty() {
                let known: Vec<String> = functions
                    .iter()
                    .map(|(k, n)| format!("{k} ({n})"))
                    .collect();
                return Err(Error::Other(format!(
                    "stack {:?} has no function {want:?}: its functions are {} (give a key or a name)",
                    g.stack,
                    if known.is_empty() { "none yet".to_string() } else { known.join(", ") }
                )));
            }
            found
        }
        // No function recorded (a stack from before functions were kept by
        // key): the example's name.
        None if functions.is_empty() => vec![(prefix.clone(), prefix)],
        None => functions,
    };
    let several = chosen.len() > 1;
    let (sdk, local) = stack_sdk(g, &cfg, &state).await?;
    // Deployer's client: paced under the quotas (and `--quota-share`), its
    // retry policy.
    let client = crate::aws::Clients::sharing(&sdk, g.quota_share).logs;
    let mut start = now_ms() - back;
    let mut seen: HashSet<String> = HashSet::new();
    loop {
        let mut last = start;
        let mut events = vec![];
        for (key, name) in &chosen {
            let group = format!("/aws/lambda/{name}");
            match read_group(&client, &group, start).await {
                Ok(found) => events.extend(found.into_iter().map(|e| (key.clone(), e))),
                // One of several not made yet (no call logged yet): the rest.
                Err(e) if several && is_missing(&e) => {}
                Err(e) if is_missing(&e) => {
                    return Err(Error::Other(format!(
                        "log group {group} does not exist: run `deployer up` (it creates it)"
                    )))
                }
                Err(e) if local.is_some() && crate::error::no_response(&e) => {
                    return Err(Error::Other(format!(
                        "the local stack {:?} is not running: start it with `deployer dev`",
                        g.stack
                    )))
                }
                Err(e) => return Err(Error::aws(format!("read the logs of {group}"), e)),
            }
        }
        events.sort_by_key(|(_, e)| e.timestamp.unwrap_or_default());
        for (key, e) in events {
            let id = e.event_id.clone().unwrap_or_default();
            if !id.is_empty() && !seen.insert(id) {
                continue;
            }
            let t = e.timestamp.unwrap_or_default();
            last = last.max(t);
            let msg = e.message.unwrap_or_default();
            let line = if g.json {
                serde_json::json!({"timestamp": t, "function": key, "stream": e.log_stream_name, "message": msg}).to_string()
            } else if several {
                format!("{} {key} {}", format_ms(t), msg.trim_end())
            } else {
                format!("{} {}", format_ms(t), msg.trim_end())
            };
            // Its reader went away (`logs -f | head`): nothing more to do.
            if !crate::render::print_out(&line) {
                return Ok(());
            }
        }
        if !follow {
            return Ok(());
        }
        // CloudWatch files an event under its own time, which may be a
        // little before the newest one seen (another stream, another
        // function): each poll looks back a few seconds, and what was
        // printed already is known by its ID.
        start = last - FOLLOW_OVERLAP_MS;
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

/// How far back each `--follow` poll looks before the newest event seen.
const FOLLOW_OVERLAP_MS: i64 = 10_000;

type LogsError = aws_sdk_cloudwatchlogs::error::SdkError<
    aws_sdk_cloudwatchlogs::operation::filter_log_events::FilterLogEventsError,
>;

fn is_missing(e: &LogsError) -> bool {
    e.as_service_error()
        .is_some_and(|s| s.is_resource_not_found_exception())
}

/// Every event of `group` since `start` (every page).
async fn read_group(
    client: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    start: i64,
) -> std::result::Result<Vec<aws_sdk_cloudwatchlogs::types::FilteredLogEvent>, LogsError> {
    let mut out = vec![];
    let mut token: Option<String> = None;
    loop {
        let page = client
            .filter_log_events()
            .log_group_name(group)
            .start_time(start)
            .set_next_token(token.clone())
            .send()
            .await?;
        out.extend(page.events.unwrap_or_default());
        token = page.next_token;
        if token.is_none() {
            return Ok(out);
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `HH:MM:SS.mmm` (UTC) of a CloudWatch timestamp.
fn format_ms(t: i64) -> String {
    let s = t.div_euclid(1000);
    let ms = t.rem_euclid(1000);
    let d = s.rem_euclid(86_400);
    format!(
        "{:02}:{:02}:{:02}.{ms:03}",
        d / 3600,
        (d % 3600) / 60,
        d % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_since("30s").unwrap(), 30_000);
        assert_eq!(parse_since("10m").unwrap(), 600_000);
        assert_eq!(parse_since("2h").unwrap(), 7_200_000);
        assert_eq!(parse_since("1d").unwrap(), 86_400_000);
        assert!(parse_since("10").is_err());
        assert!(parse_since("m").is_err());
        assert!(parse_since("5w").is_err());
        assert_eq!(format_ms(3_723_004), "01:02:03.004");
    }
}
