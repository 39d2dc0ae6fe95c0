//! Test harness: a private moto server per test, the café's resources in it, and Lambda-shaped
//! events read back from it (SQS batches, DynamoDB stream batches), so handlers are exercised on
//! exactly what Lambda would hand them.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use aws_lambda_events::event::sqs::SqsEvent;
use aws_sdk_dynamodb::config::Credentials;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    StreamSpecification, StreamViewType,
};
use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};

pub mod stack;

pub const REGION: &str = "us-east-1";

/// The workspace root, where `.venv` lives: the nearest directory holding `Cargo.lock` above
/// where cargo runs the test (it sets CARGO_MANIFEST_DIR for every test and `cargo run`), or
/// above the working directory (`make bench` runs the bench binary from the root). Not the
/// compile-time CARGO_MANIFEST_DIR: when clones share a target directory (as CI's cache does),
/// cargo reuses this crate compiled in another clone, and that value names the other clone.
pub fn workspace_root() -> PathBuf {
    let start = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_default();
    start
        .ancestors()
        .find(|dir| dir.join("Cargo.lock").is_file())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .expect("tests/ sits inside the workspace")
                .to_path_buf()
        })
}

/// A sample event from `events/`, as Lambda would deliver it.
pub fn sample_event<T: serde::de::DeserializeOwned>(file: &str) -> T {
    let path = workspace_root().join("events").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The message ids an SQS handler reported as failed, in its order.
pub fn failed_ids(response: &aws_lambda_events::event::sqs::SqsBatchResponse) -> Vec<String> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect()
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// A plain HTTP GET, as a browser would follow a link: (status, content type, body).
pub fn http_get(url: &str) -> (u16, String, String) {
    let mut response = agent()
        .get(url)
        .call()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    (status, content_type, body)
}

/// An HTTP POST of `body` as JSON: (status, response body as JSON, or null).
pub fn http_post(url: &str, body: &[u8], headers: &[(&str, &str)]) -> (u16, serde_json::Value) {
    let mut request = agent().post(url).header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = request
        .send(body)
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (
        response.status().as_u16(),
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

/// A throwaway database with the COFFEE schema and sample data, on the MariaDB/MySQL server of
/// `DATABASE_URL` (default `mysql://root@127.0.0.1:3306`). Dropped with the value.
pub struct TestDatabase {
    pub name: String,
    server: mysql_async::Opts,
}

impl TestDatabase {
    /// A new database loaded from `db/schema.sql` and `db/seed.sql`.
    pub async fn create() -> Self {
        let url =
            std::env::var("DATABASE_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into());
        let opts = mysql_async::Opts::from_url(&url).expect("DATABASE_URL is a MySQL URL");
        Self::create_with(opts, &format!("{url} (set DATABASE_URL)")).await
    }

    /// The same on another server (one a test started for itself), reached with `server`.
    pub async fn create_on(server: mysql_async::Opts) -> Self {
        let described = match server.socket() {
            Some(socket) => socket.to_owned(),
            None => format!("{}:{}", server.ip_or_hostname(), server.tcp_port()),
        };
        Self::create_with(server, &described).await
    }

    async fn create_with(server: mysql_async::Opts, described: &str) -> Self {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let server: mysql_async::Opts = mysql_async::OptsBuilder::from_opts(server)
            .db_name(None::<String>)
            .into();
        let count = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let name = format!("coffee_test_{}_{count}", std::process::id());
        let database = Self { name, server };
        let mut connection = mysql_async::Conn::new(database.server.clone())
            .await
            .unwrap_or_else(|e| panic!("no MySQL server at {described}: {e}"));
        use mysql_async::prelude::Queryable;
        connection
            .query_drop(format!(
                "CREATE DATABASE `{}` CHARACTER SET utf8mb4",
                database.name
            ))
            .await
            .unwrap();
        connection
            .query_drop(format!("USE `{}`", database.name))
            .await
            .unwrap();
        for file in ["schema.sql", "seed.sql"] {
            let sql = std::fs::read_to_string(workspace_root().join("db").join(file)).unwrap();
            connection
                .query_drop(sql)
                .await
                .unwrap_or_else(|e| panic!("db/{file}: {e}"));
        }
        connection.disconnect().await.unwrap();
        database
    }

    /// Adds `count` more beans ('Lot <n>', 9.50 each) spread over the first eight suppliers.
    pub async fn add_beans(&self, count: usize) {
        use mysql_async::prelude::Queryable;
        let values: Vec<String> = (0..count)
            .map(|i| {
                format!(
                    "({}, 'Arabica', 'Lot {i}', '9.50', 'Bulk lot', {})",
                    1 + i % 8,
                    i % 700
                )
            })
            .collect();
        let mut connection = mysql_async::Conn::new(self.opts()).await.unwrap();
        connection
            .query_drop(format!(
                "INSERT INTO beans (supplier_id, type, product_name, price, description, quantity) VALUES {}",
                values.join(",")
            ))
            .await
            .unwrap();
        connection.disconnect().await.unwrap();
    }

    /// Connection options for this database.
    pub fn opts(&self) -> mysql_async::Opts {
        mysql_async::OptsBuilder::from_opts(self.server.clone())
            .db_name(Some(&self.name))
            .into()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        // Drop runs inside the test's runtime, which cannot be blocked on: use a thread of its own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                use mysql_async::prelude::Queryable;
                if let Ok(mut connection) = mysql_async::Conn::new(server).await {
                    let _ = connection
                        .query_drop(format!("DROP DATABASE IF EXISTS `{name}`"))
                        .await;
                    let _ = connection.disconnect().await;
                }
            });
        })
        .join();
    }
}

