//! cafe-gateway: what AWS does around the café's functions, for the local stack.
//!
//! - The REST API of the deployed stack: `POST /orders` (validated, then SQS `SendMessage`),
//!   `POST /create_report` (Step Functions `StartExecution`), plus `GET /mailbox` (what the email
//!   subscribers received), `GET /ops` (queues, stream position, report executions, metrics),
//!   `GET /reports/<execution>.html` (a report, from the reports bucket) and `GET /health`.
//! - The two event-source mappings, with Lambda's semantics: the orders queue → order-writer, and
//!   the orders table's stream → order-notifier.
//!
//! Functions are invoked through the emulator's Lambda API, which runs the real binaries, with
//! the events of `cafe-event-sources`.

pub mod api;
pub mod escape;
pub mod mailbox;
pub mod mappings;
pub mod metrics_log;
pub mod ops_page;
pub mod settings;

use aws_config::SdkConfig;

/// The AWS clients the gateway uses, built once.
#[derive(Clone)]
pub struct Aws {
    pub sqs: aws_sdk_sqs::Client,
    pub sfn: aws_sdk_sfn::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub s3: aws_sdk_s3::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub streams: aws_sdk_dynamodbstreams::Client,
}

impl Aws {
    pub fn new(config: &SdkConfig) -> Self {
        Self {
            sqs: aws_sdk_sqs::Client::new(config),
            sfn: aws_sdk_sfn::Client::new(config),
            lambda: aws_sdk_lambda::Client::new(config),
            s3: cafe_shared::clients::s3(config),
            dynamodb: aws_sdk_dynamodb::Client::new(config),
            streams: aws_sdk_dynamodbstreams::Client::new(config),
        }
    }
}

/// Whether `key` may name a Step Functions execution: 1 to 80 characters, none of them
/// whitespace, a control character, or one of `< > { } [ ] ? * " # % \ ^ | ~ ` $ & , ; : /`
/// (StartExecution's rule for `name`; the deployed API passes the key on and maps Step Functions'
/// InvalidName to the same 400).
pub fn is_execution_name(key: &str) -> bool {
    // is_control: U+0000–001F and U+007F–009F, as Step Functions' rule says.
    const NOT_IN_A_NAME: &str = "<>{}[]?*\"#%\\^|~`$&,;:/";
    let length = key.chars().count();
    (1..=80).contains(&length)
        && !key
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || NOT_IN_A_NAME.contains(c))
}
