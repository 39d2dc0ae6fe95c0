//! What waits for an operator on the two parking queues, and whether the stack may be deleted.
//!
//! `make destroy` deletes the stack, and with it `orders-dlq` and `notifier-failures` (the orders
//! table is kept). Each message on them is an order, or an order's notification, that nobody has
//! handled yet, so `make destroy` asks [`refusal`] first and stops while either holds one.

use aws_sdk_sqs::Client;

use crate::Targets;
use crate::depth;

/// One parking queue and what it holds now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parked {
    pub queue: &'static str,
    pub url: String,
    pub messages: u64,
    /// The verb that brings them back.
    pub remedy: &'static str,
}

/// Both parking queues, with what each holds now.
pub async fn parked(sqs: &Client, targets: &Targets) -> anyhow::Result<Vec<Parked>> {
    let queues = [
        (
            "orders-dlq",
            &targets.orders_dlq_url,
            "make redrive-orders once the cause is fixed (docs/operations.md, Runbook: OrdersDlqNotEmpty)",
        ),
        (
            "notifier-failures",
            &targets.notifier_failures_url,
            "make replay-notifications (docs/operations.md, Runbook: NotifierFailuresNotEmpty)",
        ),
    ];
    let mut found = Vec::with_capacity(queues.len());
    for (queue, url, remedy) in queues {
        found.push(Parked {
            queue,
            url: url.clone(),
            messages: depth(sqs, url).await?,
            remedy,
        });
    }
    Ok(found)
}

/// Why the stack must not be deleted now, or None when nothing is parked.
pub fn refusal(parked: &[Parked], deployed: bool) -> Option<String> {
    let waiting: Vec<&Parked> = parked.iter().filter(|p| p.messages > 0).collect();
    if waiting.is_empty() {
        return None;
    }
    let suffix = if deployed { " DEPLOYED=1" } else { "" };
    let mut text =
        String::from("not deleting the stack: messages are parked that deleting it would lose\n");
    for p in waiting {
        let remedy = p.remedy.replacen(
            "make redrive-orders",
            &format!("make redrive-orders{suffix}"),
            1,
        );
        let remedy = remedy.replacen(
            "make replay-notifications",
            &format!("make replay-notifications{suffix}"),
            1,
        );
        text.push_str(&format!(
            "  {} holds {} message(s) ({}): {remedy}\n",
            p.queue, p.messages, p.url
        ));
    }
    text.push_str(
        "then run make destroy again; to delete them with the stack after all, \
         make destroy DISCARD_PARKED=1",
    );
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::{Parked, refusal};

    fn queue(queue: &'static str, messages: u64, remedy: &'static str) -> Parked {
        Parked {
            queue,
            url: format!("https://sqs.example/{queue}"),
            messages,
            remedy,
        }
    }

    #[test]
    fn empty_queues_let_the_stack_go() {
        let parked = [
            queue("orders-dlq", 0, "make redrive-orders"),
            queue("notifier-failures", 0, "make replay-notifications"),
        ];
        assert_eq!(refusal(&parked, true), None);
        assert_eq!(refusal(&[], true), None);
    }

    #[test]
    fn a_parked_message_stops_it_and_names_the_queue_and_the_verb() {
        let parked = [
            queue("orders-dlq", 0, "make redrive-orders"),
            queue("notifier-failures", 2, "make replay-notifications"),
        ];
        let text = refusal(&parked, true).expect("refused");
        assert!(
            text.contains("notifier-failures holds 2 message(s)"),
            "{text}"
        );
        assert!(
            text.contains("make replay-notifications DEPLOYED=1"),
            "{text}"
        );
        assert!(!text.contains("orders-dlq"), "{text}");
        assert!(text.contains("DISCARD_PARKED=1"), "{text}");
        let local = refusal(&parked, false).unwrap();
        assert!(!local.contains("DEPLOYED=1"), "{local}");
    }
}
