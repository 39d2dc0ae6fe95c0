//! The parked orders on `orders-dlq`, one by one: when each arrived, whose it is and why the
//! writer refused it (`make dlq-peek`), and removing one after showing it (`make dlq-delete`).

use std::time::Duration;

use anyhow::{anyhow, bail};
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName};
use cafe_shared::Order;
use cafe_shared::error::aws_error_text;

use crate::peek::{Seen, excerpt, peek, printable};
use crate::refusals::{WriterLog, refusal_line};

/// How long `dlq-peek` keeps looking for more messages.
pub const PEEK_PATIENCE: Duration = Duration::from_secs(20);

/// How long a body excerpt may be, for a body that is not an order.
const EXCERPT_CHARS: usize = 120;

/// A parked order as an operator reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Described {
    pub message_id: String,
    pub arrived: String,
    pub receive_count: Option<u64>,
    /// Whose order it is, or that the body is not a readable order, with an excerpt.
    pub customer: String,
    /// The writer's reason, or why none is known.
    pub refused: String,
}

impl Described {
    /// A few lines, the first naming the message.
    pub fn render(&self) -> String {
        let received = self
            .receive_count
            .map(|n| format!(" (received {n} times)"))
            .unwrap_or_default();
        // Every field but the count is someone else's text, printed as text only.
        format!(
            "message {}\n  arrived   {}{received}\n  customer  {}\n  refused   {}\n",
            printable(&self.message_id),
            printable(&self.arrived),
            printable(&self.customer),
            printable(&self.refused)
        )
    }
}

/// Whose order `body` is, read with the café's own order type; or that it is not one.
pub fn customer(body: &str) -> String {
    match Order::parse(body) {
        Ok(order) => {
            let quantity = order
                .quantity
                .map(|q| format!("{q} × "))
                .unwrap_or_default();
            format!("{} ({quantity}{})", order.customer_id, order.item)
        }
        Err(e) => format!(
            "not a readable order ({e}); the body begins {}",
            excerpt(body, EXCERPT_CHARS)
        ),
    }
}

/// `seen` with the writer's last reason for refusing it, as `log` records it. A log that cannot
/// be read is said in the reason's place: the message is still worth showing.
pub async fn describe(seen: &Seen, log: &WriterLog) -> Described {
    let refused = match log.last_refusal(&seen.message_id, seen.sent_at).await {
        Ok(Some(refusal)) => refusal_line(&refusal),
        Ok(None) => log.nothing_found().await,
        Err(e) => format!("unknown: {e:#}"),
    };
    Described {
        message_id: seen.message_id.clone(),
        arrived: seen.arrived(),
        receive_count: seen.receive_count,
        customer: customer(&seen.body),
        refused,
    }
}

/// Every parked order the look finds, described, and a closing paragraph.
pub async fn peek_described(
    sqs: &Client,
    dlq_url: &str,
    log: &WriterLog,
) -> anyhow::Result<String> {
    let peeked = peek(sqs, dlq_url, PEEK_PATIENCE).await?;
    let mut text = format!(
        "orders-dlq ({dlq_url}) holds {} message(s); {} shown, none taken:\n",
        peeked.approximate,
        peeked.messages.len()
    );
    for seen in &peeked.messages {
        text.push('\n');
        text.push_str(&describe(seen, log).await.render());
    }
    if peeked.unseen() > 0 {
        text.push_str(&format!(
            "\n{} more not shown: in flight with a consumer, delayed, or not among what SQS \
             answered; run it again to look once more\n",
            peeked.unseen()
        ));
    }
    if !peeked.messages.is_empty() {
        text.push_str(
            "\nonce the cause is fixed: make redrive-orders; to drop one for good: \
             make dlq-delete ID=<message id>\n",
        );
    }
    Ok(text)
}

/// How long a message `dlq-delete` received stays hidden from others at most; each is made
/// visible again as soon as the search ends. Well over the search and the reason's lookup
/// (up to 30 s in CloudWatch Logs) together, so the held message is still held at its delete.
const HOLD_SECONDS: i32 = 120;

/// How long `dlq-delete` looks for the message.
const SEARCH_PATIENCE: Duration = Duration::from_secs(20);

/// The parked message `message_id`, received and held (hidden for [`HOLD_SECONDS`]) so it can be
/// shown and then deleted; every other message received on the way is made visible again before
/// this returns. An error names the id when the queue does not hold it.
pub async fn hold(sqs: &Client, dlq_url: &str, message_id: &str) -> anyhow::Result<Message> {
    let mut others = Vec::new();
    let found = search(sqs, dlq_url, message_id, &mut others).await;
    let released = release(sqs, dlq_url, &others).await;
    let found = found?;
    released?;
    found.ok_or_else(|| {
        anyhow!(
            "orders-dlq ({dlq_url}) holds no message {message_id}: run make dlq-peek to list the \
             parked messages and their ids"
        )
    })
}

