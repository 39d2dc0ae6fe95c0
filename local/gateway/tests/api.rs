//! The gateway's HTTP server as a client meets it, over real connections on a free loopback
//! port: which Host names it answers, which content types an order may come in, and how long a
//! slow client may hold a connection. Nothing here reaches AWS: every request is answered before
//! the emulator would be asked (the API's clients point at a closed port).

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

mod common;

use cafe_gateway::Aws;
use cafe_gateway::api::{Api, Timeouts, serve};
use cafe_gateway::mappings::position::StreamPosition;
use cafe_gateway::metrics_log::FunctionsLog;
use cafe_gateway::ops_page::Watched;
use cafe_tests::unreachable_sdk_config;
use common::exchange_raw;
use serde_json::{Value, json};

/// Serves the API on a free loopback port with `timeouts`; returns its address.
async fn gateway(timeouts: Timeouts) -> SocketAddr {
    let api = Api {
        aws: Aws::new(&unreachable_sdk_config()),
        queue_url: "http://127.0.0.1:9/123456789012/orders-queue".into(),
        state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:InventoryReport"
            .into(),
        reports_bucket: "cafe-reports".into(),
        // No file: an empty mailbox.
        mailbox_file: PathBuf::from(format!(
            "{}/cafe-gateway-api-tests-{}-none.jsonl",
            std::env::temp_dir().display(),
            std::process::id()
        )),
        watched: Watched {
            queues: Vec::new(),
            stream_position: StreamPosition::default(),
            functions_log: FunctionsLog::new(PathBuf::from(
                "/nonexistent/cafe-gateway-api-tests.log",
            )),
        },
    };
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(serve(listener, api, timeouts));
    address
}

const GENEROUS: Timeouts = Timeouts {
    headers: Duration::from_secs(10),
    body: Duration::from_secs(30),
};

/// One request, written out as is, and the answer: status and body as JSON (`Null` if it is
/// not JSON), off the runtime's threads.
async fn exchange(address: SocketAddr, request: String) -> (u16, Value) {
    tokio::task::spawn_blocking(move || {
        let (status, _, body) = exchange_raw(address, &request);
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    })
    .await
    .unwrap()
}

/// A request with `Connection: close`, the given Host (none if `None`) and other header lines.
fn request(method: &str, path: &str, host: Option<&str>, headers: &[&str], body: &str) -> String {
    let mut request = format!("{method} {path} HTTP/1.1\r\n");
    if let Some(host) = host {
        request.push_str(&format!("Host: {host}\r\n"));
    }
    for header in headers {
        request.push_str(header);
        request.push_str("\r\n");
    }
    request.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    request
}

const ORDER: &str = r#"{"item": "flat white", "customerID": "c-1"}"#;

#[tokio::test]
async fn requests_a_page_elsewhere_makes_the_browser_send_are_refused() {
    let address = gateway(GENEROUS).await;
    // An order posted without a Content-Type by a page at https://evil.example: the browser
    // sends it (no preflight) and names the page in Origin.
    for origin in [
        "https://evil.example",
        "null",
        "http://localhost.evil.example:3000",
    ] {
        let headers = [format!("Origin: {origin}")];
        let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
        let (status, answer) = exchange(
            address,
            request("POST", "/orders", Some("127.0.0.1:3000"), &headers, ORDER),
        )
        .await;
        assert_eq!(status, 403, "{origin}: {answer}");
        let message = answer["error"].as_str().unwrap_or_default();
        assert!(message.contains(origin), "{message}");
    }
    // A page served from this machine may call it, as may any client that sends no Origin.
    let headers = ["Origin: http://localhost:8080"];
    let (status, answer) = exchange(
        address,
        request("GET", "/health", Some("127.0.0.1:3000"), &headers, ""),
    )
    .await;
    assert_ne!(status, 403, "{answer}");
}

#[tokio::test]
async fn requests_for_other_host_names_are_refused_on_every_route() {
    let address = gateway(GENEROUS).await;
    let routes = [
        ("GET", "/mailbox"),
        ("GET", "/health"),
        ("GET", "/ops"),
        ("POST", "/orders"),
        ("POST", "/create_report"),
        ("GET", "/no-such-route"),
    ];
    // What a page at http://rebind.example:3000 sends once its name resolves to 127.0.0.1.
    for host in [
        "rebind.example:3000",
        "rebind.example",
        "localhost.rebind.example:3000",
        "127.0.0.1.nip.io:3000",
    ] {
        for (method, path) in routes {
            let json = ["Content-Type: application/json"];
            let (status, answer) =
                exchange(address, request(method, path, Some(host), &json, ORDER)).await;
            assert_eq!(status, 421, "{method} {path} for {host}: {answer}");
            let message = answer["error"].as_str().unwrap_or_default();
            assert!(
                message.contains("localhost, 127.0.0.1 or [::1]") && message.contains(host),
                "{method} {path} for {host}: {message}"
            );
        }
    }
    let (status, answer) = exchange(address, request("GET", "/mailbox", None, &[], "")).await;
    assert_eq!(status, 421, "no Host: {answer}");

    for host in [
        "localhost:3000",
        "127.0.0.1:3000",
        "[::1]:3000",
        "LOCALHOST",
    ] {
        let (status, answer) =
            exchange(address, request("GET", "/mailbox", Some(host), &[], "")).await;
        assert_eq!((status, answer), (200, json!([])), "{host}");
    }
}

