//! 2,000 orders at once.

use super::common::*;

/// Milliseconds since the epoch of an RFC 3339 timestamp.
fn epoch_millis(timestamp: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(timestamp)
        .unwrap()
        .timestamp_millis()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local stack: run with `make test-faults`"]
async fn two_thousand_orders_are_all_stored_and_notified_once() {
    const ORDERS: usize = 2_000;
    const CONCURRENCY: usize = 16;
    let (aws, run) = begin();
    let customers: Vec<String> = (0..ORDERS).map(|i| format!("load-{run}-{i}")).collect();
    let began = now_millis() as i64;
    let posted: Vec<(String, String, i64)> = std::thread::scope(|scope| {
        let workers: Vec<_> = customers
            .chunks(ORDERS / CONCURRENCY)
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|customer| {
                            let id = post(customer, "espresso");
                            (customer.clone(), id, now_millis() as i64)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let posting_s = (now_millis() as i64 - began) as f64 / 1000.0;
    let outcome = settle(&aws, &customers, Duration::from_secs(600)).await;

    let letters = mailbox();
    let mut latencies: Vec<f64> = posted
        .iter()
        .filter_map(|(customer, _, at)| {
            let letter = notifications_for(&letters, customer).into_iter().next()?;
            Some((epoch_millis(letter["timestamp"].as_str()?) - at) as f64)
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    let last = letters
        .iter()
        .filter(|l| {
            l["body"]
                .as_str()
                .unwrap_or_default()
                .contains(&format!("load-{run}-"))
        })
        .filter_map(|l| Some(epoch_millis(l["timestamp"].as_str()?)))
        .max()
        .unwrap();
    let total_s = (last - began) as f64 / 1000.0;
    let ids: Vec<String> = posted.iter().map(|(_, id, _)| id.clone()).collect();
    let parked = from_dlq(&aws, &ids, Duration::from_secs(2)).await;
    record(
        "load",
        &json!({"outcome": outcome.json(), "concurrency": CONCURRENCY, "posting_s": posting_s,
                "accepted_per_s": ORDERS as f64 / posting_s, "all_notified_after_s": total_s,
                "notified_per_s": ORDERS as f64 / total_s,
                "latency_ms": {"p50": percentile(&latencies, 0.5), "p99": percentile(&latencies, 0.99),
                               "max": latencies.last()}, "dlq": parked.len()}),
    );
    outcome.assert_exactly_once();
    assert!(parked.is_empty());
}
