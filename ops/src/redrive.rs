//! Moving parked orders back: SQS's own message move task where SQS offers it (on AWS), and
//! receive, send, delete where it does not (the emulator has no move task). Either way a moved
//! message is a new message to SQS (a new messageId), so an order sent without an
//! `Idempotency-Key` gets a new orderID: it was never stored, or it would not be in the DLQ.

use std::time::Duration;

use anyhow::{anyhow, bail};
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::SdkError;
use aws_sdk_sqs::operation::start_message_move_task::StartMessageMoveTaskError;
use aws_sdk_sqs::types::{MessageAttributeValue, MessageSystemAttributeName};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use cafe_shared::error::aws_error_text;

use crate::dlq::{PEEK_PATIENCE, describe};
use crate::peek::peek;
use crate::refusals::WriterLog;
use crate::{depth, queue_arn};

/// What a redrive did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redriven {
    pub moved: u64,
    /// `"message move task"` or `"receive, send, delete"`.
    pub how: &'static str,
}

/// How long a move task may take before the verb stops waiting for it (it goes on in SQS).
const MOVE_TASK_PATIENCE: Duration = Duration::from_secs(300);

/// Moves every message of `dlq_url` to `queue_url`; returns how many.
pub async fn redrive_orders(
    sqs: &Client,
    dlq_url: &str,
    queue_url: &str,
) -> anyhow::Result<Redriven> {
    let (dlq_arn, queue_arn) = (
        queue_arn(sqs, dlq_url).await?,
        queue_arn(sqs, queue_url).await?,
    );
    let asked_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let started = sqs
        .start_message_move_task()
        .source_arn(&dlq_arn)
        .destination_arn(&queue_arn)
        .send()
        .await;
    match started {
        Ok(task) => {
            let handle = task.task_handle().unwrap_or_default().to_owned();
            let moved = wait_for_move_task(sqs, &dlq_arn, &handle, asked_at).await?;
            Ok(Redriven {
                moved,
                how: "message move task",
            })
        }
        Err(e) if lacks_move_tasks(&e) => {
            let moved = move_one_by_one(sqs, dlq_url, queue_url).await?;
            Ok(Redriven {
                moved,
                how: "receive, send, delete",
            })
        }
        Err(e) => bail!("StartMessageMoveTask: {}", aws_error_text(&e)),
    }
}

/// `redrive-orders --dry-run`: what a redrive would move now, each message as `dlq-peek` shows
/// it; nothing is moved or taken.
pub async fn would_move(
    sqs: &Client,
    dlq_url: &str,
    queue_url: &str,
    log: &WriterLog,
) -> anyhow::Result<String> {
    let peeked = peek(sqs, dlq_url, PEEK_PATIENCE).await?;
    let mut text = format!(
        "dry run: would move {} message(s) from {dlq_url} to {queue_url}; nothing moved\n",
        peeked.approximate
    );
    for seen in &peeked.messages {
        text.push('\n');
        text.push_str(&describe(seen, log).await.render());
    }
    if peeked.unseen() > 0 {
        text.push_str(&format!(
            "\n{} more not shown (in flight, delayed, or not among what SQS answered)\n",
            peeked.unseen()
        ));
    }
    Ok(text)
}

/// Whether the service has no move tasks (the local emulator answers `UnsupportedOperation`), as
/// opposed to refusing this one (permissions, a task already running), which is an error.
fn lacks_move_tasks(error: &SdkError<StartMessageMoveTaskError, HttpResponse>) -> bool {
    matches!(
        error.as_service_error(),
        Some(StartMessageMoveTaskError::UnsupportedOperation(_))
    )
}

/// Waits for the task started with `handle` at or after `asked_at` (ms since the epoch). SQS
/// gives a task's handle only while it runs, so a finished one is known by when it started.
async fn wait_for_move_task(
    sqs: &Client,
    dlq_arn: &str,
    handle: &str,
    asked_at: i64,
) -> anyhow::Result<u64> {
    let deadline = tokio::time::Instant::now() + MOVE_TASK_PATIENCE;
    loop {
        let tasks = sqs
            .list_message_move_tasks()
            .source_arn(dlq_arn)
            .send()
            .await
            .map_err(|e| anyhow!("ListMessageMoveTasks: {}", aws_error_text(&e)))?;
        // Clocks differ: a task that started up to a minute "before" it was asked for is ours,
        // since only one task runs per queue at a time.
        let task = tasks.results().iter().find(|t| {
            t.task_handle() == Some(handle) || t.started_timestamp() >= asked_at - 60_000
        });
        let moved = task.map_or(0, |t| {
            t.approximate_number_of_messages_moved().max(0) as u64
        });
        match task.and_then(|t| t.status()) {
            Some("COMPLETED") => return Ok(moved),
            Some(status @ ("FAILED" | "CANCELLED")) => {
                let reason = task.and_then(|t| t.failure_reason()).unwrap_or_default();
                bail!("the move task {status} after {moved} messages: {reason}");
            }
            _ if tokio::time::Instant::now() > deadline => {
                bail!(
                    "the move task is still running after {MOVE_TASK_PATIENCE:?} ({moved} moved so far); \
                     it goes on in SQS: see ListMessageMoveTasks"
                );
            }
            _ => tokio::time::sleep(Duration::from_secs(2)).await,
        }
    }
}

/// Receive, send (body and message attributes as they were), then delete: a crash between send and
/// delete leaves a message in both queues, which the writer's `orderID` makes harmless for a keyed
/// order and which costs at most one extra order otherwise.
/// At most as many as the DLQ held when it began: locally a message the writer still refuses is
/// back in the DLQ within seconds, and must not be moved round and round.
async fn move_one_by_one(sqs: &Client, dlq_url: &str, queue_url: &str) -> anyhow::Result<u64> {
    let held = depth(sqs, dlq_url).await?;
    let mut moved = 0;
    while moved < held {
        let received = sqs
            .receive_message()
            .queue_url(dlq_url)
            .max_number_of_messages((held - moved).min(10) as i32)
            .wait_time_seconds(1)
            .visibility_timeout(60)
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .map_err(|e| anyhow!("ReceiveMessage from the DLQ: {}", aws_error_text(&e)))?;
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(moved);
        }
        for message in messages {
            let attributes: std::collections::HashMap<String, MessageAttributeValue> =
                message.message_attributes.clone().unwrap_or_default();
            sqs.send_message()
                .queue_url(queue_url)
                .message_body(message.body().unwrap_or_default())
                .set_message_attributes((!attributes.is_empty()).then_some(attributes))
                .send()
                .await
                .map_err(|e| anyhow!("SendMessage to the orders queue: {}", aws_error_text(&e)))?;
            sqs.delete_message()
                .queue_url(dlq_url)
                .receipt_handle(message.receipt_handle().unwrap_or_default())
                .send()
                .await
                .map_err(|e| anyhow!("DeleteMessage from the DLQ: {}", aws_error_text(&e)))?;
            moved += 1;
        }
    }
    Ok(moved)
}
