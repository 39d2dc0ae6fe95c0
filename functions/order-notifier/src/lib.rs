//! order-notifier: tells the subscribers of `OrderNotifications` about every new order in the
//! `orders` table's stream.
//!
//! Each INSERT becomes one SNS message: a readable subject and text for email, the order as plain
//! JSON for SQS, Lambda and HTTP subscribers (`MessageStructure: json`), and `orderID` and
//! `customerID` attributes for filter policies. MODIFY and REMOVE records are not new orders.
//!
//! Records are published in stream order, up to ten per `PublishBatch`. On the first failure the
//! handler stops and reports that record's sequence number, so Lambda resumes exactly there:
//! nothing after it is skipped, and nothing is published twice within one invocation.

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use aws_sdk_sns::Client;
use aws_sdk_sns::types::{MessageAttributeValue, PublishBatchRequestEntry};
use cafe_shared::StoredOrder;
use cafe_shared::error::aws_error_text;
use cafe_shared::image::image_to_json;
use lambda_runtime::{Error, LambdaEvent};
use serde_json::{Value, json};
use thiserror::Error;
use tracing::{error, info};

/// SNS `PublishBatch` takes at most ten messages of at most 256 KiB in all.
pub const MAX_BATCH_ENTRIES: usize = 10;
pub const MAX_BATCH_BYTES: usize = 256 * 1024;

/// SNS subjects are one line of UTF-8 text under 100 characters.
const MAX_SUBJECT_CHARS: usize = 99;

pub struct OrderNotifier {
    sns: Client,
    topic_arn: String,
}

/// One new order, ready to publish, with the stream position it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub sequence_number: String,
    pub order_id: String,
    pub customer_id: String,
    pub subject: String,
    /// The `MessageStructure: json` document: text per protocol.
    pub message: String,
}

#[derive(Debug, Error)]
pub enum NotifyError {
    #[error("the stream image is not a stored order: {0}")]
    NotAnOrder(String),
    #[error("SNS did not accept the notification: {0}")]
    Publish(String),
}

impl OrderNotifier {
    pub fn new(sns: Client, topic_arn: impl Into<String>) -> Self {
        Self {
            sns,
            topic_arn: topic_arn.into(),
        }
    }

    /// Publishes in order, a batch at a time. On failure returns the index of the first
    /// notification that was not published; those before it were.
    pub async fn publish(
        &self,
        notifications: &[Notification],
    ) -> Result<(), (usize, NotifyError)> {
        let mut start = 0;
        for batch in batches(notifications) {
            self.publish_batch(batch)
                .await
                .map_err(|(index, e)| (start + index, e))?;
            start += batch.len();
        }
        Ok(())
    }

    async fn publish_batch(&self, batch: &[Notification]) -> Result<(), (usize, NotifyError)> {
        let entries = batch
            .iter()
            .enumerate()
            .map(|(index, notification)| entry(index, notification))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| (0, e))?;
        let output = self
            .sns
            .publish_batch()
            .topic_arn(&self.topic_arn)
            .set_publish_batch_request_entries(Some(entries))
            .send()
            .await
            .map_err(|e| (0, NotifyError::Publish(aws_error_text(&e))))?;
        let first_failed = output
            .failed()
            .iter()
            .filter_map(|failed| Some((failed.id().parse::<usize>().ok()?, failed)))
            .min_by_key(|(index, _)| *index);
        for (index, notification) in batch.iter().enumerate() {
            if first_failed.is_some_and(|(failed, _)| index >= failed) {
                break;
            }
            info!(order_id = notification.order_id, "order notified");
        }
        match first_failed {
            None => Ok(()),
            Some((index, failed)) => Err((
                index,
                NotifyError::Publish(format!(
                    "{}: {}",
                    failed.code(),
                    failed.message().unwrap_or("no reason given")
                )),
            )),
        }
    }
}

