//! `GET /ops`, for the local stack only: what an operator of the deployed stack would read on its
//! dashboard. The queues' depths, where the stream mapping is, the last report executions and the
//! functions' metric sums, as JSON or as a page that refreshes itself. Each section is gathered on
//! its own: one that fails says why and the others are still shown.
//!
//! The page leads with what needs doing: a parking queue that holds a message stands out and names
//! the verb that deals with it, the stream says "caught up" when nothing waits, and each report
//! execution links to its report and its email, a failed one showing its error and cause (the
//! failure email carries only the execution's name as a reference; this is where it is looked up).

use std::collections::BTreeMap;
use std::path::Path;

use askama::Template;
use aws_sdk_sfn::types::ExecutionStatus;
use aws_sdk_sqs::types::QueueAttributeName;
use cafe_shared::error::aws_error_text;
use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use crate::mailbox::{self, Letter};
use crate::mappings::position::{LagFrom, StreamPosition, StreamSummary, summarize};
use crate::metrics_log::{FunctionsLog, MetricTotals};
use crate::{Aws, is_execution_name};

/// A queue the page shows the depth of.
#[derive(Debug, Clone)]
pub struct WatchedQueue {
    pub name: String,
    pub url: String,
    /// What a message waiting on it means.
    pub kind: QueueKind,
}

/// What a queue is for, and so what its depth asks of an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum QueueKind {
    /// Work on its way (the orders queue): messages come and go by themselves.
    Work,
    /// Orders the writer refused (`orders-dlq`): each waits for an operator.
    ParkedOrders,
    /// Order notifications the stream gave up on (`notifier-failures`): each waits for an
    /// operator.
    ParkedNotifications,
}

impl QueueKind {
    /// What an operator does about a message parked on it, or None for a work queue. The words
    /// after the first step are cafe-ops' own (`ops/src/parked.rs`, which `make destroy` prints);
    /// a test keeps the two the same.
    pub fn remedy(self) -> Option<&'static str> {
        match self {
            QueueKind::Work => None,
            QueueKind::ParkedOrders => Some(concat!(
                "make dlq-peek to see why each order was refused, then ",
                "make redrive-orders once the cause is fixed (docs/operations.md, Runbook: OrdersDlqNotEmpty)"
            )),
            QueueKind::ParkedNotifications => Some(
                "make replay-notifications (docs/operations.md, Runbook: NotifierFailuresNotEmpty)",
            ),
        }
    }
}

/// What the page watches, besides the AWS clients and the state machine whose executions it lists.
#[derive(Clone)]
pub struct Watched {
    /// The queues it shows the depth of: the orders queue, its DLQ, the stream's failure queue.
    pub queues: Vec<WatchedQueue>,
    /// Where the stream mapping is, as it reports it.
    pub stream_position: StreamPosition,
    /// The functions' log, whose metrics it sums.
    pub functions_log: FunctionsLog,
}

/// What a section shows, or why it could not be gathered.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Section<T> {
    Shown(T),
    Failed { error: String },
}

/// One watched queue: what it is for, how deep it is, and what that asks of an operator.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueView {
    pub kind: QueueKind,
    #[serde(flatten)]
    pub depth: Section<QueueDepth>,
    /// For a parking queue that holds a message: the verb that deals with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub needs_action: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueDepth {
    /// Messages waiting to be received.
    pub approximate_number_of_messages: u64,
    /// Messages received and neither deleted nor visible again yet: in a function, or waiting
    /// out a retry delay.
    pub approximate_number_of_messages_not_visible: u64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Execution {
    pub name: String,
    pub execution_arn: String,
    pub status: String,
    pub start_date: Option<DateTime<Utc>>,
    pub stop_date: Option<DateTime<Utc>>,
    /// None while it runs.
    pub duration_seconds: Option<f64>,
    /// Where the gateway serves its report: for a succeeded execution only, the one kind sure
    /// to have stored it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
    /// The mailbox page's anchor of the email it sent (the report link, or the failure notice),
    /// once that email is in the mailbox.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Why it ended without a report, for an execution that failed, timed out or was aborted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
}