/// A moto server of its own on a free loopback port, stopped when dropped.
pub struct Emulator {
    child: Child,
    pub endpoint: String,
}

impl Emulator {
    pub fn start() -> Self {
        let moto = std::env::var_os("MOTO_SERVER")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace_root().join(".venv/bin/moto_server"));
        assert!(
            moto.exists(),
            "{} not found: run `make test` (it installs moto into .venv) or set MOTO_SERVER",
            moto.display()
        );
        let port = free_port();
        let child = Command::new(&moto)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", moto.display()));
        let emulator = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        wait_until(Duration::from_secs(30), "moto to listen", || {
            TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok()
        });
        emulator
    }

    /// SDK configuration pointing at this emulator, with throwaway credentials.
    pub fn sdk_config(&self) -> SdkConfig {
        sdk_config_for(&self.endpoint)
    }

    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk_config())
    }
    pub fn streams(&self) -> aws_sdk_dynamodbstreams::Client {
        aws_sdk_dynamodbstreams::Client::new(&self.sdk_config())
    }
    pub fn sns(&self) -> aws_sdk_sns::Client {
        aws_sdk_sns::Client::new(&self.sdk_config())
    }
    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.sdk_config())
    }
    /// Path-style, as the functions' own S3 client is whenever an endpoint is set.
    pub fn s3(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&self.sdk_config())
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// SDK configuration for an emulator at `endpoint`, with throwaway credentials.
pub fn sdk_config_for(endpoint: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(
            Credentials::new("testing", "testing", None, None, "cafe-tests"),
        ))
        .build()
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free loopback port")
}

/// Polls `ready` until it holds, failing the test after `limit`.
pub fn wait_until(limit: Duration, what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ready() {
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The `orders` table as deployed: `orderID` key, on demand, NEW_IMAGE stream. Returns the
/// stream's ARN.
pub async fn create_orders_table(dynamodb: &aws_sdk_dynamodb::Client, table: &str) -> String {
    let output = dynamodb
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("orderID")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("orderID")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewImage)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("create the orders table");
    output
        .table_description()
        .and_then(|table| table.latest_stream_arn())
        .expect("the table has a stream")
        .to_owned()
}

/// Every item of a table, as plain JSON, page after page.
pub async fn scan_json(dynamodb: &aws_sdk_dynamodb::Client, table: &str) -> Vec<serde_json::Value> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let output = dynamodb
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan");
        items.extend(
            output
                .items()
                .iter()
                .map(|item| serde_dynamo::from_item(item.clone()).expect("plain JSON")),
        );
        start = output.last_evaluated_key().cloned();
        if start.is_none() {
            return items;
        }
    }
}

