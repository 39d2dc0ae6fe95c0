//! Replaying the notifications the stream gave up on. Each message on `notifier-failures`
//! describes a range of one shard (Lambda's on-failure record: `DDBStreamBatchInfo`), not the
//! orders in it, so the range is read back from the stream (which keeps records 24 hours), each
//! new order in it is read from the table, and its notification, built as the notifier builds it,
//! is published. The description is deleted only once every notification of its range went out:
//! a second run finds nothing to send. A run that dies between publishing and deleting sends that
//! range again on the next run: at least once, as every SNS publisher is.

use std::collections::HashSet;

use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use cafe_shared::error::aws_error_text;
use cafe_shared::image::item_to_json;
use order_notifier::{Notification, OrderNotifier, notification_of};
use serde::Deserialize;

/// What a replay did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Replayed {
    /// Failure descriptions read (and deleted, unless named in `problems`).
    pub descriptions: usize,
    pub published: usize,
    /// Orders named twice (in two descriptions) and sent once.
    pub repeated: usize,
    /// What could not be replayed; those descriptions stay on the queue.
    pub problems: Vec<String>,
}

/// The part of Lambda's on-failure record for a stream that says where the records are.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct StreamRange {
    pub shard_id: String,
    pub stream_arn: String,
    pub start_sequence_number: String,
    pub end_sequence_number: String,
    pub batch_size: usize,
}

/// The range a failure description names.
pub fn stream_range(description: &str) -> Result<StreamRange, String> {
    #[derive(Deserialize)]
    struct Record {
        #[serde(rename = "DDBStreamBatchInfo")]
        info: StreamRange,
    }
    serde_json::from_str::<Record>(description)
        .map(|r| r.info)
        .map_err(|e| format!("not a stream failure description ({e}): {description:.200}"))
}

pub struct Clients {
    pub sqs: aws_sdk_sqs::Client,
    pub streams: aws_sdk_dynamodbstreams::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
}

/// Replays every description on `failures_url`, reading orders from `table` and publishing with
/// `notifier`.
pub async fn replay_notifications(
    clients: &Clients,
    failures_url: &str,
    table: &str,
    notifier: &OrderNotifier,
) -> Result<Replayed, String> {
    let mut replayed = Replayed::default();
    let mut sent: HashSet<String> = HashSet::new();
    let mut seen_messages: HashSet<String> = HashSet::new();
    loop {
        let received = clients
            .sqs
            .receive_message()
            .queue_url(failures_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            // Long enough to read a range and publish it; one that fails shows up again later.
            .visibility_timeout(120)
            .send()
            .await
            .map_err(|e| format!("ReceiveMessage from {failures_url}: {}", aws_error_text(&e)))?;
        let messages = received.messages.unwrap_or_default();
        // A description kept after a problem is not visible again within this run; stop when
        // nothing new comes.
        let new: Vec<_> = messages
            .into_iter()
            .filter(|m| seen_messages.insert(m.message_id().unwrap_or_default().to_owned()))
            .collect();
        if new.is_empty() {
            return Ok(replayed);
        }
        for message in new {
            replayed.descriptions += 1;
            let body = message.body().unwrap_or_default();
            match replay_one(clients, table, notifier, body, &mut sent).await {
                Ok((published, repeated)) => {
                    replayed.published += published;
                    replayed.repeated += repeated;
                    clients
                        .sqs
                        .delete_message()
                        .queue_url(failures_url)
                        .receipt_handle(message.receipt_handle().unwrap_or_default())
                        .send()
                        .await
                        .map_err(|e| format!("DeleteMessage: {}", aws_error_text(&e)))?;
                }
                Err(problem) => replayed.problems.push(problem),
            }
        }
    }
}

/// Publishes the orders of one description not yet sent in this run; returns how many went out
/// and how many were already sent.
async fn replay_one(
    clients: &Clients,
    table: &str,
    notifier: &OrderNotifier,
    description: &str,
    sent: &mut HashSet<String>,
) -> Result<(usize, usize), String> {
    let range = stream_range(description)?;
    let mut notifications: Vec<Notification> = Vec::new();
    let mut repeated = 0;
    for (sequence_number, order_id) in new_orders_in(&clients.streams, &range).await? {
        if sent.contains(&order_id) {
            repeated += 1;
            continue;
        }
        let item = clients
            .dynamodb
            .get_item()
            .table_name(table)
            .key(
                "orderID",
                aws_sdk_dynamodb::types::AttributeValue::S(order_id.clone()),
            )
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| format!("GetItem {order_id}: {}", aws_error_text(&e)))?
            .item
            .ok_or_else(|| format!("order {order_id} is no longer in {table}"))?;
        let plain = item_to_json(item).map_err(|e| format!("order {order_id}: {e}"))?;
        let notification = notification_of(sequence_number, plain)
            .map_err(|e| format!("order {order_id}: {e}"))?;
        notifications.push(notification);
    }
    notifier.publish(&notifications).await.map_err(|e| {
        format!(
            "publishing {}: {}",
            notifications[e.index].order_id, e.error
        )
    })?;
    sent.extend(notifications.iter().map(|n| n.order_id.clone()));
    Ok((notifications.len(), repeated))
}

