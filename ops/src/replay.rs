//! Replaying the notifications the stream gave up on. Each message on `notifier-failures` describes
//! a range of one shard (Lambda's on-failure record: `DDBStreamBatchInfo`), not the orders in it.
//! The range is read back from the stream (which keeps records 24 hours) and handed to
//! order-notifier as the stream's event source hands it, so the notifier's own code builds and
//! publishes each notification, with its own role (the order topic admits no other publisher)
//! and its own metrics.
//!
//! - A record the notifier still cannot notify (it stops there and names it) is tried once more
//!   on its own; if that fails too it is described again on `notifier-failures`, alone, and the
//!   records after it are handed over: one bad record does not hold back the orders behind it.
//! - The description is deleted once its range is handed over: a second run finds nothing to
//!   send. Delivery is at least once, as the stream's own is: a run that stops between the
//!   notifier's publish and the delete hands that range over again on the next run.

use std::collections::HashSet;
use std::time::Duration;

use anyhow::{Context, anyhow};
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use cafe_event_sources::events::stream_event;
use cafe_event_sources::invoke::invoke;
use cafe_shared::error::aws_error_text;
use serde::Deserialize;
use serde_json::{Value, json};

/// What a replay did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Replayed {
    /// Failure descriptions handed over and deleted.
    pub descriptions: usize,
    /// New orders (INSERT records) the notifier finished, so notified.
    pub notified: usize,
    /// Records the notifier failed on twice, described again on their own.
    pub described_again: Vec<String>,
    /// Descriptions that could not be handed over (the stream or the notifier failing); they
    /// stay on the queue.
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
pub fn stream_range(description: &str) -> anyhow::Result<StreamRange> {
    #[derive(Deserialize)]
    struct Record {
        #[serde(rename = "DDBStreamBatchInfo")]
        info: StreamRange,
    }
    serde_json::from_str::<Record>(description)
        .map(|r| r.info)
        .map_err(|e| anyhow!("not a stream failure description ({e}): {description:.200}"))
}

/// `description` narrowed to one record, `sequence_number`: the rest of it is kept as it was.
pub fn describing_one(description: &str, sequence_number: &str) -> anyhow::Result<String> {
    let mut record: Value = serde_json::from_str(description)?;
    let info = record
        .get_mut("DDBStreamBatchInfo")
        .and_then(Value::as_object_mut)
        .context("no DDBStreamBatchInfo")?;
    info.insert("startSequenceNumber".into(), json!(sequence_number));
    info.insert("endSequenceNumber".into(), json!(sequence_number));
    info.insert("batchSize".into(), json!(1));
    Ok(record.to_string())
}

pub struct Clients {
    pub sqs: aws_sdk_sqs::Client,
    pub streams: aws_sdk_dynamodbstreams::Client,
    pub lambda: aws_sdk_lambda::Client,
}

/// Where the replay hands records over: the notifier, and the region its events name.
pub struct Notifier<'a> {
    pub function: &'a str,
    pub region: &'a str,
}

/// Long enough to read a range back and hand it over twice (the function's timeout is 30 s); a
/// description that fails shows up again after it.
const VISIBILITY_SECONDS: i32 = 300;

