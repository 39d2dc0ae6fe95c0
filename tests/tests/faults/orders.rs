//! Orders that are valid but extreme: hostile text, DynamoDB's limits, a reused key.

use super::common::*;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local stack: run with `make test-faults`"]
async fn hostile_order_text_is_mailed_verbatim_as_plain_text() {
    let (aws, run) = begin();
    let customer = format!("<b onmouseover=alert(1)>{run}</b>");
    let item = format!("<script>alert('{run}')</script> & {}", "ü".repeat(20_000));
    post(&customer, &item);
    let outcome = settle(
        &aws,
        std::slice::from_ref(&customer),
        Duration::from_secs(60),
    )
    .await;
    let letters = mailbox();
    let letter = notifications_for(&letters, &customer)[0];
    let subject = letter["subject"].as_str().unwrap();
    record(
        "hostile-order",
        &json!({"outcome": outcome.json(), "item_chars": item.chars().count(),
                "subject_chars": subject.chars().count()}),
    );
    outcome.assert_exactly_once();
    assert!(
        letter["body"]
            .as_str()
            .unwrap()
            .contains(&format!("1 × {item}\n"))
    );
    assert!(
        subject.chars().count() < 100 && !subject.contains('\n'),
        "{subject}"
    );
}

/// An order for `customer` whose `deep` field is nested so the whole order is `levels` deep.
fn nested_order(customer: &str, levels: usize) -> String {
    let inner = format!("{}0{}", "[".repeat(levels - 1), "]".repeat(levels - 1));
    format!(r#"{{"item": "tea", "customerID": "{customer}", "deep": {inner}}}"#)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local stack: run with `make test-faults`"]
async fn orders_at_dynamodbs_limits_go_through_and_those_past_them_are_refused_at_the_door() {
    let (aws, run) = begin();
    let refused = [
        (nested_order(&run, 33), "nested more than 32 levels"),
        (nested_order(&run, 5_000), "nested more than 32 levels"),
        (
            json!({"item": "tea", "customerID": run, "price": 1e-131}).to_string(),
            "out of DynamoDB's range",
        ),
        (
            format!(r#"{{"item": "tea", "customerID": "{run}", "price": 1e126}}"#),
            "out of DynamoDB's range",
        ),
        (
            format!(
                r#"{{"item": "tea", "customerID": "{run}", "n": {}}}"#,
                "1".repeat(39)
            ),
            "39 significant digits",
        ),
        (
            format!(r#"{{"item": "tea", "customerID": "{run}", "n": 18446744073709551616}}"#),
            "cannot be kept exactly",
        ),
        (
            format!(r#"{{"item": "tea", "customerID": "{run}", "": 1}}"#),
            "a field name is empty",
        ),
    ];
    for (body, message) in &refused {
        let (status, answer) = post_order(body.as_bytes());
        assert_eq!(status, 400, "{answer}");
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(error.contains(message), "{error:?} should say {message:?}");
    }

    // At the limits, and large in UTF-8 bytes: each JSON-escaped quote is 2 bytes of the body
    // and 4 of a notification that carries the order's JSON, so an order of 30,000 quotes
    // overflowed SNS's 256 KiB when the notification held the order five times.
    let customers: Vec<String> = (0..5).map(|i| format!("limits-{run}-{i}")).collect();
    let accepted = [
        nested_order(&customers[0], 32),
        json!({"item": "tea", "customerID": customers[1], "large": 9.9999e125, "small": -1e-130,
               "exact": 18_446_744_073_709_551_615_u64})
        .to_string(),
        json!({"item": "tea", "customerID": customers[2], "notes": "\"".repeat(30_000)})
            .to_string(),
        json!({"item": "tea", "customerID": customers[3], "notes": "🍩".repeat(15_000)})
            .to_string(),
        json!({"item": "tea", "customerID": customers[4]}).to_string(),
    ];
    for body in &accepted {
        let (status, answer) = post_order(body.as_bytes());
        assert_eq!(status, 202, "{} bytes: {answer}", body.len());
    }
    let outcome = settle(&aws, &customers, Duration::from_secs(120)).await;
    record(
        "limits",
        &json!({"outcome": outcome.json(), "refused_at_the_api": refused.len(),
                "largest_body_bytes": accepted.iter().map(String::len).max()}),
    );
    outcome.assert_exactly_once();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local stack: run with `make test-faults`"]
async fn an_idempotency_key_reused_for_another_order_parks_that_order_in_the_dlq() {
    let (aws, run) = begin();
    let key = format!("key-{run}");
    let send = |customer: &str| post_order_with_key("filter coffee", customer, &key);
    let (first, other) = (format!("{run}-first"), format!("{run}-other"));
    send(&first);
    // The key belongs to the order stored under it first. SQS delivers in no particular order
    // (three messages sent together may be handled at once, the last first), so the rest are
    // sent once the first order is stored.
    settle(&aws, std::slice::from_ref(&first), Duration::from_secs(60)).await;
    // The same order resent under its key is one order; another order under it is refused.
    send(&first);
    let reused = send(&other);
    // The outcome is taken once the other order is parked (its 10 receives outlast the resend's
    // one), so a duplicate the resend stored late would be counted.
    let parked = from_dlq(&aws, std::slice::from_ref(&reused), Duration::from_secs(90)).await;
    let outcome = settle(&aws, std::slice::from_ref(&first), Duration::from_secs(60)).await;
    let stored_other = stored_per_customer(&aws, std::slice::from_ref(&other)).await[&other];
    record(
        "idempotency-key-reused",
        &json!({"outcome": outcome.json(), "dlq": parked.len(), "other_order_stored": stored_other}),
    );
    outcome.assert_exactly_once();
    assert_eq!(parked, vec![reused], "the other order is parked in the DLQ");
    assert_eq!(stored_other, 0);
}
