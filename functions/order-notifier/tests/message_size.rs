//! The notification of every order the API accepts, from body to stored item to stream record to
//! message: at most 256 KiB as SNS counts it, with the order's JSON whole.
//!
//! Why it fits, for orders of at most `MAX_ORDER_BYTES` (64 KiB) of body:
//! - The order JSON subscribers get is the stored order written out by serde_json. Its text is
//!   no longer than the customer's: every character takes the fewest bytes JSON allows (`"` is
//!   `\"` in both, a control is `\n` or `\u0001` in both, non-ASCII is written as is), only the
//!   café's three fields (about 130 bytes) are added. Numbers are the exception, below.
//! - Inside the message document that JSON is a string again, where only `"` and `\` take two
//!   bytes instead of one: at most twice the body, 128 KiB.
//! - The `customerID` attribute repeats at most the body once more (64 KiB); the subject is under
//!   100 characters (400 bytes); the email text is cut to what is left. So at most about
//!   3 × 64 KiB + 1 KiB = 193 KiB must be whole, under 256 KiB.
//! - Numbers: a whole number written with an exponent (`1e19`, 4 bytes) is stored in DynamoDB
//!   and read back from the stream as all its digits (`10000000000000000000`, 20 bytes), up to
//!   4.2 times its body. `Order::parse` therefore measures the order with its numbers written out
//!   as they come back and refuses it over 64 KiB, so that case is bounded like the rest. The
//!   notifier still refuses by name (`NotifyError::TooLarge`) a stored order that cannot fit,
//!   rather than send SNS what it would refuse. See `numbers_that_grow_in_the_table_are_measured_grown`.

use aws_lambda_events::event::dynamodb::EventRecord;
use cafe_shared::dynamodb_json::{Item, image_to_json, to_item};
use cafe_shared::order::MAX_ORDER_BYTES;
use cafe_shared::{Order, OrderError, StoredOrder};
use order_notifier::message::SIZE_MARGIN;
use order_notifier::{MAX_MESSAGE_BYTES, Notification, email_text, notification};
use proptest::collection::vec;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const ORDER_ID: &str = "3f2a1b2c-5d6e-5f70-8a9b-0c1d2e3f4a5b";
const NOTE_START: &str = "…\n\n[This email is shortened";

/// The order as order-writer stores it.
fn stored(body: &str) -> StoredOrder {
    StoredOrder {
        order_id: ORDER_ID.into(),
        received_at: "2026-11-21T10:00:00Z".parse().unwrap(),
        message_id: "0b7e3c4a-1f25-4d61-9a8e-2c3b4d5e6f70".into(),
        order: Order::parse(body).expect("an accepted body"),
    }
}

/// The INSERT record the table's stream gives for a stored order.
fn insert(order: &StoredOrder) -> EventRecord {
    let mut record = EventRecord::default();
    record.event_name = "INSERT".into();
    record.change.sequence_number = Some("111100000000000000000100".into());
    record.change.new_image = Item::from(to_item(order).unwrap());
    record
}

/// The notification for an accepted body, checked: within the limit, the order JSON whole and
/// equal to the stored item, the email whole or a beginning of it with the note.
fn notified(body: &str) -> Notification {
    let record = insert(&stored(body));
    let image = image_to_json(record.change.new_image.clone()).unwrap();
    let notification = notification(record).expect("a notification");
    assert!(
        notification.size() <= MAX_MESSAGE_BYTES,
        "{} bytes for a body of {}",
        notification.size(),
        body.len()
    );

    let document: Value = serde_json::from_str(&notification.message).unwrap();
    let keys: Vec<&String> = document.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["default", "email"]);
    let machine: Value = serde_json::from_str(document["default"].as_str().unwrap()).unwrap();
    assert_eq!(machine, image, "the order JSON is the stored item");
    let order: StoredOrder = serde_json::from_value(machine).unwrap();
    assert_eq!(order, serde_json::from_value::<StoredOrder>(image).unwrap());

    let email = document["email"].as_str().unwrap();
    let full = email_text(&order);
    if email != full {
        let at = email
            .rfind(NOTE_START)
            .expect("a cut email ends with the note");
        assert!(
            full.starts_with(&email[..at]),
            "a cut email is a beginning of the text"
        );
        assert!(email[at..].contains(&format!("orderID {ORDER_ID}")));
        assert!(email[at..].contains("the JSON notification"));
    }
    notification
}