/// Replays every description on `failures_url`, one at a time, through `notifier`.
pub async fn replay_notifications(
    clients: &Clients,
    failures_url: &str,
    notifier: &Notifier<'_>,
) -> anyhow::Result<Replayed> {
    let mut replayed = Replayed::default();
    let mut seen: HashSet<String> = HashSet::new();
    loop {
        let received = clients
            .sqs
            .receive_message()
            .queue_url(failures_url)
            .max_number_of_messages(1)
            .wait_time_seconds(1)
            .visibility_timeout(VISIBILITY_SECONDS)
            .send()
            .await
            .map_err(|e| anyhow!("ReceiveMessage from {failures_url}: {}", aws_error_text(&e)))?;
        let Some(message) = received.messages.unwrap_or_default().into_iter().next() else {
            return Ok(replayed);
        };
        // A description kept after a problem comes back only after this run would have ended,
        // unless the run is very long: then it is not tried twice.
        if !seen.insert(message.message_id().unwrap_or_default().to_owned()) {
            return Ok(replayed);
        }
        let description = message.body().unwrap_or_default();
        let handed = match hand_over_description(clients, notifier, description).await {
            Ok(handed) => handed,
            Err(problem) => {
                replayed.problems.push(format!("{problem:#}"));
                continue;
            }
        };
        for sequence_number in &handed.failed {
            let alone = describing_one(description, sequence_number)?;
            clients
                .sqs
                .send_message()
                .queue_url(failures_url)
                .message_body(alone)
                .send()
                .await
                .map_err(|e| anyhow!("SendMessage to {failures_url}: {}", aws_error_text(&e)))?;
        }
        clients
            .sqs
            .delete_message()
            .queue_url(failures_url)
            .receipt_handle(message.receipt_handle().unwrap_or_default())
            .send()
            .await
            .map_err(|e| anyhow!("DeleteMessage from {failures_url}: {}", aws_error_text(&e)))?;
        replayed.descriptions += 1;
        replayed.notified += handed.orders_finished;
        replayed.described_again.extend(handed.failed);
    }
}

/// `replay-notifications --dry-run`: the descriptions a replay would hand over now, each with the
/// range of the stream it names; nothing is read from the stream, invoked or deleted.
pub async fn would_replay(sqs: &aws_sdk_sqs::Client, failures_url: &str) -> anyhow::Result<String> {
    let peeked = crate::peek::peek(sqs, failures_url, crate::dlq::PEEK_PATIENCE).await?;
    let mut text = format!(
        "dry run: would replay {} failure description(s) from {failures_url}; nothing invoked or deleted\n",
        peeked.approximate
    );
    for seen in &peeked.messages {
        text.push_str(&format!("\n{}\n", pending_description(seen)));
    }
    if peeked.unseen() > 0 {
        text.push_str(&format!(
            "\n{} more not shown (in flight, delayed, or not among what SQS answered)\n",
            peeked.unseen()
        ));
    }
    Ok(text)
}

/// One description as the dry run lists it: when the stream gave up, and on which records.
pub fn pending_description(seen: &crate::peek::Seen) -> String {
    let what = match stream_range(&seen.body) {
        Ok(range) => format!(
            "records {}..{} ({} of them) of shard {} of {}",
            range.start_sequence_number,
            range.end_sequence_number,
            range.batch_size,
            range.shard_id,
            range.stream_arn
        ),
        Err(e) => format!("would be left on the queue: {e}"),
    };
    format!(
        "description {}\n  arrived   {}\n  names     {}",
        crate::peek::printable(&seen.message_id),
        seen.arrived(),
        crate::peek::printable(&what)
    )
}

/// What became of one description's records.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct HandedOver {
    /// INSERT records the notifier finished.
    pub orders_finished: usize,
    /// Sequence numbers it failed on twice.
    pub failed: Vec<String>,
}

async fn hand_over_description(
    clients: &Clients,
    notifier: &Notifier<'_>,
    description: &str,
) -> anyhow::Result<HandedOver> {
    let range = stream_range(description)?;
    let records = records_in(&clients.streams, &range).await?;
    hand_over(&records, |batch| {
        let event = stream_event(batch, &range.stream_arn, notifier.region);
        async move {
            let answer: DynamoDbEventResponse =
                invoke(&clients.lambda, notifier.function, &event).await?;
            Ok(answer
                .batch_item_failures
                .into_iter()
                .find_map(|failure| failure.item_identifier))
        }
    })
    .await
}

