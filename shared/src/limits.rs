//! DynamoDB's limits on what an order may hold, checked on the body's text before anything else
//! sees it, so the gateway, the writer and the table agree on every order.
//!
//! moto, the local emulator, enforces none of these: it nests without limit and keeps any number
//! as text. AWS refuses such an item at `PutItem`, after the API has already answered 202, so the
//! order would be parked instead of refused at the door.

use thiserror::Error;

/// DynamoDB stores an attribute at most 31 maps or lists deep ("32 levels", the item itself
/// being the first). The order body is the item, so its outer object is level 1.
pub const MAX_NESTING: usize = 32;

/// DynamoDB keeps numbers of up to 38 significant digits.
pub const MAX_SIGNIFICANT_DIGITS: usize = 38;

/// DynamoDB's non-zero numbers lie between 1E-130 and 9.9999999999999999999999999999999999999E+125
/// in magnitude: as powers of ten of the leading digit, -130 to 125.
pub const MIN_DECIMAL_EXPONENT: i64 = -130;
pub const MAX_DECIMAL_EXPONENT: i64 = 125;

/// The longest number shown in an error message.
const SHOWN_NUMBER_CHARS: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LimitError {
    #[error(
        "the order is nested more than {MAX_NESTING} levels deep (objects and arrays inside each other); DynamoDB stores at most {MAX_NESTING}"
    )]
    TooDeep,
    #[error(
        "the number {0} has {1} significant digits; DynamoDB keeps at most {MAX_SIGNIFICANT_DIGITS}"
    )]
    TooPrecise(String, usize),
    #[error(
        "the number {0} is out of DynamoDB's range (magnitudes from 1E-130 to 9.9999999999999999999999999999999999999E+125, or 0)"
    )]
    OutOfRange(String),
    #[error(
        "the number {0} cannot be kept exactly: numbers are carried as 64-bit integers or 64-bit floating point; send it as a string to keep every digit"
    )]
    Inexact(String),
}

/// Checks nesting depth and every number in a JSON text. Any text may be given: depth is checked
/// first, and numbers are only judged once the whole text has been scanned, so a caller that then
/// finds the text is not JSON reports that instead.
pub fn check(json: &str) -> Result<(), LimitError> {
    let bytes = json.as_bytes();
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let mut first_bad_number = None;
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match byte {
                b'"' => in_string = true,
                b'{' | b'[' => {
                    depth += 1;
                    if depth > MAX_NESTING {
                        return Err(LimitError::TooDeep);
                    }
                }
                b'}' | b']' => depth = depth.saturating_sub(1),
                b'-' | b'0'..=b'9' => {
                    let end = bytes[index..]
                        .iter()
                        .position(|b| !matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                        .map_or(bytes.len(), |length| index + length);
                    if first_bad_number.is_none() {
                        first_bad_number = check_number(&json[index..end]).err();
                    }
                    index = end;
                    continue;
                }
                _ => {}
            }
        }
        index += 1;
    }
    first_bad_number.map_or(Ok(()), Err)
}

/// A JSON number literal held to DynamoDB's rules and to what the functions can carry exactly.
/// A text that is not a JSON number is let through: the JSON parser reports it.
pub fn check_number(literal: &str) -> Result<(), LimitError> {
    let Some(decimal) = Decimal::parse(literal) else {
        return Ok(());
    };
    let shown = || shorten(literal);
    if decimal.digits.len() > MAX_SIGNIFICANT_DIGITS {
        return Err(LimitError::TooPrecise(shown(), decimal.digits.len()));
    }
    if !decimal.is_zero()
        && !(MIN_DECIMAL_EXPONENT..=MAX_DECIMAL_EXPONENT).contains(&decimal.leading_exponent)
    {
        return Err(LimitError::OutOfRange(shown()));
    }
    if !carried_exactly(literal, &decimal) {
        return Err(LimitError::Inexact(shown()));
    }
    Ok(())
}

/// serde_json keeps an integer literal that fits 64 bits as an integer and anything else as an
/// `f64`: exact only if the `f64`'s shortest decimal form is the same number.
fn carried_exactly(literal: &str, decimal: &Decimal) -> bool {
    if literal.parse::<i64>().is_ok() || literal.parse::<u64>().is_ok() {
        return true;
    }
    let Ok(float) = literal.parse::<f64>() else {
        return false;
    };
    float.is_finite() && Decimal::parse(&format!("{float:e}")).as_ref() == Some(decimal)
}

/// How many significant digits a number literal has (what DynamoDB's size of a number counts);
/// 0 for zero or for a text that is not a number.
pub fn significant_digits(literal: &str) -> usize {
    Decimal::parse(literal).map_or(0, |decimal| decimal.digits.len())
}

/// Whether two number literals are the same number (`1.50`, `1.5` and `15E-1` are).
pub fn same_number(a: &str, b: &str) -> bool {
    matches!((Decimal::parse(a), Decimal::parse(b)), (Some(a), Some(b)) if a == b)
}

fn shorten(literal: &str) -> String {
    if literal.chars().count() <= SHOWN_NUMBER_CHARS {
        literal.to_owned()
    } else {
        let start: String = literal.chars().take(SHOWN_NUMBER_CHARS).collect();
        format!("{start}…")
    }
}

/// A number as its significant digits (no leading or trailing zeros) and the power of ten of
/// its leading digit; zero has no digits.
#[derive(Debug, PartialEq, Eq)]
struct Decimal {
    negative: bool,
    digits: String,
    leading_exponent: i64,
}

