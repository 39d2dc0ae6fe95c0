use cafe_shared::{clients, config, metrics, telemetry};
use lambda_runtime::{Error, service_fn};
use order_notifier::{OrderNotifier, handle};

// One event at a time (Lambda's model): a single-threaded runtime, which also starts faster.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let telemetry = telemetry::init();
    let aws = clients::aws_config().await;
    let notifier = OrderNotifier::new(clients::sns(&aws), config::ORDER_TOPIC_ARN.value());
    let metrics = metrics::init("order-notifier")?;
    telemetry
        .run(metrics, service_fn(|event| handle(&notifier, event)))
        .await
}
