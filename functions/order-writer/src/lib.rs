//! order-writer: stores every order of an SQS batch in the DynamoDB table `orders`, once.
//!
//! - An invalid body is reported as a batch item failure with one log line saying why; SQS makes
//!   it visible again and, after `maxReceiveCount`, parks it in the DLQ. The rest of the batch is
//!   unaffected.
//! - The `orderID` is derived from the message (its `Idempotency-Key` attribute, else its SQS
//!   `messageId`) and written with `attribute_not_exists(orderID)`, so a redelivered message is
//!   a success that creates no second order. The same key with a different order is a failure
//!   that says so, so the second order reaches the DLQ instead of vanishing as "already stored".

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use cafe_shared::dynamodb_json::{MAX_ITEM_BYTES, item_size, same_value, to_item};
use cafe_shared::error::aws_error_text;
use cafe_shared::metrics;
use cafe_shared::{Order, OrderError, StoredOrder};
use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use lambda_runtime::{Error, LambdaEvent};
use thiserror::Error;
use tracing::{error, info, warn};
use uuid::{Uuid, uuid};

/// How many records of one batch are written to DynamoDB at the same time.
pub const MAX_CONCURRENT_WRITES: usize = 10;

pub use cafe_shared::order::IDEMPOTENCY_KEY;

/// Namespace of the UUIDv5 order ids. Changing it would give redelivered messages new ids.
const ORDER_ID_NAMESPACE: Uuid = uuid!("995a0802-7af6-424c-85d0-72b5ceaaa296");

pub struct OrderWriter {
    dynamodb: Client,
    table: String,
}

/// What became of one message that did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    Stored {
        order_id: String,
    },
    /// The order was stored by an earlier delivery of the same message (or key).
    AlreadyStored {
        order_id: String,
    },
}

#[derive(Debug, Error)]
pub enum WriteError {
    #[error("not a valid order: {0}")]
    Invalid(#[from] OrderError),
    #[error("the order could not be encoded for DynamoDB: {0}")]
    Encoding(#[from] cafe_shared::dynamodb_json::Error),
    #[error(
        "the order would take {size} bytes in DynamoDB; an item holds at most {MAX_ITEM_BYTES}"
    )]
    TooLargeToStore { size: usize },
    #[error(
        "order {order_id} was already stored with different contents under the same Idempotency-Key; this order was not stored"
    )]
    KeyReused { order_id: String },
    #[error("DynamoDB did not store the order: {0}")]
    Storage(String),
}

impl OrderWriter {
    /// A writer that stores orders in the DynamoDB table named `table` with `dynamodb`.
    pub fn new(dynamodb: Client, table: impl Into<String>) -> Self {
        Self {
            dynamodb,
            table: table.into(),
        }
    }

    /// Stores the order one message carries; storing it again is a success, not a second order.
    pub async fn write(
        &self,
        message: &SqsMessage,
        message_id: &str,
    ) -> Result<Written, WriteError> {
        let order = stored_order(message, message_id)?;
        let item = to_item(&order)?;
        let size = item_size(&item);
        if size > MAX_ITEM_BYTES {
            return Err(WriteError::TooLargeToStore { size });
        }
        let result = self
            .dynamodb
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(orderID)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let order_id = order.order_id.clone();
        match result {
            Ok(_) => Ok(Written::Stored { order_id }),
            Err(e) => match e.as_service_error() {
                // The order already stored comes back with the refusal, to be compared.
                Some(PutItemError::ConditionalCheckFailedException(refused)) => {
                    // Built again rather than kept: a repeat is rare, an item up to 400 KB.
                    match refused.item() {
                        Some(stored) if same_order(stored, &to_item(&order)?) => {
                            Ok(Written::AlreadyStored { order_id })
                        }
                        Some(_) => Err(WriteError::KeyReused { order_id }),
                        None => Err(WriteError::Storage(
                            "DynamoDB refused the write as a repeat but returned no stored order to compare".into(),
                        )),
                    }
                }
                _ => Err(WriteError::Storage(aws_error_text(&e))),
            },
        }
    }
}

