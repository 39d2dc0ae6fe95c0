//! Numbers as the report shows them: counts with thousands separators (`12,345`), prices in the
//! report's currency (`$1,234.50`, `1,234.50 CHF`).

use rust_decimal::Decimal;
use std::fmt;
use std::str::FromStr;

/// The currency prices are shown in, from `REPORT_CURRENCY`: an ISO 4217 code, three ASCII
/// capital letters. USD, EUR and GBP are written with their symbol before the amount
/// (`$1,234.50`, `€1,234.50`, `£1,234.50`); any other code after it, joined by a no-break space
/// (`1,234.50 CHF`). Always two decimals, as the prices are kept (so `1,234.00 JPY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Currency([u8; 3]);

impl Currency {
    pub const USD: Self = Self(*b"USD");

    fn symbol(&self) -> Option<&'static str> {
        match &self.0 {
            b"USD" => Some("$"),
            b"EUR" => Some("€"),
            b"GBP" => Some("£"),
            _ => None,
        }
    }

    /// `amount` rounded to cents as the report always has (`round_dp(2)`: half to even), with
    /// thousands separators and the currency: every digit of the integer part is kept, up to
    /// the largest decimal.
    pub fn money(&self, amount: Decimal) -> String {
        let rounded = amount.round_dp(2);
        let text = format!("{rounded:.2}");
        let digits = text.strip_prefix('-').unwrap_or(&text);
        // A negative amount that rounds to zero is shown as zero, not "-$0.00".
        let sign = if rounded.is_sign_negative() && !rounded.is_zero() {
            "-"
        } else {
            ""
        };
        let grouped = group_digits(digits);
        match self.symbol() {
            Some(symbol) => format!("{sign}{symbol}{grouped}"),
            None => format!("{sign}{grouped}\u{a0}{self}"),
        }
    }
}

impl Default for Currency {
    fn default() -> Self {
        Self::USD
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            fmt::Write::write_char(f, char::from(byte))?;
        }
        Ok(())
    }
}

impl FromStr for Currency {
    type Err = String;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        match code.as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_uppercase) => Ok(Self([a, b, c])),
            _ => Err(
                "a currency is an ISO 4217 code, three capital letters such as USD, EUR or GBP"
                    .to_owned(),
            ),
        }
    }
}

/// An integer with thousands separators: `12,345`, `-1,000`, `0`.
pub fn thousands(n: impl Into<i128>) -> String {
    let n: i128 = n.into();
    let digits = n.unsigned_abs().to_string();
    let sign = if n < 0 { "-" } else { "" };
    format!("{sign}{}", group_digits(&digits))
}

/// A count (`usize`) with thousands separators.
pub fn count(n: usize) -> String {
    // usize is at most 64 bits on every target Rust supports; u64 fits an i128.
    thousands(n as u64)
}

