//! `cafe-ops dlq-peek`, `dlq-delete` and the dry runs against a real SQS API (a private moto
//! server): a look takes nothing, however often it looks; a delete takes only the message named
//! and leaves every other one visible at once; a dry run changes nothing.

use cafe_ops::depth;
use cafe_ops::dlq::{delete_shown, peek_described};
use cafe_ops::peek::peek;
use cafe_ops::redrive::would_move;
use cafe_ops::refusals::WriterLog;
use cafe_ops::replay::would_replay;
use cafe_tests::{Moto, create_queue};
use std::time::Duration;

const ORDER: &str = r#"{"item": "filter coffee", "customerID": "c-reused", "quantity": 2}"#;
const NOT_AN_ORDER: &str = "not json at all";
const ANOTHER_ORDER: &str = r#"{"item": "tea", "customerID": "c-other"}"#;

struct Parked {
    /// Kept for the test's length: dropping it stops the server.
    _emulator: Moto,
    sqs: aws_sdk_sqs::Client,
    dlq: String,
    /// The ids of ORDER, NOT_AN_ORDER and ANOTHER_ORDER, in that order.
    ids: Vec<String>,
    log: WriterLog,
}

/// A DLQ holding three messages, and a writer's log (text, as the local stack writes it) that
/// records a refusal of the first two: a retried failure, then the refusal that parked it.
async fn parked(test: &str) -> Parked {
    let emulator = Moto::start();
    let sqs = emulator.sqs();
    let dlq = create_queue(&sqs, "orders-dlq").await;
    let mut ids = Vec::new();
    for body in [ORDER, NOT_AN_ORDER, ANOTHER_ORDER] {
        let sent = sqs
            .send_message()
            .queue_url(&dlq)
            .message_body(body)
            .send()
            .await
            .unwrap();
        ids.push(sent.message_id().unwrap().to_owned());
    }
    let log = std::env::temp_dir().join(format!("cafe-ops-{test}-{}.log", std::process::id()));
    let line = |level: &str, id: &str, reason: &str| {
        format!(
            "2026-12-06T00:15:0{}.000000Z {level:>5} Lambda runtime invoke{{requestId=\"r\" xrayTraceId=None}}: order rejected; it stays on the queue until the DLQ takes it message_id=\"{id}\" reason={reason}\n",
            if level == "ERROR" { 1 } else { 2 }
        )
    };
    std::fs::write(
        &log,
        [
            line("ERROR", &ids[0], "DynamoDB did not store the order: ServiceUnavailable"),
            line(
                "WARN",
                &ids[0],
                "order 5e0c was already stored with different contents under the same Idempotency-Key; this order was not stored",
            ),
            line("WARN", &ids[1], "not a valid order: the order is not valid JSON: expected ident at line 1 column 2"),
        ]
        .concat(),
    )
    .unwrap();
    Parked {
        _emulator: emulator,
        sqs,
        dlq,
        ids,
        log: WriterLog::File(log),
    }
}

impl Drop for Parked {
    fn drop(&mut self) {
        if let WriterLog::File(path) = &self.log {
            let _ = std::fs::remove_file(path);
        }
    }
}

async fn visible_ids(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<String> {
    let mut ids: Vec<String> = peek(sqs, url, Duration::from_secs(10))
        .await
        .unwrap()
        .messages
        .into_iter()
        .map(|m| m.message_id)
        .collect();
    ids.sort();
    ids
}

fn sorted(ids: &[String]) -> Vec<String> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids
}

