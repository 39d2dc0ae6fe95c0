//! The floor: a `lambda_runtime` function that returns its event unchanged.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;

// One event at a time (Lambda's model): a single-threaded runtime, which also starts faster.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<Value, Error>(event.payload)
    }))
    .await
}