/// The new orders (INSERT records) of `range`: (sequence number, orderID), in stream order.
pub async fn new_orders_in(
    streams: &aws_sdk_dynamodbstreams::Client,
    range: &StreamRange,
) -> Result<Vec<(String, String)>, String> {
    let context = |e: String| {
        format!(
            "reading {}..{} of shard {}: {e} (the stream keeps records 24 hours)",
            range.start_sequence_number, range.end_sequence_number, range.shard_id
        )
    };
    let mut iterator = streams
        .get_shard_iterator()
        .stream_arn(&range.stream_arn)
        .shard_id(&range.shard_id)
        .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
        .sequence_number(&range.start_sequence_number)
        .send()
        .await
        .map_err(|e| context(aws_error_text(&e)))?
        .shard_iterator;
    let (mut orders, mut read) = (Vec::new(), 0);
    while let Some(current) = iterator {
        let page = streams
            .get_records()
            .shard_iterator(current)
            .send()
            .await
            .map_err(|e| context(aws_error_text(&e)))?;
        if page.records().is_empty() {
            break;
        }
        for record in page.records() {
            read += 1;
            let change = record.dynamodb();
            let sequence = change.and_then(|c| c.sequence_number()).unwrap_or_default();
            let is_insert = record.event_name().map(|n| n.as_str()) == Some("INSERT");
            let order_id = change
                .and_then(|c| c.keys())
                .and_then(|keys| keys.get("orderID"))
                .and_then(|key| key.as_s().ok());
            if let (true, Some(order_id)) = (is_insert, order_id) {
                orders.push((sequence.to_owned(), order_id.clone()));
            }
            if sequence == range.end_sequence_number || read >= range.batch_size {
                return Ok(orders);
            }
        }
        iterator = page.next_shard_iterator;
    }
    Err(context(format!(
        "the stream ended after {read} of the range's {} records",
        range.batch_size
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_description_names_its_shard_and_range() {
        let description = r#"{"requestContext": {"condition": "RetryAttemptsExhausted"},
            "DDBStreamBatchInfo": {"shardId": "shard-1", "streamArn": "arn:stream",
            "startSequenceNumber": "100", "endSequenceNumber": "104", "batchSize": 3,
            "approximateArrivalOfFirstRecord": "2026-12-01T00:00:00Z"}}"#;
        let range = stream_range(description).unwrap();
        assert_eq!(
            range,
            StreamRange {
                shard_id: "shard-1".into(),
                stream_arn: "arn:stream".into(),
                start_sequence_number: "100".into(),
                end_sequence_number: "104".into(),
                batch_size: 3,
            }
        );
    }

    #[test]
    fn anything_else_is_refused_with_what_it_was() {
        let error = stream_range(r#"{"orderID": "x"}"#).unwrap_err();
        assert!(
            error.contains("not a stream failure description"),
            "{error}"
        );
        assert!(error.contains("orderID"), "{error}");
    }
}
