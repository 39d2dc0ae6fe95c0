//! The event-source mappings, with Lambda's semantics.
//!
//! - SQS → order-writer: batches of up to 10 (waiting up to a second for them to fill),
//!   `ReportBatchItemFailures`: only the successes are deleted; a failed message becomes visible
//!   again and, once the queue's `maxReceiveCount` is reached, SQS moves it to the DLQ.
//! - DynamoDB stream → order-notifier: records in order; on a reported failure the batch is read
//!   again from that sequence number; after `STREAM_MAX_RETRIES` failed retries the failing record
//!   is skipped and described on the notifier-failures queue, as Lambda's on-failure destination
//!   does, so an operator can find the order that was not notified.

use std::collections::HashSet;
use std::time::Duration;

use aws_lambda_events::event::sqs::SqsBatchResponse;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::{error, info, warn};

use crate::Aws;
use crate::events::{sqs_event, stream_event};

/// Invokes a function through the Lambda API and reads its response; a function error (the
/// function failed or panicked) is an `Err` with the function's own message.
pub async fn invoke<E: Serialize, R: DeserializeOwned>(
    lambda: &aws_sdk_lambda::Client,
    function: &str,
    event: &E,
) -> Result<R, String> {
    let payload = serde_json::to_vec(event).map_err(|e| e.to_string())?;
    let output = lambda
        .invoke()
        .function_name(function)
        .payload(Blob::new(payload))
        .send()
        .await
        .map_err(|e| aws_sdk_lambda::error::DisplayErrorContext(e).to_string())?;
    let body = output.payload().map(|p| p.as_ref()).unwrap_or_default();
    if let Some(kind) = output.function_error() {
        return Err(format!(
            "{function} failed ({kind}): {}",
            String::from_utf8_lossy(body)
        ));
    }
    serde_json::from_slice(body)
        .map_err(|e| format!("{function} returned an unexpected response: {e}"))
}

#[derive(Clone)]
pub struct SqsMapping {
    pub aws: Aws,
    pub queue_url: String,
    pub queue_arn: String,
    pub region: String,
    pub function: String,
    pub retry_delay: Duration,
}