/// Hands `records` over with `notify` (which answers the sequence number it stopped at, if any):
/// a record it stops at is tried once more alone, then skipped and reported. A `notify` that
/// fails outright ends the hand-over with its error; nothing is reported as failed then.
pub async fn hand_over<F, Fut>(records: &[Record], mut notify: F) -> anyhow::Result<HandedOver>
where
    F: FnMut(&[Record]) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Option<String>>>,
{
    let mut handed = HandedOver::default();
    let mut remaining = records;
    while !remaining.is_empty() {
        let Some(stopped_at) = notify(remaining).await? else {
            handed.orders_finished += inserts(remaining);
            break;
        };
        let index = remaining
            .iter()
            .position(|r| sequence_number(r) == stopped_at)
            .with_context(|| format!("the notifier named {stopped_at}, which it was not given"))?;
        handed.orders_finished += inserts(&remaining[..index]);
        let alone = &remaining[index..=index];
        match notify(alone).await? {
            None => handed.orders_finished += inserts(alone),
            Some(_) => handed.failed.push(stopped_at),
        }
        remaining = &remaining[index + 1..];
    }
    Ok(handed)
}

fn sequence_number(record: &Record) -> &str {
    record
        .dynamodb()
        .and_then(|change| change.sequence_number())
        .unwrap_or_default()
}

fn inserts(records: &[Record]) -> usize {
    records
        .iter()
        .filter(|r| r.event_name().map(|n| n.as_str()) == Some("INSERT"))
        .count()
}

/// How many empty pages in a row a read of a range tolerates: a shard can answer an empty page
/// before the records that follow it.
const MOST_EMPTY_PAGES: usize = 10;