#[tokio::test]
async fn a_peek_shows_each_parked_order_with_its_customer_and_reason_and_takes_none() {
    let parked = parked("peek").await;
    let mut counts = Vec::new();
    for _ in 0..4 {
        let peeked = peek(&parked.sqs, &parked.dlq, Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(peeked.approximate, 3);
        let mut ids: Vec<String> = peeked
            .messages
            .iter()
            .map(|m| m.message_id.clone())
            .collect();
        ids.sort();
        assert_eq!(ids, sorted(&parked.ids), "every look sees all three");
        counts.push(peeked.messages[0].receive_count.unwrap());
    }
    assert!(
        counts.windows(2).all(|w| w[1] > w[0]),
        "each look is a receive: {counts:?}"
    );
    let text = peek_described(&parked.sqs, &parked.dlq, &parked.log)
        .await
        .unwrap();
    assert!(
        text.contains("holds 3 message(s); 3 shown, none taken"),
        "{text}"
    );
    let first = section(&text, &parked.ids[0]);
    assert!(
        first.contains("customer  c-reused (2 × filter coffee)"),
        "{first}"
    );
    assert!(
        first.contains("refused   order 5e0c was already stored with different contents under the same Idempotency-Key"),
        "the last refusal, not the retried failure before it: {first}"
    );
    assert!(first.contains("(logged 2026-12-06T00:15:02Z)"), "{first}");
    let second = section(&text, &parked.ids[1]);
    assert!(
        second.contains(r#"not a readable order (the order is not valid JSON"#)
            && second.contains(r#"the body begins "not json at all""#),
        "{second}"
    );
    let third = section(&text, &parked.ids[2]);
    assert!(third.contains("customer  c-other (tea)"), "{third}");
    assert!(
        third.contains("no refusal recorded in the writer's log"),
        "{third}"
    );
    assert!(text.contains("make dlq-delete ID="), "{text}");
    assert_eq!(depth(&parked.sqs, &parked.dlq).await.unwrap(), 3);
    assert_eq!(
        visible_ids(&parked.sqs, &parked.dlq).await,
        sorted(&parked.ids)
    );
}

/// The lines of `text` about message `id`.
fn section<'a>(text: &'a str, id: &str) -> &'a str {
    let start = text
        .find(&format!("message {id}\n"))
        .unwrap_or_else(|| panic!("{id} not in:\n{text}"));
    let rest = &text[start..];
    let end = rest[1..].find("\nmessage ").map_or(rest.len(), |i| i + 1);
    &rest[..end]
}

#[tokio::test]
async fn a_delete_takes_only_the_named_message_and_leaves_the_others_visible_at_once() {
    let parked = parked("delete").await;
    let named = &parked.ids[1];
    let text = delete_shown(&parked.sqs, &parked.dlq, named, &parked.log, false)
        .await
        .unwrap();
    assert!(text.starts_with(&format!("message {named}\n")), "{text}");
    assert!(
        text.contains("not a readable order"),
        "shown before it goes: {text}"
    );
    assert!(text.contains("not valid JSON: expected ident"), "{text}");
    assert!(text.contains("deleted from orders-dlq"), "{text}");
    // Visible now, not once a hold runs out.
    let rest = vec![parked.ids[0].clone(), parked.ids[2].clone()];
    assert_eq!(visible_ids(&parked.sqs, &parked.dlq).await, sorted(&rest));
    assert_eq!(depth(&parked.sqs, &parked.dlq).await.unwrap(), 2);

    let error = delete_shown(&parked.sqs, &parked.dlq, named, &parked.log, false)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains(&format!("holds no message {named}")),
        "{error}"
    );
    assert!(error.contains("make dlq-peek"), "{error}");
    assert_eq!(visible_ids(&parked.sqs, &parked.dlq).await, sorted(&rest));
}

#[tokio::test]
async fn dry_runs_change_nothing() {
    let parked = parked("dry-run").await;
    let named = &parked.ids[0];
    let text = delete_shown(&parked.sqs, &parked.dlq, named, &parked.log, true)
        .await
        .unwrap();
    assert!(text.contains("customer  c-reused"), "{text}");
    assert!(text.contains("dry run: not deleted"), "{text}");
    assert_eq!(
        visible_ids(&parked.sqs, &parked.dlq).await,
        sorted(&parked.ids)
    );

    let queue = create_queue(&parked.sqs, "orders-queue").await;
    let text = would_move(&parked.sqs, &parked.dlq, &queue, &parked.log)
        .await
        .unwrap();
    assert!(text.contains("would move 3 message(s)"), "{text}");
    assert!(text.contains("nothing moved"), "{text}");
    assert!(text.contains(&format!("message {named}")), "{text}");
    assert_eq!(depth(&parked.sqs, &queue).await.unwrap(), 0);
    assert_eq!(
        visible_ids(&parked.sqs, &parked.dlq).await,
        sorted(&parked.ids)
    );

    let failures = create_queue(&parked.sqs, "notifier-failures").await;
    let description = r#"{"requestContext": {"condition": "RetryAttemptsExhausted"},
        "DDBStreamBatchInfo": {"shardId": "shard-1", "streamArn": "arn:stream",
        "startSequenceNumber": "100", "endSequenceNumber": "104", "batchSize": 3}}"#;
    parked
        .sqs
        .send_message()
        .queue_url(&failures)
        .message_body(description)
        .send()
        .await
        .unwrap();
    let text = would_replay(&parked.sqs, &failures).await.unwrap();
    assert!(
        text.contains("would replay 1 failure description(s)"),
        "{text}"
    );
    assert!(
        text.contains("records 100..104 (3 of them) of shard shard-1"),
        "{text}"
    );
    assert_eq!(visible_ids(&parked.sqs, &failures).await.len(), 1);
}
