//! The SNS message for one new order, built to fit SNS's size limit.
//!
//! With `MessageStructure: json` the message is a JSON object of texts per protocol. It has two:
//!
//! - `default`: the order as plain JSON. SNS sends `default` to every protocol without a key of
//!   its own (SQS, Lambda, HTTP/S, email-json, Firehose, mobile push, SMS), so the machine copy
//!   is in the message once instead of once per protocol. It is never cut.
//! - `email`: the text a person reads. If the whole message would be over the limit, this text
//!   is cut and ends with a note saying so and where the full order is.
//!
//! SNS refuses a message over [`MAX_MESSAGE_BYTES`] as it counts them (UTF-8 bytes of message,
//! subject and attributes; see [`sns_size`]). The local emulator counts characters, so the limit
//! is enforced here rather than learnt from a refusal.

use aws_lambda_events::event::dynamodb::EventRecord;
use cafe_shared::StoredOrder;
use cafe_shared::dynamodb_json::image_to_json;
use serde_json::{Value, json};

use crate::NotifyError;

/// The most SNS accepts in one message (256 KiB), in UTF-8 bytes: "262,144 bytes, not 262,144
/// characters", message attributes included.
pub const MAX_MESSAGE_BYTES: usize = 262_144;

/// Room left unused when a message is built to fit: a cut email fills its budget to the byte, so
/// anything SNS counts that its documented rule does not name would make the message too long,
/// and a message SNS refuses can only be retried until it is parked.
pub const SIZE_MARGIN: usize = 1024;

/// The data type of every attribute we send (SNS also counts it).
pub const ATTRIBUTE_TYPE: &str = "String";

/// SNS subjects are one line of UTF-8 text under 100 characters.
const MAX_SUBJECT_CHARS: usize = 99;

/// One new order, ready to publish, with the stream position it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub sequence_number: String,
    pub order_id: String,
    pub customer_id: String,
    pub subject: String,
    /// The `MessageStructure: json` document: `{"default": <order JSON>, "email": <text>}`.
    pub message: String,
}

impl Notification {
    /// The message attributes, name and value, all of type [`ATTRIBUTE_TYPE`]: what filter
    /// policies can select on. The request and the size both come from this one list.
    pub fn attributes(&self) -> [(&'static str, &str); 2] {
        attributes(&self.order_id, &self.customer_id)
    }

    /// The size SNS counts for this message, at most [`MAX_MESSAGE_BYTES`].
    pub fn size(&self) -> usize {
        sns_size(&self.message, &self.subject, &self.attributes())
    }
}

fn attributes<'a>(order_id: &'a str, customer_id: &'a str) -> [(&'static str, &'a str); 2] {
    [("orderID", order_id), ("customerID", customer_id)]
}

/// What SNS counts against its limit, in UTF-8 bytes: the message, the subject, and for each
/// attribute its name, its data type and its value. (The subject is not named in AWS's rule; it
/// is counted anyway, as it is at most 99 characters and counting it can only err on the safe
/// side.)
pub fn sns_size(message: &str, subject: &str, attributes: &[(&str, &str)]) -> usize {
    let attributes: usize = attributes
        .iter()
        .map(|(name, value)| name.len() + ATTRIBUTE_TYPE.len() + value.len())
        .sum();
    message.len() + subject.len() + attributes
}

/// The notification for one INSERT record.
pub fn notification(record: EventRecord) -> Result<Notification, NotifyError> {
    let sequence_number = record.change.sequence_number.unwrap_or_default();
    let plain = image_to_json(record.change.new_image)
        .map_err(|e| NotifyError::NotAnOrder(e.to_string()))?;
    let order: StoredOrder = serde_json::from_value(plain.clone())
        .map_err(|e| NotifyError::NotAnOrder(e.to_string()))?;
    let subject = subject(&order);
    let customer_id = &order.order.customer_id;
    // What the subject and the attributes take is not left for the message.
    let others = sns_size("", &subject, &attributes(&order.order_id, customer_id));
    let budget = MAX_MESSAGE_BYTES.saturating_sub(SIZE_MARGIN + others);
    let message = fitted_message(
        &plain.to_string(),
        &email_text(&order),
        &order.order_id,
        budget,
    )
    .map_err(|smallest| NotifyError::TooLarge {
        order_id: order.order_id.clone(),
        size: others + smallest,
    })?;
    Ok(Notification {
        sequence_number,
        subject,
        customer_id: customer_id.clone(),
        order_id: order.order_id,
        message,
    })
}

