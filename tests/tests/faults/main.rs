//! Fault tolerance and hostile input, proven on the running local stack (`make test-faults`).
//!
//! The promise: no accepted order is ever lost or duplicated, and every failure is visible to
//! someone (the DLQ, the notifier-failures queue, an email). The emulator injects the faults
//! (`POST /_cafe/faults`, see local/emulator/): AWS operations failing or slow, MySQL cut off.
//! The tests run one at a time (`--test-threads=1`: a fault is the whole stack's) and each
//! writes its figures to target/faults/<scenario>.json.

mod common;
mod delivery;
mod load;
mod orders;
mod outages;
mod poison;
mod redrive;
mod reports;
