//! The operator's verbs after an outage (`cafe-ops`, `make redrive-orders` and
//! `make replay-notifications`): what was parked comes back, each order stored and notified
//! exactly once, and running a verb again sends nothing twice. And a refused order looked at and
//! dropped (`make dlq-peek`, `make dlq-delete`): it names its customer and the writer's reason.

use super::common::*;
use cafe_ops::depth;
use cafe_ops::peek::peek;
use cafe_ops::redrive::redrive_orders;
use cafe_ops::replay::{Clients, Notifier, records_in, replay_notifications, stream_range};

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local stack: run with `make test-faults`"]
async fn orders_parked_during_an_outage_are_redriven_and_each_stored_and_notified_once() {
    let (aws, run) = begin();
    warm_up(&aws).await;
    let (queue, dlq) = (
        resources().orders_queue.url.clone(),
        resources().orders_dead_letter_queue.url.clone(),
    );
    let before = depth(&aws.sqs, &dlq).await.unwrap();
    // Long enough for every delivery of every order to fail: they all end in the DLQ.
    inject_fault("dynamodb:PutItem", json!({"mode": "error", "seconds": 120}));
    let customers: Vec<String> = (0..6).map(|i| format!("redrive-{run}-{i}")).collect();
    for (i, customer) in customers.iter().enumerate() {
        let order = json!({"item": "cortado", "customerID": customer}).to_string();
        // Half with an Idempotency-Key: their orderID survives the redrive's new messageId.
        let key = format!("redrive-key-{run}-{i}");
        let headers: &[(&str, &str)] = if i % 2 == 0 {
            &[("Idempotency-Key", &key)]
        } else {
            &[]
        };
        let (status, answer) = http_post(&format!("{GATEWAY}/orders"), order.as_bytes(), headers);
        assert_eq!(status, 202, "{answer}");
    }
    let parked_in = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(90);
    while depth(&aws.sqs, &dlq).await.unwrap() < before + customers.len() as u64 {
        assert!(
            Instant::now() < deadline,
            "the orders did not all reach the DLQ in 90 s"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let took_to_park = parked_in.elapsed();
    clear_faults();
    assert_eq!(
        Outcome::of(&aws, &customers).await.stored,
        0,
        "an order was stored in the outage"
    );

    let redriven = redrive_orders(&aws.sqs, &dlq, &queue).await.unwrap();
    let outcome = settle(&aws, &customers, Duration::from_secs(120)).await;
    // A second redrive now finds none of these orders.
    let again = redrive_orders(&aws.sqs, &dlq, &queue).await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after_second = Outcome::of(&aws, &customers).await;
    record(
        "redrive-orders",
        &json!({"orders": customers.len(), "seconds_until_parked": took_to_park.as_secs_f64(),
                "moved": redriven.moved, "how": redriven.how, "moved_by_second_run": again.moved,
                "outcome": outcome.json(), "outcome_after_second_run": after_second.json()}),
    );
    assert_eq!(redriven.how, "receive, send, delete");
    assert!(redriven.moved >= customers.len() as u64, "{redriven:?}");
    outcome.assert_exactly_once();
    after_second.assert_exactly_once();
}

/// The orderIDs the descriptions now on `notifier-failures` cover, looked at without taking
/// them (received with no visibility timeout).
async fn covered_by_failures(aws: &Aws, clients: &Clients) -> Vec<String> {
    let received = aws
        .sqs
        .receive_message()
        .queue_url(&resources().notifier_failures_queue.url)
        .max_number_of_messages(10)
        .visibility_timeout(0)
        .send()
        .await
        .unwrap();
    let mut covered = Vec::new();
    for message in received.messages() {
        let range = stream_range(message.body().unwrap()).unwrap();
        for record in records_in(&clients.streams, &range).await.unwrap() {
            let key = record
                .dynamodb()
                .and_then(|c| c.keys())
                .and_then(|k| k.get("orderID"));
            covered.extend(key.and_then(|k| k.as_s().ok()).cloned());
        }
    }
    covered
}

/// The stored orderID of each customer's order, once all are stored.
async fn order_ids(aws: &Aws, customers: &[String]) -> Option<Vec<String>> {
    let items = scan_json(&aws.dynamodb, &resources().orders_table.name).await;
    customers
        .iter()
        .map(|customer| {
            let item = items
                .iter()
                .find(|i| i["customerID"] == customer.as_str())?;
            Some(item["orderID"].as_str()?.to_owned())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local stack: run with `make test-faults`"]
async fn notifications_given_up_on_are_replayed_once_and_a_second_replay_sends_nothing() {
    let (aws, run) = begin();
    warm_up(&aws).await;
    let clients = Clients {
        sqs: aws.sqs.clone(),
        streams: aws.streams.clone(),
        lambda: aws.lambda.clone(),
    };
    let notifier = Notifier {
        function: &resources().stream_mapping.function,
        region: &resources().region,
    };
    let failures = resources().notifier_failures_queue.url.clone();

    inject_fault("sns:PublishBatch", json!({"mode": "error", "seconds": 180}));
    let customers: Vec<String> = (0..3).map(|i| format!("replay-{run}-{i}")).collect();
    for customer in &customers {
        post(customer, "flat white");
    }
    let began = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(150);
    let ids = loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Some(ids) = order_ids(&aws, &customers).await {
            let covered = covered_by_failures(&aws, &clients).await;
            if ids.iter().all(|id| covered.contains(id)) {
                break ids;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the orders were not all given up on in 150 s"
        );
    };
    let took_to_park = began.elapsed();
    clear_faults();
    let letters = mailbox();
    for customer in &customers {
        assert!(
            notifications_for(&letters, customer).is_empty(),
            "{customer} was notified in the outage"
        );
    }

    let first = replay_notifications(&clients, &failures, &notifier)
        .await
        .unwrap();
    let outcome = settle(&aws, &customers, Duration::from_secs(30)).await;
    let second = replay_notifications(&clients, &failures, &notifier)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after_second = Outcome::of(&aws, &customers).await;
    record(
        "replay-notifications",
        &json!({"orders": ids.len(), "seconds_until_given_up": took_to_park.as_secs_f64(),
                "first": {"descriptions": first.descriptions, "notified": first.notified,
                          "described_again": first.described_again, "problems": first.problems},
                "second": {"descriptions": second.descriptions, "notified": second.notified},
                "outcome": outcome.json(), "outcome_after_second_run": after_second.json()}),
    );
    assert!(
        first.problems.is_empty() && first.described_again.is_empty(),
        "{first:?}"
    );
    assert!(first.notified >= customers.len(), "{first:?}");
    assert_eq!((second.descriptions, second.notified), (0, 0), "{second:?}");
    outcome.assert_exactly_once();
    after_second.assert_exactly_once();
}

/// `cafe-ops <args> --local`, as `make` runs it (cargo run, the stack's ready file): whether it
/// succeeded, and what it printed.
fn cafe_ops(args: &[&str]) -> (bool, String) {
    let ready = workspace_root().join(".local/emulator.json");
    let output = std::process::Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--package", "cafe-ops", "--"])
        .args(args)
        .arg("--local")
        .arg(&ready)
        .current_dir(workspace_root())
        .output()
        .expect("cargo runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    println!("$ cafe-ops {} --local\n{text}", args.join(" "));
    (output.status.success(), text)
}

/// Whether orders-dlq shows `message_id` to a look that takes nothing.
async fn parked_now(aws: &Aws, message_id: &str) -> bool {
    let dlq = &resources().orders_dead_letter_queue.url;
    peek(&aws.sqs, dlq, Duration::from_secs(10))
        .await
        .unwrap()
        .messages
        .iter()
        .any(|m| m.message_id == message_id)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local stack: run with `make test-faults`"]
async fn a_refused_order_is_shown_with_its_customer_and_reason_and_deleted_only_when_asked() {
    let (aws, run) = begin();
    let dlq = resources().orders_dead_letter_queue.url.clone();
    let parked_before = depth(&aws.sqs, &dlq).await.unwrap();
    // The writer refuses an order sent under a key another order is stored under.
    let key = format!("dlq-peek-{run}");
    let send = |customer: &str| post_order_with_key("cortado", customer, &key);
    let (first, refused) = (format!("{run}-first"), format!("{run}-refused"));
    send(&first);
    settle(&aws, std::slice::from_ref(&first), Duration::from_secs(60)).await;
    let id = send(&refused);
    let deadline = Instant::now() + Duration::from_secs(90);
    while !parked_now(&aws, &id).await {
        assert!(
            Instant::now() < deadline,
            "{id} did not reach the DLQ in 90 s"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }

    let (ok, peeked) = cafe_ops(&["dlq-peek"]);
    assert!(ok, "{peeked}");
    let shown = &peeked[peeked
        .find(&format!("message {id}"))
        .expect("the order is listed")..];
    assert!(
        shown.contains(&format!("customer  {refused} (cortado)")),
        "{shown}"
    );
    assert!(
        shown.contains("already stored with different contents under the same Idempotency-Key"),
        "the writer's reason: {shown}"
    );
    assert!(parked_now(&aws, &id).await, "a peek takes nothing");

    let (ok, dry) = cafe_ops(&["dlq-delete", &id, "--dry-run"]);
    assert!(ok, "{dry}");
    assert!(
        dry.contains(&format!("customer  {refused}")),
        "shown first: {dry}"
    );
    assert!(dry.contains("dry run: not deleted"), "{dry}");
    assert!(parked_now(&aws, &id).await, "a dry run leaves it, visible");

    let (ok, deleted) = cafe_ops(&["dlq-delete", &id]);
    assert!(ok, "{deleted}");
    assert!(
        deleted.contains("Idempotency-Key"),
        "shown first: {deleted}"
    );
    assert!(deleted.contains("deleted from orders-dlq"), "{deleted}");
    assert!(!parked_now(&aws, &id).await, "deleted");

    let (_, parked) = cafe_ops(&["parked"]);
    assert!(
        parked.contains(&format!("orders-dlq: {parked_before} message(s) parked")),
        "{parked}"
    );
    let (_, again) = cafe_ops(&["dlq-delete", &id]);
    assert!(
        again.contains(&format!("holds no message {id}")) && again.contains("make dlq-peek"),
        "{again}"
    );
    record(
        "dlq-peek-delete",
        &json!({"message_id": id, "parked_before": parked_before, "peek": peeked, "deleted": deleted}),
    );
}
