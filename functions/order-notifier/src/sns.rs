//! Publishing notifications to the topic, in stream order, up to ten per `PublishBatch`.

use aws_sdk_sns::Client;
use aws_sdk_sns::types::{MessageAttributeValue, PublishBatchRequestEntry};
use cafe_shared::error::aws_error_text;
use thiserror::Error;
use tracing::info;

use crate::NotifyError;
use crate::message::{ATTRIBUTE_TYPE, Notification};

/// SNS `PublishBatch` takes at most ten messages, and at most 256 KiB for all of them together,
/// each counted as a single message is (see [`crate::message::sns_size`]).
pub const MAX_BATCH_ENTRIES: usize = 10;
pub const MAX_BATCH_BYTES: usize = 262_144;

/// Where publishing stopped: the notification at `index` (in the slice handed to
/// [`OrderNotifier::publish`]) was not published, for the reason in `error`; every one before it
/// was, and none after it was tried.
#[derive(Debug, Error)]
#[error("notification {index} was not published: {error}")]
pub struct Unpublished {
    pub index: usize,
    pub error: NotifyError,
}

impl Unpublished {
    /// The same failure, `offset` places further on in a longer slice.
    fn after(self, offset: usize) -> Self {
        Self {
            index: offset + self.index,
            ..self
        }
    }
}

pub struct OrderNotifier {
    sns: Client,
    topic_arn: String,
}

impl OrderNotifier {
    /// A notifier that publishes to the SNS topic `topic_arn` with `sns`.
    pub fn new(sns: Client, topic_arn: impl Into<String>) -> Self {
        Self {
            sns,
            topic_arn: topic_arn.into(),
        }
    }

    /// Publishes in order, a batch at a time. On failure says which notification was the first
    /// not published, and why; those before it were.
    pub async fn publish(&self, notifications: &[Notification]) -> Result<(), Unpublished> {
        let mut start = 0;
        for batch in batches(notifications) {
            self.publish_batch(batch)
                .await
                .map_err(|unpublished| unpublished.after(start))?;
            start += batch.len();
        }
        Ok(())
    }

    /// One `PublishBatch`; an [`Unpublished`] index counts from the start of `batch`.
    async fn publish_batch(&self, batch: &[Notification]) -> Result<(), Unpublished> {
        // Nothing of the batch is sent when a request entry cannot be built, nor when the call
        // itself fails: the batch's first notification is the first not published.
        let whole_batch = |error| Unpublished { index: 0, error };
        let entries = batch
            .iter()
            .enumerate()
            .map(|(index, notification)| entry(index, notification))
            .collect::<Result<Vec<_>, _>>()
            .map_err(whole_batch)?;
        let output = self
            .sns
            .publish_batch()
            .topic_arn(&self.topic_arn)
            .set_publish_batch_request_entries(Some(entries))
            .send()
            .await
            .map_err(|e| whole_batch(NotifyError::Publish(aws_error_text(&e))))?;
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
            Some((index, failed)) => Err(Unpublished {
                index,
                error: NotifyError::Publish(format!(
                    "{}: {}",
                    failed.code(),
                    failed.message().unwrap_or("no reason given")
                )),
            }),
        }
    }
}

fn entry(
    index: usize,
    notification: &Notification,
) -> Result<PublishBatchRequestEntry, NotifyError> {
    let mut entry = PublishBatchRequestEntry::builder()
        .id(index.to_string())
        .subject(&notification.subject)
        .message(&notification.message)
        .message_structure("json");
    // The same attributes `Notification::size` counts.
    for (name, value) in notification.attributes() {
        let attribute = MessageAttributeValue::builder()
            .data_type(ATTRIBUTE_TYPE)
            .string_value(value)
            .build()
            .map_err(build_error)?;
        entry = entry.message_attributes(name, attribute);
    }
    entry.build().map_err(build_error)
}

fn build_error(e: impl std::fmt::Display) -> NotifyError {
    NotifyError::Publish(e.to_string())
}