/// Receives until `message_id` comes, or the queue has nothing more to give; what else it
/// receives is pushed to `others`, still hidden.
async fn search(
    sqs: &Client,
    dlq_url: &str,
    message_id: &str,
    others: &mut Vec<Message>,
) -> anyhow::Result<Option<Message>> {
    let deadline = tokio::time::Instant::now() + SEARCH_PATIENCE;
    while tokio::time::Instant::now() < deadline {
        let received = sqs
            .receive_message()
            .queue_url(dlq_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .visibility_timeout(HOLD_SECONDS)
            .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| anyhow!("ReceiveMessage from {dlq_url}: {}", aws_error_text(&e)))?;
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(None);
        }
        let mut wanted = None;
        for message in messages {
            if message.message_id() == Some(message_id) && wanted.is_none() {
                wanted = Some(message);
            } else {
                others.push(message);
            }
        }
        if wanted.is_some() {
            return Ok(wanted);
        }
    }
    Ok(None)
}

/// Makes `messages` visible again at once (ChangeMessageVisibility to 0), rather than when their
/// hold runs out.
pub async fn release(sqs: &Client, dlq_url: &str, messages: &[Message]) -> anyhow::Result<()> {
    let mut failed = Vec::new();
    for message in messages {
        let changed = sqs
            .change_message_visibility()
            .queue_url(dlq_url)
            .receipt_handle(message.receipt_handle().unwrap_or_default())
            .visibility_timeout(0)
            .send()
            .await;
        if let Err(e) = changed {
            failed.push(format!(
                "{}: {}",
                message.message_id().unwrap_or_default(),
                aws_error_text(&e)
            ));
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        bail!(
            "could not make these visible again (they will be within {HOLD_SECONDS} s): {}",
            failed.join("; ")
        )
    }
}

/// Deletes the held `message`. The hold is renewed first: SQS refuses that once the hold has run
/// out and someone else has received the message, whereas a DeleteMessage with the stale receipt
/// handle would succeed without deleting anything, and the verb would say "deleted" falsely.
pub async fn delete(sqs: &Client, dlq_url: &str, message: &Message) -> anyhow::Result<()> {
    let handle = message.receipt_handle().unwrap_or_default();
    sqs.change_message_visibility()
        .queue_url(dlq_url)
        .receipt_handle(handle)
        .visibility_timeout(HOLD_SECONDS)
        .send()
        .await
        .map_err(|e| {
            anyhow!(
                "{} was no longer held when it was to be deleted ({}): nothing deleted; run make \
                 dlq-delete again",
                message.message_id().unwrap_or_default(),
                aws_error_text(&e)
            )
        })?;
    sqs.delete_message()
        .queue_url(dlq_url)
        .receipt_handle(message.receipt_handle().unwrap_or_default())
        .send()
        .await
        .map_err(|e| anyhow!("DeleteMessage from {dlq_url}: {}", aws_error_text(&e)))?;
    Ok(())
}

/// `make dlq-delete ID=…`: shows the parked message `message_id` as `dlq-peek` does, then deletes
/// it, or with `dry_run` makes it visible again untouched. Returns what it printed.
pub async fn delete_shown(
    sqs: &Client,
    dlq_url: &str,
    message_id: &str,
    log: &WriterLog,
    dry_run: bool,
) -> anyhow::Result<String> {
    let message = hold(sqs, dlq_url, message_id).await?;
    let shown = describe(&Seen::from_message(&message), log).await.render();
    if dry_run {
        release(sqs, dlq_url, std::slice::from_ref(&message)).await?;
        return Ok(format!(
            "{shown}\ndry run: not deleted; it stays on orders-dlq\n"
        ));
    }
    delete(sqs, dlq_url, &message).await?;
    Ok(format!("{shown}\ndeleted from orders-dlq ({dlq_url})\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_is_named_by_its_customer_and_what_they_ordered() {
        assert_eq!(
            customer(r#"{"item": "filter coffee", "customerID": "c-42", "quantity": 2}"#),
            "c-42 (2 × filter coffee)"
        );
        assert_eq!(
            customer(r#"{"item": "tea", "customerID": "c-1"}"#),
            "c-1 (tea)"
        );
    }

    #[test]
    fn a_body_that_is_not_an_order_says_so_with_a_short_excerpt() {
        let text = customer(&format!("not json {}", "x".repeat(500)));
        assert!(
            text.starts_with("not a readable order (the order is not valid JSON"),
            "{text}"
        );
        assert!(text.contains(r#"the body begins "not json xxx"#), "{text}");
        assert!(text.ends_with('…'), "{text}");
        assert!(text.chars().count() < 300, "{text}");
        let missing = customer(r#"{"item": "tea"}"#);
        assert!(missing.contains("no `customerID`"), "{missing}");
    }

    #[test]
    fn a_description_reads_as_a_few_labelled_lines() {
        let described = Described {
            message_id: "m-1".into(),
            arrived: "2026-12-06T00:00:00Z".into(),
            receive_count: Some(11),
            customer: "c-42 (tea)".into(),
            refused: "not a valid order".into(),
        };
        assert_eq!(
            described.render(),
            "message m-1\n  arrived   2026-12-06T00:00:00Z (received 11 times)\n  customer  c-42 (tea)\n  refused   not a valid order\n"
        );
    }
}