fn email(notification: &Notification) -> String {
    let document: Value = serde_json::from_str(&notification.message).unwrap();
    document["email"].as_str().unwrap().to_owned()
}

/// The largest body `make(n)` gives within `limit` bytes, for a `make` that grows with `n`.
fn largest(limit: usize, make: impl Fn(usize) -> String) -> String {
    let (mut low, mut high) = (0, limit);
    while low < high {
        let mid = (low + high).div_ceil(2);
        if make(mid).len() <= limit {
            low = mid;
        } else {
            high = mid - 1;
        }
    }
    make(low)
}

/// The largest accepted body with `notes` made of `pattern` repeated.
fn notes_of(pattern: &str) -> String {
    largest(MAX_ORDER_BYTES, |n| {
        json!({"item": "x", "customerID": "c", "notes": pattern.repeat(n)}).to_string()
    })
}

fn is_cut(notification: &Notification) -> bool {
    email(notification).contains(NOTE_START)
}

#[test]
fn the_22_kib_order_of_quotes_that_sns_refused_is_notified_whole() {
    let body =
        json!({"item": "flat white", "customerID": "c", "notes": "\"".repeat(11_000)}).to_string();
    assert!(body.len() > 22_000);
    let notification = notified(&body);
    assert!(!is_cut(&notification));
}

#[test]
fn a_64_kib_body_of_quotes_in_notes_fits_whole() {
    let body = notes_of("\"");
    assert!(body.len() > MAX_ORDER_BYTES - 8);
    assert!(!is_cut(&notified(&body)));
}

#[test]
fn a_64_kib_body_of_backslashes_fits_whole() {
    assert!(!is_cut(&notified(&notes_of("\\"))));
}

#[test]
fn a_64_kib_body_of_control_characters_fits_whole() {
    let body = notes_of("\u{1}");
    assert!(body.contains("\\u0001"));
    assert!(!is_cut(&notified(&body)));
}

#[test]
fn a_64_kib_body_of_emoji_fits_whole() {
    let body = notes_of("😀");
    let notification = notified(&body);
    assert!(!is_cut(&notification));
    assert!(email(&notification).contains(&"😀".repeat(1000)));
}

#[test]
fn a_64_kib_customer_id_of_quotes_fits_in_attribute_subject_json_and_email() {
    let body = largest(MAX_ORDER_BYTES, |n| {
        json!({"item": "x", "customerID": "\"".repeat(n)}).to_string()
    });
    let notification = notified(&body);
    assert_eq!(notification.customer_id.len(), (body.len() - 27) / 2);
    assert!(notification.subject.chars().count() < 100);
}

#[test]
fn quotes_inside_a_list_are_escaped_twice_in_the_email_so_it_is_cut_not_the_json() {
    // The email shows a list as JSON, so each quote is `\"` in the text and `\\\"` in the message,
    // as in the order JSON: 4 + 4 bytes in the message for 2 in the body, over 256 KiB in all.
    let body = largest(MAX_ORDER_BYTES, |n| {
        json!({"item": "x", "customerID": "c", "notes": ["\"".repeat(n)]}).to_string()
    });
    let notification = notified(&body);
    assert!(is_cut(&notification));
    assert!(
        notification.size() > MAX_MESSAGE_BYTES - SIZE_MARGIN - 16,
        "the cut keeps all that fits, the margin left free"
    );
}

