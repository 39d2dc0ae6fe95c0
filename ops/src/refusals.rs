//! Why the order writer refused a message: its last refusal line for the message's id.
//!
//! The writer logs one line per message it does not store (functions/order-writer/src/lib.rs,
//! `log_outcome`): `warn!(message_id, reason = %e, "order rejected; …")` for an order it will
//! never store, `error!(message_id, reason = %e, "order not stored; …")` for a failure that was
//! retried. The last such line before a message reached the DLQ says why it is there. The lines
//! are written as shared/src/telemetry.rs formats them:
//!
//! - text for people, where `AWS_LAMBDA_LOG_FORMAT` is not `JSON` (the local stack, whose
//!   functions all write to `.local/logs/functions.log`):
//!   `2026-12-06T00:15:04.123Z  WARN Lambda runtime invoke{…}: order rejected; … message_id="…" reason=…`
//!   (the reason is the line's last field, written as it reads);
//! - one JSON object per line where it is `JSON` (the template's `LogFormat: JSON`, so every
//!   deployed function): `{"timestamp": …, "level": "WARN", "message": …, "message_id": …,
//!   "reason": …}`, which CloudWatch Logs keeps as each event's message.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, anyhow};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::peek::iso_time;

/// One refusal the writer logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// When the writer logged it.
    pub at: Option<DateTime<Utc>>,
    pub reason: String,
}

/// The writer's refusal of `message_id` that `line` records, if it records one.
pub fn refusal_in_line(line: &str, message_id: &str) -> Option<Refusal> {
    let line = line.trim();
    if line.starts_with('{') {
        json_refusal(line, message_id)
    } else {
        text_refusal(line, message_id)
    }
}

fn json_refusal(line: &str, message_id: &str) -> Option<Refusal> {
    let event: Value = serde_json::from_str(line).ok()?;
    if event.get("message_id")?.as_str()? != message_id
        || !is_refusal_level(event.get("level")?.as_str()?)
    {
        return None;
    }
    Some(Refusal {
        at: event
            .get("timestamp")
            .and_then(Value::as_str)
            .and_then(parse_time),
        reason: event.get("reason")?.as_str()?.to_owned(),
    })
}

fn text_refusal(line: &str, message_id: &str) -> Option<Refusal> {
    // A &str field is written quoted (Debug), so the id cannot match the middle of another one.
    let field = format!(" message_id=\"{message_id}\"");
    let (before, after) = line.split_once(&field)?;
    if !before.split_whitespace().any(is_refusal_level) {
        return None;
    }
    let (_, reason) = after.split_once(" reason=")?;
    Some(Refusal {
        at: before.split_whitespace().next().and_then(parse_time),
        reason: reason.trim_end().to_owned(),
    })
}

/// The writer's refusals are its only `warn`/`error` lines that name a message and a reason.
fn is_refusal_level(level: &str) -> bool {
    matches!(level, "WARN" | "ERROR")
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

/// The last refusal of `message_id` among `lines`, in the order they were written.
pub fn last_refusal_in<'a>(
    lines: impl IntoIterator<Item = &'a str>,
    message_id: &str,
) -> Option<Refusal> {
    lines
        .into_iter()
        .filter_map(|line| refusal_in_line(line, message_id))
        .last()
}

/// Where the writer's lines are read from.
#[derive(Debug, Clone)]
pub enum WriterLog {
    /// The local stack's functions' log, which `cargo lambda watch` writes for all of them.
    File(PathBuf),
    /// The deployed writer's CloudWatch Logs log group.
    LogGroup {
        logs: aws_sdk_cloudwatchlogs::Client,
        group: String,
    },
    /// No log is known; says why.
    Unknown(String),
}

/// How far before a message's `SentTimestamp` the log is searched: the clocks of SQS and of
/// CloudWatch Logs are not the same clock.
const CLOCK_SKEW: Duration = Duration::from_secs(60);

/// How long a CloudWatch Logs search may take: FilterLogEvents reads a group in slices, a page
/// each, which may be empty while the search goes on.
const SEARCH_PATIENCE: Duration = Duration::from_secs(30);

