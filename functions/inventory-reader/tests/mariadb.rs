//! inventory-reader against a real MariaDB/MySQL server (a throwaway database per test) and, for
//! the claim check, S3 on the emulator.

use std::net::TcpListener;
use std::time::Duration;

use cafe_shared::NamedError;
use cafe_shared::inventory::{Inventory, InventoryPayload};
use cafe_tests::{Emulator, TestDatabase};
use inventory_reader::{InventoryReader, ReadError};
use mysql_async::prelude::Queryable;
use mysql_async::{Opts, OptsBuilder, Pool};

fn reader(opts: impl Into<Opts>, s3: aws_sdk_s3::Client) -> InventoryReader {
    InventoryReader {
        pool: Pool::new(opts.into()),
        s3,
        bucket: "cafe-reports".into(),
        connect_timeout: Duration::from_secs(2),
        query_timeout: Duration::from_secs(5),
    }
}

/// An S3 client that is never reached (the database tests stay below the claim-check size).
fn unused_s3() -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

#[tokio::test]
async fn every_supplier_and_bean_comes_back_typed() {
    let database = TestDatabase::create().await;
    let inventory: Inventory = reader(database.opts(), unused_s3()).read().await.unwrap();

    assert_eq!(inventory.totals.suppliers, 9);
    assert_eq!(inventory.totals.beans, 16);
    let names: Vec<&str> = inventory
        .suppliers
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "ordered by supplier name");

    let tiny = inventory
        .suppliers
        .iter()
        .find(|s| s.name == "Tiny Batch Roasters")
        .unwrap();
    assert!(
        tiny.beans.is_empty(),
        "a supplier without beans is still listed"
    );
    let hostile = inventory.suppliers.iter().find(|s| s.id == 3).unwrap();
    assert_eq!(hostile.name, "O'Brien & Daughters \"Fine\" <Roasts>");
    let saigon = inventory.suppliers.iter().find(|s| s.id == 8).unwrap();
    assert_eq!(saigon.city, "Hồ Chí Minh");
    assert_eq!(saigon.beans.len(), 3);
    let suda = saigon.beans.iter().find(|b| b.id == 13).unwrap();
    assert_eq!(suda.product_name, "Cà Phê Sữa Đá Roast");
    assert_eq!(suda.kind, "Robusta");
    assert_eq!(suda.price, Some("12.80".parse().unwrap()));
    assert_eq!(suda.quantity, 620);

    let value = serde_json::to_value(&inventory).unwrap();
    let bean = &value["suppliers"][0]["beans"][0];
    assert!(
        bean["price"].is_f64() && bean["quantity"].is_i64() && bean["id"].is_i64(),
        "{bean}"
    );
}

#[tokio::test]
async fn an_unreachable_database_is_retryable() {
    // Nothing listens on this port once the listener is gone.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let opts = OptsBuilder::default()
        .ip_or_hostname("127.0.0.1")
        .tcp_port(port)
        .user(Some("root"));
    let error = reader(opts, unused_s3()).read().await.unwrap_err();
    assert_eq!(error.name(), "DatabaseUnavailable", "{error}");
    assert!(error.retryable());
}

#[tokio::test]
async fn a_database_that_never_answers_times_out_as_unavailable() {
    // Accepts TCP connections (the kernel's backlog) but never speaks MySQL.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let opts = OptsBuilder::default()
        .ip_or_hostname("127.0.0.1")
        .tcp_port(port)
        .user(Some("root"));
    let started = std::time::Instant::now();
    let error = reader(opts, unused_s3()).read().await.unwrap_err();
    assert!(
        matches!(error, ReadError::DatabaseUnavailable(_)),
        "{error}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "bounded by the connect timeout"
    );
}

#[tokio::test]
async fn bad_credentials_are_not_retried() {
    let database = TestDatabase::create().await;
    let opts = OptsBuilder::from_opts(database.opts())
        .user(Some("no_such_user"))
        .pass(Some("wrong"));
    let error = reader(opts, unused_s3()).read().await.unwrap_err();
    assert_eq!(error.name(), "DatabaseAccessDenied", "{error}");
    assert!(!error.retryable());
}

#[tokio::test]
async fn a_broken_schema_is_a_query_failure() {
    let database = TestDatabase::create().await;
    let mut connection = mysql_async::Conn::new(database.opts()).await.unwrap();
    connection
        .query_drop("ALTER TABLE beans DROP COLUMN product_name")
        .await
        .unwrap();
    connection.disconnect().await.unwrap();
    let error = reader(database.opts(), unused_s3())
        .read()
        .await
        .unwrap_err();
    assert_eq!(error.name(), "InventoryQueryFailed", "{error}");
    assert!(!error.retryable());
}

#[tokio::test]
async fn ten_thousand_beans_go_to_s3_by_claim_check() {
    let database = TestDatabase::create().await;
    database.add_beans(10_000).await;

    let emulator = Emulator::start();
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&emulator.sdk_config())
            .force_path_style(true)
            .build(),
    );
    s3.create_bucket()
        .bucket("cafe-reports")
        .send()
        .await
        .unwrap();
    let reader = reader(database.opts(), s3.clone());
    let inventory = reader.read().await.unwrap();
    assert_eq!(inventory.totals.beans, 10_016);

    let payload = reader.payload("exec-big", inventory.clone()).await.unwrap();
    let InventoryPayload::Stored(location) = payload else {
        panic!("expected a claim check")
    };
    assert_eq!(location.key, "inventory/exec-big.json");
    let object = s3
        .get_object()
        .bucket(&location.bucket)
        .key(&location.key)
        .send()
        .await
        .unwrap();
    let stored: Inventory =
        serde_json::from_slice(&object.body.collect().await.unwrap().into_bytes()).unwrap();
    assert_eq!(stored, inventory);
}