/// The message document in at most `budget` bytes: the machine copy whole, and the email text
/// whole if it fits, else its longest beginning that fits with the note after it. If even the
/// machine copy with the note alone is over `budget`, returns that smallest size instead.
fn fitted_message(
    machine: &str,
    text: &str,
    order_id: &str,
    budget: usize,
) -> Result<String, usize> {
    let whole = document(machine, text);
    if whole.len() <= budget {
        return Ok(whole);
    }
    let note = shortened_note(order_id);
    let smallest = document(machine, &note).len();
    if smallest > budget {
        return Err(smallest);
    }
    // JSON escapes character by character, so the kept text adds exactly its escaped length.
    let kept = longest_beginning(text, budget - smallest);
    Ok(document(machine, &format!("{kept}{note}")))
}

fn document(machine: &str, text: &str) -> String {
    json!({"default": machine, "email": text}).to_string()
}

/// Ends an email that was cut, so its reader knows it is not the whole order.
fn shortened_note(order_id: &str) -> String {
    format!(
        "…\n\n[This email is shortened: the whole order is too long for one notification. \
         The full order is in the JSON notification and in the orders table, orderID {order_id}.]\n"
    )
}

/// The longest beginning of `text`, ending on a character boundary, that takes at most `budget`
/// bytes once escaped inside a JSON string.
fn longest_beginning(text: &str, budget: usize) -> &str {
    let mut used = 0;
    for (index, c) in text.char_indices() {
        used += json_escaped_len(c);
        if used > budget {
            return &text[..index];
        }
    }
    text
}

/// The bytes `c` takes inside a JSON string as serde_json writes it: `"` and `\` and the
/// controls with a short escape (`\b \t \n \f \r`) two, the other controls six (`\u00XX`), and
/// everything else its UTF-8 (serde_json writes non-ASCII as is).
fn json_escaped_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\u{8}' | '\t' | '\n' | '\u{c}' | '\r' => 2,
        '\0'..='\u{1f}' => 6,
        _ => c.len_utf8(),
    }
}

/// "New order 3f2a1b2c: 2 × latex gloves for customer 12345", made fit for an SNS subject.
pub fn subject(order: &StoredOrder) -> String {
    let short_id: String = order.order_id.chars().take(8).collect();
    let quantity = order
        .order
        .quantity
        .map(|q| format!("{q} × "))
        .unwrap_or_default();
    let subject = format!(
        "New order {short_id}: {quantity}{} for customer {}",
        order.order.item, order.order.customer_id
    );
    let one_line = subject
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c });
    if subject.chars().count() <= MAX_SUBJECT_CHARS {
        one_line.collect()
    } else {
        one_line.take(MAX_SUBJECT_CHARS - 1).chain(['…']).collect()
    }
}

