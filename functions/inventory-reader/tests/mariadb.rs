//! inventory-reader against a real MariaDB/MySQL server (a throwaway database per test) and, for
//! the claim check, S3 on the emulator.

use std::net::TcpListener;
use std::time::Duration;

use cafe_shared::inventory::{Inventory, InventoryPayload};
use cafe_shared::{NamedError, metrics};
use cafe_tests::metrics::counted;
use cafe_tests::{Moto, TestDatabase, free_port, unreachable_sdk_config};
use inventory_reader::{InventoryReader, ReadError, ReadRequest, claim_check, handle};
use lambda_runtime::{Context, LambdaEvent};
use mysql_async::prelude::Queryable;
use mysql_async::{Opts, OptsBuilder, Pool};

/// A reader of the database at `opts`; its S3 client is never reached.
fn reader(opts: impl Into<Opts>) -> InventoryReader {
    InventoryReader::new(
        Pool::new(opts.into()),
        aws_sdk_s3::Client::new(&unreachable_sdk_config()),
        "cafe-reports",
        Duration::from_secs(2),
        Duration::from_secs(5),
    )
}

#[tokio::test]
async fn a_read_counts_the_reports_suppliers_and_beans() {
    let database = TestDatabase::create().await;
    let reader = reader(database.opts());
    let request = ReadRequest {
        execution: Some("exec-metrics".into()),
    };
    let event = LambdaEvent::new(request, Context::default());
    let (payload, counts) = counted(handle(&reader, event)).await;
    assert!(matches!(payload.unwrap(), InventoryPayload::Inline(_)));
    let expected = [(metrics::REPORT_BEANS, 16), (metrics::REPORT_SUPPLIERS, 9)];
    assert_eq!(
        counts,
        expected.map(|(name, n)| (name.to_owned(), n)).into()
    );
}

#[tokio::test]
async fn every_supplier_and_bean_comes_back_typed() {
    let database = TestDatabase::create().await;
    let inventory: Inventory = reader(database.opts()).read().await.unwrap();

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
    let port = free_port();
    let opts = OptsBuilder::default()
        .ip_or_hostname("127.0.0.1")
        .tcp_port(port)
        .user(Some("root"));
    let error = reader(opts).read().await.unwrap_err();
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
    let error = reader(opts).read().await.unwrap_err();
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
    let error = reader(opts).read().await.unwrap_err();
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
    let error = reader(database.opts()).read().await.unwrap_err();
    assert_eq!(error.name(), "InventoryQueryFailed", "{error}");
    assert!(!error.retryable());
}

/// Runs `statements` on the test database.
async fn run(database: &TestDatabase, statements: &[&str]) {
    let mut connection = mysql_async::Conn::new(database.opts()).await.unwrap();
    for statement in statements {
        connection.query_drop(*statement).await.unwrap();
    }
    connection.disconnect().await.unwrap();
}

#[tokio::test]
async fn out_of_range_prices_are_read_and_the_stock_value_is_too_large_to_total() {
    let database = TestDatabase::create().await;
    let decimal_65_30 = format!("{}.{}", "9".repeat(35), "9".repeat(30));
    let insert = format!(
        "INSERT INTO beans (id, supplier_id, type, product_name, price, description, quantity) VALUES
           (100, 9, 'Arabica', 'Typo Lot', '99999999999999999999999999.99', '', 420),
           (101, 9, 'Arabica', 'Decimal Max', '79228162514264337593543950335', '', 1),
           (102, 9, 'Arabica', 'Wide Decimal', '{decimal_65_30}', '', 1)"
    );
    run(&database, &[&insert]).await;

    let inventory = reader(database.opts()).read().await.unwrap();
    let beans = &inventory
        .suppliers
        .iter()
        .find(|s| s.id == 9)
        .unwrap()
        .beans;
    let price = |id| beans.iter().find(|b| b.id == id).unwrap().price;
    assert_eq!(
        price(100),
        Some("99999999999999999999999999.99".parse().unwrap())
    );
    assert_eq!(price(101), None, "beyond what the report carries: unknown");
    assert_eq!(price(102), None, "beyond what a Decimal holds: unknown");
    assert_eq!(inventory.totals.beans, 19);
    assert_eq!(
        inventory.totals.stock_value, None,
        "420 × 10^26 is too large"
    );
    assert_eq!(inventory.totals.quantity, Some(4080 + 422));

    // What the renderer does with it: the inventory comes back from its JSON.
    let json = serde_json::to_string(&InventoryPayload::Inline(inventory)).unwrap();
    assert!(
        serde_json::from_str::<InventoryPayload>(&json).is_ok(),
        "{json}"
    );
}

