use cafe_shared::config::{
    DB_CONNECT_TIMEOUT_SECONDS, DB_QUERY_TIMEOUT_SECONDS, DB_SECRET_TTL_SECONDS, REPORTS_BUCKET,
};
use cafe_shared::{clients, metrics, telemetry};
use inventory_reader::connection;
use inventory_reader::database::Database;
use inventory_reader::{InventoryReader, handle};
use lambda_runtime::{Error, service_fn};
use std::time::Duration;

// One event at a time (Lambda's model): a single-threaded runtime, which also starts faster.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let telemetry = telemetry::init();
    let aws = clients::aws_config().await;
    let database = Database::new(
        connection::from_environment(&aws).await?,
        Duration::from_secs(DB_SECRET_TTL_SECONDS.parse()?),
    );
    let reader = InventoryReader::new(
        database,
        clients::s3(&aws),
        REPORTS_BUCKET.value(),
        Duration::from_secs(DB_CONNECT_TIMEOUT_SECONDS.parse()?),
        Duration::from_secs(DB_QUERY_TIMEOUT_SECONDS.parse()?),
    );
    let metrics = metrics::init("inventory-reader")?;
    telemetry
        .run(metrics, service_fn(|event| handle(&reader, event)))
        .await
}