#[test]
fn a_64_kib_body_of_many_fields_with_long_hostile_keys_fits() {
    let body = largest(MAX_ORDER_BYTES, |n| {
        let mut order = json!({"item": "x", "customerID": "c"});
        for i in 0..n {
            let key = format!("\"\\\u{1}😀{i}{}", "\"".repeat(40));
            order[key] = json!(["\"\\", {"\u{2}": null}]);
        }
        order.to_string()
    });
    notified(&body);
}

#[test]
fn a_64_kib_body_nested_thirty_deep_fits() {
    let body = largest(MAX_ORDER_BYTES, |n| {
        let mut value = json!("\"".repeat(n));
        for depth in 0..30 {
            value = if depth % 2 == 0 {
                json!([value, "\\"])
            } else {
                json!({"\"": value})
            };
        }
        json!({"item": "x", "customerID": "c", "nested": value}).to_string()
    });
    notified(&body);
}

#[test]
fn numbers_that_grow_in_the_table_are_measured_grown() {
    // `1e19` (4 bytes) comes back from the table as 10000000000000000000 (20 bytes): 64 KiB of
    // them would be an order JSON of about 275 KB, over SNS's limit on its own. Order::parse
    // refuses that body, and the largest it accepts is notified with its JSON whole.
    let numbers = |n: usize| {
        format!(
            r#"{{"item":"x","customerID":"c","n":[{}]}}"#,
            vec!["1e19"; n].join(",")
        )
    };
    let body = largest(MAX_ORDER_BYTES, numbers);
    assert!(matches!(
        Order::parse(&body),
        Err(OrderError::TooLargeWrittenOut { .. })
    ));
    let accepted = (1..)
        .map(|n| numbers(n * 100))
        .take_while(|body| Order::parse(body).is_ok())
        .last()
        .unwrap();
    assert!(accepted.len() > 10_000);
    notified(&accepted);
}

// Property tests: bodies of up to 64 KiB made of what costs the most bytes in a message.

/// Characters heavy in what escaping and UTF-8 make longer.
fn hostile_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => Just('"'),
        4 => Just('\\'),
        3 => proptest::char::range('\0', '\u{1f}'),
        3 => proptest::char::range('\u{1F300}', '\u{1FAFF}'),
        1 => Just('\u{7f}'),
        1 => Just('\u{2028}'),
        2 => any::<char>(),
        2 => proptest::char::range('a', 'z'),
    ]
}

fn hostile_text(max: usize) -> impl Strategy<Value = String> {
    vec(hostile_char(), 0..max).prop_map(String::from_iter)
}

/// Whole numbers serde_json writes with an exponent (`1e16`) but that come back from the table
/// as all their digits; they are what can make a stored order outgrow its body.
fn grows_in_the_table(x: f64) -> bool {
    x.fract() == 0.0 && x.abs() >= 1e16 && x.abs() < 2f64.powi(64)
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e100..1e100_f64).prop_map(Value::from),
        (-1e-5..1e-5_f64).prop_map(Value::from),
    ]
    .prop_filter("grows in the table", |n| {
        !n.as_f64()
            .is_some_and(|x| n.is_f64() && grows_in_the_table(x))
    })
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        number(),
        hostile_text(40).prop_map(Value::from),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..8).prop_map(Value::Array),
            vec((hostile_text(20), inner), 0..8)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

/// Where the bulk of a body goes.
#[derive(Debug, Clone, Copy)]
enum Place {
    Notes,
    InList,
    Key,
    CustomerId,
    Item,
    Nested,
}

fn place() -> impl Strategy<Value = Place> {
    prop_oneof![
        Just(Place::Notes),
        Just(Place::InList),
        Just(Place::Key),
        Just(Place::CustomerId),
        Just(Place::Item),
        Just(Place::Nested),
    ]
}

