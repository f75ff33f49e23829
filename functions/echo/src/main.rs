//! A Lambda behind API Gateway (payload 2.0) that answers with the request's
//! method, path and query string: the multi-function example's second
//! function (`examples/two_functions.rs`), a crate of its own. Behind a
//! Lambda authorizer, the `caller` its context names; behind a JWT
//! authorizer, the token's `issuer` (`examples/two_apis.rs`); with `GREETING` set
//! (`examples/hello_api.rs`), that greeting.
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let greeting = std::env::var("GREETING").ok();
    lambda_runtime::run(service_fn(move |e: LambdaEvent<Value>| {
        let greeting = greeting.clone();
        async move {
            let p = e.payload;
            let body = json!({
                "greeting": greeting,
                "method": p["requestContext"]["http"]["method"],
                "path": p["rawPath"],
                "query": p["rawQueryString"],
                "caller": p["requestContext"]["authorizer"]["lambda"]["caller"],
                "issuer": p["requestContext"]["authorizer"]["jwt"]["claims"]["iss"],
            });
            Ok::<Value, Error>(json!({
                "statusCode": 200,
                "headers": {"content-type": "application/json"},
                "body": body.to_string(),
            }))
        }
    }))
    .await
}
