//! Invoking a function through the Lambda API, as an event-source mapping does.

use std::time::Duration;

use anyhow::{anyhow, bail};
use aws_sdk_lambda::primitives::Blob;
use cafe_shared::error::aws_error_text;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The template's function timeout (Globals `Timeout`, which the writer and the notifier keep):
/// Lambda stops an invocation that runs longer and counts it as a function error. Locally an
/// invocation can hang, for one when `cargo lambda watch` restarts a function that is running.
pub const FUNCTION_TIMEOUT: Duration = Duration::from_secs(30);

/// Invokes a function through the Lambda API and reads its response; a function error (the
/// function failed or panicked, or ran past FUNCTION_TIMEOUT) is an `Err` with the function's
/// own message.
pub async fn invoke<E: Serialize, R: DeserializeOwned>(
    lambda: &aws_sdk_lambda::Client,
    function: &str,
    event: &E,
) -> anyhow::Result<R> {
    invoke_within(lambda, function, event, FUNCTION_TIMEOUT).await
}

/// `invoke`, with the function's timeout given.
pub async fn invoke_within<E: Serialize, R: DeserializeOwned>(
    lambda: &aws_sdk_lambda::Client,
    function: &str,
    event: &E,
    timeout: Duration,
) -> anyhow::Result<R> {
    let payload = serde_json::to_vec(event)?;
    let call = lambda
        .invoke()
        .function_name(function)
        .payload(Blob::new(payload))
        .send();
    let output = tokio::time::timeout(timeout, call)
        .await
        .map_err(|_| anyhow!("{function} timed out after {timeout:?}"))?
        .map_err(|e| anyhow!(aws_error_text(&e)))?;
    let body = output.payload().map(|p| p.as_ref()).unwrap_or_default();
    if let Some(kind) = output.function_error() {
        bail!(
            "{function} failed ({kind}): {}",
            String::from_utf8_lossy(body)
        );
    }
    serde_json::from_slice(body)
        .map_err(|e| anyhow!("{function} returned an unexpected response: {e}"))
}
