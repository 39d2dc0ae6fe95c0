//! The email the manager reads: its subject, and a text with the report link and, in words,
//! how long the link works and when it stops (in the café's time zone), and the report's
//! reference.

use std::time::Duration;

use cafe_shared::cafe_time::CafeTimeZone;
use chrono::{DateTime, Utc};

/// The subject of the email that carries the report link: the report's one name
/// (`cafe_shared::inventory::REPORT_NAME`, a test checks it) and that it is ready.
pub const SUBJECT: &str = "Café inventory report is ready";

/// The email the manager reads. `reference` is the report's execution name, which an operator
/// can look up (and which names the report, `reports/<reference>.html`).
pub fn email_text(
    url: &str,
    expires_at: DateTime<Utc>,
    expiry: Duration,
    time_zone: CafeTimeZone,
    reference: &str,
) -> String {
    format!(
        "Hello,\n\n\
         Your Café inventory report is ready. Open it with this link:\n\n\
         {url}\n\n\
         The link works for {} and stops working at {}. \
         Only people who have the link can open the report; please do not forward it. \
         If it has expired, request a new report.\n\n\
         Reference: {reference}\n",
        in_words(expiry),
        time_zone.format(expires_at, "%H:%M %Z on %A %-d %B %Y"),
    )
}

/// "15 minutes", "1 hour", "7 days", "90 seconds".
pub fn in_words(duration: Duration) -> String {
    let seconds = duration.as_secs();
    let (count, unit) = match seconds {
        s if s % 86_400 == 0 => (s / 86_400, "day"),
        s if s % 3_600 == 0 => (s / 3_600, "hour"),
        s if s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    format!("{count} {unit}{}", if count == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MAX_LINK_EXPIRY;

    #[test]
    fn durations_read_as_words() {
        assert_eq!(in_words(Duration::from_secs(900)), "15 minutes");
        assert_eq!(in_words(Duration::from_secs(3600)), "1 hour");
        assert_eq!(in_words(MAX_LINK_EXPIRY), "1 hour");
        assert_eq!(in_words(Duration::from_secs(7 * 86_400)), "7 days");
        assert_eq!(in_words(Duration::from_secs(90)), "90 seconds");
    }

    #[test]
    fn the_email_has_the_link_and_when_it_stops_working() {
        let expires = "2026-11-21T10:15:00Z".parse().unwrap();
        let text = email_text(
            "https://example.com/r?sig=1",
            expires,
            Duration::from_secs(900),
            CafeTimeZone::UTC,
            "exec-1",
        );
        assert!(
            text.contains("\n\nhttps://example.com/r?sig=1\n\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "works for 15 minutes and stops working at 10:15 UTC on Saturday 21 November 2026"
            ),
            "{text}"
        );
        assert!(text.ends_with("\n\nReference: exec-1\n"), "{text}");
    }

    #[test]
    fn the_expiry_is_in_the_cafes_time_and_the_subject_names_the_report() {
        let expires = "2026-07-01T10:15:00Z".parse().unwrap();
        let london: CafeTimeZone = "Europe/London".parse().unwrap();
        let text = email_text("https://x", expires, Duration::from_secs(900), london, "r");
        assert!(
            text.contains("stops working at 11:15 BST on Wednesday 1 July 2026"),
            "{text}"
        );
        assert!(!text.contains("UTC"), "{text}");
        let name = cafe_shared::inventory::REPORT_NAME;
        assert!(SUBJECT.starts_with(name), "{SUBJECT}");
        assert!(text.contains(&format!("Your {name} is ready")), "{text}");
    }
}
