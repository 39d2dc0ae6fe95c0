//! What every café function shares: configuration, the one place AWS clients are built, the
//! `Order` domain type and its validation, logging and metrics set-up, and DynamoDB image
//! conversions.
//! No handler logic lives here.

#[cfg(feature = "time-zone")]
pub mod cafe_time;
pub mod clients;
pub mod config;
#[cfg(feature = "dynamodb")]
pub mod dynamodb_json;
pub mod error;
pub mod inventory;
pub mod limits;
pub mod metrics;
pub mod order;
pub mod telemetry;

pub use error::NamedError;
pub use order::{Order, OrderError, StoredOrder};
