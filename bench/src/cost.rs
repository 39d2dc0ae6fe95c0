//! What the measured durations cost on Lambda (arm64): per 1,000 orders (order-writer and
//! order-notifier, warm, in the batches the template configures) and per report
//! (inventory-reader, report-renderer and report-mailer, each from a cold start: reports are
//! rare enough that each one finds its functions cold).

/// Lambda's arm64 duration price, US East (N. Virginia), first tier (7.5 billion GB-s a month),
/// in USD per GB-second; and its request price, USD per request ($0.20 per million). Source:
/// <https://aws.amazon.com/lambda/pricing/>, as published on 2026-12-05. Duration is billed in
/// 1 ms steps, init included.
pub const USD_PER_GB_SECOND: f64 = 0.000_013_333_4;
pub const USD_PER_REQUEST: f64 = 0.20 / 1_000_000.0;
pub const PRICES_SOURCE: &str = "https://aws.amazon.com/lambda/pricing/ (arm64, US East (N. Virginia), first tier), as published on 2026-12-05";

/// Orders per SQS batch the writer receives (the template's `BatchSize`), which the notifier
/// then receives as one stream batch.
pub const ORDERS_PER_BATCH: u32 = 10;
pub const ORDERS: u32 = 1_000;

/// The price of one invocation of `billed_ms` at `memory_mb`.
pub fn invocation_usd(memory_mb: u32, billed_ms: f64) -> f64 {
    f64::from(memory_mb) / 1024.0 * billed_ms.ceil() / 1000.0 * USD_PER_GB_SECOND + USD_PER_REQUEST
}

/// 1,000 orders: a batch of 10 in the writer, then in the notifier, 100 times over, warm.
pub fn per_1000_orders(memory_mb: u32, writer_warm_ms: f64, notifier_warm_ms: f64) -> f64 {
    let batches = f64::from(ORDERS / ORDERS_PER_BATCH);
    batches
        * (invocation_usd(memory_mb, writer_warm_ms) + invocation_usd(memory_mb, notifier_warm_ms))
}

/// One report: each of its three functions billed for its init and first invocation.
pub fn per_report(memory_mb: u32, cold_billed_ms: [f64; 3]) -> f64 {
    cold_billed_ms
        .iter()
        .map(|&ms| invocation_usd(memory_mb, ms))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_millisecond_at_1024_mb_costs_a_thousandth_of_a_gb_second_plus_the_request() {
        let usd = invocation_usd(1024, 1.0);
        assert!((usd - (USD_PER_GB_SECOND / 1000.0 + USD_PER_REQUEST)).abs() < 1e-15);
        // Durations round up to the next millisecond.
        assert_eq!(invocation_usd(128, 2.01), invocation_usd(128, 3.0));
    }

    #[test]
    fn a_thousand_orders_are_a_hundred_batches_in_each_function() {
        let usd = per_1000_orders(128, 10.0, 5.0);
        let expected = 100.0 * (invocation_usd(128, 10.0) + invocation_usd(128, 5.0));
        assert!((usd - expected).abs() < 1e-15);
        // At 128 MB, 100 requests of 10 ms and 100 of 5 ms: 0.1875 GB-s and 200 requests.
        assert!((usd - (0.1875 * USD_PER_GB_SECOND + 200.0 * USD_PER_REQUEST)).abs() < 1e-12);
    }
}
