//! `deployer logs [--follow] [--since 10m]`: the function's CloudWatch Logs
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

pub async fn logs(g: &Global, follow: bool, since: &str) -> Result<()> {
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
    // The stack's Lambda function's group: the function the state records
    // (any program), else the example's name.
    let function = state
        .resources
        .iter()
        .find(|(k, e)| {
            e.kind_and_parent(k)
                .is_some_and(|(kind, _)| kind == "aws:lambda:Function")
        })
        .and_then(|(_, e)| e.id.clone())
        .unwrap_or(prefix);
    let (sdk, local) = stack_sdk(g, &cfg, &state).await?;
    let client = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    let group = format!("/aws/lambda/{function}");
    let mut start = now_ms() - back;
    let mut seen: HashSet<String> = HashSet::new();
    loop {
        let mut token: Option<String> = None;
        let mut last = start;
        loop {
            let r = client
                .filter_log_events()
                .log_group_name(&group)
                .start_time(start)
                .set_next_token(token.clone())
                .send()
                .await;
            let page = match r {
                Ok(p) => p,
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_resource_not_found_exception()) =>
                {
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
            };
            let mut events = page.events.unwrap_or_default();
            events.sort_by_key(|e| e.timestamp.unwrap_or_default());
            for e in events {
                let id = e.event_id.clone().unwrap_or_default();
                if !id.is_empty() && !seen.insert(id) {
                    continue;
                }
                let t = e.timestamp.unwrap_or_default();
                last = last.max(t);
                let msg = e.message.unwrap_or_default();
                if g.json {
                    println!(
                        "{}",
                        serde_json::json!({"timestamp": t, "stream": e.log_stream_name, "message": msg})
                    );
                } else {
                    println!("{} {}", format_ms(t), msg.trim_end());
                }
            }
            token = page.next_token;
            if token.is_none() {
                break;
            }
        }
        if !follow {
            return Ok(());
        }
        start = last;
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
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
