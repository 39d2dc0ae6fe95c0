//! What is measured: the set-up the processes run against (the emulator's resources, two
//! databases, the concurrent store) and the scenarios, each a function with its events and the
//! environment it needs beside the common one.

use std::time::Duration;

use cafe_shared::inventory::{Bean, Inventory, Supplier};
use cafe_tests::template::local_name;
use cafe_tests::{Moto, TestDatabase, sample_event};
use serde_json::{Value, json};

use crate::store;

/// The writer's batch scenarios against moto, whose ratio is a target.
pub const BATCH_OF_1: &str = "order-writer, batch of 1";
pub const BATCH_OF_10: &str = "order-writer, batch of 10";
/// One scenario of each other function (the cold scenario's, beside `BATCH_OF_10`).
pub const NOTIFIER: &str = "order-notifier, 10 INSERTs";
pub const READER_SEED: &str = "inventory-reader, seed data";
pub const RENDERER_10: &str = "report-renderer, 10 beans";
pub const MAILER: &str = "report-mailer, presign + publish";
/// The writer's batch scenarios against the concurrent store (`store.rs`) instead of moto.
pub const CONCURRENT_1: &str = "order-writer, batch of 1, concurrent 5 ms store";
pub const CONCURRENT_10: &str = "order-writer, batch of 10, concurrent 5 ms store";
/// The concurrent store's service time per `PutItem`: DynamoDB's usual single-digit milliseconds.
pub const STORE_SERVICE_TIME: Duration = Duration::from_millis(5);

/// The n-th event of a scenario (n counts from 1 across all of a measurement's processes).
pub type Events = Box<dyn Fn(usize) -> Vec<u8>>;

pub struct Scenario {
    pub name: &'static str,
    pub function: &'static str,
    /// The seed's handler in `bench/python/handlers.py`.
    pub python: &'static str,
    /// Environment of both implementations' processes, beside the common one.
    pub env: Vec<(&'static str, String)>,
    pub event: Events,
}

/// What the scenarios run against; dropping it stops the emulator and drops the databases.
pub struct Setup {
    emulator: Moto,
    orders_table: String,
    /// What the writer's SQS records say they came from.
    orders_queue_arn: String,
    order_topic: String,
    report_topic: String,
    reports_bucket: String,
    seed_db: TestDatabase,
    big_db: TestDatabase,
    /// The concurrent store's endpoint.
    store: String,
}

/// Creates the topic the template's resource `logical_id` is locally; returns its ARN.
async fn create_topic(sns: &aws_sdk_sns::Client, logical_id: &str) -> anyhow::Result<String> {
    let created = sns
        .create_topic()
        .name(local_name(logical_id))
        .send()
        .await?;
    Ok(created.topic_arn().unwrap_or_default().to_owned())
}

pub async fn set_up() -> anyhow::Result<Setup> {
    let emulator = Moto::start();
    let orders_table = local_name("OrdersTable");
    cafe_tests::create_orders_table(&emulator.dynamodb(), &orders_table).await;
    let orders_queue_arn = format!(
        "arn:aws:sqs:us-east-1:123456789012:{}",
        local_name("OrdersQueue")
    );
    let sns = emulator.sns();
    let order_topic = create_topic(&sns, "OrderNotificationsTopic").await?;
    let report_topic = create_topic(&sns, "EmailReportTopic").await?;
    let reports_bucket = local_name("ReportsBucket");
    let s3 = emulator.s3();
    s3.create_bucket().bucket(&reports_bucket).send().await?;
    s3.put_object()
        .bucket(&reports_bucket)
        .key("reports/bench.html")
        .body(b"<p>report</p>".to_vec().into())
        .send()
        .await?;
    let seed_db = TestDatabase::create().await;
    let big_db = TestDatabase::create().await;
    big_db.add_beans(10_000).await;
    let store = store::start(STORE_SERVICE_TIME).await?;
    Ok(Setup {
        emulator,
        orders_table,
        orders_queue_arn,
        order_topic,
        report_topic,
        reports_bucket,
        seed_db,
        big_db,
        store,
    })
}

impl Setup {
    pub fn emulator(&self) -> &Moto {
        &self.emulator
    }

    /// The emulator's `host:port`.
    pub fn emulator_address(&self) -> String {
        let endpoint = &self.emulator.endpoint;
        endpoint.trim_start_matches("http://").to_owned()
    }