/// Handles one SQS batch: writes its records concurrently and reports only the failed ones.
pub async fn handle(
    writer: &OrderWriter,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, Error> {
    let records = event.payload.records;
    // A record that cannot be named cannot be reported on its own: fail the batch rather than
    // risk deleting it unprocessed.
    let message_ids = records
        .iter()
        .map(|message| message.message_id.as_deref())
        .collect::<Option<Vec<&str>>>()
        .ok_or("an SQS record has no messageId; the whole batch will be retried")?;

    let outcomes: Vec<Result<Written, WriteError>> = stream::iter(records.iter().zip(&message_ids))
        .map(|(message, message_id)| writer.write(message, message_id))
        .buffered(MAX_CONCURRENT_WRITES)
        .collect()
        .await;

    let mut response = SqsBatchResponse::default();
    for (message_id, outcome) in message_ids.iter().zip(outcomes) {
        log_outcome(message_id, &outcome);
        metrics::count(outcome_metric(&outcome), 1);
        if outcome.is_err() {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = (*message_id).to_owned();
            response.batch_item_failures.push(failure);
        }
    }
    info!(
        records = message_ids.len(),
        failed = response.batch_item_failures.len(),
        "batch done"
    );
    Ok(response)
}

/// One log line per message, with the ids an operator searches for.
fn log_outcome(message_id: &str, outcome: &Result<Written, WriteError>) {
    match outcome {
        Ok(Written::Stored { order_id }) => info!(message_id, order_id, "order stored"),
        Ok(Written::AlreadyStored { order_id }) => {
            info!(
                message_id,
                order_id, "order already stored; redelivery ignored"
            )
        }
        Err(
            e @ (WriteError::Invalid(_)
            | WriteError::TooLargeToStore { .. }
            | WriteError::KeyReused { .. }),
        ) => {
            warn!(message_id, reason = %e, "order rejected; it stays on the queue until the DLQ takes it")
        }
        Err(e) => error!(message_id, reason = %e, "order not stored; it will be retried"),
    }
}

/// The metric a message's outcome counts towards: refused for good (bound for the DLQ) or failed
/// this time (retried).
pub fn outcome_metric(outcome: &Result<Written, WriteError>) -> &'static str {
    match outcome {
        Ok(Written::Stored { .. }) => metrics::ORDERS_STORED,
        Ok(Written::AlreadyStored { .. }) => metrics::ORDERS_ALREADY_STORED,
        Err(WriteError::Storage(_)) => metrics::ORDERS_FAILED,
        Err(_) => metrics::ORDERS_REFUSED,
    }
}

/// Whether a stored item is the same order as a new one: the same customer fields. When and in
/// which message it arrived may differ, since a resend is a new SQS message.
pub fn same_order(
    stored: &HashMap<String, AttributeValue>,
    new: &HashMap<String, AttributeValue>,
) -> bool {
    customer_fields(stored).count() == customer_fields(new).count()
        && customer_fields(new)
            .all(|(name, value)| stored.get(name).is_some_and(|s| same_value(s, value)))
}

fn customer_fields(
    item: &HashMap<String, AttributeValue>,
) -> impl Iterator<Item = (&String, &AttributeValue)> {
    item.iter()
        .filter(|(name, _)| !matches!(name.as_str(), "receivedAt" | "messageId"))
}

/// The order a message carries, as it will be stored.
pub fn stored_order(message: &SqsMessage, message_id: &str) -> Result<StoredOrder, OrderError> {
    let order = Order::parse(message.body.as_deref().unwrap_or_default())?;
    Ok(StoredOrder {
        order_id: order_id(message, message_id),
        received_at: received_at(message),
        message_id: message_id.to_owned(),
        order,
    })
}

/// A deterministic id: the same message (or the same `Idempotency-Key`) always gives the same id.
pub fn order_id(message: &SqsMessage, message_id: &str) -> String {
    let key = message
        .message_attributes
        .get(IDEMPOTENCY_KEY)
        .and_then(|attribute| attribute.string_value.as_deref())
        .filter(|key| !key.trim().is_empty());
    // Prefixes keep a client's key from ever colliding with some message's id.
    let name = match key {
        Some(key) => format!("key:{key}"),
        None => format!("message:{message_id}"),
    };
    Uuid::new_v5(&ORDER_ID_NAMESPACE, name.as_bytes()).to_string()
}

