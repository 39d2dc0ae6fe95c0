//! The inventory document the report pipeline passes along: suppliers, their beans, totals.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tracing::warn;

/// Step Functions refuses state payloads over 256 KB; an inventory whose JSON is larger than
/// this is stored in S3 and passed by reference instead (claim check), leaving room for the
/// rest of the state.
/// The report's one name: the page's title and heading, its footer, and the subject of every
/// email about it (the state machine's failure notice included; a test checks it).
pub const REPORT_NAME: &str = "Café inventory report";

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
    /// `None` when the database holds a price that is not a number, or one beyond
    /// ±[`MAX_AMOUNT`].
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
    /// Bags in stock across all beans; `None` (JSON `null`) when the sum is too large for an i64.
    pub quantity: Option<i64>,
    /// Sum of price × quantity over the beans that have a price; `None` (JSON `null`) when a
    /// product or the sum is larger than [`MAX_AMOUNT`].
    #[serde(with = "rust_decimal::serde::float_option")]
    pub stock_value: Option<Decimal>,
}

/// The largest amount, price or stock value, the inventory carries: 10^28. Amounts travel
/// between the functions as JSON numbers (f64). Decimal's own maximum, 2^96 − 1 (about
/// 7.9 × 10^28), comes back from an f64 as 2^96, which no longer parses as a Decimal: the
/// renderer could not read the inventory and every report would fail. (The three words are
/// 10^28's 96-bit mantissa, lowest first; a test checks them.)
pub const MAX_AMOUNT: Decimal =
    Decimal::from_parts(0x1000_0000, 0x3E25_0261, 0x204F_CE5E, false, 0);

/// `amount` if it is within ±[`MAX_AMOUNT`].
pub fn within_limit(amount: Decimal) -> Option<Decimal> {
    (amount.abs() <= MAX_AMOUNT).then_some(amount)
}

impl Bean {
    /// Price × quantity, `None` when that is larger than [`MAX_AMOUNT`]. A bean without a price
    /// adds nothing to the stock value: zero.
    pub fn stock_value(&self) -> Option<Decimal> {
        match self.price {
            None => Some(Decimal::ZERO),
            // checked_mul: rust_decimal's `*` panics on overflow.
            Some(price) => within_limit(price.checked_mul(Decimal::from(self.quantity))?),
        }
    }
}

/// Bags in stock across `beans`, `None` when the sum is too large for an i64.
pub fn total_quantity<'a>(beans: impl IntoIterator<Item = &'a Bean>) -> Option<i64> {
    beans
        .into_iter()
        .try_fold(0_i64, |sum, bean| sum.checked_add(bean.quantity))
}

/// The totals over every bean. A total that does not fit is `None` rather than a panic, so one
/// bean with an absurd price or quantity does not stop the report; each bean that makes a total
/// too large is logged by name, to be fixed in the database.
fn totals(suppliers: &[Supplier]) -> Totals {
    let mut quantity = Some(0_i64);
    let mut stock_value = Some(Decimal::ZERO);
    for supplier in suppliers {
        for bean in &supplier.beans {
            let too_large = |problem: &str| {
                warn!(
                    supplier_id = supplier.id,
                    supplier = supplier.name,
                    bean_id = bean.id,
                    bean = bean.product_name,
                    price = bean.price.map(|p| p.to_string()),
                    quantity = bean.quantity,
                    "{problem}; the report shows it as too large to total"
                )
            };
            if let Some(sum) = quantity {
                quantity = sum.checked_add(bean.quantity);
                if quantity.is_none() {
                    too_large(
                        "adding this bean's quantity makes the bags in stock overflow an i64",
                    );
                }
            }
            let Some(value) = bean.stock_value() else {
                too_large(
                    "this bean's price × quantity is over the largest amount carried (10^28)",
                );
                stock_value = None;
                continue;
            };
            if let Some(sum) = stock_value {
                // checked_add: rust_decimal's `+` panics on overflow.
                stock_value = sum.checked_add(value).and_then(within_limit);
                if stock_value.is_none() {
                    too_large(
                        "adding this bean's price × quantity makes the stock value over the \
                         largest amount carried (10^28)",
                    );
                }
            }
        }
    }
    Totals {
        suppliers: suppliers.len(),
        beans: suppliers.iter().map(|s| s.beans.len()).sum(),
        quantity,
        stock_value,
    }
}