impl WriterLog {
    /// The writer's last refusal of `message_id`, logged at or after `since` where known.
    pub async fn last_refusal(
        &self,
        message_id: &str,
        since: Option<DateTime<Utc>>,
    ) -> anyhow::Result<Option<Refusal>> {
        match self {
            Self::File(path) => {
                let text = std::fs::read(path).with_context(|| {
                    format!("cannot read the functions' log {}", path.display())
                })?;
                Ok(last_refusal_in(
                    String::from_utf8_lossy(&text).lines(),
                    message_id,
                ))
            }
            Self::LogGroup { logs, group } => {
                last_refusal_in_group(logs, group, message_id, since).await
            }
            Self::Unknown(why) => Err(anyhow!("{why}")),
        }
    }

    /// What to say when no refusal was found: plainly, with why that may be.
    pub async fn nothing_found(&self) -> String {
        let nothing = "no refusal recorded in the writer's log";
        match self {
            Self::File(path) => format!(
                "{nothing} ({}); was it removed since the message was refused?",
                path.display()
            ),
            Self::LogGroup { logs, group } => {
                let kept = match retention_days(logs, group).await {
                    Ok(Some(days)) => format!("log retention {days} days"),
                    Ok(None) => "the log group keeps its events forever".to_owned(),
                    Err(e) => format!("log retention unknown: {e}"),
                };
                format!("{nothing} ({group}); it may have expired ({kept})")
            }
            Self::Unknown(why) => format!("{nothing} was read: {why}"),
        }
    }
}

/// Searches `group` for lines naming `message_id` (a quoted term matches the id in text and in
/// JSON lines alike) and keeps the latest refusal among them.
async fn last_refusal_in_group(
    logs: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    message_id: &str,
    since: Option<DateTime<Utc>>,
) -> anyhow::Result<Option<Refusal>> {
    let deadline = tokio::time::Instant::now() + SEARCH_PATIENCE;
    let start = since.map(|at| at.timestamp_millis() - CLOCK_SKEW.as_millis() as i64);
    let mut latest: Option<(i64, Refusal)> = None;
    let mut next_token = None;
    loop {
        let page = logs
            .filter_log_events()
            .log_group_name(group)
            .filter_pattern(format!("\"{message_id}\""))
            .set_start_time(start)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(|e| {
                anyhow!(
                    "FilterLogEvents on {group}: {} (reading it needs logs:FilterLogEvents)",
                    cafe_shared::error::aws_error_text(&e)
                )
            })?;
        for event in page.events() {
            let Some(mut refusal) =
                refusal_in_line(event.message().unwrap_or_default(), message_id)
            else {
                continue;
            };
            let logged = event.timestamp().unwrap_or_default();
            refusal.at = refusal
                .at
                .or_else(|| DateTime::from_timestamp_millis(logged));
            if latest.as_ref().is_none_or(|(at, _)| logged >= *at) {
                latest = Some((logged, refusal));
            }
        }
        next_token = page.next_token().map(str::to_owned);
        if next_token.is_none() {
            return Ok(latest.map(|(_, refusal)| refusal));
        }
        if tokio::time::Instant::now() > deadline {
            let found = latest.map(|(_, refusal)| refusal);
            // What was found so far is the best answer there is; say the search was cut short.
            return match found {
                Some(refusal) => Ok(Some(refusal)),
                None => Err(anyhow!(
                    "the search of {group} took longer than {SEARCH_PATIENCE:?} and found nothing yet"
                )),
            };
        }
    }
}

/// The group's retention in days (None: kept forever).
async fn retention_days(
    logs: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
) -> anyhow::Result<Option<i32>> {
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix(group)
        .send()
        .await
        .map_err(|e| {
            anyhow!(
                "{} (needs logs:DescribeLogGroups)",
                cafe_shared::error::aws_error_text(&e)
            )
        })?;
    let found = groups
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(group))
        .with_context(|| format!("no log group {group}"))?;
    Ok(found.retention_in_days())
}

