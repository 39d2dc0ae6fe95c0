//! `GET /ops`, for the local stack only: what an operator of the deployed stack would read on its
//! dashboard. The queues' depths, where the stream mapping is, the last report executions and the
//! functions' metric sums, as JSON or as a page that refreshes itself. Each section is gathered on
//! its own: one that fails says why and the others are still shown.

use std::collections::BTreeMap;

use askama::Template;
use aws_sdk_sqs::types::QueueAttributeName;
use cafe_shared::error::aws_error_text;
use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use crate::Aws;
use crate::mappings::position::{LagFrom, StreamPosition, StreamSummary, summarize};
use crate::metrics_log::{FunctionsLog, MetricTotals};

/// A queue the page shows the depth of.
#[derive(Debug, Clone)]
pub struct WatchedQueue {
    pub name: String,
    pub url: String,
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
    pub queues: Vec<(String, Section<QueueDepth>)>,
    pub stream: StreamSummary,
    pub executions: Section<Vec<Execution>>,
    pub metrics: Section<Metrics>,
    pub generated_at: DateTime<Utc>,
}

/// The most executions shown, newest first.
const EXECUTIONS_SHOWN: i32 = 10;

/// Gathers every section at once.
pub async fn gather(aws: &Aws, state_machine_arn: &str, watched: &Watched) -> OpsReport {
    let (queues, executions, metrics) = tokio::join!(
        queue_depths(aws, &watched.queues),
        executions(aws, state_machine_arn),
        metrics(&watched.functions_log)
    );
    let generated_at = Utc::now();
    OpsReport {
        queues,
        stream: summarize(&watched.stream_position.shards(), generated_at),
        executions,
        metrics,
        generated_at,
    }
}

async fn queue_depths(aws: &Aws, queues: &[WatchedQueue]) -> Vec<(String, Section<QueueDepth>)> {
    let mut depths = Vec::new();
    for queue in queues {
        depths.push((queue.name.clone(), queue_depth(aws, &queue.url).await));
    }
    depths
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
            }
        })
        .collect();
    // Step Functions lists the newest first; an emulator might not.
    executions.sort_by_key(|execution| std::cmp::Reverse(execution.start_date));
    Section::Shown(executions)
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

/// The page (`templates/ops.html`, escaped by askama): four sections, each a card per thing,
/// which stack on a phone and sit side by side on a desktop. It reloads itself every 5 s; no
/// script, nothing fetched from elsewhere.
#[derive(Template)]
#[template(path = "ops.html", escape = "named")]
struct OpsPage {
    generated: String,
    sections: Vec<SectionView>,
}

#[derive(Default)]
struct SectionView {
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
    status: Option<String>,
    failed: Option<String>,
    rows: Vec<(String, String)>,
    note: Option<&'static str>,
}

pub fn html(report: &OpsReport) -> String {
    OpsPage {
        generated: when(Some(report.generated_at)),
        sections: vec![
            queues_section(&report.queues),
            stream_section(&report.stream),
            executions_section(&report.executions),
            metrics_section(&report.metrics),
        ],
    }
    .render()
    .unwrap_or_else(|e| format!("the ops page could not be rendered: {e}"))
}

fn queues_section(queues: &[(String, Section<QueueDepth>)]) -> SectionView {
    let cards = queues
        .iter()
        .map(|(name, depth)| match depth {
            Section::Shown(depth) => Card {
                title: name.clone(),
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
                ..Card::default()
            },
            Section::Failed { error } => Card {
                title: name.clone(),
                failed: Some(error.clone()),
                ..Card::default()
            },
        })
        .collect();
    SectionView {
        heading: "Queues",
        cards,
        ..SectionView::default()
    }
}

fn stream_section(stream: &StreamSummary) -> SectionView {
    let cards = stream
        .shards
        .iter()
        .map(|shard| Card {
            title: format!(
                "{}{}",
                shard.shard_id,
                if shard.closed { " (closed)" } else { "" }
            ),
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
                ("lag".into(), seconds(shard.lag_seconds)),
            ],
            note: match shard.lag_from {
                Some(LagFrom::OldestUnfinished) => {
                    Some("lag: since the oldest record not finished was written")
                }
                Some(LagFrom::LastFinished) => {
                    Some("lag: nothing waiting; since the last record finished was written")
                }
                None => None,
            },
            ..Card::default()
        })
        .collect();
    SectionView {
        heading: "Order stream",
        meta: Some(format!(
            "{} records handed to the notifier, {} parked on the failure queue, lag {}",
            stream.records_handed_over,
            stream.parked,
            seconds(stream.lag_seconds),
        )),
        empty: stream
            .shards
            .is_empty()
            .then_some("No stream record read yet."),
        cards,
        ..SectionView::default()
    }
}

fn executions_section(executions: &Section<Vec<Execution>>) -> SectionView {
    let mut view = SectionView {
        heading: "Report executions",
        ..SectionView::default()
    };
    match executions {
        Section::Failed { error } => view.failed = Some(error.clone()),
        Section::Shown(executions) => {
            view.empty = executions.is_empty().then_some("No report requested yet.");
            view.cards = executions
                .iter()
                .map(|execution| Card {
                    title: execution.name.clone(),
                    status: Some(execution.status.clone()),
                    rows: vec![
                        ("started".into(), when(execution.start_date)),
                        ("stopped".into(), when(execution.stop_date)),
                        ("took".into(), seconds(execution.duration_seconds)),
                    ],
                    ..Card::default()
                })
                .collect();
        }
    }
    view
}

fn metrics_section(metrics: &Section<Metrics>) -> SectionView {
    let mut view = SectionView {
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
    fn sums_are_integers_when_whole() {
        assert_eq!(number(3.0).to_string(), "3");
        assert_eq!(number(2.5).to_string(), "2.5");
    }
}
