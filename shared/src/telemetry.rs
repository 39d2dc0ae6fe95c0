//! Logging: one JSON object per line in Lambda (CloudWatch can query the fields), plain text for
//! people when `LOG_FORMAT=text`. The level comes from `RUST_LOG`, else Lambda's
//! `AWS_LAMBDA_LOG_LEVEL`, else `info`.

use tracing_subscriber::EnvFilter;

use crate::config::LOG_FORMAT;

pub fn init() {
    let level = std::env::var("RUST_LOG")
        .or_else(|_| std::env::var("AWS_LAMBDA_LOG_LEVEL"))
        .unwrap_or_else(|_| "info".to_owned());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(level.to_lowercase()))
        .with_target(false);
    // A second call (tests, benches) keeps the first subscriber.
    let _ = if LOG_FORMAT.value() == "text" {
        builder.with_ansi(false).try_init()
    } else {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init()
    };
}