/// When SQS received the message (its `SentTimestamp`), so every redelivery agrees; the current
/// time only if the attribute is missing.
pub fn received_at(message: &SqsMessage) -> DateTime<Utc> {
    message
        .attributes
        .get("SentTimestamp")
        .and_then(|millis| millis.parse().ok())
        .and_then(DateTime::from_timestamp_millis)
        .unwrap_or_else(Utc::now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::operation::put_item::{PutItemInput, PutItemOutput};
    use aws_sdk_dynamodb::types::AttributeValue;
    use aws_sdk_dynamodb::types::error::{
        ConditionalCheckFailedException, ProvisionedThroughputExceededException,
    };
    use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
    use lambda_runtime::Context;

    use cafe_tests::metrics::counted;
    use cafe_tests::{failed_ids, sample_event};

    fn fixture(file: &str) -> SqsEvent {
        sample_event(file)
    }

    fn writer(rules: &[&Rule]) -> OrderWriter {
        OrderWriter::new(
            mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, rules),
            "orders",
        )
    }

    async fn deliver(writer: &OrderWriter, event: SqsEvent) -> Vec<String> {
        let response = handle(writer, LambdaEvent::new(event, Context::default())).await;
        failed_ids(&response.unwrap())
    }

    fn stores_conditionally() -> Rule {
        mock!(aws_sdk_dynamodb::Client::put_item)
            .match_requests(|put| {
                put.table_name() == Some("orders")
                    && put.condition_expression() == Some("attribute_not_exists(orderID)")
            })
            .then_output(|| PutItemOutput::builder().build())
    }

    fn text(put: &PutItemInput, field: &str) -> String {
        match put.item().and_then(|item| item.get(field)) {
            Some(AttributeValue::S(text)) => text.clone(),
            other => panic!("{field} is not a string attribute: {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_valid_batch_is_stored_with_the_condition_and_no_failures() {
        let stored = stores_conditionally();
        let failures = deliver(&writer(&[&stored]), fixture("order-writer/default.json")).await;
        assert!(failures.is_empty(), "{failures:?}");
        assert_eq!(stored.num_calls(), 3);
    }

    #[test]
    fn an_order_is_stored_as_a_native_map_with_what_the_cafe_adds() {
        let event = fixture("order-writer/default.json");
        let message = &event.records[1];
        let order = stored_order(message, message.message_id.as_deref().unwrap()).unwrap();
        let item = to_item(&order).unwrap();
        assert_eq!(item["item"], AttributeValue::S("flat white".into()));
        assert_eq!(item["customerID"], AttributeValue::S("c-2041".into()));
        assert_eq!(item["quantity"], AttributeValue::N("2".into()));
        assert_eq!(item["milk"], AttributeValue::S("oat".into()));
        assert_eq!(
            item["messageId"],
            AttributeValue::S(message.message_id.clone().unwrap())
        );
        // SentTimestamp 1763719201000 ms, so every redelivery agrees on it.
        assert_eq!(
            item["receivedAt"],
            AttributeValue::S("2025-11-21T10:00:01Z".into())
        );
        assert_eq!(item["orderID"], AttributeValue::S(order.order_id.clone()));
    }

    #[tokio::test]
    async fn hostile_text_reaches_dynamodb_unchanged() {
        let event = fixture("order-writer/hostile.json");
        let items: Vec<String> = event
            .records
            .iter()
            .map(|m| Order::parse(m.body.as_deref().unwrap()).unwrap().item)
            .collect();
        let stored = mock!(aws_sdk_dynamodb::Client::put_item)
            .match_requests(move |put| items.contains(&text(put, "item")))
            .then_output(|| PutItemOutput::builder().build());
        assert!(deliver(&writer(&[&stored]), event).await.is_empty());
        assert_eq!(stored.num_calls(), 5);
    }

    #[tokio::test]
    async fn a_mixed_batch_reports_exactly_its_invalid_messages() {
        let event = fixture("order-writer/mixed.json");
        let ids: Vec<String> = event
            .records
            .iter()
            .map(|m| m.message_id.clone().unwrap())
            .collect();
        let stored = stores_conditionally();
        let failures = deliver(&writer(&[&stored]), event).await;
        // Bodies 1 (not JSON), 3 (blank item) and 6 (no customerID) are not orders.
        assert_eq!(
            failures,
            vec![ids[1].clone(), ids[3].clone(), ids[6].clone()]
        );
        assert_eq!(stored.num_calls(), 7);
    }

    #[tokio::test]
    async fn each_outcome_is_counted_once_under_its_metric() {
        let event = fixture("order-writer/mixed.json");
        let stored = stores_conditionally();
        let writer = writer(&[&stored]);
        let (failures, counts) = counted(deliver(&writer, event)).await;
        assert_eq!(failures.len(), 3);
        let expected = [(metrics::ORDERS_STORED, 7), (metrics::ORDERS_REFUSED, 3)];
        assert_eq!(
            counts,
            expected.map(|(name, n)| (name.to_owned(), n)).into()
        );

        let (event, held) = resent_with_key(
            &fixture("order-writer/default.json").records[2]
                .body
                .clone()
                .unwrap(),
        );
        let (_, counts) = counted(deliver(&writer_for(&already_holding(held)), event)).await;
        assert_eq!(
            counts,
            [(metrics::ORDERS_ALREADY_STORED.to_owned(), 1)].into()
        );

        let failing = mock!(aws_sdk_dynamodb::Client::put_item)
            .then_error(|| PutItemError::unhandled("connection reset"));
        let (_, counts) = counted(deliver(
            &writer_for(&failing),
            fixture("order-writer/default.json"),
        ))
        .await;
        assert_eq!(counts, [(metrics::ORDERS_FAILED.to_owned(), 3)].into());
    }

    fn writer_for(rule: &Rule) -> OrderWriter {
        writer(&[rule])
    }

    /// The keyed message of `order-writer/default.json` alone, and the item an earlier message with the same
    /// key and `earlier_body` left in the table.
    fn resent_with_key(earlier_body: &str) -> (SqsEvent, HashMap<String, AttributeValue>) {
        let mut event = fixture("order-writer/default.json");
        event.records.drain(..2);
        let mut earlier = event.records[0].clone();
        earlier.body = Some(earlier_body.to_owned());
        earlier
            .attributes
            .insert("SentTimestamp".into(), "1763719100000".into());
        let stored = to_item(&stored_order(&earlier, "an-earlier-message").unwrap()).unwrap();
        (event, stored)
    }

    /// DynamoDB refusing a repeat and returning the item it holds, as `AllOld` asks.
    fn already_holding(stored: HashMap<String, AttributeValue>) -> Rule {
        mock!(aws_sdk_dynamodb::Client::put_item)
            .match_requests(|put| {
                put.return_values_on_condition_check_failure()
                    == Some(&ReturnValuesOnConditionCheckFailure::AllOld)
            })
            .then_error(move || {
                PutItemError::ConditionalCheckFailedException(
                    ConditionalCheckFailedException::builder()
                        .message("The conditional request failed")
                        .set_item(Some(stored.clone()))
                        .build(),
                )
            })
    }

    #[tokio::test]
    async fn the_same_order_already_stored_is_a_success() {
        let event = fixture("order-writer/default.json");
        let body = event.records[2].body.clone().unwrap();
        let (event, stored) = resent_with_key(&body);
        let already = already_holding(stored);
        let failures = deliver(&writer(&[&already]), event).await;
        assert!(failures.is_empty(), "{failures:?}");
        assert_eq!(already.num_calls(), 1);
    }

    #[tokio::test]
    async fn a_different_order_under_a_used_key_fails_and_is_not_stored() {
        let (event, stored) =
            resent_with_key(r#"{"item": "espresso", "customerID": "someone else"}"#);
        let message_id = event.records[0].message_id.clone().unwrap();
        let writer = writer(&[&already_holding(stored)]);
        let error = writer.write(&event.records[0], &message_id).await;
        let error = error.unwrap_err().to_string();
        assert!(
            error.contains("already stored with different contents under the same Idempotency-Key"),
            "{error}"
        );
        assert_eq!(deliver(&writer, event).await, vec![message_id]);
    }

    #[tokio::test]
    async fn a_refusal_without_the_stored_order_is_retried() {
        let refused = mock!(aws_sdk_dynamodb::Client::put_item).then_error(|| {
            PutItemError::ConditionalCheckFailedException(
                ConditionalCheckFailedException::builder()
                    .message("exists")
                    .build(),
            )
        });
        let event = fixture("order-writer/default.json");
        let failures = deliver(&writer(&[&refused]), event).await;
        assert_eq!(failures.len(), 3, "{failures:?}");
    }

    #[test]
    fn orders_are_the_same_whatever_message_brought_them() {
        let event = fixture("order-writer/default.json");
        // The keyed message: its order id is the key's, whichever message carries it.
        let message = &event.records[2];
        let item = |id: &str, body: &str| {
            let mut message = message.clone();
            message.body = Some(body.to_owned());
            to_item(&stored_order(&message, id).unwrap()).unwrap()
        };
        let body =
            r#"{"item": "mug", "customerID": "c", "price": 1.5, "extras": [1, {"a": null}]}"#;
        assert!(same_order(&item("m-1", body), &item("m-2", body)));
        let mut renumbered = item("m-1", body);
        renumbered.insert("price".into(), AttributeValue::N("1.50".into()));
        assert!(same_order(&renumbered, &item("m-2", body)));
        for other in [
            r#"{"item": "mug", "customerID": "c", "price": 1.5, "extras": [1, {"a": null}], "more": 1}"#,
            r#"{"item": "mug", "customerID": "c", "price": 1.5, "extras": [1, {"a": 0}]}"#,
            r#"{"item": "mug", "customerID": "c", "price": 1.5}"#,
            r#"{"item": "mug", "customerID": "d", "price": 1.5, "extras": [1, {"a": null}]}"#,
        ] {
            assert!(
                !same_order(&item("m-1", body), &item("m-2", other)),
                "{other}"
            );
            assert!(
                !same_order(&item("m-1", other), &item("m-2", body)),
                "{other}"
            );
        }
    }

    #[tokio::test]
    async fn throttling_on_one_record_fails_only_that_record() {
        let event = fixture("order-writer/mixed.json");
        let throttled_id = event.records[4].message_id.clone().unwrap();
        let throttled = mock!(aws_sdk_dynamodb::Client::put_item)
            .match_requests(|put| text(put, "customerID") == "m-4")
            .then_error(|| {
                PutItemError::ProvisionedThroughputExceededException(
                    ProvisionedThroughputExceededException::builder()
                        .message("slow down")
                        .build(),
                )
            });
        let stored = stores_conditionally();
        let failures = deliver(&writer(&[&throttled, &stored]), event).await;
        assert!(failures.contains(&throttled_id));
        assert_eq!(
            failures.len(),
            4,
            "the 3 invalid bodies and the throttled one: {failures:?}"
        );
        assert_eq!(stored.num_calls(), 6);
    }

    #[tokio::test]
    async fn a_record_without_message_id_fails_the_whole_batch() {
        let mut event = fixture("order-writer/default.json");
        event.records[0].message_id = None;
        let stored = stores_conditionally();
        let result = handle(
            &writer(&[&stored]),
            LambdaEvent::new(event, Context::default()),
        )
        .await;
        assert!(result.is_err());
        assert_eq!(stored.num_calls(), 0);
    }

    #[test]
    fn order_ids_are_deterministic_per_message_or_key() {
        let event = fixture("order-writer/default.json");
        let [plain, other, keyed] = &event.records[..] else {
            panic!("three records")
        };
        let id = |m: &SqsMessage| order_id(m, m.message_id.as_deref().unwrap());
        assert_eq!(id(plain), id(plain));
        assert_ne!(id(plain), id(other));
        assert!(Uuid::parse_str(&id(plain)).is_ok());

        // The same Idempotency-Key in another message is the same order.
        let mut resent = keyed.clone();
        resent.message_id = Some("a-different-message".into());
        assert_eq!(id(&resent), id(keyed));
        let mut without_key = keyed.clone();
        without_key.message_attributes.clear();
        assert_ne!(id(&without_key), id(keyed));
    }
}