/// The email a person reads: the order in plain words, every field the customer sent included.
pub fn email_text(order: &StoredOrder) -> String {
    let quantity = order.order.quantity.unwrap_or(1);
    let mut text = format!(
        "New order {}\n\n{quantity} × {}\nfor customer {}\nreceived {}\n",
        order.order_id,
        order.order.item,
        order.order.customer_id,
        order.received_at.format("%Y-%m-%d %H:%M:%S UTC"),
    );
    if !order.order.details.is_empty() {
        text.push_str("\nOther details:\n");
        for (name, value) in &order.order.details {
            let value = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            text.push_str(&format!("  {name}: {value}\n"));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORDER_ID: &str = "3f2a1b2c-5d6e-5f70-8a9b-0c1d2e3f4a5b";

    fn email_of(message: &str) -> String {
        let document: Value = serde_json::from_str(message).unwrap();
        document["email"].as_str().unwrap().to_owned()
    }

    #[test]
    fn the_size_counts_bytes_not_characters() {
        // "é" is two bytes, "😀" four, "€" three.
        assert_eq!(sns_size("é😀", "", &[]), 6);
        assert_eq!(sns_size("", "€", &[]), 3);
        assert_eq!(sns_size(&"😀".repeat(1000), "", &[]), 4000);
    }

    #[test]
    fn the_size_counts_each_attributes_name_type_and_value() {
        // name + "String" + value, for each attribute.
        assert_eq!(sns_size("", "", &[("orderID", "o-1")]), 7 + 6 + 3);
        assert_eq!(
            sns_size("m", "s", &[("orderID", "o-1"), ("customerID", "Zoë")]),
            1 + 1 + (7 + 6 + 3) + (10 + 6 + 4)
        );
    }

    #[test]
    fn a_notifications_size_is_its_message_subject_and_attributes() {
        let notification = Notification {
            sequence_number: "1".into(),
            order_id: ORDER_ID.into(),
            customer_id: "Zoë".into(),
            subject: "New order 3f2a1b2c: ☕".into(),
            message: r#"{"default":"{}","email":"ü"}"#.into(),
        };
        let expected = notification.message.len()
            + notification.subject.len()
            + ("orderID".len() + "String".len() + ORDER_ID.len())
            + ("customerID".len() + "String".len() + "Zoë".len());
        assert_eq!(notification.size(), expected);
    }

    #[test]
    fn escaped_lengths_are_those_serde_json_writes_for_every_character() {
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let written = serde_json::to_string(&c.to_string()).unwrap().len() - 2;
            assert_eq!(json_escaped_len(c), written, "{c:?}");
        }
    }

    #[test]
    fn beginnings_end_on_a_character_boundary_within_the_budget() {
        // a: 1, 😀: 4, ": 2 (escaped), \u{1}: 6 (escaped)
        let text = "a😀\"\u{1}b";
        assert_eq!(longest_beginning(text, 0), "");
        assert_eq!(longest_beginning(text, 4), "a");
        assert_eq!(longest_beginning(text, 5), "a😀");
        assert_eq!(longest_beginning(text, 6), "a😀");
        assert_eq!(longest_beginning(text, 7), "a😀\"");
        assert_eq!(longest_beginning(text, 12), "a😀\"");
        assert_eq!(longest_beginning(text, 13), "a😀\"\u{1}");
        assert_eq!(longest_beginning(text, 14), text);
    }

    #[test]
    fn a_message_that_fits_keeps_the_whole_email() {
        let message = fitted_message("{\"item\":\"x\"}", "New order\n", ORDER_ID, 1000).unwrap();
        assert_eq!(email_of(&message), "New order\n");
        assert!(!message.contains("shortened"));
    }

    #[test]
    fn a_cut_email_fits_says_so_and_names_the_order() {
        let machine =
            serde_json::json!({"orderID": ORDER_ID, "notes": "\"\\".repeat(50)}).to_string();
        // Quotes, backslashes, controls and emoji all take more than one byte in the message.
        let text = "New order\n".to_owned() + &"\"\\\u{1}\n😀é".repeat(500);
        for budget in [1_000, 1_001, 1_002, 1_003, 1_500, 2_000, 4_096] {
            let message = fitted_message(&machine, &text, ORDER_ID, budget).unwrap();
            assert!(message.len() <= budget, "{} > {budget}", message.len());
            let document: Value = serde_json::from_str(&message).unwrap();
            assert_eq!(document["default"], machine, "the machine copy is whole");
            let email = email_of(&message);
            let note = shortened_note(ORDER_ID);
            let kept = email.strip_suffix(&note).expect("the note ends the email");
            assert!(
                text.starts_with(kept),
                "the email is a beginning of the text"
            );
            assert!(note.contains("shortened") && note.contains(ORDER_ID));
            assert!(note.contains("JSON notification") && note.contains("orders table"));
            // The longest such beginning: one more character would not fit.
            let next = text[kept.len()..].chars().next().unwrap();
            assert!(message.len() + json_escaped_len(next) > budget);
        }
    }

    #[test]
    fn a_machine_copy_that_cannot_fit_is_refused_with_its_smallest_size() {
        let machine = serde_json::json!({"notes": "x".repeat(2_000)}).to_string();
        let smallest = document(&machine, &shortened_note(ORDER_ID)).len();
        assert_eq!(
            fitted_message(&machine, "New order\n", ORDER_ID, 1_000),
            Err(smallest)
        );
        assert!(fitted_message(&machine, "New order\n", ORDER_ID, smallest).is_ok());
    }
}