/// What DescribeExecution says of an execution that did not succeed (ListExecutions does not).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Failure {
    pub error: Option<String>,
    pub cause: Option<String>,
    /// Why DescribeExecution could not say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown_because: Option<String>,
}

/// The stream as the page shows it: the mapping's own summary, and whether anything waits.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamView {
    #[serde(flatten)]
    pub summary: StreamSummary,
    /// No open shard has a record handed over and not finished. The summary's `lagSeconds`
    /// then only measures how long ago the last order came (`lagFrom: lastFinished`).
    pub caught_up: bool,
    /// How long the oldest record not finished has waited, the stream's real lag; None when
    /// caught up.
    pub waiting_seconds: Option<f64>,
}

impl StreamView {
    pub fn new(summary: StreamSummary) -> Self {
        let waiting_seconds = summary
            .shards
            .iter()
            .filter(|shard| !shard.closed && shard.lag_from == Some(LagFrom::OldestUnfinished))
            .filter_map(|shard| shard.lag_seconds)
            .max_by(f64::total_cmp);
        Self {
            caught_up: waiting_seconds.is_none(),
            waiting_seconds,
            summary,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Metrics {
    /// The log they were summed from, since it began.
    pub file: String,
    #[serde(serialize_with = "whole_numbers_as_integers")]
    pub functions: MetricTotals,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OpsReport {
    /// By queue name, in the order watched.
    #[serde(serialize_with = "as_map")]
    pub queues: Vec<(String, QueueView)>,
    pub stream: StreamView,
    pub executions: Section<Vec<Execution>>,
    pub metrics: Section<Metrics>,
    pub generated_at: DateTime<Utc>,
}

/// The most executions shown, newest first.
const EXECUTIONS_SHOWN: i32 = 10;

/// Gathers every section at once; the executions' emails are looked for in `mailbox_file`.
pub async fn gather(
    aws: &Aws,
    state_machine_arn: &str,
    watched: &Watched,
    mailbox_file: &Path,
) -> OpsReport {
    let (queues, executions, metrics) = tokio::join!(
        queue_depths(aws, &watched.queues),
        executions(aws, state_machine_arn),
        metrics(&watched.functions_log)
    );
    let executions = match executions {
        Section::Shown(mut executions) => {
            // Without the mailbox the executions are still worth showing, without email links.
            let letters = mailbox::read(mailbox_file).unwrap_or_default();
            for execution in &mut executions {
                execution.email = email_of(&letters, &execution.name);
            }
            Section::Shown(executions)
        }
        failed => failed,
    };
    let generated_at = Utc::now();
    OpsReport {
        queues,
        stream: StreamView::new(summarize(&watched.stream_position.shards(), generated_at)),
        executions,
        metrics,
        generated_at,
    }
}

async fn queue_depths(aws: &Aws, queues: &[WatchedQueue]) -> Vec<(String, QueueView)> {
    let mut views = Vec::new();
    for queue in queues {
        let depth = queue_depth(aws, &queue.url).await;
        let holds_a_message = matches!(&depth, Section::Shown(depth)
            if depth.approximate_number_of_messages + depth.approximate_number_of_messages_not_visible > 0);
        let view = QueueView {
            kind: queue.kind,
            needs_action: queue.kind.remedy().filter(|_| holds_a_message),
            depth,
        };
        views.push((queue.name.clone(), view));
    }
    views
}

async fn queue_depth(aws: &Aws, url: &str) -> Section<QueueDepth> {
    let answer = aws
        .sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await;
    let attributes = match answer {
        Ok(answer) => answer.attributes.unwrap_or_default(),
        Err(e) => {
            return Section::Failed {
                error: format!("GetQueueAttributes failed: {}", aws_error_text(&e)),
            };
        }
    };
    let count = |name: QueueAttributeName| {
        attributes
            .get(&name)
            .and_then(|value| value.parse::<u64>().ok())
            .ok_or_else(|| format!("GetQueueAttributes gave no number for {}", name.as_str()))
    };
    match (
        count(QueueAttributeName::ApproximateNumberOfMessages),
        count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
    ) {
        (Ok(visible), Ok(not_visible)) => Section::Shown(QueueDepth {
            approximate_number_of_messages: visible,
            approximate_number_of_messages_not_visible: not_visible,
        }),
        (Err(error), _) | (_, Err(error)) => Section::Failed { error },
    }
}

async fn executions(aws: &Aws, state_machine_arn: &str) -> Section<Vec<Execution>> {
    let listed = aws
        .sfn
        .list_executions()
        .state_machine_arn(state_machine_arn)
        .max_results(EXECUTIONS_SHOWN)
        .send()
        .await;
    let listed = match listed {
        Ok(listed) => listed,
        Err(e) => {
            return Section::Failed {
                error: format!("ListExecutions failed: {}", aws_error_text(&e)),
            };
        }
    };
    let time = |t: &aws_sdk_sfn::primitives::DateTime| {
        DateTime::from_timestamp(t.secs(), t.subsec_nanos())
    };
    let mut executions: Vec<Execution> = listed
        .executions()
        .iter()
        .map(|execution| {
            let start_date = time(execution.start_date());
            let stop_date = execution.stop_date().and_then(time);
            let duration_seconds = match (start_date, stop_date) {
                (Some(start), Some(stop)) => Some((stop - start).num_milliseconds() as f64 / 1e3),
                _ => None,
            };
            Execution {
                name: execution.name().to_owned(),
                execution_arn: execution.execution_arn().to_owned(),
                status: execution.status().as_str().to_owned(),
                start_date,
                stop_date,
                duration_seconds,
                report: (execution.status() == &ExecutionStatus::Succeeded)
                    .then(|| report_path(execution.name()))
                    .flatten(),
                email: None,
                failure: None,
            }
        })
        .collect();
    // Step Functions lists the newest first; an emulator might not.
    executions.sort_by_key(|execution| std::cmp::Reverse(execution.start_date));
    // One DescribeExecution per unsuccessful execution shown: at most EXECUTIONS_SHOWN calls.
    for execution in &mut executions {
        if matches!(
            execution.status.as_str(),
            "FAILED" | "TIMED_OUT" | "ABORTED"
        ) {
            execution.failure = Some(failure(aws, &execution.execution_arn).await);
        }
    }
    Section::Shown(executions)
}

async fn failure(aws: &Aws, execution_arn: &str) -> Failure {
    match aws
        .sfn
        .describe_execution()
        .execution_arn(execution_arn)
        .send()
        .await
    {
        Ok(described) => Failure {
            error: described.error().map(str::to_owned),
            cause: described.cause().map(str::to_owned),
            unknown_because: None,
        },
        Err(e) => Failure {
            unknown_because: Some(format!("DescribeExecution failed: {}", aws_error_text(&e))),
            ..Failure::default()
        },
    }
}

/// The gateway's path to the report of the execution `name` (`GET /reports/<name>.html`),
/// percent-encoded; None for a name no execution can have.
pub fn report_path(name: &str) -> Option<String> {
    if !is_execution_name(name) {
        return None;
    }
    let mut path = String::from("/reports/");
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            path.push(char::from(byte));
        } else {
            path.push_str(&format!("%{byte:02X}"));
        }
    }
    path.push_str(".html");
    Some(path)
}

/// The mailbox page's link to the newest email that names the execution `name` (in its subject
/// or body: the report email's link holds `reports/<name>.html`, the failure notice names it as
/// its reference).
pub fn email_of(letters: &[Letter], name: &str) -> Option<String> {
    letters
        .iter()
        .enumerate()
        .rev()
        .find(|(_, letter)| names(&letter.subject, name) || names(&letter.body, name))
        .map(|(index, letter)| format!("/mailbox#{}", mailbox::anchor(index + 1, letter)))
}

/// Whether `text` holds `name` as a whole word: not inside a longer name (`ab` is not named by
/// `cab-1`), followed by an end, a space, punctuation, or the `.html` of a report's key.
fn names(text: &str, name: &str) -> bool {
    let part_of_a_name = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    !name.is_empty()
        && text.match_indices(name).any(|(at, _)| {
            let before = text[..at].chars().next_back();
            let after = &text[at + name.len()..];
            let mut rest = after.chars();
            let ends_here = match rest.next() {
                None => true,
                Some('.') => after.starts_with(".html") || !rest.next().is_some_and(part_of_a_name),
                Some(c) => !part_of_a_name(c),
            };
            !before.is_some_and(part_of_a_name) && ends_here
        })
}

async fn metrics(log: &FunctionsLog) -> Section<Metrics> {
    let log = log.clone();
    let file = log.path().display().to_string();
    match tokio::task::spawn_blocking(move || log.totals()).await {
        Ok(Ok(functions)) => Section::Shown(Metrics { file, functions }),
        Ok(Err(error)) => Section::Failed {
            error: format!("cannot read the functions' log: {error}"),
        },
        Err(e) => Section::Failed {
            error: format!("reading the functions' log stopped: {e}"),
        },
    }
}

fn as_map<S: Serializer, V: Serialize>(
    entries: &[(String, V)],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_map(entries.iter().map(|(key, value)| (key, value)))
}

/// Counts are whole numbers: `3`, not `3.0`.
fn whole_numbers_as_integers<S: Serializer>(
    totals: &MetricTotals,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let numbers: BTreeMap<&String, BTreeMap<&String, serde_json::Value>> = totals
        .iter()
        .map(|(function, metrics)| {
            let metrics = metrics
                .iter()
                .map(|(metric, &sum)| (metric, number(sum)))
                .collect();
            (function, metrics)
        })
        .collect();
    numbers.serialize(serializer)
}

fn number(sum: f64) -> serde_json::Value {
    if sum.fract() == 0.0 && (0.0..9.0e15).contains(&sum) {
        serde_json::Value::from(sum as u64)
    } else {
        serde_json::Value::from(sum)
    }
}

fn when(time: Option<DateTime<Utc>>) -> String {
    time.map_or_else(
        || "—".to_owned(),
        |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

fn seconds(seconds: Option<f64>) -> String {
    seconds.map_or_else(|| "—".to_owned(), |s| format!("{s:.1} s"))
}

/// The page (`templates/ops.html`, escaped by askama): four sections, each a card per thing. On a
/// desktop the functions' metrics sit beside the queues, so both are in the first screen, and the
/// executions beside the stream below them; on a phone everything is one column. It reloads
/// itself every 5 s; no script, nothing fetched from elsewhere.
#[derive(Template)]
#[template(path = "ops.html", escape = "named")]
struct OpsPage {
    generated: String,
    sections: Vec<SectionView>,
}

#[derive(Default)]
struct SectionView {
    /// Its element id, for links and for the browser check.
    id: &'static str,
    heading: &'static str,
    meta: Option<String>,
    /// Why the section could not be gathered; nothing else is shown then.
    failed: Option<String>,
    /// What to say when there are no cards.
    empty: Option<&'static str>,
    cards: Vec<Card>,
}

#[derive(Default)]
struct Card {
    title: String,
    /// How it looks: `calm` (nothing to do), `needs-action`, or plain.
    look: &'static str,
    /// A word or two on its state, and that state's class (its colour).
    status: Option<(String, &'static str)>,
    failed: Option<String>,
    rows: Vec<(String, String)>,
    /// What an operator should do, the verbs marked as code.
    action: Vec<Piece>,
    /// A longer text below the rows: a failure's cause.
    detail: Option<String>,
    /// Links to pages about it: (what, where).
    links: Vec<(&'static str, String)>,
    note: Option<&'static str>,
}

/// A run of an action's text: a command to type, or words.
struct Piece {
    text: String,
    command: bool,
}

/// `text` with each `make <verb>` as a command of its own.
fn commands(text: &str) -> Vec<Piece> {
    let mut pieces: Vec<Piece> = Vec::new();
    let mut words = text.split(' ').peekable();
    while let Some(word) = words.next() {
        let separator = if words.peek().is_some() { " " } else { "" };
        if word == "make"
            && let Some(verb) = words.next_if(|verb| !verb.is_empty())
        {
            pieces.push(Piece {
                text: format!("make {verb}"),
                command: true,
            });
            let separator = if words.peek().is_some() { " " } else { "" };
            pieces.push(Piece {
                text: separator.to_owned(),
                command: false,
            });
            continue;
        }
        match pieces.last_mut() {
            Some(last) if !last.command => last.text.push_str(&format!("{word}{separator}")),
            _ => pieces.push(Piece {
                text: format!("{word}{separator}"),
                command: false,
            }),
        }
    }
    pieces
}

pub fn html(report: &OpsReport) -> String {
    OpsPage {
        generated: when(Some(report.generated_at)),
        sections: vec![
            queues_section(&report.queues),
            stream_section(&report.stream),
            metrics_section(&report.metrics),
            executions_section(&report.executions),
        ],
    }
    .render()
    .unwrap_or_else(|e| format!("the ops page could not be rendered: {e}"))
}

fn queues_section(queues: &[(String, QueueView)]) -> SectionView {
    let cards = queues
        .iter()
        .map(|(name, queue)| match &queue.depth {
            Section::Shown(depth) => {
                let (look, status) = match (queue.kind, queue.needs_action) {
                    (QueueKind::Work, _) => ("", None),
                    (_, Some(_)) => ("needs-action", Some(("needs action".into(), "warn"))),
                    (_, None) => ("calm", Some(("nothing parked".into(), "ok"))),
                };
                Card {
                    title: name.clone(),
                    look,
                    status,
                    rows: vec![
                        (
                            "waiting".into(),
                            depth.approximate_number_of_messages.to_string(),
                        ),
                        (
                            "in flight".into(),
                            depth.approximate_number_of_messages_not_visible.to_string(),
                        ),
                    ],
                    action: queue.needs_action.map(commands).unwrap_or_default(),
                    ..Card::default()
                }
            }
            Section::Failed { error } => Card {
                title: name.clone(),
                failed: Some(error.clone()),
                ..Card::default()
            },
        })
        .collect();
    SectionView {
        id: "queues",
        heading: "Queues",
        cards,
        ..SectionView::default()
    }
}

fn stream_section(stream: &StreamView) -> SectionView {
    let summary = &stream.summary;
    let cards = summary
        .shards
        .iter()
        .map(|shard| {
            let waiting = !shard.closed && shard.lag_from == Some(LagFrom::OldestUnfinished);
            let status = if shard.closed {
                ("closed: read to its end".to_owned(), "ok")
            } else if waiting {
                (format!("behind {}", seconds(shard.lag_seconds)), "busy")
            } else {
                ("caught up".to_owned(), "ok")
            };
            Card {
                title: shard.shard_id.clone(),
                look: if waiting { "" } else { "calm" },
                status: Some(status),
                rows: vec![
                    (
                        "checkpoint".into(),
                        shard.checkpoint.clone().unwrap_or_else(|| "—".to_owned()),
                    ),
                    ("handed over".into(), shard.records_handed_over.to_string()),
                    ("parked".into(), shard.parked.to_string()),
                    (
                        "last finished written".into(),
                        when(shard.last_finished_created_at),
                    ),
                ],
                note: waiting.then_some("behind: since the oldest record not finished was written"),
                ..Card::default()
            }
        })
        .collect();
    let position = match stream.waiting_seconds {
        Some(waiting) => format!("behind {}", seconds(Some(waiting))),
        None => "caught up".to_owned(),
    };
    SectionView {
        id: "stream",
        heading: "Order stream",
        meta: Some(format!(
            "{} records handed to the notifier, {} parked on the failure queue; {position}",
            summary.records_handed_over, summary.parked,
        )),
        empty: summary
            .shards
            .is_empty()
            .then_some("No stream record read yet."),
        cards,
        ..SectionView::default()
    }
}

fn executions_section(executions: &Section<Vec<Execution>>) -> SectionView {
    let mut view = SectionView {
        id: "executions",
        heading: "Report executions",
        ..SectionView::default()
    };
    match executions {
        Section::Failed { error } => view.failed = Some(error.clone()),
        Section::Shown(executions) => {
            view.empty = executions.is_empty().then_some("No report requested yet.");
            view.cards = executions.iter().map(execution_card).collect();
        }
    }
    view
}

fn execution_card(execution: &Execution) -> Card {
    let look = match execution.status.as_str() {
        "SUCCEEDED" => "ok",
        "RUNNING" | "PENDING_REDRIVE" => "busy",
        _ => "warn",
    };
    let mut rows = vec![
        ("started".into(), when(execution.start_date)),
        ("stopped".into(), when(execution.stop_date)),
        ("took".into(), seconds(execution.duration_seconds)),
    ];
    let mut detail = None;
    if let Some(failure) = &execution.failure {
        match &failure.unknown_because {
            Some(why) => rows.push(("error".into(), why.clone())),
            None => {
                rows.push((
                    "error".into(),
                    failure.error.clone().unwrap_or_else(|| "—".to_owned()),
                ));
                detail = failure.cause.clone();
            }
        }
    }
    let mut links = Vec::new();
    if let Some(report) = &execution.report {
        links.push(("report", report.clone()));
    }
    if let Some(email) = &execution.email {
        links.push(("email", email.clone()));
    }
    let ended = execution.stop_date.is_some();
    Card {
        title: execution.name.clone(),
        status: Some((execution.status.clone(), look)),
        rows,
        detail,
        links,
        note: (ended && execution.email.is_none()).then_some("No email of it in the mailbox."),
        ..Card::default()
    }
}

fn metrics_section(metrics: &Section<Metrics>) -> SectionView {
    let mut view = SectionView {
        id: "metrics",
        heading: "Function metrics",
        ..SectionView::default()
    };
    match metrics {
        Section::Failed { error } => view.failed = Some(error.clone()),
        Section::Shown(metrics) => {
            view.meta = Some(format!("Sums since {} began", metrics.file));
            view.empty = metrics.functions.is_empty().then_some("No metrics yet.");
            view.cards = metrics
                .functions
                .iter()
                .map(|(function, sums)| Card {
                    title: function.clone(),
                    rows: sums
                        .iter()
                        .map(|(metric, &sum)| (metric.clone(), number(sum).to_string()))
                        .collect(),
                    ..Card::default()
                })
                .collect();
        }
    }
    view
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_remedies_are_in_the_words_cafe_ops_uses() {
        // cafe-ops says what to do with parked messages when `make destroy` refuses; the page says
        // the same. The page's first step for parked orders (look at them) comes before it.
        let cafe_ops = include_str!("../../../ops/src/parked.rs");
        for kind in [QueueKind::ParkedOrders, QueueKind::ParkedNotifications] {
            let remedy = kind.remedy().unwrap();
            let shared = remedy
                .split_once(", then ")
                .map_or(remedy, |(_, after)| after);
            assert!(
                cafe_ops.contains(&format!("\"{shared}\"")),
                "ops/src/parked.rs no longer says {shared:?}: make the two say the same"
            );
        }
        assert_eq!(QueueKind::Work.remedy(), None);
    }

    #[test]
    fn an_execution_is_named_only_as_a_whole_word() {
        assert!(names("Reference: abc-1.", "abc-1"));
        assert!(names("http://h/b/reports/abc-1.html?X=1", "abc-1"));
        assert!(names("abc-1", "abc-1"));
        assert!(!names("Reference: abc-10.", "abc-1"));
        assert!(!names("xabc-1", "abc-1"));
        assert!(!names("abc-1.5", "abc-1"));
        assert!(!names("anything", ""));
    }

    #[test]
    fn report_paths_are_percent_encoded_and_only_for_execution_names() {
        assert_eq!(report_path("a-1").as_deref(), Some("/reports/a-1.html"));
        assert_eq!(
            report_path("café(1)").as_deref(),
            Some("/reports/caf%C3%A9%281%29.html")
        );
        assert_eq!(report_path("../x"), None);
        assert_eq!(report_path(""), None);
    }

    #[test]
    fn make_verbs_become_commands() {
        let pieces = commands("make a to see, then make b-c once (x)");
        let shown: Vec<(&str, bool)> = pieces
            .iter()
            .map(|p| (p.text.as_str(), p.command))
            .collect();
        assert_eq!(
            shown,
            [
                ("make a", true),
                (" to see, then ", false),
                ("make b-c", true),
                (" once (x)", false)
            ]
        );
    }

    #[test]
    fn sums_are_integers_when_whole() {
        assert_eq!(number(3.0).to_string(), "3");
        assert_eq!(number(2.5).to_string(), "2.5");
    }
}
