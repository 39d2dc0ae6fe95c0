//! `cafe-ops <verb> [--local [READY_FILE]] [--dry-run]`: what `make redrive-orders`,
//! `make replay-notifications`, `make parked` (and `make destroy`, first), `make dlq-peek` and
//! `make dlq-delete ID=…` run (`cafe-ops --help`). With `--local` they act on the local stack
//! (its emulator's ready file); otherwise on the deployed stack whose outputs `make` puts in
//! the environment.

use anyhow::anyhow;
use cafe_ops::cli::{Cli, Verb};
use cafe_ops::replay::{Clients, Notifier};
use cafe_ops::{Targets, dlq, parked, redrive, replay};
use cafe_shared::clients;
use clap::Parser;

/// Said by the verbs that only read, when asked for a dry run.
const ONLY_READS: &str = "dry run: this verb only reads; nothing is changed";

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cafe-ops: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let (targets, aws) = match &cli.local {
        Some(ready) => Targets::local(ready)?,
        None => (
            Targets::from_env(|name| std::env::var(name).ok())?,
            clients::aws_config().await,
        ),
    };
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let writer_log = targets.order_writer_log.reader(&aws);
    let (dlq_url, queue_url) = (&targets.orders_dlq_url, &targets.orders_queue_url);
    match cli.verb {
        Verb::RedriveOrders if cli.dry_run => {
            print!(
                "{}",
                redrive::would_move(&sqs, dlq_url, queue_url, &writer_log).await?
            );
            Ok(())
        }
        Verb::RedriveOrders => {
            let done = redrive::redrive_orders(&sqs, dlq_url, queue_url).await?;
            println!(
                "moved {} message(s) from {dlq_url} to {queue_url} ({})",
                done.moved, done.how
            );
            Ok(())
        }
        Verb::ReplayNotifications if cli.dry_run => {
            print!(
                "{}",
                replay::would_replay(&sqs, &targets.notifier_failures_url).await?
            );
            Ok(())
        }
        Verb::ReplayNotifications => replay_notifications(&targets, &aws, sqs).await,
        // Exits 1 while either parking queue holds a message: `make destroy` stops on it.
        Verb::Parked => {
            if cli.dry_run {
                println!("{ONLY_READS}");
            }
            let found = parked::parked(&sqs, &targets).await?;
            for queue in &found {
                println!("{}: {} message(s) parked", queue.queue, queue.messages);
            }
            parked::refusal(&found, cli.local.is_none()).map_or(Ok(()), |why| Err(anyhow!(why)))
        }
        Verb::DlqPeek => {
            if cli.dry_run {
                println!("{ONLY_READS}");
            }
            print!("{}", dlq::peek_described(&sqs, dlq_url, &writer_log).await?);
            Ok(())
        }
        Verb::DlqDelete { id } => {
            print!(
                "{}",
                dlq::delete_shown(&sqs, dlq_url, &id, &writer_log, cli.dry_run).await?
            );
            Ok(())
        }
    }
}

async fn replay_notifications(
    targets: &Targets,
    aws: &aws_config::SdkConfig,
    sqs: aws_sdk_sqs::Client,
) -> anyhow::Result<()> {
    let clients = Clients {
        sqs,
        streams: aws_sdk_dynamodbstreams::Client::new(aws),
        lambda: aws_sdk_lambda::Client::new(aws),
    };
    let region = aws.region().map(|r| r.to_string()).unwrap_or_default();
    let notifier = Notifier {
        function: &targets.order_notifier,
        region: &region,
    };
    let done =
        replay::replay_notifications(&clients, &targets.notifier_failures_url, &notifier).await?;
    println!(
        "replayed {} failure description(s): {} order(s) handed to {} and notified",
        done.descriptions, done.notified, targets.order_notifier
    );
    for sequence_number in &done.described_again {
        eprintln!(
            "record {sequence_number} failed again; described again on {}",
            targets.notifier_failures_url
        );
    }
    for problem in &done.problems {
        eprintln!("not replayed (left on the queue): {problem}");
    }
    if done.problems.is_empty() && done.described_again.is_empty() {
        Ok(())
    } else {
        Err(anyhow!("not everything was notified; see above"))
    }
}
