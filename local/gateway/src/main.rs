use std::path::PathBuf;
use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;
use cafe_event_sources::invoke::FUNCTION_TIMEOUT;
use cafe_gateway::Aws;
use cafe_gateway::api::{self, Api, TIMEOUTS};
use cafe_gateway::mappings::{SqsMapping, StreamMapping};
use cafe_gateway::settings::*;
use cafe_shared::config::ORDERS_TABLE;
use cafe_shared::{clients, telemetry};
use tracing::info;

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match serve().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gateway: {}", aws_sdk_sqs::error::DisplayErrorContext(&*e));
            std::process::ExitCode::FAILURE
        }
    }
}

/// Finds the resources the emulator provisioned, starts the event-source mappings and serves
/// the API until stopped.
async fn serve() -> Result<(), Error> {
    telemetry::init();
    let config = clients::aws_config().await;
    let region = config.region().map(|r| r.to_string()).unwrap_or_default();
    let aws = Aws::new(&config);

    let queue_url = aws
        .sqs
        .get_queue_url()
        .queue_name(ORDERS_QUEUE.value())
        .send()
        .await?;
    let queue_url = queue_url.queue_url().unwrap_or_default().to_owned();
    let attributes = aws
        .sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await?;
    let queue_arn = attributes
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .cloned()
        .unwrap_or_default();
    let table = aws
        .dynamodb
        .describe_table()
        .table_name(ORDERS_TABLE.value())
        .send()
        .await?;
    let stream_arn = table
        .table()
        .and_then(|t| t.latest_stream_arn())
        .ok_or("the orders table has no stream")?
        .to_owned();
    let failure_queue_url = aws
        .sqs
        .get_queue_url()
        .queue_name(NOTIFIER_FAILURES_QUEUE.value())
        .send()
        .await?
        .queue_url()
        .unwrap_or_default()
        .to_owned();
    let machines = aws.sfn.list_state_machines().send().await?;
    let state_machine_arn = machines
        .state_machines()
        .iter()
        .find(|m| m.name() == STATE_MACHINE.value())
        .map(|m| m.state_machine_arn().to_owned())
        .ok_or("the report state machine is not deployed")?;

    let sqs_mapping = SqsMapping {
        aws: aws.clone(),
        queue_url: queue_url.clone(),
        queue_arn,
        region: region.clone(),
        function: ORDER_WRITER.value(),
        function_timeout: FUNCTION_TIMEOUT,
        retry_delay: Duration::from_secs(SQS_RETRY_DELAY_SECONDS.parse()?),
    };
    // Lambda polls a queue with several pollers at once, so one message can be in two
    // invocations when its visibility timeout runs out: the writer must (and does) cope.
    for _ in 0..SQS_POLLERS.parse::<usize>()? {
        tokio::spawn(sqs_mapping.clone().run());
    }
    tokio::spawn(
        StreamMapping {
            aws: aws.clone(),
            stream_arn,
            failure_queue_url,
            region,
            function: ORDER_NOTIFIER.value(),
            function_timeout: FUNCTION_TIMEOUT,
            max_retries: STREAM_MAX_RETRIES.parse()?,
        }
        .run(),
    );

    let address = GATEWAY_ADDR.value();
    let listener = tokio::net::TcpListener::bind(&address).await?;
    info!(address, "gateway listening");
    let api = Api {
        aws,
        queue_url,
        state_machine_arn,
        mailbox_file: PathBuf::from(MAILBOX_FILE.value()),
    };
    api::serve(listener, api, TIMEOUTS).await;
    Ok(())
}
