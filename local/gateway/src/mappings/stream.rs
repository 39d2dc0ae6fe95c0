//! DynamoDB stream → order-notifier, with Lambda's semantics: every shard, a parent before its
//! children, each in order. Per shard the mapping keeps a checkpoint, the last sequence number
//! whose batch the function finished: after any error (reading the stream or invoking the
//! function) it reads on after the checkpoint, and nothing at or before it is handed over again.
//! A record the function reports failed is retried from there; a batch that fails as a whole is
//! bisected. After `STREAM_MAX_RETRIES` failed retries the failing records are skipped and
//! described on the notifier-failures queue, as Lambda's on-failure destination does, so an
//! operator can find the orders that were not notified. What it hands over and where each
//! shard's checkpoint is are reported to a `position::StreamPosition`, which the ops page reads.
//! The decisions are plain functions in `progress`; this module reads, invokes and parks.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use anyhow::{Context, anyhow};
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use tracing::{error, info, warn};

use cafe_event_sources::events::stream_event;
use cafe_event_sources::invoke::invoke_within;
use cafe_shared::error::aws_error_text;

use super::position::StreamPosition;
use super::progress::{
    Invocation, Parked, Progress, behind, hand_over, ready_shards, reported, sequence_number,
    settle, start_position,
};
use crate::Aws;

/// How long the shards rest when none had anything new (Lambda polls a shard about four times
/// a second).
const IDLE_POLL: Duration = Duration::from_millis(200);
/// How long the mapping rests after a failed AWS call before it reads on from its checkpoints.
const AFTER_ERROR: Duration = Duration::from_secs(1);
/// The pause before a failed batch is retried, times the attempts so far.
const RETRY_PAUSE: Duration = Duration::from_millis(500);

pub struct StreamMapping {
    pub aws: Aws,
    pub stream_arn: String,
    pub failure_queue_url: String,
    pub region: String,
    pub function: String,
    pub function_timeout: Duration,
    /// The most records one GetRecords returns and one batch holds (the template's `BatchSize`).
    pub batch_size: usize,
    pub max_retries: u32,
}

/// What the mapping keeps about one shard, across errors.
#[derive(Debug)]
struct ShardState {
    progress: Progress,
    /// Where the next read starts; `None` when a new iterator must be asked for at the
    /// checkpoint (at first, after an error, before a retry).
    iterator: Option<String>,
    /// Closed, and every record in it finished or parked: its children may be read.
    finished: bool,
}

/// What one read of a shard came to.
enum Poll {
    Delivered,
    Idle,
    Closed,
}

impl StreamMapping {
    pub async fn run(self) {
        self.run_reporting_to(StreamPosition::default()).await
    }

    /// Runs the mapping, keeping `position` up to date for the ops page.
    pub async fn run_reporting_to(self, position: StreamPosition) {
        let mut shards = HashMap::new();
        loop {
            if let Err(e) = self.follow(&mut shards, &position).await {
                warn!(
                    stream = self.stream_arn,
                    reason = format!("{e:#}"),
                    "stream read failed; reading on after each shard's checkpoint"
                );
                // An iterator handed out before the failure may be the very thing that failed.
                for shard in shards.values_mut() {
                    shard.iterator = None;
                }
                tokio::time::sleep(AFTER_ERROR).await;
            }
        }
    }

    /// Follows every shard of the stream, parents before children, until an AWS call fails.
    async fn follow(
        &self,
        shards: &mut HashMap<String, ShardState>,
        position: &StreamPosition,
    ) -> anyhow::Result<()> {
        loop {
            let listed = self.list_shards().await?;
            let finished: HashSet<String> = shards
                .iter()
                .filter(|(_, shard)| shard.finished)
                .map(|(id, _)| id.clone())
                .collect();
            let ready = ready_shards(&listed, &finished);
            if ready.is_empty() {
                tokio::time::sleep(IDLE_POLL).await;
                continue;
            }
            // The ready shards in turn, until one closes: its children may be ready then.
            loop {
                let (mut delivered, mut closed) = (false, false);
                for id in &ready {
                    let shard = shards.entry(id.clone()).or_insert_with(|| ShardState {
                        progress: Progress::starting(self.batch_size),
                        iterator: None,
                        finished: false,
                    });
                    if shard.finished {
                        continue;
                    }
                    match self.poll(id, shard, position).await? {
                        Poll::Delivered => delivered = true,
                        Poll::Idle => {}
                        Poll::Closed => closed = true,
                    }
                }
                if closed {
                    break;
                }
                if !delivered {
                    tokio::time::sleep(IDLE_POLL).await;
                }
            }
        }
    }

