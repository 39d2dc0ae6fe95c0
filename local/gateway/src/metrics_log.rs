//! The functions' metrics as the local stack has them: the CloudWatch Embedded Metric Format
//! documents (`cafe_shared::metrics`) the functions write to stdout, which the stack collects in
//! the functions' log among their other lines. Summed per function and metric, as CloudWatch
//! would sum them; the log is read on from where the last read stopped, since it only grows and
//! can be large.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use cafe_shared::metrics::{FUNCTION_DIMENSION, NAMESPACE};
use serde_json::Value;

/// Each metric's sum, by function, then metric name.
pub type MetricTotals = BTreeMap<String, BTreeMap<String, f64>>;

/// One metric value of one EMF document.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricValue {
    pub function: String,
    pub metric: String,
    pub value: f64,
}

/// The values of the metrics a line declares in the café's namespace, if it is an EMF document
/// naming its function; nothing for any other line (plain text, a JSON log line).
pub fn emf_values(line: &[u8]) -> Vec<MetricValue> {
    // Most lines are logs: skip them without parsing.
    if !contains(line, b"\"_aws\"") {
        return Vec::new();
    }
    let Ok(document) = serde_json::from_slice::<Value>(line) else {
        return Vec::new();
    };
    let Some(function) = document.get(FUNCTION_DIMENSION).and_then(Value::as_str) else {
        return Vec::new();
    };
    let directives = document["_aws"]["CloudWatchMetrics"].as_array();
    directives
        .into_iter()
        .flatten()
        .filter(|directive| directive["Namespace"] == NAMESPACE)
        .filter_map(|directive| directive["Metrics"].as_array())
        .flatten()
        .filter_map(|declared| declared["Name"].as_str())
        .filter_map(|metric| {
            // EMF allows a single value or an array of them.
            let value = match &document[metric] {
                Value::Array(values) => values.iter().filter_map(Value::as_f64).sum(),
                value => value.as_f64()?,
            };
            Some(MetricValue {
                function: function.to_owned(),
                metric: metric.to_owned(),
                value,
            })
        })
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// Adds the metrics of the complete lines of `text` to `totals` and returns the bytes those
/// lines take. A last line without its newline may still be being written: it is left for the
/// next read, which starts at the returned length.
pub fn add_complete_lines(text: &[u8], totals: &mut MetricTotals) -> usize {
    let mut complete = 0;
    for line in text.split_inclusive(|&b| b == b'\n') {
        if !line.ends_with(b"\n") {
            break;
        }
        complete += line.len();
        for value in emf_values(line) {
            *totals
                .entry(value.function)
                .or_default()
                .entry(value.metric)
                .or_default() += value.value;
        }
    }
    complete
}

/// The functions' log and what was summed from it so far. Cloning shares the sums.
#[derive(Debug, Clone)]
pub struct FunctionsLog {
    path: PathBuf,
    read: Arc<Mutex<ReadSoFar>>,
}

/// How far the log was read, and its sums up to there.
#[derive(Debug, Default)]
struct ReadSoFar {
    offset: u64,
    totals: MetricTotals,
}

/// How much of the log is read at a time: enough for many lines, little memory.
const CHUNK: usize = 1 << 20;

impl FunctionsLog {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            read: Arc::default(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads what was added to the log since the last call and returns the sums so far. No log
    /// yet is no metrics yet. Blocking: file IO.
    pub fn totals(&self) -> Result<MetricTotals, String> {
        let failed = |e: std::io::Error| format!("{}: {e}", self.path.display());
        let mut read = self.read.lock().unwrap_or_else(|e| e.into_inner());
        let mut file = match File::open(&self.path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(read.totals.clone()),
            Err(e) => return Err(failed(e)),
        };
        if file.metadata().map_err(failed)?.len() < read.offset {
            // Shorter than what was read: a new log. Count it from its start.
            *read = ReadSoFar::default();
        }
        file.seek(SeekFrom::Start(read.offset)).map_err(failed)?;
        let mut pending = Vec::new();
        loop {
            let filled = pending.len();
            pending.resize(filled + CHUNK, 0);
            let got = file.read(&mut pending[filled..]).map_err(failed)?;
            pending.truncate(filled + got);
            if got == 0 {
                break;
            }
            let ReadSoFar { offset, totals } = &mut *read;
            let complete = add_complete_lines(&pending, totals);
            *offset += complete as u64;
            pending.drain(..complete);
        }
        Ok(read.totals.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STORED: &str = r#"{"_aws":{"Timestamp":1800000000000,"CloudWatchMetrics":[{"Namespace":"Cafe","Dimensions":[["FunctionName"]],"Metrics":[{"Name":"OrdersStored","Unit":"Count"}]}]},"FunctionName":"order-writer","OrdersStored":3,"requestId":"r-1"}"#;
    const TWO_METRICS: &str = r#"{"_aws":{"Timestamp":1800000000000,"CloudWatchMetrics":[{"Namespace":"Cafe","Dimensions":[["FunctionName"]],"Metrics":[{"Name":"OrdersStored","Unit":"Count"},{"Name":"OrdersRefused","Unit":"Count"}]}]},"FunctionName":"order-writer","OrdersStored":2,"OrdersRefused":1}"#;

    fn value(function: &str, metric: &str, value: f64) -> MetricValue {
        MetricValue {
            function: function.into(),
            metric: metric.into(),
            value,
        }
    }

    #[test]
    fn an_emf_document_gives_its_metric_for_its_function() {
        assert_eq!(
            emf_values(STORED.as_bytes()),
            [value("order-writer", "OrdersStored", 3.0)]
        );
    }

    #[test]
    fn a_document_with_two_metrics_gives_both() {
        assert_eq!(
            emf_values(TWO_METRICS.as_bytes()),
            [
                value("order-writer", "OrdersStored", 2.0),
                value("order-writer", "OrdersRefused", 1.0)
            ]
        );
    }

    #[test]
    fn other_lines_give_nothing() {
        for line in [
            "   Compiling order-writer v0.1.0",
            r#"2026-12-02T01:26:32Z  INFO invoke{requestId="r"}: "_aws" in a log line"#,
            r#"{"timestamp":"2026-12-02T01:26:32Z","level":"INFO","fields":{"message":"order stored"}}"#,
            // Another namespace, and a document naming no function.
            &STORED.replace("\"Cafe\"", "\"Other\""),
            &STORED.replace("\"FunctionName\":\"order-writer\",", ""),
            "",
        ] {
            assert_eq!(emf_values(line.as_bytes()), [], "{line}");
        }
    }

    #[test]
    fn a_truncated_last_line_is_read_again_once_complete() {
        let log = format!("{STORED}\nnot json\n{TWO_METRICS}\n");
        let cut = log.len() - 20;
        let mut totals = MetricTotals::new();
        let complete = add_complete_lines(&log.as_bytes()[..cut], &mut totals);
        assert_eq!(complete, STORED.len() + "\nnot json\n".len());
        assert_eq!(totals["order-writer"]["OrdersStored"], 3.0);
        assert!(!totals["order-writer"].contains_key("OrdersRefused"));

        let rest = add_complete_lines(&log.as_bytes()[complete..], &mut totals);
        assert_eq!(complete + rest, log.len());
        assert_eq!(totals["order-writer"]["OrdersStored"], 5.0);
        assert_eq!(totals["order-writer"]["OrdersRefused"], 1.0);
    }

    #[test]
    fn the_log_is_read_on_from_where_it_was_left() {
        let path = std::env::temp_dir().join(format!(
            "cafe-gateway-metrics-log-{}.log",
            std::process::id()
        ));
        let log = FunctionsLog::new(path.clone());
        assert_eq!(log.totals(), Ok(MetricTotals::new()), "no log yet");

        let (line, half) = STORED.split_at(40);
        std::fs::write(&path, format!("INFO starting\n{STORED}\n{line}")).unwrap();
        assert_eq!(log.totals().unwrap()["order-writer"]["OrdersStored"], 3.0);
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        std::io::Write::write_all(&mut file, format!("{half}\n").as_bytes()).unwrap();
        assert_eq!(log.totals().unwrap()["order-writer"]["OrdersStored"], 6.0);

        // A new, shorter log is counted from its start.
        std::fs::write(&path, format!("{TWO_METRICS}\n")).unwrap();
        assert_eq!(log.totals().unwrap()["order-writer"]["OrdersStored"], 2.0);
        std::fs::remove_file(&path).unwrap();
    }
}
