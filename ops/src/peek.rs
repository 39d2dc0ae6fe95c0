//! Looking at what a queue holds without taking it: each message is received with a visibility
//! timeout of 0, so it stays visible to everyone else (the event source, a redrive) at once.
//!
//! A receive answers some of the queue's messages, not all: on AWS a sample of its servers, on
//! the emulator the first ten. So the look is repeated, keeping each message once (by its
//! MessageId), until it has seen as many as the queue says it holds, or a few receives in a row
//! bring nothing new, or its time is up. [`Peeked::unseen`] says how many it may have missed.

use std::collections::HashSet;
use std::time::Duration;

use anyhow::anyhow;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName};
use cafe_shared::error::aws_error_text;
use chrono::{DateTime, SecondsFormat, Utc};

use crate::depth;

/// One message as a look found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub message_id: String,
    pub body: String,
    /// When SQS first received it (its `SentTimestamp`; a DLQ keeps the original's).
    pub sent_at: Option<DateTime<Utc>>,
    /// How many times it has been received, this look included.
    pub receive_count: Option<u64>,
}

impl Seen {
    pub fn from_message(message: &Message) -> Self {
        let attribute = |name: MessageSystemAttributeName| {
            message
                .attributes()
                .and_then(|attributes| attributes.get(&name))
                .cloned()
        };
        Self {
            message_id: message.message_id().unwrap_or_default().to_owned(),
            body: message.body().unwrap_or_default().to_owned(),
            sent_at: attribute(MessageSystemAttributeName::SentTimestamp)
                .and_then(|millis| millis.parse().ok())
                .and_then(DateTime::from_timestamp_millis),
            receive_count: attribute(MessageSystemAttributeName::ApproximateReceiveCount)
                .and_then(|count| count.parse().ok()),
        }
    }

    /// When it arrived, as UTC ISO time, or that SQS did not say.
    pub fn arrived(&self) -> String {
        self.sent_at.map_or_else(
            || "unknown (no SentTimestamp)".to_owned(),
            |at| iso_time(&at),
        )
    }
}

/// `2026-12-06T00:15:04Z`: what every verb shows a time as.
pub fn iso_time(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// What a look found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Peeked {
    /// In the order they were first seen.
    pub messages: Vec<Seen>,
    /// How many the queue said it held (visible, in flight or delayed) when the look began.
    pub approximate: u64,
}

impl Peeked {
    /// How many the queue said it held beyond those seen (in flight with someone else, delayed,
    /// or not sampled).
    pub fn unseen(&self) -> u64 {
        self.approximate.saturating_sub(self.messages.len() as u64)
    }
}

/// How many receives in a row may bring nothing new before the look ends.
const FRUITLESS_RECEIVES: usize = 3;

/// Looks at what `url` holds, without taking any of it, for at most `patience`.
pub async fn peek(sqs: &Client, url: &str, patience: Duration) -> anyhow::Result<Peeked> {
    let deadline = tokio::time::Instant::now() + patience;
    let approximate = depth(sqs, url).await?;
    let mut peeked = Peeked {
        messages: Vec::new(),
        approximate,
    };
    let mut ids = HashSet::new();
    let mut fruitless = 0;
    while (peeked.messages.len() as u64) < approximate
        && fruitless < FRUITLESS_RECEIVES
        && tokio::time::Instant::now() < deadline
    {
        let received = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            // Long polling asks every server, not a sample; 1 s is enough when messages wait.
            .wait_time_seconds(1)
            .visibility_timeout(0)
            .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| anyhow!("ReceiveMessage from {url}: {}", aws_error_text(&e)))?;
        let before = peeked.messages.len();
        for message in received.messages() {
            if ids.insert(message.message_id().unwrap_or_default().to_owned()) {
                peeked.messages.push(Seen::from_message(message));
            }
        }
        fruitless = if peeked.messages.len() == before {
            fruitless + 1
        } else {
            0
        };
    }
    Ok(peeked)
}

/// At most `max_chars` characters of `text`, quoted with control characters escaped, and `…`
/// after it when it was cut: safe to print whatever a message holds.
/// `text` safe to print on an operator's terminal: control characters (escape sequences, new
/// lines, carriage returns) and the bidirectional overrides that reorder what is shown are
/// written as escapes (`\u{1b}`, `\n`, `\u{202e}`). Customer ids, items and logged reasons are
/// anyone's text: a parked order must not be able to rewrite the screen or forge a line.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            let reorders = matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
            if c.is_control() || reorders {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

pub fn excerpt(text: &str, max_chars: usize) -> String {
    let cut: String = text.chars().take(max_chars).collect();
    let more = if cut.len() < text.len() { "…" } else { "" };
    format!("{cut:?}{more}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_anyone_cannot_drive_the_terminal() {
        assert_eq!(
            printable("c-42 (2 × filter coffee)"),
            "c-42 (2 × filter coffee)"
        );
        assert_eq!(printable("\u{1b}[2Jx"), "\\u{1b}[2Jx");
        assert_eq!(
            printable("a\n\nmessage forged\r"),
            "a\\n\\nmessage forged\\r"
        );
        assert_eq!(printable("\u{202e}gnp.exe"), "\\u{202e}gnp.exe");
        assert!(!printable("\u{9b}31m").contains('\u{9b}'));
    }

    #[test]
    fn a_message_says_when_it_arrived_in_utc_and_how_often_it_was_received() {
        let message = Message::builder()
            .message_id("m-1")
            .body("{}")
            .attributes(MessageSystemAttributeName::SentTimestamp, "1796515200123")
            .attributes(MessageSystemAttributeName::ApproximateReceiveCount, "11")
            .build();
        let seen = Seen::from_message(&message);
        assert_eq!(seen.arrived(), "2026-12-06T00:00:00Z");
        assert_eq!(seen.receive_count, Some(11));
        assert_eq!(seen.message_id, "m-1");
    }

    #[test]
    fn a_message_without_a_sent_timestamp_says_so() {
        let seen = Seen::from_message(&Message::builder().message_id("m-1").build());
        assert_eq!(seen.arrived(), "unknown (no SentTimestamp)");
        assert_eq!(seen.receive_count, None);
    }

    #[test]
    fn an_excerpt_is_cut_at_a_character_and_escapes_what_a_terminal_would_act_on() {
        assert_eq!(excerpt("not json", 80), r#""not json""#);
        assert_eq!(excerpt("ééééé", 3), r#""ééé"…"#);
        assert_eq!(excerpt("a\u{1b}[2Jb\n", 80), r#""a\u{1b}[2Jb\n""#);
    }

    #[test]
    fn unseen_counts_what_the_queue_holds_beyond_what_was_seen() {
        let peeked = Peeked {
            messages: vec![Seen::from_message(&Message::builder().build())],
            approximate: 3,
        };
        assert_eq!(peeked.unseen(), 2);
        assert_eq!(Peeked::default().unseen(), 0);
    }
}