/// Handles one stream batch. Returns the first record that could not be notified, if any.
pub async fn handle(
    notifier: &OrderNotifier,
    event: LambdaEvent<Event>,
) -> Result<DynamoDbEventResponse, Error> {
    let mut notifications = Vec::new();
    // An INSERT that is not an order stops the batch there, so it is retried and, in the end,
    // sent to the on-failure destination instead of vanishing.
    let mut unreadable = None;
    for record in event.payload.records {
        if record.event_name != "INSERT" {
            continue;
        }
        let sequence_number = record
            .change
            .sequence_number
            .clone()
            .ok_or("a stream record has no SequenceNumber; the whole batch will be retried")?;
        match notification(record) {
            Ok(notification) => notifications.push(notification),
            Err(e) => {
                error!(sequence_number, reason = %e, "new item not notified");
                unreadable = Some(sequence_number);
                break;
            }
        }
    }

    let first_failure = match notifier.publish(&notifications).await {
        Ok(()) => unreadable,
        Err((index, e)) => {
            let failed = &notifications[index];
            error!(order_id = failed.order_id, sequence_number = failed.sequence_number, reason = %e,
                   "order not notified; the stream resumes here");
            Some(failed.sequence_number.clone())
        }
    };
    let mut response = DynamoDbEventResponse::default();
    if let Some(sequence_number) = first_failure {
        let mut failure = DynamoDbBatchItemFailure::default();
        failure.item_identifier = Some(sequence_number);
        response.batch_item_failures.push(failure);
    }
    Ok(response)
}

/// The notification for one INSERT record.
pub fn notification(record: EventRecord) -> Result<Notification, NotifyError> {
    let sequence_number = record.change.sequence_number.unwrap_or_default();
    let plain = image_to_json(record.change.new_image)
        .map_err(|e| NotifyError::NotAnOrder(e.to_string()))?;
    let order: StoredOrder = serde_json::from_value(plain.clone())
        .map_err(|e| NotifyError::NotAnOrder(e.to_string()))?;
    let text = email_text(&order);
    let machine = plain.to_string();
    let message = json!({
        "default": text,
        "email": text,
        "email-json": machine,
        "sqs": machine,
        "lambda": machine,
        "http": machine,
        "https": machine,
    });
    Ok(Notification {
        sequence_number,
        subject: subject(&order),
        order_id: order.order_id,
        customer_id: order.order.customer_id,
        message: message.to_string(),
    })
}

/// "New order 3f2a1b2c: 2 × latex gloves for customer 12345", made fit for an SNS subject.
pub fn subject(order: &StoredOrder) -> String {
    let short_id: String = order.order_id.chars().take(8).collect();
    let quantity = order
        .order
        .quantity
        .map(|q| format!("{q} × "))
        .unwrap_or_default();
    let subject = format!(
        "New order {short_id}: {quantity}{} for customer {}",
        order.order.item, order.order.customer_id
    );
    let one_line = subject
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c });
    if subject.chars().count() <= MAX_SUBJECT_CHARS {
        one_line.collect()
    } else {
        one_line.take(MAX_SUBJECT_CHARS - 1).chain(['…']).collect()
    }
}

/// The email a person reads: the order in plain words, every field the customer sent included.
pub fn email_text(order: &StoredOrder) -> String {
    let quantity = order.order.quantity.unwrap_or(1);
    let mut text = format!(
        "New order {}\n\n{quantity} × {}\nfor customer {}\nreceived {}\n",
        order.order_id,
        order.order.item,
        order.order.customer_id,
        order.received_at.format("%Y-%m-%d %H:%M:%S UTC"),
    );
    if !order.order.details.is_empty() {
        text.push_str("\nOther details:\n");
        for (name, value) in &order.order.details {
            let value = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            text.push_str(&format!("  {name}: {value}\n"));
        }
    }
    text
}

fn entry(
    index: usize,
    notification: &Notification,
) -> Result<PublishBatchRequestEntry, NotifyError> {
    let attribute = |value: &str| {
        MessageAttributeValue::builder()
            .data_type("String")
            .string_value(value)
            .build()
    };
    PublishBatchRequestEntry::builder()
        .id(index.to_string())
        .subject(&notification.subject)
        .message(&notification.message)
        .message_structure("json")
        .message_attributes(
            "orderID",
            attribute(&notification.order_id).map_err(build_error)?,
        )
        .message_attributes(
            "customerID",
            attribute(&notification.customer_id).map_err(build_error)?,
        )
        .build()
        .map_err(build_error)
}

fn build_error(e: impl std::fmt::Display) -> NotifyError {
    NotifyError::Publish(e.to_string())
}