/// `1234567.50` → `1,234,567.50`: commas between the groups of three digits of the integer
/// part; the fraction, if any, unchanged. `digits` has no sign.
fn group_digits(digits: &str) -> String {
    let (integer, fraction) = digits
        .split_once('.')
        .map_or((digits, None), |(i, f)| (i, Some(f)));
    let mut grouped = String::with_capacity(digits.len() + integer.len() / 3 + 1);
    for (i, digit) in integer.chars().enumerate() {
        if i > 0 && (integer.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if let Some(fraction) = fraction {
        grouped.push('.');
        grouped.push_str(fraction);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(amount: &str) -> String {
        Currency::USD.money(amount.parse().unwrap())
    }

    #[test]
    fn counts_have_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(7), "7");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(12_345), "12,345");
        assert_eq!(thousands(999_999), "999,999");
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(-1), "-1");
        assert_eq!(thousands(-999), "-999");
        assert_eq!(thousands(-1_000), "-1,000");
        assert_eq!(thousands(-123_456), "-123,456");
        assert_eq!(thousands(i64::MAX), "9,223,372,036,854,775,807");
        assert_eq!(thousands(i64::MIN), "-9,223,372,036,854,775,808");
        assert_eq!(count(0), "0");
        assert_eq!(count(10_000), "10,000");
        assert_eq!(count(usize::MAX), thousands(usize::MAX as u64));
    }

    #[test]
    fn prices_are_in_dollars_with_separators_and_cents() {
        assert_eq!(usd("0"), "$0.00");
        assert_eq!(usd("999"), "$999.00");
        assert_eq!(usd("999.99"), "$999.99");
        assert_eq!(usd("1000"), "$1,000.00");
        assert_eq!(usd("1234.5"), "$1,234.50");
        assert_eq!(usd("1234567.5"), "$1,234,567.50");
        assert_eq!(usd("18"), "$18.00");
        assert_eq!(usd("14.5"), "$14.50");
        assert_eq!(usd("-0.5"), "-$0.50");
        assert_eq!(usd("-1234567.5"), "-$1,234,567.50");
        // A negative amount that rounds away is zero, with no sign.
        assert_eq!(usd("-0.001"), "$0.00");
    }

    #[test]
    fn rounding_is_the_reports_as_before() {
        // round_dp(2), as the report has always rounded: half to even.
        assert_eq!(usd("2.345"), "$2.34");
        assert_eq!(usd("2.355"), "$2.36");
        assert_eq!(usd("0.004"), "$0.00");
        assert_eq!(usd("1234.5678"), "$1,234.57");
    }

    #[test]
    fn huge_amounts_keep_every_digit() {
        assert_eq!(
            Currency::USD.money(Decimal::MAX),
            "$79,228,162,514,264,337,593,543,950,335.00"
        );
        assert_eq!(
            Currency::USD.money(Decimal::MIN),
            "-$79,228,162,514,264,337,593,543,950,335.00"
        );
        assert_eq!(
            Currency::USD.money(cafe_shared::inventory::MAX_AMOUNT),
            "$10,000,000,000,000,000,000,000,000,000.00"
        );
        // The digits are the decimal's, not a float's (which keeps about 16 of them).
        assert_eq!(
            usd("12345678901234567890123456.78"),
            "$12,345,678,901,234,567,890,123,456.78"
        );
        assert_eq!(
            usd("7922816251426433759354395033.5"),
            "$7,922,816,251,426,433,759,354,395,033.50"
        );
        // A tiny amount with the largest scale.
        assert_eq!(usd("0.0000000000000000000000000001"), "$0.00");
    }

    #[test]
    fn other_currencies_have_their_symbol_or_code() {
        let euro: Currency = "EUR".parse().unwrap();
        let pound: Currency = "GBP".parse().unwrap();
        let franc: Currency = "CHF".parse().unwrap();
        let amount: Decimal = "1234.5".parse().unwrap();
        assert_eq!(euro.money(amount), "€1,234.50");
        assert_eq!(pound.money(amount), "£1,234.50");
        assert_eq!(franc.money(amount), "1,234.50\u{a0}CHF");
        assert_eq!(franc.money(-amount), "-1,234.50\u{a0}CHF");
        assert_eq!(franc.money(Decimal::ZERO), "0.00\u{a0}CHF");
        assert_eq!(franc.to_string(), "CHF");
        assert_eq!(Currency::default(), Currency::USD);
        assert_eq!(Currency::USD.to_string(), "USD");
    }

    #[test]
    fn only_three_capital_letters_are_a_currency() {
        for good in ["USD", "EUR", "JPY", "XXX"] {
            assert_eq!(good.parse::<Currency>().unwrap().to_string(), good);
        }
        for bad in [
            "", "usd", "Usd", "US", "USDX", " USD", "USD ", "U$D", "123", "ÉUR", "$",
        ] {
            let error = bad.parse::<Currency>().unwrap_err();
            assert!(error.contains("ISO 4217"), "{bad:?}: {error}");
        }
    }
}