impl Inventory {
    pub fn new(generated_at: DateTime<Utc>, suppliers: Vec<Supplier>) -> Self {
        Self {
            generated_at,
            totals: totals(&suppliers),
            suppliers,
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
        assert_eq!(inventory.totals.quantity, Some(19));
        assert_eq!(
            inventory.totals.stock_value,
            Some("190.00".parse::<Decimal>().unwrap())
        );
    }

    #[test]
    fn the_largest_amount_is_ten_to_the_28th() {
        assert_eq!(MAX_AMOUNT, "1e28".parse::<Decimal>().unwrap());
        assert_eq!(within_limit(MAX_AMOUNT), Some(MAX_AMOUNT));
        assert_eq!(within_limit(-MAX_AMOUNT), Some(-MAX_AMOUNT));
        assert_eq!(within_limit(MAX_AMOUNT + Decimal::ONE), None);
    }

    #[test]
    fn the_largest_decimal_price_times_a_large_quantity_is_too_large_not_a_panic() {
        let huge = bean(1, None, i64::MAX);
        let huge = Bean {
            price: Some(Decimal::MAX),
            ..huge
        };
        assert_eq!(huge.stock_value(), None);
        let inventory = Inventory::new(
            Utc::now(),
            vec![supplier(
                1,
                vec![bean(2, Some("18.00"), 10), huge, bean(3, Some("2.50"), 4)],
            )],
        );
        assert_eq!(inventory.totals.stock_value, None);
        assert_eq!(inventory.totals.beans, 3);
        // The quantity is a separate total: i64::MAX + 10 overflows too.
        assert_eq!(inventory.totals.quantity, None);
    }

    #[test]
    fn a_price_decimal_can_hold_is_still_too_large_once_over_ten_to_the_28th() {
        let price = "99999999999999999999999999.99";
        // 4.2 × 10^28: a Decimal holds it, the JSON float carrying it would not come back.
        assert_eq!(bean(1, Some(price), 420).stock_value(), None);
        assert_eq!(
            bean(1, Some(price), 100).stock_value(),
            Some("9999999999999999999999999999".parse().unwrap())
        );
        assert_eq!(bean(1, Some(price), -420).stock_value(), None);
        assert_eq!(bean(1, None, i64::MAX).stock_value(), Some(Decimal::ZERO));
    }

    #[test]
    fn sums_that_overflow_are_too_large_and_the_other_totals_stay() {
        // Each bean's value is within the limit; together they are over it.
        let inventory = Inventory::new(
            Utc::now(),
            vec![
                supplier(1, vec![bean(1, Some("6000000000000000000000000000"), 1)]),
                supplier(2, vec![bean(2, Some("6000000000000000000000000000"), 1)]),
            ],
        );
        assert_eq!(inventory.totals.stock_value, None);
        assert_eq!(inventory.totals.quantity, Some(2));

        // Bags: i64::MAX and one more, among beans without a price.
        let beans = vec![bean(1, None, i64::MAX), bean(2, None, 1)];
        assert_eq!(total_quantity(&beans), None);
        assert_eq!(total_quantity(&beans[..1]), Some(i64::MAX));
        let inventory = Inventory::new(Utc::now(), vec![supplier(1, beans)]);
        assert_eq!(inventory.totals.quantity, None);
        assert_eq!(inventory.totals.stock_value, Some(Decimal::ZERO));

        // Negative quantities can bring a sum back; the sum still must not overflow on the way.
        let beans = vec![bean(1, None, i64::MIN), bean(2, None, -1)];
        assert_eq!(total_quantity(&beans), None);
    }

    #[test]
    fn amounts_up_to_the_limit_come_back_from_json_and_too_large_totals_are_null() {
        let limit = MAX_AMOUNT.to_string();
        let inventory = Inventory::new(
            Utc::now(),
            vec![supplier(1, vec![bean(1, Some(&limit), 1)])],
        );
        assert_eq!(inventory.totals.stock_value, Some(MAX_AMOUNT));
        let json = serde_json::to_string(&inventory).unwrap();
        assert_eq!(serde_json::from_str::<Inventory>(&json).unwrap(), inventory);

        let inventory = Inventory::new(
            Utc::now(),
            vec![supplier(
                1,
                vec![
                    bean(1, Some(&limit), 2),
                    bean(2, None, i64::MAX),
                    bean(3, None, 1),
                ],
            )],
        );
        let value = serde_json::to_value(&inventory).unwrap();
        assert_eq!(value["totals"]["stockValue"], json!(null));
        assert_eq!(value["totals"]["quantity"], json!(null));
        assert_eq!(
            serde_json::from_value::<Inventory>(value).unwrap(),
            inventory
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            failure_persistence: None,
            ..Default::default()
        })]
        #[test]
        fn every_amount_within_the_limit_comes_back_from_json(
            mantissa in -(1_i128 << 96) + 1..(1_i128 << 96),
            scale in 0_u32..=28,
        ) {
            let amount = Decimal::from_i128_with_scale(mantissa, scale);
            proptest::prop_assume!(within_limit(amount).is_some());
            let priced = Bean { price: Some(amount), ..bean(1, None, 1) };
            let json = serde_json::to_string(&priced).unwrap();
            proptest::prop_assert!(serde_json::from_str::<Bean>(&json).is_ok(), "{}", json);
        }
    }

    #[test]
    fn why_the_limit_the_largest_decimal_does_not_come_back_from_json() {
        let max = Bean {
            price: Some(Decimal::MAX),
            ..bean(1, None, 1)
        };
        let json = serde_json::to_string(&max).unwrap();
        assert!(serde_json::from_str::<Bean>(&json).is_err(), "{json}");
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
