//! The event-source mappings, with Lambda's semantics: the orders queue → order-writer (`sqs`),
//! and the orders table's stream → order-notifier (`stream`, deciding with the plain functions of
//! `progress`, and reporting where it is to `position`, which the ops page reads).

pub mod position;
pub mod progress;
pub mod sqs;
pub mod stream;

pub use sqs::SqsMapping;
pub use stream::StreamMapping;