    /// Reads one page of a shard and hands what is new in it to the function.
    async fn poll(
        &self,
        shard_id: &str,
        shard: &mut ShardState,
        position: &StreamPosition,
    ) -> anyhow::Result<Poll> {
        let iterator = match shard.iterator.take() {
            Some(iterator) => iterator,
            None => {
                self.iterator_at(shard_id, shard.progress.checkpoint.as_deref())
                    .await?
            }
        };
        let page = self
            .aws
            .streams
            .get_records()
            .shard_iterator(iterator)
            .limit(i32::try_from(self.batch_size).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| anyhow!(aws_error_text(&e)))?;
        let next = page.next_shard_iterator().map(str::to_owned);
        let records = page.records();
        let batch = hand_over(
            shard.progress.checkpoint.as_deref(),
            records,
            shard.progress.limit,
        );
        if batch.skipped > 0 {
            warn!(
                shard = shard_id,
                records = batch.skipped,
                checkpoint = shard.progress.checkpoint,
                "the stream returned records at or before the checkpoint; not handed over again"
            );
        }
        if !batch.records.is_empty() {
            let sequences: Vec<String> = batch
                .records
                .iter()
                .filter_map(|r| sequence_number(r).map(str::to_owned))
                .collect();
            position.handed_over(shard_id, &batch.records);
            let outcome = self.invoke_batch(&batch.records).await;
            let settled = settle(&shard.progress, &sequences, outcome, self.max_retries);
            if let Some(parked) = &settled.park {
                // Not parked, not passed: the batch is tried again after the error.
                self.park(shard_id, parked, &batch.records)
                    .await
                    .context("could not park records on the failure queue")?;
                error!(
                    function = self.function,
                    shard = shard_id,
                    first = parked.first,
                    last = parked.last,
                    records = parked.count,
                    "stream records skipped after {} failed attempts, described on the failure queue",
                    self.max_retries + 1
                );
            }
            shard.progress = settled.progress;
            position.settled(
                shard_id,
                shard.progress.checkpoint.as_deref(),
                settled.park.as_ref(),
                &batch.records,
            );
            if settled.retry {
                warn!(
                    function = self.function,
                    shard = shard_id,
                    checkpoint = shard.progress.checkpoint,
                    attempt = shard.progress.attempts,
                    next_batch = shard.progress.limit,
                    "stream batch failed; retrying after the checkpoint"
                );
                tokio::time::sleep(RETRY_PAUSE * shard.progress.attempts).await;
            }
        }
        // Read on from this page only once all of it is behind the checkpoint; otherwise the
        // next read asks for an iterator after the checkpoint.
        if !behind(shard.progress.checkpoint.as_deref(), records) {
            return Ok(Poll::Delivered);
        }
        shard.iterator = next;
        if shard.iterator.is_none() {
            shard.finished = true;
            position.closed(shard_id);
            info!(shard = shard_id, "shard closed and read to its end");
            return Ok(Poll::Closed);
        }
        Ok(if batch.records.is_empty() {
            Poll::Idle
        } else {
            Poll::Delivered
        })
    }

    /// Hands a batch to the function; what it made of it.
    async fn invoke_batch(&self, records: &[aws_sdk_dynamodbstreams::types::Record]) -> Invocation {
        let event = stream_event(records, &self.stream_arn, &self.region);
        let response = invoke_within::<_, DynamoDbEventResponse>(
            &self.aws.lambda,
            &self.function,
            &event,
            self.function_timeout,
        );
        match response.await {
            Ok(response) => reported(&response),
            Err(e) => {
                error!(
                    function = self.function,
                    reason = format!("{e:#}"),
                    "the whole stream batch failed"
                );
                Invocation::Failed
            }
        }
    }

    /// Every shard of the stream: (id, parent id), in the stream's order.
    async fn list_shards(&self) -> anyhow::Result<Vec<(String, Option<String>)>> {
        let mut shards = Vec::new();
        let mut start = None;
        loop {
            let described = self
                .aws
                .streams
                .describe_stream()
                .stream_arn(&self.stream_arn)
                .set_exclusive_start_shard_id(start)
                .send()
                .await
                .map_err(|e| anyhow!(aws_error_text(&e)))?;
            let Some(description) = described.stream_description() else {
                return Ok(shards);
            };
            shards.extend(description.shards().iter().filter_map(|shard| {
                Some((
                    shard.shard_id()?.to_owned(),
                    shard.parent_shard_id().map(str::to_owned),
                ))
            }));
            start = description.last_evaluated_shard_id().map(str::to_owned);
            if start.is_none() {
                return Ok(shards);
            }
        }
    }

    /// Describes records given up on on the failure queue, in the shape of Lambda's on-failure
    /// record for a stream (the records' place in the stream, not their data).
    async fn park(
        &self,
        shard_id: &str,
        parked: &Parked,
        records: &[aws_sdk_dynamodbstreams::types::Record],
    ) -> anyhow::Result<()> {
        let arrival = |sequence: &str| {
            records
                .iter()
                .find(|r| sequence_number(r) == Some(sequence))
                .and_then(|r| r.dynamodb()?.approximate_creation_date_time())
                .map(|t| t.to_string())
        };
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
                "shardId": shard_id,
                "streamArn": self.stream_arn,
                "startSequenceNumber": parked.first,
                "endSequenceNumber": parked.last,
                "approximateArrivalOfFirstRecord": arrival(&parked.first),
                "approximateArrivalOfLastRecord": arrival(&parked.last),
                "batchSize": parked.count,
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
            .map_err(|e| anyhow!(aws_error_text(&e)))
    }

    /// An iterator for the first record after the checkpoint.
    async fn iterator_at(&self, shard: &str, checkpoint: Option<&str>) -> anyhow::Result<String> {
        let (kind, sequence) = start_position(checkpoint);
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
            .map_err(|e| anyhow!(aws_error_text(&e)))?;
        output
            .shard_iterator()
            .map(str::to_owned)
            .context("no shard iterator")
    }
}
