//! The Runtime API an instance's bootstrap speaks: `invocation/next`,
//! `/response`, `/error`, `init/error`.

use super::{Outcome, RuntimeApi};
use crate::local::tokens::uuid;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::sync::Arc;

pub(super) async fn next(State(api): State<Arc<RuntimeApi>>) -> Response {
    let item = api.queue.lock().await.recv().await;
    let Some((id, event, deadline)) = item else {
        return StatusCode::GONE.into_response();
    };
    let mut h = HeaderMap::new();
    let hv = |s: &str| HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static(""));
    h.insert("lambda-runtime-aws-request-id", hv(&id));
    h.insert("lambda-runtime-deadline-ms", hv(&deadline.to_string()));
    h.insert("lambda-runtime-invoked-function-arn", hv(&api.arn));
    h.insert(
        "lambda-runtime-trace-id",
        hv(&format!("Root=1-{}", uuid().replace('-', ""))),
    );
    h.insert("content-type", HeaderValue::from_static("application/json"));
    (StatusCode::OK, h, event.to_string()).into_response()
}

pub(super) async fn respond(
    State(api): State<Arc<RuntimeApi>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let v: Value = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    match api.pending.lock().unwrap().remove(&id) {
        Some(tx) => {
            let _ = tx.send(Outcome::Ok(v));
            (StatusCode::ACCEPTED, "{\"status\":\"OK\"}").into_response()
        }
        None => (
            StatusCode::BAD_REQUEST,
            "{\"errorMessage\":\"unknown request id\"}",
        )
            .into_response(),
    }
}

pub(super) async fn error(
    State(api): State<Arc<RuntimeApi>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if let Some(tx) = api.pending.lock().unwrap().remove(&id) {
        let _ = tx.send(Outcome::Err(format!(
            "function error: {}",
            String::from_utf8_lossy(&body)
        )));
    }
    (StatusCode::ACCEPTED, "{\"status\":\"OK\"}").into_response()
}

pub(super) async fn init_error(State(api): State<Arc<RuntimeApi>>, body: Bytes) -> Response {
    let msg = format!("init error: {}", String::from_utf8_lossy(&body));
    for (_, tx) in api.pending.lock().unwrap().drain() {
        let _ = tx.send(Outcome::Err(msg.clone()));
    }
    (StatusCode::ACCEPTED, "{\"status\":\"OK\"}").into_response()
}
