//! `cafe-ops redrive-orders`, `cafe-ops replay-notifications` and `cafe-ops parked`: what
//! `make redrive-orders`, `make replay-notifications` and `make parked` (and `make destroy`, first)
//! run. With `--local` they act on the local stack (its emulator's
//! ready file); otherwise on the deployed stack whose outputs `make` puts in the environment.

use std::path::Path;

use anyhow::{anyhow, bail};
use cafe_ops::replay::{Clients, Notifier};
use cafe_ops::{Targets, parked, redrive, replay};
use cafe_shared::clients;

const USAGE: &str =
    "usage: cafe-ops {redrive-orders|replay-notifications|parked} [--local [READY_FILE]]";

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    match run(std::env::args().skip(1).collect()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cafe-ops: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Vec<String>) -> anyhow::Result<()> {
    let deployed = args.get(1).is_none();
    let (targets, aws) = match args.get(1).map(String::as_str) {
        Some("--local") => {
            let ready = args.get(2).map_or(".local/emulator.json", String::as_str);
            Targets::local(Path::new(ready))?
        }
        None => (
            Targets::from_env(|name| std::env::var(name).ok())?,
            clients::aws_config().await,
        ),
        Some(other) => bail!("unknown option {other}\n{USAGE}"),
    };
    let sqs = aws_sdk_sqs::Client::new(&aws);
    match args.first().map(String::as_str) {
        Some("redrive-orders") => {
            let done =
                redrive::redrive_orders(&sqs, &targets.orders_dlq_url, &targets.orders_queue_url)
                    .await?;
            println!(
                "moved {} message(s) from {} to {} ({})",
                done.moved, targets.orders_dlq_url, targets.orders_queue_url, done.how
            );
            Ok(())
        }
        Some("replay-notifications") => {
            let clients = Clients {
                sqs,
                streams: aws_sdk_dynamodbstreams::Client::new(&aws),
                lambda: aws_sdk_lambda::Client::new(&aws),
            };
            let region = aws.region().map(|r| r.to_string()).unwrap_or_default();
            let notifier = Notifier {
                function: &targets.order_notifier,
                region: &region,
            };
            let done =
                replay::replay_notifications(&clients, &targets.notifier_failures_url, &notifier)
                    .await?;
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
        // Exits 1 while either parking queue holds a message: `make destroy` stops on it.
        Some("parked") => {
            let found = parked::parked(&sqs, &targets).await?;
            for queue in &found {
                println!("{}: {} message(s) parked", queue.queue, queue.messages);
            }
            parked::refusal(&found, deployed).map_or(Ok(()), |why| Err(anyhow!(why)))
        }
        _ => Err(anyhow!(USAGE)),
    }
}
