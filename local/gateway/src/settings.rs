//! The gateway's settings (environment variables with defaults), beside the functions' own in
//! `cafe_shared::config`. What it serves and which functions its mappings invoke are not
//! settings: they come from template.yaml through the emulator's ready file
//! (`cafe_event_sources::resources`).

use cafe_shared::config::Setting;

pub const GATEWAY_ADDR: Setting = Setting {
    name: "GATEWAY_ADDR",
    default: "127.0.0.1:3000",
};
/// The emulator's ready file: every resource it created, with URLs and ARNs.
pub const EMULATOR_READY_FILE: Setting = Setting {
    name: "EMULATOR_READY_FILE",
    default: ".local/emulator.json",
};
pub const MAILBOX_FILE: Setting = Setting {
    name: "MAILBOX_FILE",
    default: ".local/mailbox.jsonl",
};
/// The functions' output, as the local stack collects it: `GET /ops` sums the metrics in it.
pub const FUNCTIONS_LOG_FILE: Setting = Setting {
    name: "FUNCTIONS_LOG_FILE",
    default: ".local/logs/functions.log",
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
