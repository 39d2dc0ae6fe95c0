//! The functions' metrics, in CloudWatch Embedded Metric Format (EMF): after every invocation a
//! function writes one JSON document per line to stdout, which CloudWatch Logs turns into metrics
//! with no API call and no agent (the local stack's ops page reads the same lines). One
//! namespace, [`NAMESPACE`]; the function's name is the one dimension, [`FUNCTION_DIMENSION`].
//!
//! The code counts through the `metrics` facade (`metrics::counter!`), so a test can watch the
//! counts with any recorder; `metrics_cloudwatch_embedded` is the recorder in a function. It was
//! chosen over Amazon's `metrique` because it is a backend for that facade rather than a framework
//! of its own (no metric structs to thread through the handlers), and its Lambda integration does
//! the two Lambda-specific jobs: it flushes after every invocation and counts the cold start.

use metrics::Unit;
/// The recorder; `telemetry::Telemetry::run` puts it around every invocation, to flush after each
/// and write [`COLD_START`] once.
pub use metrics_cloudwatch_embedded::Collector;

/// The CloudWatch namespace of every metric the functions emit.
pub const NAMESPACE: &str = "Cafe";
/// The dimension naming the function that emitted a metric.
pub const FUNCTION_DIMENSION: &str = "FunctionName";

/// 1 on a function instance's first invocation.
pub const COLD_START: &str = "ColdStart";
/// order-writer: orders stored for the first time.
pub const ORDERS_STORED: &str = "OrdersStored";
/// order-writer: redeliveries of an order already stored (nothing written).
pub const ORDERS_ALREADY_STORED: &str = "OrdersAlreadyStored";
/// order-writer: messages refused for good (not an order, too large, a reused key): bound for
/// the DLQ.
pub const ORDERS_REFUSED: &str = "OrdersRefused";
/// order-writer: orders not stored this time (DynamoDB failed): retried.
pub const ORDERS_FAILED: &str = "OrdersFailed";
/// order-notifier: order notifications published to SNS.
pub const NOTIFICATIONS_PUBLISHED: &str = "NotificationsPublished";
/// order-notifier: notifications SNS did not take: retried by the stream.
pub const NOTIFICATIONS_FAILED: &str = "NotificationsFailed";
/// inventory-reader: suppliers in a report.
pub const REPORT_SUPPLIERS: &str = "ReportSuppliers";
/// inventory-reader: beans in a report.
pub const REPORT_BEANS: &str = "ReportBeans";
/// report-renderer: bytes of a rendered report.
pub const REPORT_BYTES: &str = "ReportBytes";

/// Every metric, with its unit: what the template's dashboard and alarms may name.
pub const ALL: [(&str, Unit); 10] = [
    (COLD_START, Unit::Count),
    (ORDERS_STORED, Unit::Count),
    (ORDERS_ALREADY_STORED, Unit::Count),
    (ORDERS_REFUSED, Unit::Count),
    (ORDERS_FAILED, Unit::Count),
    (NOTIFICATIONS_PUBLISHED, Unit::Count),
    (NOTIFICATIONS_FAILED, Unit::Count),
    (REPORT_SUPPLIERS, Unit::Count),
    (REPORT_BEANS, Unit::Count),
    (REPORT_BYTES, Unit::Bytes),
];

/// Adds `value` to the metric `name` (one of the constants above) for this invocation.
pub fn count(name: &'static str, value: u64) {
    metrics::counter!(name).increment(value);
}

/// The function's name as CloudWatch shows it: Lambda's `AWS_LAMBDA_FUNCTION_NAME` (the deployed
/// name, with the stack's prefix), else `crate_name`.
pub fn function_name(crate_name: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    lookup("AWS_LAMBDA_FUNCTION_NAME")
        .filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| crate_name.to_owned())
}

/// Installs the EMF recorder for this process, once, for the function `crate_name`. Every
/// document carries the invocation's request id as a property, so a metric leads to its logs.
pub fn init(crate_name: &str) -> Result<&'static Collector, lambda_runtime::Error> {
    let function = function_name(crate_name, |name| std::env::var(name).ok());
    let collector = metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace(NAMESPACE)
        .with_dimension(FUNCTION_DIMENSION, function)
        .lambda_cold_start_metric(COLD_START)
        .with_lambda_request_id("requestId")
        .init()
        .map_err(|e| format!("cannot install the metrics recorder: {e}"))?;
    for (name, unit) in ALL {
        metrics::describe_counter!(name, unit, "");
    }
    Ok(collector)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_function_is_named_as_lambda_names_it_else_by_its_crate() {
        let deployed = |_: &str| Some("cafe-order-writer".to_owned());
        assert_eq!(function_name("order-writer", deployed), "cafe-order-writer");
        assert_eq!(function_name("order-writer", |_| None), "order-writer");
        assert_eq!(
            function_name("order-writer", |_| Some(" ".into())),
            "order-writer"
        );
    }

    #[test]
    fn every_metric_is_listed_once() {
        let mut names: Vec<&str> = ALL.iter().map(|(name, _)| *name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
    }
}
