//! DynamoDB items and stream images ↔ plain JSON, so nobody downstream ever sees `{"S": …}`.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use serde_dynamo::{Error, Item};

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
}