/// A customer's order: the required fields (hostile too), any others, and `bulk` in `place`.
fn order_with(
    item: &str,
    customer: &str,
    details: &[(String, Value)],
    place: Place,
    bulk: String,
) -> Map<String, Value> {
    let mut order: Map<String, Value> = details.iter().cloned().collect();
    let (mut item, mut customer) = (format!("x{item}"), format!("c{customer}"));
    let (name, value) = match place {
        Place::Notes => ("notes".to_owned(), Value::from(bulk)),
        Place::InList => ("lines".to_owned(), json!([bulk, 1, null])),
        Place::Key => (bulk, Value::Null),
        Place::Nested => {
            let mut value = Value::from(bulk);
            for _ in 0..15 {
                value = json!({"in": [value]});
            }
            ("nested".to_owned(), value)
        }
        Place::CustomerId => {
            customer.push_str(&bulk);
            ("notes".to_owned(), Value::Null)
        }
        Place::Item => {
            item.push_str(&bulk);
            ("notes".to_owned(), Value::Null)
        }
    };
    order.insert(name, value);
    order.insert("item".into(), item.into());
    order.insert("customerID".into(), customer.into());
    order
}

/// What the bulk of a body repeats: often the characters that cost the most in a message.
fn pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        hostile_text(6).prop_filter("a pattern", |p| !p.is_empty()),
        Just("\"".to_owned()),
        Just("\\".to_owned()),
        Just("\"\\".to_owned()),
    ]
}

/// Bodies of about `size` bytes: a hostile order whose bulk is a hostile pattern repeated as often
/// as the size allows.
fn body_of(size: impl Strategy<Value = usize>) -> impl Strategy<Value = String> {
    (
        hostile_text(30),
        hostile_text(30),
        vec((hostile_text(30), value()), 0..12),
        place(),
        pattern(),
        size,
    )
        .prop_map(|(item, customer, details, place, pattern, size)| {
            largest(size, |n| {
                let bulk = pattern.repeat(n);
                Value::Object(order_with(&item, &customer, &details, place, bulk)).to_string()
            })
        })
}

/// Bodies up to 64 KiB, half of them within 64 bytes of it.
fn body() -> impl Strategy<Value = String> {
    body_of(prop_oneof![
        MAX_ORDER_BYTES - 64..=MAX_ORDER_BYTES,
        0..=MAX_ORDER_BYTES
    ])
}

/// Numbers as a customer may spell them, some growing up to 4.2 times in the table.
fn spelt_number() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        4 => Just("1e19"),
        1 => Just("-1e18"),
        1 => Just("1e15"),
        1 => Just("1E9"),
        1 => Just("1e-5"),
        1 => Just("12e17"),
        1 => Just("7"),
        1 => Just("0.5"),
    ]
}

/// A body as above of up to 32 KiB (often under 1 KiB), with a list of spelt numbers added up
/// to 64 KiB in all.
fn body_with_numbers() -> impl Strategy<Value = String> {
    (
        body_of(prop_oneof![0..=1024_usize, 0..=MAX_ORDER_BYTES / 2]),
        vec(spelt_number(), 1..4),
        prop_oneof![MAX_ORDER_BYTES - 64..=MAX_ORDER_BYTES, 0..=MAX_ORDER_BYTES],
    )
        .prop_map(|(body, numbers, size)| {
            largest(size, |n| {
                let list: Vec<&str> = numbers.iter().copied().cycle().take(n).collect();
                let open = body.strip_suffix('}').unwrap();
                format!(r#"{open},"numbers":[{}]}}"#, list.join(","))
            })
        })
}

proptest! {
    // No regression files: proptest cannot place them for an integration test.
    #![proptest_config(ProptestConfig {
        cases: 96,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_accepted_order_fits_with_its_json_the_stored_order(body in body()) {
        prop_assume!(Order::parse(&body).is_ok());
        notified(&body);
    }

    #[test]
    fn no_accepted_order_gives_a_message_over_the_limit(body in body_with_numbers()) {
        prop_assume!(Order::parse(&body).is_ok());
        let order = stored(&body);
        match notification(insert(&order)) {
            Ok(_) => {
                notified(&body);
            }
            Err(e) => prop_assert!(false, "{e}"),
        }
    }
}
