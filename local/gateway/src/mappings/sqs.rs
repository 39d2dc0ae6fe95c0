//! SQS → order-writer, with Lambda's semantics: batches of up to 10 (waiting up to a second for
//! them to fill), `ReportBatchItemFailures`: only the successes are deleted; a failed message
//! becomes visible again and, once the queue's `maxReceiveCount` is reached, SQS moves it to the
//! DLQ.

use std::collections::HashSet;
use std::time::Duration;

use anyhow::anyhow;
use aws_lambda_events::event::sqs::SqsBatchResponse;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use tracing::{error, info, warn};

use cafe_event_sources::events::sqs_event;
use cafe_event_sources::invoke::invoke_within;
use cafe_shared::error::aws_error_text;

use crate::Aws;

#[derive(Clone)]
pub struct SqsMapping {
    pub aws: Aws,
    pub queue_url: String,
    pub queue_arn: String,
    pub region: String,
    pub function: String,
    pub function_timeout: Duration,
    /// The most messages one invocation gets (the template's `BatchSize`, at most 10).
    pub batch_size: i32,
    pub retry_delay: Duration,
}

impl SqsMapping {
    pub async fn run(self) {
        loop {
            if let Err(e) = self.poll_once().await {
                warn!(
                    queue = self.queue_url,
                    reason = format!("{e:#}"),
                    "SQS poll failed; trying again"
                );
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }

    /// Receives one batch, hands it to the function and settles each message.
    pub async fn poll_once(&self) -> anyhow::Result<()> {
        let received = self
            .aws
            .sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(self.batch_size)
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| anyhow!(aws_error_text(&e)))?;
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(());
        }
        let event = sqs_event(&messages, &self.queue_arn, &self.region);
        let failed: HashSet<String> = match invoke_within::<_, SqsBatchResponse>(
            &self.aws.lambda,
            &self.function,
            &event,
            self.function_timeout,
        )
        .await
        {
            Ok(response) => response
                .batch_item_failures
                .into_iter()
                .map(|f| f.item_identifier)
                .collect(),
            Err(e) => {
                error!(
                    function = self.function,
                    reason = format!("{e:#}"),
                    "the whole batch failed; every message will be retried"
                );
                messages
                    .iter()
                    .filter_map(|m| m.message_id.clone())
                    .collect()
            }
        };
        let (done, retry): (Vec<_>, Vec<_>) = messages
            .iter()
            .partition(|m| !failed.contains(m.message_id().unwrap_or_default()));
        if !done.is_empty() {
            let entries = done
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(m.receipt_handle().unwrap_or_default())
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()?;
            self.aws
                .sqs
                .delete_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| anyhow!(aws_error_text(&e)))?;
        }
        for message in &retry {
            self.aws
                .sqs
                .change_message_visibility()
                .queue_url(&self.queue_url)
                .receipt_handle(message.receipt_handle().unwrap_or_default())
                .visibility_timeout(self.retry_delay.as_secs() as i32)
                .send()
                .await
                .map_err(|e| anyhow!(aws_error_text(&e)))?;
        }
        info!(
            function = self.function,
            messages = messages.len(),
            failed = retry.len(),
            "SQS batch delivered"
        );
        Ok(())
    }
}
