//! Bodies that are not orders, at the API and straight on the queue.

use super::common::*;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local stack: run with `make test-faults`"]
async fn poison_is_refused_at_the_api_or_parked_in_the_dlq_while_valid_orders_go_through() {
    let (aws, run) = begin();

    // At the API: refused with a status and a message saying what is wrong.
    let big = json!({"item": "x".repeat(300_000), "customerID": run}).to_string();
    let refused: [(&[u8], u16, &str); 6] = [
        (b"{\"item\": \"tea\", ", 400, "not valid JSON"),
        (br#"{"item": "tea"}"#, 400, "no `customerID`"),
        (
            br#"{"item": "tea", "customerID": "c", "quantity": "two"}"#,
            400,
            "`quantity` must",
        ),
        (big.as_bytes(), 413, "bytes are accepted"),
        (b"", 400, "the order is empty"),
        (&[b'{', 0xc3, 0x28, b'}'], 400, "not UTF-8"),
    ];
    for (body, status, message) in refused {
        let (got, answer) = post_order(body);
        assert_eq!(got, status, "{answer}");
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(error.contains(message), "{error:?} should say {message:?}");
    }

    // Straight onto the queue, past the API, among valid orders: each is rejected by the writer,
    // retried and parked in the DLQ, while the valid orders of the same batches are stored.
    // (Invalid UTF-8 cannot be sent to SQS at all. SQS refuses an empty body, which moto takes;
    // so the empty and the 300 KB bodies go alone, and whichever the queue takes must reach the
    // DLQ like the rest.)
    let queue = resources().orders_queue.url.clone();
    let poison = [
        format!("not json {run}"),
        json!({"item": "tea", "note": run}).to_string(),
        json!({"item": 5, "customerID": format!("{run}-mistyped")}).to_string(),
        json!({"item": "tea", "customerID": format!("{run}-q"), "quantity": "two"}).to_string(),
        json!(["tea", run]).to_string(),
        json!({"item": "x".repeat(70_000), "customerID": format!("{run}-long")}).to_string(),
    ];
    let mut refused_by_sqs = 0;
    let mut poison_ids = Vec::new();
    for body in [String::new(), big.clone()] {
        match aws
            .sqs
            .send_message()
            .queue_url(&queue)
            .message_body(&body)
            .send()
            .await
        {
            Ok(sent) => poison_ids.push(sent.message_id().unwrap().to_owned()),
            Err(_) => refused_by_sqs += 1,
        }
    }
    let customers: Vec<String> = (0..14).map(|i| format!("poison-{run}-{i}")).collect();
    let mut bodies: Vec<String> = customers
        .iter()
        .map(|c| json!({"item": "americano", "customerID": c}).to_string())
        .collect();
    let poison_bodies: std::collections::HashSet<&String> = poison.iter().collect();
    for (i, body) in poison.iter().enumerate() {
        bodies.insert(i * 3 + 1, body.clone());
    }
    for (batch, chunk) in bodies.chunks(10).enumerate() {
        let entries = chunk.iter().enumerate().map(|(i, body)| {
            aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                .id(format!("{batch}-{i}"))
                .message_body(body)
                .build()
                .unwrap()
        });
        let sent = aws
            .sqs
            .send_message_batch()
            .queue_url(&queue)
            .set_entries(Some(entries.collect()))
            .send()
            .await
            .unwrap();
        assert!(sent.failed().is_empty());
        poison_ids.extend(
            sent.successful()
                .iter()
                .filter(|entry| {
                    let (batch_no, i) = entry.id().split_once('-').unwrap();
                    let i: usize = i.parse().unwrap();
                    batch_no == batch.to_string() && poison_bodies.contains(&chunk[i])
                })
                .map(|entry| entry.message_id().to_owned()),
        );
    }
    let started = Instant::now();
    let outcome = settle(&aws, &customers, Duration::from_secs(90)).await;
    let parked = from_dlq(&aws, &poison_ids, Duration::from_secs(90)).await;
    record(
        "poison",
        &json!({"outcome": outcome.json(), "poison_sent": poison_ids.len(), "refused_by_api": refused.len(),
                "refused_by_sqs": refused_by_sqs, "dlq": parked.len(),
                "seconds_until_parked": started.elapsed().as_secs_f64()}),
    );
    outcome.assert_exactly_once();
    assert_eq!(parked.len(), poison_ids.len(), "parked: {parked:?}");
}
