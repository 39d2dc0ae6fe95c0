//! The gateway's settings (environment variables with defaults), beside the functions' own in
//! `cafe_shared::config`.

use cafe_shared::config::Setting;

pub const GATEWAY_ADDR: Setting = Setting {
    name: "GATEWAY_ADDR",
    default: "127.0.0.1:3000",
};
pub const ORDERS_QUEUE: Setting = Setting {
    name: "ORDERS_QUEUE",
    default: "orders-queue",
};
/// Where the stream mapping describes the records it gave up on (the on-failure destination).
pub const NOTIFIER_FAILURES_QUEUE: Setting = Setting {
    name: "NOTIFIER_FAILURES_QUEUE",
    default: "notifier-failures",
};
pub const STATE_MACHINE: Setting = Setting {
    name: "STATE_MACHINE",
    default: "InventoryReport",
};
pub const MAILBOX_FILE: Setting = Setting {
    name: "MAILBOX_FILE",
    default: ".local/mailbox.jsonl",
};
pub const ORDER_WRITER: Setting = Setting {
    name: "ORDER_WRITER",
    default: "order-writer",
};
pub const ORDER_NOTIFIER: Setting = Setting {
    name: "ORDER_NOTIFIER",
    default: "order-notifier",
};
/// How long a failed SQS message stays invisible before its next delivery. Lambda leaves it for
/// the queue's whole visibility timeout; locally a short wait keeps retries quick.
pub const SQS_RETRY_DELAY_SECONDS: Setting = Setting {
    name: "SQS_RETRY_DELAY_SECONDS",
    default: "2",
};
/// How many pollers receive from the orders queue at once, each invoking the writer.
pub const SQS_POLLERS: Setting = Setting {
    name: "SQS_POLLERS",
    default: "3",
};
/// How often a failing stream batch is retried before its failing record is skipped and parked
/// (the template's `MaximumRetryAttempts`).
pub const STREAM_MAX_RETRIES: Setting = Setting {
    name: "STREAM_MAX_RETRIES",
    default: "5",
};
