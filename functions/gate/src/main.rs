//! A Lambda authorizer of an HTTP API (`REQUEST`, payload 2.0, simple
//! responses): lets in a request whose `x-api-key` header is the key in
//! `API_KEY`; without `API_KEY`, nobody. The multi-function example's
//! `GET /internal` (`examples/two_functions.rs`).
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let key = std::env::var("API_KEY").ok().filter(|k| !k.is_empty());
    lambda_runtime::run(service_fn(move |e: LambdaEvent<Value>| {
        let answer = decide(key.as_deref(), &e.payload);
        async move { Ok::<Value, Error>(answer) }
    }))
    .await
}

/// The simple response to an authorizer event: `isAuthorized`, and the
/// context the integration sees (`requestContext.authorizer.lambda`).
fn decide(key: Option<&str>, event: &Value) -> Value {
    // API Gateway gives header names in lower case (payload 2.0).
    let given = event["headers"]["x-api-key"].as_str();
    let ok = matches!((key, given), (Some(k), Some(g)) if same(k.as_bytes(), g.as_bytes()));
    json!({"isAuthorized": ok, "context": {"caller": if ok { "key holder" } else { "" }}})
}

/// Equal, compared without stopping at the first difference.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_key_opens() {
        let with = |k: &str| json!({"headers": {"x-api-key": k}});
        assert_eq!(
            decide(Some("s3cret"), &with("s3cret"))["isAuthorized"],
            true
        );
        assert_eq!(
            decide(Some("s3cret"), &with("s3cre"))["isAuthorized"],
            false
        );
        assert_eq!(
            decide(Some("s3cret"), &json!({"headers": {}}))["isAuthorized"],
            false
        );
        assert_eq!(decide(None, &with(""))["isAuthorized"], false);
    }
}