impl Decimal {
    /// Parses JSON's number grammar (`-?int(.frac)?([eE][+-]?exp)?`); `None` if it isn't one.
    fn parse(literal: &str) -> Option<Self> {
        let (negative, unsigned) = match literal.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, literal),
        };
        let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
            Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
            None => (unsigned, None),
        };
        let (whole, fraction) = match mantissa.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (mantissa, None),
        };
        let all_digits = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(whole) || fraction.is_some_and(|f| !all_digits(f)) {
            return None;
        }
        let exponent = match exponent {
            None => 0,
            Some(text) => parse_exponent(text)?,
        };
        let fraction = fraction.unwrap_or("");
        let all = format!("{whole}{fraction}");
        let leading_zeros = all.len() - all.trim_start_matches('0').len();
        let digits = all.trim_matches('0').to_owned();
        // The first significant digit sits `whole.len() - 1 - leading_zeros` places above the
        // units of the mantissa.
        let leading_exponent = exponent
            .saturating_add(whole.len() as i64)
            .saturating_sub(1)
            .saturating_sub(leading_zeros as i64);
        if digits.is_empty() {
            // Zero, however written (`-0.000e7`), is one number.
            return Some(Self {
                negative: false,
                digits,
                leading_exponent: 0,
            });
        }
        Some(Self {
            negative,
            digits,
            leading_exponent,
        })
    }

    fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }
}

/// An exponent of any length, saturated: `1e99999999999999999999` is simply out of range.
fn parse_exponent(text: &str) -> Option<i64> {
    let (sign, digits) = match text.as_bytes().first()? {
        b'-' => (-1, &text[1..]),
        b'+' => (1, &text[1..]),
        _ => (1, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude = digits
        .trim_start_matches('0')
        .bytes()
        .try_fold(0i64, |value, digit| {
            value.checked_mul(10)?.checked_add(i64::from(digit - b'0'))
        })
        .unwrap_or(i64::MAX);
    Some(sign * magnitude)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(levels: usize) -> String {
        let inner = format!("{}0{}", "[".repeat(levels - 1), "]".repeat(levels - 1));
        format!(r#"{{"item": "x", "customerID": "c", "deep": {inner}}}"#)
    }

    #[test]
    fn nesting_is_allowed_to_dynamodbs_32_levels_and_not_one_more() {
        assert_eq!(check(&nested(MAX_NESTING)), Ok(()));
        assert_eq!(check(&nested(MAX_NESTING + 1)), Err(LimitError::TooDeep));
        assert_eq!(check(&nested(100_000)), Err(LimitError::TooDeep));
    }

    #[test]
    fn brackets_and_digits_inside_strings_are_text() {
        let text = format!(
            r#"{{"notes": "{} 1e999 \" [ 123456789012345678901234567890"}}"#,
            "[{".repeat(100)
        );
        assert_eq!(check(&text), Ok(()));
    }

    #[test]
    fn numbers_at_the_edges_of_dynamodbs_range() {
        let fine = [
            "0",
            "-0",
            "0.0",
            "1E-130",
            "-1e-130",
            "9.9999e125",
            "9.999999999999998e125",
            "1.5",
            "-18.25",
            "0.1",
            "18446744073709551615",
            "-9223372036854775808",
            "1e3",
            "100",
            "123456789012345.6",
        ];
        for literal in fine {
            assert_eq!(check_number(literal), Ok(()), "{literal}");
        }
        for literal in [
            "1E-131",
            "9.99e-131",
            "1e126",
            "-1E126",
            "1e999999999999999999999",
        ] {
            assert!(
                matches!(check_number(literal), Err(LimitError::OutOfRange(_))),
                "{literal}"
            );
        }
    }

    #[test]
    fn more_than_38_significant_digits_are_refused_and_38_zeros_do_not_count() {
        let thirty_nine = "1".repeat(39);
        assert_eq!(
            check_number(&thirty_nine),
            Err(LimitError::TooPrecise(thirty_nine.clone(), 39))
        );
        assert_eq!(check_number(&format!("1{}", "0".repeat(60))), Ok(()));
        assert_eq!(check_number(&format!("0.{}1", "0".repeat(60))), Ok(()));
        let message = check_number(&"7".repeat(500)).unwrap_err().to_string();
        assert!(message.contains("500 significant digits"), "{message}");
        assert!(message.len() < 200, "the number is shortened: {message}");
    }

    #[test]
    fn a_number_that_would_change_on_the_way_is_refused() {
        // 2^64 as an f64 is written back as 18446744073709552000: another number.
        // The API model's bound is the first; the next rounds to 1E+126 as a double.
        // The last is a tie: the double lies halfway between it and ...818.3, both shortest
        // forms; serde_json writes ...818.2, but the double is stored as Rust writes it, ...818.3.
        for literal in [
            "-767351248484818.2",
            "9.999999999999999e125",
            "18446744073709551616",
            "12345678901234567890123",
            "0.12345678901234567891",
        ] {
            assert_eq!(
                check_number(literal),
                Err(LimitError::Inexact(literal.into())),
                "{literal}"
            );
        }
    }

    #[test]
    fn the_first_bad_number_is_named() {
        let body = r#"{"a": 1, "b": 1e200, "c": 1e300}"#;
        assert_eq!(check(body), Err(LimitError::OutOfRange("1e200".into())));
    }

    #[test]
    fn numbers_compare_by_value() {
        assert!(same_number("1.50", "1.5"));
        assert!(same_number("15E-1", "1.5"));
        assert!(same_number("0", "-0.0"));
        assert!(!same_number("1.5", "-1.5"));
        assert!(!same_number("15", "1.5"));
        assert!(!same_number("x", "x"));
        assert_eq!(significant_digits("-0.00120"), 2);
    }
}
