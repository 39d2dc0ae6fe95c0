//! order-notifier: tells the subscribers of `OrderNotifications` about every new order in the
//! `orders` table's stream.
//!
//! Each INSERT becomes one SNS message ([`message`]): a readable subject and text for email, the
//! order as plain JSON for everyone else (SQS, Lambda, HTTP subscribers), and `orderID` and
//! `customerID` attributes for filter policies. It is built to fit SNS's 256 KiB, as SNS counts
//! it. MODIFY and REMOVE records are not new orders.
//!
//! Records are published in stream order ([`sns`]), up to ten per `PublishBatch`. On the first
//! failure the handler stops and reports that record's sequence number, so Lambda resumes exactly
//! there: nothing after it is skipped, and nothing is published twice within one invocation.

pub mod message;
pub mod sns;

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use cafe_shared::metrics;
use lambda_runtime::{Error, LambdaEvent};
use thiserror::Error;
use tracing::error;

pub use message::{MAX_MESSAGE_BYTES, Notification, email_text, notification, subject};
pub use sns::{MAX_BATCH_BYTES, MAX_BATCH_ENTRIES, OrderNotifier, Unpublished};

#[derive(Debug, Error)]
pub enum NotifyError {
    #[error("the stream image is not a stored order: {0}")]
    NotAnOrder(String),
    /// Even with its email text cut to the note, the order's message would be over SNS's limit:
    /// its JSON alone is too large, and that is never cut.
    #[error(
        "order {order_id} needs {size} bytes as an SNS message even with its email cut short; \
         SNS takes at most {MAX_MESSAGE_BYTES}"
    )]
    TooLarge { order_id: String, size: usize },
    #[error("SNS did not accept the notification: {0}")]
    Publish(String),
}

/// Handles one stream batch. Returns the first record that could not be notified, if any.
pub async fn handle(
    notifier: &OrderNotifier,
    event: LambdaEvent<Event>,
) -> Result<DynamoDbEventResponse, Error> {
    let mut notifications = Vec::new();
    // An INSERT that cannot be notified (not an order, or too large) stops the batch there, so
    // it is retried and, in the end, sent to the on-failure destination instead of vanishing.
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
        Ok(()) => {
            metrics::count(metrics::NOTIFICATIONS_PUBLISHED, notifications.len() as u64);
            unreadable
        }
        Err(Unpublished { index, error }) => {
            // Those before it went out; the stream hands over the rest again.
            metrics::count(metrics::NOTIFICATIONS_PUBLISHED, index as u64);
            let failed = &notifications[index];
            error!(order_id = failed.order_id, sequence_number = failed.sequence_number, reason = %error,
                   "order not notified; the stream resumes here");
            Some(failed.sequence_number.clone())
        }
    };
    let mut response = DynamoDbEventResponse::default();
    if let Some(sequence_number) = first_failure {
        metrics::count(metrics::NOTIFICATIONS_FAILED, 1);
        let mut failure = DynamoDbBatchItemFailure::default();
        failure.item_identifier = Some(sequence_number);
        response.batch_item_failures.push(failure);
    }
    Ok(response)
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
    use cafe_tests::metrics::counted;
    use lambda_runtime::Context;
    use serde_json::{Value, json};
    use std::sync::{Arc, Mutex};

    fn fixture() -> Event {
        cafe_tests::sample_event("order-notifier/default.json")
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
        // The order JSON once, under `default`, which SNS sends to every protocol but email.
        assert_eq!(
            message.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["default", "email"]
        );
        let machine: Value = serde_json::from_str(message["default"].as_str().unwrap()).unwrap();
        assert_eq!(machine["quantity"], 2);
        assert_eq!(machine["item"], "latex gloves");
    }

    #[test]
    fn subscribers_get_plain_json_and_readable_text() {
        let record = fixture().records.remove(2);
        let notification = notification(record).unwrap();
        let message: Value = serde_json::from_str(&notification.message).unwrap();
        let machine: Value = serde_json::from_str(message["default"].as_str().unwrap()).unwrap();
        assert_eq!(
            machine,
            json!({"orderID": "7b8c9d0e-1f2a-5b3c-9d4e-5f6a7b8c9d0e", "receivedAt": "2026-11-21T10:00:00Z",
                   "messageId": "4c5d6e7f-8a9b-4c0d-8e1f-2a3b4c5d6e7f", "item": "Café crème & <croissant>",
                   "customerID": "Zoë", "quantity": 1, "notes": "100% oat + \"extra\" foam", "rush": true,
                   "extras": ["cinnamon", 2], "address": {"city": "Zürich", "floor": 3}, "gift": null})
        );
        let text = message["email"].as_str().unwrap();
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
    async fn what_went_out_and_each_stop_are_counted() {
        let all = accepts_all(Arc::default());
        let notifier_taking_all = OrderNotifier::new(
            mock_client!(aws_sdk_sns, RuleMode::MatchAny, [&all]),
            "arn:topic",
        );
        let (_, counts) = counted(failed_sequence_number(&notifier_taking_all, inserts(25))).await;
        assert_eq!(
            counts,
            [(metrics::NOTIFICATIONS_PUBLISHED.to_owned(), 25)].into()
        );

        let first = accepts_all(Arc::default());
        let second = mock!(aws_sdk_sns::Client::publish_batch).then_error(|| {
            PublishBatchError::InternalErrorException(InternalErrorException::builder().build())
        });
        let notifier = notifier(&[&first, &second]);
        let (_, counts) = counted(failed_sequence_number(&notifier, inserts(25))).await;
        let expected = [
            (metrics::NOTIFICATIONS_FAILED, 1),
            (metrics::NOTIFICATIONS_PUBLISHED, 10),
        ];
        assert_eq!(
            counts,
            expected.map(|(name, n)| (name.to_owned(), n)).into()
        );
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
    async fn an_order_too_large_to_notify_is_retried_after_those_before_it() {
        // 13 100 numbers stored as 10000000000000000000: an order JSON over 256 KiB by itself.
        let mut event = fixture();
        let huge = json!({"L": vec![json!({"N": "10000000000000000000"}); 13_100]});
        let huge = serde_json::from_value(huge).unwrap();
        event.records[4].change.new_image.insert("n".into(), huge);
        let too_large = notification(event.records[4].clone()).unwrap_err();
        assert!(
            matches!(too_large, NotifyError::TooLarge { .. }),
            "{too_large}"
        );

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
