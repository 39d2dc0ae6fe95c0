//! The café's time zone (`CAFE_TIME_ZONE`): the report and its emails show every time in it,
//! with its abbreviation, so a manager reads "09:30 GMT" in London and "04:30 EST" in New York
//! for the same instant. The IANA database is compiled in (chrono-tz), so a function needs no
//! zoneinfo files on its image.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CafeTimeZone(Tz);

impl CafeTimeZone {
    pub const UTC: Self = Self(Tz::UTC);

    /// `time` in the café's zone, written with `format` (chrono's strftime; `%Z` is the zone's
    /// abbreviation, or its offset such as `+03` where the zone has none).
    pub fn format(&self, time: DateTime<Utc>, format: &str) -> String {
        time.with_timezone(&self.0).format(format).to_string()
    }
}

impl Default for CafeTimeZone {
    fn default() -> Self {
        Self::UTC
    }
}

impl fmt::Display for CafeTimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name())
    }
}

impl FromStr for CafeTimeZone {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        name.parse::<Tz>().map(Self).map_err(|_| {
            "a time zone is an IANA name such as UTC, Europe/London or America/New_York".to_owned()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::CAFE_TIME_ZONE;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn times_are_shown_in_the_cafes_zone_with_its_abbreviation() {
        let london: CafeTimeZone = "Europe/London".parse().unwrap();
        let format = "%A %-d %B %Y, %H:%M %Z";
        // Winter: GMT; summer: BST, an hour ahead of UTC.
        assert_eq!(
            london.format(at("2026-11-21T09:30:00Z"), format),
            "Saturday 21 November 2026, 09:30 GMT"
        );
        assert_eq!(
            london.format(at("2026-07-01T09:30:00Z"), format),
            "Wednesday 1 July 2026, 10:30 BST"
        );
        // A zone west of UTC moves the date back.
        let new_york: CafeTimeZone = "America/New_York".parse().unwrap();
        assert_eq!(
            new_york.format(at("2026-11-21T02:00:00Z"), format),
            "Friday 20 November 2026, 21:00 EST"
        );
        // A zone without an abbreviation shows its offset.
        let istanbul: CafeTimeZone = "Europe/Istanbul".parse().unwrap();
        assert_eq!(
            istanbul.format(at("2026-11-21T09:30:00Z"), "%H:%M %Z"),
            "12:30 +03"
        );
        assert_eq!(
            CafeTimeZone::UTC.format(at("2026-11-21T09:30:00Z"), format),
            "Saturday 21 November 2026, 09:30 UTC"
        );
    }

    #[test]
    fn the_setting_defaults_to_utc_and_refuses_what_iana_does_not_have() {
        let unset: CafeTimeZone = CAFE_TIME_ZONE.parse_from(|_| None).unwrap();
        assert_eq!(unset, CafeTimeZone::UTC);
        assert_eq!(unset.to_string(), "UTC");
        let set = |value: &'static str| {
            move |name: &str| (name == "CAFE_TIME_ZONE").then(|| value.to_owned())
        };
        let paris: CafeTimeZone = CAFE_TIME_ZONE.parse_from(set("Europe/Paris")).unwrap();
        assert_eq!(paris.to_string(), "Europe/Paris");
        for bad in ["Europe/Londn", "GMT+25", "london", "Mars/Olympus"] {
            let error = CAFE_TIME_ZONE
                .parse_from::<CafeTimeZone>(set(bad))
                .unwrap_err();
            assert_eq!(
                error,
                format!(
                    "CAFE_TIME_ZONE={bad:?} is not valid: a time zone is an IANA name such as \
                     UTC, Europe/London or America/New_York"
                )
            );
        }
    }
}
