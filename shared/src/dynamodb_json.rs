//! DynamoDB items and stream images ↔ plain JSON, so nobody downstream ever sees `{"S": …}`.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use serde_dynamo::{Error, Item};

/// The largest item DynamoDB stores: 400 KB, attribute names and values together.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

/// An item's size as DynamoDB counts it against `MAX_ITEM_BYTES` (its "Item sizes and formats"
/// rules), rounded up where the rules say "approximately": names and strings in UTF-8 bytes, a
/// number 1 byte per two significant digits plus 1, booleans and nulls 1 byte, a list or map 3
/// bytes plus 1 per element besides what it holds.
pub fn item_size(item: &HashMap<String, AttributeValue>) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

fn value_size(value: &AttributeValue) -> usize {
    let number = |n: &String| crate::limits::significant_digits(n).div_ceil(2) + 1;
    match value {
        AttributeValue::S(text) => text.len(),
        AttributeValue::N(n) => number(n),
        AttributeValue::B(blob) => blob.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(texts) => texts.iter().map(String::len).sum(),
        AttributeValue::Ns(numbers) => numbers.iter().map(number).sum(),
        AttributeValue::Bs(blobs) => blobs.iter().map(|blob| blob.as_ref().len()).sum(),
        AttributeValue::L(values) => 3 + values.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        AttributeValue::M(map) => {
            3 + map
                .iter()
                .map(|(name, v)| 1 + name.len() + value_size(v))
                .sum::<usize>()
        }
        // A type this SDK does not know yet: count it as the largest, so it is never waved on.
        _ => MAX_ITEM_BYTES,
    }
}

/// Whether two attribute values hold the same data. Numbers compare by value, since DynamoDB
/// may give back `1.50` as `1.5`; sets compare as sets.
pub fn same_value(a: &AttributeValue, b: &AttributeValue) -> bool {
    use crate::limits::same_number;
    let same_set = |a: &[String], b: &[String], same: fn(&str, &str) -> bool| {
        a.len() == b.len() && a.iter().all(|x| b.iter().any(|y| same(x, y)))
    };
    match (a, b) {
        (AttributeValue::N(a), AttributeValue::N(b)) => same_number(a, b),
        (AttributeValue::Ns(a), AttributeValue::Ns(b)) => same_set(a, b, same_number),
        (AttributeValue::Ss(a), AttributeValue::Ss(b)) => same_set(a, b, |x, y| x == y),
        (AttributeValue::L(a), AttributeValue::L(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same_value(a, b))
        }
        (AttributeValue::M(a), AttributeValue::M(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(name, a)| b.get(name).is_some_and(|b| same_value(a, b)))
        }
        _ => a == b,
    }
}

/// A stream image (`NewImage`, as Lambda delivers it) as plain JSON.
pub fn image_to_json(image: Item) -> Result<Value, Error> {
    serde_dynamo::from_item(image)
}

/// A stream image as a typed value, e.g. a `StoredOrder`.
pub fn image_to<T: DeserializeOwned>(image: Item) -> Result<T, Error> {
    serde_dynamo::from_item(image)
}

