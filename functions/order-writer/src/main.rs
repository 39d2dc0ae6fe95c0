use cafe_shared::{clients, config, telemetry};
use lambda_runtime::{Error, run, service_fn};
use order_writer::{OrderWriter, handle};

// One event at a time (Lambda's model): a single-threaded runtime, which also starts faster.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let aws = clients::aws_config().await;
    let writer = OrderWriter::new(clients::dynamodb(&aws), config::ORDERS_TABLE.value());
    run(service_fn(|event| handle(&writer, event))).await
}
