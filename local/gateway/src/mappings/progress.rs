//! Lambda's checkpointing for a stream mapping, as plain functions of a shard's progress and what
//! the stream and the function answered.

use std::cmp::Ordering;
use std::collections::HashSet;

use aws_lambda_events::event::streams::DynamoDbEventResponse;
use aws_sdk_dynamodbstreams::types::ShardIteratorType;

/// How far the function got in one shard, as Lambda keeps it for an event-source mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// The last sequence number whose batch the function finished (or that was parked): reading
    /// resumes after it, and nothing at or before it is handed over again. `None` until the
    /// first batch is finished: reading starts at the shard's start (TRIM_HORIZON).
    pub checkpoint: Option<String>,
    /// Failed attempts since the checkpoint last moved.
    pub attempts: u32,
    /// The most records the next batch may hold: halved by each failed invocation
    /// (`BisectBatchOnFunctionError`), whole again after a success.
    pub limit: usize,
    /// A whole batch: the mapping's batch size.
    pub batch_size: usize,
}

impl Progress {
    /// Nothing finished yet, batches of up to `batch_size` records.
    pub fn starting(batch_size: usize) -> Self {
        Self {
            checkpoint: None,
            attempts: 0,
            limit: batch_size,
            batch_size,
        }
    }
}

/// What the function made of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    /// Every record handled.
    Finished,
    /// This record failed (a partial batch response); those before it were handled.
    FailedAt(String),
    /// The invocation failed as a whole (a function error, or no answer).
    Failed,
}

/// Records given up on, to be described on the failure queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parked {
    pub first: String,
    pub last: String,
    pub count: usize,
}

/// A shard's progress after the function's answer to a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    pub progress: Progress,
    /// Records whose attempts ran out: parked, and the checkpoint moves past them.
    pub park: Option<Parked>,
    /// The batch failed and is read again after the checkpoint, after a pause.
    pub retry: bool,
}

/// The sequence number of a stream record.
pub fn sequence_number(record: &aws_sdk_dynamodbstreams::types::Record) -> Option<&str> {
    record.dynamodb()?.sequence_number()
}