#[tokio::test]
async fn quantities_near_the_i64_maximum_are_too_large_to_total() {
    let database = TestDatabase::create().await;
    run(
        &database,
        &[
            "ALTER TABLE beans MODIFY quantity BIGINT",
            "INSERT INTO beans (id, supplier_id, type, product_name, price, description, quantity)
             VALUES (100, 9, 'Arabica', 'Big Lot', '1.00', '', 9223372036854775807),
                    (101, 9, 'Arabica', 'Negative Lot', '-2.00', '', -5)",
        ],
    )
    .await;
    let inventory = reader(database.opts()).read().await.unwrap();
    assert_eq!(inventory.totals.quantity, None);
    // 70689.45 from the sample data, + 1.00 × (2^63 − 1), + −2.00 × −5.
    assert_eq!(
        inventory.totals.stock_value,
        Some("9223372036854846506.45".parse().unwrap())
    );
}

#[tokio::test]
async fn a_quantity_beyond_i64_is_a_query_failure_naming_the_bean_and_column() {
    let database = TestDatabase::create().await;
    run(
        &database,
        &[
            "ALTER TABLE beans MODIFY quantity BIGINT UNSIGNED",
            "INSERT INTO beans (id, supplier_id, type, product_name, price, description, quantity)
             VALUES (100, 9, 'Arabica', 'Huge Lot', '1.00', '', 18446744073709551615)",
        ],
    )
    .await;
    let error = reader(database.opts()).read().await.unwrap_err();
    assert_eq!(error.name(), "InventoryQueryFailed", "{error}");
    let message = error.to_string();
    assert!(
        message.contains("supplier 9, bean 100: b.quantity: unexpected '18446744073709551615'"),
        "{message}"
    );
}

#[tokio::test]
async fn a_decimal_65_30_price_column_is_read_as_text_too() {
    let database = TestDatabase::create().await;
    let huge = format!("{}.{}", "9".repeat(35), "9".repeat(30));
    let insert = format!(
        "INSERT INTO beans (id, supplier_id, type, product_name, price, description, quantity)
         VALUES (100, 9, 'Arabica', 'Huge Price', {huge}, '', 1),
                (101, 9, 'Arabica', 'Fine Price', 12.5, '', 2)"
    );
    run(
        &database,
        &["ALTER TABLE beans MODIFY price DECIMAL(65,30)", &insert],
    )
    .await;
    let inventory = reader(database.opts()).read().await.unwrap();
    let beans = &inventory
        .suppliers
        .iter()
        .find(|s| s.id == 9)
        .unwrap()
        .beans;
    let price = |id| beans.iter().find(|b| b.id == id).unwrap().price;
    assert_eq!(price(100), None);
    assert_eq!(price(101), Some("12.5".parse().unwrap()));
    assert_eq!(
        inventory.totals.stock_value,
        Some("70714.45".parse().unwrap())
    );
}

#[tokio::test]
async fn ten_thousand_beans_go_to_s3_by_claim_check() {
    let database = TestDatabase::create().await;
    database.add_beans(10_000).await;

    let emulator = Moto::start();
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
    let inventory = reader(database.opts()).read().await.unwrap();
    assert_eq!(inventory.totals.beans, 10_016);

    let payload = claim_check::payload(&s3, "cafe-reports", "exec-big", inventory.clone())
        .await
        .unwrap();
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
