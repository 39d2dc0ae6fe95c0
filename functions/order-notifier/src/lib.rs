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
use aws_sdk_sns::error::DisplayErrorContext;
use aws_sdk_sns::types::{MessageAttributeValue, PublishBatchRequestEntry};
use cafe_shared::StoredOrder;
use cafe_shared::image::image_to_json;
use lambda_runtime::{Error, LambdaEvent};
use serde_json::{Value, json};
use thiserror::Error;
use tracing::{error, info};

/// SNS `PublishBatch` takes at most ten messages of at most 256 KiB in all.
pub const MAX_BATCH_ENTRIES: usize = 10;
pub const MAX_BATCH_BYTES: usize = 256 * 1024;

/// SNS subjects are ASCII, one line, under 100 characters.
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
    pub async fn publish(&self, notifications: &[Notification]) -> Result<(), (usize, NotifyError)> {
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
            .map_err(|e| (0, NotifyError::Publish(DisplayErrorContext(e).to_string())))?;
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
    let plain =
        image_to_json(record.change.new_image).map_err(|e| NotifyError::NotAnOrder(e.to_string()))?;
    let order: StoredOrder =
        serde_json::from_value(plain.clone()).map_err(|e| NotifyError::NotAnOrder(e.to_string()))?;
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

/// "New order 3f2a1b2c: 2 x latex gloves for customer 12345", made safe for SNS.
pub fn subject(order: &StoredOrder) -> String {
    let short_id: String = order.order_id.chars().take(8).collect();
    let quantity = order.order.quantity.map(|q| format!("{q} x ")).unwrap_or_default();
    let subject = format!(
        "New order {short_id}: {quantity}{} for customer {}",
        order.order.item, order.order.customer_id
    );
    let ascii: String = subject
        .chars()
        .map(|c| match c {
            ' '..='~' => c,
            c if c.is_whitespace() => ' ',
            _ => '?',
        })
        .collect();
    if ascii.len() <= MAX_SUBJECT_CHARS {
        ascii
    } else {
        format!("{}...", &ascii[..MAX_SUBJECT_CHARS - 3])
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

fn entry(index: usize, notification: &Notification) -> Result<PublishBatchRequestEntry, NotifyError> {
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
        .message_attributes("orderID", attribute(&notification.order_id).map_err(build_error)?)
        .message_attributes("customerID", attribute(&notification.customer_id).map_err(build_error)?)
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
