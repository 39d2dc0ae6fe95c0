//! SDK records → the events Lambda's event sources hand to functions.

use aws_lambda_events::event::dynamodb::{Event as StreamEvent, EventRecord, StreamRecord};
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage, SqsMessageAttribute};

/// Received SQS messages as one SQS event.
pub fn sqs_event(
    messages: &[aws_sdk_sqs::types::Message],
    queue_arn: &str,
    region: &str,
) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = messages
        .iter()
        .map(|message| {
            let mut record = SqsMessage::default();
            record.message_id = message.message_id.clone();
            record.receipt_handle = message.receipt_handle.clone();
            record.body = message.body.clone();
            record.md5_of_body = message.md5_of_body.clone();
            record.md5_of_message_attributes = message.md5_of_message_attributes.clone();
            record.attributes = message
                .attributes()
                .into_iter()
                .flatten()
                .map(|(name, value)| (name.as_str().to_owned(), value.clone()))
                .collect();
            record.message_attributes = message
                .message_attributes()
                .into_iter()
                .flatten()
                .map(|(name, value)| {
                    let mut attribute = SqsMessageAttribute::default();
                    attribute.data_type = Some(value.data_type().to_owned());
                    attribute.string_value = value.string_value().map(str::to_owned);
                    (name.clone(), attribute)
                })
                .collect();
            record.event_source = Some("aws:sqs".into());
            record.event_source_arn = Some(queue_arn.to_owned());
            record.aws_region = Some(region.to_owned());
            record
        })
        .collect();
    event
}

/// DynamoDB stream records as one stream event, in order.
pub fn stream_event(
    records: &[aws_sdk_dynamodbstreams::types::Record],
    stream_arn: &str,
    region: &str,
) -> StreamEvent {
    let mut event = StreamEvent::default();
    event.records = records
        .iter()
        .map(|r| stream_record(r, stream_arn, region))
        .collect();
    event
}

fn stream_record(
    record: &aws_sdk_dynamodbstreams::types::Record,
    stream_arn: &str,
    region: &str,
) -> EventRecord {
    let change = record
        .dynamodb()
        .cloned()
        .unwrap_or_else(|| aws_sdk_dynamodbstreams::types::StreamRecord::builder().build());
    let mut stream_record = StreamRecord::default();
    stream_record.keys = change.keys.unwrap_or_default().into();
    stream_record.new_image = change.new_image.unwrap_or_default().into();
    stream_record.sequence_number = change.sequence_number;
    stream_record.size_bytes = change.size_bytes.unwrap_or_default();
    if let Some(created) = change.approximate_creation_date_time {
        stream_record.approximate_creation_date_time =
            chrono::DateTime::from_timestamp(created.secs(), 0).unwrap_or_default();
    }
    let mut lambda = EventRecord::default();
    lambda.event_id = record.event_id().unwrap_or_default().to_owned();
    lambda.event_name = record
        .event_name()
        .map(|n| n.as_str().to_owned())
        .unwrap_or_default();
    lambda.event_source = Some("aws:dynamodb".into());
    lambda.event_version = record.event_version().map(str::to_owned);
    lambda.aws_region = region.to_owned();
    lambda.event_source_arn = Some(stream_arn.to_owned());
    lambda.change = stream_record;
    lambda
}
