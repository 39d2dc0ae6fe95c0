//! The stream mapping, and the emulator's stream under it, against the local stack's own
//! emulator (local/emulator/: moto with the café's patches and its fault switch), one per test
//! on free loopback ports. The function the mapping invokes is a stand-in served here, which
//! records every batch it is handed.

mod common;

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use cafe_event_sources::invoke::FUNCTION_TIMEOUT;
use cafe_event_sources::ready_file::Resources;
use cafe_gateway::Aws;
use cafe_gateway::mappings::{StreamMapping, progress::sequence_order};
use cafe_tests::stack::eventually;
use cafe_tests::template::local_name;
use cafe_tests::{REGION, free_port, sdk_config_for, workspace_root};
use common::exchange_raw;
use serde_json::{Value, json};

/// The orders table, as the emulator names it (from template.yaml).
fn table() -> String {
    local_name("OrdersTable")
}

/// local/emulator/ on free ports, with every resource of the stack in it; stopped when dropped.
struct Emulator {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Emulator {
    async fn start() -> Self {
        let root = workspace_root();
        let python = root.join(".venv/bin/python");
        assert!(
            python.exists(),
            "{} not found: run `make tools` (it installs moto into .venv)",
            python.display()
        );
        let port = free_port();
        let dir = std::env::temp_dir().join(format!(
            "cafe-gateway-emulator-{}-{port}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let log = std::fs::File::create(dir.join("emulator.log")).unwrap();
        let child = Command::new(&python)
            .args(["-m", "emulator"])
            .current_dir(root.join("local"))
            .env("MOTO_PORT", port.to_string())
            .env("MYSQL_RELAY_PORT", free_port().to_string())
            .env("MAILBOX_FILE", dir.join("mailbox.jsonl"))
            .env("EMULATOR_READY_FILE", dir.join("ready.json"))
            .env("AWS_REGION", REGION)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start local/emulator/: {e}"));
        let mut emulator = Self { child, dir, port };
        let ready = emulator.dir.join("ready.json");
        eventually(Duration::from_secs(120), "the emulator's resources", || {
            if let Ok(Some(status)) = emulator.child.try_wait() {
                let log = std::fs::read_to_string(emulator.dir.join("emulator.log"));
                panic!(
                    "the emulator stopped ({status}): {}",
                    log.unwrap_or_default()
                );
            }
            ready.exists().then_some(())
        })
        .await;
        emulator
    }

    /// What it created, as its ready file lists it.
    fn resources(&self) -> Resources {
        Resources::read(&self.dir.join("ready.json")).unwrap()
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn aws(&self) -> Aws {
        Aws::new(&sdk_config_for(&self.endpoint()))
    }

    /// One request, written out as is; the answer's status code, head and body.
    fn exchange(&self, request: &str) -> (u16, String, String) {
        exchange_raw((Ipv4Addr::LOCALHOST, self.port).into(), request)
    }

    /// A request to the fault switch (`/_cafe/faults`) with a JSON body: status and answer.
    fn fault_request(&self, method: &str, body: &str) -> (u16, Value) {
        let (status, _, answer) = self.exchange(&format!(
            "{method} /_cafe/faults HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ));
        let answer = serde_json::from_str(&answer)
            .unwrap_or_else(|e| panic!("{method} /_cafe/faults: {e}: {answer}"));
        (status, answer)
    }

    /// A request to the fault switch that must succeed: the faults in force, as JSON.
    fn faults(&self, method: &str, body: &Value) -> Value {
        let (status, answer) = self.fault_request(method, &body.to_string());
        assert_eq!(status, 200, "{answer}");
        answer
    }

    fn inject(&self, target: &str, count: u32) {
        self.faults(
            "POST",
            &json!({"target": target, "mode": "error", "count": count}),
        );
    }

    /// How often the fault on `target` struck.
    fn hits(&self, target: &str) -> u64 {
        let faults = self.faults("GET", &json!({}));
        faults["faults"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|f| f["target"] == target)
            .and_then(|f| f["hits"].as_u64())
            .unwrap_or(0)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What the stand-in function does with one invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Finish,
    /// A function error.
    Fail,
    /// No answer, ever.
    Hang,
}

/// One invocation of the stand-in function: the sequence numbers handed over, and what it did.
#[derive(Debug, Clone)]
struct Call {
    sequences: Vec<String>,
    answer: Answer,
}

/// The function the mapping invokes, over the Lambda Invoke API: it records each batch and
/// answers each invocation as `answer` says (by the invocation's number, from 0).
#[derive(Clone)]
struct Function {
    calls: Arc<Mutex<Vec<Call>>>,
    answer: Arc<dyn Fn(usize) -> Answer + Send + Sync>,
}

impl Function {
    /// Serves the function on a free loopback port; returns it and its endpoint.
    async fn serve(answer: impl Fn(usize) -> Answer + Send + Sync + 'static) -> (Self, String) {
        let function = Self {
            calls: Arc::default(),
            answer: Arc::new(answer),
        };
        let router = axum::Router::new()
            .route(
                "/2015-03-31/functions/{name}/invocations",
                axum::routing::post(invoked),
            )
            .with_state(function.clone());
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        (function, endpoint)
    }

    fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    /// Every sequence number of the invocations that succeeded, in the order handed over.
    fn finished(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|call| call.answer == Answer::Finish)
            .flat_map(|call| call.sequences)
            .collect()
    }
}

/// The SDK sends the payload as it is, with no JSON content type for an extractor to go by.
async fn invoked(State(function): State<Function>, payload: Bytes) -> impl IntoResponse {
    let event: Value = serde_json::from_slice(&payload).expect("a JSON event");
    let sequences: Vec<String> = event["Records"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["dynamodb"]["SequenceNumber"].as_str().map(str::to_owned))
        .collect();
    let answer = {
        let mut calls = function.calls.lock().unwrap();
        let answer = (function.answer)(calls.len());
        calls.push(Call { sequences, answer });
        answer
    };
    if answer == Answer::Hang {
        std::future::pending::<()>().await;
    }
    if answer == Answer::Fail {
        let error = json!({"errorType": "StandIn", "errorMessage": "failed on purpose"});
        return (
            StatusCode::OK,
            [("X-Amz-Function-Error", "Unhandled")],
            error.to_string(),
        );
    }
    (
        StatusCode::OK,
        [("Content-Type", "application/json")],
        json!({"batchItemFailures": []}).to_string(),
    )
}

/// The stream mapping from the emulator's orders table to the stand-in function, running until
/// dropped.
struct Mapping(tokio::task::JoinHandle<()>);

impl Mapping {
    async fn start(emulator: &Emulator, function_endpoint: &str, max_retries: u32) -> Self {
        Self::start_with_timeout(emulator, function_endpoint, max_retries, FUNCTION_TIMEOUT).await
    }

    async fn start_with_timeout(
        emulator: &Emulator,
        function_endpoint: &str,
        max_retries: u32,
        function_timeout: Duration,
    ) -> Self {
        let mut aws = emulator.aws();
        aws.lambda = aws_sdk_lambda::Client::new(&sdk_config_for(function_endpoint));
        let resources = emulator.resources();
        let mapping = StreamMapping {
            aws,
            stream_arn: resources.orders_table.stream_arn,
            failure_queue_url: resources.notifier_failures_queue.url,
            region: REGION.into(),
            function: resources.stream_mapping.function,
            function_timeout,
            batch_size: resources.stream_mapping.batch_size as usize,
            max_retries,
        };
        Self(tokio::spawn(mapping.run()))
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn stream_arn(aws: &Aws) -> String {
    let table = aws
        .dynamodb
        .describe_table()
        .table_name(table())
        .send()
        .await
        .unwrap();
    table
        .table()
        .and_then(|t| t.latest_stream_arn())
        .expect("the orders table has a stream")
        .to_owned()
}

async fn put(dynamodb: &aws_sdk_dynamodb::Client, id: &str) {
    put_with(dynamodb, id, 0).await;
}

/// Puts an item with `attributes` more attributes beside its key.
async fn put_with(dynamodb: &aws_sdk_dynamodb::Client, id: &str, attributes: usize) {
    let mut item: HashMap<String, AttributeValue> = (0..attributes)
        .map(|n| (format!("line{n}"), AttributeValue::S("flat white".into())))
        .collect();
    item.insert("orderID".into(), AttributeValue::S(id.to_owned()));
    dynamodb
        .put_item()
        .table_name(table())
        .set_item(Some(item))
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "put {id}: {}",
                aws_sdk_dynamodb::error::DisplayErrorContext(e)
            )
        });
}

/// Every record of the table's (only) shard, from its start: (sequence number, orderID). Stops
/// at an empty page, or once it read `most` records, since a stream that returns its tail again
/// on every read never gives an empty page.
async fn read_shard(aws: &Aws, most: usize) -> Vec<(String, String)> {
    let stream_arn = stream_arn(aws).await;
    let described = aws
        .streams
        .describe_stream()
        .stream_arn(&stream_arn)
        .send()
        .await
        .unwrap();
    let shards = described.stream_description().unwrap().shards();
    assert_eq!(shards.len(), 1, "moto keeps one shard per stream");
    let mut iterator = aws
        .streams
        .get_shard_iterator()
        .stream_arn(&stream_arn)
        .shard_id(shards[0].shard_id().unwrap())
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap()
        .shard_iterator
        .expect("an iterator");
    let mut read = Vec::new();
    while read.len() < most {
        let page = aws
            .streams
            .get_records()
            .shard_iterator(&iterator)
            .limit(100)
            .send()
            .await
            .unwrap();
        if page.records().is_empty() {
            break;
        }
        read.extend(page.records().iter().map(|r| {
            let change = r.dynamodb().unwrap();
            let id = change.keys().unwrap()["orderID"].as_s().unwrap().clone();
            (change.sequence_number().unwrap().to_owned(), id)
        }));
        iterator = page.next_shard_iterator.expect("the shard is open");
    }
    read
}

/// Whether each sequence number is greater than the one before it.
fn strictly_increasing(sequences: &[String]) -> bool {
    sequences
        .windows(2)
        .all(|pair| sequence_order(&pair[0], &pair[1]).is_lt())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_get_unique_increasing_sequence_numbers() {
    const WRITERS: usize = 16;
    const WRITES: usize = 50;
    // moto builds a record's stream record between numbering it and appending it: the bigger the
    // item, the longer that window stays open. With 50 attributes the race shows in every run
    // without the patch; with the key alone, in about one run in three.
    const ATTRIBUTES: usize = 50;
    let emulator = Emulator::start().await;
    let aws = emulator.aws();
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let dynamodb = aws.dynamodb.clone();
            tokio::spawn(async move {
                for n in 0..WRITES {
                    put_with(&dynamodb, &format!("w{writer}-{n}"), ATTRIBUTES).await;
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }

    let read = read_shard(&aws, 2 * WRITERS * WRITES).await;
    let sequences: Vec<String> = read.iter().map(|(s, _)| s.clone()).collect();
    let mut unique = sequences.clone();
    unique.sort_by(|a, b| sequence_order(a, b));
    unique.dedup();
    let mut ids: Vec<&str> = read.iter().map(|(_, id)| id.as_str()).collect();
    ids.sort();
    ids.dedup();
    let figures = format!(
        "{} writes; {} records read, {} sequence numbers, {} orderIDs",
        WRITERS * WRITES,
        read.len(),
        unique.len(),
        ids.len()
    );
    println!("{figures}");
    assert!(strictly_increasing(&sequences), "{figures}");
    assert_eq!(read.len(), WRITERS * WRITES, "{figures}");
    assert_eq!(ids.len(), WRITERS * WRITES, "{figures}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_stream_read_resumes_after_the_checkpoint() {
    let emulator = Emulator::start().await;
    let aws = emulator.aws();
    let (function, endpoint) = Function::serve(|_| Answer::Finish).await;
    let _mapping = Mapping::start(&emulator, &endpoint, 5).await;
    for n in 0..5 {
        put(&aws.dynamodb, &format!("before-{n}")).await;
    }
    eventually(Duration::from_secs(30), "the first five records", || {
        (function.finished().len() == 5).then_some(())
    })
    .await;

    // Past the SDK's 3 attempts each: two reads of records fail, and one request for an iterator
    // (the first the mapping makes after the first failure).
    emulator.inject("dynamodbstreams:GetRecords", 6);
    emulator.inject("dynamodbstreams:GetShardIterator", 3);
    eventually(Duration::from_secs(30), "a failed read", || {
        (emulator.hits("dynamodbstreams:GetRecords") >= 3).then_some(())
    })
    .await;
    for n in 0..5 {
        put(&aws.dynamodb, &format!("during-{n}")).await;
    }
    eventually(Duration::from_secs(60), "the next five records", || {
        (function.finished().len() >= 10).then_some(())
    })
    .await;

    let stream: Vec<String> = read_shard(&aws, 20)
        .await
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert_eq!(stream.len(), 10);
    assert_eq!(
        function.finished(),
        stream,
        "every record handed over once, in order: {:?}",
        function.calls()
    );
    assert!(
        function
            .calls()
            .iter()
            .all(|call| call.answer == Answer::Finish)
    );
    assert_eq!(emulator.hits("dynamodbstreams:GetRecords"), 6);
    assert_eq!(emulator.hits("dynamodbstreams:GetShardIterator"), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_invocation_is_bisected_and_retried_after_the_checkpoint() {
    let emulator = Emulator::start().await;
    let aws = emulator.aws();
    for n in 0..8 {
        put(&aws.dynamodb, &format!("order-{n}")).await;
    }
    let (function, endpoint) = Function::serve(|call| {
        if call < 2 {
            Answer::Fail
        } else {
            Answer::Finish
        }
    })
    .await;
    let _mapping = Mapping::start(&emulator, &endpoint, 5).await;
    eventually(
        Duration::from_secs(30),
        "all eight records finished",
        || (function.finished().len() >= 8).then_some(()),
    )
    .await;

    let sizes: Vec<usize> = function
        .calls()
        .iter()
        .map(|call| call.sequences.len())
        .collect();
    assert_eq!(
        sizes,
        [8, 4, 2, 6],
        "halved after each failure, whole again after a success"
    );
    let stream: Vec<String> = read_shard(&aws, 16)
        .await
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert_eq!(function.finished(), stream);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_failing_every_retry_are_parked_once_each() {
    let emulator = Emulator::start().await;
    let aws = emulator.aws();
    for n in 0..3 {
        put(&aws.dynamodb, &format!("order-{n}")).await;
    }
    let (function, endpoint) = Function::serve(|_| Answer::Fail).await;
    let _mapping = Mapping::start(&emulator, &endpoint, 1).await;
    let queue = emulator.resources().notifier_failures_queue.url;
    let stream: Vec<String> = read_shard(&aws, 6)
        .await
        .into_iter()
        .map(|(s, _)| s)
        .collect();

    let mut parked: Vec<Value> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while parked.len() < 3 {
        assert!(Instant::now() < deadline, "parked so far: {parked:?}");
        let received = aws
            .sqs
            .receive_message()
            .queue_url(&queue)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        parked.extend(
            received
                .messages()
                .iter()
                .map(|m| serde_json::from_str(m.body().unwrap()).unwrap()),
        );
    }
    // With one retry, each batch halved after its failure: [a b c], [a] → a parked;
    // [b c], [b] → b parked; [c], [c] → c parked.
    let sizes: Vec<usize> = function
        .calls()
        .iter()
        .map(|call| call.sequences.len())
        .collect();
    assert_eq!(sizes, [3, 1, 2, 1, 1, 1]);
    let starts: Vec<&str> = parked
        .iter()
        .map(|p| {
            p["DDBStreamBatchInfo"]["startSequenceNumber"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(
        starts,
        stream.iter().map(String::as_str).collect::<Vec<_>>()
    );
    for record in &parked {
        let info = &record["DDBStreamBatchInfo"];
        assert_eq!(info["startSequenceNumber"], info["endSequenceNumber"]);
        assert_eq!(info["batchSize"], 1);
        assert!(info["shardId"].is_string());
        assert_eq!(
            record["requestContext"]["condition"],
            "RetryAttemptsExhausted"
        );
        assert_eq!(record["requestContext"]["approximateInvokeCount"], 2);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invocation_that_never_answers_times_out_and_is_retried() {
    let emulator = Emulator::start().await;
    let aws = emulator.aws();
    for n in 0..4 {
        put(&aws.dynamodb, &format!("order-{n}")).await;
    }
    let (function, endpoint) = Function::serve(|call| {
        if call == 0 {
            Answer::Hang
        } else {
            Answer::Finish
        }
    })
    .await;
    let _mapping =
        Mapping::start_with_timeout(&emulator, &endpoint, 5, Duration::from_secs(2)).await;
    eventually(Duration::from_secs(30), "all four records finished", || {
        (function.finished().len() >= 4).then_some(())
    })
    .await;

    let answers: Vec<(usize, Answer)> = function
        .calls()
        .iter()
        .map(|call| (call.sequences.len(), call.answer))
        .collect();
    // Timed out as a function error: bisected and retried.
    assert_eq!(
        answers,
        [(4, Answer::Hang), (2, Answer::Finish), (2, Answer::Finish)]
    );
    let stream: Vec<String> = read_shard(&aws, 8)
        .await
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert_eq!(function.finished(), stream);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_conditional_puts_of_one_key_let_exactly_one_through() {
    // moto's PutItem looks the key up, builds the item, parses and evaluates the condition, and
    // only then writes. The bigger the item and the longer the condition, the longer that window
    // stays open (moto spends about 20 ms on such a put, more than Python's 5 ms thread switch):
    // without the lock, two or more of 32 writers of one key got in together in about 7 rounds in
    // 10. With a key alone and `attribute_not_exists(orderID)`, a few times in 40,000 puts.
    const ROUNDS: usize = 10;
    const WRITERS: usize = 32;
    const ATTRIBUTES: usize = 200;
    let emulator = Emulator::start().await;
    let aws = emulator.aws();
    let condition = std::iter::once("attribute_not_exists(orderID)".to_owned())
        .chain((0..ATTRIBUTES).map(|a| format!("attribute_not_exists(line{a})")))
        .collect::<Vec<_>>()
        .join(" AND ");
    let mut stored = Vec::new();
    for round in 0..ROUNDS {
        let key = format!("order-{round}");
        let puts: Vec<_> = (0..WRITERS)
            .map(|writer| {
                let mut item: HashMap<String, AttributeValue> = (0..ATTRIBUTES)
                    .map(|a| (format!("line{a}"), AttributeValue::S("flat white".into())))
                    .collect();
                item.insert("orderID".into(), AttributeValue::S(key.clone()));
                item.insert("writer".into(), AttributeValue::N(writer.to_string()));
                let put = aws
                    .dynamodb
                    .put_item()
                    .table_name(table())
                    .set_item(Some(item))
                    .condition_expression(&condition);
                tokio::spawn(put.send())
            })
            .collect();
        let mut successes = 0;
        for put in puts {
            match put.await.unwrap() {
                Ok(_) => successes += 1,
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_conditional_check_failed_exception()) => {}
                Err(e) => panic!(
                    "put {key}: {}",
                    aws_sdk_dynamodb::error::DisplayErrorContext(e)
                ),
            }
        }
        stored.push(successes);
    }
    assert_eq!(
        stored, [1; ROUNDS],
        "successful puts of each key, {WRITERS} writers at once"
    );
}

#[tokio::test]
async fn the_emulator_lets_no_web_page_read_its_answers() {
    let emulator = Emulator::start().await;
    // What a browser sends for a page at http://rebind.example reading the emulator: a simple
    // GET, and the preflight before a call with the SDK's headers.
    let requests = [
        "GET /cafe-reports HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://rebind.example\r\n\
         Connection: close\r\n\r\n",
        "OPTIONS / HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://rebind.example\r\n\
         Access-Control-Request-Method: POST\r\n\
         Access-Control-Request-Headers: authorization, x-amz-target\r\nConnection: close\r\n\r\n",
    ];
    for request in requests {
        let (status, head, _) = emulator.exchange(request);
        assert!(
            !head.to_ascii_lowercase().contains("access-control-allow"),
            "{status}\n{head}"
        );
    }
    let (status, _, body) = emulator.exchange(requests[0]);
    assert_eq!(status, 403, "refused for a page elsewhere: {body}");
    // A page on this machine (another port is another origin) is answered, without CORS.
    let (status, head, body) = emulator.exchange(
        "GET /cafe-reports HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://localhost:8080\r\n\
         Connection: close\r\n\r\n",
    );
    assert_eq!(status, 200, "{body}");
    assert!(
        !head.to_ascii_lowercase().contains("access-control-allow"),
        "{head}"
    );
}

#[tokio::test]
async fn the_emulator_answers_only_loopback_host_names() {
    let emulator = Emulator::start().await;
    let port = emulator.port;
    let get = |path: &str, host: &str| {
        emulator.exchange(&format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        ))
    };
    for host in [
        format!("rebind.example:{port}"),
        "rebind.example".to_owned(),
        format!("localhost.rebind.example:{port}"),
        format!("127.0.0.1.nip.io:{port}"),
    ] {
        for path in ["/cafe-reports", "/_cafe/faults", "/"] {
            let (status, _, body) = get(path, &host);
            assert_eq!(status, 421, "{path} for {host}: {body}");
            assert!(
                body.contains("only requests for localhost, 127.0.0.1 or [::1]")
                    && body.contains(&host),
                "{body}"
            );
        }
    }
    let (status, _, body) = emulator.exchange("GET /cafe-reports HTTP/1.0\r\n\r\n");
    assert_eq!(status, 421, "no Host: {body}");

    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("LocalHost:{port}"),
        format!("[::1]:{port}"),
        "127.0.0.1".to_owned(),
    ] {
        let (status, _, body) = get("/cafe-reports", &host);
        assert_eq!(status, 200, "{host}: {body}");
        assert!(body.contains("<Name>cafe-reports</Name>"), "{host}: {body}");
    }
    // S3's virtual-hosted style, for clients that use it with a localhost endpoint.
    let (status, _, body) = get("/", &format!("cafe-reports.localhost:{port}"));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<Name>cafe-reports</Name>"), "{body}");

    // A page elsewhere can make the browser send a form-encoded call, which moto takes
    // unsigned; the browser names the page in Origin.
    let send = "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: https://evil.example\r\n\
                Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 24\r\n\
                Connection: close\r\n\r\nAction=ListQueues&x=1234";
    let (status, _, body) = emulator.exchange(send);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("https://evil.example"), "{body}");
    let (status, _, body) = emulator.exchange(&format!(
        "GET /cafe-reports HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://localhost:8080\r\nConnection: close\r\n\r\n"
    ));
    assert_eq!(status, 200, "a page on this machine: {body}");
}

#[tokio::test]
async fn a_malformed_fault_rule_is_refused_with_what_is_wrong() {
    let emulator = Emulator::start().await;
    let malformed = [
        // Taken before, and then every matching call failed comparing a number with a string.
        (
            r#"{"target": "dynamodb:PutItem", "count": "2"}"#,
            "`count` is \"2\"",
        ),
        (
            r#"{"target": "dynamodb:PutItem", "count": 0}"#,
            "`count` is 0",
        ),
        (
            r#"{"target": "dynamodb:PutItem", "count": true}"#,
            "`count` is true",
        ),
        (
            r#"{"target": "dynamodb:PutItem", "seconds": "5"}"#,
            "`seconds` is \"5\"",
        ),
        (
            r#"{"target": "dynamodb:PutItem", "seconds": -1}"#,
            "`seconds` is -1",
        ),
        (
            r#"{"target": "dynamodb:PutItem", "seconds": NaN}"#,
            "NaN is not a number JSON allows",
        ),
        (
            r#"{"target": "dynamodb:PutItem", "mode": "slow"}"#,
            "`mode` is \"slow\"",
        ),
        (
            r#"{"target": "dynamodb:PutItem", "mode": "delay"}"#,
            "a delay fault needs one",
        ),
        (
            r#"{"target": "dynamodb:PutItem", "mode": "delay", "delay": 100000}"#,
            "at most 900",
        ),
        (
            r#"{"target": "dynamodb:PutItem", "delay": 0}"#,
            "`delay` is 0; an error fault may have one",
        ),
        (
            r#"{"target": "dynamodb:PutItem", "sekonds": 3}"#,
            "unknown key `sekonds`",
        ),
        (r#"{"target": "dynamodb:putItem"}"#, "`target` is"),
        (r#"{"target": "dynamodb PutItem"}"#, "`target` is"),
        (r#"{"target": 7}"#, "`target` is 7"),
        (r#"{"mode": "error"}"#, "`target` is null"),
        (r#"["dynamodb:PutItem"]"#, "a fault is a JSON object"),
        (r#"{"target": "#, "Expecting value"),
        (
            r#"{"target": "", "mode": "slow", "count": -1}"#,
            "`target` is \"\"; it must be",
        ),
    ];
    for (rule, problem) in malformed {
        let (status, answer) = emulator.fault_request("POST", rule);
        assert_eq!(status, 400, "{rule}: {answer}");
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(error.contains(problem), "{rule}: {error}");
    }
    // Every problem of a rule is named at once.
    let (_, answer) =
        emulator.fault_request("POST", r#"{"target": "", "mode": "slow", "count": -1}"#);
    let error = answer["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("`target`") && error.contains("`mode`") && error.contains("`count`"),
        "{error}"
    );

    // None of them is in force, and the table takes writes.
    assert_eq!(emulator.faults("GET", &json!({})), json!({"faults": []}));
    let aws = emulator.aws();
    put(&aws.dynamodb, "after-malformed-rules").await;

    // A valid rule works as before.
    emulator.inject("dynamodb:PutItem", 1);
    let failed = aws
        .dynamodb
        .put_item()
        .table_name(table())
        .item("orderID", AttributeValue::S("faulted".into()))
        .customize()
        .config_override(
            aws_sdk_dynamodb::config::Config::builder()
                .retry_config(aws_config::retry::RetryConfig::disabled()),
        )
        .send()
        .await;
    let failed = failed.expect_err("the fault strikes");
    assert_eq!(
        failed.raw_response().map(|r| r.status().as_u16()),
        Some(503),
        "{}",
        aws_sdk_dynamodb::error::DisplayErrorContext(&failed)
    );
    assert_eq!(emulator.hits("dynamodb:PutItem"), 1);
    put(&aws.dynamodb, "after-the-fault").await;
}

#[tokio::test]
async fn a_fail_state_ends_the_execution_with_the_states_error_it_was_given() {
    let emulator = Emulator::start().await;
    let aws = emulator.aws();
    // As the report's ReportFailed passes on what its Catch caught, a Task's States.Timeout.
    let definition = json!({"StartAt": "Caught", "States": {
        "Caught": {"Type": "Pass", "Result": {"Error": "States.Timeout", "Cause": "a Task ran too long"},
                   "Next": "Failed"},
        "Failed": {"Type": "Fail", "ErrorPath": "$.Error", "CausePath": "$.Cause"}}});
    let machine = aws
        .sfn
        .create_state_machine()
        .name("fail-with-states-error")
        .definition(definition.to_string())
        .role_arn("arn:aws:iam::123456789012:role/cafe-local")
        .send()
        .await
        .unwrap();
    let execution = aws
        .sfn
        .start_execution()
        .state_machine_arn(machine.state_machine_arn())
        .send()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let described = loop {
        let described = aws
            .sfn
            .describe_execution()
            .execution_arn(execution.execution_arn())
            .send()
            .await
            .unwrap();
        if described.status().as_str() != "RUNNING" {
            break described;
        }
        assert!(
            Instant::now() < deadline,
            "the execution still runs after 30 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(described.status().as_str(), "FAILED");
    assert_eq!(described.error(), Some("States.Timeout"));
    assert_eq!(described.cause(), Some("a Task ran too long"));
}

#[tokio::test]
async fn sqs_message_move_tasks_are_answered_unsupported_as_aws_answers_them() {
    let emulator = Emulator::start().await;
    let aws = emulator.aws();
    let resources = emulator.resources();
    let refused = aws
        .sqs
        .start_message_move_task()
        .source_arn(&resources.orders_dead_letter_queue.arn)
        .destination_arn(&resources.orders_queue.arn)
        .send()
        .await
        .unwrap_err();
    use aws_sdk_sqs::operation::start_message_move_task::StartMessageMoveTaskError;
    assert!(
        matches!(
            refused.as_service_error(),
            Some(StartMessageMoveTaskError::UnsupportedOperation(_))
        ),
        "{refused:?}"
    );
    // Everything else still reaches moto.
    let depth = aws
        .sqs
        .get_queue_attributes()
        .queue_url(&resources.orders_dead_letter_queue.url)
        .send()
        .await;
    assert!(depth.is_ok(), "{depth:?}");
}
