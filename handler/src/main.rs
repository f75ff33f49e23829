use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Configuration and the JWKS cache live as long as the execution environment.
    let app = Arc::new(handler::App::from_env());
    lambda_runtime::run(service_fn(move |e: LambdaEvent<Value>| {
        let app = app.clone();
        async move { Ok::<Value, Error>(app.handle(e.payload).await) }
    }))
    .await
}