/// Any serialisable value (a JSON object, a `StoredOrder`) as a native DynamoDB item for the SDK.
pub fn to_item<T: Serialize>(value: &T) -> Result<HashMap<String, AttributeValue>, Error> {
    serde_dynamo::to_item(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn image(typed: Value) -> Item {
        serde_json::from_value(typed).unwrap()
    }

    #[test]
    fn a_typed_image_becomes_plain_json() {
        let new_image = image(json!({
            "orderID": {"S": "o-1"},
            "quantity": {"N": "2"},
            "price": {"N": "-18.5"},
            "rush": {"BOOL": true},
            "note": {"NULL": true},
            "address": {"M": {"city": {"S": "Zürich"}, "floor": {"N": "3"}}},
            "extras": {"L": [{"S": "milk"}, {"N": "1"}, {"BOOL": false}]},
            "tags": {"SS": ["a", "b"]},
            "sizes": {"NS": ["1", "2"]}
        }));
        assert_eq!(
            image_to_json(new_image).unwrap(),
            json!({"orderID": "o-1", "quantity": 2, "price": -18.5, "rush": true, "note": null,
                   "address": {"city": "Zürich", "floor": 3},
                   "extras": ["milk", 1, false], "tags": ["a", "b"], "sizes": [1, 2]})
        );
    }

    #[test]
    fn every_value_an_order_can_hold_goes_there_and_back() {
        let order = json!({
            "text": "Café & <crème> + 100% 'good' \"beans\" ☕",
            "empty": "",
            "whole": 42,
            "negative": -7,
            "fraction": 0.25,
            "large": 9_007_199_254_740_993_u64,
            "yes": true,
            "no": false,
            "nothing": null,
            "list": [1, "two", [3], {"four": 4}, null],
            "emptyList": [],
            "map": {"nested": {"deeper": ["x"]}},
            "emptyMap": {}
        });
        let item = to_item(&order).unwrap();
        assert!(matches!(item["text"], AttributeValue::S(_)));
        assert!(matches!(item["whole"], AttributeValue::N(_)));
        assert!(matches!(item["yes"], AttributeValue::Bool(true)));
        assert!(matches!(item["nothing"], AttributeValue::Null(true)));
        assert!(matches!(item["list"], AttributeValue::L(_)));
        assert!(matches!(item["map"], AttributeValue::M(_)));
        assert_eq!(image_to_json(Item::from(item)).unwrap(), order);
    }

    #[test]
    fn item_sizes_follow_dynamodbs_rules() {
        let item = to_item(&json!({
            "ab": "café",          // 2 + 5 bytes
            "n": 123.45,           // 1 + (5 digits → 3) + 1
            "yes": true,           // 3 + 1
            "l": [null, "xy"],     // 1 + 3 + (1 + 1) + (1 + 2)
            "m": {"k": 0}          // 1 + 3 + 1 + 1 + (0 digits → 0) + 1
        }))
        .unwrap();
        assert_eq!(item_size(&item), 7 + 5 + 4 + 9 + 7);
    }

    /// Bodies of at most 64 KiB always fit DynamoDB's 400 KB, in the shapes that cost the most
    /// per byte of JSON: many empty maps, many small numbers, many short fields.
    #[test]
    fn the_costliest_orders_of_64_kib_fit_an_item() {
        let order = r#"{"item":"x","customerID":"c""#;
        type Shape = (
            &'static str,
            &'static str,
            fn(usize) -> String,
            &'static str,
        );
        let shapes: [Shape; 3] = [
            (
                "empty maps",
                r#","l":["#,
                |i| if i == 0 { "{}".into() } else { ",{}".into() },
                "]}",
            ),
            (
                "zeros",
                r#","l":["#,
                |i| if i == 0 { "0".into() } else { ",0".into() },
                "]}",
            ),
            ("fields", "", |i| format!(r#","f{i}":[]"#), "}"),
        ];
        for (shape, opening, part, closing) in shapes {
            let mut body = format!("{order}{opening}");
            for i in 0.. {
                let next = part(i);
                if body.len() + next.len() + closing.len() > crate::order::MAX_ORDER_BYTES {
                    break;
                }
                body.push_str(&next);
            }
            body.push_str(closing);
            let order = crate::Order::parse(&body).unwrap_or_else(|e| panic!("{shape}: {e}"));
            let size = item_size(&to_item(&order).unwrap());
            assert!(
                size < MAX_ITEM_BYTES / 3,
                "{shape}: {size} bytes from {}",
                body.len()
            );
        }
    }

    #[test]
    fn values_compare_as_dynamodb_holds_them() {
        let n = |n: &str| AttributeValue::N(n.into());
        assert!(same_value(&n("1.50"), &n("1.5")));
        assert!(same_value(
            &AttributeValue::L(vec![n("2"), AttributeValue::S("a".into())]),
            &AttributeValue::L(vec![n("2.0"), AttributeValue::S("a".into())])
        ));
        assert!(!same_value(
            &AttributeValue::L(vec![n("2")]),
            &AttributeValue::L(vec![])
        ));
        assert!(!same_value(&n("1"), &AttributeValue::S("1".into())));
        let map = |v: &str| AttributeValue::M(HashMap::from([("k".to_owned(), n(v))]));
        assert!(same_value(&map("3"), &map("3.0")));
        assert!(!same_value(&map("3"), &map("4")));
        let ns = |v: &[&str]| AttributeValue::Ns(v.iter().map(|s| s.to_string()).collect());
        assert!(same_value(&ns(&["1", "2"]), &ns(&["2.0", "1"])));
    }
}
