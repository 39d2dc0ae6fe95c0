use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use cafe_event_sources::invoke::FUNCTION_TIMEOUT;
use cafe_event_sources::ready_file::Resources;
use cafe_gateway::Aws;
use cafe_gateway::api::{self, Api, TIMEOUTS};
use cafe_gateway::mappings::position::StreamPosition;
use cafe_gateway::mappings::{SqsMapping, StreamMapping};
use cafe_gateway::metrics_log::FunctionsLog;
use cafe_gateway::ops_page::{QueueKind, Watched, WatchedQueue};
use cafe_gateway::settings::*;
use cafe_shared::{clients, telemetry};
use tracing::info;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match serve().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gateway: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Reads what the emulator created, starts the event-source mappings and serves the API until
/// stopped.
async fn serve() -> anyhow::Result<()> {
    telemetry::init();
    let resources = Resources::read(Path::new(&EMULATOR_READY_FILE.value()))?;
    let aws = Aws::new(&clients::aws_config().await);
    let stream_position = StreamPosition::default();
    start_mappings(&aws, &resources, &stream_position)?;

    let address = GATEWAY_ADDR.value();
    let listener = tokio::net::TcpListener::bind(&address).await?;
    info!(address, "gateway listening");
    let watched_queues = [
        (&resources.orders_queue, QueueKind::Work),
        (&resources.orders_dead_letter_queue, QueueKind::ParkedOrders),
        (
            &resources.notifier_failures_queue,
            QueueKind::ParkedNotifications,
        ),
    ]
    .map(|(queue, kind)| WatchedQueue {
        name: queue.name.clone(),
        url: queue.url.clone(),
        kind,
    })
    .into();
    let api = Api {
        aws,
        queue_url: resources.orders_queue.url,
        state_machine_arn: resources.state_machine.arn,
        reports_bucket: resources.reports_bucket,
        mailbox_file: PathBuf::from(MAILBOX_FILE.value()),
        watched: Watched {
            queues: watched_queues,
            stream_position,
            functions_log: FunctionsLog::new(PathBuf::from(FUNCTIONS_LOG_FILE.value())),
        },
    };
    api::serve(listener, api, TIMEOUTS).await;
    Ok(())
}

/// The template's two event sources, run as Lambda runs them: the orders queue → its function,
/// the orders table's stream → its function, which reports where it is to `stream_position`.
fn start_mappings(
    aws: &Aws,
    resources: &Resources,
    stream_position: &StreamPosition,
) -> anyhow::Result<()> {
    let sqs_mapping = SqsMapping {
        aws: aws.clone(),
        queue_url: resources.orders_queue.url.clone(),
        queue_arn: resources.orders_queue.arn.clone(),
        region: resources.region.clone(),
        function: resources.sqs_mapping.function.clone(),
        function_timeout: FUNCTION_TIMEOUT,
        batch_size: i32::try_from(resources.sqs_mapping.batch_size)?,
        retry_delay: Duration::from_secs(
            SQS_RETRY_DELAY_SECONDS
                .parse()
                .map_err(anyhow::Error::msg)?,
        ),
    };
    // Lambda polls a queue with several pollers at once, so one message can be in two
    // invocations when its visibility timeout runs out: the writer must (and does) cope.
    for _ in 0..SQS_POLLERS.parse::<usize>().map_err(anyhow::Error::msg)? {
        tokio::spawn(sqs_mapping.clone().run());
    }
    let stream = &resources.stream_mapping;
    tokio::spawn(
        StreamMapping {
            aws: aws.clone(),
            stream_arn: resources.orders_table.stream_arn.clone(),
            failure_queue_url: resources.notifier_failures_queue.url.clone(),
            region: resources.region.clone(),
            function: stream.function.clone(),
            function_timeout: FUNCTION_TIMEOUT,
            batch_size: usize::try_from(stream.batch_size)?,
            max_retries: stream
                .max_retries
                .context("the stream mapping has no MaximumRetryAttempts")?,
        }
        .run_reporting_to(stream_position.clone()),
    );
    Ok(())
}