/// A topic with an SQS queue subscribed to it (envelope delivery, as an SQS subscriber gets it).
/// Returns (topic ARN, queue URL).
pub async fn topic_with_queue(
    sns: &aws_sdk_sns::Client,
    sqs: &aws_sdk_sqs::Client,
    topic: &str,
) -> (String, String) {
    let topic_arn = sns
        .create_topic()
        .name(topic)
        .send()
        .await
        .expect("create topic");
    let topic_arn = topic_arn.topic_arn().expect("topic ARN").to_owned();
    let queue_url = create_queue(sqs, &format!("{topic}-subscriber")).await;
    let queue_arn = queue_arn(sqs, &queue_url).await;
    sns.subscribe()
        .topic_arn(&topic_arn)
        .protocol("sqs")
        .endpoint(queue_arn)
        .send()
        .await
        .expect("subscribe the queue");
    (topic_arn, queue_url)
}

pub async fn create_queue(sqs: &aws_sdk_sqs::Client, name: &str) -> String {
    let output = sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .expect("create queue");
    output.queue_url().expect("queue URL").to_owned()
}

pub async fn queue_arn(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> String {
    let output = sqs
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("queue attributes");
    output
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .expect("queue ARN")
        .clone()
}

/// Receives (and deletes) everything currently on a queue.
pub async fn drain(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> Vec<aws_sdk_sqs::types::Message> {
    let mut all = Vec::new();
    loop {
        let output = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .expect("receive");
        let messages = output.messages.unwrap_or_default();
        if messages.is_empty() {
            return all;
        }
        for message in &messages {
            sqs.delete_message()
                .queue_url(queue_url)
                .receipt_handle(message.receipt_handle().unwrap_or_default())
                .send()
                .await
                .expect("delete");
        }
        all.extend(messages);
    }
}

/// SQS messages as Lambda's SQS event source hands them to a function.
pub fn sqs_event(messages: &[aws_sdk_sqs::types::Message], queue_arn: &str) -> SqsEvent {
    cafe_event_sources::events::sqs_event(messages, queue_arn, REGION)
}

/// The records on a table's stream after sequence number `after` (from the start when `None`),
/// as Lambda's DynamoDB event source hands them to a function: one batch, in order.
pub async fn stream_event(
    streams: &aws_sdk_dynamodbstreams::Client,
    stream_arn: &str,
    after: Option<&str>,
) -> StreamEvent {
    let description = streams
        .describe_stream()
        .stream_arn(stream_arn)
        .send()
        .await
        .expect("describe stream");
    let shards = description
        .stream_description()
        .map(|d| d.shards().to_vec())
        .unwrap_or_default();
    let mut records = Vec::new();
    for shard in shards {
        let iterator = streams
            .get_shard_iterator()
            .stream_arn(stream_arn)
            .shard_id(shard.shard_id().unwrap_or_default())
            .shard_iterator_type(match after {
                Some(_) => ShardIteratorType::AfterSequenceNumber,
                None => ShardIteratorType::TrimHorizon,
            })
            .set_sequence_number(after.map(str::to_owned))
            .send()
            .await
            .expect("shard iterator");
        let page = streams
            .get_records()
            .set_shard_iterator(iterator.shard_iterator)
            .send()
            .await
            .expect("stream records");
        records.extend(page.records().iter().cloned());
    }
    cafe_event_sources::events::stream_event(&records, stream_arn, REGION)
}