/// Orders two sequence numbers. They are decimal strings of up to 40 digits (more than a u128
/// holds), so compared as numbers: by length once leading zeros are gone, then digit by digit.
pub fn sequence_order(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Whether `sequence` is at or before the checkpoint.
fn at_or_before(sequence: &str, checkpoint: Option<&str>) -> bool {
    checkpoint.is_some_and(|checkpoint| sequence_order(sequence, checkpoint) != Ordering::Greater)
}

/// Where reading a shard starts: after the checkpoint, or at the shard's start while nothing in
/// it was ever finished.
pub fn start_position(checkpoint: Option<&str>) -> (ShardIteratorType, Option<String>) {
    match checkpoint {
        Some(sequence) => (
            ShardIteratorType::AfterSequenceNumber,
            Some(sequence.to_owned()),
        ),
        None => (ShardIteratorType::TrimHorizon, None),
    }
}

/// The records of a page to hand to the function, and how many were left out.
#[derive(Debug)]
pub struct Handover {
    /// In increasing order, each after the checkpoint, at most the batch limit.
    pub records: Vec<aws_sdk_dynamodbstreams::types::Record>,
    /// At or before the checkpoint (or the record before them), or without a sequence number.
    pub skipped: usize,
}

/// What of a page goes to the function: the records after the checkpoint, in increasing order,
/// at most `limit`. A record at or before the checkpoint was finished or parked already, so it
/// is left out even when the stream returns it again (moto did: see local/emulator/).
pub fn hand_over(
    checkpoint: Option<&str>,
    records: &[aws_sdk_dynamodbstreams::types::Record],
    limit: usize,
) -> Handover {
    let mut handover = Handover {
        records: Vec::new(),
        skipped: 0,
    };
    let mut last = checkpoint;
    for record in records {
        match sequence_number(record) {
            Some(sequence) if !at_or_before(sequence, last) => {
                if handover.records.len() == limit {
                    break;
                }
                handover.records.push(record.clone());
                last = Some(sequence);
            }
            _ => handover.skipped += 1,
        }
    }
    handover
}

/// Whether every record of a page is at or before the checkpoint, so reading can go on from
/// the page's next iterator.
pub fn behind(
    checkpoint: Option<&str>,
    records: &[aws_sdk_dynamodbstreams::types::Record],
) -> bool {
    records
        .iter()
        .all(|r| sequence_number(r).is_none_or(|sequence| at_or_before(sequence, checkpoint)))
}

/// What a partial batch response says. Lambda retries from the lowest sequence number reported;
/// a report that names no record fails the whole batch.
pub fn reported(response: &DynamoDbEventResponse) -> Invocation {
    let mut failed: Option<&str> = None;
    for failure in &response.batch_item_failures {
        match failure.item_identifier.as_deref() {
            Some(sequence) if !sequence.is_empty() => {
                if failed.is_none_or(|f| sequence_order(sequence, f) == Ordering::Less) {
                    failed = Some(sequence);
                }
            }
            _ => return Invocation::Failed,
        }
    }
    failed.map_or(Invocation::Finished, |sequence| {
        Invocation::FailedAt(sequence.to_owned())
    })
}

/// A shard's progress after the function answered a batch (`sequences`: the batch's sequence
/// numbers, in order, not empty).
///
/// - Finished: the checkpoint moves to the batch's last record.
/// - A record reported failed: the checkpoint moves to the record before it, and the batch is
///   read again from it; once it has failed `max_retries + 1` times, it alone is parked.
/// - Failed as a whole (or a reported record not in the batch): the checkpoint stays and the
///   next batch holds half as many records; once attempts run out the batch is parked.
pub fn settle(
    progress: &Progress,
    sequences: &[String],
    outcome: Invocation,
    max_retries: u32,
) -> Settled {
    let (Some(first), Some(last)) = (sequences.first(), sequences.last()) else {
        return Settled {
            progress: progress.clone(),
            park: None,
            retry: false,
        };
    };
    let passed = |checkpoint: &str, park: Option<Parked>| Settled {
        progress: Progress {
            checkpoint: Some(checkpoint.to_owned()),
            attempts: 0,
            limit: progress.batch_size,
            batch_size: progress.batch_size,
        },
        park,
        retry: false,
    };
    let failed_at = match &outcome {
        Invocation::Finished => return passed(last, None),
        Invocation::FailedAt(sequence) => sequences.iter().position(|s| s == sequence),
        Invocation::Failed => None,
    };
    match failed_at {
        Some(index) => {
            let failed = &sequences[index];
            let (checkpoint, attempts) = match index.checked_sub(1) {
                // Those before it were handled: the checkpoint moves, the count starts again.
                Some(before) => (Some(sequences[before].clone()), 1),
                None => (progress.checkpoint.clone(), progress.attempts + 1),
            };
            if attempts > max_retries {
                let park = Parked {
                    first: failed.clone(),
                    last: failed.clone(),
                    count: 1,
                };
                return passed(failed, Some(park));
            }
            Settled {
                progress: Progress {
                    checkpoint,
                    attempts,
                    ..progress.clone()
                },
                park: None,
                retry: true,
            }
        }
        None => {
            let attempts = progress.attempts + 1;
            if attempts > max_retries {
                let park = Parked {
                    first: first.clone(),
                    last: last.clone(),
                    count: sequences.len(),
                };
                return passed(last, Some(park));
            }
            Settled {
                progress: Progress {
                    checkpoint: progress.checkpoint.clone(),
                    attempts,
                    limit: (sequences.len() / 2).max(1),
                    batch_size: progress.batch_size,
                },
                park: None,
                retry: true,
            }
        }
    }
}

/// The shards to read now, in the stream's order: those not finished whose parent is finished
/// or not listed (trimmed away), since Lambda reads a parent to its end before its children.
pub fn ready_shards(
    listed: &[(String, Option<String>)],
    finished: &HashSet<String>,
) -> Vec<String> {
    let ids: HashSet<&str> = listed.iter().map(|(id, _)| id.as_str()).collect();
    listed
        .iter()
        .filter(|(id, _)| !finished.contains(id))
        .filter(|(_, parent)| {
            parent
                .as_deref()
                .is_none_or(|parent| finished.contains(parent) || !ids.contains(parent))
        })
        .map(|(id, _)| id.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::event::streams::DynamoDbBatchItemFailure;
    use aws_sdk_dynamodbstreams::types::{Record, StreamRecord};

    fn record(sequence: &str) -> Record {
        Record::builder()
            .dynamodb(StreamRecord::builder().sequence_number(sequence).build())
            .build()
    }

    fn records(sequences: &[&str]) -> Vec<Record> {
        sequences.iter().map(|s| record(s)).collect()
    }

    fn sequences(records: &[Record]) -> Vec<&str> {
        records.iter().filter_map(sequence_number).collect()
    }

    fn strings(sequences: &[&str]) -> Vec<String> {
        sequences.iter().map(|s| s.to_string()).collect()
    }

    /// The template's `BatchSize` for the stream.
    const BATCH_SIZE: usize = 100;

    fn at(checkpoint: Option<&str>, attempts: u32, limit: usize) -> Progress {
        Progress {
            checkpoint: checkpoint.map(str::to_owned),
            attempts,
            limit,
            batch_size: BATCH_SIZE,
        }
    }

    #[test]
    fn sequence_numbers_compare_as_numbers_of_any_length() {
        assert_eq!(sequence_order("9", "10"), Ordering::Less);
        assert_eq!(sequence_order("0010", "10"), Ordering::Equal);
        // 40 digits: more than a u128 holds.
        let big = "9999999999999999999999999999999999999998";
        let bigger = "9999999999999999999999999999999999999999";
        assert_eq!(sequence_order(bigger, big), Ordering::Greater);
        assert_eq!(
            sequence_order("1100000000017454423009", "1100000000017454423010"),
            Ordering::Less
        );
    }

    #[test]
    fn reading_starts_at_the_shard_start_only_while_nothing_was_finished() {
        assert_eq!(start_position(None), (ShardIteratorType::TrimHorizon, None));
        assert_eq!(
            start_position(Some("105")),
            (ShardIteratorType::AfterSequenceNumber, Some("105".into()))
        );
    }

    #[test]
    fn only_records_after_the_checkpoint_are_handed_over() {
        let page = records(&["101", "102", "103", "104"]);
        let fresh = hand_over(None, &page, BATCH_SIZE);
        assert_eq!(sequences(&fresh.records), ["101", "102", "103", "104"]);
        assert_eq!(fresh.skipped, 0);

        // A reader that started again at the shard's start (as this mapping did after an error)
        // gets the finished records again: they are not handed over.
        let resumed = hand_over(Some("102"), &page, BATCH_SIZE);
        assert_eq!(sequences(&resumed.records), ["103", "104"]);
        assert_eq!(resumed.skipped, 2);

        let nothing_new = hand_over(Some("104"), &page, BATCH_SIZE);
        assert!(nothing_new.records.is_empty());
        assert!(behind(Some("104"), &page));
        assert!(!behind(Some("103"), &page));
        assert!(!behind(None, &page));
    }

    #[test]
    fn a_record_returned_twice_or_out_of_order_is_handed_over_once() {
        // What moto 5.2.5 returned after two PutItems got one sequence number: the tail again.
        let page = records(&["104", "105", "105", "103", "106"]);
        let batch = hand_over(Some("103"), &page, BATCH_SIZE);
        assert_eq!(sequences(&batch.records), ["104", "105", "106"]);
        assert_eq!(batch.skipped, 2);
        let no_number = [Record::builder().build()];
        assert_eq!(hand_over(None, &no_number, BATCH_SIZE).skipped, 1);
    }

    #[test]
    fn a_batch_holds_at_most_the_limit() {
        let page = records(&["1", "2", "3", "4", "5"]);
        let batch = hand_over(Some("1"), &page, 2);
        assert_eq!(sequences(&batch.records), ["2", "3"]);
        assert!(!behind(Some("3"), &page), "4 and 5 are still to come");
    }

    #[test]
    fn a_partial_batch_response_names_the_lowest_failed_record() {
        let mut response = DynamoDbEventResponse::default();
        assert_eq!(reported(&response), Invocation::Finished);
        for sequence in ["107", "105", "106"] {
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = Some(sequence.into());
            response.batch_item_failures.push(failure);
        }
        assert_eq!(reported(&response), Invocation::FailedAt("105".into()));
        // Lambda fails the whole batch on an empty identifier.
        response
            .batch_item_failures
            .push(DynamoDbBatchItemFailure::default());
        assert_eq!(reported(&response), Invocation::Failed);
    }

    #[test]
    fn a_finished_batch_moves_the_checkpoint_to_its_last_record() {
        let settled = settle(
            &at(Some("100"), 2, 25),
            &strings(&["101", "102", "103"]),
            Invocation::Finished,
            5,
        );
        assert_eq!(settled.progress, at(Some("103"), 0, BATCH_SIZE));
        assert_eq!((settled.park, settled.retry), (None, false));
    }

    #[test]
    fn a_reported_failure_keeps_the_records_before_it_and_retries_from_it() {
        let batch = strings(&["101", "102", "103"]);
        let settled = settle(
            &at(Some("100"), 0, BATCH_SIZE),
            &batch,
            Invocation::FailedAt("102".into()),
            5,
        );
        assert_eq!(settled.progress, at(Some("101"), 1, BATCH_SIZE));
        assert!(settled.retry);
        assert_eq!(settled.park, None);
    }

    #[test]
    fn a_record_failing_every_retry_alone_is_parked_and_passed() {
        let batch = strings(&["102", "103"]);
        let mut progress = at(Some("101"), 0, BATCH_SIZE);
        for attempt in 1..=5 {
            let settled = settle(&progress, &batch, Invocation::FailedAt("102".into()), 5);
            assert_eq!(settled.progress, at(Some("101"), attempt, BATCH_SIZE));
            assert!(settled.retry && settled.park.is_none());
            progress = settled.progress;
        }
        let settled = settle(&progress, &batch, Invocation::FailedAt("102".into()), 5);
        let parked = Parked {
            first: "102".into(),
            last: "102".into(),
            count: 1,
        };
        assert_eq!(settled.park, Some(parked));
        assert_eq!(settled.progress, at(Some("102"), 0, BATCH_SIZE));
        assert!(!settled.retry, "103 is read next, at once");
    }

    #[test]
    fn a_failed_invocation_bisects_the_batch_then_parks_it() {
        let page: Vec<String> = (1..=100).map(|n| n.to_string()).collect();
        let mut progress = Progress::starting(BATCH_SIZE);
        let mut sizes = Vec::new();
        loop {
            let batch = &page[..progress.limit.min(page.len())];
            sizes.push(batch.len());
            let settled = settle(&progress, batch, Invocation::Failed, 5);
            if let Some(parked) = settled.park {
                assert_eq!(
                    parked,
                    Parked {
                        first: "1".into(),
                        last: "3".into(),
                        count: 3
                    }
                );
                assert_eq!(settled.progress, at(Some("3"), 0, BATCH_SIZE));
                break;
            }
            assert_eq!(settled.progress.checkpoint, None, "nothing finished yet");
            progress = settled.progress;
        }
        assert_eq!(
            sizes,
            [100, 50, 25, 12, 6, 3],
            "the first try and 5 retries"
        );
    }

    #[test]
    fn a_reported_record_not_in_the_batch_fails_it_whole() {
        let settled = settle(
            &at(Some("100"), 0, BATCH_SIZE),
            &strings(&["101", "102"]),
            Invocation::FailedAt("999".into()),
            5,
        );
        assert_eq!(settled.progress, at(Some("100"), 1, 1));
        assert!(settled.retry);
    }

    /// The mapping's loop on plain data: reads `stream` after the checkpoint (as an iterator
    /// asked for at `start_position` would), hands over, settles; `answer` plays the function.
    /// Returns every batch handed over, with the function's answer, and what was parked.
    fn drive(
        stream: &[Record],
        mut answer: impl FnMut(&[String]) -> Invocation,
    ) -> (Vec<(Vec<String>, Invocation)>, Vec<Parked>) {
        let mut progress = Progress::starting(BATCH_SIZE);
        let (mut batches, mut parked) = (Vec::new(), Vec::new());
        for _ in 0..1000 {
            let page: Vec<Record> = match start_position(progress.checkpoint.as_deref()) {
                (ShardIteratorType::TrimHorizon, None) => stream.to_vec(),
                (_, after) => stream
                    .iter()
                    .filter(|r| !at_or_before(sequence_number(r).unwrap(), after.as_deref()))
                    .cloned()
                    .collect(),
            };
            let batch = hand_over(progress.checkpoint.as_deref(), &page, progress.limit);
            if batch.records.is_empty() {
                break;
            }
            let sequences: Vec<String> = batch
                .records
                .iter()
                .map(|r| sequence_number(r).unwrap().to_owned())
                .collect();
            let outcome = answer(&sequences);
            batches.push((sequences.clone(), outcome.clone()));
            let settled = settle(&progress, &sequences, outcome, 5);
            parked.extend(settled.park);
            progress = settled.progress;
        }
        (batches, parked)
    }

    #[test]
    fn what_the_function_finished_is_never_handed_over_again() {
        let stream = records(&["1", "2", "3", "4", "5", "6", "7"]);
        let mut handed = 0;
        let (batches, parked) = drive(&stream, |batch| {
            // The function takes three records per call: the rest fails (partial response).
            handed += 1;
            batch
                .get(3)
                .map_or(Invocation::Finished, |s| Invocation::FailedAt(s.clone()))
        });
        let finished: Vec<String> = batches
            .iter()
            .flat_map(|(batch, outcome)| match outcome {
                Invocation::FailedAt(failed) => {
                    batch.iter().take_while(|s| *s != failed).cloned().collect()
                }
                _ => batch.clone(),
            })
            .collect();
        assert_eq!(finished, strings(&["1", "2", "3", "4", "5", "6", "7"]));
        assert_eq!(handed, 3);
        assert!(parked.is_empty());
    }

    #[test]
    fn a_failing_record_is_retried_five_times_and_the_rest_go_through_once() {
        let stream = records(&["1", "2", "3", "4"]);
        let (batches, parked) = drive(&stream, |batch| match batch.iter().position(|s| s == "2") {
            Some(_) => Invocation::FailedAt("2".into()),
            None => Invocation::Finished,
        });
        let handed: Vec<&str> = batches.iter().map(|(batch, _)| batch[0].as_str()).collect();
        assert_eq!(handed, ["1", "2", "2", "2", "2", "2", "3"]);
        assert_eq!(batches.last().unwrap().0, strings(&["3", "4"]));
        assert_eq!(
            parked,
            [Parked {
                first: "2".into(),
                last: "2".into(),
                count: 1
            }]
        );
    }

    #[test]
    fn a_parent_shard_is_read_before_its_children() {
        let listed = vec![
            ("parent".to_owned(), None),
            ("left".to_owned(), Some("parent".to_owned())),
            ("right".to_owned(), Some("parent".to_owned())),
            ("orphan".to_owned(), Some("trimmed-away".to_owned())),
        ];
        let mut finished = HashSet::new();
        assert_eq!(ready_shards(&listed, &finished), ["parent", "orphan"]);
        finished.insert("parent".to_owned());
        assert_eq!(
            ready_shards(&listed, &finished),
            ["left", "right", "orphan"]
        );
        finished.extend(["left", "right", "orphan"].map(str::to_owned));
        assert!(ready_shards(&listed, &finished).is_empty());
    }
}
