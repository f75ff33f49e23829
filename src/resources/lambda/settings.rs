use crate::kind::{s, Props};
use serde_json::json;
use serde_json::Value;

/// A function's logging settings as a setting's value (the log group
/// `/aws/lambda/NAME` when none is named; levels only with JSON, `INFO`
/// where none is named: Lambda stores and reports `INFO` for a level it is
/// not sent, so an empty one would be planned as a change on every run;
/// terraform-provider-aws#35301).
pub(super) fn logging_value(
    name: &str,
    json_format: bool,
    app: &str,
    system: &str,
    group: &str,
) -> Value {
    let group = if group.is_empty() {
        format!("/aws/lambda/{name}")
    } else {
        group.to_string()
    };
    let level = |l: &str| match (json_format, l.is_empty()) {
        (false, _) => String::new(),
        (true, true) => "INFO".to_string(),
        (true, false) => l.to_ascii_uppercase(),
    };
    json!({
        "format": if json_format { "JSON" } else { "Text" },
        "application_level": level(app),
        "system_level": level(system),
        "log_group": group,
    })
}

/// The SDK's logging configuration from a setting's value.
pub(super) fn logging_config(d: &Props) -> aws_sdk_lambda::types::LoggingConfig {
    use aws_sdk_lambda::types::{ApplicationLogLevel, LogFormat, SystemLogLevel};
    let l = d.get("logging").cloned().unwrap_or_default();
    let text = |k: &str| l[k].as_str().unwrap_or_default().to_string();
    let json_format = text("format") == "JSON";
    aws_sdk_lambda::types::LoggingConfig::builder()
        .log_format(LogFormat::from(text("format").as_str()))
        .set_application_log_level(
            Some(text("application_level"))
                .filter(|v| json_format && !v.is_empty())
                .map(|v| ApplicationLogLevel::from(v.as_str())),
        )
        .set_system_log_level(
            Some(text("system_level"))
                .filter(|v| json_format && !v.is_empty())
                .map(|v| SystemLogLevel::from(v.as_str())),
        )
        .log_group(text("log_group"))
        .build()
}

pub(super) fn tracing_config(d: &Props) -> aws_sdk_lambda::types::TracingConfig {
    aws_sdk_lambda::types::TracingConfig::builder()
        .mode(aws_sdk_lambda::types::TracingMode::from(
            s(d, "tracing").as_str(),
        ))
        .build()
}

pub(super) fn ephemeral_storage(d: &Props) -> Option<aws_sdk_lambda::types::EphemeralStorage> {
    let mb = d.get("ephemeral_storage_mb")?.as_i64()? as i32;
    aws_sdk_lambda::types::EphemeralStorage::builder()
        .size(mb)
        .build()
        .ok()
}