/// Every record of `range`, in stream order.
pub async fn records_in(
    streams: &aws_sdk_dynamodbstreams::Client,
    range: &StreamRange,
) -> anyhow::Result<Vec<Record>> {
    let context = |e: String| {
        anyhow!(
            "reading {}..{} of shard {}: {e} (the stream keeps records 24 hours)",
            range.start_sequence_number,
            range.end_sequence_number,
            range.shard_id
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
    let (mut records, mut empty_pages) = (Vec::new(), 0);
    while let Some(current) = iterator {
        let page = streams
            .get_records()
            .shard_iterator(current)
            .send()
            .await
            .map_err(|e| context(aws_error_text(&e)))?;
        if page.records().is_empty() {
            empty_pages += 1;
            if empty_pages == MOST_EMPTY_PAGES {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        } else {
            empty_pages = 0;
        }
        for record in page.records() {
            records.push(record.clone());
            if sequence_number(record) == range.end_sequence_number
                || records.len() >= range.batch_size
            {
                return Ok(records);
            }
        }
        iterator = page.next_shard_iterator;
    }
    Err(context(format!(
        "the shard gave {} of the range's {} records",
        records.len(),
        range.batch_size
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodbstreams::types::{OperationType, StreamRecord};
    use std::cell::RefCell;

    const DESCRIPTION: &str = r#"{"requestContext": {"condition": "RetryAttemptsExhausted"},
        "DDBStreamBatchInfo": {"shardId": "shard-1", "streamArn": "arn:stream",
        "startSequenceNumber": "100", "endSequenceNumber": "104", "batchSize": 3,
        "approximateArrivalOfFirstRecord": "2026-12-01T00:00:00Z"}}"#;

    #[test]
    fn a_description_names_its_shard_and_range() {
        let range = stream_range(DESCRIPTION).unwrap();
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
    fn a_pending_description_names_its_range_and_when_it_arrived() {
        let seen = crate::peek::Seen {
            message_id: "d-1".into(),
            body: DESCRIPTION.into(),
            sent_at: chrono::DateTime::from_timestamp_millis(1_796_515_200_000),
            receive_count: Some(1),
        };
        assert_eq!(
            pending_description(&seen),
            "description d-1\n  arrived   2026-12-06T00:00:00Z\n  names     records 100..104 (3 of them) of shard shard-1 of arn:stream"
        );
        let odd = crate::peek::Seen {
            body: "hello".into(),
            ..seen
        };
        assert!(
            pending_description(&odd)
                .contains("would be left on the queue: not a stream failure description"),
            "{}",
            pending_description(&odd)
        );
    }

    #[test]
    fn anything_else_is_refused_with_what_it_was() {
        let error = stream_range(r#"{"orderID": "x"}"#).unwrap_err().to_string();
        assert!(
            error.contains("not a stream failure description"),
            "{error}"
        );
        assert!(error.contains("orderID"), "{error}");
    }

    #[test]
    fn a_record_described_again_keeps_the_rest_of_its_description() {
        let alone: Value =
            serde_json::from_str(&describing_one(DESCRIPTION, "102").unwrap()).unwrap();
        let info = &alone["DDBStreamBatchInfo"];
        assert_eq!(
            (
                &info["startSequenceNumber"],
                &info["endSequenceNumber"],
                &info["batchSize"]
            ),
            (&json!("102"), &json!("102"), &json!(1))
        );
        assert_eq!(info["shardId"], "shard-1");
        assert_eq!(
            alone["requestContext"]["condition"],
            "RetryAttemptsExhausted"
        );
        assert_eq!(stream_range(&alone.to_string()).unwrap().batch_size, 1);
    }

    fn record(sequence: &str, kind: OperationType) -> Record {
        let change = StreamRecord::builder().sequence_number(sequence).build();
        Record::builder().event_name(kind).dynamodb(change).build()
    }

    fn records() -> Vec<Record> {
        vec![
            record("100", OperationType::Insert),
            record("101", OperationType::Modify),
            record("102", OperationType::Insert),
            record("103", OperationType::Insert),
            record("104", OperationType::Insert),
        ]
    }

    /// A notifier that stops at `bad` whenever it is handed it, and records every batch.
    fn stopping_at(
        bad: &'static [&'static str],
        calls: &RefCell<Vec<Vec<String>>>,
    ) -> impl FnMut(&[Record]) -> std::future::Ready<anyhow::Result<Option<String>>> {
        move |batch: &[Record]| {
            let sequences: Vec<String> = batch
                .iter()
                .map(|r| sequence_number(r).to_owned())
                .collect();
            let stopped = sequences
                .iter()
                .find(|s| bad.contains(&s.as_str()))
                .cloned();
            calls.borrow_mut().push(sequences);
            std::future::ready(Ok(stopped))
        }
    }

    #[tokio::test]
    async fn a_range_the_notifier_finishes_is_handed_over_once() {
        let calls = RefCell::new(Vec::new());
        let handed = hand_over(&records(), stopping_at(&[], &calls))
            .await
            .unwrap();
        assert_eq!(
            handed,
            HandedOver {
                orders_finished: 4,
                failed: vec![]
            }
        );
        assert_eq!(calls.borrow().len(), 1);
    }

    #[tokio::test]
    async fn a_record_failing_twice_is_set_aside_and_the_orders_after_it_go_on() {
        let calls = RefCell::new(Vec::new());
        let handed = hand_over(&records(), stopping_at(&["102"], &calls))
            .await
            .unwrap();
        assert_eq!(
            handed,
            HandedOver {
                orders_finished: 3,
                failed: vec!["102".into()]
            }
        );
        let calls = calls.into_inner();
        let expected: Vec<Vec<&str>> = vec![
            vec!["100", "101", "102", "103", "104"],
            vec!["102"],
            vec!["103", "104"],
        ];
        assert_eq!(
            calls,
            expected
                .iter()
                .map(|c| c.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .collect::<Vec<_>>()
        );
    }

    #[tokio::test]
    async fn a_record_that_goes_through_alone_is_notified() {
        let tries = RefCell::new(0);
        let handed = hand_over(&records(), |batch: &[Record]| {
            *tries.borrow_mut() += 1;
            // Fails at 103 the first time only, as a brief SNS error would.
            let stopped = (*tries.borrow() == 1).then(|| "103".to_owned());
            let _ = batch;
            std::future::ready(Ok(stopped))
        })
        .await
        .unwrap();
        assert_eq!(
            handed,
            HandedOver {
                orders_finished: 4,
                failed: vec![]
            }
        );
    }

    #[tokio::test]
    async fn a_notifier_that_fails_outright_fails_the_hand_over() {
        let error = hand_over(&records(), |_: &[Record]| {
            std::future::ready(Err(anyhow!("Unhandled")))
        })
        .await
        .unwrap_err()
        .to_string();
        assert_eq!(error, "Unhandled");
    }
}
