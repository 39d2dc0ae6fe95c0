//! The inventory document the report pipeline passes along: suppliers, their beans, totals.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Step Functions refuses state payloads over 256 KB; an inventory whose JSON is larger than
/// this is stored in S3 and passed by reference instead (claim check), leaving room for the
/// rest of the state.
pub const CLAIM_CHECK_BYTES: usize = 200_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Inventory {
    pub generated_at: DateTime<Utc>,
    pub suppliers: Vec<Supplier>,
    pub totals: Totals,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Supplier {
    pub id: i64,
    pub name: String,
    pub address: String,
    pub city: String,
    pub state: String,
    pub email: String,
    pub phone: String,
    pub beans: Vec<Bean>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bean {
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: String,
    pub product_name: String,
    /// `None` when the database holds a price that is not a number.
    #[serde(with = "rust_decimal::serde::float_option")]
    pub price: Option<Decimal>,
    pub description: String,
    pub quantity: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub suppliers: usize,
    pub beans: usize,
    /// Bags in stock across all beans.
    pub quantity: i64,
    /// Sum of price × quantity over the beans that have a price.
    #[serde(with = "rust_decimal::serde::float")]
    pub stock_value: Decimal,
}

impl Inventory {
    pub fn new(generated_at: DateTime<Utc>, suppliers: Vec<Supplier>) -> Self {
        let beans = || suppliers.iter().flat_map(|s| &s.beans);
        let totals = Totals {
            suppliers: suppliers.len(),
            beans: beans().count(),
            quantity: beans().map(|b| b.quantity).sum(),
            stock_value: beans()
                .filter_map(|b| Some(b.price? * Decimal::from(b.quantity)))
                .sum(),
        };
        Self {
            generated_at,
            suppliers,
            totals,
        }
    }
}

/// Where an S3 object is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3Location {
    pub bucket: String,
    pub key: String,
}

/// An inventory as one state hands it to the next: in the payload, or stored in S3 when too
/// large for it. JSON: `{"inline": {…}}` or `{"stored": {"bucket": …, "key": …}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum InventoryPayload {
    Inline(Inventory),
    Stored(S3Location),
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bean(id: i64, price: Option<&str>, quantity: i64) -> Bean {
        Bean {
            id,
            kind: "Arabica".into(),
            product_name: format!("Bean {id}"),
            price: price.map(|p| p.parse().unwrap()),
            description: String::new(),
            quantity,
        }
    }

    fn supplier(id: i64, beans: Vec<Bean>) -> Supplier {
        Supplier {
            id,
            name: format!("Supplier {id}"),
            address: String::new(),
            city: String::new(),
            state: String::new(),
            email: String::new(),
            phone: String::new(),
            beans,
        }
    }

    #[test]
    fn totals_count_every_bean_and_value_only_priced_ones() {
        let inventory = Inventory::new(
            Utc::now(),
            vec![
                supplier(1, vec![bean(1, Some("18.00"), 10), bean(2, None, 5)]),
                supplier(2, vec![]),
                supplier(3, vec![bean(3, Some("2.50"), 4)]),
            ],
        );
        assert_eq!(inventory.totals.suppliers, 3);
        assert_eq!(inventory.totals.beans, 3);
        assert_eq!(inventory.totals.quantity, 19);
        assert_eq!(
            inventory.totals.stock_value,
            "190.00".parse::<Decimal>().unwrap()
        );
    }

    #[test]
    fn the_payload_says_which_form_it_is() {
        let inventory = Inventory::new("2026-11-21T10:00:00Z".parse().unwrap(), vec![]);
        let inline = serde_json::to_value(InventoryPayload::Inline(inventory)).unwrap();
        assert_eq!(
            inline["inline"]["totals"],
            json!({"suppliers": 0, "beans": 0, "quantity": 0, "stockValue": 0.0})
        );
        let stored = InventoryPayload::Stored(S3Location {
            bucket: "b".into(),
            key: "inventory/x.json".into(),
        });
        let value = serde_json::to_value(&stored).unwrap();
        assert_eq!(
            value,
            json!({"stored": {"bucket": "b", "key": "inventory/x.json"}})
        );
        assert_eq!(
            serde_json::from_value::<InventoryPayload>(value).unwrap(),
            stored
        );
    }

    #[test]
    fn prices_are_json_numbers() {
        let value = serde_json::to_value(bean(1, Some("18.00"), 3)).unwrap();
        assert_eq!(value["price"], json!(18.0));
        assert_eq!(value["type"], "Arabica");
        assert_eq!(value["productName"], "Bean 1");
    }
}
