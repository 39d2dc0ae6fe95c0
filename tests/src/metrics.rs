//! What a piece of code counted through the `metrics` facade, for the functions' unit tests: the
//! counts are recorded by a recorder of the test's own (on the test's thread), so tests running
//! at once do not see each other's.

use std::collections::BTreeMap;
use std::future::Future;

use metrics_util::debugging::{DebugValue, DebuggingRecorder};

/// Runs `work` on this thread with a recorder of its own; returns its output and every counter
/// it incremented, by name (labels are not used by the functions).
pub async fn counted<T>(work: impl Future<Output = T>) -> (T, BTreeMap<String, u64>) {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let output = {
        let _guard = metrics::set_default_local_recorder(&recorder);
        work.await
    };
    let mut counts = BTreeMap::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        if let DebugValue::Counter(count) = value {
            *counts.entry(key.key().name().to_owned()).or_default() += count;
        }
    }
    (output, counts)
}
