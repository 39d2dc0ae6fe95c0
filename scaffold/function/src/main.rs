use cafe_shared::{metrics, telemetry};
use lambda_runtime::{Error, service_fn};

// One event at a time (Lambda's model): a single-threaded runtime, which also starts faster.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let telemetry = telemetry::init();
    let metrics = metrics::init("@name@")?;
    telemetry.run(metrics, service_fn(@crate@::handle)).await
}