/// Consecutive runs of at most ten notifications and [`MAX_BATCH_BYTES`] as SNS counts them, in
/// order. Every notification is at most that size itself, so each run is one SNS accepts.
fn batches(notifications: &[Notification]) -> Vec<&[Notification]> {
    let mut batches = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (index, notification) in notifications.iter().enumerate() {
        let size = notification.size();
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
    use crate::message::MAX_MESSAGE_BYTES;

    /// A notification whose measured size is exactly `size` bytes.
    fn sized(size: usize) -> Notification {
        let mut notification = Notification {
            sequence_number: "1".into(),
            order_id: "o".into(),
            customer_id: "c".into(),
            subject: "s".into(),
            message: String::new(),
        };
        notification.message = "x".repeat(size - notification.size());
        assert_eq!(notification.size(), size);
        notification
    }

    fn lengths(batches: &[&[Notification]]) -> Vec<usize> {
        batches.iter().map(|b| b.len()).collect()
    }

    #[test]
    fn batches_hold_at_most_ten_small_messages() {
        let notifications = vec![sized(100); 25];
        assert_eq!(lengths(&batches(&notifications)), [10, 10, 5]);
        assert!(batches(&[]).is_empty());
    }

    #[test]
    fn batches_are_split_by_the_bytes_sns_counts() {
        // 100 KiB each: two fit in 256 KiB, a third does not.
        let notifications = vec![sized(100 * 1024); 5];
        assert_eq!(lengths(&batches(&notifications)), [2, 2, 1]);
        // Exactly 256 KiB in all is still one batch.
        let notifications = [sized(MAX_BATCH_BYTES - 1000), sized(1000)];
        assert_eq!(lengths(&batches(&notifications)), [2]);
        let notifications = [sized(MAX_BATCH_BYTES - 1000), sized(1001)];
        assert_eq!(lengths(&batches(&notifications)), [1, 1]);
    }

    #[test]
    fn multi_byte_characters_count_as_their_bytes_in_a_batch() {
        // 40 000 emoji are 40 000 characters but 160 000 bytes: two of them do not fit together.
        let mut notification = sized(100);
        notification.message = "😀".repeat(40_000);
        assert!(notification.size() > 160_000);
        let notifications = vec![notification; 2];
        assert_eq!(lengths(&batches(&notifications)), [1, 1]);
    }

    #[test]
    fn a_message_of_the_largest_size_is_a_batch_of_its_own() {
        let notifications = [sized(100), sized(MAX_MESSAGE_BYTES), sized(100)];
        assert_eq!(lengths(&batches(&notifications)), [1, 1, 1]);
    }

    #[test]
    fn every_batch_is_within_both_limits_and_keeps_the_order() {
        let sizes = [
            5_000, 200_000, 60_000, 1_000, 1_000, 250_000, 120, 100_000, 100_000, 62_144,
        ];
        let notifications: Vec<_> = sizes.iter().cycle().take(47).map(|&s| sized(s)).collect();
        let split = batches(&notifications);
        for batch in &split {
            assert!(!batch.is_empty() && batch.len() <= MAX_BATCH_ENTRIES);
            assert!(batch.iter().map(Notification::size).sum::<usize>() <= MAX_BATCH_BYTES);
        }
        assert_eq!(split.concat(), notifications);
    }

    #[test]
    fn entries_carry_the_attributes_that_are_counted() {
        let notification = sized(500);
        let entry = entry(3, &notification).unwrap();
        assert_eq!(entry.id(), "3");
        assert_eq!(entry.message_structure(), Some("json"));
        let attributes = entry.message_attributes().unwrap();
        assert_eq!(attributes.len(), notification.attributes().len());
        for (name, value) in notification.attributes() {
            assert_eq!(attributes[name].data_type(), ATTRIBUTE_TYPE);
            assert_eq!(attributes[name].string_value(), Some(value));
        }
    }
}