impl SqsMapping {
    pub async fn run(self) {
        loop {
            if let Err(e) = self.poll_once().await {
                warn!(
                    queue = self.queue_url,
                    reason = e,
                    "SQS poll failed; trying again"
                );
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }

    /// Receives one batch, hands it to the function and settles each message.
    pub async fn poll_once(&self) -> Result<(), String> {
        let received = self
            .aws
            .sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(e).to_string())?;
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(());
        }
        let event = sqs_event(&messages, &self.queue_arn, &self.region);
        let failed: HashSet<String> =
            match invoke::<_, SqsBatchResponse>(&self.aws.lambda, &self.function, &event).await {
                Ok(response) => response
                    .batch_item_failures
                    .into_iter()
                    .map(|f| f.item_identifier)
                    .collect(),
                Err(e) => {
                    error!(
                        function = self.function,
                        reason = e,
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
                        .map_err(|e| e.to_string())
                })
                .collect::<Result<Vec<_>, _>>()?;
            self.aws
                .sqs
                .delete_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(e).to_string())?;
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
                .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(e).to_string())?;
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

/// Where stream reading goes on after a batch.
enum Next {
    Continue,
    RetryAt(String),
    SkipPast(String),
}

pub struct StreamMapping {
    pub aws: Aws,
    pub stream_arn: String,
    pub failure_queue_url: String,
    pub region: String,
    pub function: String,
    pub max_retries: u32,
}

impl StreamMapping {
    pub async fn run(self) {
        loop {
            if let Err(e) = self.follow_shards().await {
                warn!(
                    stream = self.stream_arn,
                    reason = e,
                    "stream read failed; starting again"
                );
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }

    async fn follow_shards(&self) -> Result<(), String> {
        let described = self
            .aws
            .streams
            .describe_stream()
            .stream_arn(&self.stream_arn)
            .send()
            .await
            .map_err(|e| aws_sdk_dynamodbstreams::error::DisplayErrorContext(e).to_string())?;
        let shards = described
            .stream_description()
            .map(|d| d.shards().to_vec())
            .unwrap_or_default();
        let shard = shards
            .first()
            .and_then(|s| s.shard_id())
            .ok_or("the stream has no shard")?;
        let mut iterator = self
            .iterator(shard, ShardIteratorType::TrimHorizon, None)
            .await?;
        let mut attempts = 0;
        loop {
            let page = self
                .aws
                .streams
                .get_records()
                .shard_iterator(&iterator)
                .limit(100)
                .send()
                .await
                .map_err(|e| aws_sdk_dynamodbstreams::error::DisplayErrorContext(e).to_string())?;
            let next = page
                .next_shard_iterator()
                .ok_or("the shard was closed")?
                .to_owned();
            let records = page.records();
            if records.is_empty() {
                tokio::time::sleep(Duration::from_millis(200)).await;
                iterator = next;
                continue;
            }
            iterator = match self.deliver(records, &mut attempts).await {
                Next::Continue => next,
                Next::RetryAt(sequence) => {
                    self.iterator(shard, ShardIteratorType::AtSequenceNumber, Some(sequence))
                        .await?
                }
                Next::SkipPast(sequence) => {
                    self.iterator(
                        shard,
                        ShardIteratorType::AfterSequenceNumber,
                        Some(sequence),
                    )
                    .await?
                }
            };
        }
    }

    /// Hands a batch to the function and decides where reading goes on.
    async fn deliver(
        &self,
        records: &[aws_sdk_dynamodbstreams::types::Record],
        attempts: &mut u32,
    ) -> Next {
        let event = stream_event(records, &self.stream_arn, &self.region);
        let first = records[0]
            .dynamodb()
            .and_then(|d| d.sequence_number())
            .map(str::to_owned);
        let failed_at = match invoke::<_, DynamoDbEventResponse>(
            &self.aws.lambda,
            &self.function,
            &event,
        )
        .await
        {
            Ok(response) => response
                .batch_item_failures
                .into_iter()
                .find_map(|f| f.item_identifier),
            Err(e) => {
                error!(
                    function = self.function,
                    reason = e,
                    "the whole stream batch failed"
                );
                first
            }
        };
        let Some(failed_at) = failed_at else {
            *attempts = 0;
            return Next::Continue;
        };
        *attempts += 1;
        if *attempts > self.max_retries {
            *attempts = 0;
            let parked = self.park(&failed_at, records).await;
            error!(
                function = self.function,
                sequence_number = failed_at,
                parked = parked
                    .as_ref()
                    .map_or_else(|e| e.as_str(), |()| "on the notifier-failures queue"),
                "stream record skipped after {} failed attempts",
                self.max_retries + 1
            );
            return Next::SkipPast(failed_at);
        }
        warn!(
            function = self.function,
            sequence_number = failed_at,
            attempt = *attempts,
            "stream batch failed; retrying from this record"
        );
        tokio::time::sleep(Duration::from_millis(500 * u64::from(*attempts))).await;
        Next::RetryAt(failed_at)
    }

    /// Describes a skipped record on the failure queue, in the shape of Lambda's on-failure
    /// record for a stream (the batch's place in the stream, not its data).
    async fn park(
        &self,
        sequence: &str,
        records: &[aws_sdk_dynamodbstreams::types::Record],
    ) -> Result<(), String> {
        let arrival = records
            .iter()
            .find(|r| r.dynamodb().and_then(|d| d.sequence_number()) == Some(sequence))
            .and_then(|r| r.dynamodb()?.approximate_creation_date_time())
            .map(|t| t.to_string());
        // arn:aws:dynamodb:<region>:<account>:table/…: the function lives in the same account.
        let account = self.stream_arn.split(':').nth(4).unwrap_or_default();
        let function_arn = format!(
            "arn:aws:lambda:{}:{account}:function:{}",
            self.region, self.function
        );
        let record = serde_json::json!({
            "requestContext": {
                "condition": "RetryAttemptsExhausted",
                "functionArn": function_arn,
                "approximateInvokeCount": self.max_retries + 1,
            },
            "DDBStreamBatchInfo": {
                "streamArn": self.stream_arn,
                "startSequenceNumber": sequence,
                "endSequenceNumber": sequence,
                "approximateArrivalOfFirstRecord": arrival,
                "batchSize": 1,
            },
        });
        self.aws
            .sqs
            .send_message()
            .queue_url(&self.failure_queue_url)
            .message_body(record.to_string())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(e).to_string())
    }

    async fn iterator(
        &self,
        shard: &str,
        kind: ShardIteratorType,
        sequence: Option<String>,
    ) -> Result<String, String> {
        let output = self
            .aws
            .streams
            .get_shard_iterator()
            .stream_arn(&self.stream_arn)
            .shard_id(shard)
            .shard_iterator_type(kind)
            .set_sequence_number(sequence)
            .send()
            .await
            .map_err(|e| aws_sdk_dynamodbstreams::error::DisplayErrorContext(e).to_string())?;
        output
            .shard_iterator()
            .map(str::to_owned)
            .ok_or_else(|| "no shard iterator".to_owned())
    }
}
