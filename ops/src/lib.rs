//! The operator's verbs, for AWS and the local stack alike (the same SDK calls; the local stack
//! only points them at the emulator):
//!
//! - [`redrive::redrive_orders`]: moves what `orders-dlq` holds back onto the orders queue, once
//!   the cause is fixed (`make redrive-orders`);
//! - [`replay::replay_notifications`]: for each description on `notifier-failures`, reads the
//!   records it names back from the stream and hands them to order-notifier again
//!   (`make replay-notifications`);
//! - [`parked::parked`]: what the two parking queues hold, and [`parked::refusal`], why
//!   `make destroy` must wait (`make parked`);
//! - [`dlq::peek_described`]: each parked order, when it arrived, whose it is and why the writer
//!   refused it, none taken (`make dlq-peek`); [`dlq::delete_shown`]: one removed after it is
//!   shown (`make dlq-delete ID=…`);
//! - [`cli`]: the command line (`cafe-ops --help`), where every verb has `--dry-run`.

pub mod cli;
pub mod dlq;
pub mod parked;
pub mod peek;
pub mod redrive;
pub mod refusals;
pub mod replay;

use anyhow::{Context, anyhow, bail};

/// Where the verbs act: the deployed stack's outputs, or the local stack's ready file.
#[derive(Debug, Clone)]
pub struct Targets {
    pub orders_queue_url: String,
    pub orders_dlq_url: String,
    pub notifier_failures_url: String,
    /// The function the stream's records are handed to.
    pub order_notifier: String,
    /// Where the order writer's log lines are, for why it refused a parked order.
    pub order_writer_log: LogPlace,
}

/// Where the order writer logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogPlace {
    /// The local stack's functions' log file.
    File(std::path::PathBuf),
    /// The deployed writer's CloudWatch Logs log group.
    Group(String),
    /// Not known; says why.
    Unknown(String),
}

impl LogPlace {
    /// The log, read with the clients `aws` configures.
    pub fn reader(&self, aws: &aws_config::SdkConfig) -> refusals::WriterLog {
        match self {
            Self::File(path) => refusals::WriterLog::File(path.clone()),
            Self::Group(group) => refusals::WriterLog::LogGroup {
                logs: aws_sdk_cloudwatchlogs::Client::new(aws),
                group: group.clone(),
            },
            Self::Unknown(why) => refusals::WriterLog::Unknown(why.clone()),
        }
    }
}

/// The local stack's functions' log, beside its ready file (local/stack.py: every function runs
/// under one `cargo lambda watch`, whose output is `.local/logs/functions.log`).
pub fn local_functions_log(ready_file: &std::path::Path) -> std::path::PathBuf {
    ready_file
        .parent()
        .unwrap_or(std::path::Path::new("."))
        .join("logs")
        .join("functions.log")
}

impl Targets {
    /// The local stack's, from the emulator's ready file, with the SDK configuration that reaches
    /// its emulator.
    pub fn local(ready_file: &std::path::Path) -> anyhow::Result<(Self, aws_config::SdkConfig)> {
        let resources = cafe_event_sources::ready_file::Resources::read(ready_file)?;
        let config = emulator_config(&resources.orders_queue.url, &resources.region)?;
        let targets = Self {
            orders_queue_url: resources.orders_queue.url,
            orders_dlq_url: resources.orders_dead_letter_queue.url,
            notifier_failures_url: resources.notifier_failures_queue.url,
            order_notifier: resources.stream_mapping.function,
            order_writer_log: LogPlace::File(local_functions_log(ready_file)),
        };
        Ok((targets, config))
    }

    /// A deployed stack's, from the variables `make` sets from its outputs.
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let get = |name: &str| {
            lookup(name)
                .filter(|v| !v.trim().is_empty())
                .with_context(|| format!("{name} is not set"))
        };
        Ok(Self {
            orders_queue_url: get("ORDERS_QUEUE_URL")?,
            orders_dlq_url: get("ORDERS_DLQ_URL")?,
            notifier_failures_url: get("NOTIFIER_FAILURES_QUEUE_URL")?,
            order_notifier: get("ORDER_NOTIFIER_FUNCTION")?,
            // Only dlq-peek and dlq-delete read it, and they still show the messages without it.
            order_writer_log: match get("ORDER_WRITER_LOG_GROUP") {
                Ok(group) => LogPlace::Group(group),
                Err(e) => LogPlace::Unknown(format!(
                    "{e} (deploy/outputs.py sets it from the stack's outputs)"
                )),
            },
        })
    }
}