/// Consecutive runs of at most ten notifications and 256 KiB, in order.
fn batches(notifications: &[Notification]) -> Vec<&[Notification]> {
    let mut batches = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (index, notification) in notifications.iter().enumerate() {
        let size = notification.message.len() + notification.subject.len() + 256;
        if index > start && (index - start == MAX_BATCH_ENTRIES || bytes + size > MAX_BATCH_BYTES) {
            batches.push(&notifications[start..index]);
            (start, bytes) = (index, 0);
        }
        bytes += size;
    }
    if start < notifications.len() {
        batches.push(&notifications[start..]);
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sns::operation::publish_batch::{
        PublishBatchError, PublishBatchInput, PublishBatchOutput,
    };
    use aws_sdk_sns::types::BatchResultErrorEntry;
    use aws_sdk_sns::types::error::InternalErrorException;
    use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
    use lambda_runtime::Context;
    use std::sync::{Arc, Mutex};

    fn fixture() -> Event {
        cafe_tests::sample_event("dynamodb-stream.json")
    }

    /// `count` INSERT records, each a distinct order with its own sequence number.
    fn inserts(count: usize) -> Event {
        let template = fixture().records.remove(0);
        let mut event = Event::default();
        event.records = (0..count)
            .map(|i| {
                let mut record = template.clone();
                record.change.sequence_number = Some(format!("{}", 1000 + i));
                let image = serde_json::to_value(&record.change.new_image).unwrap();
                let mut image: serde_json::Map<String, Value> =
                    serde_json::from_value(image).unwrap();
                image.insert("orderID".into(), json!({"S": format!("order-{i}")}));
                record.change.new_image = serde_json::from_value(Value::Object(image)).unwrap();
                record
            })
            .collect();
        event
    }

    fn notifier(rules: &[&Rule]) -> OrderNotifier {
        OrderNotifier::new(
            mock_client!(aws_sdk_sns, RuleMode::Sequential, rules),
            "arn:topic",
        )
    }

    async fn failed_sequence_number(notifier: &OrderNotifier, event: Event) -> Option<String> {
        let response = handle(notifier, LambdaEvent::new(event, Context::default()))
            .await
            .unwrap();
        assert!(response.batch_item_failures.len() <= 1);
        response
            .batch_item_failures
            .into_iter()
            .next()
            .and_then(|f| f.item_identifier)
    }

    /// Accepts every entry and records each request.
    fn accepts_all(seen: Arc<Mutex<Vec<PublishBatchInput>>>) -> Rule {
        mock!(aws_sdk_sns::Client::publish_batch)
            .match_requests(move |request| {
                seen.lock().unwrap().push(request.clone());
                true
            })
            .then_output(|| PublishBatchOutput::builder().build())
    }

    #[tokio::test]
    async fn only_inserts_are_published_with_subject_body_and_attributes() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let rule = accepts_all(seen.clone());
        let failed = failed_sequence_number(&notifier(&[&rule]), fixture()).await;
        assert_eq!(failed, None);

        let requests = seen.lock().unwrap();
        assert_eq!(requests.len(), 1, "three orders fit one PublishBatch");
        let entries = requests[0].publish_batch_request_entries();
        assert_eq!(requests[0].topic_arn(), Some("arn:topic"));
        let order_ids: Vec<&str> = entries
            .iter()
            .map(|e| {
                e.message_attributes().unwrap()["orderID"]
                    .string_value()
                    .unwrap()
            })
            .collect();
        // The MODIFY and REMOVE records are skipped.
        assert_eq!(
            order_ids,
            [
                "3f2a1b2c-5d6e-5f70-8a9b-0c1d2e3f4a5b",
                "7b8c9d0e-1f2a-5b3c-9d4e-5f6a7b8c9d0e",
                "a1b2c3d4-e5f6-5a7b-8c9d-0e1f2a3b4c5d"
            ]
        );
        let first = &entries[0];
        assert_eq!(
            first.subject(),
            Some("New order 3f2a1b2c: 2 × latex gloves for customer 12345")
        );
        assert_eq!(first.message_structure(), Some("json"));
        assert_eq!(
            first.message_attributes().unwrap()["customerID"].string_value(),
            Some("12345")
        );
        let message: Value = serde_json::from_str(first.message()).unwrap();
        assert!(
            message["email"]
                .as_str()
                .unwrap()
                .contains("2 × latex gloves\nfor customer 12345")
        );
        let machine: Value = serde_json::from_str(message["sqs"].as_str().unwrap()).unwrap();
        assert_eq!(machine["quantity"], 2);
        assert_eq!(machine["item"], "latex gloves");
    }

    #[test]
    fn subscribers_get_plain_json_and_readable_text() {
        let record = fixture().records.remove(2);
        let notification = notification(record).unwrap();
        let message: Value = serde_json::from_str(&notification.message).unwrap();
        let machine: Value = serde_json::from_str(message["lambda"].as_str().unwrap()).unwrap();
        assert_eq!(
            machine,
            json!({"orderID": "7b8c9d0e-1f2a-5b3c-9d4e-5f6a7b8c9d0e", "receivedAt": "2026-11-21T10:00:00Z",
                   "messageId": "4c5d6e7f-8a9b-4c0d-8e1f-2a3b4c5d6e7f", "item": "Café crème & <croissant>",
                   "customerID": "Zoë", "quantity": 1, "notes": "100% oat + \"extra\" foam", "rush": true,
                   "extras": ["cinnamon", 2], "address": {"city": "Zürich", "floor": 3}, "gift": null})
        );
        let text = message["default"].as_str().unwrap();
        assert!(
            text.contains(
                "1 × Café crème & <croissant>\nfor customer Zoë\nreceived 2026-11-21 10:00:00 UTC"
            ),
            "{text}"
        );
        assert!(
            text.contains("  notes: 100% oat + \"extra\" foam\n"),
            "{text}"
        );
        assert_eq!(
            notification.subject,
            "New order 7b8c9d0e: 1 × Café crème & <croissant> for customer Zoë"
        );
    }

    #[test]
    fn long_subjects_are_cut_below_the_sns_limit() {
        let mut record = fixture().records.remove(0);
        let long_item = serde_json::from_value(json!({"S": "ristretto\n".repeat(30)})).unwrap();
        record.change.new_image.insert("item".into(), long_item);
        let subject = notification(record).unwrap().subject;
        assert!(
            subject.chars().count() < 100 && subject.ends_with('…'),
            "{subject}"
        );
        assert!(!subject.chars().any(char::is_control), "{subject}");
    }

    #[tokio::test]
    async fn a_failed_entry_resumes_the_stream_at_its_record() {
        let rule = mock!(aws_sdk_sns::Client::publish_batch).then_output(|| {
            let failed = BatchResultErrorEntry::builder()
                .id("1")
                .code("InternalError")
                .sender_fault(false)
                .message("try again")
                .build()
                .unwrap();
            PublishBatchOutput::builder().failed(failed).build()
        });
        let failed = failed_sequence_number(&notifier(&[&rule]), fixture()).await;
        // The second INSERT, not the MODIFY between them.
        assert_eq!(failed.as_deref(), Some("111100000000000000000300"));
    }

    #[tokio::test]
    async fn batches_of_ten_stop_at_the_first_failed_call() {
        let first = accepts_all(Arc::default());
        let second = mock!(aws_sdk_sns::Client::publish_batch).then_error(|| {
            PublishBatchError::InternalErrorException(InternalErrorException::builder().build())
        });
        let third = accepts_all(Arc::default());
        let notifier = notifier(&[&first, &second, &third]);
        let failed = failed_sequence_number(&notifier, inserts(25)).await;
        assert_eq!(
            failed.as_deref(),
            Some("1010"),
            "the 11th record opens the failed batch"
        );
        assert_eq!((first.num_calls(), third.num_calls()), (1, 0));
    }

    #[tokio::test]
    async fn twenty_five_orders_go_out_in_three_batches() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let rule = accepts_all(seen.clone());
        let notifier = OrderNotifier::new(
            mock_client!(aws_sdk_sns, RuleMode::MatchAny, [&rule]),
            "arn:topic",
        );
        assert_eq!(failed_sequence_number(&notifier, inserts(25)).await, None);
        let sizes: Vec<usize> = seen
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.publish_batch_request_entries().len())
            .collect();
        assert_eq!(sizes, [10, 10, 5]);
    }

    #[tokio::test]
    async fn an_insert_that_is_not_an_order_is_retried_after_those_before_it() {
        let mut event = fixture();
        event.records[4].change.new_image.remove("item");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let rule = accepts_all(seen.clone());
        let failed = failed_sequence_number(&notifier(&[&rule]), event).await;
        assert_eq!(failed.as_deref(), Some("111100000000000000000500"));
        assert_eq!(
            seen.lock().unwrap()[0]
                .publish_batch_request_entries()
                .len(),
            2
        );
    }
}
