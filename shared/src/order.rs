//! The café's `Order`: what a customer may send, how it is checked, and how it is stored.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thiserror::Error;

use crate::limits::{self, LimitError};

/// Largest order body accepted. Keeps every order, its stored item and its notification well
/// inside the SQS (256 KiB), DynamoDB (400 KB) and SNS (256 KiB) limits.
pub const MAX_ORDER_BYTES: usize = 64 * 1024;

/// The request header, and the SQS message attribute the API turns it into, with which a client
/// names its order (or its report): a resend with the same key is the same order, whichever SQS
/// message carries it. The template's API mapping writes the same name.
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

/// Fields the café sets on a stored order; a customer may not send them.
pub const RESERVED_FIELDS: [&str; 3] = ["orderID", "receivedAt", "messageId"];

/// An order as a customer sends it: `{"item": "latex gloves", "customerID": "12345"}`, with an
/// optional positive `quantity` and any further fields, which are kept as given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub item: String,
    #[serde(rename = "customerID")]
    pub customer_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u64>,
    /// Everything else the customer sent (size, notes, …).
    #[serde(flatten)]
    pub details: Map<String, Value>,
}

/// Why a body is not an order. The message is written for the person who sent it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OrderError {
    #[error("the order is empty")]
    Empty,
    #[error("the order is {size} bytes; at most {MAX_ORDER_BYTES} bytes are accepted")]
    TooLarge { size: usize },
    #[error(
        "the order is {size} bytes once its numbers are written out in full, as DynamoDB gives them back (1e19 is 10000000000000000000); at most {MAX_ORDER_BYTES} bytes are accepted"
    )]
    TooLargeWrittenOut { size: usize },
    #[error("the order is not valid JSON: {0}")]
    NotJson(String),
    #[error("the order must be a JSON object, not {0}")]
    NotAnObject(&'static str),
    #[error("the order has no `{0}`")]
    Missing(&'static str),
    #[error("`{field}` must be a string, not {found}")]
    NotText {
        field: &'static str,
        found: &'static str,
    },
    #[error("`{0}` must not be blank")]
    Blank(&'static str),
    #[error("`quantity` must be a whole number of at least 1, not {0}")]
    BadQuantity(String),
    #[error("`{0}` is set by the café and may not be sent")]
    Reserved(&'static str),
    #[error("a field name is empty (\"\": …); DynamoDB refuses empty attribute names")]
    EmptyName,
    #[error(transparent)]
    BeyondDynamoDb(#[from] LimitError),
}

impl Order {
    /// Parses and validates an order body (an SQS message body or an API request body).
    pub fn parse(body: &str) -> Result<Self, OrderError> {
        if body.len() > MAX_ORDER_BYTES {
            return Err(OrderError::TooLarge { size: body.len() });
        }
        if body.trim().is_empty() {
            return Err(OrderError::Empty);
        }
        // Too deep is said first: the JSON parser would only say "recursion limit exceeded".
        let within_limits = limits::check(body);
        if let Err(LimitError::TooDeep) = within_limits {
            return Err(LimitError::TooDeep.into());
        }
        let value: Value =
            serde_json::from_str(body).map_err(|e| OrderError::NotJson(e.to_string()))?;
        within_limits?;
        if has_empty_name(&value) {
            return Err(OrderError::EmptyName);
        }
        let size = written_out_size(&value);
        if size > MAX_ORDER_BYTES {
            return Err(OrderError::TooLargeWrittenOut { size });
        }
        Self::from_json(value)
    }

    /// Validates a parsed order body; `parse` has already held its text to DynamoDB's limits.
    fn from_json(value: Value) -> Result<Self, OrderError> {
        let mut fields = match value {
            Value::Object(fields) => fields,
            other => return Err(OrderError::NotAnObject(json_kind(&other))),
        };
        if let Some(reserved) = RESERVED_FIELDS
            .into_iter()
            .find(|f| fields.contains_key(*f))
        {
            return Err(OrderError::Reserved(reserved));
        }
        let item = take_text(&mut fields, "item")?;
        let customer_id = take_text(&mut fields, "customerID")?;
        let quantity = fields.remove("quantity").map(positive_whole).transpose()?;
        Ok(Self {
            item,
            customer_id,
            quantity,
            details: fields,
        })
    }
}

/// Whether any object in the order, however deep, has a field named `""`.
fn has_empty_name(value: &Value) -> bool {
    match value {
        Value::Object(fields) => fields
            .iter()
            .any(|(name, value)| name.is_empty() || has_empty_name(value)),
        Value::Array(items) => items.iter().any(has_empty_name),
        _ => false,
    }
}

/// The size of an order's JSON as it comes back out of DynamoDB, which is what its notification
/// carries: a float with a whole value within 64 bits comes back as an integer written out in
/// full, so `1e19` (4 bytes) becomes 20 and a body could grow fivefold.
fn written_out_size(value: &Value) -> usize {
    fn written_out(value: &Value) -> Value {
        match value {
            Value::Number(n) if n.is_f64() => n
                .as_f64()
                .and_then(whole_within_64_bits)
                .unwrap_or_else(|| value.clone()),
            Value::Array(items) => Value::Array(items.iter().map(written_out).collect()),
            Value::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(name, value)| (name.clone(), written_out(value)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    serde_json::to_vec(&written_out(value)).map_or(usize::MAX, |json| json.len())
}

fn whole_within_64_bits(f: f64) -> Option<Value> {
    // Both bounds are exact as floats: 2^64 and -2^63.
    match f {
        _ if f.fract() != 0.0 => None,
        0.0..18_446_744_073_709_551_616.0 => Some(Value::from(f as u64)),
        -9_223_372_036_854_775_808.0..0.0 => Some(Value::from(f as i64)),
        _ => None,
    }
}

fn take_text(fields: &mut Map<String, Value>, field: &'static str) -> Result<String, OrderError> {
    match fields.remove(field) {
        None => Err(OrderError::Missing(field)),
        Some(Value::String(text)) if text.trim().is_empty() => Err(OrderError::Blank(field)),
        Some(Value::String(text)) => Ok(text),
        Some(other) => Err(OrderError::NotText {
            field,
            found: json_kind(&other),
        }),
    }
}

fn positive_whole(value: Value) -> Result<u64, OrderError> {
    value
        .as_u64()
        .filter(|quantity| *quantity >= 1)
        .ok_or_else(|| OrderError::BadQuantity(value.to_string()))
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// An order as it is stored in the `orders` table (one native DynamoDB map per order) and as
/// subscribers receive it: the customer's fields plus what the café adds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredOrder {
    #[serde(rename = "orderID")]
    pub order_id: String,
    /// When the order reached the queue (RFC 3339, UTC).
    #[serde(rename = "receivedAt")]
    pub received_at: DateTime<Utc>,
    /// The SQS message the order came in.
    #[serde(rename = "messageId")]
    pub message_id: String,
    #[serde(flatten)]
    pub order: Order,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_seed_order_is_valid() {
        let order = Order::parse(r#"{"item": "latex gloves", "customerID": "12345"}"#).unwrap();
        assert_eq!(order.item, "latex gloves");
        assert_eq!(order.customer_id, "12345");
        assert_eq!(order.quantity, None);
        assert!(order.details.is_empty());
    }

    #[test]
    fn other_fields_are_kept_as_given() {
        let body = json!({"item": "beans", "customerID": "c1", "quantity": 3,
                          "notes": "ring twice & wait", "rush": true, "extras": ["milk", 2]});
        let order = Order::parse(&body.to_string()).unwrap();
        assert_eq!(order.quantity, Some(3));
        assert_eq!(order.details["notes"], "ring twice & wait");
        assert_eq!(order.details["extras"], json!(["milk", 2]));
        assert_eq!(serde_json::to_value(&order).unwrap(), body);
    }

    #[test]
    fn hostile_text_survives_unchanged() {
        let item = "Café “crème” & <b>50% off</b> + 'tips' 🍩";
        let body = json!({"item": item, "customerID": "ü+&%"}).to_string();
        let order = Order::parse(&body).unwrap();
        assert_eq!(order.item, item);
        assert_eq!(order.customer_id, "ü+&%");
    }

    #[test]
    fn each_invalid_body_says_what_is_wrong() {
        let cases = [
            ("", "the order is empty"),
            ("not json", "the order is not valid JSON"),
            ("[1, 2]", "must be a JSON object, not an array"),
            (r#"{"customerID": "1"}"#, "the order has no `item`"),
            (r#"{"item": "x"}"#, "the order has no `customerID`"),
            (
                r#"{"item": 7, "customerID": "1"}"#,
                "`item` must be a string, not a number",
            ),
            (
                r#"{"item": "  ", "customerID": "1"}"#,
                "`item` must not be blank",
            ),
            (
                r#"{"item": "x", "customerID": null}"#,
                "`customerID` must be a string, not null",
            ),
            (
                r#"{"item": "x", "customerID": "1", "quantity": 0}"#,
                "`quantity` must be a whole number",
            ),
            (
                r#"{"item": "x", "customerID": "1", "quantity": 1.5}"#,
                "not 1.5",
            ),
            (
                r#"{"item": "x", "customerID": "1", "quantity": "2"}"#,
                "not \"2\"",
            ),
            (
                r#"{"item": "x", "customerID": "1", "orderID": "mine"}"#,
                "`orderID` is set by the café",
            ),
            (
                r#"{"item": "x", "customerID": "1", "": 1}"#,
                "a field name is empty",
            ),
            (
                r#"{"item": "x", "customerID": "1", "a": [{"b": {"": null}}]}"#,
                "DynamoDB refuses empty attribute names",
            ),
        ];
        for (body, expected) in cases {
            let error = Order::parse(body).expect_err(body).to_string();
            assert!(error.contains(expected), "{body:?} gave {error:?}");
        }
    }

    #[test]
    fn what_dynamodb_cannot_hold_is_refused_with_its_reason() {
        let deep = format!(
            r#"{{"item": "x", "customerID": "1", "deep": {}{}}}"#,
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        let error = Order::parse(&deep).unwrap_err().to_string();
        assert!(error.contains("nested more than 32 levels"), "{error}");
        let error = Order::parse(r#"{"item": "x", "customerID": "1", "price": 1e-131}"#)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("1e-131 is out of DynamoDB's range"),
            "{error}"
        );
        // Not JSON is said as such, even with a bad number in it.
        let error = Order::parse(r#"{"item": 1e999,"#).unwrap_err();
        assert!(matches!(error, OrderError::NotJson(_)), "{error}");
    }

    #[test]
    fn numbers_written_out_in_full_count_against_the_size() {
        let numbers = |n: usize, literal: &str| {
            format!(
                r#"{{"item":"x","customerID":"c","n":[{}]}}"#,
                vec![literal; n].join(",")
            )
        };
        // 13,000 × "1e19," is 65 KB written as sent, 273 KB as DynamoDB gives it back.
        let body = numbers(13_000, "1e19");
        assert!(body.len() <= MAX_ORDER_BYTES);
        let error = Order::parse(&body).unwrap_err();
        assert!(
            matches!(error, OrderError::TooLargeWrittenOut { size } if size > 260_000),
            "{error}"
        );
        assert!(
            error
                .to_string()
                .contains("once its numbers are written out in full")
        );
        // Numbers written back as they were sent stay within the size they were sent at; others
        // grow however they come back (serde_json writes 1e22 as 1e+22 and 1e-5 as 0.00001).
        for literal in ["1.5", "1e-7", "12", "-0.25"] {
            let n = (MAX_ORDER_BYTES - 40) / (literal.len() + 1);
            let body = numbers(n, literal);
            assert!(Order::parse(&body).is_ok(), "{literal}");
        }
        // The whole floats that grow, at the edges of 64 bits.
        assert_eq!(
            whole_within_64_bits(1e19),
            Some(Value::from(10_000_000_000_000_000_000_u64))
        );
        assert_eq!(
            whole_within_64_bits(i64::MIN as f64),
            Some(Value::from(i64::MIN))
        );
        assert_eq!(whole_within_64_bits(18_446_744_073_709_551_616.0), None);
        assert_eq!(whole_within_64_bits(2.5), None);
    }

    #[test]
    fn oversized_bodies_are_refused_before_parsing() {
        let body = format!(
            r#"{{"item": "{}", "customerID": "1"}}"#,
            "x".repeat(MAX_ORDER_BYTES)
        );
        assert_eq!(
            Order::parse(&body),
            Err(OrderError::TooLarge { size: body.len() })
        );
    }

    #[test]
    fn a_stored_order_flattens_the_customer_fields() {
        let stored = StoredOrder {
            order_id: "o-1".into(),
            received_at: "2026-11-21T10:00:00Z".parse().unwrap(),
            message_id: "m-1".into(),
            order: Order::parse(
                r#"{"item": "mug", "customerID": "c", "quantity": 2, "size": "L"}"#,
            )
            .unwrap(),
        };
        let value = serde_json::to_value(&stored).unwrap();
        assert_eq!(
            value,
            json!({"orderID": "o-1", "receivedAt": "2026-11-21T10:00:00Z", "messageId": "m-1",
                   "item": "mug", "customerID": "c", "quantity": 2, "size": "L"})
        );
        assert_eq!(
            serde_json::from_value::<StoredOrder>(value).unwrap(),
            stored
        );
    }
}