/// The emulator's SDK configuration: its endpoint (where its queue URLs point) and the
/// credentials it takes from anyone.
fn emulator_config(queue_url: &str, region: &str) -> anyhow::Result<aws_config::SdkConfig> {
    use aws_sdk_sqs::config::{Credentials, Region, SharedCredentialsProvider};
    // http://127.0.0.1:4566/123456789012/orders-queue → http://127.0.0.1:4566
    let origin: String = queue_url
        .splitn(4, '/')
        .take(3)
        .collect::<Vec<_>>()
        .join("/");
    if !origin.starts_with("http") {
        bail!("the ready file's queue URL {queue_url} names no endpoint");
    }
    let credentials = Credentials::new("testing", "testing", None, None, "local-stack");
    Ok(aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(origin)
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .build())
}

/// A queue's ARN, from its URL.
pub async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> anyhow::Result<String> {
    use aws_sdk_sqs::types::QueueAttributeName;
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| anyhow!("{url}: {}", cafe_shared::error::aws_error_text(&e)))?;
    attributes
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .cloned()
        .with_context(|| format!("{url} has no QueueArn"))
}

/// The messages a queue holds now: visible, in flight or delayed.
pub async fn depth(sqs: &aws_sdk_sqs::Client, url: &str) -> anyhow::Result<u64> {
    use aws_sdk_sqs::types::QueueAttributeName::{
        ApproximateNumberOfMessages, ApproximateNumberOfMessagesDelayed,
        ApproximateNumberOfMessagesNotVisible,
    };
    let counts = [
        ApproximateNumberOfMessages,
        ApproximateNumberOfMessagesNotVisible,
        ApproximateNumberOfMessagesDelayed,
    ];
    let answer = sqs
        .get_queue_attributes()
        .queue_url(url)
        .set_attribute_names(Some(counts.to_vec()))
        .send()
        .await
        .map_err(|e| {
            anyhow!(
                "GetQueueAttributes of {url}: {}",
                cafe_shared::error::aws_error_text(&e)
            )
        })?;
    let attributes = answer.attributes().cloned().unwrap_or_default();
    Ok(counts
        .iter()
        .filter_map(|name| attributes.get(name)?.parse::<u64>().ok())
        .sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployed(extra: &[(&str, &str)]) -> Targets {
        let mut variables = vec![
            ("ORDERS_QUEUE_URL", "https://sqs/q"),
            ("ORDERS_DLQ_URL", "https://sqs/dlq"),
            ("NOTIFIER_FAILURES_QUEUE_URL", "https://sqs/f"),
            ("ORDER_NOTIFIER_FUNCTION", "cafe-order-notifier"),
        ];
        variables.extend_from_slice(extra);
        Targets::from_env(|name| {
            variables
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
        .unwrap()
    }

    #[test]
    fn the_deployed_writer_log_group_comes_from_the_environment_and_may_be_missing() {
        let with = deployed(&[("ORDER_WRITER_LOG_GROUP", "/aws/lambda/cafe-order-writer")]);
        assert_eq!(
            with.order_writer_log,
            LogPlace::Group("/aws/lambda/cafe-order-writer".into())
        );
        let without = deployed(&[]);
        let LogPlace::Unknown(why) = without.order_writer_log else {
            panic!("{without:?}");
        };
        assert!(why.contains("ORDER_WRITER_LOG_GROUP is not set"), "{why}");
        assert_eq!(without.orders_dlq_url, "https://sqs/dlq");
    }

    #[test]
    fn the_local_functions_log_is_beside_the_ready_file() {
        assert_eq!(
            local_functions_log(std::path::Path::new(".local/emulator.json")),
            std::path::PathBuf::from(".local/logs/functions.log")
        );
    }
}
