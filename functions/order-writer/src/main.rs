use cafe_shared::{clients, config, metrics, telemetry};
use lambda_runtime::{Error, service_fn};
use order_writer::{OrderWriter, handle};

// One event at a time (Lambda's model): a single-threaded runtime, which also starts faster.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let telemetry = telemetry::init();
    let aws = clients::aws_config().await;
    let writer = OrderWriter::new(clients::dynamodb(&aws), config::ORDERS_TABLE.value());
    let metrics = metrics::init("order-writer")?;
    telemetry
        .run(metrics, service_fn(|event| handle(&writer, event)))
        .await
}
