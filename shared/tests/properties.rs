//! Property tests (a short fuzzing run on every `cargo test`): order parsing never panics and says
//! why it refuses, a valid order survives the trip through JSON, and a stored order survives the
//! trip through a DynamoDB item and back out of a stream image. `PROPTEST_CASES` runs more.

#![cfg(feature = "dynamodb")]

use cafe_shared::dynamodb_json::{Item, image_to, image_to_json, to_item};
use cafe_shared::limits::check_number;
use cafe_shared::order::{MAX_ORDER_BYTES, RESERVED_FIELDS};
use cafe_shared::{Order, StoredOrder};
use chrono::{DateTime, Utc};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// Any JSON value a customer might send, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("numbers DynamoDB holds", |f| *f == 0.0
                || (1e-130..1e126).contains(&f.abs()))
            // A double halfway between two shortest forms is written one way by serde_json and
            // the other by Rust (which the table gets), so the order is refused as inexact
            // (limits.rs tests one); the property is about the numbers that are carried.
            .prop_filter("written alike by serde_json and Rust", |f| {
                check_number(&Value::from(*f).to_string()).is_ok()
            })
            .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,8}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Text a customer may send: anything that is not blank.
fn text() -> impl Strategy<Value = String> {
    any::<String>().prop_filter("not blank", |t| !t.trim().is_empty())
}

fn order() -> impl Strategy<Value = Order> {
    let known = ["item", "customerID", "quantity"];
    let details =
        prop::collection::btree_map("[a-zA-Z]{1,8}", json_value(), 0..5).prop_map(move |m| {
            m.into_iter()
                .filter(|(k, _)| {
                    !known.contains(&k.as_str()) && !RESERVED_FIELDS.contains(&k.as_str())
                })
                .collect::<Map<String, Value>>()
        });
    (text(), text(), prop::option::of(1..u64::MAX), details).prop_map(
        |(item, customer_id, quantity, details)| Order {
            item,
            customer_id,
            quantity,
            details,
        },
    )
}

fn stored_order() -> impl Strategy<Value = StoredOrder> {
    (
        order(),
        "[0-9a-f-]{36}",
        "[0-9a-f-]{36}",
        0..4_102_444_800_000_i64,
    )
        .prop_map(|(order, order_id, message_id, millis)| StoredOrder {
            order_id,
            received_at: DateTime::<Utc>::from_timestamp_millis(millis).unwrap(),
            message_id,
            order,
        })
}

/// Equal as DynamoDB sees JSON: a number is its value, so `2.0` stored comes back as `2`.
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i128(), y.as_i128()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_text_is_an_order_or_a_reason(body in any::<String>()) {
        match Order::parse(&body) {
            Ok(order) => {
                prop_assert!(!order.item.trim().is_empty());
                prop_assert!(!order.customer_id.trim().is_empty());
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn any_json_is_an_order_or_a_reason(value in json_value()) {
        let body = value.to_string();
        match Order::parse(&body) {
            Ok(order) => prop_assert_eq!(Some(order.item.as_str()), value.get("item").and_then(Value::as_str)),
            Err(e) if body.len() > MAX_ORDER_BYTES => prop_assert!(e.to_string().contains("bytes")),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn a_number_beyond_dynamodb_is_refused_by_name(
        f in any::<f64>().prop_filter("finite, beyond DynamoDB", |f| f.is_finite() && *f != 0.0 && !(1e-130..1e126).contains(&f.abs()))
    ) {
        let body = serde_json::json!({"item": "x", "customerID": "c", "price": f}).to_string();
        let error = Order::parse(&body).unwrap_err().to_string();
        prop_assert!(error.contains("out of DynamoDB's range"), "{}", error);
    }

    #[test]
    fn a_valid_order_survives_json(order in order()) {
        let body = serde_json::to_string(&order).unwrap();
        prop_assume!(body.len() <= MAX_ORDER_BYTES);
        prop_assert_eq!(Order::parse(&body).unwrap(), order);
    }

    #[test]
    fn a_stored_order_survives_dynamodb_and_the_stream(stored in stored_order()) {
        let item = to_item(&stored).unwrap();
        // The stream hands the notifier the same item in Lambda's JSON form.
        let lambda_json = serde_json::to_value(Item::from(item.clone())).unwrap();
        let image: Item = serde_json::from_value(lambda_json).unwrap();
        let back = serde_json::to_value(image_to::<StoredOrder>(image).unwrap()).unwrap();
        let sent = serde_json::to_value(&stored).unwrap();
        prop_assert!(same_json(&back, &sent), "{back} is not {sent}");
        let plain = image_to_json(Item::from(item)).unwrap();
        prop_assert!(same_json(&plain, &sent), "{plain} is not {sent}");
    }
}