#[tokio::test]
async fn an_order_must_be_sent_as_json() {
    let address = gateway(GENEROUS).await;
    let refusal = json!({"error": "send JSON, with Content-Type: application/json"});
    for content_type in [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/json; charset=iso-8859-1",
    ] {
        let header = format!("Content-Type: {content_type}");
        for path in ["/orders", "/create_report"] {
            let sent = request("POST", path, Some("127.0.0.1"), &[&header], ORDER);
            let (status, answer) = exchange(address, sent).await;
            assert_eq!(
                (status, &answer),
                (415, &refusal),
                "{path} as {content_type}"
            );
        }
    }

    // These get past the content type to the order's own check, which refuses an order without a
    // customer before anything is sent to the queue.
    let incomplete = r#"{"item": "flat white"}"#;
    let expected = json!({"error": "the order has no `customerID`"});
    for headers in [
        vec!["Content-Type: application/json"],
        vec!["Content-Type: application/json; charset=utf-8"],
        vec!["Content-Type: Application/JSON;Charset=UTF-8"],
        // No Content-Type at all: API Gateway takes the body as application/json.
        vec![],
    ] {
        let sent = request("POST", "/orders", Some("127.0.0.1"), &headers, incomplete);
        let (status, answer) = exchange(address, sent).await;
        assert_eq!((status, &answer), (400, &expected), "{headers:?}");
    }
}

/// Opens a connection, writes `start`, then one `drip` every 100 ms, until the server answers or
/// closes it; returns how long that took and what it answered. Fails the test after 10 s.
async fn dribble(
    address: SocketAddr,
    start: &'static str,
    drip: &'static str,
) -> (Duration, String) {
    tokio::task::spawn_blocking(move || {
        let began = Instant::now();
        let mut connection = TcpStream::connect(address).unwrap();
        connection
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        connection.write_all(start.as_bytes()).unwrap();
        let mut answer = Vec::new();
        loop {
            assert!(
                began.elapsed() < Duration::from_secs(10),
                "the connection is still open after {:?}",
                began.elapsed()
            );
            let mut buffer = [0; 1024];
            match connection.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    if !answer.is_empty() {
                        break;
                    }
                }
                Err(_) => break,
            }
            if answer.is_empty() && connection.write_all(drip.as_bytes()).is_err() {
                break;
            }
        }
        (
            began.elapsed(),
            String::from_utf8_lossy(&answer).into_owned(),
        )
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_client_sending_its_headers_slowly_is_cut_off_within_the_bound() {
    let headers = Duration::from_secs(1);
    let address = gateway(Timeouts {
        headers,
        ..GENEROUS
    })
    .await;
    let (took, answer) = dribble(
        address,
        "GET /mailbox HTTP/1.1\r\nHost: 127.0.0.1\r\n",
        "X-Slow: 1\r\n",
    )
    .await;
    assert!(
        took >= headers && took < headers + Duration::from_secs(3),
        "cut off after {took:?}, answered {answer:?}"
    );
    assert!(!answer.contains("200 OK"), "{answer}");
}

#[tokio::test]
async fn a_client_that_sends_nothing_is_cut_off_within_the_bound() {
    let headers = Duration::from_secs(1);
    let address = gateway(Timeouts {
        headers,
        ..GENEROUS
    })
    .await;
    let (took, answer) = dribble(address, "", "").await;
    assert!(
        took >= headers && took < headers + Duration::from_secs(3),
        "cut off after {took:?}, answered {answer:?}"
    );
}

#[tokio::test]
async fn a_client_sending_its_body_slowly_gets_408_within_the_bound() {
    let body = Duration::from_secs(1);
    let address = gateway(Timeouts { body, ..GENEROUS }).await;
    let (took, answer) = dribble(
        address,
        "POST /orders HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: 1000\r\n\r\n{",
        " ",
    )
    .await;
    assert!(
        took >= body && took < body + Duration::from_secs(3),
        "answered after {took:?}: {answer:?}"
    );
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains(r#"{"error":"the request body did not arrive within 1 s"}"#),
        "{answer}"
    );
}
