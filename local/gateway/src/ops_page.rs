//! `GET /ops`, for the local stack only: what an operator of the deployed stack would read on its
//! dashboard. The queues' depths, where the stream mapping is, the last report executions and the
//! functions' metric sums, as JSON or as a page that refreshes itself. Each section is gathered on
//! its own: one that fails says why and the others are still shown.

use std::collections::BTreeMap;

use aws_sdk_sqs::types::QueueAttributeName;
use cafe_shared::error::aws_error_text;
use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use crate::Aws;
use crate::mailbox::escape;
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

fn failed(error: &str) -> String {
    format!("<p class=\"failed\">{}</p>", escape(error))
}

/// The page: four sections, each a card per thing, which stack on a phone and sit side by side
/// on a desktop. It reloads itself every 5 s; no script, nothing fetched from elsewhere.
pub fn html(report: &OpsReport) -> String {
    let mut page = String::from(concat!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        "<meta http-equiv=\"refresh\" content=\"5\">",
        "<title>Café ops</title><style>",
        "body{margin:0;font:16px/1.5 system-ui,sans-serif;background:#fbf7f2;color:#2b1d14}",
        "header{background:#8a4b2a;color:#fff;padding:1rem}h1{margin:0;font-size:1.4rem}",
        "header p{margin:0;font-size:.85rem}",
        "main{max-width:72rem;margin:0 auto;padding:1rem}",
        "h2{font-size:1.15rem;margin:1.2rem 0 .5rem}",
        // As wide as a sequence number and a date side by side, or the whole width of a phone.
        ".cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(20rem,100%),1fr));gap:.75rem}",
        ".card{background:#fff;border:1px solid #eadfd3;border-radius:.5rem;padding:.75rem}",
        ".card p{margin:.25rem 0}",
        "h3{margin:0 0 .25rem;font-size:1rem;overflow-wrap:anywhere}",
        "table{border-collapse:collapse;width:100%}",
        "td,th{padding:.1rem 0;text-align:left;vertical-align:top;overflow-wrap:anywhere}",
        "td.n{text-align:right;font-variant-numeric:tabular-nums;padding-left:.5rem}",
        "th{font-weight:normal;color:#7a6a5d}",
        ".meta{color:#7a6a5d;font-size:.85rem;margin:.25rem 0}",
        ".failed{background:#fde8e4;border:1px solid #e7b1a6;border-radius:.5rem;padding:.5rem .75rem;",
        "overflow-wrap:anywhere}",
        ".SUCCEEDED{color:#1d6b35}.FAILED,.TIMED_OUT,.ABORTED{color:#a3271a}.RUNNING{color:#8a4b2a}",
        "</style></head><body><header><h1>Café ops</h1>",
    ));
    page.push_str(&format!(
        "<p>{} · refreshes every 5 s</p></header><main>",
        escape(&when(Some(report.generated_at)))
    ));
    queues_html(&mut page, &report.queues);
    stream_html(&mut page, &report.stream);
    executions_html(&mut page, &report.executions);
    metrics_html(&mut page, &report.metrics);
    page.push_str("</main></body></html>");
    page
}

fn row(label: &str, value: &str) -> String {
    format!(
        "<tr><th>{}</th><td class=\"n\">{}</td></tr>",
        escape(label),
        escape(value)
    )
}

fn queues_html(page: &mut String, queues: &[(String, Section<QueueDepth>)]) {
    page.push_str("<section><h2>Queues</h2><div class=\"cards\">");
    for (name, depth) in queues {
        page.push_str(&format!("<div class=\"card\"><h3>{}</h3>", escape(name)));
        match depth {
            Section::Shown(depth) => page.push_str(&format!(
                "<table>{}{}</table>",
                row("waiting", &depth.approximate_number_of_messages.to_string()),
                row(
                    "in flight",
                    &depth.approximate_number_of_messages_not_visible.to_string()
                ),
            )),
            Section::Failed { error } => page.push_str(&failed(error)),
        }
        page.push_str("</div>");
    }
    page.push_str("</div></section>");
}

fn stream_html(page: &mut String, stream: &StreamSummary) {
    page.push_str("<section><h2>Order stream</h2>");
    page.push_str(&format!(
        "<p class=\"meta\">{} records handed to the notifier, {} parked on the failure queue, lag {}</p>",
        stream.records_handed_over,
        stream.parked,
        escape(&seconds(stream.lag_seconds)),
    ));
    if stream.shards.is_empty() {
        page.push_str("<p>No stream record read yet.</p>");
    }
    page.push_str("<div class=\"cards\">");
    for shard in &stream.shards {
        let lag_from = match shard.lag_from {
            Some(LagFrom::OldestUnfinished) => {
                "lag: since the oldest record not finished was written"
            }
            Some(LagFrom::LastFinished) => {
                "lag: nothing waiting; since the last record finished was written"
            }
            None => "",
        };
        page.push_str(&format!(
            "<div class=\"card\"><h3>{}{}</h3><table>{}{}{}{}{}</table><p class=\"meta\">{lag_from}</p></div>",
            escape(&shard.shard_id),
            if shard.closed { " (closed)" } else { "" },
            row("checkpoint", shard.checkpoint.as_deref().unwrap_or("—")),
            row("handed over", &shard.records_handed_over.to_string()),
            row("parked", &shard.parked.to_string()),
            row(
                "last finished written",
                &when(shard.last_finished_created_at)
            ),
            row("lag", &seconds(shard.lag_seconds)),
        ));
    }
    page.push_str("</div></section>");
}

fn executions_html(page: &mut String, executions: &Section<Vec<Execution>>) {
    page.push_str("<section><h2>Report executions</h2>");
    match executions {
        Section::Failed { error } => page.push_str(&failed(error)),
        Section::Shown(executions) if executions.is_empty() => {
            page.push_str("<p>No report requested yet.</p>")
        }
        Section::Shown(executions) => {
            page.push_str("<div class=\"cards\">");
            for execution in executions {
                let status = escape(&execution.status);
                page.push_str(&format!(
                    "<div class=\"card\"><h3>{}</h3><p class=\"{status}\">{status}</p><table>{}{}{}</table></div>",
                    escape(&execution.name),
                    row("started", &when(execution.start_date)),
                    row("stopped", &when(execution.stop_date)),
                    row("took", &seconds(execution.duration_seconds)),
                ));
            }
            page.push_str("</div>");
        }
    }
    page.push_str("</section>");
}

fn metrics_html(page: &mut String, metrics: &Section<Metrics>) {
    page.push_str("<section><h2>Function metrics</h2>");
    match metrics {
        Section::Failed { error } => page.push_str(&failed(error)),
        Section::Shown(metrics) => {
            page.push_str(&format!(
                "<p class=\"meta\">Sums since {} began</p>",
                escape(&metrics.file)
            ));
            if metrics.functions.is_empty() {
                page.push_str("<p>No metrics yet.</p>");
            }
            page.push_str("<div class=\"cards\">");
            for (function, sums) in &metrics.functions {
                page.push_str(&format!(
                    "<div class=\"card\"><h3>{}</h3><table>",
                    escape(function)
                ));
                for (metric, &sum) in sums {
                    page.push_str(&row(metric, &number(sum).to_string()));
                }
                page.push_str("</table></div>");
            }
            page.push_str("</div>");
        }
    }
    page.push_str("</section>");
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
