//! What Lambda's event sources do for a function, simulated for the local stack and the tests:
//!
//! - [`events`]: SQS messages and DynamoDB stream records as the events Lambda hands over
//!   (`SqsEvent`, the stream `Event`), built from what the SDK received;
//! - [`invoke`] (feature `invoke`): invoking a function through the Lambda API with one of
//!   them, a function error or a run past the function's timeout being an error;
//! - [`resources`]: what the local stack's emulator created (read from template.yaml), as its
//!   ready file lists it: the queues, table, topics and the mappings' settings.
//!
//! The gateway's event-source mappings and the tests that drive a function by hand both use
//! these, so neither depends on the other.

pub mod events;
#[cfg(feature = "invoke")]
pub mod invoke;
pub mod ready_file;
