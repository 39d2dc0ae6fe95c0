//! Where the stream mapping is in each shard, for the ops page to read: the mapping records what
//! it hands over and how each batch settles; `GET /ops` reads a copy and summarizes it. The
//! mapping's own decisions stay in `progress` (plain functions of its `Progress`); this only
//! watches them.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use aws_sdk_dynamodbstreams::types::Record;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::progress::{Parked, sequence_number, sequence_order};

/// What the ops page knows of one shard.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShardPosition {
    /// The mapping's checkpoint: the last sequence number finished or parked.
    pub checkpoint: Option<String>,
    /// Records handed to the function, retries included.
    pub records_handed_over: u64,
    /// Records given up on and described on the failure queue.
    pub parked: u64,
    /// Read to its end: its children are read now.
    pub closed: bool,
    /// When the last record at or before the checkpoint was written to the table.
    pub last_finished_created_at: Option<DateTime<Utc>>,
    /// When the oldest record handed over but not finished (in the function now, or waiting
    /// for a retry) was written. Only the batch in hand is known: records the mapping has not
    /// read yet are not counted, which on a mapping that polls every 200 ms is a short wait.
    pub oldest_unfinished_created_at: Option<DateTime<Utc>>,
}

/// The mapping's shards, shared between the mapping (which writes) and the ops page (which
/// reads). Cloning shares it.
#[derive(Debug, Clone, Default)]
pub struct StreamPosition(Arc<Mutex<BTreeMap<String, ShardPosition>>>);

impl StreamPosition {
    /// A copy of every shard's position, by shard id.
    pub fn shards(&self) -> BTreeMap<String, ShardPosition> {
        self.lock().clone()
    }

    /// The function is being handed `records` (in increasing order) from `shard`.
    pub fn handed_over(&self, shard: &str, records: &[Record]) {
        let mut shards = self.lock();
        let position = shards.entry(shard.to_owned()).or_default();
        position.records_handed_over += records.len() as u64;
        position.oldest_unfinished_created_at = records.iter().find_map(created_at);
    }

    /// The batch `records` from `shard` settled: the checkpoint is now `checkpoint`, and
    /// `parked` was given up on.
    pub fn settled(
        &self,
        shard: &str,
        checkpoint: Option<&str>,
        parked: Option<&Parked>,
        records: &[Record],
    ) {
        let is_finished = |record: &&Record| {
            let (Some(sequence), Some(checkpoint)) = (sequence_number(record), checkpoint) else {
                return false;
            };
            sequence_order(sequence, checkpoint).is_le()
        };
        let mut shards = self.lock();
        let position = shards.entry(shard.to_owned()).or_default();
        position.checkpoint = checkpoint.map(str::to_owned);
        position.parked += parked.map_or(0, |parked| parked.count as u64);
        if let Some(created) = records
            .iter()
            .rev()
            .filter(is_finished)
            .filter_map(created_at)
            .next()
        {
            position.last_finished_created_at = Some(created);
        }
        position.oldest_unfinished_created_at = records
            .iter()
            .filter(|record| !is_finished(record))
            .find_map(created_at);
    }

