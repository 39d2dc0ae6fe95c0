//! Numbers as the report shows them: counts with thousands separators (`12,345`), prices in the
//! report's currency (`$1,234.50`, `1,235\u{a0}JPY`, `1,234.500\u{a0}KWD`).

use rust_decimal::{Decimal, RoundingStrategy};
use std::fmt;
use std::str::FromStr;

/// The currency prices are shown in, from `REPORT_CURRENCY`: an ISO 4217 code. Amounts have as
/// many decimals as the currency's minor unit, from the ISO 4217 table the `iso_currency` crate
/// keeps (USD 2, JPY 0, KWD 3); a code with no minor unit (XAU, XXX) gets 2. USD, EUR and GBP
/// are written with their symbol before the amount (`$1,234.50`, `€1,234.50`, `£1,234.50`),
/// where a reader cannot mistake it; any other code after it, joined by a no-break space
/// (`1,234.50 CHF`), since `$` or `¥` alone names several currencies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    pub const USD: Self = Self(iso_currency::Currency::USD);

    fn symbol(&self) -> Option<&'static str> {
        match self.0 {
            iso_currency::Currency::USD => Some("$"),
            iso_currency::Currency::EUR => Some("€"),
            iso_currency::Currency::GBP => Some("£"),
            _ => None,
        }
    }

    /// How many decimals an amount in this currency has: its ISO 4217 minor unit.
    pub fn decimals(&self) -> u32 {
        self.0.exponent().map_or(2, u32::from)
    }

    /// `amount` rounded to the currency's minor unit (half to even, as the report always has),
    /// with thousands separators and the currency: every digit of the integer part is kept, up
    /// to the largest decimal.
    pub fn money(&self, amount: Decimal) -> String {
        let decimals = self.decimals();
        let rounded =
            amount.round_dp_with_strategy(decimals, RoundingStrategy::MidpointNearestEven);
        // Written out by hand: rust_decimal's `{:.N}` runs out of room (and panics) for the
        // largest amounts with three or four decimals.
        let text = rounded.abs().to_string();
        let (integer, fraction) = text.split_once('.').unwrap_or((&text, ""));
        let digits = if decimals == 0 {
            integer.to_owned()
        } else {
            format!("{integer}.{fraction:0<width$}", width = decimals as usize)
        };
        // A negative amount that rounds to zero is shown as zero, not "-$0.00".
        let sign = if rounded.is_sign_negative() && !rounded.is_zero() {
            "-"
        } else {
            ""
        };
        let grouped = group_digits(&digits);
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
        f.write_str(self.0.code())
    }
}

impl FromStr for Currency {
    type Err = String;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        let three_capitals = code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase());
        match iso_currency::Currency::from_code(code) {
            Some(currency) if three_capitals => Ok(Self(currency)),
            _ => Err(format!(
                "a currency is an ISO 4217 code, three capital letters such as USD, EUR or GBP{}",
                if three_capitals {
                    ", and this one is not in ISO 4217"
                } else {
                    ""
                }
            )),
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
    fn amounts_have_the_decimals_of_their_currencys_minor_unit() {
        let money = |code: &str, amount: &str| {
            code.parse::<Currency>()
                .unwrap()
                .money(amount.parse().unwrap())
        };
        // The yen has no minor unit, the Kuwaiti dinar three, the Chilean unidad de fomento four.
        assert_eq!(money("JPY", "1234.5"), "1,234\u{a0}JPY");
        assert_eq!(money("JPY", "1235.5"), "1,236\u{a0}JPY");
        assert_eq!(money("JPY", "18"), "18\u{a0}JPY");
        assert_eq!(money("JPY", "-0.4"), "0\u{a0}JPY");
        assert_eq!(money("KWD", "1234.5"), "1,234.500\u{a0}KWD");
        assert_eq!(money("KWD", "0.0125"), "0.012\u{a0}KWD");
        assert_eq!(money("BHD", "7"), "7.000\u{a0}BHD");
        assert_eq!(money("CLF", "1.23456"), "1.2346\u{a0}CLF");
        assert_eq!(money("ISK", "999.9"), "1,000\u{a0}ISK");
        // No minor unit in the table (gold, "no currency"): two decimals.
        assert_eq!(money("XAU", "1.5"), "1.50\u{a0}XAU");
        assert_eq!(money("XXX", "3"), "3.00\u{a0}XXX");
        for (code, decimals) in [("USD", 2), ("JPY", 0), ("KWD", 3), ("EUR", 2), ("XAU", 2)] {
            assert_eq!(
                code.parse::<Currency>().unwrap().decimals(),
                decimals,
                "{code}"
            );
        }
        // The largest amount keeps every digit at every minor unit.
        assert_eq!(
            "KWD".parse::<Currency>().unwrap().money(Decimal::MAX),
            "79,228,162,514,264,337,593,543,950,335.000\u{a0}KWD"
        );
    }

    #[test]
    fn only_an_iso_4217_code_is_a_currency() {
        for good in ["USD", "EUR", "JPY", "KWD", "XXX"] {
            assert_eq!(good.parse::<Currency>().unwrap().to_string(), good);
        }
        for bad in [
            "", "usd", "Usd", "US", "USDX", " USD", "USD ", "U$D", "123", "ÉUR", "$",
        ] {
            let error = bad.parse::<Currency>().unwrap_err();
            assert!(error.contains("ISO 4217"), "{bad:?}: {error}");
            assert!(!error.contains("not in ISO 4217"), "{bad:?}: {error}");
        }
        // Three capitals that no currency has.
        for unknown in ["ABC", "ZZZ", "EUX"] {
            let error = unknown.parse::<Currency>().unwrap_err();
            assert!(
                error.ends_with("and this one is not in ISO 4217"),
                "{error}"
            );
        }
    }
}
