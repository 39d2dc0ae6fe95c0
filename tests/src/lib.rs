//! Test harness: a private moto server per test, the café's resources in it, and Lambda-shaped
//! events read back from it (SQS batches, DynamoDB stream batches), so handlers are exercised on
//! exactly what Lambda would hand them.
//!
//! Everything is used from the crate root (`cafe_tests::Moto`, …) except [`stack`]. What
//! lives where:
//!
//! - `workspace.rs`: [`workspace_root`], where `.venv`, `db/` and `events/` are found;
//! - `wait.rs`: [`wait_until`], polling until something a test started is ready;
//! - `http.rs`: [`http_get`] and [`http_post`], plain requests with any status an answer;
//! - `mariadb.rs`: [`TestDatabase`], a throwaway COFFEE database on a MariaDB/MySQL server;
//! - `moto.rs`: [`Moto`], a moto server of a test's own, its SDK clients,
//!   [`sdk_config_for`] any other endpoint, and [`REGION`];
//! - `fixtures.rs`: the café's resources in a moto server ([`create_orders_table`],
//!   [`create_queue`], [`topic_with_queue`], [`queue_arn`]) and what they hold ([`scan_json`],
//!   [`drain`]);
//! - `events.rs`: [`sample_event`] from `events/`, [`sqs_event`] and [`stream_event`] as Lambda's
//!   event sources build them from what a moto server holds, and [`failed_ids`] of an SQS handler's
//!   answer;
//! - `metrics.rs` ([`metrics::counted`]): what code counted through the `metrics` facade;
//! - `template.rs` ([`template`]): template.yaml's functions and the local stack's names for its
//!   resources;
//! - `tls.rs` ([`tls`]): a throwaway CA, and a MariaDB server of a test's own serving TLS from it;
//! - `stack.rs` ([`stack`]): for the tests against the running local stack (`make e2e`,
//!   `make test-faults`): its gateway, emulator, fault switch and mailbox.

mod events;
mod fixtures;
mod http;
mod mariadb;
pub mod metrics;
mod moto;
pub mod stack;
pub mod template;
pub mod tls;
mod wait;
mod workspace;

pub use events::{failed_ids, sample_event, sqs_event, stream_event};
pub use fixtures::{
    create_orders_table, create_queue, drain, queue_arn, scan_json, topic_with_queue,
};
pub use http::{http_get, http_post};
pub use mariadb::TestDatabase;
pub use moto::{Moto, REGION, free_port, sdk_config_for, unreachable_sdk_config};
pub use wait::wait_until;
pub use workspace::workspace_root;
