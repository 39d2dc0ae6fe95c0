//! Helpers for the tests that run against the running local stack (`make e2e`,
//! `make test-faults`): its gateway, its emulator (and the emulator's fault switch), its mailbox.

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cafe_event_sources::ready_file::Resources;

use serde_json::{Value, json};

use crate::http::{agent, http_get, http_post};
use crate::workspace::workspace_root;

pub const GATEWAY: &str = "http://127.0.0.1:3000";
pub const EMULATOR: &str = "http://127.0.0.1:4566";

/// What the running stack's emulator created, named as template.yaml says (its ready file,
/// `.local/emulator.json`), read once.
pub fn resources() -> &'static Resources {
    static RESOURCES: OnceLock<Resources> = OnceLock::new();
    RESOURCES.get_or_init(|| {
        Resources::read(&workspace_root().join(".local/emulator.json"))
            .unwrap_or_else(|e| panic!("{e} (start it with `make local-up`)"))
    })
}

/// The topic order notifications go out on, as the mailbox names it.
pub fn order_topic() -> &'static str {
    resources().topic_of("ORDER_TOPIC_ARN")
}

/// The topic report emails go out on, as the mailbox names it.
pub fn report_topic() -> &'static str {
    resources().topic_of("REPORT_TOPIC_ARN")
}

/// A tag no earlier run used, so tests can share one stack, its table and its mailbox.
pub fn tag() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{nanos:x}")
}

/// Every letter the email subscribers received, oldest first.
pub fn mailbox() -> Vec<Value> {
    let (status, _, body) = http_get(&format!("{GATEWAY}/mailbox"));
    assert_eq!(status, 200);
    serde_json::from_str(&body).expect("the mailbox as JSON")
}

/// The order notifications for one customer.
pub fn notifications_for<'a>(letters: &'a [Value], customer: &str) -> Vec<&'a Value> {
    let line = format!("for customer {customer}\n");
    letters
        .iter()
        .filter(|l| l["topic"] == order_topic())
        .filter(|l| l["body"].as_str().unwrap_or_default().contains(&line))
        .collect()
}

pub fn post_order(body: &[u8]) -> (u16, Value) {
    http_post(&format!("{GATEWAY}/orders"), body, &[])
}

/// Polls `probe` until it gives a value, failing the test after `limit`.
pub async fn eventually<T>(limit: Duration, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The report email a finished execution's output names, once it is in the mailbox, and the
/// link in it.
pub async fn report_email(output: &Value) -> (Value, String) {
    let message_id = output["email"]["messageId"]
        .as_str()
        .expect("the email's messageId");
    let email = eventually(Duration::from_secs(30), "the report email", || {
        mailbox().into_iter().find(|l| l["messageId"] == message_id)
    })
    .await;
    let link = email["body"]
        .as_str()
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("http"))
        .expect("a link in the report email")
        .to_owned();
    (email, link)
}

/// The ops page's JSON (`GET /ops`).
pub fn ops_page() -> Value {
    let (status, _, body) = http_get(&format!("{GATEWAY}/ops"));
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("the ops page as JSON")
}

/// A function's count of `metric` on the ops page (0 before its first).
pub fn ops_count(page: &Value, function: &str, metric: &str) -> u64 {
    page["metrics"]["functions"][function][metric]
        .as_u64()
        .unwrap_or(0)
}

/// How askama writes text into HTML.
pub fn escaped(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

/// The stack's database, as the stack itself reaches it (not through the emulator's relay).
pub fn database_url() -> String {
    std::fs::read_to_string(workspace_root().join(".local/database_url"))
        .map(|url| url.trim().to_owned())
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/coffee".into())
}

/// Makes the emulator inject a fault (see local/emulator/): `target` is `service:Operation`
/// or `mysql`; `rule` adds `mode` (`error` or `delay`), `seconds`, `delay`.
pub fn inject_fault(target: &str, mut rule: Value) {
    rule["target"] = json!(target);
    let (status, answer) = http_post(
        &format!("{EMULATOR}/_cafe/faults"),
        rule.to_string().as_bytes(),
        &[],
    );
    assert_eq!(status, 200, "{answer}");
}

/// How often each fault in force has struck so far, by target.
pub fn fault_hits() -> Value {
    let (_, _, body) = http_get(&format!("{EMULATOR}/_cafe/faults"));
    let faults: Value = serde_json::from_str(&body).expect("the faults as JSON");
    faults["faults"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f["target"].as_str().unwrap_or_default().to_owned(),
                f["hits"].clone(),
            )
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

pub fn clear_faults() {
    let response = agent()
        .delete(&format!("{EMULATOR}/_cafe/faults"))
        .call()
        .expect("DELETE /_cafe/faults");
    assert_eq!(response.status().as_u16(), 200);
}