    /// Environment of every process, both implementations', the noop floor's included.
    pub fn environment(&self) -> Vec<(String, String)> {
        vec![
            ("AWS_ENDPOINT_URL".into(), self.emulator.endpoint.clone()),
            ("AWS_REGION".into(), "us-east-1".into()),
            ("AWS_DEFAULT_REGION".into(), "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID".into(), "testing".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "testing".into()),
            ("ORDERS_TABLE".into(), self.orders_table.clone()),
            ("ORDER_TOPIC_ARN".into(), self.order_topic.clone()),
            ("REPORT_TOPIC_ARN".into(), self.report_topic.clone()),
            ("REPORTS_BUCKET".into(), self.reports_bucket.clone()),
            ("RUST_LOG".into(), "warn".into()),
        ]
    }

    /// The scenarios, in the order they run and are reported.
    pub fn scenarios(&self) -> Vec<Scenario> {
        let stream_record: Value =
            sample_event::<Value>("order-notifier/default.json")["Records"][0].clone();
        let stream_record_for_store = stream_record.clone();
        let concurrent_store = vec![("AWS_ENDPOINT_URL_DYNAMODB", self.store.clone())];
        let store_for = |services: &[&'static str]| -> Vec<(&'static str, String)> {
            services.iter().map(|s| (*s, self.store.clone())).collect()
        };
        vec![
            Scenario {
                name: BATCH_OF_1,
                function: "order-writer",
                python: "order_writer",
                env: vec![],
                event: sqs_batches(&self.orders_queue_arn, 1),
            },
            Scenario {
                name: BATCH_OF_10,
                function: "order-writer",
                python: "order_writer",
                env: vec![],
                event: sqs_batches(&self.orders_queue_arn, 10),
            },
            Scenario {
                name: NOTIFIER,
                function: "order-notifier",
                python: "order_notifier",
                env: vec![],
                event: Box::new(move |n| stream_batch(&stream_record, n)),
            },
            Scenario {
                name: READER_SEED,
                function: "inventory-reader",
                python: "inventory_reader",
                env: vec![("DATABASE_URL", database_url(&self.seed_db))],
                event: Box::new(reader_event),
            },
            Scenario {
                name: "inventory-reader, 10,000 beans",
                function: "inventory-reader",
                python: "inventory_reader",
                env: vec![("DATABASE_URL", database_url(&self.big_db))],
                event: Box::new(reader_event),
            },
            Scenario {
                name: RENDERER_10,
                function: "report-renderer",
                python: "report_renderer",
                env: vec![],
                event: renderer_events(10),
            },
            Scenario {
                name: "report-renderer, 1,000 beans",
                function: "report-renderer",
                python: "report_renderer",
                env: vec![],
                event: renderer_events(1_000),
            },
            Scenario {
                name: "report-renderer, 10,000 beans",
                function: "report-renderer",
                python: "report_renderer",
                env: vec![],
                event: renderer_events(10_000),
            },
            Scenario {
                name: MAILER,
                function: "report-mailer",
                python: "report_mailer",
                env: vec![],
                event: Box::new(mailer_event),
            },
            Scenario {
                name: CONCURRENT_1,
                function: "order-writer",
                python: "order_writer",
                env: concurrent_store.clone(),
                event: sqs_batches(&self.orders_queue_arn, 1),
            },
            Scenario {
                name: CONCURRENT_10,
                function: "order-writer",
                python: "order_writer",
                env: concurrent_store,
                event: sqs_batches(&self.orders_queue_arn, 10),
            },
            // The other functions' writes against the same store (the reader's store is MariaDB
            // itself, not an emulator: its scenarios above are its own time already).
            Scenario {
                name: "order-notifier, 10 INSERTs, concurrent 5 ms store",
                function: "order-notifier",
                python: "order_notifier",
                env: store_for(&["AWS_ENDPOINT_URL_SNS"]),
                event: Box::new(move |n| stream_batch(&stream_record_for_store, n)),
            },
            Scenario {
                name: "report-renderer, 1,000 beans, concurrent 5 ms store",
                function: "report-renderer",
                python: "report_renderer",
                env: store_for(&["AWS_ENDPOINT_URL_S3"]),
                event: renderer_events(1_000),
            },
            Scenario {
                name: "report-mailer, presign + publish, concurrent 5 ms store",
                function: "report-mailer",
                python: "report_mailer",
                env: store_for(&["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_SNS"]),
                event: Box::new(mailer_event),
            },
        ]
    }
}

/// An inventory of `beans` beans, 100 to a supplier: the renderer's input.
pub fn inventory(beans: usize) -> Inventory {
    let per_supplier = 100;
    let suppliers = (0..beans.div_ceil(per_supplier))
        .map(|s| Supplier {
            id: s as i64,
            name: format!("Supplier {s} & Sons"),
            address: "1 Roastery Lane".into(),
            city: "Portland".into(),
            state: "OR".into(),
            email: "orders@example.com".into(),
            phone: "+1 503 555 0100".into(),
            beans: (0..per_supplier.min(beans - s * per_supplier))
                .map(|b| Bean {
                    id: (s * per_supplier + b) as i64,
                    kind: "Arabica".into(),
                    product_name: format!("Lot {s}-{b}"),
                    price: Some("18.00".parse().unwrap()),
                    description: "Chocolate & hazelnut".into(),
                    quantity: (b * 7 % 600) as i64,
                })
                .collect(),
        })
        .collect();
    Inventory::new(chrono::Utc::now(), suppliers)
}

/// SQS batches of `size` orders, each order a customer of its own.
fn sqs_batches(queue_arn: &str, size: usize) -> Events {
    let queue_arn = queue_arn.to_owned();
    Box::new(move |sequence| sqs_batch(&queue_arn, size, sequence))
}

fn sqs_batch(queue_arn: &str, size: usize, sequence: usize) -> Vec<u8> {
    let records: Vec<Value> = (0..size)
        .map(|i| {
            json!({"messageId": uuid::Uuid::new_v4().to_string(), "receiptHandle": "r",
                   "body": json!({"item": "bench latte", "customerID": format!("b-{sequence}-{i}"), "quantity": 1}).to_string(),
                   "attributes": {"SentTimestamp": chrono::Utc::now().timestamp_millis().to_string(), "ApproximateReceiveCount": "1"},
                   "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                   "eventSourceARN": queue_arn, "awsRegion": "us-east-1"})
        })
        .collect();
    json!({"Records": records}).to_string().into_bytes()
}

/// Ten INSERT records, copies of `record` with order ids and sequence numbers of their own.
fn stream_batch(record: &Value, sequence: usize) -> Vec<u8> {
    let records: Vec<Value> = (0..10)
        .map(|i| {
            let mut record = record.clone();
            let id = format!("bench-{sequence}-{i}");
            record["dynamodb"]["NewImage"]["orderID"] = json!({"S": id});
            record["dynamodb"]["Keys"]["orderID"] = json!({"S": id});
            record["dynamodb"]["SequenceNumber"] = json!(format!("{}", sequence * 100 + i));
            record
        })
        .collect();
    json!({"Records": records}).to_string().into_bytes()
}

/// What the state machine hands report-mailer: the report the set-up put in the bucket.
fn mailer_event(_: usize) -> Vec<u8> {
    json!({"reportKey": "reports/bench.html", "execution": "bench"})
        .to_string()
        .into_bytes()
}

/// What the state machine hands inventory-reader.
fn reader_event(sequence: usize) -> Vec<u8> {
    json!({"execution": format!("bench-{sequence}")})
        .to_string()
        .into_bytes()
}

/// What the state machine hands report-renderer: an inventory of `beans` beans, inline.
fn renderer_events(beans: usize) -> Events {
    let inventory = inventory(beans);
    Box::new(move |n| {
        json!({"reportKey": format!("reports/bench-{n}.html"), "inventory": {"inline": &inventory}})
            .to_string()
            .into_bytes()
    })
}

/// `DATABASE_URL`'s server (or the local MariaDB's), with `database` as the database.
fn database_url(database: &TestDatabase) -> String {
    let server =
        std::env::var("DATABASE_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into());
    let server = server.trim_end_matches('/');
    let server = match server.rsplit_once('/') {
        Some((base, db)) if !db.contains('@') && !db.contains(':') => base.to_owned(),
        _ => server.to_owned(),
    };
    format!("{server}/{}", database.name)
}
