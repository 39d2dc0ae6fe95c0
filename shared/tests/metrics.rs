//! The lines a function writes for CloudWatch: Embedded Metric Format documents in the `Cafe`
//! namespace with the function as the dimension. In a file of its own: the recorder is installed
//! once per process.

use cafe_shared::metrics::{self, COLD_START, NAMESPACE, ORDERS_REFUSED, ORDERS_STORED};
use serde_json::{Value, json};

#[test]
fn a_flush_writes_one_emf_document_with_this_invocations_counts() {
    let collector = metrics::init("order-writer").unwrap();
    metrics::count(ORDERS_STORED, 2);
    metrics::count(ORDERS_STORED, 1);
    metrics::count(ORDERS_REFUSED, 1);

    let mut out = Vec::new();
    collector.flush(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is one JSON document"))
        .collect();
    assert_eq!(lines.len(), 1, "{text}");
    let document = &lines[0];
    let directive = &document["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(directive["Namespace"], NAMESPACE);
    assert_eq!(directive["Dimensions"], json!([["FunctionName"]]));
    let mut declared: Vec<Value> = directive["Metrics"].as_array().unwrap().clone();
    declared.sort_by_key(|m| m["Name"].as_str().unwrap().to_owned());
    assert_eq!(
        declared,
        [
            json!({"Name": "OrdersRefused", "Unit": "Count"}),
            json!({"Name": "OrdersStored", "Unit": "Count"})
        ]
    );
    assert!(document["_aws"]["Timestamp"].as_u64().unwrap() > 1_700_000_000_000);
    assert_eq!(document["FunctionName"], "order-writer");
    assert_eq!(document["OrdersStored"], 3);
    assert_eq!(document["OrdersRefused"], 1);

    // Counts are per invocation: a flush with nothing new writes nothing.
    let mut again = Vec::new();
    collector.flush(&mut again).unwrap();
    assert!(again.is_empty(), "{}", String::from_utf8_lossy(&again));

    // The cold start is one document of its own.
    let mut cold = Vec::new();
    collector
        .write_single(COLD_START, Some(::metrics::Unit::Count), 1, &mut cold)
        .unwrap();
    let cold: Value = serde_json::from_slice(&cold).unwrap();
    assert_eq!(cold["ColdStart"], 1);
    assert_eq!(cold["FunctionName"], "order-writer");
}
