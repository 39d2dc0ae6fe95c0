//! What the local stack's emulator created, as its ready file (`.local/emulator.json`) lists it:
//! `local/resources.py` reads it all from template.yaml, `local/emulator/provision.py` creates it
//! and fills in the URLs and ARNs. The gateway wires its event-source mappings and its API from
//! this, and the stack's tests find the queues, table and bucket by it, so no name is written
//! down twice.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::anyhow;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resources {
    pub region: String,
    /// Every function, in the template's order.
    pub functions: Vec<String>,
    pub orders_queue: Queue,
    pub orders_dead_letter_queue: Queue,
    /// Where the stream's event-source mapping describes the records it gave up on.
    pub notifier_failures_queue: Queue,
    pub orders_table: Table,
    /// Topic name → topic.
    pub topics: BTreeMap<String, Topic>,
    pub reports_bucket: String,
    pub state_machine: StateMachine,
    /// The orders queue's event source.
    pub sqs_mapping: Mapping,
    /// The orders table stream's event source.
    pub stream_mapping: Mapping,
    /// The functions' environment variables that name a resource, with its local name or ARN,
    /// and those the template sets to a literal.
    pub environment: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Queue {
    pub name: String,
    pub url: String,
    pub arn: String,
    /// Receives before a message moves to the dead-letter queue (the orders queue only).
    pub max_receive_count: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Table {
    pub name: String,
    pub stream_arn: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Topic {
    pub arn: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StateMachine {
    pub name: String,
    pub arn: String,
}

/// One event-source mapping, as the template configures it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mapping {
    /// The function it invokes.
    pub function: String,
    pub batch_size: u32,
    /// Retries of a failing batch before its failing record is parked (streams only).
    pub max_retries: Option<u32>,
}

impl Resources {
    /// Reads the emulator's ready file.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            anyhow!(
                "cannot read {} ({e}): is the local emulator running?",
                path.display()
            )
        })?;
        serde_json::from_str(&text).map_err(|e| anyhow!("{}: {e}", path.display()))
    }
}

impl Resources {
    /// The name of the topic a function's environment variable (`ORDER_TOPIC_ARN`,
    /// `REPORT_TOPIC_ARN`) points at: what the mailbox lists as a letter's topic.
    pub fn topic_of(&self, variable: &str) -> &str {
        let arn = self
            .environment
            .get(variable)
            .unwrap_or_else(|| panic!("no function reads a topic from {variable}"));
        arn.rsplit(':').next().unwrap_or(arn)
    }
}