    /// `shard` was read to its end.
    pub fn closed(&self, shard: &str) {
        let mut shards = self.lock();
        let position = shards.entry(shard.to_owned()).or_default();
        position.closed = true;
        position.oldest_unfinished_created_at = None;
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, ShardPosition>> {
        // A panic while holding the lock leaves plain counters behind: still worth showing.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn created_at(record: &Record) -> Option<DateTime<Utc>> {
    let time = record.dynamodb()?.approximate_creation_date_time()?;
    DateTime::from_timestamp(time.secs(), time.subsec_nanos())
}

/// What a shard's lag is measured from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum LagFrom {
    /// A record is in the function or waiting for a retry: how long it has waited.
    OldestUnfinished,
    /// Nothing is waiting: the age of the last record finished, which grows while no orders
    /// come.
    LastFinished,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShardSummary {
    pub shard_id: String,
    pub checkpoint: Option<String>,
    pub records_handed_over: u64,
    pub parked: u64,
    pub closed: bool,
    pub last_finished_created_at: Option<DateTime<Utc>>,
    pub oldest_unfinished_created_at: Option<DateTime<Utc>>,
    /// Seconds from the record named by `lag_from` to now; none for a closed shard or one with
    /// no dated record.
    pub lag_seconds: Option<f64>,
    pub lag_from: Option<LagFrom>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamSummary {
    pub shards: Vec<ShardSummary>,
    pub records_handed_over: u64,
    pub parked: u64,
    /// The largest lag of an open shard.
    pub lag_seconds: Option<f64>,
}

/// Every shard's position as of `now`, with totals.
pub fn summarize(shards: &BTreeMap<String, ShardPosition>, now: DateTime<Utc>) -> StreamSummary {
    let seconds_to_now = |then: DateTime<Utc>| (now - then).num_milliseconds() as f64 / 1000.0;
    let shards: Vec<ShardSummary> = shards
        .iter()
        .map(|(id, position)| {
            let lag = match (
                position.oldest_unfinished_created_at,
                position.last_finished_created_at,
            ) {
                _ if position.closed => None,
                (Some(unfinished), _) => Some((LagFrom::OldestUnfinished, unfinished)),
                (None, Some(finished)) => Some((LagFrom::LastFinished, finished)),
                (None, None) => None,
            };
            ShardSummary {
                shard_id: id.clone(),
                checkpoint: position.checkpoint.clone(),
                records_handed_over: position.records_handed_over,
                parked: position.parked,
                closed: position.closed,
                last_finished_created_at: position.last_finished_created_at,
                oldest_unfinished_created_at: position.oldest_unfinished_created_at,
                lag_seconds: lag.map(|(_, then)| seconds_to_now(then)),
                lag_from: lag.map(|(from, _)| from),
            }
        })
        .collect();
    StreamSummary {
        records_handed_over: shards.iter().map(|s| s.records_handed_over).sum(),
        parked: shards.iter().map(|s| s.parked).sum(),
        lag_seconds: shards
            .iter()
            .filter_map(|s| s.lag_seconds)
            .max_by(f64::total_cmp),
        shards,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodbstreams::primitives::DateTime as AwsDateTime;
    use aws_sdk_dynamodbstreams::types::StreamRecord;

    const T0: i64 = 1_800_000_000;

    /// A record numbered `sequence`, written at `T0 + written` seconds.
    fn record(sequence: &str, written: i64) -> Record {
        Record::builder()
            .dynamodb(
                StreamRecord::builder()
                    .sequence_number(sequence)
                    .approximate_creation_date_time(AwsDateTime::from_secs(T0 + written))
                    .build(),
            )
            .build()
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(T0 + seconds, 0).unwrap()
    }

    #[test]
    fn a_batch_in_the_function_lags_from_its_first_record_and_a_finished_one_from_its_last() {
        let position = StreamPosition::default();
        let batch = [record("101", 0), record("102", 4), record("103", 5)];
        position.handed_over("shard-1", &batch);
        let summary = summarize(&position.shards(), at(10));
        let shard = &summary.shards[0];
        assert_eq!(shard.records_handed_over, 3);
        assert_eq!(shard.checkpoint, None);
        assert_eq!(
            (shard.lag_from, shard.lag_seconds),
            (Some(LagFrom::OldestUnfinished), Some(10.0))
        );

        position.settled("shard-1", Some("103"), None, &batch);
        let summary = summarize(&position.shards(), at(12));
        let shard = &summary.shards[0];
        assert_eq!(shard.checkpoint.as_deref(), Some("103"));
        assert_eq!(shard.last_finished_created_at, Some(at(5)));
        assert_eq!(shard.oldest_unfinished_created_at, None);
        assert_eq!(
            (shard.lag_from, shard.lag_seconds),
            (Some(LagFrom::LastFinished), Some(7.0))
        );
    }

    #[test]
    fn a_reported_failure_leaves_the_failed_record_unfinished_and_parking_counts() {
        let position = StreamPosition::default();
        let batch = [record("101", 0), record("102", 2), record("103", 3)];
        position.handed_over("shard-1", &batch);
        position.settled("shard-1", Some("101"), None, &batch);
        let shard = &position.shards()["shard-1"];
        assert_eq!(shard.last_finished_created_at, Some(at(0)));
        assert_eq!(shard.oldest_unfinished_created_at, Some(at(2)));

        // The retry hands over 102 and 103 again; 102 is parked at last.
        position.handed_over("shard-1", &batch[1..]);
        let parked = Parked {
            first: "102".into(),
            last: "102".into(),
            count: 1,
        };
        position.settled("shard-1", Some("102"), Some(&parked), &batch[1..]);
        let shard = &position.shards()["shard-1"];
        assert_eq!(shard.records_handed_over, 5);
        assert_eq!(shard.parked, 1);
        assert_eq!(shard.oldest_unfinished_created_at, Some(at(3)));
    }

    #[test]
    fn totals_add_the_shards_and_the_lag_is_the_largest_of_the_open_ones() {
        let position = StreamPosition::default();
        let old = [record("1", 0)];
        let new = [record("2", 50)];
        position.handed_over("parent", &old);
        position.settled("parent", Some("1"), None, &old);
        position.closed("parent");
        position.handed_over("child-a", &new);
        position.handed_over("child-b", &[record("3", 40), record("4", 45)]);
        let summary = summarize(&position.shards(), at(60));
        assert_eq!(summary.records_handed_over, 4);
        assert_eq!(summary.parked, 0);
        assert_eq!(
            summary.lag_seconds,
            Some(20.0),
            "child-b; the closed parent has none"
        );
        assert_eq!(summary.shards[2].shard_id, "parent");
        assert_eq!(summary.shards[2].lag_seconds, None);

        let empty = summarize(&BTreeMap::new(), at(0));
        assert!(empty.shards.is_empty() && empty.lag_seconds.is_none());
    }
}
