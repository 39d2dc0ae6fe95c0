//! Lambda's side of an invocation: the sample events in `events/`, the events Lambda's SQS and
//! DynamoDB event sources would build from what an emulator holds, and the failures an SQS
//! handler reports back.

use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use aws_sdk_dynamodbstreams::types::ShardIteratorType;

use crate::moto::REGION;
use crate::workspace::workspace_root;

/// A sample event from `events/`, as Lambda would deliver it.
pub fn sample_event<T: serde::de::DeserializeOwned>(file: &str) -> T {
    let path = workspace_root().join("events").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// SQS messages as Lambda's SQS event source hands them to a function.
pub fn sqs_event(messages: &[aws_sdk_sqs::types::Message], queue_arn: &str) -> SqsEvent {
    cafe_event_sources::events::sqs_event(messages, queue_arn, REGION)
}

/// The records on a table's stream after sequence number `after` (from the start when `None`),
/// as Lambda's DynamoDB event source hands them to a function: one batch, in order.
pub async fn stream_event(
    streams: &aws_sdk_dynamodbstreams::Client,
    stream_arn: &str,
    after: Option<&str>,
) -> StreamEvent {
    let description = streams
        .describe_stream()
        .stream_arn(stream_arn)
        .send()
        .await
        .expect("describe stream");
    let shards = description
        .stream_description()
        .map(|d| d.shards().to_vec())
        .unwrap_or_default();
    let mut records = Vec::new();
    for shard in shards {
        let iterator = streams
            .get_shard_iterator()
            .stream_arn(stream_arn)
            .shard_id(shard.shard_id().unwrap_or_default())
            .shard_iterator_type(match after {
                Some(_) => ShardIteratorType::AfterSequenceNumber,
                None => ShardIteratorType::TrimHorizon,
            })
            .set_sequence_number(after.map(str::to_owned))
            .send()
            .await
            .expect("shard iterator");
        let page = streams
            .get_records()
            .set_shard_iterator(iterator.shard_iterator)
            .send()
            .await
            .expect("stream records");
        records.extend(page.records().iter().cloned());
    }
    cafe_event_sources::events::stream_event(&records, stream_arn, REGION)
}

/// The message ids an SQS handler reported as failed, in its order.
pub fn failed_ids(response: &SqsBatchResponse) -> Vec<String> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect()
}