/// How a refusal reads on one line: when, then why.
pub fn refusal_line(refusal: &Refusal) -> String {
    match refusal.at {
        Some(at) => format!("{} (logged {})", refusal.reason, iso_time(&at)),
        None => refusal.reason.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudwatchlogs::operation::describe_log_groups::DescribeLogGroupsOutput;
    use aws_sdk_cloudwatchlogs::operation::filter_log_events::FilterLogEventsOutput;
    use aws_sdk_cloudwatchlogs::types::{FilteredLogEvent, LogGroup};
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    const ID: &str = "0b0c5c1e-5a4f-4e4b-9a53-3c1f0e6d7a21";

    /// A log line buffer the shared subscriber can write to.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What the writer's refusal lines look like with the functions' own log set-up
    /// (cafe_shared::telemetry), in JSON (deployed) or text (local), written as the writer
    /// writes them.
    fn writer_lines(json: bool) -> String {
        let settings = cafe_shared::telemetry::LogSettings {
            json,
            level: "info".into(),
            function: "order-writer".into(),
            export_traces: false,
        };
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = cafe_shared::telemetry::subscriber(settings, move || writer.clone(), None);
        tracing::subscriber::with_default(subscriber, || {
            let message_id = ID;
            let first = "DynamoDB did not store the order: ServiceUnavailable";
            tracing::error!(message_id, reason = %first, "order not stored; it will be retried");
            let other = "another-message";
            tracing::warn!(message_id = other, reason = %"not a valid order: the order is empty", "order rejected; it stays on the queue until the DLQ takes it");
            let last = "not a valid order: the order has no `customerID`";
            tracing::warn!(message_id, reason = %last, "order rejected; it stays on the queue until the DLQ takes it");
            tracing::info!(message_id, order_id = "o-1", "order stored");
        });
        String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn the_last_refusal_of_the_message_is_found_in_json_lines() {
        let lines = writer_lines(true);
        let refusal = last_refusal_in(lines.lines(), ID).expect("found");
        assert_eq!(
            refusal.reason,
            "not a valid order: the order has no `customerID`"
        );
        assert!(refusal.at.is_some(), "{lines}");
    }

    #[test]
    fn the_last_refusal_of_the_message_is_found_in_text_lines() {
        let lines = writer_lines(false);
        let refusal = last_refusal_in(lines.lines(), ID).expect("found");
        assert_eq!(
            refusal.reason,
            "not a valid order: the order has no `customerID`"
        );
        assert!(refusal.at.is_some(), "{lines}");
        assert_eq!(
            last_refusal_in(lines.lines(), "another-message")
                .unwrap()
                .reason,
            "not a valid order: the order is empty"
        );
    }

    #[test]
    fn lines_of_other_messages_and_of_stored_orders_are_not_refusals() {
        for json in [true, false] {
            let lines = writer_lines(json);
            assert_eq!(last_refusal_in(lines.lines(), "0b0c5c1e"), None, "{lines}");
            assert_eq!(last_refusal_in(lines.lines(), "o-1"), None);
        }
        // The gateway's line for an accepted order names the id too, at info.
        let accepted =
            r#"2026-12-06T00:15:04.000Z  INFO order accepted message_id="m-1" reason=none"#;
        assert_eq!(refusal_in_line(accepted, "m-1"), None);
    }

    #[test]
    fn the_file_log_reads_the_fixture_of_the_local_stack() {
        let log = WriterLog::File(PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/functions.log"
        )));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let found = runtime
            .block_on(log.last_refusal("c8e0f5b4-4b2e-4a43-a9c1-6d1f3b1d9e77", None))
            .unwrap()
            .expect("the fixture holds its refusal");
        assert!(found.reason.contains("Idempotency-Key"), "{found:?}");
        assert_eq!(
            runtime
                .block_on(log.last_refusal("no-such-message", None))
                .unwrap(),
            None
        );
        let missing = WriterLog::File(PathBuf::from("/nonexistent/functions.log"));
        let error = runtime
            .block_on(missing.last_refusal("x", None))
            .unwrap_err()
            .to_string();
        assert!(error.contains("/nonexistent/functions.log"), "{error}");
    }

    fn json_event(reason: &str, at: i64) -> FilteredLogEvent {
        let line = serde_json::json!({
            "timestamp": DateTime::from_timestamp_millis(at).unwrap().to_rfc3339(),
            "level": "WARN", "message": "order rejected; it stays on the queue until the DLQ takes it",
            "message_id": ID, "reason": reason, "function": "cafe-order-writer"});
        FilteredLogEvent::builder()
            .message(format!("{line}\n"))
            .timestamp(at)
            .build()
    }

    #[tokio::test]
    async fn the_log_group_is_searched_by_the_id_from_when_the_message_was_sent_across_pages() {
        let sent = DateTime::from_timestamp_millis(1_796_515_200_000).unwrap();
        let search = mock!(aws_sdk_cloudwatchlogs::Client::filter_log_events)
            .match_requests(|r| {
                r.log_group_name() == Some("/aws/lambda/cafe-order-writer")
                    && r.filter_pattern() == Some(&format!("\"{ID}\""))
                    && r.start_time() == Some(1_796_515_200_000 - 60_000)
            })
            .sequence()
            .output(|| {
                FilterLogEventsOutput::builder()
                    .events(json_event("first refusal", 1_796_515_201_000))
                    .next_token("page-2")
                    .build()
            })
            .output(|| {
                FilterLogEventsOutput::builder()
                    .next_token("page-3")
                    .build()
            })
            .output(|| {
                FilterLogEventsOutput::builder()
                    .events(json_event("last refusal", 1_796_515_230_000))
                    .events(
                        FilteredLogEvent::builder()
                            .message("START RequestId: 1 Version: 3")
                            .timestamp(1_796_515_240_000)
                            .build(),
                    )
                    .build()
            })
            .build();
        let logs = mock_client!(aws_sdk_cloudwatchlogs, RuleMode::Sequential, [&search]);
        let log = WriterLog::LogGroup {
            logs,
            group: "/aws/lambda/cafe-order-writer".into(),
        };
        let found = log.last_refusal(ID, Some(sent)).await.unwrap().unwrap();
        assert_eq!(found.reason, "last refusal");
        assert_eq!(found.at, DateTime::from_timestamp_millis(1_796_515_230_000));
        assert_eq!(search.num_calls(), 3);
    }

    #[tokio::test]
    async fn nothing_found_in_the_log_group_says_how_long_it_keeps_lines() {
        let search = mock!(aws_sdk_cloudwatchlogs::Client::filter_log_events)
            .then_output(|| FilterLogEventsOutput::builder().build());
        let groups = mock!(aws_sdk_cloudwatchlogs::Client::describe_log_groups).then_output(|| {
            DescribeLogGroupsOutput::builder()
                .log_groups(
                    LogGroup::builder()
                        .log_group_name("/aws/lambda/cafe-order-writer-2")
                        .retention_in_days(1)
                        .build(),
                )
                .log_groups(
                    LogGroup::builder()
                        .log_group_name("/aws/lambda/cafe-order-writer")
                        .retention_in_days(30)
                        .build(),
                )
                .build()
        });
        let logs = mock_client!(
            aws_sdk_cloudwatchlogs,
            RuleMode::MatchAny,
            [&search, &groups]
        );
        let log = WriterLog::LogGroup {
            logs,
            group: "/aws/lambda/cafe-order-writer".into(),
        };
        assert_eq!(log.last_refusal(ID, None).await.unwrap(), None);
        assert_eq!(
            log.nothing_found().await,
            "no refusal recorded in the writer's log (/aws/lambda/cafe-order-writer); \
             it may have expired (log retention 30 days)"
        );
    }

    #[tokio::test]
    async fn a_refused_search_is_an_error_naming_the_permission() {
        let denied = mock!(aws_sdk_cloudwatchlogs::Client::filter_log_events).then_error(|| {
            aws_sdk_cloudwatchlogs::operation::filter_log_events::FilterLogEventsError::generic(
                aws_sdk_cloudwatchlogs::error::ErrorMetadata::builder()
                    .code("AccessDeniedException")
                    .message("not authorized")
                    .build(),
            )
        });
        let logs = mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, [&denied]);
        let log = WriterLog::LogGroup {
            logs,
            group: "g".into(),
        };
        let error = log.last_refusal(ID, None).await.unwrap_err().to_string();
        assert!(error.contains("AccessDeniedException"), "{error}");
        assert!(error.contains("logs:FilterLogEvents"), "{error}");
    }

    #[test]
    fn a_refusal_reads_with_when_it_was_logged() {
        let refusal = Refusal {
            at: DateTime::from_timestamp_millis(1_796_515_230_400),
            reason: "not a valid order".into(),
        };
        assert_eq!(
            refusal_line(&refusal),
            "not a valid order (logged 2026-12-06T00:00:30Z)"
        );
    }
}
